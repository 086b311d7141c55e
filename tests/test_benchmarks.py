"""The sitegate benchmark pack does the hand-written loop's work, exactly.

``benchmarks/compare_engines.py`` times sitegate on the checks of
``benchmarks/baseline_loop.py`` written as a policy pack
(``benchmarks/engines/sitegate-checks``). A timing means something only if the
pack fails the same (host, check) pairs as the loop; these tests hold that on
a small generated fleet through the library (no other engine needed), and
hold the pack's tables to the loop's constants so neither drifts alone.
Speed itself is measured by the benchmark scripts, never here.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

from sitegate.engine.examples import run_examples
from sitegate.engine.model import Outcome
from sitegate.engine.packs import load_policies
from sitegate.engine.run import RunOptions, run

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    """The benchmark modules (they import each other by file name, as scripts do)."""
    sys.path.insert(0, str(BENCH))
    try:
        import baseline_loop
        import compare_engines
        import generate_fleet
        import sitegate_engine

        yield type("Bench", (), {"bl": baseline_loop, "ce": compare_engines, "gen": generate_fleet, "sg": sitegate_engine})
    finally:
        sys.path.remove(str(BENCH))


def _sitegate_pairs(path: Path, sg: Any) -> tuple[set[tuple[int, str]], set[int], int]:
    """(line, check) pairs sitegate fails through the library, the lines it rejected,
    and the hosts it evaluated."""
    r = run([str(path)], RunOptions(target=sg.TARGET, policy_dirs=(str(sg.PACK_DIR),)))
    pairs: set[tuple[int, str]] = set()
    rejected: set[int] = set()
    evaluated = 0
    for item in r:
        h = item.result
        if h is None:
            continue
        if h.rejected:
            rejected.add(h.line)
            continue
        evaluated += 1
        assert h.packs == ("bench-baseline-checks@1.0.0",), h.packs  # no bundled pack joins in
        pairs.update((h.line, sg.RULE_CHECK[f.rule_id]) for f in h.findings if f.outcome is Outcome.FAIL)
    assert not r.setup_errors, r.setup_errors
    return pairs, rejected, evaluated


def test_the_pack_fails_exactly_the_loops_pairs(bench: Any, tmp_path: Path) -> None:
    bl, ce, sg = bench.bl, bench.ce, bench.sg
    raw = tmp_path / "fleet.jsonl"
    # Many incomplete records: missing facts must not turn into fails on either side.
    raw.write_bytes(b"".join(bench.gen.generate(1500, seed=11, broken_share=0.02, incomplete_share=0.2)))
    clean, kept = ce.clean_file(str(raw), 1500, str(tmp_path))
    assert kept > 1400
    loop_pairs, gave_up = bl.failing_pairs(clean)
    assert not gave_up
    got, rejected, evaluated = _sitegate_pairs(Path(clean), sg)
    # The well-typed hosts sitegate still rejects break its stricter input rules
    # (an unknown field, a bad enum, a duplicate key): few, and never evaluated.
    assert evaluated + len(rejected) == kept and len(rejected) < 40
    want = {p for p in loop_pairs if p[0] not in rejected and p[1] not in sg.LEFT_OUT}
    only_loop = Counter(c for _, c in want - got)
    only_sitegate = Counter(c for _, c in got - want)
    assert not only_loop and not only_sitegate, (only_loop, only_sitegate)
    # The fleet exercises the pack: most checks fail somewhere, on ~2,000 pairs.
    assert len(want) > 1500
    failing_checks = {c for _, c in want}
    assert len(failing_checks) >= 30, sorted(set(sg.RULE_CHECK.values()) - failing_checks)
    # A check sitegate leaves to the facts schema never fails a host it accepts.
    assert not [p for p in loop_pairs if p[1] == "product_type_known" and p[0] not in rejected]


def test_a_changed_threshold_shows_as_a_mismatch(bench: Any, tmp_path: Path) -> None:
    """The comparison can fail: a pack whose memory floor differs by one MB from the
    loop's disagrees on exactly the hosts at that floor."""
    bl, sg = bench.bl, bench.sg
    pack = (sg.PACK_DIR / "pack.yaml").read_text(encoding="utf-8")
    assert pack.count("value: 8192,") == 1
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "pack.yaml").write_text(pack.replace("value: 8192,", "value: 8193,"), encoding="utf-8")
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_bytes(b"".join(bench.gen.generate(400, seed=5, broken_share=0.0, incomplete_share=0.0)))
    r = run([str(fleet)], RunOptions(target=sg.TARGET, policy_dirs=(str(tmp_path / "pack"),)))
    got = {(i.result.line, sg.RULE_CHECK[f.rule_id]) for i in r if i.result is not None
           for f in i.result.findings if f.outcome is Outcome.FAIL}
    loop_pairs, _ = bl.failing_pairs(str(fleet))
    at_floor = {(n, "memory_8g") for n, line in enumerate(fleet.read_bytes().splitlines(), 1)
                if b'"memory_mb":8192,' in line}
    assert at_floor
    assert got - loop_pairs == at_floor


def test_the_pack_loads_alone_and_its_examples_hold(bench: Any) -> None:
    sg = bench.sg
    policies, warnings = load_policies([str(sg.PACK_DIR)])
    assert not warnings
    assert [e.id for e in policies.select(sg.TARGET)] == ["bench-baseline-checks"]
    assert not run_examples(policies)
    pack = policies.effective["bench-baseline-checks"]
    assert {r.id for r in pack.rules} == set(sg.RULE_CHECK)
    assert set(sg.RULE_CHECK.values()) | set(sg.LEFT_OUT) == set(bench.bl.CHECKS)
    for rule in pack.rules:
        assert rule.source.endswith("/benchmarks/baseline_loop.py") and rule.confidence.value == "low", rule.id


