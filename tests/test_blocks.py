"""--jobs reads JSON Lines as blocks of whole lines: the same records, numbers and totals.

The main process cuts a file into :class:`RawBlock` s and counts only newlines and
blank lines; workers parse each block with :func:`iter_jsonl` and send back text
and :class:`Totals`. Whatever the block size, the records (index, line, every
diagnostic's position), the report and the summary must be those of reading the
file line by line in one process.
"""
from __future__ import annotations

import io
import json
import random
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegate.engine import summary as summary_mod
from sitegate.engine.evaluate import HostEvaluator, evaluate_stream
from sitegate.engine.options import EvalSettings, Options
from sitegate.engine.summary import SummaryBuilder, Totals
from sitegate.engine.parallel import RenderedBlock, evaluate_rendered_parallel, evaluate_stream_parallel
from sitegate.engine.render import Format, RenderOptions, make_renderer, render
from sitegate.facts import load
from sitegate.facts.load import HostRecord, RawBlock, Rejected, block_items, iter_jsonl, iter_jsonl_blocks, iter_paths

from .conftest import EXAMPLES

NOW = lambda: datetime(2026, 11, 25, tzinfo=timezone.utc)  # noqa: E731

# Lines that are records, bad records, or no record at all, in the shapes files really have.
GOOD = b'{"name":"H%d","os":{"build":17763,"product_type":"server","architecture":"x64"}}'
PIECES = [
    GOOD,
    b'  ' + GOOD + b'  ',             # padded record
    GOOD + b"\r",                     # CRLF line
    b"",                              # empty line
    b"   \t ",                        # whitespace-only line
    b"\r",                            # blank CRLF line
    b"\x0b\x0c",                      # other whitespace bytes.strip() removes
    b'{"name": "bad", "os": {"build": "17763"}}',  # wrong type
    b'{"name": "trunc", "os": {"bu',  # truncated JSON
    b"[1, 2]",                        # not an object
    b'{"os": {}}',                    # no name
    b"\xff\xfe garbage",              # not UTF-8
]


def _shape(item: Any) -> tuple[Any, ...]:
    """What must not change between the two readings: kind, numbers and every diagnostic."""
    if type(item) is HostRecord:
        return ("record", item.name, item.source, item.index, item.line, tuple(item.warnings))
    assert type(item) is Rejected
    return ("rejected", item.host, item.source, item.index, tuple((d.line, d.column, d.pointer, d.message, d.level) for d in item.diagnostics))


def _by_lines(data: bytes) -> list[tuple[Any, ...]]:
    return [_shape(i) for i in iter_jsonl(io.BytesIO(data), "f.jsonl", locate=True)]


def _by_blocks(data: bytes, block_size: int) -> list[tuple[Any, ...]]:
    blocks = list(iter_jsonl_blocks(io.BufferedReader(io.BytesIO(data)), "f.jsonl", block_size=block_size))  # type: ignore[arg-type]
    assert b"".join(b.data for b in blocks) == data or len(data) > load.MAX_RECORD_BYTES
    return [_shape(i) for b in blocks for i in block_items(b, locate=True)]


def _file(picks: list[int], final_newline: bool) -> bytes:
    lines = [PIECES[p].replace(b"%d", str(n).encode()) if b"%d" in PIECES[p] else PIECES[p] for n, p in enumerate(picks)]
    return b"\n".join(lines) + (b"\n" if final_newline and lines else b"")


@settings(max_examples=150)
@given(picks=st.lists(st.integers(0, len(PIECES) - 1), max_size=40), final_newline=st.booleans(), block_size=st.integers(1, 400))
def test_blocks_give_the_records_of_reading_line_by_line(picks: list[int], final_newline: bool, block_size: int) -> None:
    data = _file(picks, final_newline)
    assert _by_blocks(data, block_size) == _by_lines(data)


