"""The typed result model. It alone decides the exit code.

A report is a header (what was evaluated, with what), a stream of host
results, and a summary computed as the stream is consumed. The per-host
records (HostResult, Finding, Location) are typed NamedTuples: immutable like
frozen dataclasses, but built about five times faster, which is most of the
difference at 250,000 hosts with several findings each (benchmarks/). Renderers are pure
functions of these three. Exit codes: 0 compliant, 1 findings at or above
``--fail-on``, 2 bad input or usage (including zero hosts read and any
rejected record), whatever the output format.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, NamedTuple

from ..base.diagnostics import Diagnostic

TOOL_NAME = "sitegate"
TOOL_FULL_NAME = "sitegate ITMS site-server readiness gate"
INFORMATION_URI = "https://github.com/sitegate/sitegate"

# The outcome of a (host, rule) pair as the compiled rules return it (an int, for
# speed), and its spelling in reports.
PASS, FAIL, UNKNOWN, ERROR, NOT_APPLICABLE = 0, 1, 2, 3, 4
OUTCOME_NAMES = ("pass", "fail", "unknown", "error", "not_applicable")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"

    def __reduce__(self) -> str:
        # Unpickled (worker processes) as the one module-level sentinel, so `is MISSING` holds.
        return "MISSING"


MISSING: Any = _Missing()


class Evidence(NamedTuple):
    """Why a comparison did not pass: the fact, what was seen, what was expected.

    A typed NamedTuple like the other per-host records (engine.model): cheap to
    build and, for --jobs, to pickle and unpickle.
    """

    fact: str
    pointer: str
    observed: Any
    expected: str
    op: str
    outcome: str  # an OUTCOME_NAMES entry: the report's spelling
    detail: str = ""
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping in a stable key order."""
        return {
            "fact": self.fact,
            "pointer": self.pointer,
            "observed": None if self.observed is MISSING else self.observed,
            "expected": self.expected,
            "op": self.op,
            "outcome": self.outcome,
            "detail": self.detail,
            "label": self.label,
        }


def show(v: Any) -> str:
    """A fact value as messages and reports show it (missing, true, a list joined)."""
    if v is MISSING or v is None:
        return "missing"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple, frozenset, set)):
        items = [str(x) for x in v]
        return ", ".join(items[:20]) + (", ..." if len(items) > 20 else "") if items else "none"
    return str(v)


def fingerprint(rule_id: str, host: str, setting: str) -> str:
    """A finding's stable identity: sha256 of rule, host and setting (not value, not line).

    Encoded as UTF-8 with lone surrogates (valid JSON escapes in a facts file) kept
    as they are, so every host name has one; for any other text this is plain UTF-8.
    Baselines, the JSON report and SARIF all use this one function.
    """
    return hashlib.sha256(f"{rule_id}|{host}|{setting}".encode("utf-8", "surrogatepass")).hexdigest()


class Outcome(str, Enum):
    """The one outcome each (host, rule) pair gets."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"

    @classmethod
    def from_code(cls, code: int) -> "Outcome":
        """From the int code compiled rules return."""
        return cls(OUTCOME_NAMES[code])


class FailOn(str, Enum):
    """The lowest severity that fails the gate."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    NEVER = "never"

    def threshold(self) -> int:
        """Severity rank at or above which findings gate (3 = nothing gates)."""
        return {"note": 0, "warning": 1, "error": 2, "never": 3}[self.value]


SEVERITY_RANK = {"note": 0, "warning": 1, "error": 2}


class Location(NamedTuple):
    """Where in an input file a finding points."""

    source: str
    line: int
    column: int
    pointer: str


@dataclass(frozen=True, slots=True)
class Waived:
    """The waiver that covers a finding."""

    waiver_id: str
    reason: str
    owner: str
    expires: str


class Finding(NamedTuple):
    """A (host, rule) pair that did not pass, with its evidence.

    ``text`` is the message, or what it is made of until an output asks for it:
    the engine gives ``(PendingMessage, host name)`` (engine/messages.py), since
    most audits write the JSON report, which has no message. Read the message as
    :attr:`message`; two findings with the same message compare equal whichever
    form ``text`` has.
    """

    rule_id: str
    outcome: Outcome
    severity: str
    confidence: str
    text: Any  # str, or (PendingMessage, host): read .message
    evidence: tuple[Evidence, ...]
    location: Location
    setting: str
    gating: bool
    waived: Waived | None = None
    baseline: str | None = None  # "new" or "unchanged" when a baseline was given

    @property
    def message(self) -> str:
        """The finding's message (written now if it was pending)."""
        t = self.text
        if type(t) is str:
            return t
        return t[0].render(t[1])

    def fingerprint(self, host: str) -> str:
        """Stable identity of the finding: rule, host and setting (:func:`fingerprint`)."""
        return fingerprint(self.rule_id, host, self.setting)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Finding:
            return NotImplemented
        return self[:4] == other[:4] and self[5:] == other[5:] and self.message == other.message

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self[:4], self.message, self[5:]))


