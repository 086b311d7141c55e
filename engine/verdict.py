"""Host and fleet verdicts in words an upgrade decision can use.

A host is READY (nothing found), READY WITH WARNINGS (findings, none of which
gates), NOT READY (a failure or error at or above ``--fail-on``) or CANNOT TELL
(nothing fails, but a fact a gating rule needs is missing). ``sitegate plan``
says BLOCKED where ``check`` says NOT READY: same condition, the plan's word for
a host an upgrade cannot start on. Exit codes do not depend on these words.
Pure functions of findings (engine.model): renderers may import this module.
"""
from __future__ import annotations

from typing import Iterable

from .model import SEVERITY_RANK, Finding, Outcome

READY = "READY"
READY_WITH_WARNINGS = "READY WITH WARNINGS"
NOT_READY = "NOT READY"
BLOCKED = "BLOCKED"
CANNOT_TELL = "CANNOT TELL"

#: Said once on stderr and in every output's header when check or audit runs without --target.
NO_TARGET_NOTE = (
    "no --target: each host was checked against its current ITMS version (platform.itms_version), "
    "not an upgrade target; an upgrade gate needs --target VERSION or sitegate plan --to VERSION"
)

#: Check's states, best first (plan uses BLOCKED for NOT READY).
CHECK_STATES = (READY, READY_WITH_WARNINGS, NOT_READY, CANNOT_TELL)
PLAN_STATES = (READY, READY_WITH_WARNINGS, BLOCKED, CANNOT_TELL)


def would_gate(finding: Finding, threshold: int) -> bool:
    """Whether the finding's severity is at or above --fail-on (whatever --allow-unknown says)."""
    return SEVERITY_RANK.get(finding.severity, 0) >= threshold


def host_state(findings: Iterable[Finding], threshold: int, *, blocked_word: str = NOT_READY) -> str:
    """The state of one host from its findings at the target.

    ``threshold`` is ``FailOn.threshold()``. A waived finding never blocks; an
    unknown one at or above the threshold makes the host CANNOT TELL (even with
    --allow-unknown, which only keeps it from failing the gate).
    """
    blocked = unknown = other = False
    for f in findings:
        if f.waived is not None:
            other = True
            continue
        if f.outcome is Outcome.UNKNOWN:
            if would_gate(f, threshold):
                unknown = True
            else:
                other = True
        elif f.gating:
            blocked = True
        else:
            other = True
    if blocked:
        return blocked_word
    if unknown:
        return CANNOT_TELL
    return READY_WITH_WARNINGS if other else READY
