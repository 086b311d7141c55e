"""The upgrade plan's data: what `sitegate plan` found, per host and for the fleet.

Plain data (no evaluator, no compiler), so renderers can import it. Built by
:mod:`sitegate.engine.plan`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..base.diagnostics import Diagnostic
    from .model import Report

#: How a rule's outcome moves from --from to --to.
NEWLY_FAILING = "newly_failing"  # pass or not applicable (or not in the packs) at --from, fails at --to
STILL_FAILING = "still_failing"  # fails at both
FIXED = "fixed"  # fails at --from, not at --to
FAILING = "failing"  # fails at --to; at --from unknown, or the host has no current version
TO_COLLECT = "to_collect"  # unknown at --to: a fact is missing

PLAN_SCHEMA_ID = "sitegate/plan/v1"

#: How each change reads in the plan's renderers.
CHANGE_WORDS = {
    NEWLY_FAILING: "newly failing",
    STILL_FAILING: "still failing",
    FAILING: "failing",
    TO_COLLECT: "to collect",
    FIXED: "fixed",
}
#: Hosts are listed worst first.
STATE_ORDER = {"BLOCKED": 0, "CANNOT TELL": 1, "READY WITH WARNINGS": 2, "READY": 3}


@dataclass(frozen=True)
class RuleChange:
    """One rule on one host, between --from and --to."""

    rule_id: str
    title: str
    severity: str
    confidence: str
    change: str  # NEWLY_FAILING, STILL_FAILING, FIXED, FAILING or TO_COLLECT
    blocking: bool  # a gating failure (or error) at --to
    outcome_from: str | None  # None: not evaluated at --from
    outcome_to: str | None
    message: str
    remediation: str
    missing: tuple[str, ...] = ()  # facts to collect
    waived: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form (plan schema, RuleChange)."""
        return {
            "rule_id": self.rule_id, "title": self.title, "severity": self.severity, "confidence": self.confidence,
            "change": self.change, "blocking": self.blocking, "outcome_from": self.outcome_from, "outcome_to": self.outcome_to,
            "message": self.message, "remediation": self.remediation, "missing": list(self.missing), "waived": self.waived,
        }


@dataclass(frozen=True)
class HostPlan:
    """One host's plan."""

    name: str
    source: str
    line: int
    from_version: str | None
    from_note: str  # why --from is unknown, or where it came from
    to_version: str
    state: str  # verdict.PLAN_STATES
    os: str | None
    roles: tuple[str, ...]
    changes: tuple[RuleChange, ...]
    rejected: bool = False
    diagnostics: tuple[str, ...] = ()

    def by_change(self, change: str) -> list[RuleChange]:
        """The host's rules with this change."""
        return [c for c in self.changes if c.change == change]

    @property
    def blocking(self) -> list[RuleChange]:
        """Rules that block this host's upgrade."""
        return [c for c in self.changes if c.blocking]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (plan schema, HostPlan)."""
        return {
            "name": self.name, "source": self.source, "line": self.line, "from": self.from_version, "from_note": self.from_note,
            "to": self.to_version, "state": self.state, "os": self.os, "roles": list(self.roles), "rejected": self.rejected,
            "diagnostics": list(self.diagnostics),
            "blocking": [c.rule_id for c in self.blocking],
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class WorkItem:
    """One entry of the ordered work list: what to do, on which hosts."""

    order: int
    kind: str  # "fix" (blocks hosts), "collect" (a fact is missing), "review" (a warning)
    rule_id: str
    title: str
    severity: str
    hosts: tuple[str, ...]
    action: str
    host_actions: tuple[tuple[str, str], ...] = ()  # (host, what to do there) where it differs per host

    def to_dict(self) -> dict[str, Any]:
        """JSON form (plan schema, WorkItem)."""
        return {"order": self.order, "kind": self.kind, "rule_id": self.rule_id, "title": self.title, "severity": self.severity,
                "hosts": list(self.hosts), "action": self.action,
                "host_actions": [{"host": h, "action": a} for h, a in self.host_actions]}


@dataclass
class FleetPlan:
    """The whole plan: header, hosts, summary, work list, exit code."""

    tool_version: str
    to_version: str
    from_version: str | None  # None: each host's platform.itms_version
    fail_on: str
    allow_unknown: bool
    inputs: tuple[str, ...]
    packs_to: tuple[str, ...]
    hosts: list[HostPlan] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    blockers: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)  # rule, title, severity, hosts
    work: list[WorkItem] = field(default_factory=list)
    hosts_without_from: int = 0
    hosts_rejected: int = 0
    diagnostics: tuple[str, ...] = ()
    exit_code: int = 0
    extra_inputs: tuple[tuple[str, str], ...] = ()
    #: The evaluation at --to: the report ``check --target TO`` gives (the HTML plan is that report
    #: with the plan on top). None when the plan was built without one or could not start.
    report: "Report | None" = field(default=None, repr=False, compare=False)
    #: What stopped the plan before a host was read (usage, policies, overlays, waivers): exit code 2.
    setup_errors: "tuple[Diagnostic, ...]" = ()

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON (schemas/plan.v1.schema.json)."""
        return {
            "schema": PLAN_SCHEMA_ID,
            "tool": {"name": "sitegate", "version": self.tool_version},
            "run": {"to": self.to_version, "from": self.from_version, "fail_on": self.fail_on, "allow_unknown": self.allow_unknown,
                    "inputs": list(self.inputs), "extra_inputs": [{"kind": k, "ref": v} for k, v in self.extra_inputs],
                    "packs": list(self.packs_to)},
            "summary": {
                "hosts": len(self.hosts), "states": dict(self.states), "hosts_without_from": self.hosts_without_from,
                "hosts_rejected": self.hosts_rejected, "exit_code": self.exit_code, "verdict": self.verdict,
                "blockers": [{"rule_id": r, "title": t, "severity": s, "hosts": list(h), "count": len(h)} for r, t, s, h in self.blockers],
            },
            "work": [w.to_dict() for w in self.work],
            "hosts": [h.to_dict() for h in self.hosts],
            "diagnostics": list(self.diagnostics),
        }

    @property
    def from_text(self) -> str:
        """What the hosts were compared from, in words."""
        return f"ITMS {self.from_version}" if self.from_version else "each host's current version (platform.itms_version)"

    def hosts_by_state(self) -> list[HostPlan]:
        """The hosts, worst state first, then by name."""
        return sorted(self.hosts, key=lambda h: (STATE_ORDER.get(h.state, 9), h.name))

    @property
    def verdict(self) -> str:
        """One line: can the fleet be upgraded to --to?"""
        if self.exit_code == 2:
            return "INVALID INPUT"
        if self.exit_code == 1:
            return "BLOCKED" if self.states.get("BLOCKED") else "CANNOT TELL"
        return "READY WITH WARNINGS" if self.states.get("READY WITH WARNINGS") or self.states.get("CANNOT TELL") else "READY"
