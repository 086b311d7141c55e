"""Evaluate hosts against the selected packs: the library API behind a run.

``evaluate(facts, policies, options) -> Report`` materialises everything;
``evaluate_stream`` yields host results one at a time and builds the summary
as it goes, so a fleet of any size runs in flat memory. :class:`HostEvaluator`
turns one input item into a result (the compiled rules are in
:mod:`~sitegate.engine.rules`, the counting in :mod:`~sitegate.engine.summary`).
"""
from __future__ import annotations

from itertools import compress
from typing import Any, Iterable, Iterator, NamedTuple

from ..base.diagnostics import Code, Diagnostic, Level
from ..facts.load import HostRecord, RawBlock, RawLine, Rejected, block_items, check_host, parse_raw_line
from .capacity import capacity_record
from .header import build_header, iso_utc
from .model import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNKNOWN,
    Finding,
    HostResult,
    Location,
    Outcome,
    Report,
    ReportHeader,
    ReportStream,
)
from .options import EvalSettings, Options
from .packs import PolicySet
from .rules import Evaluator, derived_needed
from .summary import SummaryBuilder
from .verdict import CANNOT_TELL, NOT_READY, READY, READY_WITH_WARNINGS


_ITEM_TYPES = frozenset({HostRecord, Rejected, RawLine, RawBlock})


def as_items(
    facts: Iterable[Any], expand_blocks: bool | None = None, derive_only: frozenset[str] | None = None,
) -> Iterator[HostRecord | Rejected | RawLine | RawBlock]:
    """Accept loader items, or plain dicts (library use) validated like a file's records.

    ``expand_blocks`` (the ``locate`` setting) reads each :class:`RawBlock`'s records
    here, for a single process; None passes blocks on to worker processes.
    ``derive_only``: the derived facts to compute for records read here (None: all).
    """
    for i, item in enumerate(facts):
        if type(item) in _ITEM_TYPES or isinstance(item, (HostRecord, Rejected, RawLine, RawBlock)):
            if expand_blocks is not None and type(item) is RawBlock:
                yield from block_items(item, locate=expand_blocks, derive_only=derive_only)
            else:
                yield item
        else:
            # A shallow copy: the engine adds "derived" and "context" to a record,
            # and a caller's own dicts must come back as they were given.
            yield check_host(dict(item) if type(item) is dict else item, "<memory>", i, pointer=f"/{i}", derive_only=derive_only)


def evaluate_stream(facts: Iterable[Any], policies: PolicySet, options: Options = Options()) -> ReportStream:
    """Evaluate lazily: iterate ``.hosts``, then read ``.summary``."""
    started = options.now()
    header = build_header(policies, options, iso_utc(started))
    stream = ReportStream(header, iter(()))
    stream.hosts = _run(facts, policies, options, header, stream)
    return stream


def evaluate(facts: Iterable[Any], policies: PolicySet, options: Options = Options()) -> Report:
    """Evaluate every host and return the complete report."""
    return evaluate_stream(facts, policies, options).materialise()


class Evaluated(NamedTuple):
    """What evaluating one input item gives: the host result (None for a file-level
    warning with no host), the diagnostics to note, and whether it counts as a host read."""

    result: HostResult | None
    notes: tuple[Diagnostic, ...]
    read: bool


_NO_COUNTS = (0, 0, 0, 0, 0)


