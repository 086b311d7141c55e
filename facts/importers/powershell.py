"""Import raw PowerShell exports (``ConvertTo-Json`` of CIM instances, feature
lists and registry reads) into facts: one folder or zip per host.

File-naming convention (one host per folder or zip; the folder or zip is named
after the host, which names the host when no file says otherwise)::

    os.json                Get-CimInstance Win32_OperatingSystem
    computersystem.json    Get-CimInstance Win32_ComputerSystem
    processors.json        Get-CimInstance Win32_Processor
    memory.json            Get-CimInstance Win32_PhysicalMemory
    disks.json             Get-CimInstance Win32_LogicalDisk
    features.json          Get-WindowsFeature              (Windows Server)
    optionalfeatures.json  Get-WindowsOptionalFeature -Online (desktop Windows)
    win32_optionalfeature.json  Get-CimInstance Win32_OptionalFeature (Name, InstallState)
    dotnet.json            Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full'
    iis.json               Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\InetStp'
    requestfiltering.json  {maxQueryString, maxUrl, allowUnlisted, verbs: [{verb, allowed}]}
    applicationHost.config copy of %windir%\\System32\\inetsrv\\config\\applicationHost.config
    agent.json             Get-ItemProperty 'HKLM:\\SOFTWARE\\Altiris\\Altiris Agent'
                           (optionally with Servers: [...] and SubKeys: [...])
    services.json          Get-Service or Get-CimInstance Win32_Service
    knownfolders.json      {KnownFolders: [GetFolderPath of each SpecialFolder], ProfilesDirectory}
    network.json           collect.ps1's HTTPS probe of the Notification Server
    collection.json        collect.ps1's record of the run: CollectedAt, CollectorName/Version,
                           ComputerName, PackageStorePath, Warnings...
    host.json              optional: sitegate standard columns (site, planned_services,
                           managed, asset_status...) that no host read can tell

``collect.ps1`` writes exactly this layout, and ``sitegate collect`` imports
it through this module: there is one conversion (sitegate.facts.collector.parse).

Files with other names are recognised by their keys (``BuildNumber`` is an OS,
``FeatureName`` + ``State`` an optional-feature list...). What Windows
PowerShell 5.1 writes is accepted as is: UTF-16 LE with a BOM, a single object
not wrapped in an array, enums as integers (``InstallState`` 1 = Installed,
optional-feature ``State`` as an integer or ``"Enabled"``), ``/Date(ms)/``
dates, ``Cim*`` / ``PS*`` noise keys and memory in kilobytes.
"""
from __future__ import annotations

import json
import os
import lzma
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator

import orjson

from ...base.diagnostics import Code, Diagnostic, InputError, Level
from ...base.jsonpos import PositionMap, parse_with_positions
from ...base.textio import decode
from ..collector.parse import as_list, build_facts, get
from ..load import Item, Rejected
from . import _columns as cols
from ._common import finish, nearest

IMPORTER_NAME = "sitegate-import-powershell"
IMPORTER_VERSION = "1.0.0"
# An export file is a few KB (a feature or service list); 16 MiB of JSON already takes
# hundreds of MB once parsed. Zips are bounded by what they inflate to, counted while
# inflating (the sizes in a zip's directory are the writer's claim, not a fact).
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_BYTES = 64 * 1024 * 1024  # inflated bytes read from one archive
MAX_RUN_ZIP_BYTES = 256 * 1024 * 1024  # inflated bytes read from all archives of one import
_CHUNK = 1 << 20
# What inflating a damaged member raises (bad deflate/bzip2/LZMA data, CRC, truncation,
# encryption, an unknown method): it costs that member's host, never the import.
_MEMBER_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError, NotImplementedError, ValueError,
    MemoryError,  # a damaged LZMA header can ask for a dictionary of gigabytes: refused at once
)


class _Budget:
    """Inflated bytes left for the archives of one import."""

    def __init__(self, total: int | None = None):
        self.left = MAX_RUN_ZIP_BYTES if total is None else total