class HostResult(NamedTuple):
    """Everything evaluated for one host record (or why it was rejected)."""

    name: str
    source: str
    line: int
    index: int  # type: ignore[assignment]  # the record's position in its file (shadows tuple.index on purpose)
    target: str | None
    packs: tuple[str, ...]
    os: str | None
    roles: tuple[str, ...] | None
    site: str | None
    notification_server: str | None
    counts: tuple[int, int, int, int, int]  # pass, fail, unknown, error, not_applicable
    findings: tuple[Finding, ...]
    rule_ids: tuple[str, ...] = ()
    outcomes: tuple[int, ...] = ()  # aligned with rule_ids when full outcomes were asked for
    rejected: bool = False
    diagnostics: tuple[Diagnostic, ...] = ()
    facts: dict[str, Any] | None = None  # kept only when a renderer asks (capacity view)
    capacity: Any = None  # engine.capacity.CapacityRecord when Options.capacity (a few scalars, not the facts)
    #: engine.verdict: READY, READY WITH WARNINGS, NOT READY or CANNOT TELL ("" for a rejected record),
    #: decided where the host was evaluated and again when waivers or a baseline change its findings.
    state: str = ""

    @property
    def gating(self) -> int:
        """Number of findings that fail the gate."""
        return sum(1 for f in self.findings if f.gating)


@dataclass(frozen=True)
class RuleInfo:
    """A rule's documentation as reports show it."""

    id: str
    name: str
    title: str
    description: str
    rationale: str
    severity: str
    confidence: str
    source: str
    references: tuple[str, ...]
    remediation: str
    tags: tuple[str, ...]
    roles: tuple[str, ...] | None
    pack: str
    pack_version: str

    @property
    def help_text(self) -> str:
        """Plain-text help (SARIF help.text)."""
        return help_text(self)

    @property
    def help_markdown(self) -> str:
        """Help in Markdown (SARIF help.markdown)."""
        return help_markdown(self)


def _v(x: object) -> str:
    """An enum's value, or the string itself (Rule has enums, model.RuleInfo plain strings)."""
    return str(getattr(x, "value", x))


def help_markdown(rule: Any) -> str:
    """A rule's help in Markdown (SARIF help.markdown), from its own documentation: a
    policy Rule or a RuleInfo (anything with their documentation fields)."""
    parts = [f"**{rule.title}** ({_v(rule.severity)}, confidence {_v(rule.confidence)})", "", rule.description.strip()]
    if rule.rationale:
        parts += ["", f"*Why:* {rule.rationale.strip()}"]
    parts += ["", f"**Remediation:** {rule.remediation.strip()}", "", f"**Source:** <{rule.source}>"]
    for ref in rule.references:
        parts.append(f"- <{ref}>")
    if rule.roles:
        parts += ["", "Applies to roles: " + ", ".join(rule.roles)]
    return "\n".join(parts)


def help_text(rule: Any) -> str:
    """Plain-text help (SARIF help.text)."""
    text = f"{rule.description.strip()}\nRemediation: {rule.remediation.strip()}\nSource: {rule.source} (confidence {_v(rule.confidence)})"
    for ref in rule.references:
        text += f"\nSee also: {ref}"
    return text


@dataclass(frozen=True)
class PackInfo:
    """A policy pack as used in a run (provenance)."""

    id: str
    version: str
    title: str
    applies_to: str
    path: str
    digest: str
    bundled: bool
    chain: tuple[str, ...]


@dataclass(frozen=True)
class OverlayInfo:
    """A ``--data`` overlay applied in a run (provenance): which file, its sha256, the pack
    tables it changed (``table@pack``) and the ids of the rules that read them."""

    path: str
    digest: str
    tables: tuple[str, ...]
    rules: tuple[str, ...]

    def describe(self) -> str:
        """One line for people: the file, its digest, what it changed."""
        rules = ", ".join(self.rules) or "none"
        return f"data overlay {self.path} (sha256 {self.digest}) changed table(s) {', '.join(self.tables)}; rules reading them: {rules}"


