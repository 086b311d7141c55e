"""One run of the gate as a library call: what ``sitegate check`` and ``audit`` do.

``run(inputs, options)`` loads everything a run needs before the first host is
read (policies and ``--data`` overlays, waivers, baseline; the target, audit
date and input format checked), evaluates the inputs in this process or on
``options.jobs`` worker processes, and renders every requested output as it
goes. Iterating the returned :class:`Run` gives one kind of item,
:class:`RunItem`: the text each output gets next (the header, then hosts, then
the summary), how many hosts it covers, and the host result when there is one
in this process. Once iterated, ``summary`` and ``exit_code`` hold the verdict.

Everything that is wrong before a host is read is collected (``setup_errors``):
then nothing is read or evaluated, and every output records those errors and
exit code 2, so a report left over from an earlier run is never published as
this run's verdict. The CLI only parses arguments, calls this, writes the text
where it was asked to, and exits with ``exit_code``::

    r = run(["fleet.jsonl"], RunOptions(target="8.7.3", outputs=((Format.JSON, RenderOptions()),)))
    text = b"".join(p if isinstance(p, bytes) else p.encode() for item in r for p in item.parts)  # str or UTF-8 bytes
    r.exit_code
"""
from __future__ import annotations

import gc
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterator, NamedTuple, cast

from ..base.diagnostics import Code, Diagnostic, InputError, Level
from ..facts.formats import NATIVE_FORMATS, InputFormat, group_by_format
from .evaluate import evaluate_stream
from .model import FailOn, HostResult, OverlayInfo, ReportHeader, ReportStream, Summary
from .options import Options
from .packs import PolicySet, load_policies
from .render import Format, FragmentRenderer, RenderOptions, Renderer, can_fragment, host_writer, make_renderer, needs
from .rules import derived_needed

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RunOptions:
    """What to evaluate, against what, and which outputs to render.

    The same choices as the options of ``sitegate check``/``audit``; paths are
    read by :func:`run`. ``outputs`` lists the renderers to feed, in the order
    of ``RunItem.parts``; with none, iterate the run for its host results.
    """

    target: str | None = None
    policy_dirs: tuple[str, ...] = ()
    data: tuple[str, ...] = ()  # --data overlays
    waivers: str | None = None
    baseline: str | None = None
    fail_on: FailOn = FailOn.ERROR
    allow_unknown: bool = False
    category: str | None = None
    input_format: str | None = None  # None: by file name
    mapping: str | None = None  # column mapping (csv)
    audit_date: str | None = None  # YYYY-MM-DD; None: today (UTC)
    outputs: tuple[tuple[Format, RenderOptions], ...] = ()
    full_outcomes: bool = False  # keep every (host, rule) outcome even when no output needs them
    capacity: bool = False  # carry capacity records on the results even when no output needs them
    keep_facts: bool = False  # keep each host's facts on its result (sitegate plan reads them for per-OS fixes)
    #: The option that named ``target``, as usage errors name it (``sitegate plan`` evaluates --to and --from).
    target_option: str = "--target"
    jobs: int = 1  # worker processes; 0: one per CPU
    #: Freeze the objects loaded so far and make the cyclic collector run rarely: a
    #: process-wide setting, right for a command that exits after one run.
    tune_gc: bool = False
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), compare=False)


class RunItem(NamedTuple):
    """The next piece of a run: one text per output (``str``, or UTF-8 ``bytes``: the JSON
    report's hosts, and whatever workers made), the number of host results it covers (for progress), and the host result
    when it was made in this process (None for the header, the summary and worker blocks)."""

    parts: tuple[str | bytes, ...]
    hosts: int
    result: HostResult | None


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, as in a container), at most 64."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(64, n))


