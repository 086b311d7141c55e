"""Baselines: gate only on findings that are new since an accepted report.

``--baseline FILE`` takes a previous sitegate JSON report (v2: each finding's
fingerprint recomputed from its rule, host and setting, or read where the report
wrote it; v1: ``findings[].fingerprint``) or a sitegate SARIF log
(``partialFingerprints["sitegateFinding/v1"]``). A
finding's fingerprint is sha256(rule|host|setting): it survives reformatted or
reordered facts files, moved lines and changed values, so "unchanged" means
"the same rule still fails on the same setting of the same host".

The engine marks each finding ``new`` or ``unchanged``; only new ones can fail
the gate. Baseline findings no longer present are listed as fixed
(``summary.fixed``). A host name the baseline gives to more than one host (a
report's hosts; a SARIF log's duplicate-host notification, a fingerprint given
twice or a line hash counted past 1) matches none of its findings, and the run
warns about it in every output. A baseline made from a GitHub-profile SARIF holds no waived
findings (that profile leaves them out); use the JSON report or a
``--sarif-profile full`` SARIF as the baseline when waivers are in play.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any

import orjson

from ..base.diagnostics import Code, Diagnostic, InputError, Level
from ..base.jsonpos import parse_with_positions
from ..base.textio import decode, read_limited
from .model import fingerprint

REPORT_SCHEMA = "sitegate/report/v1"
REPORT_SCHEMA_V2 = "sitegate/report/v2"
SARIF_KEY = "sitegateFinding/v1"
MAX_BASELINE_BYTES = 1024 * 1024 * 1024
_FP = re.compile(r"^[0-9a-f]{64}$")


class Baseline(frozenset):
    """The fingerprints of a baseline's findings, with what each one was."""

    details: dict[str, dict[str, Any]]
    digest: str
    source: str
    kind: str
    #: Host names the baseline gives to more than one host: none of their findings is in it.
    duplicates: tuple[str, ...]

    def __new__(
        cls, details: dict[str, dict[str, Any]], digest: str, source: str = "", kind: str = "json", duplicates: tuple[str, ...] = (),
    ) -> "Baseline":
        self = super().__new__(cls, details.keys())
        self.details = details
        self.digest = digest
        self.source = source
        self.kind = kind
        self.duplicates = duplicates
        return self

    def __reduce__(self):  # frozenset subclasses need help to pickle/copy with their attributes
        return (Baseline, (self.details, self.digest, self.source, self.kind, self.duplicates))

    def warnings(self) -> list[Diagnostic]:
        """One warning per host name the baseline gives to several hosts (its findings are not matched)."""
        return [
            Diagnostic(
                self.source, f"the baseline gives host name {name!r} to more than one host: which host a finding"
                " belonged to is unknown, so none of that name's findings is matched (each counts as new)",
                host=name, level=Level.WARNING, code=Code.BASELINE,
            )
            for name in self.duplicates
        ]