def test_the_pack_tables_are_the_loops_constants(bench: Any) -> None:
    bl, sg = bench.bl, bench.sg
    policies, _ = load_policies([str(sg.PACK_DIR)], include_bundled=False)
    t = {name: table.rows for name, table in policies.effective["bench-baseline-checks"].tables.items()}
    assert {r["build"] for r in t["os_builds"] if r["family"] == "server"} == bl.SERVER_BUILDS
    assert {r["build"] for r in t["os_builds"] if r["family"] == "desktop"} == bl.DESKTOP_BUILDS
    assert {r["build"] for r in t["legacy_builds"]} == bl.LEGACY_BUILDS
    assert {r["itms"] for r in t["known_itms"]} == bl.KNOWN_ITMS
    assert {r["itms"]: bl.vtuple(r["min_version"]) for r in t["agent_minimum"]} == bl.AGENT_MIN
    assert {r["feature"] for r in t["package_features"]} == bl.PACKAGE_FEATURES
    assert {r["feature"] for r in t["task_features"] if r["iis"] == "any"} == bl.TASK_FEATURES
    assert {r["feature"] for r in t["task_features"] if r["iis"] == "7.5"} == bl.TASK_FEATURES_75
    assert tuple(r["verb"] for r in t["needed_verbs"]) == bl.NEEDED_VERBS


def test_the_report_reader_counts_what_the_report_says(bench: Any, tmp_path: Path) -> None:
    """compare_engines reads sitegate's pairs back from the JSON report on disk; that
    reading equals the host results the library gave for the same run."""
    from sitegate.engine.render import Format, RenderOptions

    sg = bench.sg
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_bytes(b"".join(bench.gen.generate(300, seed=2, broken_share=0.05, incomplete_share=0.1)))
    r = run([str(fleet)], RunOptions(target=sg.TARGET, policy_dirs=(str(sg.PACK_DIR),),
                                      outputs=((Format.JSON, RenderOptions()),)))
    text = bytearray()
    results = []
    for item in r:
        text += item.parts[0] if isinstance(item.parts[0], bytes) else item.parts[0].encode("utf-8")
        if item.result is not None:
            results.append(item.result)
    (tmp_path / "report.json").write_bytes(bytes(text))
    reading = sg.read_report(str(tmp_path / "report.json"))
    assert reading.packs == ["bench-baseline-checks"]
    assert reading.hosts == sum(1 for h in results if not h.rejected) > 250
    assert set(reading.rejected) == {h.line for h in results if h.rejected} != set()
    assert reading.pairs == {(h.line, sg.RULE_CHECK[f.rule_id]) for h in results
                             for f in h.findings if f.outcome is Outcome.FAIL}
    assert sum(reading.fails) == len(reading.pairs)


def test_the_benchmarked_sitegate_has_its_bytecode_cached(bench: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """As pip leaves an installed wheel: the child may write bytecode, outside the checkout."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    env = bench.sg.child_env()
    assert "PYTHONDONTWRITEBYTECODE" not in env
    prefix = Path(env["PYTHONPYCACHEPREFIX"]).resolve()
    assert not prefix.is_relative_to(REPO)
    assert env["PATH"] == os.environ["PATH"]  # the rest of the environment is kept


def test_the_bundled_packs_run_reads_hosts_not_pairs(bench: Any, tmp_path: Path) -> None:
    """compare_engines' sitegate-bundled row: the bundled packs at 8.7.3, hosts counted, no pairs."""
    from sitegate.engine.render import Format, RenderOptions

    sg = bench.sg
    argv = sg.command("sitegate", "f.jsonl", "r.json", 1, bundled=True)
    assert "--policy-dir" not in argv and argv[argv.index("--target") + 1] == sg.BUNDLED_TARGET
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_bytes(b"".join(bench.gen.generate(200, seed=4, broken_share=0.05, incomplete_share=0.1)))
    r = run([str(fleet)], RunOptions(target=sg.BUNDLED_TARGET, outputs=((Format.JSON, RenderOptions()),)))
    text = b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for item in r for p in item.parts)
    (tmp_path / "report.json").write_bytes(text)
    reading = sg.read_report(str(tmp_path / "report.json"), bundled=True)
    assert reading.packs and "bench-baseline-checks" not in reading.packs
    assert reading.hosts > 150 and not reading.pairs and sum(reading.fails) == 0
    with pytest.raises(ValueError):  # read as the benchmark pack's report, its rules are not the loop's checks
        sg.read_report(str(tmp_path / "report.json"))


def test_each_stage_of_the_stage_counter_runs(bench: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/stages.py cuts an audit after reading, after evaluating and after the
    report; each cut runs the library calls the CLI makes (callgrind counts them)."""
    import stages

    fleet = tmp_path / "fleet.jsonl"
    fleet.write_bytes(b"".join(bench.gen.generate(40, seed=6, broken_share=0.05, incomplete_share=0.1)))
    for stage in stages.STAGES:
        for bundled in (False, True):
            stages.run_stage(stage, str(fleet), bundled, tune_gc=False)  # the collector of this test process left alone
    assert capsys.readouterr().out == ""  # the JSON goes to /dev/null, not to stdout