def usage_errors(target: str | None, audit_date: str | None, input_format: str | None, target_option: str = "--target") -> list[Diagnostic]:
    """Options that are wrong on their face (checked before any file is read); ``target_option``
    is the option that gave ``target`` (as the message names it)."""
    errors: list[Diagnostic] = []
    if target is not None:
        from packaging.version import InvalidVersion, Version

        shown = target if len(target) <= 40 else target[:37] + "..."
        try:
            # A version of thousands of digits is no ITMS version (and int() refuses it).
            ok = len(target) <= 64 and bool(Version(target))
        except (InvalidVersion, ValueError):
            ok = False
        if not ok:
            errors.append(Diagnostic(target_option, f"{shown!r} is not a version (e.g. 8.7.3)", code=Code.USAGE))
    if audit_date is not None:
        try:
            ok = bool(_ISO_DATE.fullmatch(audit_date)) and bool(date.fromisoformat(audit_date))
        except ValueError:
            ok = False
        if not ok:
            errors.append(Diagnostic("--audit-date", f"{audit_date!r} is not a date: write YYYY-MM-DD", code=Code.USAGE))
    if input_format is not None:
        from ..facts.importers import ALIASES, IMPORTERS

        if input_format not in NATIVE_FORMATS and ALIASES.get(input_format.lower(), input_format.lower()) not in IMPORTERS:
            names = ", ".join(sorted(IMPORTERS))
            errors.append(Diagnostic("--input-format", f"unknown input format {input_format!r} (formats: {names})", code=Code.USAGE))
    return errors


def load_for_run(policy_dirs: list[str], data: list[str]) -> tuple[PolicySet, list[Diagnostic], list[Diagnostic]]:
    """(policies, warnings, errors): no policy at all when the packs do not load."""
    try:
        if data:
            policies, warnings = load_policies(policy_dirs, overlays=data)
        else:
            policies, warnings = load_policies(policy_dirs)
        return policies, warnings, []
    except InputError as exc:
        errors = [d for d in exc.diagnostics if d.level is Level.ERROR]
        others = [d for d in exc.diagnostics if d.level is not Level.ERROR]
        return PolicySet([], {}), others, errors


def read_inputs(
    paths: list[str], input_format: str | None, mapping: str | None, locate: bool,
    meter: list[int] | None = None, raw_blocks: bool = False, derive_only: frozenset[str] | None = None,
) -> Iterator[Any]:
    """The input items of facts files (JSON, JSON Lines) or of an importer's format
    (``derive_only``: the derived facts the records read from facts files need; None: all)."""
    from ..facts.load import iter_paths

    if input_format is None:
        groups = group_by_format(paths)
        if all(fmt is None for fmt, _ in groups):
            return iter_paths(paths, locate=locate, meter=meter, raw_blocks=raw_blocks, derive_only=derive_only)
        # Named as people name them: export.csv, WS10.zip, an export folder; in input order.
        return _read_groups(groups, mapping, locate, meter, raw_blocks, derive_only)
    if input_format in NATIVE_FORMATS:
        # The loader reads these itself (streamed, with --jobs blocks and the byte meter).
        return iter_paths(paths, locate=locate, fmt=input_format if input_format == InputFormat.JSONL else None, meter=meter, raw_blocks=raw_blocks, derive_only=derive_only)
    from ..facts.importers import import_inputs

    return import_inputs(input_format, paths, mapping=mapping, locate=locate)


def _read_groups(
    groups: list[tuple[InputFormat | None, list[str]]], mapping: str | None, locate: bool,
    meter: list[int] | None, raw_blocks: bool, derive_only: frozenset[str] | None = None,
) -> Iterator[Any]:
    from ..facts.importers import import_inputs
    from ..facts.load import iter_paths

    for fmt, group in groups:
        if fmt is None:
            yield from iter_paths(group, locate=locate, meter=meter, raw_blocks=raw_blocks, derive_only=derive_only)
        else:
            yield from import_inputs(fmt, group, mapping=mapping if fmt is InputFormat.CSV else None, locate=locate)


