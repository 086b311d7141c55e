"""Run mypy over the ``sitegate`` namespace as it installs.

setuptools' ``package-dir`` maps ``sitegate.engine`` to ``engine/`` and so on,
a layout mypy cannot see from the source tree. This script lays the
namespace out as a tree of symbolic links in a temporary directory and runs
mypy on it with the repository's ``[tool.mypy]`` configuration, so the
relative imports between layers (``from ..base import ...``) resolve exactly
as they do when installed. Used by ``tests/test_lint.py`` and by the
pre-commit hook.

    python tools/typecheck.py            # exit code is mypy's
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def package_dirs() -> dict[str, Path]:
    """The ``sitegate.*`` top-level subpackages and their folders, read from pyproject.toml."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name.split(".")[1]: REPO / folder for name, folder in mapping.items() if name.count(".") == 1}


def build_tree(root: Path) -> Path:
    """Create ``root/sitegate`` with one symlink per subpackage; return the package folder."""
    pkg = root / "sitegate"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for name, folder in package_dirs().items():
        os.symlink(folder, pkg / name, target_is_directory=True)
    return pkg


def main(argv: list[str]) -> int:
    """Lay out the tree, run mypy on it, return mypy's exit code."""
    with tempfile.TemporaryDirectory(prefix="sitegate-mypy-") as tmp:
        build_tree(Path(tmp))
        cmd = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"), "-p", "sitegate", *argv]
        return subprocess.run(cmd, cwd=tmp, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
