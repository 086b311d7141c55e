"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers, streamed.

One run per invocation. ``start`` writes the log head, ``tool.driver`` with
*every* rule of the run (not just the failing ones) and ``automationDetails``;
``host`` appends that host's results; ``finish`` closes the results array and
writes ``invocations`` (exit code, times, one notification per input problem)
and the run's ``properties`` (the summary). A fleet of any size is written in
flat memory.

Mapping (see docs/ci.md and reference/output-formats.md section 6.1):

- A result per failing (host, rule) and per unknown or error outcome: hosts are
  not files, so ``physicalLocation`` is the committed facts file and the line
  of the offending value, the host goes in ``logicalLocations`` (kind
  ``resource``, ``site/notification-server/host``), and the host, OS, roles,
  observed and expected values in ``result.properties``.
- ``partialFingerprints.primaryLocationLineHash`` is semantic:
  ``first16hex(sha256(rule|host|setting)):N`` (N is 1, or counts the repeats of a
  host name that occurs more than once in the run), so an alert survives moved lines,
  reformatted or reordered facts files and changed values;
  ``sitegateFinding/v1`` holds the full fingerprint (``--baseline`` reads it).
- Unknown and error outcomes are results with ``kind: "fail"`` and the rule's
  level: the gate fails closed on them, SARIF requires ``kind: "fail"`` for any
  level other than ``none``, and GitHub would not show a ``level: "none"`` /
  ``kind: "open"`` result at all. ``properties.outcome`` says which it is.
- Profile ``github`` (default) emits only what code scanning should alert on:
  fail, unknown and error outcomes. Waived findings are left out (GitHub ignores
  ``suppressions`` and would open an alert); they are counted in the run
  properties. Profile ``full`` adds ``kind: "pass"`` / ``"notApplicable"``
  results with ``level: "none"`` and keeps waived findings with an accepted
  external ``suppressions`` entry: for sarif-tools, archives, audits.
- With ``--baseline`` each result has ``baselineState`` new or unchanged;
  fixed findings are listed in ``runs[0].properties.sitegate.summary.fixed``.
- GitHub accepts at most 25,000 results per run. Since the log is streamed, the
  first 25,000 results (input order) are kept, not the most severe ones, and a
  warning notification says how many were left out (github profile only).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import orjson

from ...base.diagnostics import Diagnostic, Level
from ..model import (
    INFORMATION_URI,
    NOT_APPLICABLE,
    PASS,
    TOOL_FULL_NAME,
    TOOL_NAME,
    FailOn,
    Finding,
    HostResult,
    ReportHeader,
    RuleInfo,
    Summary,
    fingerprint,
    show,
)
from ..unknowns import collect_hint
from ..verdict import NO_TARGET_NOTE, host_state
from . import Needs, RenderOptions
from .json_report import header_dict, summary_dict
from .text import escape_surrogates, safe_text

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "sitegateFinding/v1"
GITHUB_MAX_RESULTS = 25_000
MAX_NOTIFICATIONS = 1000
MAX_VALUE_CHARS = 300

LEVEL = {"error": "error", "warning": "warning", "note": "note"}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
_SURROGATE = re.compile("[\ud800-\udfff]")


_URI_KEEP = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def quote(path: str, safe: str = "/") -> str:
    """Percent-encode a path for a URI (RFC 3986 unreserved characters and ``safe`` kept; UTF-8 bytes).
    A file name's byte that is not UTF-8 (read by Python as U+DC80-U+DCFF) is encoded as that
    byte, so the URI names the file as it is on disk."""
    keep = _URI_KEEP | frozenset(safe.encode())
    try:
        data = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # another lone surrogate: not from a file name
        data = path.encode("utf-8", "surrogatepass")
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in data)


def _clean(text: Any) -> Any:
    """Strings from facts may hold lone surrogates (valid JSON escapes, not UTF-8): escaped
    as every format escapes them (``\\ud800``)."""
    if isinstance(text, str) and _SURROGATE.search(text):
        return escape_surrogates(text)
    return text


