"""Collect facts on the host this runs on (a Windows site server).

:func:`collect_local` does in Python what ``collector/collect.ps1`` does in
PowerShell: registry values through :mod:`winreg`, CIM classes and the Windows
feature list through one ``powershell.exe`` call, IIS's applicationHost.config
read directly; then :func:`sitegate.facts.collector.parse.build_facts` turns
the raw reads into facts. Everywhere else it raises :class:`NotOnWindows`:
facts describe the site server, so they must be collected there (or exported
from the CMDB and imported, see :mod:`sitegate.facts.importers`).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from typing import Any, Callable, Protocol

from .collector import COLLECTOR_NAME, COLLECTOR_VERSION
from .collector.parse import build_facts, merge_into

PYTHON_COLLECTOR_NAME = "sitegate.facts.collect"
POWERSHELL_TIMEOUT_S = 300

# One PowerShell call for everything CIM and feature-related, read-only. It
# prints a single JSON object; Select-Object keeps CIM noise out and -Depth 6
# keeps nested values. Output is forced to UTF-8 so localised captions survive.
_PS_READS = r"""
$ErrorActionPreference = 'Stop'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)
$r = [ordered]@{}
function Try-Read([string]$Key, [scriptblock]$Read) {
    try { $r[$Key] = & $Read } catch { $r['errors'] += @("$Key : $($_.Exception.Message)") }
}
$r['errors'] = @()
Try-Read 'os' { Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version,BuildNumber,ProductType,OSArchitecture,TotalVisibleMemorySize,SystemDrive,CSName }
Try-Read 'computer_system' { Get-CimInstance Win32_ComputerSystem | Select-Object Name,DNSHostName,Domain,PartOfDomain,Manufacturer,Model,TotalPhysicalMemory }
Try-Read 'processors' { ,@(Get-CimInstance Win32_Processor | Select-Object NumberOfCores,NumberOfLogicalProcessors) }
Try-Read 'physical_memory' { ,@(Get-CimInstance Win32_PhysicalMemory | Select-Object Capacity,DeviceLocator) }
Try-Read 'disks' { ,@(Get-CimInstance Win32_LogicalDisk | Select-Object DeviceID,DriveType,FreeSpace,Size) }
Try-Read 'known_folders' { ,@([Enum]::GetValues([Environment+SpecialFolder]) | ForEach-Object { [Environment]::GetFolderPath($_) } | Where-Object { $_ } | Select-Object -Unique) }
Try-Read 'profiles_directory' { [Environment]::ExpandEnvironmentVariables([string](Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList').ProfilesDirectory) }
Try-Read 'services' { ,@(Get-Service | Where-Object { $_.DisplayName -match 'Altiris|Symantec' } | Select-Object Name,DisplayName,@{n='Status';e={[string]$_.Status}}) }
if (Get-Command Get-WindowsFeature -ErrorAction SilentlyContinue) {
    Try-Read 'windows_features' { ,@(Get-WindowsFeature -Name 'Web-*' | Select-Object Name,Installed,@{n='InstallState';e={[string]$_.InstallState}}) }
} elseif (Get-Command Get-WindowsOptionalFeature -ErrorAction SilentlyContinue) {
    Try-Read 'optional_features' { ,@(Get-WindowsOptionalFeature -Online | Where-Object { $_.FeatureName -like 'IIS-*' } | Select-Object FeatureName,@{n='State';e={[string]$_.State}}) }
}
ConvertTo-Json -InputObject $r -Depth 6 -Compress
"""


class NotOnWindows(RuntimeError):
    """Raised by :func:`collect_local` off Windows: facts must be collected on the site server."""

    def __init__(self, platform: str | None = None):
        self.platform = platform or sys.platform
        super().__init__(
            f"facts collection must run on the Windows site server itself (this is {self.platform}). "
            "Run it there, or run the PowerShell collector shipped with sitegate "
            "(collector/collect.ps1: powershell -NoProfile -ExecutionPolicy Bypass -File collect.ps1) "
            "on the server, or import an inventory export (--from csv or powershell)."
        )


class CollectError(RuntimeError):
    """The collection could not run at all (PowerShell missing, or its output unreadable)."""


class Registry(Protocol):
    """Read-only access to HKLM (a fake in tests, :mod:`winreg` on Windows)."""

    def values(self, path: str) -> dict[str, Any] | None:
        """The values of HKLM\\path (with ``SubKeys``: its subkey names), or None if absent."""
        ...


def collector_script() -> str:
    """The text of the PowerShell collector (``collect.ps1``) shipped in the package."""
    return resources.files("sitegate.facts").joinpath("collector/collect.ps1").read_text("utf-8")


def collect_local(*, package_store_path: str | None = None, warnings: list[str] | None = None) -> dict[str, Any]:
    """Facts of this host, collected read-only (Windows only; elevate for IIS and features).

    Reads that fail leave their facts out; a message for each is appended to
    ``warnings`` when a list is given. Raises :class:`NotOnWindows` elsewhere
    and :class:`CollectError` when PowerShell cannot be run.
    """
    if sys.platform != "win32":
        raise NotOnWindows()
    raw = gather_raw(_WinRegistry(), _run_powershell, package_store_path=package_store_path)
    return facts_from_raw(raw, warnings)


def facts_from_raw(raw: dict[str, Any], warnings: list[str] | None = None) -> dict[str, Any]:
    """Facts from the gathered raw reads; read errors and unreadable values go to ``warnings``."""
    built = build_facts(raw)
    if warnings is not None:
        warnings.extend(str(e) for e in raw.get("errors") or [])
        warnings.extend(f"{p.section}{p.pointer}: {p.message}" for p in built.problems)
    return built.facts


def gather_raw(
    registry: Registry,
    run_powershell: Callable[[str], dict[str, Any]],
    *,
    package_store_path: str | None = None,
    read_text: Callable[[str], str | None] | None = None,
) -> dict[str, Any]:
    """Every raw read of the collector, through injectable readers (so it is tested off Windows)."""
    raw: dict[str, Any] = dict(run_powershell(_PS_READS))
    raw["computer_name"] = os.environ.get("COMPUTERNAME") or raw.get("computer_name")
    ndp = registry.values(r"SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full")
    raw["dotnet"] = ndp or {}
    inetstp = registry.values(r"SOFTWARE\Microsoft\InetStp")
    raw["inetstp"] = inetstp or {}
    agent = registry.values(r"SOFTWARE\Altiris\Altiris Agent")
    if agent is not None:
        servers = registry.values(r"SOFTWARE\Altiris\Altiris Agent\Servers") or {}
        ns = servers.get("") or next(iter(servers.get("SubKeys") or []), None)
        if ns:
            agent = dict(agent, Servers=[ns])
        raw["agent"] = agent  # build_facts derives the default package store from InstallDir
    if package_store_path:
        raw["package_store_path"] = package_store_path
    if inetstp:
        reader = read_text or _read_file
        windir = os.environ.get("WINDIR", r"C:\Windows")
        config = reader(os.path.join(windir, "System32", "inetsrv", "config", "applicationHost.config"))
        if config is not None:
            raw["applicationhost_config"] = config
    raw["collected_at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw["collector"] = {"name": PYTHON_COLLECTOR_NAME, "version": COLLECTOR_VERSION}
    return raw


def _read_file(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(8 * 1024 * 1024 + 1)
    except OSError:
        return None
    for enc in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def _run_powershell(script: str) -> dict[str, Any]:
    exe = shutil.which("powershell") or shutil.which("pwsh")
    if exe is None:
        raise CollectError("neither powershell.exe nor pwsh is on PATH")
    try:
        proc = subprocess.run(
            [exe, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", script],
            capture_output=True,
            timeout=POWERSHELL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CollectError(f"PowerShell could not be run: {exc}") from None
    out = proc.stdout.decode("utf-8", "replace").strip()
    try:
        value = json.loads(out[out.find("{"):]) if "{" in out else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CollectError("PowerShell returned no readable JSON" + (f": {err[-1]}" if err else ""))
    return value


class _WinRegistry:
    """HKLM through winreg, in the 64-bit view (the agent and .NET keys live there)."""

    def values(self, path: str) -> dict[str, Any] | None:
        import winreg  # type: ignore[import-not-found]  # Windows only

        access = winreg.KEY_READ | getattr(winreg, "KEY_WOW64_64KEY", 0)
        try:
            key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path, 0, access)
        except OSError:
            return None
        out: dict[str, Any] = {}
        with key:
            try:
                n_sub, n_val, _ = winreg.QueryInfoKey(key)
                for i in range(n_val):
                    name, value, _kind = winreg.EnumValue(key, i)
                    out[name] = value
                out["SubKeys"] = [winreg.EnumKey(key, i) for i in range(n_sub)]
            except OSError:
                pass  # a partly readable key gives what could be read
        return out


__all__ = [
    "COLLECTOR_NAME",
    "CollectError",
    "NotOnWindows",
    "collect_local",
    "collector_script",
    "facts_from_raw",
    "gather_raw",
    "merge_into",
]
