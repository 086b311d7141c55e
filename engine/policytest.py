"""`sitegate policies test`: run a policy repository's own tests (like ``opa test`` or ``conftest verify``).

Two kinds of test, both data:

* every rule's ``examples`` (facts that must pass, fail, be unknown or not
  applicable), run in the pack that defines the rule;
* case files in the layout of ``tests/policy_cases/``:
  ``CASES/<pack id>/<pack version>/<case>.yaml``, each one host's facts, a
  target ITMS version and the outcome expected of some rules.

A case file is a mapping with ``target`` (quoted version), ``facts`` (one host,
as in a facts file), ``expect`` (rule id -> pass | fail | unknown | error |
not_applicable), optionally ``audit_date`` (YYYY-MM-DD), ``absent`` (rule ids
that must not be evaluated for the target) and ``description``.

Results: a failing test shows what was expected against what came out and the
rule's evidence; a file that cannot be read as a test (or a pack that does not
load) is malformed. Exit code 2 when anything is malformed, else 1 when a test
fails, else 0.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from ..base.diagnostics import Code, Diagnostic, InputError, Level
from ..base.yamlload import YamlDoc, load_yaml_file
from ..facts.load import HostRecord, _check_record
from .compiler import MISSING, OUTCOME_NAMES, Evidence
from .evaluate import Options, evaluate
from .rules import CompiledRule
from .examples import DEFAULT_AUDIT_DATE, iter_examples, representative_target
from .packs import CASES_DIRNAME, EffectivePack, PolicySet, load_policies
from .policy import Example, Rule

OUTCOMES = ("pass", "fail", "unknown", "error", "not_applicable")
CASE_KEYS = {"target", "facts", "expect", "audit_date", "absent", "description"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class TestResult:
    """One expectation: a rule example, or one rule of a case file."""

    kind: str  # "example" or "case"
    pack: str  # pack id@version
    name: str  # what is tested, e.g. "ITMS-NET-48 example fail[0] (4.7.2)"
    path: str
    line: int
    column: int
    expected: str
    actual: str
    evidence: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the outcome was the expected one."""
        return self.expected == self.actual

    @property
    def where(self) -> str:
        """file:line:col of the expectation."""
        return f"{self.path}:{self.line}:{self.column}"


@dataclass
class TestRun:
    """Everything a `policies test` run found."""

    results: list[TestResult] = field(default_factory=list)
    malformed: list[Diagnostic] = field(default_factory=list)
    packs: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def failed(self) -> list[TestResult]:
        """The tests whose outcome differs from the expected one."""
        return [r for r in self.results if not r.ok]

    @property
    def exit_code(self) -> int:
        """2 when a file is malformed (or no pack was found), 1 when a test fails, else 0."""
        if self.malformed or not self.packs:
            return 2
        return 1 if self.failed else 0


def _evidence_text(ev: Iterable[Evidence]) -> tuple[str, ...]:
    out = []
    for e in ev:
        observed = "missing" if e.observed is MISSING else e.observed
        line = f"{e.label or e.fact}: observed {observed!r}, expected {e.expected} [{e.outcome}]"
        if e.detail:
            line += f" ({e.detail})"
        out.append(line)
    return tuple(out)


