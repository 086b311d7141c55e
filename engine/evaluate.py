"""Evaluate hosts against the selected packs: the library API behind the CLI.

``evaluate(facts, policies, options) -> Report`` materialises everything;
``evaluate_stream`` yields host results one at a time and builds the summary
as it goes, so a fleet of any size runs in flat memory.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from packaging.version import InvalidVersion, Version

from ..facts.load import HostRecord, Rejected, _check_record
from . import __version__
from .compiler import ERROR, FAIL, MISSING, NOT_APPLICABLE, PASS, UNKNOWN, Evidence, Node, compile_condition
from .diagnostics import Diagnostic, Level
from .model import (
    FailOn,
    Finding,
    HostResult,
    Location,
    Outcome,
    PackInfo,
    Report,
    ReportHeader,
    ReportStream,
    RuleInfo,
    SEVERITY_RANK,
    Summary,
    Waived,
    decide_exit_code,
)
from .packs import EffectivePack, PolicySet
from .policy import Rule

MAX_KEPT_DIAGNOSTICS = 1000

WaiverMatcher = Callable[[str, Finding], "Waived | None"]


@dataclass(frozen=True)
class Options:
    """How to evaluate and gate."""

    target: str | None = None
    fail_on: FailOn = FailOn.ERROR
    allow_unknown: bool = False
    locate: bool = False  # resolve each finding's exact line (SARIF regions)
    full_outcomes: bool = False  # keep every (host, rule) outcome (JUnit, SARIF full)
    keep_facts: bool = False  # keep host facts in results (capacity view)
    audit_date: str | None = None  # YYYY-MM-DD; defaults to today (UTC)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), compare=False)
    category: str | None = None
    inputs: tuple[str, ...] = ()
    extra_inputs: tuple[tuple[str, str], ...] = ()
    waivers: Any = None  # an object with match(host, finding) -> Waived | None and report() -> list
    baseline: frozenset[str] | None = None  # fingerprints of the previous run's findings
    preload_diagnostics: tuple[Diagnostic, ...] = ()  # warnings from policy loading etc.


class CompiledRule:
    """A rule compiled once: applicability and check as closures."""

    __slots__ = ("rule", "id", "roles", "when", "check", "severity_rank", "pack", "run")

    def __init__(self, rule: Rule, pack: EffectivePack):
        self.rule = rule
        self.id = rule.id
        self.roles = frozenset(rule.roles) if rule.roles else None
        self.when: Node | None = compile_condition(rule.when, pack.tables) if rule.when is not None else None
        self.check: Node = compile_condition(rule.assert_, pack.tables)
        self.severity_rank = SEVERITY_RANK[rule.severity.value]
        self.pack = pack.rule_pack.get(rule.id, pack.id)
        roles = self.roles
        when = self.when.fast if self.when is not None else None
        check = self.check.fast

        def run(f: dict[str, Any]) -> int:
            if roles is not None:
                hr = f["derived"].get("roles")
                if hr is None:
                    return UNKNOWN
                if roles.isdisjoint(hr):
                    return NOT_APPLICABLE
            if when is not None:
                w = when(f)
                if w == FAIL:
                    return NOT_APPLICABLE
                if w != PASS:
                    return w
            return check(f)
        self.run = run

    def explain(self, f: dict[str, Any]) -> tuple[int, list[Evidence]]:
        """Outcome and evidence for a non-passing result (the slow path)."""
        if self.roles is not None and f["derived"].get("roles") is None:
            return UNKNOWN, [Evidence("derived.roles", "/site_services", MISSING, "roles " + ", ".join(sorted(self.roles)), "exists", UNKNOWN, "site services (installed and planned) are unknown")]
        if self.when is not None:
            w, ev = self.when.explain(f)
            if w not in (PASS, FAIL):
                return w, ev
        return self.check.explain(f)


@dataclass
class RuleSet:
    """The compiled rules for one selection of packs."""

    target: str
    packs: tuple[EffectivePack, ...]
    rules: tuple[CompiledRule, ...]

    @property
    def pack_labels(self) -> tuple[str, ...]:
        """'id@version' of each pack."""
        return tuple(f"{p.id}@{p.version}" for p in self.packs)


class Evaluator:
    """Caches compiled rule sets per target version."""

    def __init__(self, policies: PolicySet):
        self.policies = policies
        self._cache: dict[str, RuleSet | None] = {}

    def ruleset(self, target: str) -> RuleSet | None:
        """Compiled rules for a target version, or None when no pack applies."""
        if target not in self._cache:
            try:
                packs = self.policies.select(target)
            except InvalidVersion:
                packs = []
            if not packs:
                self._cache[target] = None
            else:
                rules: dict[str, CompiledRule] = {}
                for p in packs:
                    for r in p.rules:
                        if r.id not in rules:
                            rules[r.id] = CompiledRule(r, p)
                self._cache[target] = RuleSet(target, tuple(packs), tuple(rules[k] for k in sorted(rules)))
        return self._cache[target]


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _show(v: Any) -> str:
    if v is MISSING or v is None:
        return "missing"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple, frozenset, set)):
        items = [str(x) for x in v]
        return ", ".join(items[:20]) + (", ..." if len(items) > 20 else "") if items else "none"
    return str(v)


def _lookup_path(f: dict[str, Any], path: str) -> Any:
    o: Any = f
    for p in path.split("."):
        if not isinstance(o, dict):
            return MISSING
        o = o.get(p)
        if o is None:
            return MISSING
    return o


def format_message(rule: Rule, host: str, code: int, ev: list[Evidence], f: dict[str, Any], target: str) -> str:
    """The finding's message: the rule's template for fails, a standard text otherwise."""
    first = ev[0] if ev else None
    if code == UNKNOWN:
        why = first.detail if first and first.detail else "a fact it needs is missing"
        return f"{host}: cannot check '{rule.title}': {why} (unknown is not a pass)"
    if code == ERROR:
        why = first.detail if first else "evaluation failed"
        return f"{host}: '{rule.title}' could not be evaluated: {why}"
    values = {
        "host": host,
        "observed": _show(first.observed) if first else "",
        "expected": first.expected if first else "",
        "detail": first.detail if first else "",
        "target": target,
        "rule": rule.id,
        "fact": first.fact if first else "",
        "label": (first.label or first.fact) if first else "",
    }

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in values:
            return values[name]
        return _show(_lookup_path(f, name))
    return _PLACEHOLDER.sub(sub, rule.message)


def rule_info(rule: Rule, pack: EffectivePack) -> RuleInfo:
    """A rule's documentation for reports."""
    return RuleInfo(
        id=rule.id,
        name=rule.pascal_name,
        title=rule.title,
        description=rule.description.strip(),
        rationale=(rule.rationale or "").strip(),
        severity=rule.severity.value,
        confidence=rule.confidence.value,
        source=rule.source,
        references=rule.references,
        remediation=rule.remediation.strip(),
        tags=rule.tags,
        roles=rule.roles,
        pack=pack.rule_pack.get(rule.id, pack.id),
        pack_version=pack.version,
    )


