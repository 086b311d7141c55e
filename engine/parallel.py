"""Evaluate on several processes; results come back in input order.

The main process reads the inputs and sends them to a pool of workers: JSON
Lines as blocks of whole lines (:class:`~sitegate.facts.load.RawBlock`, about
1 MiB, bytes for UTF-8 and text for other encodings; the main process only
counts newlines and blank lines so that each block knows its first record
index and line), other records in chunks. Each worker compiles the policies
once (forked workers inherit what the main process compiled for the target, so
it is done once in all) and turns every item into an :class:`~sitegate.engine.evaluate.Evaluated`
(a HostResult and the diagnostics to note). The main process takes the chunks
back strictly in submission order, so the report is the same, byte for byte,
as with one process; waivers, baselines and totals are applied there too
(:class:`~sitegate.engine.summary.SummaryBuilder`), so they need not be
picklable. At most ``window`` chunks are in flight: memory stays flat however
large the inventory is.

When every output can be made per host from the result alone (the JSON report,
see ``render.FragmentRenderer``) and there are no waivers or baseline to apply,
the workers render too and send back only the text and a small tally for the
summary (:func:`evaluate_rendered_parallel`): unpickling whole host results
cost the main process more than rendering them, so --jobs 2 gained nothing.
For a block that is one UTF-8 text per output and the block's
:class:`~sitegate.engine.summary.Totals`, merged in input order: the main
process splits no lines, parses nothing and transcodes nothing.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
from collections import deque
from typing import Any, Iterable, Iterator, NamedTuple

from ..facts.load import HostRecord, LineLocator, RawBlock, RawLine, Rejected, block_items
from .evaluate import Evaluated, HostEvaluator, as_items, run_results
from .header import build_header, iso_utc
from .model import ReportHeader, ReportStream
from .options import EvalSettings, Options
from .packs import PolicySet
from .render import Format, RenderOptions, make_renderer
from .rules import derived_needed
from .summary import SummaryBuilder, Tally, Totals

DEFAULT_CHUNK = 250

_WORKER: HostEvaluator | None = None
_RENDERERS: tuple[Any, ...] = ()
#: Set in the main process only while a forked pool starts: the evaluator (rules of the
#: target compiled, the facts decoder built) and renderers its workers inherit.
_PREPARED: tuple[HostEvaluator, EvalSettings, tuple[Any, ...]] | None = None


class _Pool(multiprocessing.pool.Pool):
    """A process pool whose worker-maintenance thread wakes only for its own business.

    CPython's Pool also waits on the result pipe's reader there (so that, once the
    pool is closed, it notices the last result); while a result is on its way (a
    block's rendered text, megabytes long) that reader stays readable, so the thread
    spins: measured as a third of the main process's CPU in ``--jobs 2``. This pool
    is always terminated after its last result is taken (parallel_results), which
    wakes that thread, so it waits only for a change notice or a worker's exit, as
    ThreadPool does.
    """

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


class Rendered(NamedTuple):
    """One item evaluated and rendered in a worker: its tally and one UTF-8 text per output
    (none when the item has no host result, e.g. a file-level warning)."""

    tally: Tally
    fragments: tuple[bytes, ...]


class RenderedBlock(NamedTuple):
    """A :class:`RawBlock` evaluated and rendered in a worker: the totals of its hosts and,
    per output, their UTF-8 fragments joined (``renderer.join``), which the
    main process writes as they are after the separator ``place("")`` gives."""

    totals: Totals
    fragments: tuple[bytes, ...]
    hosts: int  # host results in the block (rejected records included)


def _renderers(formats: tuple[tuple[Format, RenderOptions], ...], header: ReportHeader | None) -> tuple[Any, ...]:
    """Fragment renderers for these formats, started with the run's header (a fragment may
    leave out what the header says; the text ``start`` returns is the main process's to write)."""
    out = tuple(make_renderer(f, o) for f, o in formats)
    if header is not None:
        for r in out:
            r.start(header)
    return out


def _init_worker(
    policies: PolicySet, settings: EvalSettings, formats: tuple[tuple[Format, RenderOptions], ...] = (), header: ReportHeader | None = None,
) -> None:
    global _WORKER, _RENDERERS
    prepared = _PREPARED
    if prepared is not None and prepared[1] == settings:
        # Forked from a main process that compiled everything once for all workers.
        _WORKER, _, _RENDERERS = prepared
        return
    _WORKER = HostEvaluator(policies, settings)
    _RENDERERS = _renderers(formats, header)


def _prepare(
    policies: PolicySet, settings: EvalSettings, formats: tuple[tuple[Format, RenderOptions], ...], header: ReportHeader | None = None,
) -> tuple[HostEvaluator, EvalSettings, tuple[Any, ...]]:
    """What every forked worker would otherwise build for itself: the target's rules
    compiled, the facts decoder and validator built, the renderers made."""
    from ..facts.load import host_decoder, host_fast_check

    ev = HostEvaluator(policies, settings)
    if settings.target:
        ev.ev.ruleset(settings.target)
    host_decoder()
    host_fast_check()
    return ev, settings, _renderers(formats, header)


def _work(chunk: list[Any]) -> list[Evaluated]:
    assert _WORKER is not None
    ev = _WORKER.evaluate
    out: list[Evaluated] = []
    for item in chunk:
        if type(item) is RawBlock:
            out.extend(ev(x) for x in block_items(item, locate=_WORKER.s.locate, derive_only=_WORKER.derive_only))
        else:
            out.append(ev(item))
    return out


def _rendered(e: Evaluated, renderers: tuple[Any, ...]) -> Rendered:
    r = e.result
    return Rendered(Tally.of(e, _WORKER.s.threshold if _WORKER is not None else 2), tuple(x.fragment(r) for x in renderers) if r is not None else ())


def _work_rendered(chunk: list[Any]) -> list[Rendered | RenderedBlock]:
    assert _WORKER is not None
    ev = _WORKER.evaluate
    renderers = _RENDERERS
    return [_render_block(item) if type(item) is RawBlock else _rendered(ev(item), renderers) for item in chunk]


def _render_block(block: RawBlock) -> RenderedBlock:
    """Evaluate and render every record of a block; only text and totals go back."""
    assert _WORKER is not None
    ev = _WORKER.evaluate
    totals = Totals(threshold=_WORKER.s.threshold)
    add = totals.add
    per_output: list[list[bytes]] = [[] for _ in _RENDERERS]
    makers = [(r.fragment, out.append) for r, out in zip(_RENDERERS, per_output)]
    count = 0
    for item in block_items(block, locate=_WORKER.s.locate, derive_only=_WORKER.derive_only):
        result = add(ev(item))
        if result is not None:
            count += 1
            for fragment, append in makers:
                append(fragment(result))
    # UTF-8 from the renderer (orjson's bytes): the main process only copies them to the output.
    return RenderedBlock(totals, tuple(r.join(out) for r, out in zip(_RENDERERS, per_output)), count)


class _Ready:
    """An item evaluated in the main process, queued in order with the workers' chunks."""

    __slots__ = ("value",)

    def __init__(self, value: list[Any]):
        self.value = value

    def get(self) -> list[Any]:
        return self.value


def _shippable(item: Any) -> bool:
    """Raw lines and blocks, and records that carry no reference to a whole document."""
    t = type(item)
    if t is RawLine or t is Rejected or t is RawBlock:
        return True
    if t is HostRecord:
        return item.locator is None or type(item.locator) is LineLocator
    return False


def start_method() -> str:
    """fork where the platform has it (fast start), else spawn; SITEGATE_MP_START overrides."""
    wanted = os.environ.get("SITEGATE_MP_START")
    methods = multiprocessing.get_all_start_methods()
    if wanted in methods:
        return wanted
    return "fork" if "fork" in methods else "spawn"


def parallel_results(
    items: Iterable[Any],
    policies: PolicySet,
    settings: EvalSettings,
    jobs: int,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    window: int | None = None,
    method: str | None = None,
    formats: tuple[tuple[Format, RenderOptions], ...] | None = None,
    header: ReportHeader | None = None,
) -> Iterator[Any]:
    """Evaluated items, in input order, computed by ``jobs`` worker processes.

    With ``formats`` the workers render too, and each item is a :class:`Rendered`
    or, for a :class:`RawBlock`, a :class:`RenderedBlock` (the renderers of those
    formats must be fragment renderers, started with ``header``).
    """
    global _PREPARED
    method = method or start_method()
    ctx = multiprocessing.get_context(method)
    window = window or jobs * 4
    local: HostEvaluator | None = None
    local_renderers: tuple[Any, ...] = ()
    work = _work if formats is None else _work_rendered
    if method == "fork":
        # Compiled once here and inherited by every worker, instead of once per worker.
        _PREPARED = _prepare(policies, settings, formats or (), header)
    try:
        pool = _Pool(jobs, _init_worker, (policies, settings, formats or (), header), context=ctx)
    finally:
        _PREPARED = None  # a worker started later (one replaced) builds its own
    try:
        pending: deque[Any] = deque()
        chunk: list[Any] = []
        for item in items:
            if type(item) is RawBlock:
                # A block is a task of its own (hundreds of records already).
                if chunk:
                    pending.append(pool.apply_async(work, (chunk,)))
                    chunk = []
                pending.append(pool.apply_async(work, ([item],)))
            elif _shippable(item):
                chunk.append(item)
                if len(chunk) < chunk_size:
                    continue
                pending.append(pool.apply_async(work, (chunk,)))
                chunk = []
            else:
                if chunk:
                    pending.append(pool.apply_async(work, (chunk,)))
                    chunk = []
                if local is None:
                    local = HostEvaluator(policies, settings)
                    local_renderers = _renderers(formats or (), header)
                done = local.evaluate(item)
                pending.append(_Ready([done if formats is None else _rendered(done, local_renderers)]))
            while len(pending) > window:
                yield from pending.popleft().get()
        if chunk:
            pending.append(pool.apply_async(work, (chunk,)))
        while pending:
            yield from pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def evaluate_stream_parallel(items: Iterable[Any], policies: PolicySet, options: Options, jobs: int, **kw: Any) -> ReportStream:
    """``evaluate_stream`` on ``jobs`` processes (``jobs <= 1``: in this process)."""
    if jobs <= 1:
        from .evaluate import evaluate_stream

        return evaluate_stream(items, policies, options)
    header = build_header(policies, options, iso_utc(options.now()))
    stream = ReportStream(header, iter(()))
    settings = EvalSettings.from_options(options)
    wanted = derived_needed(policies, settings.target, keep_facts=settings.keep_facts, capacity=settings.capacity)
    results = parallel_results(as_items(items, derive_only=wanted), policies, settings, jobs, **kw)
    stream.hosts = run_results(results, options, stream)
    return stream


def evaluate_rendered_parallel(
    items: Iterable[Any], policies: PolicySet, options: Options, jobs: int,
    formats: tuple[tuple[Format, RenderOptions], ...], **kw: Any,
) -> ReportStream:
    """Like :func:`evaluate_stream_parallel`, but ``.hosts`` yields the workers'
    :class:`Rendered` items (one fragment per format, in ``formats`` order).

    Only for fragment renderers and runs without waivers or baseline (those
    change findings in input order, in the main process).
    """
    if options.waivers is not None or options.baseline is not None:
        raise ValueError("waivers and baselines are applied in the main process: use evaluate_stream_parallel")
    header = build_header(policies, options, iso_utc(options.now()))
    stream = ReportStream(header, iter(()))
    settings = EvalSettings.from_options(options)
    wanted = derived_needed(policies, settings.target, keep_facts=settings.keep_facts, capacity=settings.capacity)
    results = parallel_results(as_items(items, derive_only=wanted), policies, settings, jobs, formats=formats, header=header, **kw)
    stream.hosts = _tallied(results, options, stream)  # type: ignore[assignment]
    return stream


def _tallied(results: Iterable[Rendered | RenderedBlock], options: Options, stream: ReportStream) -> Iterator[Rendered | RenderedBlock]:
    builder = SummaryBuilder(options)
    add = builder.add
    for item in results:
        if type(item) is RenderedBlock:
            builder.merge(item.totals)
            if item.hosts:
                yield item
            continue
        add(item.tally)  # type: ignore[union-attr]
        if item.tally.result is not None:  # type: ignore[union-attr]
            yield item
    stream._summary.append(builder.finish())
