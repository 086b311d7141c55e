"""The Markdown summary (PR comment / CI job summary): goldens, bounds, escaping.

Regenerate the goldens after a policy change (and review the diff):
``python -m pytest tests/test_markdown.py --snapshot-update``.
"""
from __future__ import annotations

import re

import pytest

from sitegate.engine.baseline import load_baseline
from sitegate.engine.render import Format
from sitegate.engine.render.markdown import MAX_HOSTS, md
from sitegate.engine.waivers import load_waivers

from .formats_support import AUDIT_DATE, DATA, MarkdownSnapshot, options, render_one


@pytest.fixture()
def golden(snapshot):
    return snapshot.use_extension(MarkdownSnapshot)


CASES = {
    "default": lambda: options(),
    "waivers": lambda: options(waivers=load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE, display="tests/data/fleet-waivers.yaml")),
    "baseline": lambda: options(baseline=load_baseline(str(DATA / "fleet-baseline.json"), display="tests/data/fleet-baseline.json")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_markdown(case: str, policies, golden) -> None:
    text = render_one(Format.MARKDOWN, policies, CASES[case]())
    assert text == golden


def test_verdict_counts_and_hosts(policies) -> None:
    text = render_one(Format.MARKDOWN, policies)
    assert text.startswith("## sitegate: NOT READY (exit code 1)\n")
    assert "| fail | " in text and "| unknown | " in text and "### Findings by rule" in text
    assert "- **PS-PAR-02**" in text and "`ITMS-IIS-PACKAGE-FEATURES`" in text
    assert "- **TS-LON-01**" not in text  # compliant hosts are not listed


def test_waivers_and_baseline_sections(policies) -> None:
    w = render_one(Format.MARKDOWN, policies, CASES["waivers"]())
    assert re.search(r"^### Waived findings \(\d+\)$", w, re.M) and "`CHG-1001`" in w
    assert "### Waivers needing attention" in w and "`CHG-1002`" in w and "expired on 2026-06-30" in w and "`CHG-1003`" in w
    b = render_one(Format.MARKDOWN, policies, CASES["baseline"]())
    assert "### Fixed since the baseline (1)" in b and "TS-LON-01" in b and "in baseline" in b


def test_bounded_for_a_large_fleet(policies) -> None:
    hosts = [{"name": f"TS-{i:05d}", "dotnet": {"release": 1}, "site_services": {"planned": ["task"]}} for i in range(400)]
    text = render_one(Format.MARKDOWN, policies, items=hosts)
    assert text.count("\n- **TS-") == MAX_HOSTS
    assert f"... and {400 - MAX_HOSTS} more host(s)" in text
    assert len(text) < 60_000  # GitHub comments hold 65,536 characters


def test_untrusted_text_is_inert(policies) -> None:
    evil = "x](https://evil.example) <img src=x onerror=alert(1)> | *b* `c`\x1b[31m"
    text = render_one(Format.MARKDOWN, policies, items=[{"name": evil, "dotnet": {"release": 1}, "site_services": {"planned": ["task"]}}])
    assert not re.search(r"(?<!\\)<img", text) and "\\<img" in text
    assert not re.search(r"(?<!\\)\]\(https://evil", text) and "\x1b" not in text
    assert md("a|b") == "a\\|b" and md("<b>") == "\\<b\\>"


def test_input_problems_listed(policies, tmp_path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_text('{"name": "ok", "dotnet": {"release": 1}}\nnot json\n')
    from .formats_support import fleet_items

    text = render_one(Format.MARKDOWN, policies, items=fleet_items(p, "inv/f.jsonl"))
    assert text.startswith("## sitegate: INVALID INPUT (exit code 2)")
    assert "### Input problems (1)" in text and "inv/f.jsonl:2:1" in text


def test_hosts_and_findings_that_fail_the_gate_come_first(policies, monkeypatch) -> None:
    """With room for two hosts, the gating TS-NYC-03 is listed before the earlier, non-gating WKS-LYON-07,
    and its error-severity findings (gating) before its warnings."""
    import sitegate.engine.render.markdown as markdown

    monkeypatch.setattr(markdown, "MAX_HOSTS", 2)
    text = render_one(Format.MARKDOWN, policies)
    listed = re.findall(r"^- \*\*([\w-]+)\*\*", text, re.M)
    assert listed == ["PS-PAR-02", "TS-NYC-03"], text
    assert "... and 1 more host(s) with findings" in text
    nyc = text.split("- **TS-NYC-03**", 1)[1].split("\n- ", 1)[0]
    lines = [ln for ln in nyc.splitlines() if ln.startswith("  - **")]
    flags = ["not gating" not in ln for ln in lines]
    assert flags[0] and flags == sorted(flags, reverse=True), lines  # every gating line before any other


def test_new_and_unchanged_counts_leave_waived_findings_out_as_sarif_does(policies) -> None:
    import json

    w = load_waivers(str(DATA / "fleet-waivers.yaml"), today=AUDIT_DATE, display="tests/data/fleet-waivers.yaml")
    b = load_baseline(str(DATA / "fleet-baseline.json"), display="tests/data/fleet-baseline.json")
    opts = options(waivers=w, baseline=b)
    text = render_one(Format.MARKDOWN, policies, opts)
    m = re.search(r"(\d+) new, (\d+) unchanged since the baseline", text)
    assert m, text
    results = json.loads(render_one(Format.SARIF, policies, options(waivers=w, baseline=b)))["runs"][0]["results"]
    states = [r.get("baselineState") for r in results]
    assert (int(m.group(1)), int(m.group(2))) == (states.count("new"), states.count("unchanged"))
    assert "Findings: " in text and " waived" in text


def test_without_a_target_the_packs_used_are_named(policies) -> None:
    text = render_one(Format.MARKDOWN, policies, options(target=None))
    assert "packs itms-8.6@&#8203;1.1.0 (4 hosts)" in text  # '@' kept from making an e-mail link, text.splitlines()[2]
