"""The layer rules hold: base <- facts <- engine <- cli, renderers over the model only.

import-linter checks the contracts in ``.importlinter`` (every import, those
inside functions too) over the ``sitegate.*`` tree that ``tools/typecheck.py``
lays out as it installs. A second test proves the lower layers load alone.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import typecheck  # noqa: E402  (tools/ is not a package)


def test_import_contracts_are_kept(tmp_path: Path) -> None:
    pytest.importorskip("importlinter")
    typecheck.build_tree(tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()", str(REPO / ".importlinter")],
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("sitegate.base.diagnostics", ("sitegate.facts", "sitegate.engine", "sitegate.cli")),
        ("sitegate.base.yamlload", ("sitegate.facts", "sitegate.engine", "sitegate.cli")),
        ("sitegate.facts", ("sitegate.engine", "sitegate.cli")),
        ("sitegate.facts.load", ("sitegate.engine", "sitegate.cli")),
        ("sitegate.facts.importers", ("sitegate.engine", "sitegate.cli")),
    ],
)
def test_lower_layers_load_alone(module: str, forbidden: tuple[str, ...]) -> None:
    """``import sitegate.facts`` (and the rest of a lower layer) loads nothing from the layers above."""
    code = (
        f"import sys, {module}\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({forbidden!r}))\n"
        "print('\\n'.join(bad))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "", f"{module} loaded: {run.stdout}"


def test_every_diagnostic_code_is_documented() -> None:
    """docs/diagnostics.md has one row per Code member, and no row for a code that does not exist."""
    import re

    from sitegate.base.diagnostics import Code

    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.M))
    assert documented == {c.value for c in Code}


def test_cli_prints_each_diagnostic_with_its_code(tmp_path: Path) -> None:
    """stderr names the code of every diagnostic, so a user can look it up in docs/diagnostics.md."""
    from typer.testing import CliRunner

    from sitegate.cli.main import app

    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("schema: sitegate/waivers/v1\nwaivers: [\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(REPO / "examples" / "fleet.json"), "--target", "8.7.3", "--waivers", str(waivers)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "waivers.yaml:" in line]
    assert lines and all(line.endswith("[yaml-syntax]") for line in lines), result.stderr