class _Over(Exception):
    """A member inflates past a limit (``why`` says which)."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why

#: File stem (lower case) -> the raw section it fills (see collector.parse).
FILE_NAMES: dict[str, str] = {
    "os": "os",
    "operatingsystem": "os",
    "win32_operatingsystem": "os",
    "computersystem": "computer_system",
    "computer_system": "computer_system",
    "win32_computersystem": "computer_system",
    "processors": "processors",
    "processor": "processors",
    "cpu": "processors",
    "win32_processor": "processors",
    "memory": "physical_memory",
    "physicalmemory": "physical_memory",
    "win32_physicalmemory": "physical_memory",
    "disks": "disks",
    "logicaldisks": "disks",
    "win32_logicaldisk": "disks",
    "features": "windows_features",
    "windowsfeatures": "windows_features",
    "optionalfeatures": "optional_features",
    "windowsoptionalfeatures": "optional_features",
    "dotnet": "dotnet",
    "iis": "inetstp",
    "inetstp": "inetstp",
    "requestfiltering": "request_filtering",
    "agent": "agent",
    "services": "services",
    "win32_optionalfeature": "cim_optional_features",
    "knownfolders": "known_folders",
    "network": "network",
    "collection": "collection",
    "host": "host",
}

#: Sections that hold one object: an array around it (or a second object) is reported.
SINGLE_OBJECT_SECTIONS = ("os", "computer_system", "dotnet", "inetstp", "request_filtering", "agent", "known_folders", "network", "collection")


def detect(value: Any) -> str | None:
    """The raw section a parsed JSON value holds, told from its keys."""
    first = next((x for x in as_list(value) if isinstance(x, dict)), None)
    if first is None:
        return "dotnet" if isinstance(value, int) and not isinstance(value, bool) else None
    keys = {k.lower() for k in first}

    def has(*names: str) -> bool:
        return all(x.lower() in keys for x in names)

    path = str(get(first, "PSPath") or "")
    if has("CollectorName", "CollectedAt"):
        return "collection"
    if has("KnownFolders"):
        return "known_folders"
    if has("NsUrl", "Attempted"):
        return "network"
    if has("FeatureName", "State"):
        return "optional_features"
    if has("InstallState") or has("Installed", "FeatureType"):
        return "windows_features"
    if has("BuildNumber") or has("OSArchitecture") or has("TotalVisibleMemorySize"):
        return "os"
    if has("NumberOfLogicalProcessors") or has("NumberOfCores"):
        return "processors"
    if has("DeviceID", "FreeSpace") or has("DeviceID", "DriveType"):
        return "disks"
    if has("Capacity") and (has("BankLabel") or has("DeviceLocator") or has("PartNumber")):
        return "physical_memory"
    if has("TotalPhysicalMemory") or has("Manufacturer", "Model", "Domain"):
        return "computer_system"
    if has("Release"):
        return "dotnet"
    if has("MajorVersion", "MinorVersion"):
        return "inetstp"
    if has("maxQueryString") or has("maxUrl") or has("allowUnlisted"):
        return "request_filtering"
    if "altiris agent" in path.lower() or has("InstallDir", "MachineGuid"):
        return "agent"
    if has("ServiceName", "Status") or has("Name", "DisplayName", "StartMode") or has("Name", "DisplayName", "Status"):
        return "services"
    if "name" in first and any(k in cols.STANDARD_COLUMNS for k in first if k != "name"):
        return "host"
    return None


@dataclass
class _File:
    """One file of a host export: its display name, text and parsed value."""

    display: str
    text: str
    value: Any = None
    _pm: PositionMap | None = None
    _pm_tried: bool = False

    def locate(self, pointer: str) -> tuple[int, int]:
        """Line and column of a JSON pointer in the file (1:1 when unknown)."""
        if not self._pm_tried:
            self._pm_tried = True
            try:
                _, self._pm, _ = parse_with_positions(self.text, self.display)
            except InputError:
                self._pm = None
        if self._pm is None:
            return (1, 1)
        return self._pm.locate(pointer) or (1, 1)


@dataclass
class _Host:
    """The files of one host's export."""

    source: str
    default_name: str
    files: list[tuple[str, bytes]] = field(default_factory=list)