class _Problems:
    """Collects problems by JSON pointer; locates them only if there are any (slow path)."""

    def __init__(self, source: str, text: str):
        self.source = source
        self.text = text
        self.items: list[tuple[str, str]] = []

    def add(self, pointer: str, message: str) -> None:
        if len(self.items) < 100:
            self.items.append((pointer, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        try:
            _, pm, _ = parse_with_positions(self.text, self.source)
        except InputError:
            pm = None
        diags = []
        for ptr, msg in self.items:
            line, col = (pm.locate(ptr) if pm is not None else None) or (1, 1)
            diags.append(Diagnostic(self.source, msg, line, col, ptr, code=Code.BASELINE))
        raise InputError(diags)


def _syntax_error(text: str, source: str) -> InputError:
    try:
        parse_with_positions(text, source)
    except InputError as exc:
        return InputError([Diagnostic(d.source, f"not a sitegate JSON report or SARIF file: {d.message}", d.line, d.column, d.pointer, code=Code.BASELINE) for d in exc.diagnostics])
    return InputError([Diagnostic(source, "not a sitegate JSON report or SARIF file: invalid JSON", 1, 1, code=Code.BASELINE)])


def _entry(fp: str, host: Any, rule_id: Any, setting: Any, message: Any) -> dict[str, Any]:
    return {
        "fingerprint": fp,
        "host": host if isinstance(host, str) else None,
        "rule_id": rule_id if isinstance(rule_id, str) else None,
        "setting": setting if isinstance(setting, str) else "",
        "message": message if isinstance(message, str) else "",
    }


def _without(out: dict[str, dict[str, Any]], twice: set[str]) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    """The findings of the names used once, and the names used more than once (sorted)."""
    if twice:
        out = {fp: e for fp, e in out.items() if e["host"] not in twice}
    return out, tuple(sorted(n for n in twice if isinstance(n, str)))


def _v2_finding(f: dict[str, Any], host: Any, ptr: str, probs: _Problems) -> tuple[str, str] | None:
    """A v2 finding's (fingerprint, setting). The setting is the first evidence's fact unless
    the finding gives one; the fingerprint is made from rule, host and setting
    (:func:`~sitegate.engine.model.fingerprint`), or read where the report wrote it (a name
    it had to escape)."""
    setting = f.get("setting")
    where = ptr + "/setting"
    if setting is None:
        evidence = f.get("evidence")
        if not isinstance(evidence, list):
            probs.add(ptr + "/evidence", "each finding needs its 'evidence' (an array): is this a sitegate report?")
            return None
        first = evidence[0] if evidence else {}
        setting = first.get("fact", "") if isinstance(first, dict) else None
        where = ptr + "/evidence/0/fact"
    if not isinstance(setting, str):
        probs.add(where, "a finding's setting must be a string")
        return None
    fp = f.get("fingerprint")
    if fp is not None:
        if not isinstance(fp, str) or not _FP.match(fp):
            probs.add(ptr + "/fingerprint", "'fingerprint' must be 64 hex digits")
            return None
        return fp, setting
    rule_id = f.get("rule_id")
    if not isinstance(rule_id, str):
        probs.add(ptr + "/rule_id", "each finding needs a 'rule_id' (a string): is this a sitegate report?")
        return None
    if not isinstance(host, str):
        probs.add(ptr, "the finding's host has no 'name' (a string)")
        return None
    return fingerprint(rule_id, host, setting), setting


def _from_report(doc: dict[str, Any], probs: _Problems, v2: bool = False) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    out: dict[str, dict[str, Any]] = {}
    hosts = doc.get("hosts")
    if not isinstance(hosts, list):
        probs.add("/hosts", "a sitegate report needs a 'hosts' array")
        return out, ()
    for i, h in enumerate(hosts):
        if not isinstance(h, dict):
            probs.add(f"/hosts/{i}", "a host result must be an object")
            continue
        findings = h.get("findings", [])
        if not isinstance(findings, list):
            probs.add(f"/hosts/{i}/findings", "'findings' must be an array")
            continue
        for j, f in enumerate(findings):
            ptr = f"/hosts/{i}/findings/{j}"
            if v2:
                if not isinstance(f, dict):
                    probs.add(ptr, "a finding must be an object")
                    continue
                found = _v2_finding(f, h.get("name"), ptr, probs)
                if found is not None:
                    # A v2 report carries no message: the rule and setting say what it was.
                    out[found[0]] = _entry(found[0], h.get("name"), f.get("rule_id"), found[1], None)
                continue
            fp = f.get("fingerprint") if isinstance(f, dict) else None
            if not isinstance(fp, str) or not _FP.match(fp):
                probs.add(ptr + "/fingerprint", "each finding needs a 'fingerprint' (64 hex digits): is this a sitegate report?")
                continue
            out[fp] = _entry(fp, h.get("name"), f.get("rule_id"), f.get("setting"), f.get("message"))
    # Two hosts of one name in the earlier run: which one a finding belonged to is unknown,
    # so no finding of that name is matched (each counts as new).
    names = Counter(h.get("name") for h in hosts if isinstance(h, dict) and not h.get("rejected"))
    return _without(out, {n for n, c in names.items() if c > 1 and isinstance(n, str)})


_OCCURRENCE = re.compile(r":([0-9]+)$")


def _from_sarif(doc: dict[str, Any], probs: _Problems) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    out: dict[str, dict[str, Any]] = {}
    runs = doc.get("runs")
    if not isinstance(runs, list):
        probs.add("/runs", "a SARIF log needs a 'runs' array")
        return out, ()
    # A SARIF log lists findings, not hosts: two hosts of one name show as the run's
    # duplicate-host notification, as one fingerprint given twice, or as a line hash
    # counted past 1 (":2"); any of them puts the name out of matching, as for a report.
    twice: set[str] = set()
    sitegate_runs = 0
    for r, run in enumerate(runs):
        driver = ((run or {}).get("tool") or {}).get("driver") or {} if isinstance(run, dict) else {}
        if driver.get("name") != "sitegate":
            continue
        sitegate_runs += 1
        for inv in run.get("invocations") or []:
            for note in (inv.get("toolExecutionNotifications") or []) if isinstance(inv, dict) else []:
                if isinstance(note, dict) and (note.get("descriptor") or {}).get("id") == Code.DUPLICATE_HOST.value:
                    name = (note.get("properties") or {}).get("host")
                    if isinstance(name, str):
                        twice.add(name)
        results = run.get("results")
        if not isinstance(results, list):
            probs.add(f"/runs/{r}/results", "a SARIF run needs a 'results' array")
            continue
        seen_in_run: set[str] = set()
        for j, res in enumerate(results):
            ptr = f"/runs/{r}/results/{j}"
            if not isinstance(res, dict):
                probs.add(ptr, "a result must be an object")
                continue
            if res.get("kind") in ("pass", "notApplicable") or res.get("baselineState") == "absent":
                continue  # not a finding (full profile) / not in that run
            fp = (res.get("partialFingerprints") or {}).get(SARIF_KEY)
            if not isinstance(fp, str) or not _FP.match(fp):
                probs.add(ptr + "/partialFingerprints", f"result has no partialFingerprints[{SARIF_KEY!r}]: was this SARIF written by sitegate?")
                continue
            props = res.get("properties") or {}
            entry = _entry(fp, props.get("host"), res.get("ruleId"), props.get("setting"), (res.get("message") or {}).get("text"))
            line_hash = (res.get("partialFingerprints") or {}).get("primaryLocationLineHash")
            repeat = _OCCURRENCE.search(line_hash) if isinstance(line_hash, str) else None
            if (fp in seen_in_run or (repeat is not None and int(repeat.group(1)) > 1)) and entry["host"] is not None:
                twice.add(entry["host"])
            seen_in_run.add(fp)
            out[fp] = entry
    if not sitegate_runs:
        probs.add("/runs", "no run of tool 'sitegate' in this SARIF log")
    return _without(out, twice)


def load_baseline(path: str, *, display: str | None = None) -> Baseline:
    """Read a sitegate JSON report or SARIF log; raise InputError (with positions) on bad input."""
    source = display or path
    raw = read_limited(
        path, source, MAX_BASELINE_BYTES, expected="a sitegate JSON report or SARIF file", too_large="baseline larger than 1 GiB"
    )
    digest = hashlib.sha256(raw).hexdigest()
    text = decode(raw, source)
    if not text.strip():
        raise InputError([Diagnostic(source, "the file is empty: a sitegate JSON report or SARIF file was expected", 1, 1, code=Code.BASELINE)])
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _syntax_error(text, source) from None
    probs = _Problems(source, text)
    if not isinstance(doc, dict):
        probs.add("", "not a sitegate JSON report or SARIF file: the top level must be an object")
        probs.raise_if_any()
    duplicates: tuple[str, ...] = ()
    if doc.get("schema") in (REPORT_SCHEMA, REPORT_SCHEMA_V2):
        (details, duplicates), kind = _from_report(doc, probs, v2=doc["schema"] == REPORT_SCHEMA_V2), "json"
    elif "runs" in doc and (doc.get("version") == "2.1.0" or "$schema" in doc):
        (details, duplicates), kind = _from_sarif(doc, probs), "sarif"
    else:
        probs.add("", f"not a sitegate JSON report (schema: {REPORT_SCHEMA_V2} or {REPORT_SCHEMA}) or a SARIF 2.1.0 log")
        details, kind = {}, "unknown"
    probs.raise_if_any()
    return Baseline(details, digest, source, kind, duplicates)
