"""Collect facts on the host this runs on (a Windows site server).

:func:`collect_local` runs the bundled ``collector/collect.ps1`` (the same
script an admin runs by hand or as an ITMS Run Script task) into a temporary
folder, then imports that folder with the PowerShell-export importer. The
script only reads and saves; :func:`sitegate.facts.collector.parse.build_facts`
is the one conversion of raw reads into facts, so ``sitegate collect``,
``sitegate import --from powershell`` and the tests cannot drift apart.
Everywhere but Windows it raises :class:`NotOnWindows`: facts describe the
site server, so they must be collected there (or exported from the CMDB and
imported, see :mod:`sitegate.facts.importers`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from typing import Any, Callable

from ..base.diagnostics import Level
from .collector import COLLECTOR_NAME, COLLECTOR_VERSION
from .collector.parse import merge_into
from .importers import import_inputs
from .importers._common import strip_derived
from .load import HostRecord

POWERSHELL_TIMEOUT_S = 600

#: Runs collect.ps1: (argument list after the executable) -> None; raises CollectError.
ScriptRunner = Callable[[list[str]], None]


class NotOnWindows(RuntimeError):
    """Raised by :func:`collect_local` off Windows: facts must be collected on the site server."""

    def __init__(self, platform: str | None = None):
        self.platform = platform or sys.platform
        super().__init__(
            f"facts collection must run on the Windows site server itself (this is {self.platform}). "
            "Run it there, or run the PowerShell collector shipped with sitegate on the server "
            "(sitegate collect --print-script > collect.ps1; powershell -NoProfile -ExecutionPolicy Bypass "
            "-File collect.ps1 -OutDirectory DIR) and import what it writes (sitegate import --from powershell DIR), "
            "or import an inventory export (--from csv or powershell)."
        )


class CollectError(RuntimeError):
    """The collection could not run at all (PowerShell missing, or its output unreadable)."""


def collector_script() -> str:
    """The text of the PowerShell collector (``collect.ps1``) shipped in the package."""
    return resources.files("sitegate.facts").joinpath("collector/collect.ps1").read_text("utf-8")


def collect_local(*, package_store_path: str | None = None, warnings: list[str] | None = None) -> dict[str, Any]:
    """Facts of this host, collected read-only by collect.ps1 (Windows only; elevate for IIS and features).

    Reads that fail leave their facts out; a message for each is appended to
    ``warnings`` when a list is given. Raises :class:`NotOnWindows` elsewhere
    and :class:`CollectError` when PowerShell cannot be run or writes nothing usable.
    """
    if sys.platform != "win32":
        raise NotOnWindows()
    return collect_with(_run_powershell, package_store_path=package_store_path, warnings=warnings)


def collect_with(run: ScriptRunner, *, package_store_path: str | None = None, warnings: list[str] | None = None) -> dict[str, Any]:
    """Run collect.ps1 through ``run`` into a temporary folder and import what it wrote."""
    with tempfile.TemporaryDirectory(prefix="sitegate-collect-") as tmp:
        script = os.path.join(tmp, "collect.ps1")
        with open(script, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(collector_script())
        out = os.path.join(tmp, "raw")
        args = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", script, "-OutDirectory", out]
        if package_store_path:
            args += ["-PackageStorePath", package_store_path]
        run(args)
        if not os.path.isdir(out):
            raise CollectError("collect.ps1 wrote no raw reads")
        return facts_from_raw_directory(out, warnings)


def facts_from_raw_directory(path: str, warnings: list[str] | None = None) -> dict[str, Any]:
    """Facts of the one host whose raw reads (collect.ps1's layout) are in ``path``.

    The same import as ``sitegate import --from powershell``; the facts come back
    without ``derived`` and without ``provenance.source_file`` (the folder is
    temporary). Warnings (reads that failed, values left out, an assumed package
    store) go to ``warnings``; a host that does not pass the facts schema raises
    :class:`CollectError` with its diagnostics.
    """
    items = list(import_inputs("powershell", [path]))
    hosts = [i for i in items if isinstance(i, HostRecord)]
    errors = [d for i in items if not isinstance(i, HostRecord) for d in i.diagnostics if d.level is Level.ERROR]
    if errors or len(hosts) != 1:
        detail = "; ".join(d.format() for d in errors) or f"{len(hosts)} hosts found, expected one"
        raise CollectError(f"the collected reads could not be converted: {detail}")
    (record,) = hosts
    if warnings is not None:
        warnings.extend(d.message for d in record.warnings)
    facts = strip_derived(record.facts)
    prov = facts.get("provenance")
    if isinstance(prov, dict):
        facts["provenance"] = {k: v for k, v in prov.items() if k != "source_file"}
    return facts


def _run_powershell(args: list[str]) -> None:
    exe = shutil.which("powershell") or shutil.which("pwsh")
    if exe is None:
        raise CollectError("neither powershell.exe nor pwsh is on PATH")
    try:
        proc = subprocess.run([exe, *args], capture_output=True, timeout=POWERSHELL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CollectError(f"PowerShell could not be run: {exc}") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CollectError(f"collect.ps1 exited with code {proc.returncode}" + (f": {err[-1]}" if err else ""))


__all__ = [
    "COLLECTOR_NAME",
    "COLLECTOR_VERSION",
    "CollectError",
    "NotOnWindows",
    "ScriptRunner",
    "collect_local",
    "collect_with",
    "collector_script",
    "facts_from_raw_directory",
    "merge_into",
]