def iter_powershell(paths: list[str], *, strict: bool = False, locate: bool = False) -> Iterator[Item]:
    """Hosts of PowerShell exports: each path is a host folder or zip, or a folder of them."""
    index = 0
    budget = _Budget()
    for path in paths:
        for host in _hosts(path, budget):
            if isinstance(host, Rejected):
                yield host
                continue
            yield from _import_host(host, index, strict=strict)
            index += 1


def _hosts(path: str, budget: _Budget | None = None) -> Iterator[_Host | Rejected]:
    budget = budget or _Budget()
    if os.path.isfile(path) and zipfile.is_zipfile(path):
        yield from _zip_hosts(path, budget)
        return
    if not os.path.isdir(path):
        what = "no such file or folder" if not os.path.exists(path) else "is neither a folder nor a zip file of PowerShell exports"
        yield Rejected(path, -1, [Diagnostic(path, what, code=Code.IO)])
        return
    groups: dict[str, list[str]] = {}
    zips: list[str] = []
    for dp, dns, fs in os.walk(path):
        dns.sort()
        for f in sorted(fs):
            full = os.path.join(dp, f)
            low = f.lower()
            if low.endswith((".zip", ".json", ".config", ".xml")) and not _regular(full):
                # A FIFO would wait for a writer forever, a device stream without end.
                yield Rejected(full, -1, [Diagnostic(full, "not a regular file (a FIFO, device or socket): skipped", level=Level.WARNING, code=Code.SKIPPED)])
                continue
            if low.endswith(".zip"):
                zips.append(full)
            elif low.endswith((".json", ".config", ".xml")):
                groups.setdefault(dp, []).append(full)
    if not groups and not zips:
        yield Rejected(path, -1, [Diagnostic(path, "holds no .json exports (os.json, features.json...) and no zip files", code=Code.IO)])
        return
    for d in sorted(groups):
        host = _Host(d, os.path.basename(os.path.normpath(d)))
        for f in groups[d]:
            try:
                with open(f, "rb") as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)  # the limit holds while reading
                if len(data) > MAX_FILE_BYTES:
                    yield Rejected(f, -1, [Diagnostic(f, f"file larger than {MAX_FILE_BYTES >> 20} MiB: not a PowerShell export", code=Code.TOO_LARGE)])
                    continue
                host.files.append((f, data))
            except OSError as exc:
                yield Rejected(f, -1, [Diagnostic(f, f"cannot read: {exc.strerror or exc}", code=Code.IO)])
        yield host
    for z in zips:
        yield from _zip_hosts(z, budget)


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # let the read say what is wrong


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive_left: int, budget: _Budget) -> bytes:
    """A member's bytes, inflated a chunk at a time and counted as they come (a zip's
    directory may claim any size): stops at the first byte past a limit."""
    limit = min(MAX_FILE_BYTES, archive_left, budget.left)
    parts: list[bytes] = []
    n = 0
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            n += len(chunk)
            if n > limit:
                if limit == MAX_FILE_BYTES:
                    raise _Over(f"member larger than {MAX_FILE_BYTES >> 20} MiB: not a PowerShell export")
                if limit == archive_left:
                    raise _Over(f"the zip inflates to more than {MAX_ZIP_BYTES >> 20} MiB: the rest of it is not read")
                raise _Over(f"the zips of this import inflate to more than {MAX_RUN_ZIP_BYTES >> 20} MiB: the rest is not read")
            parts.append(chunk)
    budget.left -= n
    return b"".join(parts)


