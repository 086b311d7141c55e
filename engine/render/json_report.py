"""The JSON report: everything, in a stable key order, one host per line.

Documented by ``schemas/report.v1.schema.json``. Written incrementally: the
hosts array is streamed and the summary (with the exit code) comes last.
"""
from __future__ import annotations

from typing import Any

import orjson

from ..model import MISSING, OUTCOME_NAMES, FailOn, Finding, HostResult, Outcome, ReportHeader, Summary, fingerprint
from ..unknowns import collect_hint
from ..verdict import NO_TARGET_NOTE, host_state
from . import Needs, RenderOptions
from .text import escape_surrogates

REPORT_SCHEMA = "sitegate/report/v1"


def _default(o: Any) -> Any:
    if o is MISSING:
        return None
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(type(o).__name__)


def _dumps(o: Any, indent: bool = False) -> str:
    opt = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return _orjson(o, opt).decode()


def _orjson(o: Any, option: int = 0) -> bytes:
    """orjson's bytes; a lone surrogate (a host name from a JSON escape, a file name's
    undecodable byte), which orjson refuses, is written escaped as every format shows it."""
    try:
        return orjson.dumps(o, default=_default, option=option)
    except orjson.JSONEncodeError:
        return orjson.dumps(_escaped(o), default=_default, option=option)