def _explain(rule: Rule, pack: EffectivePack, facts: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    compiled = CompiledRule(rule, pack)
    code = compiled.run(facts)
    if OUTCOME_NAMES[code] == "pass":
        return "pass", ()
    _, ev = compiled.explain(facts)
    return OUTCOME_NAMES[code], _evidence_text(ev)


def _example_result(rule: Rule, pack: EffectivePack, example: Example) -> tuple[str, tuple[str, ...]]:
    facts = {"name": "example-host", **example.facts}
    item = _check_record(facts, "<example>", 0, 0, None, None, None, "", False)
    if not isinstance(item, HostRecord):
        return "invalid facts", tuple(d.message + (f" at {d.pointer}" if d.pointer else "") for d in item.diagnostics)
    f = item.facts
    f["context"] = {"target": example.target or representative_target(pack), "audit_date": example.audit_date or DEFAULT_AUDIT_DATE}
    return _explain(rule, pack, f)


def _own_packs(policies: PolicySet, dirs: list[str]) -> list[EffectivePack]:
    roots = [os.path.realpath(d) for d in dirs]
    out = []
    for e in policies.effective.values():
        lp = policies.by_id[e.id]
        real = os.path.realpath(lp.path)
        if not lp.bundled and any(os.path.commonpath([r, real]) == r for r in roots):
            out.append(e)
    return sorted(out, key=lambda e: e.id)


def run_examples_of(policies: PolicySet, packs: list[EffectivePack]) -> list[TestResult]:
    """Every example of every rule the given packs define."""
    results = []
    for e in packs:
        lp = policies.by_id[e.id]
        for idx, rule in enumerate(lp.pack.rules):
            for expected, i, example in iter_examples(rule):
                actual, evidence = _example_result(rule, e, example)
                line, col = lp.doc.locate(f"/rules/{idx}/examples/{expected}/{i}")
                label = f" ({example.name})" if example.name else ""
                results.append(TestResult("example", f"{e.id}@{e.version}", f"{rule.id} example {expected}[{i}]{label}",
                                          lp.path, line, col, expected, actual, evidence))
    return results


def case_files(cases_dir: str) -> list[str]:
    """Case files under CASES/<pack id>/<version>/, sorted."""
    out = []
    for dp, dns, fns in os.walk(cases_dir):
        dns.sort()
        for fn in sorted(fns):
            if fn.lower().endswith((".yaml", ".yml")):
                out.append(os.path.join(dp, fn))
    return out


def _bad(doc: YamlDoc, pointer: str, message: str) -> Diagnostic:
    return doc.diag(pointer, message, code=Code.INPUT)


def run_case_file(path: str, cases_dir: str, policies: PolicySet) -> tuple[list[TestResult], list[Diagnostic]]:
    """The expectations of one case file, or why it is malformed."""
    rel = os.path.relpath(path, cases_dir).split(os.sep)
    if len(rel) != 3:
        return [], [Diagnostic(path, f"a case file belongs in {cases_dir}/<pack id>/<pack version>/<case>.yaml", code=Code.INPUT)]
    pack_id, version = rel[0], rel[1]
    try:
        doc = load_yaml_file(path)
    except InputError as exc:
        return [], list(exc.diagnostics)
    data = doc.data
    if not isinstance(data, dict):
        return [], [_bad(doc, "", "a case is a mapping with target, facts and expect")]
    errors = []
    for key in data:
        if key not in CASE_KEYS:
            errors.append(_bad(doc, f"/{key}", f"unknown key {key!r} (allowed: {', '.join(sorted(CASE_KEYS))})"))
    for key in ("target", "facts", "expect"):
        if key not in data:
            errors.append(_bad(doc, "", f"missing key {key!r}"))
    target = data.get("target")
    if "target" in data and not isinstance(target, str):
        errors.append(_bad(doc, "/target", f"{doc.scalar_lead('/target', target) if isinstance(target, (int, float)) else 'target is not a string'}; versions are quoted strings"))
    audit = data.get("audit_date", "2026-11-25")
    if not isinstance(audit, str) or not _DATE.fullmatch(audit) or not _valid_date(audit):
        errors.append(_bad(doc, "/audit_date", "audit_date is not a YYYY-MM-DD date in quotes"))
    facts = data.get("facts")
    if "facts" in data and not isinstance(facts, dict):
        errors.append(_bad(doc, "/facts", "facts is one host's facts, a mapping"))
    expect = data.get("expect")
    if "expect" in data:
        if not isinstance(expect, dict) or not expect:
            errors.append(_bad(doc, "/expect", "expect maps rule ids to outcomes (pass, fail, unknown, error, not_applicable)"))
        else:
            for rid, outcome in expect.items():
                if outcome not in OUTCOMES:
                    errors.append(_bad(doc, f"/expect/{rid}", f"{outcome!r} is not an outcome (pass, fail, unknown, error, not_applicable)"))
    absent = data.get("absent", [])
    if not isinstance(absent, list) or not all(isinstance(a, str) for a in absent):
        errors.append(_bad(doc, "/absent", "absent is a list of rule ids"))
    lp = policies.by_id.get(pack_id)
    if lp is None:
        errors.append(Diagnostic(path, f"no loaded pack has the id {pack_id!r} (the folder names the pack)", code=Code.INPUT))
    elif lp.pack.version != version:
        errors.append(Diagnostic(path, f"folder version {version} differs from pack {pack_id}'s version {lp.pack.version}: move the cases to {pack_id}/{lp.pack.version}/", code=Code.INPUT))
    if errors:
        return [], errors
    from packaging.version import InvalidVersion, Version

    try:
        Version(target)  # type: ignore[arg-type]
    except InvalidVersion:
        return [], [_bad(doc, "/target", f"{target!r} is not a version")]
    selected = policies.select(target)  # type: ignore[arg-type]
    if not any(pack_id in e.chain for e in selected):
        return [], [_bad(doc, "/target", f"pack {pack_id} does not apply to ITMS {target}")]
    host = {"name": os.path.splitext(os.path.basename(path))[0], **facts}  # type: ignore[dict-item]
    report = evaluate([host], policies, Options(target=target, full_outcomes=True, keep_facts=True, audit_date=audit))
    result = report.hosts[0] if report.hosts else None
    if result is None or result.rejected:
        diags = result.diagnostics if result is not None else ()
        return [], [_bad(doc, "/facts" + (d.pointer or ""), f"facts do not validate: {d.message}") for d in diags] or [_bad(doc, "/facts", "facts do not validate")]
    got = {rid: OUTCOME_NAMES[c] for rid, c in zip(result.rule_ids, result.outcomes)}
    findings = {f.rule_id: f for f in result.findings}
    pack_label = f"{pack_id}@{version}"
    case = os.path.splitext(os.path.basename(path))[0]
    out = []
    for rid, expected in expect.items():  # type: ignore[union-attr]
        line, col = doc.locate(f"/expect/{rid}")
        actual = got.get(rid, "not evaluated")
        f = findings.get(rid)
        evidence = _evidence_text(f.evidence) if f is not None else ()
        if f is not None:
            evidence = (f.message, *evidence)
        out.append(TestResult("case", pack_label, f"case {case}: {rid}", path, line, col, expected, actual, evidence))
    for i, rid in enumerate(absent):
        line, col = doc.locate(f"/absent/{i}")
        actual = "not evaluated" if rid not in got else f"evaluated ({got[rid]})"
        out.append(TestResult("case", pack_label, f"case {case}: {rid} absent", path, line, col, "not evaluated", actual))
    return out, []


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False


def run_policy_tests(dirs: list[str], cases: list[str] | None = None, *, data: Iterable[str] = ()) -> TestRun:
    """Load the packs in dirs (bundled packs too, for ``extends``), run their examples and case files.

    ``cases`` are case folders; by default each DIR's ``tests/`` folder when it exists.
    """
    run = TestRun()
    try:
        policies, warnings = load_policies(dirs, overlays=data) if data else load_policies(dirs)
    except InputError as exc:
        run.malformed = [d for d in exc.diagnostics if d.level is Level.ERROR]
        run.warnings = [d for d in exc.diagnostics if d.level is not Level.ERROR]
        return run
    run.warnings = [w for w in warnings if not _is_case_dir_note(w)]
    own = _own_packs(policies, dirs)
    run.packs = [f"{e.id}@{e.version}" for e in own]
    if not own:
        run.malformed.append(Diagnostic(", ".join(dirs), "no policy pack of its own in the given directories", code=Code.NO_POLICIES))
        return run
    run.results.extend(run_examples_of(policies, own))
    folders = list(cases) if cases is not None else [os.path.join(d, CASES_DIRNAME) for d in dirs if os.path.isdir(os.path.join(d, CASES_DIRNAME))]
    for folder in folders:
        if not os.path.isdir(folder):
            run.malformed.append(Diagnostic(folder, "case folder does not exist", code=Code.IO))
            continue
        for path in case_files(folder):
            res, errs = run_case_file(path, folder, policies)
            run.results.extend(res)
            run.malformed.extend(errs)
    return run


def _is_case_dir_note(d: Diagnostic) -> bool:
    return d.code == Code.SKIPPED and os.path.basename(d.source.rstrip(os.sep)) == CASES_DIRNAME


# --- output --------------------------------------------------------------------------------

def render_text(run: TestRun, *, verbose: bool = False) -> str:
    """Failing tests with expected against actual and the evidence; a summary line."""
    lines = []
    for d in run.malformed:
        lines.append(f"MALFORMED {d.format()}")
    for r in run.results:
        if r.ok and not verbose:
            continue
        mark = "PASS" if r.ok else "FAIL"
        lines.append(f"{mark}  {r.where}: {r.pack} {r.name}: expected {r.expected}, got {r.actual}")
        if not r.ok:
            lines.extend(f"      {e}" for e in r.evidence)
    passed = sum(1 for r in run.results if r.ok)
    lines.append(f"{len(run.results)} test(s) in {len(run.packs)} pack(s): {passed} passed, {len(run.failed)} failed, {len(run.malformed)} malformed file(s) (exit code {run.exit_code})")
    return "\n".join(lines) + "\n"


def render_junit(run: TestRun) -> str:
    """JUnit XML for the policy repository's CI: one suite per pack, a failure per wrong outcome, an error per malformed file."""
    from .render.junit import attr, text

    suites: dict[str, list[str]] = {}
    counts: dict[str, list[int]] = {}
    for r in run.results:
        body = ""
        if not r.ok:
            msg = f"{r.where}: expected {r.expected}, got {r.actual}"
            detail = "\n".join([msg, *r.evidence])
            body = f'<failure message="{attr(msg)}" type="wrong outcome">{text(detail)}</failure>'
        case = f'<testcase name="{attr(r.name)}" classname="{attr(r.pack)}" time="0">{body}<system-out>{text(r.where)}</system-out></testcase>'
        suites.setdefault(r.pack, []).append(case)
        c = counts.setdefault(r.pack, [0, 0, 0])
        c[0] += 1
        c[1] += 0 if r.ok else 1
    by_file: dict[str, list[str]] = {}
    for d in run.malformed:
        by_file.setdefault(d.source, []).append(d.format())
    for source, msgs in by_file.items():
        body = "\n".join(msgs)
        case = f'<testcase name="{attr(source)}" classname="malformed" time="0"><error message="{attr(msgs[0])}" type="malformed">{text(body)}</error></testcase>'
        suites.setdefault("malformed", []).append(case)
        c = counts.setdefault("malformed", [0, 0, 0])
        c[0] += 1
        c[2] += 1
    total = sum(c[0] for c in counts.values())
    failures = sum(c[1] for c in counts.values())
    errors = sum(c[2] for c in counts.values())
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="sitegate policies test" tests="{total}" failures="{failures}" errors="{errors}">']
    for name, cases in suites.items():
        c = counts[name]
        out.append(f'<testsuite name="{attr(name)}" tests="{c[0]}" failures="{c[1]}" errors="{c[2]}" skipped="0">')
        out.extend(cases)
        out.append("</testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"