def _zip_hosts(path: str, budget: _Budget | None = None) -> Iterator[_Host | Rejected]:
    budget = budget or _Budget()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Rejected(path, -1, [Diagnostic(path, f"cannot open the zip file: {exc}", code=Code.IO)])
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_MEMBERS:
            yield Rejected(path, -1, [Diagnostic(path, f"more than {MAX_ZIP_MEMBERS} files in the zip", code=Code.TOO_LARGE)])
            return
        groups: dict[str, list[zipfile.ZipInfo]] = {}
        for info in infos:
            if info.filename.lower().endswith((".json", ".config", ".xml")):
                groups.setdefault(os.path.dirname(info.filename), []).append(info)
        if not groups:
            yield Rejected(path, -1, [Diagnostic(path, "the zip holds no .json exports", code=Code.IO)])
            return
        stem = os.path.splitext(os.path.basename(path))[0]
        archive_left = MAX_ZIP_BYTES
        for d in sorted(groups):
            host = _Host(f"{path}!{d}" if d else path, os.path.basename(d) if d else stem)
            lost: Diagnostic | None = None
            for info in sorted(groups[d], key=lambda i: i.filename):
                display = f"{path}!{info.filename}"
                # The directory's claim first (cheap), then the count while inflating.
                if info.file_size > MAX_FILE_BYTES:
                    yield Rejected(display, -1, [Diagnostic(display, f"member larger than {MAX_FILE_BYTES >> 20} MiB: not a PowerShell export", code=Code.TOO_LARGE)])
                    continue
                try:
                    data = _read_member(zf, info, archive_left, budget)
                except _Over as over:
                    if over.why.startswith("member"):
                        yield Rejected(display, -1, [Diagnostic(display, over.why, code=Code.TOO_LARGE)])
                        continue
                    yield Rejected(display, -1, [Diagnostic(display, over.why, code=Code.TOO_LARGE)])
                    return
                except _MEMBER_ERRORS as exc:
                    # A damaged member: its host is not imported (its facts would be partial);
                    # the other hosts of the archive are.
                    lost = Diagnostic(display, f"cannot read from the zip: {exc}; host {host.default_name!r} of this archive is not imported", code=Code.IO)
                    break
                archive_left -= len(data)
                host.files.append((display, data))
            if lost is not None:
                yield Rejected(lost.source, -1, [lost])
                continue
            yield host


def _parse_json(display: str, data: bytes) -> _File | Diagnostic:
    try:
        text = decode(data, display)
    except InputError as exc:
        return exc.diagnostics[0]
    if not text.strip():
        return Diagnostic(display, "the file is empty", 1, 1, level=Level.WARNING, code=Code.EMPTY)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            json.loads(text)
            value = None  # pragma: no cover - orjson and json disagree only on exotic input
        except json.JSONDecodeError as exc:
            return Diagnostic(display, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno, code=Code.JSON_SYNTAX)
        except ValueError as exc:
            return Diagnostic(display, f"invalid JSON: {exc}", 1, 1, code=Code.JSON_SYNTAX)
    return _File(display, text, value)


