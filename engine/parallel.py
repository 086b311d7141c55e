"""Evaluate on several processes; results come back in input order.

The main process reads the inputs (for JSON Lines: raw lines, not parsed) and
sends chunks of them to a pool of workers. Each worker compiles the policies
once and turns every item into an :class:`~sitegate.engine.evaluate.Evaluated`
(a HostResult and the diagnostics to note). The main process takes the chunks
back strictly in submission order, so the report is the same, byte for byte,
as with one process; waivers, baselines and totals are applied there too
(:class:`~sitegate.engine.evaluate.SummaryBuilder`), so they need not be
picklable. At most ``window`` chunks are in flight: memory stays flat however
large the inventory is.

When every output can be made per host from the result alone (the JSON report,
see ``render.FragmentRenderer``) and there are no waivers or baseline to apply,
the workers render too and send back only the text and a small tally for the
summary (:func:`evaluate_rendered_parallel`): unpickling whole host results
cost the main process more than rendering them, so --jobs 2 gained nothing.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Any, Iterable, Iterator, NamedTuple

from ..facts.load import HostRecord, LineLocator, RawLine, Rejected
from .evaluate import EvalSettings, Evaluated, HostEvaluator, Options, ReportStream, SummaryBuilder, Tally, _as_items, _iso, build_header, run_results
from .packs import PolicySet
from .render import Format, RenderOptions, make_renderer

DEFAULT_CHUNK = 250

_WORKER: HostEvaluator | None = None
_RENDERERS: tuple[Any, ...] = ()


class Rendered(NamedTuple):
    """One item evaluated and rendered in a worker: its tally and one text per output."""

    tally: Tally
    fragments: tuple[str, ...]


def _init_worker(policies: PolicySet, settings: EvalSettings, formats: tuple[tuple[Format, RenderOptions], ...] = ()) -> None:
    global _WORKER, _RENDERERS
    _WORKER = HostEvaluator(policies, settings)
    _RENDERERS = tuple(make_renderer(f, o) for f, o in formats)


def _work(chunk: list[Any]) -> list[Evaluated]:
    assert _WORKER is not None
    ev = _WORKER.evaluate
    return [ev(item) for item in chunk]


def _rendered(e: Evaluated, renderers: tuple[Any, ...]) -> Rendered:
    r = e.result
    return Rendered(Tally.of(e), tuple(x.fragment(r) for x in renderers) if r is not None else ())


def _work_rendered(chunk: list[Any]) -> list[Rendered]:
    assert _WORKER is not None
    ev = _WORKER.evaluate
    renderers = _RENDERERS
    return [_rendered(ev(item), renderers) for item in chunk]


class _Ready:
    """An item evaluated in the main process, queued in order with the workers' chunks."""

    __slots__ = ("value",)

    def __init__(self, value: list[Any]):
        self.value = value

    def get(self) -> list[Any]:
        return self.value


def _shippable(item: Any) -> bool:
    """Raw lines and records that carry no reference to a whole document."""
    t = type(item)
    if t is RawLine or t is Rejected:
        return True
    if t is HostRecord:
        return item.locator is None or type(item.locator) is LineLocator
    return False


def start_method() -> str:
    """fork where the platform has it (fast start), else spawn; SITEGATE_MP_START overrides."""
    wanted = os.environ.get("SITEGATE_MP_START")
    methods = multiprocessing.get_all_start_methods()
    if wanted in methods:
        return wanted  # type: ignore[return-value]
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
) -> Iterator[Any]:
    """Evaluated items, in input order, computed by ``jobs`` worker processes.

    With ``formats`` the workers render too, and each item is a :class:`Rendered`
    (the renderers of those formats must be fragment renderers).
    """
    ctx = multiprocessing.get_context(method or start_method())
    window = window or jobs * 4
    local: HostEvaluator | None = None
    local_renderers: tuple[Any, ...] = ()
    work = _work if formats is None else _work_rendered
    pool = ctx.Pool(jobs, _init_worker, (policies, settings, formats or ()))
    try:
        pending: deque[Any] = deque()
        chunk: list[Any] = []
        for item in items:
            if _shippable(item):
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
                    local_renderers = tuple(make_renderer(f, o) for f, o in formats or ())
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
    header = build_header(policies, options, _iso(options.now()))
    stream = ReportStream(header, iter(()))
    results = parallel_results(_as_items(items), policies, EvalSettings.from_options(options), jobs, **kw)
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
    header = build_header(policies, options, _iso(options.now()))
    stream = ReportStream(header, iter(()))
    results = parallel_results(_as_items(items), policies, EvalSettings.from_options(options), jobs, formats=formats, **kw)
    stream.hosts = _tallied(results, options, stream)  # type: ignore[assignment]
    return stream


def _tallied(results: Iterable[Rendered], options: Options, stream: ReportStream) -> Iterator[Rendered]:
    builder = SummaryBuilder(options)
    add = builder.add_tally
    for item in results:
        add(item.tally)
        if item.tally.has_result:
            yield item
    stream._summary.append(builder.finish())