_BRACKET = re.compile(r"\\+(?=[\[\]])|[\[\]]")


def message_text(text: str) -> str:
    """SARIF 3.11.6: a literal '[' or ']' in a message is escaped with a backslash, or a
    consumer reads ``[text](url)`` from a host name as an embedded link (a backslash that
    stands before one is doubled, so it stays a backslash: a run of n becomes 2n + 1)."""
    return _BRACKET.sub(lambda m: m.group() * 2 if m.group()[0] == "\\" else "\\" + m.group(), text)


def _text(text: str) -> str:
    """Display text: control characters and ANSI escapes shown, not obeyed."""
    return _clean(safe_text(text))


def _dumps(o: Any, indent: int = 0) -> str:
    s = orjson.dumps(o, option=orjson.OPT_INDENT_2).decode()
    return s.replace("\n", "\n" + " " * indent) if indent else s


def _short(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(v: Any) -> str:
    return _short(show(v))


def _limit(text: str, n: int = 1024) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def artifact_location(source: str, uri_base_id: str) -> dict[str, Any]:
    """A facts file as an artifactLocation: relative paths against the base id, absolute ones as file URIs."""
    win = PureWindowsPath(source)
    if win.drive and win.is_absolute():
        return {"uri": "file:///" + quote(win.as_posix(), safe="/:")}
    posix = source.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return {"uri": "file://" + quote(posix, safe="/")}
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix, safe="/"), "uriBaseId": uri_base_id}


def _region(line: int, column: int) -> dict[str, int]:
    return {"startLine": max(1, line), "startColumn": max(1, column)}


def rule_descriptor(r: RuleInfo) -> dict[str, Any]:
    """tool.driver.rules[] entry for one rule."""
    props: dict[str, Any] = {
        "tags": list(r.tags[:10]),
        "precision": PRECISION.get(r.confidence, "medium"),
        "problem.severity": PROBLEM_SEVERITY.get(r.severity, "warning"),
        "confidence": r.confidence,
        "severity": r.severity,
        "pack": r.pack,
        "packVersion": r.pack_version,
    }
    if r.roles:
        props["roles"] = list(r.roles)
    return {
        "id": r.id,
        "name": r.name[:255],
        "shortDescription": {"text": message_text(_limit(r.title))},
        "fullDescription": {"text": message_text(_limit(r.description or r.title))},
        "help": {"text": message_text(r.help_text), "markdown": r.help_markdown},
        "helpUri": r.source,
        "defaultConfiguration": {"level": LEVEL.get(r.severity, "warning")},
        "properties": props,
    }


def notification(d: Diagnostic, uri_base_id: str) -> dict[str, Any]:
    """An input diagnostic as a toolExecutionNotification."""
    msg = d.message + (f" (at {d.pointer})" if d.pointer else "") + (f" [host {d.host}]" if d.host else "")
    n: dict[str, Any] = {
        "level": "error" if d.level is Level.ERROR else "warning",
        "message": {"text": message_text(_text(msg))},
        "descriptor": {"id": d.code or "input"},
    }
    if d.source:
        phys: dict[str, Any] = {"artifactLocation": artifact_location(d.source, uri_base_id)}
        if d.line >= 1:
            phys["region"] = _region(d.line, d.column)
        n["locations"] = [{"physicalLocation": phys}]
    props = {k: v for k, v in (("pointer", d.pointer), ("host", _clean(d.host))) if v}
    if props:
        n["properties"] = props
    return n


# Fingerprints remembered for the ":N" occurrence suffix (about 150 bytes each).
OCCURRENCE_LIMIT = 200_000


