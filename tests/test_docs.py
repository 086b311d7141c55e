"""The README's claims that can drift from the code: pack versions and ranges."""
from __future__ import annotations

import re

from .conftest import REPO


def test_readme_pack_table_matches_the_bundled_packs(policies) -> None:
    rows = re.findall(r"^\| `([\w.-]+)` (\S+) \| `([^`]+)`", (REPO / "README.md").read_text("utf-8"), re.M)
    listed = {pid: (version, rng) for pid, version, rng in rows}
    bundled = {e.id: (e.version, e.applies_to) for e in policies.effective.values()}
    assert listed == bundled


def test_the_readme_test_command_is_what_ci_runs() -> None:
    """The README's second command is exactly the command line of .ci/run."""
    readme = (REPO / "README.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    ci = [ln for ln in (REPO / ".ci" / "run").read_text("utf-8").splitlines() if ln.startswith("python3 -m venv")]
    assert len(ci) == 1
    assert blocks[1].strip() == ci[0].strip()
    assert blocks[0].startswith("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/sitegate check examples/")