class HostEvaluator:
    """Evaluates one input item (a record, a rejection, or a raw JSON Lines line) to a HostResult.

    Everything here is per host and independent of every other host, so it can
    run in worker processes; waivers, baselines and totals are applied by
    :class:`SummaryBuilder` in the process that writes the report.
    """

    def __init__(self, policies: PolicySet, settings: EvalSettings):
        self.ev = Evaluator(policies)
        self.s = settings
        #: The derived facts records read here need (the others are not computed).
        self.derive_only = derived_needed(policies, settings.target, keep_facts=settings.keep_facts, capacity=settings.capacity)
        self.contexts: dict[str, dict[str, Any]] = {}

    def evaluate(self, item: Any) -> Evaluated:
        """One item -> Evaluated(result, notes, read)."""
        if type(item) is RawLine:
            item = parse_raw_line(item, locate=self.s.locate, derive_only=self.derive_only)
        elif not isinstance(item, (HostRecord, Rejected)):
            raise TypeError(f"cannot evaluate {type(item).__name__}")
        if type(item) is Rejected:
            return self._rejected(item)
        return self._record(item)

    def _rejected(self, item: Rejected) -> Evaluated:
        diags = tuple(item.diagnostics)
        if item.index < 0 and all(d.level is Level.WARNING for d in item.diagnostics):
            return Evaluated(None, diags, False)
        result = HostResult(
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
            counts=_NO_COUNTS,
            findings=(),
            rejected=True,
            diagnostics=diags,
        )
        return Evaluated(result, diags, item.index >= 0)

    def _record(self, rec: HostRecord) -> Evaluated:  # noqa: C901 - the hot path, kept flat
        s = self.s
        warnings = tuple(rec.warnings)
        f = rec.facts
        platform = f.get("platform") or {}
        target = s.target or platform.get("itms_version")  # a validated record: a string or absent
        rs = self.ev.ruleset(target) if target else None
        if rs is None:
            msg = (
                f"no policy pack applies to ITMS {target}" if target
                else "no target version: pass --target or record platform.itms_version"
            )
            l, c = rec.locate("/platform/itms_version")
            d = Diagnostic(rec.source, msg, l, c, "/platform/itms_version", rec.name, code=Code.NO_TARGET)
            res = HostResult(rec.name, rec.source, rec.line, rec.index, target, (), None, None, None, None, _NO_COUNTS, (), rejected=True, diagnostics=(d,))
            return Evaluated(res, warnings + (d,), True)
        assert target is not None  # a rule set exists only for a target
        ctx = self.contexts.get(target)
        if ctx is None:
            ctx = self.contexts[target] = {"target": target, "audit_date": s.audit_date}
        f["context"] = ctx
        derived = f["derived"]
        roles = derived.get("roles")
        plan = rs.plan(roles)
        codes = plan.run(f)
        n_pass = codes.count(PASS)
        n_na = codes.count(NOT_APPLICABLE)
        n_fail = codes.count(FAIL)
        n_unknown = codes.count(UNKNOWN)
        counts = (n_pass, n_fail, n_unknown, len(codes) - n_pass - n_na - n_fail - n_unknown, n_na + plan.not_applicable)
        findings: list[Finding] = []
        state = READY
        if n_pass + n_na != len(codes):
            name = rec.name
            source = rec.source
            threshold = s.threshold
            allow_unknown = s.allow_unknown
            here = (rec.line or 1, 1)
            locate = (rec.locator.locate if rec.locator is not None else lambda p: here) if s.locate else None
            rules = plan.rules
            # engine.verdict.host_state, decided as the findings are made (none is waived
            # here): blocked by a gating fail or error, else CANNOT TELL by an unknown at
            # or above --fail-on, else READY WITH WARNINGS by any finding.
            blocked = unknown = False
            # compress: only the non-zero codes (PASS is 0), found in C rather than a
            # Python loop over every rule.
            for i in compress(range(len(codes)), codes):
                code = codes[i]
                if code == NOT_APPLICABLE:
                    continue
                cr = rules[i]
                _, evidence, pending, pointer, setting = cr.finding_parts(f, code, target)
                line, col = locate(pointer) if locate is not None else here
                sev_rank = cr.severity_rank
                if code == FAIL:
                    gating = sev_rank >= threshold
                    blocked = blocked or gating
                elif code == UNKNOWN:
                    gating = sev_rank >= threshold and not allow_unknown
                    unknown = unknown or sev_rank >= threshold
                else:
                    gating = threshold < 3
                    blocked = blocked or gating
                findings.append(_new_finding(Finding, (
                    cr.id,
                    _OUTCOMES[code],
                    cr.severity,
                    cr.confidence,
                    (pending, name),  # written only if an output shows it (Finding.message)
                    evidence,
                    _new_location(Location, (source, line, col, pointer)),
                    setting,
                    gating,
                    None,
                    None,
                )))
            state = NOT_READY if blocked else CANNOT_TELL if unknown else READY_WITH_WARNINGS
        outcomes: tuple[int, ...] = ()
        if s.full_outcomes:
            full = [NOT_APPLICABLE] * len(rs.rules)
            for i, code in zip(plan.where, codes):
                full[i] = code
            outcomes = tuple(full)
        os_ = derived.get("os_name") or (f.get("os") or {}).get("caption")
        ident = f.get("identity") or {}
        del f["context"]
        result = _new_result(HostResult, (
            rec.name,
            rec.source,
            rec.line,
            rec.index,
            target,
            rs.labels,
            os_,
            tuple(roles) if roles is not None else None,
            ident.get("site"),
            ident.get("notification_server"),
            counts,
            tuple(findings),
            rs.rule_ids if outcomes else (),
            outcomes,
            False,
            (),
            f if s.keep_facts else None,
            capacity_record(rec.name, f) if s.capacity else None,
            state,
        ))
        return Evaluated(result, warnings, True)


_OUTCOMES = tuple(Outcome.from_code(i) for i in range(5))
# NamedTuple construction without the keyword-handling __new__ (every field is given).
_new_finding = _new_location = _new_result = tuple.__new__


def _run(facts: Iterable[Any], policies: PolicySet, options: Options, header: ReportHeader, stream: ReportStream) -> Iterator[HostResult]:
    evaluator = HostEvaluator(policies, EvalSettings.from_options(options))
    builder = SummaryBuilder(options)
    evaluate_one = evaluator.evaluate
    record = evaluator._record
    add = builder.add
    for item in as_items(facts, expand_blocks=evaluator.s.locate, derive_only=evaluator.derive_only):
        result = add(record(item) if type(item) is HostRecord else evaluate_one(item))
        if result is not None:
            yield result
    stream._summary.append(builder.finish())


def run_results(results: Iterable[Evaluated], options: Options, stream: ReportStream) -> Iterator[HostResult]:
    """Like ``_run`` for items already evaluated elsewhere (worker processes), in input order."""
    builder = SummaryBuilder(options)
    add = builder.add
    for ev in results:
        result = add(ev)
        if result is not None:
            yield result
    stream._summary.append(builder.finish())
