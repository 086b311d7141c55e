"""The JSON report (v2): everything, in a stable key order, one host per line.

Documented by ``schemas/report.v2.schema.json``. Written incrementally: the
hosts array is streamed and the summary (with the exit code) comes last. Lean:
what the header says (rules, how to collect each fact, the run's one input,
target and packs) is not repeated per host or finding, no value is null, and no
message is rendered (the formats that show messages render them); each finding
keeps its evidence. Host lines are orjson's UTF-8 bytes, written as they are.
:func:`header_dict` and :func:`summary_dict` keep v1's shape for SARIF's run
properties.
"""
from __future__ import annotations

from typing import Any

import orjson

from ...base.diagnostics import Diagnostic
from ..model import MISSING, OUTCOME_NAMES, Evidence, FailOn, Finding, HostResult, ReportHeader, Summary, fingerprint
from ..verdict import NO_TARGET_NOTE, host_state
from . import Needs, RenderOptions
from .text import escape_surrogates

REPORT_SCHEMA = "sitegate/report/v2"


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


def finding_dict(f: Finding, host: str, evidence: Any = None, *, source: str = "", rules: dict[str, tuple[str, str]] | None = None, fingerprints: bool = False) -> dict[str, Any]:
    """One finding, v2: what the rules table does not already say, and its evidence
    (``evidence``: its JSON already made, if at hand).

    ``source`` is the host's: the finding's location names a file only when it is another
    one. ``rules`` (rule id -> (severity, confidence)) is the report's rules table: a
    finding repeats neither unless it differs. The setting and pointer are those of the
    first evidence, written only when they differ; the fingerprint is recomputed from rule,
    host and setting (:func:`~sitegate.engine.model.fingerprint`), written only with
    ``fingerprints`` (a name escaped on the way out, which a reader could not recompute from).
    """
    # One unpacking instead of eleven attribute reads (this runs for every finding of a fleet).
    rule_id, outcome, severity, confidence, _, ev, loc, setting, gating, w, baseline = f
    d: dict[str, Any] = {"rule_id": rule_id, "outcome": outcome, "gating": gating}
    known = rules.get(rule_id) if rules is not None else None
    if known is None or known[0] != severity:
        d["severity"] = severity
    if known is None or known[1] != confidence:
        d["confidence"] = confidence
    if loc[0] != source:
        d["source"] = loc[0]
    d["line"] = loc[1]
    d["column"] = loc[2]
    first = ev[0] if ev else None
    if loc[3] != (first.pointer if first is not None else ""):
        d["pointer"] = loc[3]
    if setting != (first.fact if first is not None else ""):
        d["setting"] = setting
    if fingerprints:
        d["fingerprint"] = fingerprint(rule_id, host, setting)
    d["evidence"] = [evidence_dict(e) for e in ev] if evidence is None else evidence
    if w is not None:
        d["waived"] = {"waiver": w.waiver_id, "reason": w.reason, "owner": w.owner, "expires": w.expires}
    if baseline is not None:
        d["baseline"] = baseline
    return d


def evidence_dict(e: Evidence) -> dict[str, Any]:
    """One evidence item, v2: ``observed`` left out for a missing fact, ``detail`` and
    ``label`` when empty."""
    fact, pointer, observed, expected, op, outcome, detail, label = e
    d: dict[str, Any] = {"fact": fact, "pointer": pointer}
    if observed is not MISSING and observed is not None:
        d["observed"] = observed
    d["expected"] = expected
    d["op"] = op
    d["outcome"] = outcome
    if detail:
        d["detail"] = detail
    if label:
        d["label"] = label
    return d


_COUNT_NAMES = ("pass", "fail", "unknown", "error", "not_applicable")


def host_dict(
    r: HostResult, evidence_json: Any = None, outcomes: bool = True, *, only_input: str | None = None,
    target: str | None = None, target_packs: tuple[str, ...] | None = None,
    rules: dict[str, tuple[str, str]] | None = None, fingerprints: bool = False,
) -> dict[str, Any]:
    """One host result, v2 (``evidence_json``: evidence -> its JSON, a cache; ``outcomes``:
    add every rule's outcome, when the result carries them).

    What the run already says is left out: the source when it is the run's one input file
    (``only_input``: ``run.source``), the target and packs when they are the run's (``target``,
    ``target_packs``). A host with nothing found is its name, place, state and counts; the
    host's context (OS, roles, site, Notification Server) comes with findings or diagnostics.
    """
    name, source, line, index, tgt, packs, os_, roles, site, ns, c, findings, rule_ids, codes, rejected, diagnostics, _, _, state = r
    d: dict[str, Any] = {"name": name}
    if source != only_input:
        d["source"] = source
    d["line"] = line
    d["index"] = index
    if rejected:
        d["rejected"] = True
    elif state:
        # The host's state (engine.verdict); none for a record that could not be evaluated.
        d["state"] = state
    if tgt is not None and tgt != target:
        d["target"] = tgt
    if packs and (target_packs is None or tgt != target or tuple(packs) != target_packs):
        d["packs"] = list(packs)
    if findings or diagnostics:
        if os_ is not None:
            d["os"] = os_
        if roles is not None:
            d["roles"] = list(roles)
        if site is not None:
            d["site"] = site
        if ns is not None:
            d["notification_server"] = ns
    if not rejected or any(c):
        d["counts"] = {k: n for k, n in zip(_COUNT_NAMES, c) if n}
    if findings:
        d["findings"] = (
            [finding_dict(f, name, source=source, rules=rules, fingerprints=fingerprints) for f in findings] if evidence_json is None
            else [finding_dict(f, name, evidence_json(f[5]), source=source, rules=rules, fingerprints=fingerprints) for f in findings]
        )
    if diagnostics:
        d["diagnostics"] = [diagnostic_dict(x) for x in diagnostics]
    if outcomes and codes:
        d["outcomes"] = {rid: OUTCOME_NAMES[c] for rid, c in zip(rule_ids, codes)}
    return d


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    """A diagnostic without its null host."""
    out = d.to_dict()
    if out["host"] is None:
        del out["host"]
    return out


