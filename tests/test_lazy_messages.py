"""Messages are written only for the outputs that show them (issue 18, item 2).

The JSON report carries every finding's evidence but no message, so an audit
that writes only JSON must never format one; SARIF, JUnit, the table,
Markdown and HTML show them and get exactly the text an eager engine wrote.
"""
from __future__ import annotations

import pickle
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sitegate.engine import messages as messages_mod
from sitegate.engine.model import Finding, Location, Outcome
from sitegate.engine.render import Format, RenderOptions
from sitegate.engine.run import RunOptions, run

from .conftest import EXAMPLES
from .test_audit import generate

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def _count_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = messages_mod.MessageTemplate.write

    def counting(self: Any, *args: Any) -> str:
        calls[0] += 1
        return real(self, *args)
    monkeypatch.setattr(messages_mod.MessageTemplate, "write", counting)
    return calls


def _texts(inputs: list[str], fmt: Format, **kw: Any) -> tuple[str, int]:
    r = run(inputs, RunOptions(target="8.7.3", audit_date="2026-11-25", outputs=((fmt, RenderOptions()),), now=lambda: NOW, **kw))
    out = "".join(p.decode("utf-8") if isinstance(p, bytes) else p for item in r for p in item.parts)
    return out, r.exit_code


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_json_audit_writes_no_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    fleet = generate(tmp_path / "fleet.jsonl", 300, seed=3, broken=0.02)
    calls = _count_writes(monkeypatch)
    text, code = _texts([str(fleet)], Format.JSON, jobs=jobs)
    assert text.count('"rule_id"') > 300  # findings were reported, with their evidence
    assert '"evidence"' in text and code in (1, 2)
    if jobs == 1:  # worker processes do not see this process's patch; one process must not write any
        assert calls[0] == 0


def test_outputs_that_show_messages_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_writes(monkeypatch)
    sarif, _ = _texts([str(EXAMPLES / "fleet.json")], Format.SARIF)
    assert calls[0] > 0
    # A message of the example fleet (WKS-LYON-07 records 60 concurrent connections on
    # Windows 10 Enterprise), as the capacity rule's template writes it.
    assert '"text": "WKS-LYON-07: a desktop OS (Enterprise edition) is expected to take 60 concurrent connections; expected <= 10' in sarif


def test_sarif_and_junit_are_the_same_through_worker_processes(tmp_path: Path) -> None:
    """With --jobs 2 the host results (and their pending messages) cross a process boundary."""
    fleet = generate(tmp_path / "fleet.jsonl", 400, seed=9, broken=0.02)
    waivers = tmp_path / "w.yaml"  # waivers make the workers send host results back, not text
    waivers.write_text("schema: sitegate/waivers/v1\nwaivers: []\n", encoding="utf-8")
    for fmt in (Format.SARIF, Format.JUNIT, Format.MARKDOWN):
        one, c1 = _texts([str(fleet)], fmt, jobs=1, waivers=str(waivers))
        two, c2 = _texts([str(fleet)], fmt, jobs=2, waivers=str(waivers))
        assert one == two, fmt
        assert c1 == c2


def _finding(text: Any) -> Finding:
    return Finding("R-1", Outcome.FAIL, "error", "high", text, (), Location("f.json", 1, 1, ""), "x.y", True)


def test_a_pending_message_survives_pickling_and_compares_by_its_text() -> None:
    tpl = messages_mod.MessageTemplate("R-1", "Title", "{host}: disk {hardware.disk_gb} GB on {host}, needs {expected}")
    from sitegate.engine.model import Evidence

    ev = (Evidence("hardware.disk_gb", "/hardware/disk_gb", 7, ">= 10", "ge", "fail"),)
    pending = messages_mod.PendingMessage(tpl, 1, ev, (7,), "8.7.3")
    lazy = _finding((pending, "HOST-A"))
    assert lazy.message == "HOST-A: disk 7 GB on HOST-A, needs >= 10"
    assert _finding((pending, "HOST-B")).message == "HOST-B: disk 7 GB on HOST-B, needs >= 10"
    back = pickle.loads(pickle.dumps(lazy))
    assert back.message == lazy.message
    eager = _finding("HOST-A: disk 7 GB on HOST-A, needs >= 10")
    assert lazy == eager and back == eager and hash(lazy) == hash(eager)
    assert lazy != _finding("HOST-A: something else")


def test_a_value_with_a_nul_is_written_per_host_not_split() -> None:
    """A fact value holding NULs besides the host marks would make the split ambiguous."""
    tpl = messages_mod.MessageTemplate("R-1", "Title", "{host}: path {p.q}")
    value = f"C:\\x{messages_mod.HOST_MARK}y"
    pending = messages_mod.PendingMessage(tpl, 1, (), (value,), "8.7.3")
    assert pending.parts() is None
    assert pending.render("H1") == f"H1: path {value}"
    plain = messages_mod.PendingMessage(tpl, 1, (), ("C:\\store",), "8.7.3")
    assert plain.parts() == ("", ": path C:\\store")
    assert plain.render("H2") == "H2: path C:\\store"
