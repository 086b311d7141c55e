"""docs/sources.md lists every source and rule of the bundled packs with the
confidence the packs give them; docs/collect-with-itms.md only uses collector
parameters that exist (issue 15, items 5 and 8)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCES = (REPO / "docs" / "sources.md").read_text("utf-8")
COLLECT_DOC = (REPO / "docs" / "collect-with-itms.md").read_text("utf-8")
PACKS = [yaml.safe_load(p.read_text("utf-8")) for p in sorted((REPO / "policies").glob("*.yaml"))]


def _rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]


def test_every_pack_source_is_listed_with_its_confidence() -> None:
    rows = _rows(SOURCES)
    for pack in PACKS:
        for src in pack.get("sources", []):
            hits = [r for r in rows if f"]({src['url']})" in r[0]]
            assert hits, f"{pack['id']}: {src['url']} is not in docs/sources.md"
            assert any(r[1] == src["confidence"] for r in hits), (src["url"], [r[1] for r in hits])


def test_every_rule_is_listed_with_severity_confidence_and_source() -> None:
    rows = {r[0].strip("`"): r for r in _rows(SOURCES) if r[0].startswith("`ITMS-")}
    ids = set()
    for pack in PACKS:
        for rule in pack.get("rules", []):
            ids.add(rule["id"])
            row = rows.get(rule["id"])
            assert row is not None, rule["id"]
            assert row[1:] == [f"`{pack['id']}`", rule["severity"], rule["confidence"], rule["source"]], (rule["id"], row)
    assert set(rows) == ids


def test_sources_doc_names_no_unshipped_reference_file() -> None:
    assert "itms-domain" not in SOURCES and "cmdb-schema.md" not in SOURCES


def _collector_params() -> set[str]:
    ps1 = (REPO / "facts" / "collector" / "collect.ps1").read_text("utf-8")
    block = ps1[ps1.index("param(") : ps1.index(")\n\n", ps1.index("param("))]
    return set(re.findall(r"\$(\w+)", block))


def test_collect_doc_uses_only_real_collector_parameters() -> None:
    used = set(re.findall(r"(?<![\w-])-([A-Z]\w+)", COLLECT_DOC))
    used -= {"NoProfile", "ExecutionPolicy", "File", "Raw"}  # powershell.exe's own switches and Get-Content -Raw
    assert used and used <= _collector_params(), used - _collector_params()


def test_collect_doc_says_what_was_not_tried() -> None:
    assert "not** tried on a real ITMS" in COLLECT_DOC or "were **not** tried" in COLLECT_DOC
    assert "sitegate audit" in COLLECT_DOC and "Run Script" in COLLECT_DOC and "custom inventory" in COLLECT_DOC.lower()
