"""`sitegate audit`: streaming, --jobs N identical to --jobs 1, flat memory, progress."""
from __future__ import annotations

import io
import json
import pickle
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from sitegate.cli.progress import Progress
from sitegate.engine.evaluate import HostEvaluator, evaluate_stream
from sitegate.engine.model import MISSING
from sitegate.engine.options import EvalSettings, Options
from sitegate.engine.parallel import evaluate_stream_parallel
from sitegate.engine.render import Format, render
from sitegate.facts.fastcheck import Walk
from sitegate.facts.load import RawLine, host_check, host_fast_check, iter_paths

from .conftest import EXAMPLES, REPO, run_sitegate

GENERATOR = REPO / "benchmarks" / "generate_fleet.py"
STAMP = re.compile(r'"(started_at|finished_at)": "[^"]*"')


def generate(path: Path, hosts: int, seed: int = 7, broken: float = 0.03) -> Path:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--hosts", str(hosts), "--seed", str(seed), "--out", str(path), "--broken-share", str(broken), "--incomplete-share", "0.1"],
        check=True, capture_output=True,
    )
    return path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("fleet") / "fleet.jsonl", 3000)


def _normalised(path: Path) -> str:
    return STAMP.sub(r'"\1": "T"', path.read_text(encoding="utf-8"))


def test_jobs_2_report_is_identical_to_jobs_1(fleet: Path, tmp_path: Path) -> None:
    outs = {}
    codes = {}
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}.json"
        proc = run_sitegate("audit", str(fleet), "--target", "8.7.3", "-f", "json", "-o", str(out), "--jobs", str(jobs), "--audit-date", "2026-11-25", timeout=300)
        codes[jobs] = proc.returncode
        outs[jobs] = _normalised(out)
    assert codes[1] == codes[2] == 2  # the fleet holds broken records
    assert outs[1] == outs[2]
    report = json.loads(outs[1])
    assert report["summary"]["hosts_rejected"] > 0
    assert len(report["hosts"]) == report["summary"]["hosts_read"] + sum(1 for h in report["hosts"] if h["index"] < 0)
    # input order is kept
    lines = [h["line"] for h in report["hosts"]]
    assert lines == sorted(lines)


def test_parallel_with_spawn_matches_in_process(fleet: Path, policies) -> None:
    now = lambda: datetime(2026, 11, 25, tzinfo=timezone.utc)  # noqa: E731
    opts = Options(target="8.7.3", locate=True, now=now, audit_date="2026-11-25", capacity=True, full_outcomes=True)
    first = list(iter_paths([str(fleet)], locate=True))[:400]
    raw = list(iter_paths([str(fleet)], locate=True, raw_lines=True))[:400]
    a = evaluate_stream(first, policies, opts).materialise()
    b = evaluate_stream_parallel(raw, policies, opts, 2, chunk_size=37, method="spawn").materialise()
    assert render(Format.JSON, a) == render(Format.JSON, b)
    assert [h.capacity for h in a.hosts] == [h.capacity for h in b.hosts]
    assert a.summary == b.summary


def test_workers_that_render_give_the_same_json_and_summary(fleet: Path, policies) -> None:
    """--jobs with the JSON report: workers render each host; the text and totals must not change."""
    from sitegate.engine.parallel import evaluate_rendered_parallel
    from sitegate.engine.render import RenderOptions, make_renderer

    now = lambda: datetime(2026, 11, 25, tzinfo=timezone.utc)  # noqa: E731
    opts = Options(target="8.7.3", locate=True, now=now, audit_date="2026-11-25")
    a = evaluate_stream(iter_paths([str(fleet)], locate=True), policies, opts).materialise()
    raw = iter_paths([str(fleet)], locate=True, raw_lines=True)
    b = evaluate_rendered_parallel(raw, policies, opts, 2, ((Format.JSON, RenderOptions()),), chunk_size=37, method="spawn")
    r = make_renderer(Format.JSON, RenderOptions())
    text = r.start(b.header).encode() + b"".join(r.place(item.fragments[0]) for item in b.hosts) + r.finish(b.summary).encode()
    assert text == render(Format.JSON, a).encode()
    assert b.summary == a.summary
    assert a.summary.hosts_rejected > 0 and a.summary.gating_findings > 0