class Run:
    """One evaluation of the inputs, rendered to every requested output.

    Built by :func:`run`, which has already loaded everything the run needs;
    iterate it once for its :class:`RunItem` s, then read ``summary``/``exit_code``.
    """

    def __init__(self, inputs: list[str], options: RunOptions):
        self.options = options
        self.inputs = list(inputs)
        self.jobs = options.jobs or available_cpus()
        data = list(options.data)
        facts = list(inputs)
        audit_date = options.audit_date
        input_format = options.input_format
        topt = options.target_option
        setup_errors: list[Diagnostic] = usage_errors(options.target, audit_date, input_format, topt)
        policies, warnings, policy_errors = load_for_run(list(options.policy_dirs), data)
        setup_errors += policy_errors
        extra_inputs: list[tuple[str, str]] = [("data", f"{o.path}@sha256:{o.digest}") for o in getattr(policies, "overlays", [])]
        overlays = tuple(OverlayInfo(o.path, o.digest, o.tables, o.rules) for o in getattr(policies, "overlays", []))
        date_ok = not any(d.source == "--audit-date" for d in setup_errors)
        waiver_set = baseline_set = None
        try:
            waiver_set = _load_waivers(options.waivers, audit_date) if options.waivers and date_ok else None
        except InputError as exc:
            setup_errors += exc.diagnostics
        try:
            baseline_set = _load_baseline(options.baseline) if options.baseline else None
        except InputError as exc:
            setup_errors += exc.diagnostics
        if waiver_set is not None:
            extra_inputs.append(("waivers", f"{options.waivers}@sha256:{waiver_set.digest}"))
        if baseline_set is not None:
            extra_inputs.append(("baseline", f"{options.baseline}@sha256:{baseline_set.digest}"))
            # A name the baseline gives to two hosts is matched for neither: every output says so.
            warnings = [*warnings, *baseline_set.warnings()]
        target = options.target
        target_ok = target is None or not any(d.source == topt for d in setup_errors)
        if target is not None and target_ok and not policy_errors and not policies.select(target):
            covered = ", ".join(covered_versions(policies)) or "none"
            setup_errors.append(Diagnostic(topt, f"no policy pack applies to ITMS {target}; the packs cover ITMS {covered} (see: sitegate policies list)", code=Code.USAGE))
        if setup_errors:
            # Nothing is read or evaluated; every output records the errors and exit code 2.
            facts = []
            input_format = None
            policies = PolicySet([], {})
            audit_date = audit_date if date_ok else None
            warnings = [*warnings, *setup_errors]
        #: Everything wrong before a host was read (usage, policies, waivers, baseline).
        self.setup_errors: tuple[Diagnostic, ...] = tuple(setup_errors)
        #: The policy errors among them.
        self.policy_errors: tuple[Diagnostic, ...] = tuple(policy_errors)
        self.policies = policies
        outputs = options.outputs
        # What the outputs' renderers declare they need the evaluation to keep.
        wanted = needs(outputs)
        # Locations are cheap for JSON Lines (the record's line) and computed once per
        # JSON document, so every format gets them.
        locate = True
        self.evaluation = Options(
            target=target,
            fail_on=options.fail_on,
            allow_unknown=options.allow_unknown,
            locate=locate,
            full_outcomes=options.full_outcomes or wanted.full_outcomes,
            capacity=options.capacity or wanted.capacity,
            keep_facts=options.keep_facts,
            audit_date=audit_date,
            category=options.category,
            inputs=tuple(self.inputs),
            extra_inputs=tuple(extra_inputs),
            overlays=overlays,
            waivers=waiver_set,
            baseline=baseline_set,
            preload_diagnostics=tuple(warnings),
            now=options.now,
        )
        if options.tune_gc:
            # Everything loaded so far (policies, compiled rules, schemas) lives for the
            # whole run; hosts are freed by reference counting as they stream past. So the
            # cyclic collector leaves the former alone and runs rarely (measured: ~6% of a
            # 250,000-host audit went to it with the default thresholds).
            gc.freeze()
            gc.set_threshold(100_000, 50, 100)
        #: Bytes of the inputs read so far (JSON and JSON Lines files), for a progress display.
        self.meter = [0]
        self.renderers: tuple[Renderer, ...] = tuple(make_renderer(f, o) for f, o in outputs)
        jobs = self.jobs
        # Workers render too when every output can be made per host and nothing is
        # applied in input order afterwards (waivers, baseline).
        self.in_workers = (
            jobs > 1 and waiver_set is None and baseline_set is None and bool(self.renderers)
            and all(can_fragment(r) for r in self.renderers)
        )
        # With jobs, JSON Lines go to the workers as blocks of whole lines: the main
        # process neither splits lines nor parses, it counts newlines and writes text.
        # Only the derived facts these policies and outputs read are computed per host.
        derive_only = derived_needed(policies, target, keep_facts=self.evaluation.keep_facts, capacity=self.evaluation.capacity)
        items = read_inputs(facts, input_format, options.mapping, locate, meter=self.meter, raw_blocks=jobs > 1, derive_only=derive_only)
        if self.in_workers:
            from .parallel import evaluate_rendered_parallel

            self._stream: ReportStream = evaluate_rendered_parallel(items, policies, self.evaluation, jobs, outputs)
        elif jobs > 1:
            from .parallel import evaluate_stream_parallel

            self._stream = evaluate_stream_parallel(items, policies, self.evaluation, jobs)
        else:
            self._stream = evaluate_stream(items, policies, self.evaluation)

    @property
    def header(self) -> ReportHeader:
        """What is known before the first host: packs, rules, inputs."""
        return self._stream.header

    @property
    def summary(self) -> Summary:
        """The totals and exit code (once the run has been iterated)."""
        return self._stream.summary

    @property
    def exit_code(self) -> int:
        """0 ready, 1 findings at or above fail_on, 2 bad input (once iterated)."""
        return self._stream.summary.exit_code

    def __iter__(self) -> Iterator[RunItem]:
        renderers = self.renderers
        stream = self._stream
        new = tuple.__new__  # a RunItem per host without the keyword-handling __new__
        yield RunItem(tuple(r.start(stream.header) for r in renderers), 0, None)
        if self.in_workers:
            from .parallel import Rendered, RenderedBlock

            # The workers' items: a block's hosts rendered and encoded, or one host's fragments.
            placing = cast("tuple[FragmentRenderer, ...]", renderers)
            for item in cast("Iterator[Rendered | RenderedBlock]", stream.hosts):
                if isinstance(item, RenderedBlock):
                    yield RunItem(tuple(r.place(b"") for r in placing), 0, None)
                    yield RunItem(item.fragments, item.hosts, None)
                else:
                    yield RunItem(tuple(r.place(f) for r, f in zip(placing, item.fragments)), 1, None)
        elif len(renderers) == 1:
            render = host_writer(renderers[0])
            for result in stream.hosts:
                yield new(RunItem, ((render(result),), 1, result))
        else:
            writers = tuple(host_writer(r) for r in renderers)
            for result in stream.hosts:
                yield new(RunItem, (tuple(w(result) for w in writers), 1, result))
        summary = stream.summary
        yield RunItem(tuple(r.finish(summary) for r in renderers), 0, None)


def covered_versions(policies: PolicySet) -> list[str]:
    """The known ITMS releases some loaded pack applies to (for 'no pack applies' messages)."""
    from .examples import KNOWN_RELEASES

    return [v for v in KNOWN_RELEASES if policies.select(v)]


def run(inputs: list[str], options: RunOptions = RunOptions()) -> Run:
    """Load what the run needs and set up its evaluation; iterate the result to run it."""
    return Run(inputs, options)


def _load_waivers(path: str, audit_date: str | None) -> Any:
    """Waivers file -> matcher (sitegate.engine.waivers); InputError on bad input."""
    from .waivers import load_waivers

    return load_waivers(path, today=audit_date)


def _load_baseline(path: str) -> Any:
    """Previous JSON report or SARIF -> fingerprints (sitegate.engine.baseline)."""
    from .baseline import load_baseline

    return load_baseline(path)
