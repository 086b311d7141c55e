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
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Any, Iterable, Iterator

from ..facts.load import HostRecord, LineLocator, RawLine, Rejected
from .evaluate import EvalSettings, Evaluated, HostEvaluator, Options, ReportStream, _as_items, _iso, build_header, run_results
from .packs import PolicySet

DEFAULT_CHUNK = 250

_WORKER: HostEvaluator | None = None


def _init_worker(policies: PolicySet, settings: EvalSettings) -> None:
    global _WORKER
    _WORKER = HostEvaluator(policies, settings)


def _work(chunk: list[Any]) -> list[Evaluated]:
    assert _WORKER is not None
    ev = _WORKER.evaluate
    return [ev(item) for item in chunk]


class _Ready:
    """An item evaluated in the main process, queued in order with the workers' chunks."""

    __slots__ = ("value",)

    def __init__(self, value: list[Evaluated]):
        self.value = value

    def get(self) -> list[Evaluated]:
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
) -> Iterator[Evaluated]:
    """Evaluated items, in input order, computed by ``jobs`` worker processes."""
    ctx = multiprocessing.get_context(method or start_method())
    window = window or jobs * 4
    local: HostEvaluator | None = None
    pool = ctx.Pool(jobs, _init_worker, (policies, settings))
    try:
        pending: deque[Any] = deque()
        chunk: list[Any] = []
        for item in items:
            if _shippable(item):
                chunk.append(item)
                if len(chunk) < chunk_size:
                    continue
                pending.append(pool.apply_async(_work, (chunk,)))
                chunk = []
            else:
                if chunk:
                    pending.append(pool.apply_async(_work, (chunk,)))
                    chunk = []
                if local is None:
                    local = HostEvaluator(policies, settings)
                pending.append(_Ready([local.evaluate(item)]))
            while len(pending) > window:
                yield from pending.popleft().get()
        if chunk:
            pending.append(pool.apply_async(_work, (chunk,)))
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