@pytest.mark.parametrize("extra", [["-o", "sarif={out}.sarif"], ["--waivers", "{data}/fleet-waivers.yaml"], ["--capacity"]])
def test_jobs_2_falls_back_to_main_process_rendering_identically(fleet: Path, tmp_path: Path, extra: list[str]) -> None:
    """SARIF (numbered results), waivers (applied in input order) and the capacity view
    are rendered in the main process with --jobs 2; the outputs are still those of --jobs 1."""
    data = Path(__file__).parent / "data"
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        args = [a.format(out=out, data=data) for a in extra]
        proc = run_sitegate("audit", str(fleet), "--target", "8.7.3", "-o", f"json={out}.json", *args, "--jobs", str(jobs), "--audit-date", "2026-11-25", timeout=300)
        assert proc.returncode in (1, 2), proc.stderr
        texts = [STAMP.sub("", (tmp_path / f"j{jobs}.json").read_text(encoding="utf-8"))]
        if (tmp_path / f"j{jobs}.sarif").exists():
            texts.append(STAMP.sub("", re.sub(r'"(startTimeUtc|endTimeUtc)": "[^"]*"', "", (tmp_path / f"j{jobs}.sarif").read_text(encoding="utf-8"))))
        outs.append(texts)
    assert outs[0] == outs[1]


def test_documents_and_memory_items_go_through_the_parallel_path(policies, tmp_path: Path) -> None:
    """JSON documents keep their exact positions (evaluated in the main process) and order."""
    now = lambda: datetime(2026, 11, 25, tzinfo=timezone.utc)  # noqa: E731
    opts = Options(target="8.7.3", locate=True, now=now, audit_date="2026-11-25")
    paths = [str(EXAMPLES / "fleet.json")]
    a = evaluate_stream(iter_paths(paths, locate=True), policies, opts).materialise()
    b = evaluate_stream_parallel(iter_paths(paths, locate=True, raw_lines=True), policies, opts, 2).materialise()
    assert render(Format.JSON, a) == render(Format.JSON, b)