@dataclass(frozen=True)
class ReportHeader:
    """What is known before the first host is evaluated."""

    tool_version: str
    started_at: str
    target: str | None
    fail_on: str
    allow_unknown: bool
    inputs: tuple[str, ...]
    packs: tuple[PackInfo, ...]
    rules: tuple[RuleInfo, ...]
    category: str
    extra_inputs: tuple[tuple[str, str], ...] = ()  # (kind, path@digest): overlays, waivers, baselines
    overlays: tuple[OverlayInfo, ...] = ()  # the --data overlays applied, with the rules they changed
    #: With a target: the packs it selects ('id@version'), which every host checked at that
    #: target is evaluated against (HostResult.packs); empty without a target.
    target_packs: tuple[str, ...] = ()
    #: With one input: the source its records name when it is one file (facts.load.display_name),
    #: which the JSON report writes once; None with several inputs.
    source: str | None = None
    #: (fact, how to supply it) for every fact the rules read, as evidence names it
    #: (engine.unknowns.how_to_collect): what an unknown finding's missing fact needs.
    collect: tuple[tuple[str, str], ...] = ()

    @property
    def rule_index(self) -> dict[str, int]:
        """Rule id -> index in ``rules`` (SARIF ruleIndex)."""
        return {r.id: i for i, r in enumerate(self.rules)}


@dataclass(frozen=True)
class Summary:
    """Totals, known once every host has been evaluated. Holds the exit code."""

    finished_at: str
    hosts_read: int
    hosts_evaluated: int
    hosts_rejected: int
    hosts_compliant: int
    outcomes: dict[str, int]
    failing_by_severity: dict[str, int]
    findings_by_rule: dict[str, int]
    gating_findings: int
    waived_findings: int
    diagnostics: tuple[Diagnostic, ...]
    diagnostics_total: int
    notices: tuple[str, ...]
    exit_code: int
    waivers: tuple[dict[str, Any], ...] = ()
    fixed: tuple[dict[str, Any], ...] = ()
    #: Hosts per state (engine.verdict.CHECK_STATES): READY, READY WITH WARNINGS, NOT READY, CANNOT TELL.
    states: dict[str, int] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """The fleet's state: READY, READY WITH WARNINGS, NOT READY, CANNOT TELL, or INVALID INPUT (exit code 2).

        It follows the exit code: 0 is READY (or READY WITH WARNINGS when a host has
        findings that do not gate), 1 is NOT READY (CANNOT TELL when only missing
        facts fail the gate), 2 is INVALID INPUT.
        """
        if self.exit_code == 2:
            return "INVALID INPUT"
        if self.exit_code == 1:
            if not self.states.get("NOT READY") and self.states.get("CANNOT TELL"):
                return "CANNOT TELL"
            return "NOT READY"
        if self.states.get("READY WITH WARNINGS") or self.states.get("CANNOT TELL"):
            return "READY WITH WARNINGS"
        return "READY"

    @property
    def input_errors(self) -> int:
        """Number of error-level input diagnostics."""
        return sum(1 for d in self.diagnostics if d.level.value == "error")


def decide_exit_code(
    *,
    input_errors: int,
    hosts_evaluated: int,
    gating_findings: int,
    policy_errors: int = 0,
    expired_waivers: int = 0,
) -> int:
    """The gate: 2 for bad input (or nothing evaluated), 1 for gating findings, else 0."""
    if input_errors or policy_errors or hosts_evaluated == 0:
        return 2
    if gating_findings or expired_waivers:
        return 1
    return 0


@dataclass
class Report:
    """A complete, materialised report (library use, tests, renderers that need all)."""

    header: ReportHeader
    hosts: list[HostResult]
    summary: Summary

    @property
    def exit_code(self) -> int:
        """The process exit code this report calls for."""
        return self.summary.exit_code


@dataclass
class ReportStream:
    """A report whose hosts are produced lazily; ``summary`` is set when they are exhausted."""

    header: ReportHeader
    hosts: Iterator[HostResult]
    _summary: list[Summary] = field(default_factory=list)

    @property
    def summary(self) -> Summary:
        """The summary (only after ``hosts`` has been consumed)."""
        if not self._summary:
            raise RuntimeError("summary read before every host was evaluated")
        return self._summary[0]

    def materialise(self) -> Report:
        """Consume the stream into a Report."""
        hosts = list(self.hosts)
        return Report(self.header, hosts, self.summary)
