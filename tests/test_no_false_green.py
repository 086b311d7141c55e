"""No false green (issue 16): over generated document shapes, no run exits 0 while a host of
the input was not evaluated, and every output of a run records the exit code the process
returns.

The shapes are the ones a person or an exporter writes by mistake: a fleet with a name,
hosts inside a host, a wrapper with host fields, arrays in arrays, JSON Lines of any of
them. ``--fail-on never --allow-unknown`` keeps findings from gating, so an exit 0 can only
mean "every host was read and evaluated".
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sitegate.cli.main import app

_counter = iter(range(10**9))


def _host() -> dict[str, Any]:
    return {"name": f"H-{next(_counter)}", "platform": {"itms_version": "8.7.3"}}


class Doc:
    """A generated document and how many host objects it holds anywhere."""

    def __init__(self, value: Any, hosts: int):
        self.value = value
        self.hosts = hosts


def _hosts_list(n: int) -> tuple[list[Any], int]:
    return [_host() for _ in range(n)], n


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> Doc:
    kind = draw(st.sampled_from(
        ["host", "array", "wrapper", "named-fleet", "host-with-hosts", "wrapper-with-host-field",
         "wrapper-with-extra", "nested-array", "mixed-array"] if depth == 0 else ["host", "host-with-hosts", "nested-array"]
    ))
    n = draw(st.integers(min_value=0, max_value=3))
    if kind == "host":
        return Doc(_host(), 1)
    hosts, count = _hosts_list(n)
    if kind == "array":
        return Doc(hosts, count)
    if kind == "wrapper":
        return Doc({"hosts": hosts}, count)
    if kind == "named-fleet":
        return Doc({"name": "fleet-2026", "hosts": hosts}, count)
    if kind == "host-with-hosts":
        h = _host()
        h["hosts"] = hosts
        return Doc(h, count + 1)
    if kind == "wrapper-with-host-field":
        return Doc({"hosts": hosts, "os": {"caption": "Windows Server 2019"}}, count)
    if kind == "wrapper-with-extra":
        return Doc({"hosts": hosts, "generated_by": "exporter"}, count)
    if kind == "nested-array":
        return Doc([hosts], count)
    inner = draw(documents(depth=1))
    return Doc([*hosts, inner.value], count + inner.hosts)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[str, str, int]:
    """(file name, text, host objects in it)."""
    if draw(st.booleans()):
        d = draw(documents())
        return "facts.json", json.dumps(d.value, indent=draw(st.sampled_from([None, 2]))), d.hosts
    docs = draw(st.lists(documents(), min_size=1, max_size=4))
    return "facts.jsonl", "".join(json.dumps(d.value) + "\n" for d in docs), sum(d.hosts for d in docs)


def _exit_codes(out: dict[str, Path], stdout: str) -> dict[str, int]:
    codes = {"json": json.loads(out["json"].read_text())["summary"]["exit_code"]}
    codes["sarif"] = json.loads(out["sarif"].read_text())["runs"][0]["invocations"][0]["exitCode"]
    root = ET.fromstring(out["junit"].read_bytes())
    codes["junit"] = int(root.find("testsuite[@name='sitegate']/properties/property[@name='exit_code']").get("value"))  # type: ignore[union-attr]
    first = out["markdown"].read_text().splitlines()[0]
    codes["markdown"] = int(first.rsplit("(exit code ", 1)[1].rstrip(")"))
    html = out["html"].read_text()
    codes["html"] = int(html.split("(exit code ", 1)[1].split(")", 1)[0])
    codes["table"] = int(stdout.rsplit("(exit code ", 1)[1].split(")", 1)[0])
    return codes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=inputs())
def test_no_exit_0_while_a_host_was_not_evaluated(case: tuple[str, str, int], tmp_path_factory) -> None:
    name, text, expected_hosts = case
    d = tmp_path_factory.mktemp("shape")
    facts = d / name
    facts.write_text(text, encoding="utf-8")
    out = {f: d / f"r.{f}" for f in ("json", "sarif", "junit", "markdown", "html")}
    result = CliRunner().invoke(app, [
        "check", str(facts), "--target", "8.7.3", "--fail-on", "never", "--allow-unknown",
        *[a for f, p in out.items() for a in ("-o", f"{f}={p}")], "-o", "table=-",
    ], catch_exceptions=False)
    code = result.exit_code
    assert code in (0, 2), result.stdout + result.stderr
    # Every output says what the process says.
    assert set(_exit_codes(out, result.stdout).values()) == {code}
    summary = json.loads(out["json"].read_text())["summary"]
    if code == 0:
        assert summary["hosts_evaluated"] == expected_hosts, (text, summary)
        assert summary["hosts_rejected"] == 0
    else:
        assert summary["hosts_evaluated"] < expected_hosts or summary["hosts_rejected"] or summary["diagnostics_total"]