def test_audit_matches_check_on_the_example_fleet(cli) -> None:
    c1, out1, _ = cli("check", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json", "--audit-date", "2026-11-25")
    c2, out2, _ = cli("audit", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json", "--audit-date", "2026-11-25")
    assert c1 == c2 == 1
    assert STAMP.sub("", out1) == STAMP.sub("", out2)


def test_audit_capacity_section_in_json(cli) -> None:
    code, out, _ = cli("audit", str(EXAMPLES / "fleet.json"), "--target", "8.7.3", "-f", "json", "--capacity")
    report = json.loads(out)
    cap = report["capacity"]
    assert {g["key"] for g in cap["notification_servers"]} == {"NS-EU-01", "NS-US-01"}
    lyon = next(g for g in cap["sites"] if g["key"] == "Lyon")
    assert lyon["overloaded"] and lyon["upgrade_hosts"] == ["WKS-LYON-07"]
    assert list(report)[-2:] == ["capacity", "summary"]


def test_capacity_section_of_a_group_nothing_can_carry_has_no_null(policies) -> None:
    """A Notification Server whose only site server serves no endpoints (monitor only) has no
    utilisation: the v2 report leaves the key out rather than writing null."""
    from sitegate.engine.evaluate import evaluate
    from sitegate.engine.render import RenderOptions

    host = json.loads((EXAMPLES / "fleet.json").read_text("utf-8"))["hosts"][0]
    host["identity"]["notification_server"] = "Nowhere"
    host["site_services"] = {"installed": [{"service": "monitor"}]}
    report = evaluate([host], policies, Options(target="8.7.3", audit_date="2026-11-25", capacity=True))
    doc = json.loads(render(Format.JSON, report, RenderOptions(capacity=True)))
    (nowhere,) = [g for g in doc["capacity"]["notification_servers"] if g["key"] == "Nowhere"]
    assert nowhere["capacity_planned"] == 0 and "utilisation" not in nowhere
    assert "null" not in json.dumps(doc)


def test_no_progress_output_on_a_pipe(fleet: Path, tmp_path: Path) -> None:
    proc = run_sitegate("audit", str(fleet), "--target", "8.7.3", "-f", "json", "-o", str(tmp_path / "o.json"))
    assert "hosts/s" not in proc.stderr and "\r" not in proc.stderr


def test_progress_is_throttled_and_estimates_eta() -> None:
    t = [0.0]
    buf = io.StringIO()
    meter = [0]
    p = Progress(buf, total_bytes=1000, meter=meter, enabled=True, clock=lambda: t[0])
    for i in range(1, 10001):
        t[0] = i * 0.001  # 10 s of updates, one per millisecond
        meter[0] = i // 20
        p.update(i)
    assert 90 <= p.drawn <= 101  # at most 10 redraws per second
    assert "ETA" in p.text() and "hosts/s" in p.text()
    p.close()
    assert buf.getvalue().endswith("\n")
    quiet = io.StringIO()
    q = Progress(quiet)  # StringIO is not a TTY
    q.update(5)
    q.close()
    assert quiet.getvalue() == ""


def test_missing_sentinel_and_raw_lines_pickle() -> None:
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING
    rl = RawLine("f.jsonl", 3, 4, b'{"name": "x"}')
    assert pickle.loads(pickle.dumps(rl)) == rl


def test_fast_validator_never_accepts_what_the_exact_one_rejects(fleet: Path) -> None:
    fast = host_fast_check()
    exact = host_check()
    seen_fast = 0
    for line in fleet.read_bytes().splitlines():
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        variants = [value]
        if isinstance(value, dict):
            variants += [
                {**value, "unknown_field": 1},
                {**value, "os": {**(value.get("os") or {}), "build": "17763"}},
                {**value, "load": {"endpoints": 4.0}},
                {**value, "name": None},
                {**value, "agent": None},
            ]
        for v in variants:
            w = Walk()
            ok = exact(v, "", w) and not w.errors and not w.warnings
            if fast(v):
                seen_fast += 1
                assert ok, (v, w.errors, w.warnings)
    assert seen_fast > 1000


def test_evaluator_and_settings_are_picklable(policies) -> None:
    s = EvalSettings.from_options(Options(target="8.7.3"))
    assert pickle.loads(pickle.dumps(s)) == s
    ev = HostEvaluator(policies, s)
    r = ev.evaluate(RawLine("x.jsonl", 0, 1, b'{"name": "H1", "site_services": {"planned": ["task"]}}'))
    assert r.result is not None and r.result.name == "H1" and r.read
    back = pickle.loads(pickle.dumps(r))
    assert back.result == r.result


RSS_SCRIPT = r"""
import resource, subprocess, sys
p = subprocess.run([sys.executable, "-m", "sitegate.cli.main", "audit", sys.argv[1], "--target", "8.7.3", "-f", "json", "-o", sys.argv[2]],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)
"""


def _peak_rss_kib(fleet: Path, out: Path) -> int:
    proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(fleet), str(out)], capture_output=True, text=True, check=True, timeout=600)
    rss, code = proc.stdout.split()
    assert int(code) in (1, 2)
    return int(rss)


def test_memory_stays_flat_from_5k_to_50k_hosts(tmp_path: Path) -> None:
    """Peak RSS of a 50k-host audit is within a generous margin of a 5k-host one (not timed)."""
    small = generate(tmp_path / "small.jsonl", 5_000, seed=5, broken=0.01)
    large = generate(tmp_path / "large.jsonl", 50_000, seed=5, broken=0.01)
    rss_small = _peak_rss_kib(small, tmp_path / "small.json")
    rss_large = _peak_rss_kib(large, tmp_path / "large.json")
    large.unlink()
    # 10x the hosts (and ~10x the report, streamed to disk): less than 40 MiB more.
    assert rss_large - rss_small < 40 * 1024, (rss_small, rss_large)


def test_floor_script_sums_its_stages(fleet: Path) -> None:
    """benchmarks/floor.py runs on a generated fleet and its floor is the sum of the stages it prints (not timed)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "floor.py"), str(fleet), "--repeat", "1", "--hosts-for", "1000"],
        capture_output=True, text=True, check=True,
    )
    rows = dict(re.findall(r"^(\S.*?)\s+(\d+\.\d)$", proc.stdout, re.M))
    stages = ["strict decode", "duplicate-key proof", "derive", "checks (loop minus its parse)", "JSON report text"]
    assert [k for k in rows if not k.startswith("(") and not k.startswith("floor")] == stages, proc.stdout
    assert all(float(rows[s]) > 0 for s in stages), proc.stdout
    floor = float(rows["floor (sum, the parse excluded)"])
    assert abs(floor - sum(float(rows[s]) for s in stages)) <= 0.3, proc.stdout  # each printed to 0.1
    assert re.search(r"budget: 15 s for 1,000 hosts = 15000\.0 us/host", proc.stdout), proc.stdout