def _lean(o: Any) -> Any:
    """``o`` without null values in its objects (the v2 report writes no nulls)."""
    if isinstance(o, dict):
        return {k: _lean(v) for k, v in o.items() if v is not None}
    if isinstance(o, (list, tuple)):
        return [_lean(v) for v in o]
    return o


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


def report_head(h: ReportHeader) -> dict[str, Any]:
    """The v2 report before its hosts: run, rules table and collect table, without nulls
    or empty lists (``extra_inputs``, a rule's ``references`` and ``tags``)."""
    d = _lean(header_dict(h))
    run = d["run"]
    if not run["extra_inputs"]:
        del run["extra_inputs"]
    if h.source is not None:
        run["source"] = h.source
    if h.target_packs:
        run["target_packs"] = list(h.target_packs)
    for r in d["rules"]:
        for key in ("references", "tags"):
            if not r[key]:
                del r[key]
    d["collect"] = dict(h.collect)
    return d


_HOST_SEPARATOR = b",\n    "


class JsonRenderer:
    """Streams the JSON report (v2: ``schemas/report.v2.schema.json``) as UTF-8 bytes."""

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
        # What the header already says, left out of each host (set by ``start``).
        self._only_input: str | None = None
        self._target: str | None = None
        self._target_packs: tuple[str, ...] | None = None
        self._rules: dict[str, tuple[str, str]] | None = None
        self.capacity = None
        if options.capacity:
            from ..capacity import CapacityAccumulator

            self.capacity = CapacityAccumulator()

    def bind(self, header: ReportHeader) -> None:
        """Take from the header what the hosts' JSON leaves out (what ``start`` does
        besides writing): a worker renderer is bound to the run's header this way."""
        self.threshold = FailOn(header.fail_on).threshold()
        self._only_input = header.source
        self._target = header.target
        self._target_packs = header.target_packs
        self._rules = {r.id: (r.severity, r.confidence) for r in header.rules}

    def start(self, header: ReportHeader) -> str:
        self.bind(header)
        head = _dumps({"schema": REPORT_SCHEMA, **report_head(header)}, indent=True)
        # Re-open the object to stream the hosts array into it.
        return head[:-2] + ',\n  "hosts": [\n'

    @property
    def fragments(self) -> bool:
        """Whether ``host`` is ``place(fragment(result))``: true unless the capacity view is on
        (that one accumulates every result in the renderer)."""
        return self.capacity is None

    def host(self, result: HostResult) -> str:
        return self.host_bytes(result).decode("utf-8")

    def host_bytes(self, result: HostResult) -> bytes:
        """``host`` as UTF-8 bytes, as orjson makes them (what the CLI writes: no str between)."""
        if self.capacity is not None:
            self.capacity.add_result(result)
        return self.place(self.fragment(result))

    def fragment(self, result: HostResult) -> bytes:
        """The host's JSON (UTF-8), a function of the header given to ``bind``/``start`` and
        the result alone (--jobs workers make it)."""
        if not result.state and not result.rejected:
            # A result made outside the engine's evaluation: its state from its findings.
            result = result._replace(state=host_state(result.findings, self.threshold))
        try:
            return orjson.dumps(self._host(result, False), default=_default)
        except orjson.JSONEncodeError:
            # A lone surrogate in a name or path, written escaped: the fingerprints of its
            # findings could not be recomputed from the escaped name, so they are written.
            return orjson.dumps(_escaped(self._host(result, True)), default=_default)

    def _host(self, result: HostResult, fingerprints: bool) -> dict[str, Any]:
        return host_dict(
            result, None if fingerprints else self._evidence_json, self.outcomes, only_input=self._only_input,
            target=self._target, target_packs=self._target_packs, rules=self._rules, fingerprints=fingerprints,
        )

    def place(self, fragment: bytes) -> bytes:
        """The bytes ``host`` writes for a fragment: separated from the host before it."""
        prefix = b"    " if self.first else _HOST_SEPARATOR
        self.first = False
        return prefix + fragment

    def join(self, fragments: list[bytes]) -> bytes:
        """Fragments of consecutive hosts as one, separated as ``place`` separates them."""
        return _HOST_SEPARATOR.join(fragments)

    def _evidence_json(self, evidence: tuple[Any, ...]) -> orjson.Fragment:
        hit = self._evidence.get(id(evidence))
        if hit is not None and hit[0] is evidence:
            return hit[1]
        frag = orjson.Fragment(orjson.dumps([evidence_dict(e) for e in evidence], default=_default))
        if len(self._evidence) >= 2048:  # bounded: evidence of long lists runs to a few KB
            self._evidence.clear()
        self._evidence[id(evidence)] = (evidence, frag)
        return frag

    def finish(self, summary: Summary) -> str:
        body = _dumps(_lean(summary_dict(summary)), indent=True).replace("\n", "\n  ")
        cap = ""
        if self.capacity is not None:
            cap = ',\n  "capacity": ' + _dumps(_lean(self.capacity.finish().to_dict()), indent=True).replace("\n", "\n  ")
        return ("\n" if not self.first else "") + "  ]" + cap + ',\n  "summary": ' + body + "\n}\n"
