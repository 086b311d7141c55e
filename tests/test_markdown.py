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
    assert text.startswith("## sitegate: NOT COMPLIANT (exit code 1)\n")
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