def _escaped(o: Any) -> Any:
    """``o`` with every string's lone surrogates escaped (the rare path: only after orjson refused)."""
    if isinstance(o, str):
        return escape_surrogates(o)
    if isinstance(o, dict):
        return {_escaped(k): _escaped(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [_escaped(v) for v in o]
    return o


def header_dict(h: ReportHeader) -> dict[str, Any]:
    """The run and rules part of the report."""
    d = _header_dict(h)
    if h.overlays:
        # Which rules an overlay changed: present when --data was given.
        d["run"]["overlays"] = [{"path": o.path, "sha256": o.digest, "tables": list(o.tables), "rules": list(o.rules)} for o in h.overlays]
    if h.target is None:
        d["run"]["note"] = NO_TARGET_NOTE
    return d


def _header_dict(h: ReportHeader) -> dict[str, Any]:
    return {
        "tool": {"name": "sitegate", "version": h.tool_version},
        "run": {
            "started_at": h.started_at,
            "target": h.target,
            "fail_on": h.fail_on,
            "allow_unknown": h.allow_unknown,
            "category": h.category,
            "inputs": list(h.inputs),
            "extra_inputs": [{"kind": k, "path": p} for k, p in h.extra_inputs],
            "packs": [
                {"id": p.id, "version": p.version, "title": p.title, "applies_to": p.applies_to, "path": p.path, "sha256": p.digest, "bundled": p.bundled, "chain": list(p.chain)}
                for p in h.packs
            ],
        },
        "rules": [
            {
                "id": r.id, "name": r.name, "title": r.title, "severity": r.severity, "confidence": r.confidence,
                "source": r.source, "pack": r.pack, "roles": list(r.roles) if r.roles else None,
                "description": r.description, "remediation": r.remediation, "references": list(r.references), "tags": list(r.tags),
            }
            for r in h.rules
        ],
    }


def finding_dict(f: Finding, host: str, evidence: Any = None) -> dict[str, Any]:
    """One finding with its evidence (``evidence``: its JSON already made, if at hand)."""
    # One unpacking instead of eleven attribute reads (this runs for every finding of a fleet).
    rule_id, outcome, severity, confidence, message, ev, loc, setting, gating, w, baseline = f
    return {
        "rule_id": rule_id,
        "outcome": outcome,
        "severity": severity,
        "confidence": confidence,
        "gating": gating,
        "message": message,
        "setting": setting,
        "fingerprint": fingerprint(rule_id, host, setting),
        "location": {"source": loc[0], "line": loc[1], "column": loc[2], "pointer": loc[3]},
        "evidence": [e.to_dict() for e in ev] if evidence is None else evidence,
        "waived": None if w is None else {"waiver": w.waiver_id, "reason": w.reason, "owner": w.owner, "expires": w.expires},
        "baseline": baseline,
        # An unknown's fix: which fact is missing and how to collect it (the rule's remediation is a failure's).
        "collect": collect_hint(f) if outcome is Outcome.UNKNOWN else None,
    }


def host_dict(r: HostResult, evidence_json: Any = None, outcomes: bool = True) -> dict[str, Any]:
    """One host result (``evidence_json``: finding -> its evidence's JSON, a cache;
    ``outcomes``: add every rule's outcome, when the result carries them)."""
    name, source, line, index, target, packs, os_, roles, site, ns, c, findings, rule_ids, codes, rejected, diagnostics, _, _, state = r
    d: dict[str, Any] = {
        "name": name,
        "source": source,
        "line": line,
        "index": index,
        "rejected": rejected,
        # The host's state (engine.verdict); None for a record that could not be evaluated.
        "state": None if rejected else state or None,
        "target": target,
        "packs": packs,
        "os": os_,
        "roles": roles,
        "site": site,
        "notification_server": ns,
        "counts": {"pass": c[0], "fail": c[1], "unknown": c[2], "error": c[3], "not_applicable": c[4]},
        "findings": [finding_dict(f, name) for f in findings] if evidence_json is None
        else [finding_dict(f, name, evidence_json(f[5])) for f in findings],
        "diagnostics": [d.to_dict() for d in diagnostics] if diagnostics else [],
    }
    if outcomes and codes:
        d["outcomes"] = {rid: OUTCOME_NAMES[c] for rid, c in zip(rule_ids, codes)}
    return d


def summary_dict(s: Summary) -> dict[str, Any]:
    """Totals, verdict and exit code."""
    return {
        "finished_at": s.finished_at,
        "verdict": s.verdict,
        "exit_code": s.exit_code,
        "hosts_read": s.hosts_read,
        "hosts_evaluated": s.hosts_evaluated,
        "hosts_rejected": s.hosts_rejected,
        "hosts_compliant": s.hosts_compliant,
        "states": dict(s.states),
        "outcomes": s.outcomes,
        "failing_by_severity": s.failing_by_severity,
        "findings_by_rule": s.findings_by_rule,
        "gating_findings": s.gating_findings,
        "waived_findings": s.waived_findings,
        "input_errors": s.input_errors,
        "diagnostics_total": s.diagnostics_total,
        "diagnostics": [d.to_dict() for d in s.diagnostics],
        "notices": list(s.notices),
        "waivers": list(s.waivers),
        "fixed": list(s.fixed),
    }


_HOST_SEPARATOR = ",\n    "


class JsonRenderer:
    """Streams the JSON report."""

    shows_input_errors = False

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """Every outcome in the full profile (hosts[].outcomes); capacity records for the capacity view."""
        return Needs(full_outcomes=options.sarif_profile == "full", capacity=options.capacity)

    def __init__(self, options: RenderOptions):
        self.first = True
        # The engine shares one evidence tuple among the hosts that failed a rule
        # the same way: its JSON is made once (keyed by identity, the tuple held
        # so the identity stays its own).
        self._evidence: dict[int, tuple[Any, orjson.Fragment]] = {}
        # Every rule's outcome per host only in the full profile: the report must not
        # change with the other outputs of the run (JUnit makes the engine keep them).
        self.outcomes = options.sarif_profile == "full"
        self.threshold = FailOn.ERROR.threshold()  # --fail-on's, from the header
        self.capacity = None
        if options.capacity:
            from ..capacity import CapacityAccumulator

            self.capacity = CapacityAccumulator()

    def start(self, header: ReportHeader) -> str:
        self.threshold = FailOn(header.fail_on).threshold()
        head = _dumps({"schema": REPORT_SCHEMA, **header_dict(header)}, indent=True)
        # Re-open the object to stream the hosts array into it.
        return head[:-2] + ',\n  "hosts": [\n'

    @property
    def fragments(self) -> bool:
        """Whether ``host`` is ``place(fragment(result))``: true unless the capacity view is on
        (that one accumulates every result in the renderer)."""
        return self.capacity is None

    def host(self, result: HostResult) -> str:
        if self.capacity is not None:
            self.capacity.add_result(result)
        return self.place(self.fragment(result))

    def fragment(self, result: HostResult) -> str:
        """The host's JSON, a function of the result alone (--jobs workers make it)."""
        if not result.state and not result.rejected:
            # A result made outside the engine's evaluation: its state from its findings.
            result = result._replace(state=host_state(result.findings, self.threshold))
        return _orjson(host_dict(result, self._evidence_json, self.outcomes)).decode()

    def place(self, fragment: str) -> str:
        """The text ``host`` writes for a fragment: separated from the host before it."""
        prefix = "    " if self.first else _HOST_SEPARATOR
        self.first = False
        return prefix + fragment

    def join(self, fragments: list[str]) -> str:
        """Fragments of consecutive hosts as one, separated as ``place`` separates them."""
        return _HOST_SEPARATOR.join(fragments)

    def _evidence_json(self, evidence: tuple[Any, ...]) -> orjson.Fragment:
        hit = self._evidence.get(id(evidence))
        if hit is not None and hit[0] is evidence:
            return hit[1]
        frag = orjson.Fragment(_orjson([e.to_dict() for e in evidence]))
        if len(self._evidence) >= 2048:  # bounded: evidence of long lists runs to a few KB
            self._evidence.clear()
        self._evidence[id(evidence)] = (evidence, frag)
        return frag

    def finish(self, summary: Summary) -> str:
        body = _dumps(summary_dict(summary), indent=True).replace("\n", "\n  ")
        cap = ""
        if self.capacity is not None:
            cap = ',\n  "capacity": ' + _dumps(self.capacity.finish().to_dict(), indent=True).replace("\n", "\n  ")
        return ("\n" if not self.first else "") + "  ]" + cap + ',\n  "summary": ' + body + "\n}\n"