def build_header(policies: PolicySet, options: Options, started_at: str) -> ReportHeader:
    """The header: packs and rules that can be evaluated under these options."""
    if options.target:
        try:
            packs = policies.select(options.target)
        except InvalidVersion:
            packs = []
    else:
        # Without a target each host is checked for its own version: list every leaf pack.
        extended = {a for e in policies.effective.values() for a in e.chain[1:]}
        packs = sorted((e for e in policies.effective.values() if e.id not in extended), key=lambda e: e.id)
        if not packs:
            packs = sorted(policies.effective.values(), key=lambda e: e.id)
    infos: dict[str, RuleInfo] = {}
    used: dict[str, EffectivePack] = {}
    for p in packs:
        for r in p.rules:
            infos.setdefault(r.id, rule_info(r, p))
        for pid in p.chain:
            used[pid] = policies.effective[pid]
    pack_infos = tuple(
        PackInfo(e.id, e.version, e.title, e.applies_to, policies.by_id[e.id].path, policies.by_id[e.id].digest, policies.by_id[e.id].bundled, e.chain)
        for e in sorted(used.values(), key=lambda e: e.id)
    )
    category = options.category or f"sitegate/itms-{options.target or 'current'}"
    return ReportHeader(
        tool_version=__version__,
        started_at=started_at,
        target=options.target,
        fail_on=options.fail_on.value,
        allow_unknown=options.allow_unknown,
        inputs=options.inputs,
        packs=pack_infos,
        rules=tuple(infos[k] for k in sorted(infos)),
        category=category,
        extra_inputs=options.extra_inputs,
    )


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_items(facts: Iterable[Any]) -> Iterator[HostRecord | Rejected]:
    """Accept loader items, or plain dicts (library use) validated like a file's records."""
    for i, item in enumerate(facts):
        if isinstance(item, (HostRecord, Rejected)):
            yield item
        else:
            yield _check_record(item, "<memory>", i, 0, None, None, None, f"/{i}", False)


