"""How to evaluate and gate: the options of one evaluation, and the part a worker needs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from ..base.diagnostics import Diagnostic
from .model import FailOn, OverlayInfo


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
    overlays: tuple[OverlayInfo, ...] = ()  # --data overlays applied (report provenance)
    waivers: Any = None  # an object with match(host, finding) -> Waived | None and report() -> list
    baseline: frozenset[str] | None = None  # fingerprints of the previous run's findings
    preload_diagnostics: tuple[Diagnostic, ...] = ()  # warnings from policy loading etc.
    capacity: bool = False  # carry a small capacity record on each HostResult (engine.capacity)


@dataclass(frozen=True)
class EvalSettings:
    """The picklable part of Options a worker process needs."""

    target: str | None
    threshold: int
    allow_unknown: bool
    locate: bool
    full_outcomes: bool
    keep_facts: bool
    capacity: bool
    audit_date: str

    @classmethod
    def from_options(cls, options: Options) -> "EvalSettings":
        audit_date = options.audit_date or options.now().astimezone(timezone.utc).date().isoformat()
        return cls(options.target, options.fail_on.threshold(), options.allow_unknown, options.locate,
                   options.full_outcomes, options.keep_facts, options.capacity, audit_date)
