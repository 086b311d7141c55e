"""How --jobs workers start: from what the main process compiled once, when forked.

The report is the same either way (tests/test_blocks.py, tests/test_audit.py); these
tests hold the start-up plumbing itself: a forked worker takes the prepared evaluator
only when it was prepared for its own settings, nothing prepared outlives the pool's
start, and the pool's maintenance thread does not wait on the result pipe.
"""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from sitegate.engine import parallel
from sitegate.engine.options import EvalSettings
from sitegate.engine.packs import PolicySet
from sitegate.engine.render import Format, RenderOptions
from sitegate.facts.load import iter_paths

SETTINGS = EvalSettings("8.7.3", 2, False, True, False, False, False, "2026-11-25")


def test_a_worker_takes_what_was_prepared_for_its_own_settings(policies: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    formats = ((Format.JSON, RenderOptions()),)
    prepared = parallel._prepare(policies, SETTINGS, formats)
    ev = prepared[0]
    assert ev.ev._cache.get("8.7.3") is not None  # the target's rules compiled before any fork
    monkeypatch.setattr(parallel, "_PREPARED", prepared)
    parallel._init_worker(policies, SETTINGS, formats)
    assert parallel._WORKER is ev and parallel._RENDERERS is prepared[2]
    other = EvalSettings("8.7.3", 2, True, True, False, False, False, "2026-11-25")  # --allow-unknown
    parallel._init_worker(policies, other, formats)
    assert parallel._WORKER is not ev and parallel._WORKER.s == other


def test_nothing_prepared_outlives_the_pool_start(policies: PolicySet, tmp_path: Path) -> None:
    from .test_audit import generate

    fleet = generate(tmp_path / "f.jsonl", 30, seed=3, broken=0.0)
    items = list(iter_paths([str(fleet)], locate=True, raw_blocks=True))
    out = list(parallel.parallel_results(items, policies, SETTINGS, 2, method="fork"))
    import json

    names = [json.loads(line)["name"] for line in fleet.read_text(encoding="utf-8").splitlines()]
    assert [e.result.name for e in out if e.result is not None] == names  # every host, in input order
    assert parallel._PREPARED is None


def test_the_pool_maintenance_thread_waits_on_its_notices_only() -> None:
    pool = parallel._Pool(1, context=multiprocessing.get_context("fork"))
    try:
        sentinels = pool._get_sentinels()
        assert pool._outqueue._reader not in sentinels
        assert pool._change_notifier._reader in sentinels
        assert pool.apply_async(abs, (-3,)).get(timeout=60) == 3
    finally:
        pool.terminate()
        pool.join()


# ---------------------------------------------------------------- what the main process does per block

from sitegate.engine.summary import Counted, Tally, Totals  # noqa: E402

def _tally(name: str) -> Tally:
    return Tally(Counted(False, (1, 0, 0, 0, 0), (), name, "f.jsonl", 1, "READY"), (), True)


@pytest.mark.parametrize("blocks", [
    [["a", "b"], ["c", "d"]],  # no name repeats: the fast merge
    [["a", "b"], ["c", "a"], ["a", "e", "b"]],  # names repeat across blocks
    [["a", "a"], ["b"], ["a"]],  # and within a block
])
def test_merged_block_totals_equal_one_totals_of_every_host(blocks: list[list[str]]) -> None:
    one = Totals()
    for block in blocks:
        for name in block:
            one.add(_tally(name))
    merged = Totals()
    for block in blocks:
        t = Totals()
        for name in block:
            t.add(_tally(name))
        merged.merge(t)
    assert list(merged.names.items()) == list(one.names.items())
    assert list(merged.duplicates.items()) == list(one.duplicates.items())
    assert merged._named == one._named