def evaluate_stream(facts: Iterable[Any], policies: PolicySet, options: Options = Options()) -> ReportStream:
    """Evaluate lazily: iterate ``.hosts``, then read ``.summary``."""
    started = options.now()
    header = build_header(policies, options, _iso(started))
    stream = ReportStream(header, iter(()))
    stream.hosts = _run(facts, policies, options, header, stream)
    return stream


def evaluate(facts: Iterable[Any], policies: PolicySet, options: Options = Options()) -> Report:
    """Evaluate every host and return the complete report."""
    return evaluate_stream(facts, policies, options).materialise()


def _run(facts: Iterable[Any], policies: PolicySet, options: Options, header: ReportHeader, stream: ReportStream) -> Iterator[HostResult]:
    ev = Evaluator(policies)
    threshold = options.fail_on.threshold()
    allow_unknown = options.allow_unknown
    audit_date = options.audit_date or options.now().astimezone(timezone.utc).date().isoformat()
    diagnostics: list[Diagnostic] = list(options.preload_diagnostics)
    diag_total = len(diagnostics)
    outcome_totals = [0, 0, 0, 0, 0]
    failing_by_sev: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    hosts_read = hosts_evaluated = hosts_rejected = hosts_compliant = 0
    gating_total = waived_total = 0
    contexts: dict[str, dict[str, Any]] = {}
    waivers = options.waivers
    baseline = options.baseline
    seen_fingerprints: set[str] = set()

    def note(ds: Iterable[Diagnostic]) -> None:
        nonlocal diag_total
        for d in ds:
            diag_total += 1
            if len(diagnostics) < MAX_KEPT_DIAGNOSTICS:
                diagnostics.append(d)

    for item in _as_items(facts):
        if isinstance(item, Rejected):
            note(item.diagnostics)
            if item.index < 0 and all(d.level is Level.WARNING for d in item.diagnostics):
                continue
            hosts_read += item.index >= 0
            hosts_rejected += 1
            yield HostResult(
                name=item.host or f"{item.source}#{item.index}",
                source=item.source,
                line=item.diagnostics[0].line if item.diagnostics else 0,
                index=item.index,
                target=None,
                packs=(),
                os=None,
                roles=None,
                site=None,
                notification_server=None,
                counts=(0, 0, 0, 0, 0),
                findings=(),
                rejected=True,
                diagnostics=tuple(item.diagnostics),
            )
            continue
        hosts_read += 1
        rec = item
        note(rec.warnings)
        f = rec.facts
        platform = f.get("platform") or {}
        target = options.target or platform.get("itms_version")
        rs = ev.ruleset(target) if target else None
        if rs is None:
            msg = (
                f"no policy pack applies to ITMS {target}" if target
                else "no target version: pass --target or record platform.itms_version"
            )
            l, c = rec.locate("/platform/itms_version")
            d = Diagnostic(rec.source, msg, l, c, "/platform/itms_version", rec.name, code="no-target")
            note([d])
            hosts_rejected += 1
            yield HostResult(rec.name, rec.source, rec.line, rec.index, target, (), None, None, None, None, (0, 0, 0, 0, 0), (), rejected=True, diagnostics=(d,))
            continue
        ctx = contexts.get(target)
        if ctx is None:
            ctx = contexts[target] = {"target": target, "audit_date": audit_date}
        f["context"] = ctx
        counts = [0, 0, 0, 0, 0]
        outcomes: list[int] | None = [] if options.full_outcomes else None
        findings: list[Finding] = []
        for cr in rs.rules:
            code = cr.run(f)
            counts[code] += 1
            if outcomes is not None:
                outcomes.append(code)
            if code == PASS or code == NOT_APPLICABLE:
                continue
            code2, evidence = cr.explain(f)
            rule = cr.rule
            first = evidence[0] if evidence else None
            pointer = first.pointer if first else ""
            line, col = rec.locate(pointer) if options.locate else (rec.line or 1, 1)
            sev_rank = cr.severity_rank
            if code == FAIL:
                gating = sev_rank >= threshold
            elif code == UNKNOWN:
                gating = sev_rank >= threshold and not allow_unknown
            else:
                gating = threshold < 3
            finding = Finding(
                rule_id=cr.id,
                outcome=Outcome.from_code(code),
                severity=rule.severity.value,
                confidence=rule.confidence.value,
                message=format_message(rule, rec.name, code, evidence, f, target),
                evidence=tuple(evidence),
                location=Location(rec.source, line, col, pointer),
                setting=first.fact if first else "",
                gating=gating,
            )
            if waivers is not None:
                w = waivers.match(rec.name, finding)
                if w is not None:
                    finding = _replace(finding, waived=w, gating=False)
                    waived_total += 1
            if baseline is not None:
                fp = finding.fingerprint(rec.name)
                seen_fingerprints.add(fp)
                if fp in baseline:
                    finding = _replace(finding, baseline="unchanged", gating=False)
                else:
                    finding = _replace(finding, baseline="new")
            findings.append(finding)
            by_rule[cr.id] += 1
            if code == FAIL:
                failing_by_sev[rule.severity.value] += 1
            if finding.gating:
                gating_total += 1
        for i in range(5):
            outcome_totals[i] += counts[i]
        hosts_evaluated += 1
        if not any(x.gating for x in findings):
            hosts_compliant += 1
        derived = f.get("derived", {})
        os_ = derived.get("os_name") or (f.get("os") or {}).get("caption")
        roles = derived.get("roles")
        ident = f.get("identity") or {}
        del f["context"]
        yield HostResult(
            name=rec.name,
            source=rec.source,
            line=rec.line,
            index=rec.index,
            target=target,
            packs=rs.pack_labels,
            os=os_,
            roles=tuple(roles) if roles is not None else None,
            site=ident.get("site"),
            notification_server=ident.get("notification_server"),
            counts=tuple(counts),  # type: ignore[arg-type]
            findings=tuple(findings),
            rule_ids=tuple(cr.id for cr in rs.rules) if outcomes is not None else (),
            outcomes=tuple(outcomes) if outcomes is not None else (),
            facts=f if options.keep_facts else None,
        )
    waiver_report: tuple[dict[str, Any], ...] = tuple(waivers.report()) if waivers is not None else ()
    expired = sum(1 for w in waiver_report if w.get("status") == "expired")
    for w in waiver_report:
        if w.get("status") in ("expired", "unused"):
            diag_total += 1
            if len(diagnostics) < MAX_KEPT_DIAGNOSTICS:
                diagnostics.append(Diagnostic(w.get("source", "waivers"), f"waiver {w.get('id')} is {w.get('status')}", w.get("line", 0), 1, level=Level.WARNING, code=f"waiver-{w.get('status')}"))
    fixed: tuple[dict[str, Any], ...] = ()
    if baseline is not None and hasattr(baseline, "details"):
        fixed = tuple(d for fp, d in baseline.details.items() if fp not in seen_fingerprints)  # type: ignore[attr-defined]
    input_errors = sum(1 for d in diagnostics if d.level is Level.ERROR) + max(0, diag_total - len(diagnostics))
    notices: list[str] = []
    if hosts_read == 0 and hosts_rejected == 0:
        notices.append("no hosts were read: nothing was checked")
    exit_code = decide_exit_code(
        input_errors=input_errors + hosts_rejected,
        hosts_evaluated=hosts_evaluated,
        gating_findings=gating_total,
        expired_waivers=expired,
    )
    summary = Summary(
        finished_at=_iso(options.now()),
        hosts_read=hosts_read,
        hosts_evaluated=hosts_evaluated,
        hosts_rejected=hosts_rejected,
        hosts_compliant=hosts_compliant,
        outcomes={Outcome.from_code(i).value: outcome_totals[i] for i in range(5)},
        failing_by_severity={s: failing_by_sev.get(s, 0) for s in ("error", "warning", "note")},
        findings_by_rule=dict(sorted(by_rule.items())),
        gating_findings=gating_total,
        waived_findings=waived_total,
        diagnostics=tuple(diagnostics),
        diagnostics_total=diag_total,
        policy_errors=0,
        notices=tuple(notices),
        exit_code=exit_code,
        waivers=waiver_report,
        fixed=fixed,
    )
    stream._summary.append(summary)


def _replace(f: Finding, **kw: Any) -> Finding:
    from dataclasses import replace

    return replace(f, **kw)
