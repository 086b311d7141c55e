"""Shared fixtures: the bundled policies, a CLI runner, paths."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sitegate.cli.main import app
from sitegate.engine.packs import PolicySet, load_policies

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def policies() -> PolicySet:
    ps, _ = load_policies()
    return ps


@pytest.fixture()
def cli():
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke


def run_sitegate(*args: str, cwd: Path | None = None, timeout: int = 120, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess (tracebacks would show here)."""
    return subprocess.run(
        [sys.executable, "-m", "sitegate.cli.main", *args],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input.decode() if input is not None else None,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
