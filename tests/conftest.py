"""Shared fixtures: the bundled policies, a CLI runner, paths."""
from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from typer.testing import CliRunner

from sitegate.cli.main import app
from sitegate.engine.packs import PolicySet, load_policies

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

# The suite starts the CLI as a real subprocess a few hundred times. Where
# PYTHONDONTWRITEBYTECODE is set (containers often set it), each start compiles
# every sitegate module of the editable install from source again, about 0.13 s
# that an installed wheel (which ships .pyc files) never pays. The children get a
# bytecode cache outside the checkout instead, so they start as an install does and
# the checkout stays clean. Set here, before any test or xdist worker starts one.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None and "PYTHONPYCACHEPREFIX" not in os.environ:
    os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"sitegate-test-pycache-{os.getuid()}")


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


@pytest.fixture(scope="session")
def sitegate_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from this checkout, once per session, offline (no build isolation)."""
    out = tmp_path_factory.mktemp("wheel")
    # pip builds in the checkout (build/, *.egg-info): under pytest-xdist two
    # workers may want the wheel at once, so one builds at a time.
    lock = Path(tempfile.gettempdir()) / f"sitegate-wheel-{hashlib.sha256(str(REPO).encode()).hexdigest()[:12]}.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
            check=True, timeout=300,
        )
    (wheel,) = out.glob("sitegate-*.whl")
    return wheel


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


@dataclass
class InProcess:
    """What one in-process run of the console entry point did."""

    returncode: int
    stdout: str
    stderr: str


class InProcessTimeout(BaseException):
    """Raised by the alarm of ``run_in_process`` (a BaseException, so the CLI's
    last-line-of-defence ``except Exception`` cannot swallow it)."""


def run_in_process(*args: str, cwd: Path | None = None, timeout: int = 90, env: dict[str, str] | None = None) -> InProcess:
    """Run the console entry point ``sitegate.cli.main.run`` in this process, as a
    subprocess would run it: same argv handling, same exit-code mapping, stdout and
    stderr captured as text. An exception that escapes ``run()`` (a subprocess would
    print it as a traceback) is appended to stderr as the traceback, so tests that
    assert "no traceback" still see it. ``timeout`` is enforced with SIGALRM (main
    thread only); a timeout raises ``InProcessTimeout``.

    About 100x cheaper than a subprocess (no interpreter start, no re-import), which
    is what keeps the bad-input corpus fast. What it cannot bound is memory: cases
    that must hold under an address-space limit still run as real subprocesses.
    """
    from typer.testing import CliRunner

    from sitegate.cli import output as cli_output
    from sitegate.cli.main import run

    runner = CliRunner(charset="utf-8")
    old_argv, old_cwd = sys.argv, os.getcwd()
    old_threshold = gc.get_threshold()
    # run() installs SIGTERM/SIGHUP handlers for a one-shot process (and marks them
    # installed in cli.output); in a test session they must not outlive the run.
    old_signals = _process_signals()
    old_handlers_pid = cli_output._HANDLERS_PID

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise InProcessTimeout(f"sitegate {' '.join(args)} did not finish in {timeout} s")

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    code = 0
    crash = ""
    with runner.isolation(env={"COLUMNS": "200", **(env or {})}) as (out, err, _):
        sys.argv = ["sitegate", *args]
        os.chdir(cwd or REPO)
        signal.alarm(timeout)
        try:
            run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except InProcessTimeout:
            raise
        except BaseException:  # noqa: BLE001 - a subprocess would print this and exit 1
            crash = traceback.format_exc()
            code = 1
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old_handler)
            sys.argv = old_argv
            os.chdir(old_cwd)
            # run_gate freezes the heap and raises the collector's thresholds for a
            # one-shot process; in a long test session that state must not pile up.
            gc.unfreeze()
            gc.set_threshold(*old_threshold)
            _restore_signals(old_signals)
            cli_output._HANDLERS_PID = old_handlers_pid
            sys.stdout.flush()
            sys.stderr.flush()
        # Universal newlines, as subprocess.run(text=True) reads them.
        stdout = _universal(out.getvalue().decode("utf-8", "backslashreplace"))
        stderr = _universal(err.getvalue().decode("utf-8", "backslashreplace")) + crash
    return InProcess(code, stdout, stderr)


_RUN_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _process_signals() -> dict[int, Any]:
    """The handlers of the signals the CLI's run() takes over."""
    return {sig: signal.getsignal(sig) for sig in _RUN_SIGNALS}


def _restore_signals(saved: dict[int, Any]) -> None:
    for sig, handler in saved.items():
        signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def _universal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
