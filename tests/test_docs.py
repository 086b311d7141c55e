"""The README's claims that can drift from the code: pack versions and ranges."""
from __future__ import annotations

import re

from .conftest import REPO


def test_readme_pack_table_matches_the_bundled_packs(policies) -> None:
    rows = re.findall(r"^\| `([\w.-]+)` (\S+) \| `([^`]+)`", (REPO / "README.md").read_text("utf-8"), re.M)
    listed = {pid: (version, rng) for pid, version, rng in rows}
    bundled = {e.id: (e.version, e.applies_to) for e in policies.effective.values()}
    assert listed == bundled