def _text(data: bytes) -> io.TextIOWrapper:
    """The file as Windows PowerShell would write it (UTF-16 with BOM), read as text."""
    return io.TextIOWrapper(io.BufferedReader(io.BytesIO(data.decode("latin-1").encode("utf-16"))), encoding="utf-16")  # type: ignore[arg-type]


@settings(max_examples=100)
@given(picks=st.lists(st.integers(0, len(PIECES) - 1), max_size=40), final_newline=st.booleans(), block_size=st.integers(1, 400))
def test_text_blocks_give_the_records_of_reading_utf16_line_by_line(picks: list[int], final_newline: bool, block_size: int) -> None:
    """UTF-16 JSON Lines (PowerShell's Out-File) go to the workers as text blocks; CR and CRLF are newlines there."""
    data = _file(picks, final_newline)
    expected = [_shape(i) for i in iter_jsonl(_text(data), "f.jsonl", locate=True)]
    blocks = list(iter_jsonl_blocks(_text(data), "f.jsonl", block_size=block_size))
    assert all(type(b.data) is str for b in blocks)
    assert [_shape(i) for b in blocks for i in block_items(b, locate=True)] == expected


@pytest.mark.parametrize("block_size", [1, 7, 64, 100, 1000])
def test_an_over_long_line_is_rejected_as_line_by_line_and_the_next_lines_keep_their_numbers(monkeypatch: pytest.MonkeyPatch, block_size: int) -> None:
    monkeypatch.setattr(load, "MAX_RECORD_BYTES", 80)
    long = b'{"name": "L", "pad": "' + b"x" * 200 + b'"}'
    exact = b'{"name":"E","x":"' + b"y" * 61 + b'"}'  # MAX bytes and its newline: read whole, a record
    one_more = b'{"name":"F","x":"' + b"y" * 62 + b'"}'  # MAX + 1 bytes before its newline: too long
    assert (len(exact), len(one_more)) == (80, 81)
    spaces = b" " * 200  # over-long before it could be seen to be blank: a rejected record, as line by line
    data = b"\n".join([GOOD.replace(b"%d", b"1"), long, b"", exact, one_more, long, spaces, GOOD.replace(b"%d", b"2"), exact, long])
    expected = _by_lines(data)
    assert [s[0] for s in expected] == ["record", "rejected", "record", "rejected", "rejected", "rejected", "record", "record", "rejected"]
    assert any("longer than" in d[3] for s in expected if s[0] == "rejected" for d in s[4])
    assert _by_blocks(data, block_size) == expected


def test_block_counts_records_and_lines_of_crlf_and_blank_files() -> None:
    data = b'{"name":"A"}\r\n\r\n  \r\n{"name":"B"}\r\n\n'
    blocks = list(iter_jsonl_blocks(io.BufferedReader(io.BytesIO(data)), "f.jsonl", block_size=3))  # type: ignore[arg-type]
    items = [i for b in blocks for i in block_items(b, locate=False)]
    assert [(i.name, i.index, i.line) for i in items] == [("A", 0, 1), ("B", 1, 4)]


def _fleet_with_blank_and_crlf_lines(fleet: Path, tmp_path: Path) -> Path:
    rng = random.Random(5)
    out = []
    for raw in fleet.read_bytes().splitlines()[:900]:
        out.append(raw + (b"\r\n" if rng.random() < 0.2 else b"\n"))
        if rng.random() < 0.05:
            out.append(rng.choice([b"\n", b"   \n", b"\r\n", b"\t\t\n"]))
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(out).rstrip(b"\n"))  # and no final newline
    return path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .test_audit import generate

    return generate(tmp_path_factory.mktemp("blocks") / "fleet.jsonl", 1200)


