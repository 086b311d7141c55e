"""Counting a run into its summary: totals, waivers and baseline, and the exit code.

Every host is counted one way, by :meth:`Totals.add`, whether it was evaluated
here (an ``Evaluated``) or in a worker process that sent back only its
:class:`Tally`; a worker's block of hosts comes back as the block's own
:class:`Totals`, merged in input order (:meth:`Totals.merge`).
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from ..base.diagnostics import Code, Diagnostic, Level
from .header import iso_utc
from .model import HostResult, Outcome, Summary, decide_exit_code
from .options import Options
from .verdict import CHECK_STATES, host_state

if TYPE_CHECKING:
    from .evaluate import Evaluated

MAX_KEPT_DIAGNOSTICS = 1000


class CountedFinding(NamedTuple):
    """What the summary counts of a finding (the names are Finding's)."""

    rule_id: str
    outcome: Outcome
    severity: str
    gating: bool


class Counted(NamedTuple):
    """What the summary counts of a host result (the names are HostResult's): its
    outcomes and findings, and where the host is (duplicate names are counted too)."""

    rejected: bool
    counts: tuple[int, ...]
    findings: tuple[CountedFinding, ...]
    name: str
    source: str
    line: int
    state: str = ""  # engine.verdict: the host's state, decided where it was evaluated


class Tally(NamedTuple):
    """What the summary needs of one evaluated item, small to send between processes:
    shaped as the item (result, notes, read), so :meth:`Totals.add` counts either."""

    result: Counted | None
    notes: tuple[Diagnostic, ...]
    read: bool

    @classmethod
    def of(cls, ev: "Evaluated", threshold: int = 2) -> "Tally":
        """The tally of an evaluated item (``threshold``: --fail-on's, for the host's state)."""
        r = ev.result
        if r is None:
            return cls(None, ev.notes, ev.read)
        findings = tuple(CountedFinding(f.rule_id, f.outcome, f.severity, f.gating) for f in r.findings)
        state = "" if r.rejected else r.state or host_state(r.findings, threshold)
        return cls(Counted(r.rejected, r.counts, findings, r.name, r.source, r.line, state), ev.notes, ev.read)


class Totals:
    """The counts a summary is made of, for a stretch of hosts in input order.

    A ``--jobs`` worker keeps one per block of JSON Lines it evaluates and the
    main process merges them in input order (:meth:`merge`), so the summary is
    the one a single process would have counted. Waivers and baselines are only
    applied by :class:`SummaryBuilder`.
    """

    waivers: Any = None
    baseline: Any = None

    def __init__(self, diagnostics: Iterable[Diagnostic] = (), threshold: int = 2):
        self.threshold = threshold  # --fail-on's: a host's state depends on it
        self.states: Counter[str] = Counter()
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.diag_total = len(self.diagnostics)
        self.outcome_totals = [0, 0, 0, 0, 0]
        self.failing_by_sev: Counter[str] = Counter()
        self.by_rule: Counter[str] = Counter()
        self.hosts_read = self.hosts_evaluated = self.hosts_rejected = self.hosts_compliant = 0
        self.gating_total = self.waived_total = 0
        # Names of the hosts evaluated: name -> (source, line, position in input order) of
        # its first host; and those used more than once: name -> [hosts, source, line,
        # position] of its second. Results of two hosts with one name cannot be told apart.
        self.names: dict[str, tuple[str, int, int]] = {}
        self.duplicates: dict[str, list[Any]] = {}
        self._named = 0

    def _seen(self, name: str, source: str, line: int, pos: int | None = None) -> bool:
        """Record a host name; True when an earlier host had it."""
        if pos is None:
            pos = self._named
            self._named += 1
        if name not in self.names:
            self.names[name] = (source, line, pos)
            return False
        dup = self.duplicates.get(name)
        if dup is None:
            self.duplicates[name] = [2, source, line, pos]
        else:
            dup[0] += 1
        return True

    def merge(self, other: "Totals") -> None:
        """Add the counts of the hosts that came after these (``other`` has no waivers or baseline)."""
        offset = self._named
        theirs = other.names
        if self.names.keys().isdisjoint(theirs):
            # No name seen before (the usual case): the names, in order, in one C-level update.
            self.names.update({name: (source, line, offset + pos) for name, (source, line, pos) in theirs.items()})
        else:
            for name, (source, line, pos) in theirs.items():
                self._seen(name, source, line, offset + pos)
        for name, (n, source, line, pos) in other.duplicates.items():
            dup = self.duplicates.get(name)
            if dup is None:
                self.duplicates[name] = [n, source, line, offset + pos]
            else:
                dup[0] += n - 1
        self._named += other._named
        self.note(other.diagnostics)
        self.diag_total += other.diag_total - len(other.diagnostics)  # those it counted but did not keep
        ot, oo = self.outcome_totals, other.outcome_totals
        for i in range(5):
            ot[i] += oo[i]
        self.failing_by_sev.update(other.failing_by_sev)
        self.by_rule.update(other.by_rule)
        self.hosts_read += other.hosts_read
        self.hosts_evaluated += other.hosts_evaluated
        self.hosts_rejected += other.hosts_rejected
        self.hosts_compliant += other.hosts_compliant
        self.gating_total += other.gating_total
        self.waived_total += other.waived_total
        self.states.update(other.states)

    def note(self, ds: Iterable[Diagnostic]) -> None:
        """Count diagnostics; keep the first MAX_KEPT_DIAGNOSTICS."""
        kept = self.diagnostics
        for d in ds:
            self.diag_total += 1
            if len(kept) < MAX_KEPT_DIAGNOSTICS:
                kept.append(d)

    def add(self, ev: Evaluated | Tally) -> HostResult | None:
        """Account for one evaluated item, or the tally of one evaluated elsewhere (the
        two have the same shape); the (possibly waived) result to render, or None."""
        result, notes, read = ev
        if notes:
            self.note(notes)
        if result is None:
            return None
        self.hosts_read += read
        if result.rejected:
            self.hosts_rejected += 1
            return result  # type: ignore[return-value]
        duplicate = self._seen(result.name, result.source, result.line)
        waivers = self.waivers
        baseline = self.baseline
        if result.findings and (waivers is not None or baseline is not None):
            result = self._annotate(result, duplicate)  # type: ignore[arg-type]
        by_rule = self.by_rule
        gating_any = False
        fail = Outcome.FAIL
        for fd in result.findings:
            by_rule[fd.rule_id] += 1
            if fd.outcome is fail:
                self.failing_by_sev[fd.severity] += 1
            if fd.gating:
                self.gating_total += 1
                gating_any = True
        self._totals(result.counts, gating_any)
        self.states[result.state or host_state(result.findings, self.threshold)] += 1  # type: ignore[arg-type]
        return result  # type: ignore[return-value]

    def _annotate(self, result: HostResult, duplicate: bool = False) -> HostResult:
        """Waivers and baseline marks: only a :class:`SummaryBuilder` has any to apply."""
        return result

    def duplicate_diagnostics(self) -> list[Diagnostic]:
        """A warning per host name used more than once (the first MAX_KEPT_DIAGNOSTICS)."""
        out = []
        ordered = sorted(self.duplicates.items(), key=lambda kv: kv[1][3])  # input order, as one process sees it
        for name, (n, source, line, _) in ordered[:MAX_KEPT_DIAGNOSTICS]:
            out.append(Diagnostic(
                source, f"host name {name!r} is used by {n} hosts: their results cannot be told apart, and a baseline matches none of them",
                line, 1 if line else 0, host=name, level=Level.WARNING, code=Code.DUPLICATE_HOST,
            ))
        return out

    def _totals(self, c: tuple[int, ...], gating_any: bool) -> None:
        ot = self.outcome_totals
        ot[0] += c[0]
        ot[1] += c[1]
        ot[2] += c[2]
        ot[3] += c[3]
        ot[4] += c[4]
        self.hosts_evaluated += 1
        if not gating_any:
            self.hosts_compliant += 1


class SummaryBuilder(Totals):
    """Totals, waivers and baseline: applied to each result in input order, in the
    process that writes the report. ``add`` returns the result as reported."""

    def __init__(self, options: Options):
        super().__init__(options.preload_diagnostics, options.fail_on.threshold())
        self.options = options
        self.waivers = options.waivers
        self.baseline = options.baseline
        self.seen_fingerprints: set[str] = set()
        # Findings matched to the baseline per host name: when the name turns up again,
        # those matches were unsafe (which host was in the baseline?) and gate after all.
        self.matched: dict[str, int] = {}

    def _annotate(self, result: HostResult, duplicate: bool = False) -> HostResult:
        waivers = self.waivers
        baseline = self.baseline
        name = result.name
        if duplicate and baseline is not None:
            self.gating_total += self.matched.pop(name, 0)
        out = []
        for finding in result.findings:
            if waivers is not None:
                w = waivers.match(name, finding)
                if w is not None:
                    finding = _replace(finding, waived=w, gating=False)
                    self.waived_total += 1
            if baseline is not None:
                fp = finding.fingerprint(name)
                if fp in baseline and not duplicate:
                    self.seen_fingerprints.add(fp)
                    if finding.gating:
                        self.matched[name] = self.matched.get(name, 0) + 1
                    finding = _replace(finding, baseline="unchanged", gating=False)
                else:
                    # A second host of one name is never matched to the baseline.
                    finding = _replace(finding, baseline="new")
            out.append(finding)
        # A waived or baseline-unchanged finding no longer gates: the host's state follows.
        return _replace(result, findings=tuple(out), state=host_state(out, self.threshold))

    def finish(self) -> Summary:
        """The summary, with the exit code."""
        options = self.options
        diagnostics = self.diagnostics
        waivers = self.waivers
        baseline = self.baseline
        for d in self.duplicate_diagnostics():
            self.diag_total += 1
            if len(diagnostics) < MAX_KEPT_DIAGNOSTICS:
                diagnostics.append(d)
        waiver_report: tuple[dict[str, Any], ...] = tuple(waivers.report()) if waivers is not None else ()
        expired = sum(1 for w in waiver_report if w.get("status") == "expired")
        for w in waiver_report:
            if w.get("status") in ("expired", "unused"):
                self.diag_total += 1
                if len(diagnostics) < MAX_KEPT_DIAGNOSTICS:
                    diagnostics.append(Diagnostic(w.get("source", "waivers"), f"waiver {w.get('id')} is {w.get('status')}", w.get("line", 0), 1, level=Level.WARNING, code=Code(f"waiver-{w.get('status')}")))
        fixed: tuple[dict[str, Any], ...] = ()
        if baseline is not None and hasattr(baseline, "details"):
            fixed = tuple(d for fp, d in baseline.details.items() if fp not in self.seen_fingerprints)
        input_errors = sum(1 for d in diagnostics if d.level is Level.ERROR) + max(0, self.diag_total - len(diagnostics))
        notices: list[str] = []
        if self.hosts_read == 0 and self.hosts_rejected == 0:
            notices.append("no hosts were read: nothing was checked")
        if expired:
            # The one way to fail the gate with no gating finding: say so where the counts are.
            notices.append(f"{expired} waiver(s) expired: the gate fails until each is renewed or removed")
        exit_code = decide_exit_code(
            input_errors=input_errors + self.hosts_rejected,
            hosts_evaluated=self.hosts_evaluated,
            gating_findings=self.gating_total,
            expired_waivers=expired,
        )
        return Summary(
            finished_at=iso_utc(options.now()),
            hosts_read=self.hosts_read,
            hosts_evaluated=self.hosts_evaluated,
            hosts_rejected=self.hosts_rejected,
            hosts_compliant=self.hosts_compliant,
            outcomes={Outcome.from_code(i).value: self.outcome_totals[i] for i in range(5)},
            failing_by_severity={s: self.failing_by_sev.get(s, 0) for s in ("error", "warning", "note")},
            findings_by_rule=dict(sorted(self.by_rule.items())),
            gating_findings=self.gating_total,
            waived_findings=self.waived_total,
            diagnostics=tuple(diagnostics),
            diagnostics_total=self.diag_total,
            notices=tuple(notices),
            exit_code=exit_code,
            waivers=waiver_report,
            fixed=fixed,
            states={state: self.states.get(state, 0) for state in CHECK_STATES},
        )


def _replace(f: Any, **kw: Any) -> Any:
    return f._replace(**kw)
