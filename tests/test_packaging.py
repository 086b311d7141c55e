"""Package hygiene: licence, changelog, metadata, and tests that run from any checkout."""
from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

from sitegate.engine import __version__

from .conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_the_apache_2_text_pyproject_names() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert re.match(r"\s*Apache License\s+Version 2\.0, January 2004\s+http://www\.apache\.org/licenses/", text)
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    project = PYPROJECT["project"]
    # PEP 639: an SPDX expression (the table form is deprecated) and the file it covers.
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))


def test_wheel_carries_the_license_expression_and_file(sitegate_wheel: Path) -> None:
    with zipfile.ZipFile(sitegate_wheel) as z:
        names = z.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = z.read(metadata).decode("utf-8")
        (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert z.read(licence) == (REPO / "LICENSE").read_bytes()
    assert re.search(r"^License-Expression: Apache-2\.0$", meta, re.M), meta[:2000]
    assert re.search(r"^License-File: LICENSE$", meta, re.M)
    assert re.search(rf"^Version: {re.escape(__version__)}$", meta, re.M)


def test_changelog_has_notes_for_this_version() -> None:
    version = PYPROJECT["project"]["version"]
    assert version == __version__
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    (this,) = [s for s in sections if s.startswith(f"[{version}]")]
    bullets = re.findall(r"^- ", this, re.M)
    assert len(bullets) >= 5, this
    assert "Unreleased" in sections[1], "the newest section is the one being written"


def test_tests_find_shared_beside_the_checkout() -> None:
    """../shared is found relative to the repository root (a worktree in /work/wt/NAME
    has /work/wt/shared beside it), never by an absolute path."""
    offenders = [
        f"{p.name}:{i}"
        for p in sorted((REPO / "tests").glob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""["']/work/""", line)
    ]
    assert not offenders, offenders
    from .formats_support import SHARED_SCHEMAS

    assert SHARED_SCHEMAS == REPO.parent / "shared" / "format-schemas"
