"""The library entry point (engine.run) gives what the CLI writes, byte for byte.

The CLI is a thin layer over ``sitegate.engine.run.run``: a Python user who
calls it with the same options gets the same outputs and exit code. The clock
is fixed in both (the run's default clock reads ``engine.run.datetime``), so
the comparison needs no masking of timestamps.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sitegate.engine import run as run_mod
from sitegate.engine.model import FailOn, HostResult
from sitegate.engine.render import Format, RenderOptions
from sitegate.engine.run import RunItem, RunOptions, run

REPO = Path(__file__).resolve().parents[1]
FLEET = REPO / "examples" / "fleet.json"
FIXED = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


class _FixedClock(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return FIXED if tz is None else FIXED.astimezone(tz)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_mod, "datetime", _FixedClock)


def _library(inputs: list[str], options: RunOptions) -> tuple[list[bytes], int, list[RunItem]]:
    r = run(inputs, options)
    items = list(r)
    texts: list[bytearray] = [bytearray() for _ in options.outputs]
    for item in items:
        for buf, part in zip(texts, item.parts):
            buf += part if isinstance(part, bytes) else part.encode("utf-8")
    return [bytes(b) for b in texts], r.exit_code, items


FORMATS = (Format.JSON, Format.SARIF, Format.JUNIT, Format.MARKDOWN, Format.TABLE, Format.HTML)
SUFFIX = {Format.JSON: "json", Format.SARIF: "sarif", Format.JUNIT: "xml", Format.MARKDOWN: "md", Format.TABLE: "txt", Format.HTML: "html"}


@pytest.mark.parametrize("profile", ["github", "full"])
def test_check_through_the_library_equals_the_cli(cli, tmp_path: Path, profile: str) -> None:
    args = ["check", str(FLEET), "--target", "8.7.3", "--audit-date", "2026-11-25", "--sarif-profile", profile]
    for f in FORMATS:
        args += ["-o", f"{f.value}={tmp_path / ('cli.' + SUFFIX[f])}"]
    code, _, err = cli(*args)
    assert code == 1, err  # the example fleet has gating findings at 8.7.3
    options = RunOptions(
        target="8.7.3", audit_date="2026-11-25",
        outputs=tuple((f, RenderOptions(sarif_profile=profile)) for f in FORMATS),
    )
    texts, exit_code, items = _library([str(FLEET)], options)
    assert exit_code == code
    for f, text in zip(FORMATS, texts):
        assert text == (tmp_path / ("cli." + SUFFIX[f])).read_bytes(), f.value
    report = json.loads(texts[0])
    assert [h["name"] for h in report["hosts"]] == ["TS-LON-01", "PS-PAR-02", "WKS-LYON-07", "TS-NYC-03"]
    assert report["run"]["started_at"] == "2026-11-25T09:30:00Z"
    # One item type: the header, one item per host carrying its result, the summary.
    assert [it.hosts for it in items] == [0, 1, 1, 1, 1, 0]
    assert all(type(it.result) is HostResult for it in items[1:-1])
    assert items[0].result is None and items[-1].result is None


def test_audit_with_workers_through_the_library_equals_the_cli(cli, tmp_path: Path) -> None:
    # JSON Lines with --jobs 2: the workers evaluate and render blocks (bytes parts).
    fleet = json.loads(FLEET.read_text(encoding="utf-8"))["hosts"]
    jsonl = tmp_path / "fleet.jsonl"
    jsonl.write_text("".join(json.dumps(h) + "\n" for h in fleet * 50), encoding="utf-8")
    out = tmp_path / "cli.json"
    code, _, err = cli("audit", str(jsonl), "--target", "8.7.3", "--audit-date", "2026-11-25", "--jobs", "2", "--no-progress", "-f", "json", "-o", str(out))
    assert code == 1, err
    texts, exit_code, items = _library([str(jsonl)], RunOptions(target="8.7.3", audit_date="2026-11-25", jobs=2, outputs=((Format.JSON, RenderOptions()),)))
    assert exit_code == 1
    assert texts[0] == out.read_bytes()
    assert sum(it.hosts for it in items) == 200
    assert any(isinstance(p, bytes) for it in items for p in it.parts)
    # And the same report from one process.
    single, _, _ = _library([str(jsonl)], RunOptions(target="8.7.3", audit_date="2026-11-25", outputs=((Format.JSON, RenderOptions()),)))
    assert single[0] == texts[0]


def test_setup_errors_reach_every_output_and_exit_2(cli, tmp_path: Path) -> None:
    out = tmp_path / "cli.json"
    code, _, err = cli("check", str(FLEET), "--target", "nine", "--audit-date", "2026-11-25", "-f", "json", "-o", str(out))
    assert code == 2 and "--target" in err
    r = run([str(FLEET)], RunOptions(target="nine", audit_date="2026-11-25", outputs=((Format.JSON, RenderOptions()),)))
    assert [d.source for d in r.setup_errors] == ["--target"]
    text = "".join(p for it in r for p in it.parts if isinstance(p, str))
    assert r.exit_code == 2
    assert text.encode() == out.read_bytes()
    assert json.loads(text)["summary"]["hosts_read"] == 0


def test_results_without_outputs(tmp_path: Path) -> None:
    # A caller that wants results, not text (plan, remediate): no outputs, same run.
    r = run([str(FLEET)], RunOptions(target="8.7.3", audit_date="2026-11-25", fail_on=FailOn.NEVER, full_outcomes=True))
    results = [it.result for it in r if it.result is not None]
    assert [h.name for h in results] == ["TS-LON-01", "PS-PAR-02", "WKS-LYON-07", "TS-NYC-03"]
    assert all(h.outcomes and len(h.outcomes) == len(h.rule_ids) for h in results)
    assert r.exit_code == 0  # --fail-on never: nothing gates
    assert r.summary.hosts_evaluated == 4
