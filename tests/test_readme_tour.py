"""The README's tour: every console block marked as checked runs on examples/ and prints what the README shows.

A block preceded by ``<!-- tour: checked -->`` holds ``$ sitegate ...`` commands,
each followed by its output; a line ``...`` in the README stands for any number
of output lines. The exit code shown as ``# exit code N`` after the output must
match too.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
_BLOCK = re.compile(r"<!-- tour: checked -->\s*```console\n(.*?)```", re.S)


def _commands() -> list[tuple[str, list[str], int | None]]:
    out = []
    for block in _BLOCK.findall((ROOT / "README.md").read_text("utf-8")):
        cmd: str | None = None
        lines: list[str] = []
        code: int | None = None
        for line in block.splitlines():
            if line.startswith("$ "):
                if cmd is not None:
                    out.append((cmd, lines, code))
                cmd, lines, code = line[2:], [], None
            elif (m := re.fullmatch(r"# exit code (\d)", line)):
                code = int(m.group(1))
            else:
                lines.append(line)
        if cmd is not None:
            out.append((cmd, lines, code))
    return out


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; '...' matches any run of lines (including none)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and _matches(expected[1:], actual[1:])


def _tour() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index("## A short tour")
    return text[start:text.index("\n## ", start + 1)]


def test_the_tour_has_checked_blocks() -> None:
    cmds = [c for c, _, _ in _commands()]
    for command in ("check", "plan", "remediate", "policies test"):
        assert any(c.startswith(f"sitegate {command} ") for c in cmds), command


def test_every_command_of_the_tour_is_checked() -> None:
    """No console block of the tour escapes the check: each is marked, so the test below runs it."""
    tour = _tour()
    blocks = re.findall(r"(<!-- tour: checked -->\s*)?```console\n(.*?)```", tour, re.S)
    assert len(blocks) >= 4
    for marked, body in blocks:
        assert marked, body[:200]
    shown = [ln[2:] for _, body in blocks for ln in body.splitlines() if ln.startswith("$ ")]
    assert shown and set(shown) <= {c for c, _, _ in _commands()}


def test_the_script_excerpt_is_what_remediate_writes(tmp_path: Path) -> None:
    tour = _tour()
    excerpt = re.search(r"```powershell\n(.*?)```", tour, re.S).group(1).splitlines()
    head = excerpt[: excerpt.index("...")]
    (cmd,) = [c for c, _, _ in _commands() if c.startswith("sitegate remediate ")]
    argv = [str(tmp_path / "scripts") if a == "/tmp/scripts" else a for a in shlex.split(cmd)]
    subprocess.run([sys.executable, "-m", "sitegate.cli.main", *argv[1:]], capture_output=True, text=True, cwd=ROOT, timeout=300)
    host = next(ln.split(":", 1)[1].strip() for ln in head if ln.startswith("# Host:"))
    written = (tmp_path / "scripts" / f"{host}.ps1").read_text("utf-8-sig").splitlines()  # the BOM PowerShell 5.1 needs
    assert written[: len(head)] == head


@pytest.mark.parametrize("cmd,expected,code", _commands(), ids=[c for c, _, _ in _commands()])
def test_tour_command_prints_what_the_readme_shows(cmd: str, expected: list[str], code: int | None, tmp_path: Path) -> None:
    argv = shlex.split(cmd)
    assert argv[0] == "sitegate"
    # Scripts go to a scratch folder, never into the checkout.
    argv = [str(tmp_path / a.removeprefix("/tmp/")) if a.startswith("/tmp/") else a for a in argv]
    r = subprocess.run([sys.executable, "-m", "sitegate.cli.main", *argv[1:]], capture_output=True, text=True, cwd=ROOT, timeout=300)
    actual = [ln.replace(str(tmp_path) + "/", "/tmp/") for ln in r.stdout.splitlines()]
    assert _matches(expected, actual), "\n".join(actual)
    if code is not None:
        assert r.returncode == code, r.stderr
