"""docs/robustness.md names the tests that show each class: every one must exist."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_test_named_in_robustness_md_exists() -> None:
    doc = (REPO / "docs" / "robustness.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", doc)) | set(re.findall(r"\b(test_[a-z0-9_]+)\b", doc))
    defined = {m for p in (REPO / "tests").rglob("test_*.py") for m in re.findall(r"^def (test_[a-z0-9_]+)", p.read_text(encoding="utf-8"), re.M)}
    files = {p.stem for p in (REPO / "tests").rglob("test_*.py")}
    missing = sorted(n for n in named if n not in defined and n not in files)
    assert named and not missing, missing