class SarifRenderer:
    """Streams one SARIF 2.1.0 log with one run."""

    shows_input_errors = False

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """Every outcome in the full profile (pass and notApplicable results)."""
        return Needs(full_outcomes=options.sarif_profile == "full")

    max_results = GITHUB_MAX_RESULTS

    def __init__(self, options: RenderOptions):
        self.full = options.sarif_profile == "full"
        self.base = options.uri_base_id
        self.header: ReportHeader | None = None
        self.rule_index: dict[str, int] = {}
        self.rules: dict[str, RuleInfo] = {}
        self.count = 0
        # Occurrences of each fingerprint: two records with the same host name give the
        # same one, and GitHub keeps the alerts apart by the ":N" suffix. Bounded: the
        # full profile has no result limit, so past OCCURRENCE_LIMIT fingerprints a
        # new one is not remembered (a repeat of it would get ":1" again).
        self._occurrences: dict[str, int] = {}
        self.dropped = 0
        self.waived_left_out = 0
        self.rejected: list[Diagnostic] = []

    # -- stream ---------------------------------------------------------------
    def start(self, header: ReportHeader) -> str:
        self.header = header
        self.rule_index = header.rule_index
        self.rules = {r.id: r for r in header.rules}
        category = header.category if header.category.endswith("/") else header.category + "/"
        run = {
            "tool": {
                "driver": {
                    "name": TOOL_NAME,
                    "fullName": TOOL_FULL_NAME,
                    "version": header.tool_version,
                    "semanticVersion": header.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": [rule_descriptor(r) for r in header.rules],
                }
            },
            "automationDetails": {
                "id": category,
                "description": {"text": message_text(f"sitegate readiness gate, target ITMS {header.target or 'current version of each host'}")},
            },
            "columnKind": "unicodeCodePoints",
        }
        run_text = _dumps(run)
        assert run_text.endswith("\n}")
        run_text = run_text[:-2] + ',\n  "results": ['
        return (
            "{\n"
            f'  "$schema": "{SARIF_SCHEMA}",\n'
            '  "version": "2.1.0",\n'
            '  "runs": [\n'
            "    " + run_text.replace("\n", "\n    ")
        )

    def host(self, result: HostResult) -> str:
        if result.rejected:
            self.rejected.extend(result.diagnostics[:MAX_NOTIFICATIONS])
            del self.rejected[MAX_NOTIFICATIONS:]
            return ""
        parts: list[str] = []
        if self.full and result.outcomes:
            by_rule = {f.rule_id: f for f in result.findings}
            for rid, code in zip(result.rule_ids, result.outcomes):
                if code == PASS or code == NOT_APPLICABLE:
                    self._emit(parts, self._pass_result(result, rid, code))
                elif rid in by_rule:
                    self._emit(parts, self._result(result, by_rule[rid]))
        else:
            for f in result.findings:
                if f.waived is not None and not self.full:
                    self.waived_left_out += 1
                    continue
                self._emit(parts, self._result(result, f))
        return "".join(parts)

    def finish(self, summary: Summary) -> str:
        assert self.header is not None, "start() was not called"
        notes: list[dict[str, Any]] = []
        seen: set[Diagnostic] = set()
        for d in (*summary.diagnostics, *self.rejected):
            if d in seen or len(notes) >= MAX_NOTIFICATIONS:
                continue
            seen.add(d)
            notes.append(notification(d, self.base))
        hidden = summary.diagnostics_total - len(summary.diagnostics)
        if hidden > 0:
            notes.append({"level": "warning", "message": {"text": f"{hidden} more input problem(s) are not listed (only the first {len(summary.diagnostics)} are kept)"}, "descriptor": {"id": "diagnostics-truncated"}})
        for n in summary.notices:
            notes.append({"level": "warning", "message": {"text": message_text(_text(n))}, "descriptor": {"id": "notice"}})
        if self.dropped:
            notes.append({
                "level": "warning",
                "message": {"text": (
                    f"{self.dropped} result(s) were left out: GitHub code scanning accepts at most {self.max_results:,} results per run. "
                    f"This log keeps the first {self.max_results:,} in input order (it is written while hosts are evaluated), not the most "
                    "severe. Split the inventory into several runs, each with its own --category, or raise --fail-on."
                )},
                "descriptor": {"id": "results-truncated"},
            })
        if self.header.target is None:
            notes.append({"level": "note", "message": {"text": NO_TARGET_NOTE}, "descriptor": {"id": "no-target"}})
        invocation = {
            "executionSuccessful": summary.exit_code != 2,
            "startTimeUtc": self.header.started_at,
            "endTimeUtc": summary.finished_at,
            "exitCode": summary.exit_code,
            "exitCodeDescription": summary.verdict,
            "toolExecutionNotifications": notes,
        }
        s = summary_dict(summary)
        del s["diagnostics"]
        overlays = {"overlays": header_dict(self.header)["run"]["overlays"]} if self.header.overlays else {}
        props = {
            "sitegate": {
                "profile": "full" if self.full else "github",
                "target": self.header.target,
                "fail_on": self.header.fail_on,
                "allow_unknown": self.header.allow_unknown,
                "category": self.header.category,
                "inputs": list(self.header.inputs),
                "extra_inputs": [{"kind": k, "path": p} for k, p in self.header.extra_inputs],
                **overlays,
                "packs": [f"{p.id}@{p.version}" for p in self.header.packs],
                "results": self.count,
                "results_dropped": self.dropped,
                "waived_left_out": self.waived_left_out,
                "summary": s,
            }
        }
        return (
            "\n      ],\n"
            '      "invocations": [\n        ' + _dumps(invocation, 8) + "\n      ],\n"
            '      "properties": ' + _dumps(_clean_tree(props), 6) + "\n"
            "    }\n"
            "  ]\n"
            "}\n"
        )

    # -- results --------------------------------------------------------------
    def _emit(self, parts: list[str], result: dict[str, Any]) -> None:
        if not self.full and self.count >= self.max_results:
            self.dropped += 1
            return
        parts.append(("\n        " if self.count == 0 else ",\n        ") + _dumps(result, 8))
        self.count += 1

    def _logical(self, r: HostResult) -> list[dict[str, Any]]:
        name = _clean(r.name)
        return [{"name": name, "fullyQualifiedName": f"{_clean(r.site) or '-'}/{_clean(r.notification_server) or '-'}/{name}", "kind": "resource"}]

    def _host_props(self, r: HostResult) -> dict[str, Any]:
        return {
            "host": _clean(r.name),
            "os": _clean(r.os),
            "roles": [_clean(x) for x in r.roles] if r.roles is not None else None,
            "site": _clean(r.site),
            "notification_server": _clean(r.notification_server),
            "target": r.target,
            "host_state": self._state(r),
        }

    def _state(self, r: HostResult) -> str:
        """The host's state (engine.verdict), from its findings when the result was made outside the engine."""
        if r.state:
            return r.state
        return host_state(r.findings, FailOn(self.header.fail_on).threshold() if self.header is not None else 2)

    def _line_hash(self, fp: str) -> str:
        """``first16hex:N``, N counting the results of this run with the same fingerprint."""
        seen = self._occurrences
        n = seen.get(fp, 0) + 1
        if n > 1 or len(seen) < OCCURRENCE_LIMIT:
            seen[fp] = n
        return f"{fp[:16]}:{n}"

    def _result(self, r: HostResult, f: Finding) -> dict[str, Any]:
        ev = f.evidence[0] if f.evidence else None
        observed = _show(ev.observed) if ev else "missing"
        expected = _short(ev.expected) if ev else ""
        setting = f.setting or (ev.fact if ev else "")
        msg = _text(f.message).rstrip()
        if r.name not in f.message:
            msg = f"{_text(r.name)}: {msg}"
        detail = f"Setting {setting}: observed {_text(observed)}; expected {_text(expected)}." if setting else f"Observed {_text(observed)}; expected {_text(expected)}."
        text = f"{msg}{'' if msg.endswith('.') else '.'} {detail}"
        collect = None
        if f.outcome.value == "unknown":
            # An unknown's fix is the missing fact, never the failure's remediation (the rule's help keeps that).
            collect = _text(collect_hint(f))
            text += f" To decide it: {collect}."
        fp = fingerprint(f.rule_id, r.name, f.setting)
        loc = f.location
        res: dict[str, Any] = {
            "ruleId": f.rule_id,
        }
        if f.rule_id in self.rule_index:
            res["ruleIndex"] = self.rule_index[f.rule_id]
        res["kind"] = "fail"
        res["level"] = LEVEL.get(f.severity, "warning")
        res["message"] = {"text": message_text(text)}
        res["locations"] = [{
            "physicalLocation": {
                "artifactLocation": artifact_location(loc.source or r.source, self.base),
                "region": _region(loc.line or r.line, loc.column),
            },
            "logicalLocations": self._logical(r),
        }]
        res["partialFingerprints"] = {"primaryLocationLineHash": self._line_hash(fp), FINGERPRINT_KEY: fp}
        res["fingerprints"] = {FINGERPRINT_KEY: fp}
        if f.baseline is not None:
            res["baselineState"] = f.baseline
        if f.waived is not None:
            w = f.waived
            res["suppressions"] = [{
                "kind": "external",
                "status": "accepted",
                "justification": _text(f"{w.reason} (waiver {w.waiver_id}, owner {w.owner}, expires {w.expires})"),
                "properties": {"waiver": w.waiver_id, "owner": w.owner, "expires": w.expires},
            }]
        props = self._host_props(r)
        props.update({
            "setting": setting,
            "pointer": loc.pointer,
            "observed": _clean(observed),
            "expected": _clean(expected),
            "confidence": f.confidence,
            "severity": f.severity,
            "outcome": f.outcome.value,
            "gating": f.gating,
        })
        if collect is not None:
            props["collect"] = collect
        if f.waived is not None:
            props["waiver"] = f.waived.waiver_id
        res["properties"] = props
        return res

    def _pass_result(self, r: HostResult, rule_id: str, code: int) -> dict[str, Any]:
        rule = self.rules.get(rule_id)
        title = rule.title if rule else rule_id
        if code == PASS:
            kind, text = "pass", f"{_text(r.name)}: '{title}' passes."
        else:
            kind, text = "notApplicable", f"{_text(r.name)}: '{title}' does not apply to this host{_why_na(rule, r)}."
        fp = fingerprint(rule_id, r.name, "")
        res: dict[str, Any] = {"ruleId": rule_id}
        if rule_id in self.rule_index:
            res["ruleIndex"] = self.rule_index[rule_id]
        res["kind"] = kind
        res["level"] = "none"
        res["message"] = {"text": message_text(text)}
        res["locations"] = [{
            "physicalLocation": {"artifactLocation": artifact_location(r.source, self.base), "region": _region(r.line, 1)},
            "logicalLocations": self._logical(r),
        }]
        res["partialFingerprints"] = {"primaryLocationLineHash": self._line_hash(fp), FINGERPRINT_KEY: fp}
        props = self._host_props(r)
        props["outcome"] = "pass" if code == PASS else "not_applicable"
        if rule is not None:
            props["confidence"] = rule.confidence
        res["properties"] = props
        return res


def _why_na(rule: RuleInfo | None, r: HostResult) -> str:
    if rule is not None and rule.roles and r.roles is not None and not set(rule.roles) & set(r.roles):
        return f" (it applies to {', '.join(rule.roles)}; the host's roles: {', '.join(r.roles) or 'none'})"
    return " (its applicability condition does not hold)"


def _clean_tree(o: Any) -> Any:
    if isinstance(o, str):
        return _clean(o)
    if isinstance(o, dict):
        return {k: _clean_tree(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_tree(v) for v in o]
    return o


RENDERER = SarifRenderer