def _import_host(host: _Host, index: int, *, strict: bool) -> Iterator[Item]:
    raw: dict[str, Any] = {}
    files: dict[str, _File] = {}
    problems: list[Diagnostic] = []
    meta: tuple[_File, dict[str, Any]] | None = None
    for display, data in host.files:
        base = os.path.basename(display.split("!")[-1])
        stem, ext = os.path.splitext(base)
        if ext.lower() in (".config", ".xml"):
            if stem.lower() != "applicationhost":
                problems.append(Diagnostic(display, "not a file this importer reads: ignored", level=Level.WARNING, code=Code.PS_FILE))
                continue
            try:
                text = decode(data, display)
            except InputError as exc:
                problems.extend(exc.diagnostics)
                continue
            raw["applicationhost_config"] = text
            files["applicationhost_config"] = _File(display, text)
            continue
        parsed = _parse_json(display, data)
        if isinstance(parsed, Diagnostic):
            if parsed.level is Level.ERROR:
                # One unreadable file loses its facts, not the host's other facts.
                yield Rejected(display, -1, [parsed])
            else:
                problems.append(parsed)
            continue
        if _looks_like_facts(parsed.value):
            problems.append(Diagnostic(display, "this is a sitegate facts document: import it with --from json", 1, 1, level=Level.WARNING, code=Code.PS_FILE))
            continue
        by_name = FILE_NAMES.get(stem.lower())
        by_keys = detect(parsed.value)
        section = by_name or by_keys
        if section is None:
            problems.append(Diagnostic(display, "content not recognised (no known name, no known keys): ignored", 1, 1, level=Level.WARNING, code=Code.PS_FILE))
            continue
        if section in files:
            problems.append(Diagnostic(display, f"a second {section} export: {files[section].display} is used", 1, 1, level=Level.WARNING, code=Code.PS_FILE))
            continue
        files[section] = parsed
        if section == "host":
            if isinstance(parsed.value, dict):
                meta = (parsed, parsed.value)
            else:
                problems.append(Diagnostic(display, "host.json must be one object of standard columns", 1, 1, level=Level.WARNING, code=Code.PS_FILE))
            continue
        value = parsed.value
        if section in SINGLE_OBJECT_SECTIONS and isinstance(value, list):
            if len(value) != 1:
                problems.append(Diagnostic(display, f"expected one {section} object, found {len(value)}: the first is used", 1, 1, level=Level.WARNING, code=Code.PS_FILE))
            value = value[0] if value else {}
        raw[section] = value
    built = build_facts(raw)
    facts = built.facts
    positions: dict[str, tuple[str, int, int]] = {}
    for ptr, (section, inner) in built.origins.items():
        f = files.get(section)
        if f is not None:
            positions[ptr] = (f.display, *f.locate(inner))
    for p, suffix in [(p, "; the fact is left out") for p in built.problems] + [(p, "") for p in built.notes]:
        f = files.get(p.section)
        display, (l, c) = (f.display, f.locate(p.pointer)) if f else (host.source, (0, 0))
        problems.append(Diagnostic(display, p.message + suffix, l, c, level=Level.WARNING, code=Code.PS_VALUE))
    if meta is not None:
        mf, mvalue = meta
        for key, value in mvalue.items():
            if key not in cols.STANDARD_COLUMNS:
                l, c = mf.locate("/" + key)
                problems.append(Diagnostic(mf.display, f"{key!r} is not a standard column: ignored", l, c, "/" + key, level=Level.WARNING, code=Code.PS_FILE))
                continue
            converted, why = cols.convert(key, value)
            l, c = mf.locate("/" + key)
            if why is not None:
                problems.append(Diagnostic(mf.display, f"{key}: {why}; the fact is left out", l, c, "/" + key, level=Level.WARNING, code=Code.PS_VALUE))
            elif converted is not None:
                # host.json is the operator's word: it overrides what was read.
                cols.put(facts, cols.STANDARD_COLUMNS[key].path, converted)
                positions["/" + cols.STANDARD_COLUMNS[key].path] = (mf.display, l, c)
    cols.complete(facts)
    if "name" not in facts and host.default_name:
        facts["name"] = host.default_name
    prov = facts.setdefault("provenance", {})
    prov.setdefault("source_file", host.source)
    prov.setdefault("collected_by", {"name": IMPORTER_NAME, "version": IMPORTER_VERSION})
    ordered = {"name": facts.pop("name")} if "name" in facts else {}
    ordered.update(facts)

    def origin(pointer: str) -> tuple[str, int, int] | None:
        return nearest(positions, pointer) or (host.source, 1, 1)

    yield finish(ordered, source=host.source, index=index, line=0, origin=origin, problems=problems, strict=strict)


def _looks_like_facts(value: Any) -> bool:
    return isinstance(value, dict) and "name" in value and any(isinstance(value.get(k), dict) for k in ("os", "hardware", "iis", "agent"))