def test_workers_rendering_blocks_give_the_report_of_one_process(fleet: Path, tmp_path: Path, policies, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _fleet_with_blank_and_crlf_lines(fleet, tmp_path)
    monkeypatch.setattr(load, "BLOCK_BYTES", 20_000)  # dozens of blocks, cut anywhere
    opts = Options(target="8.7.3", locate=True, now=NOW, audit_date="2026-11-25")
    a = evaluate_stream(iter_paths([str(path)], locate=True), policies, opts).materialise()
    items = list(iter_paths([str(path)], locate=True, raw_lines=True, raw_blocks=True))
    assert len(items) > 20 and all(type(i) is RawBlock for i in items)
    b = evaluate_rendered_parallel(items, policies, opts, 2, ((Format.JSON, RenderOptions()),), method="spawn")
    r = make_renderer(Format.JSON, RenderOptions())
    parts = [r.start(b.header).encode()]
    for item in b.hosts:
        assert type(item) is RenderedBlock
        parts.append(r.place(b"") + item.fragments[0])
    parts.append(r.finish(b.summary).encode())
    assert b"".join(parts) == render(Format.JSON, a).encode()
    assert b.summary == a.summary
    assert a.summary.hosts_rejected > 0 and a.summary.gating_findings > 0


def test_blocks_evaluated_by_workers_come_back_as_the_host_results_of_one_process(fleet: Path, tmp_path: Path, policies, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rendering in the workers (waivers, baseline, SARIF): blocks still give every result, in order."""
    path = _fleet_with_blank_and_crlf_lines(fleet, tmp_path)
    monkeypatch.setattr(load, "BLOCK_BYTES", 30_000)
    opts = Options(target="8.7.3", locate=True, now=NOW, audit_date="2026-11-25", full_outcomes=True)
    a = evaluate_stream(iter_paths([str(path)], locate=True), policies, opts).materialise()
    b = evaluate_stream_parallel(iter_paths([str(path)], locate=True, raw_lines=True, raw_blocks=True), policies, opts, 2).materialise()
    c = evaluate_stream(iter_paths([str(path)], locate=True, raw_blocks=True), policies, opts).materialise()  # one process reads blocks too
    assert render(Format.JSON, b) == render(Format.JSON, a) == render(Format.JSON, c)
    assert a.summary == b.summary == c.summary


def test_totals_merged_in_order_equal_one_builder(fleet: Path, policies, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts add up and the first MAX_KEPT_DIAGNOSTICS diagnostics are kept, whatever the cuts."""
    monkeypatch.setattr(summary_mod, "MAX_KEPT_DIAGNOSTICS", 7)
    opts = Options(target="8.7.3", locate=True, now=NOW, audit_date="2026-11-25")
    ev = HostEvaluator(policies, EvalSettings.from_options(opts))
    evaluated = [ev.evaluate(i) for i in iter_paths([str(fleet)], locate=True)]
    whole = SummaryBuilder(opts)
    for e in evaluated:
        whole.add(e)
    rng = random.Random(11)
    for _ in range(5):
        cuts = sorted(rng.sample(range(1, len(evaluated)), 6))
        merged = SummaryBuilder(opts)
        for lo, hi in zip([0, *cuts], [*cuts, len(evaluated)]):
            part = Totals()
            for e in evaluated[lo:hi]:
                part.add(e)
            merged.merge(part)
        assert replace(merged.finish(), finished_at="") == replace(whole.finish(), finished_at="")
    assert whole.diag_total > 7 and len(whole.diagnostics) == 7


def test_cli_jobs_2_reads_a_json_document_and_jsonl_blocks_in_order(tmp_path: Path, fleet: Path, cli) -> None:
    """Mixed inputs: a JSON document (main process) between JSON Lines blocks (workers)."""
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.json"
        code, _, _ = cli("audit", str(fleet), str(EXAMPLES / "fleet.json"), str(fleet), "--target", "8.7.3", "-f", "json", "-o", str(out), "--jobs", jobs, "--audit-date", "2026-11-25", "--no-progress")
        assert code == 2  # broken records in the generated fleet
        outs.append(out.read_text(encoding="utf-8"))
    stamp = re.compile(r'"(started_at|finished_at)": "[^"]*"')
    assert stamp.sub("", outs[0]) == stamp.sub("", outs[1])
    sources = [h["source"] for h in json.loads(outs[1])["hosts"]]
    runs = [s for i, s in enumerate(sources) if i == 0 or sources[i - 1] != s]
    assert [Path(s).name for s in runs] == ["fleet.jsonl", "fleet.json", "fleet.jsonl"]


def test_cli_jobs_2_writes_the_json_report_to_stdout_as_jobs_1(fleet: Path, cli) -> None:
    outs = []
    for jobs in ("1", "2"):
        code, out, _ = cli("audit", str(fleet), "--target", "8.7.3", "-f", "json", "--jobs", jobs, "--audit-date", "2026-11-25", "--no-progress")
        assert code == 2
        outs.append(re.sub(r'"(started_at|finished_at)": "[^"]*"', r'"\1": "T"', out))
    assert outs[0] == outs[1]
    assert json.loads(outs[1])["summary"]["hosts_evaluated"] > 1000


def test_sink_writes_encoded_blocks_to_a_text_stream_without_a_byte_layer(tmp_path: Path) -> None:
    import contextlib
    import sys

    from sitegate.cli.output import OutputSpec, Sink

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        sink = Sink(OutputSpec(Format.JSON, "-"), make_renderer(Format.JSON, RenderOptions()))
        sink.write("a")
        sink.write_bytes("é,b".encode())
        sink.commit()
    assert buf.getvalue() == "aé,b"
    f = tmp_path / "o.json"
    sink = Sink(OutputSpec(Format.JSON, str(f)), make_renderer(Format.JSON, RenderOptions()))
    sink.write("a")
    sink.write_bytes("é,b".encode())
    sink.write("c")
    sink.commit()
    assert f.read_text(encoding="utf-8") == "aé,bc"
    assert sys.stdout is not buf


def test_jobs_0_means_one_worker_per_cpu(fleet: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from sitegate.cli import main as cli_main
    from sitegate.engine import run as run_mod

    assert run_mod.available_cpus() == max(1, min(64, len(os.sched_getaffinity(0))))
    seen: list[int] = []
    real = cli_main.start_run

    def spy(*a, **kw):
        r = real(*a, **kw)
        seen.append(r.jobs)
        return r
    monkeypatch.setattr(cli_main, "start_run", spy)
    monkeypatch.setattr(run_mod, "available_cpus", lambda: 3)
    outs = []
    for jobs in ("0", "1"):
        out = tmp_path / f"j{jobs}.json"
        code, _, err = cli("audit", str(fleet), "--target", "8.7.3", "-f", "json", "-o", str(out), "--jobs", jobs, "--audit-date", "2026-11-25", "--no-progress")
        assert code == 2, err
        outs.append(re.sub(r'"(started_at|finished_at)": "[^"]*"', "", out.read_text(encoding="utf-8")))
    assert seen == [3, 1]
    assert outs[0] == outs[1]
    code, _, err = cli("audit", str(fleet), "--jobs", "-1")
    assert code == 2 and "--jobs" in err


def test_cli_jobs_2_on_a_utf16_jsonl_inventory_equals_jobs_1(fleet: Path, tmp_path: Path, cli) -> None:
    path = tmp_path / "ps.jsonl"
    lines = fleet.read_text(encoding="utf-8").splitlines()[:700]
    path.write_bytes("\r\n".join(lines).encode("utf-16"))  # what Out-File writes: UTF-16 LE, BOM, CRLF
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"u{jobs}.json"
        code, _, err = cli("audit", str(path), "--target", "8.7.3", "-f", "json", "-o", str(out), "--jobs", jobs, "--audit-date", "2026-11-25", "--no-progress")
        assert code in (1, 2), err
        outs.append(re.sub(r'"(started_at|finished_at)": "[^"]*"', r'"\1": "T"', out.read_text(encoding="utf-8")))
    assert outs[0] == outs[1]
    report = json.loads(outs[1])
    assert len(report["hosts"]) == 700 and report["hosts"][-1]["line"] == 700
