"""Raw on-host reads -> facts (the logic of ``collect.ps1``, in testable Python).

A *raw* mapping holds what the collector reads, under these keys (any may be
missing; a missing key means "not read", an empty dict means "read, absent"):

``computer_name``            $env:COMPUTERNAME
``os``                       Win32_OperatingSystem properties
``computer_system``          Win32_ComputerSystem properties
``processors``               Win32_Processor objects (one or a list)
``physical_memory``          Win32_PhysicalMemory objects (Capacity in bytes)
``disks``                    Win32_LogicalDisk objects (DeviceID, FreeSpace, DriveType)
``dotnet``                   the NDP\\v4\\Full key's values (``Release``) or the DWORD itself
``windows_features``         Get-WindowsFeature objects (Name, Installed, InstallState)
``optional_features``        Get-WindowsOptionalFeature objects (FeatureName, State)
``inetstp``                  HKLM\\SOFTWARE\\Microsoft\\InetStp values (MajorVersion, MinorVersion)
``request_filtering``        requestFiltering already read (maxQueryString, maxUrl, verbs, allowUnlisted)
``applicationhost_config``   the text of applicationHost.config (parsed when request_filtering is absent)
``agent``                    HKLM\\SOFTWARE\\Altiris\\Altiris Agent values (Version, InstallDir, MachineGuid),
                             plus ``Servers`` (list of NS names) and ``SubKeys`` (names of its subkeys)
``services``                 Get-Service / Win32_Service objects (Name, DisplayName)
``package_store_path``       the package store path, when known
``known_folders``            paths of the Windows Known Folders ([Environment]::GetFolderPath of each SpecialFolder),
                             or knownfolders.json's object {KnownFolders: [...], ProfilesDirectory: ...}
``profiles_directory``       the user profiles root (ProfileList\\ProfilesDirectory, expanded), itself a Known Folder
``collected_at``             ISO 8601 time of collection
``collector``                {"name": ..., "version": ...}
``collection``               collect.ps1's own record (collection.json): CollectedAt, CollectorName,
                             CollectorVersion, ComputerName, PackageStorePath, Is64BitOperatingSystem,
                             Is64BitProcess, Elevated, PSVersion, Warnings; it fills the keys above
                             that are not given otherwise
``cim_optional_features``    Win32_OptionalFeature objects (Name, InstallState 1 = enabled)
``network``                  the HTTPS probe of the Notification Server (network.json: NsUrl, NsHost,
                             Port, Attempted, Connected, TlsEstablished, HttpStatus, ChainBuilt...)

:func:`build_facts` returns the facts plus, for each fact, which raw value it
came from (so an importer can point a diagnostic at file:line:col) and the
values that could not be normalised (never dropped silently).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple

from .. import normalize as n

#: Property names PowerShell adds to CIM instances and registry reads; never facts.
NOISE_PREFIXES: tuple[str, ...] = ("Cim", "PS")

MAX_CONFIG_CHARS = 8 * 1024 * 1024

# IIS configuration-schema defaults for system.webServer/security/requestFiltering:
# requestLimits maxUrl 4096 and maxQueryString 2048, verbs allowUnlisted true
# (IIS configuration reference, requestFiltering/requestLimits). They apply when
# applicationHost.config does not set the attribute.
IIS_DEFAULT_MAX_URL = 4096
IIS_DEFAULT_MAX_QUERY_STRING = 2048

# Site services recognised from the agent's registry subkeys and from Windows
# services. [SOLID, 7.5 help, itms-domain.md 6.3] the two Network Boot Service
# display names; [INFERENCE] the agent subkey names for the package and task
# services (unconfirmed: a missing match gives "unknown", never "not installed").
_SERVICE_MARKERS: tuple[tuple[str, str], ...] = (
    ("symantec network boot service", "network_boot"),
    ("package server", "package"),
    ("client task server", "task"),
    ("task server", "task"),
    ("monitor service", "monitor"),
)


@dataclass
class Problem:
    """A raw value that could not be turned into a fact (the fact is left out)."""

    section: str
    pointer: str
    message: str


@dataclass
class Built:
    """Facts built from raw reads, with provenance of each fact and the problems met.

    ``problems`` are raw values that could not be turned into a fact (the fact
    is left out); ``notes`` are warnings about facts that were kept but not
    simply read (an assumed package store) and the collector's own warnings.
    """

    facts: dict[str, Any]
    origins: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def strip_noise(obj: Any) -> Any:
    """Drop ``Cim*`` and ``PS*`` keys (PSComputerName, PSPath...) PowerShell adds to objects."""
    if isinstance(obj, dict):
        return {k: v for k, v in obj.items() if not k.startswith(NOISE_PREFIXES)}
    if isinstance(obj, list):
        return [strip_noise(x) for x in obj]
    return obj


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json writes one object without an array around it: always give a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def get(obj: Any, name: str) -> Any:
    """A property by name, case-insensitively (hand-written exports vary the case)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    low = name.lower()
    for k, v in obj.items():
        if k.lower() == low:
            return v
    return None


class _Builder:
    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}
        self.origins: dict[str, tuple[str, str]] = {}
        self.problems: list[Problem] = []
        self.notes: list[Problem] = []
        self.sources: dict[str, str] = {}

    def put(self, path: str, value: Any, section: str, pointer: str) -> None:
        """Set facts[path] (path like 'os/build') and remember where it came from."""
        parts = path.split("/")
        node = self.facts
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
        self.origins["/" + path] = (section, pointer)

    def problem(self, section: str, pointer: str, message: str) -> None:
        self.problems.append(Problem(section, pointer, message))

    def note(self, section: str, pointer: str, message: str) -> None:
        self.notes.append(Problem(section, pointer, message))

    def source(self, fact: str, how: str) -> None:
        """Mark how a fact was obtained when it was not simply read (provenance.fact_sources.<fact>)."""
        self.sources[fact] = how


def _int(b: _Builder, value: Any, section: str, pointer: str, what: str) -> int | None:
    if value is None:
        return None
    num = n.parse_number(value, integer=True)
    if num is None:
        b.problem(section, pointer, f"{what}: {value!r} is not a whole number")
        return None
    return int(num)


def build_facts(raw: Mapping[str, Any]) -> Built:
    """Facts (a dict in the facts-v1 shape) from the collector's raw reads."""
    b = _Builder()
    _identity(b, raw)
    _os(b, raw)
    _dotnet(b, raw)
    _iis(b, raw)
    _hardware(b, raw)
    _agent(b, raw)
    _services(b, raw)
    _notification_server(b, raw)
    _network(b, raw)
    _provenance(b, raw)
    _collector_warnings(b, raw)
    if b.sources:
        b.put("provenance/fact_sources", dict(sorted(b.sources.items())), "collection", "")
    # The name goes first in the output for readability.
    facts = {"name": b.facts.pop("name")} if "name" in b.facts else {}
    facts.update(b.facts)
    return Built(facts, b.origins, b.problems, b.notes)


def _collection(raw: Mapping[str, Any]) -> dict[str, Any]:
    """collect.ps1's own record of the run (collection.json), or {}."""
    coll = raw.get("collection")
    return coll if isinstance(coll, dict) else {}


def _identity(b: _Builder, raw: Mapping[str, Any]) -> None:
    cs = strip_noise(raw.get("computer_system") or {})
    os_ = strip_noise(raw.get("os") or {})
    coll = _collection(raw)
    sources: tuple[tuple[str, Any, str], ...] = (
        ("computer_name", raw.get("computer_name"), ""),
        ("collection", get(coll, "ComputerName"), "/ComputerName"),
        ("computer_system", get(cs, "Name"), "/Name"),
        ("os", get(os_, "CSName"), "/CSName"),
    )
    for section, value, pointer in sources:
        if isinstance(value, str) and value.strip():
            b.put("name", value.strip(), section, pointer)
            break
    domain = get(cs, "Domain")
    part_of_domain = n.to_bool(get(cs, "PartOfDomain"))
    # A workgroup computer reports its workgroup as Domain; that is no DNS domain.
    if isinstance(domain, str) and domain.strip() and part_of_domain is not False:
        b.put("identity/domain", domain.strip().lower(), "computer_system", "/Domain")
        host = get(cs, "DNSHostName") or get(cs, "Name")
        if isinstance(host, str) and host.strip() and "." in domain:
            b.put("identity/fqdn", f"{host.strip()}.{domain.strip()}".lower(), "computer_system", "/DNSHostName")
    agent = strip_noise(raw.get("agent") or {})
    servers = as_list(get(agent, "Servers"))
    if servers and isinstance(servers[0], str) and servers[0].strip():
        b.put("identity/notification_server", servers[0].strip(), "agent", "/Servers/0")
    guid = get(agent, "MachineGuid")
    if isinstance(guid, str) and guid.strip():
        b.put("identity/resource_guid", guid.strip().strip("{}").lower(), "agent", "/MachineGuid")


def _os(b: _Builder, raw: Mapping[str, Any]) -> None:
    if "os" not in raw:
        _cpu_architecture(b, raw)
        return
    os_ = strip_noise(raw.get("os") or {})
    caption = get(os_, "Caption")
    if isinstance(caption, str) and caption.strip():
        # Vista/7 captions carry trailing spaces (itms-domain.md 8.2).
        b.put("os/caption", caption.strip(), "os", "/Caption")
    sku = get(os_, "OperatingSystemSKU")
    edition = _SKU_EDITIONS.get(sku) if isinstance(sku, int) and not isinstance(sku, bool) else None
    if edition:
        # OperatingSystemSKU is locale-free; the caption is localised ("Famille", "专业版").
        b.put("os/edition", edition, "os", "/OperatingSystemSKU")
    elif isinstance(caption, str) and n.os_edition(caption):
        b.put("os/edition", n.os_edition(caption), "os", "/Caption")
    version_raw = get(os_, "Version")
    version = n.os_version(version_raw) if version_raw is not None else None
    if version:
        b.put("os/version", version, "os", "/Version")
    elif version_raw is not None:
        b.problem("os", "/Version", f"OS version {version_raw!r} is not a dotted version")
    build = _int(b, get(os_, "BuildNumber"), "os", "/BuildNumber", "OS build")
    if build is None and get(os_, "BuildNumber") is None:
        build = n.build_from_version(version)
        if build is not None:
            b.put("os/build", build, "os", "/Version")
    elif build is not None:
        b.put("os/build", build, "os", "/BuildNumber")
    pt_raw = get(os_, "ProductType")
    if pt_raw is not None:
        pt = n.product_type(pt_raw)
        if pt:
            b.put("os/product_type", pt, "os", "/ProductType")
        else:
            b.problem("os", "/ProductType", f"product type {pt_raw!r} is not 1, 2 or 3")
    if _cpu_architecture(b, raw):
        return
    arch_raw = get(os_, "OSArchitecture")
    if arch_raw is not None:
        arch = n.architecture(arch_raw) or _localised_architecture(arch_raw)
        if arch:
            b.put("os/architecture", arch, "os", "/OSArchitecture")
        else:
            b.problem("os", "/OSArchitecture", f"architecture {arch_raw!r} is not recognised")


# Win32_OperatingSystem.OperatingSystemSKU -> edition: the PRODUCT_* values of
# GetProductInfo (https://learn.microsoft.com/windows/win32/api/sysinfoapi/nf-sysinfoapi-getproductinfo),
# named as the caption-based fallback (normalize.os_edition) names them, so both
# paths give the same word. A SKU not listed here falls back to the caption.
_SKU_EDITIONS: dict[int, str] = {
    1: "Ultimate", 28: "Ultimate",  # ULTIMATE, ULTIMATE_N
    2: "Home", 3: "Home", 5: "Home", 26: "Home",  # HOME_BASIC, HOME_PREMIUM, HOME_BASIC_N, HOME_PREMIUM_N
    98: "Home", 99: "Home", 100: "Home", 101: "Home",  # CORE_N, CORE_COUNTRYSPECIFIC, CORE_SINGLELANGUAGE, CORE
    4: "Enterprise", 27: "Enterprise", 72: "Enterprise", 84: "Enterprise",  # ENTERPRISE, _N, _EVALUATION, _N_EVALUATION
    125: "Enterprise", 126: "Enterprise", 129: "Enterprise", 130: "Enterprise",  # ENTERPRISE_S (LTSC), _S_N and evaluations
    175: "Enterprise",  # SERVERRDSH: Enterprise multi-session
    10: "Enterprise", 14: "Enterprise", 38: "Enterprise", 41: "Enterprise",  # ENTERPRISE_SERVER(_CORE)(_V)
    7: "Standard", 13: "Standard", 36: "Standard", 40: "Standard", 79: "Standard", 146: "Standard", 160: "Standard",
    8: "Datacenter", 12: "Datacenter", 37: "Datacenter", 39: "Datacenter", 80: "Datacenter", 145: "Datacenter",
    159: "Datacenter", 407: "Datacenter",  # ..._EVALUATION_SERVER_CORE, DATACENTER_SERVER_AZURE_EDITION
    50: "Essentials",  # SB_SOLUTION_SERVER (Windows Server Essentials)
    48: "Pro", 49: "Pro", 103: "Pro", 161: "Pro", 162: "Pro",  # PROFESSIONAL(_N)(_WMC), PRO_WORKSTATION(_N)
    121: "Education", 122: "Education", 164: "Education", 165: "Education",  # EDUCATION(_N), PRO_FOR_EDUCATION(_N)
    188: "IoT", 191: "IoT",  # IOTENTERPRISE, IOTENTERPRISES
}

# Win32_Processor.Architecture: 0 x86, 9 x64, 12 ARM64 (5 ARM and 6 Itanium have no fact value).
_CPU_ARCH: dict[int, str] = {0: "x86", 9: "x64", 12: "arm64"}


def _cpu_architecture(b: _Builder, raw: Mapping[str, Any]) -> bool:
    """os/architecture from Win32_Processor.Architecture (locale-free); False when not read."""
    procs = [strip_noise(p) for p in as_list(raw.get("processors"))]
    value = get(procs[0], "Architecture") if procs else None
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    arch = _CPU_ARCH.get(value)
    if arch is None:
        b.problem("processors", "/0/Architecture", f"processor architecture {value} is not x86 (0), x64 (9) or ARM64 (12)")
        return True
    # A 32-bit Windows on a 64-bit processor: the OS, not the processor, is what rules ask about.
    is64 = get(_collection(raw), "Is64BitOperatingSystem")
    if arch == "x64" and is64 is False:
        arch = "x86"
    b.put("os/architecture", arch, "processors", "/0/Architecture")
    return True


def _localised_architecture(value: Any) -> str | None:
    """OSArchitecture in locales that do not say 'bit' ("64-разрядная", "64 ビット", "64 位")."""
    if not isinstance(value, str):
        return None
    m = re.match(r"^\s*(32|64)(?!\d)", value)
    if m is None:
        return None
    return "x64" if m.group(1) == "64" else "x86"


def _dotnet(b: _Builder, raw: Mapping[str, Any]) -> None:
    if "dotnet" not in raw:
        return
    d = raw.get("dotnet")
    if isinstance(d, dict):
        d = strip_noise(d)
        value, pointer = get(d, "Release"), "/Release"
    else:
        value, pointer = d, ""
    if value is None:
        return  # the Full key or its Release value is absent: .NET 4.5+ not installed or not readable
    rel = _int(b, value, "dotnet", pointer, ".NET Release DWORD")
    if rel is not None:
        b.put("dotnet/release", rel, "dotnet", pointer)


def _cim_installed(f: Any) -> bool | None:
    """Win32_OptionalFeature (no DISM: works from PowerShell 7 and from a 32-bit process):
    InstallState 1 = Enabled, 2 = Disabled, 3 = Absent, 4 = Unknown."""
    state = get(f, "InstallState")
    if state in (1, 2, 3) and not isinstance(state, bool):
        return state == 1
    return None


class _FeatureSection(NamedTuple):
    """One way the collector lists features: where, which name, which prefix is IIS, how installed."""

    key: str
    name: Callable[[Any], Any]
    prefix: str
    installed: Callable[[Any], bool | None]
    no_name: str
    unknown: Callable[[str, Any], str]


# In order of preference: the first section the collector read is the one used.
_FEATURE_SECTIONS = (
    _FeatureSection("windows_features", lambda f: get(f, "Name"), "Web-", n.feature_installed,
                    "feature without a Name", lambda name, f: f"feature {name}: install state unknown"),
    _FeatureSection("optional_features", lambda f: get(f, "FeatureName") or get(f, "Name"), "IIS-",
                    lambda f: n.optional_feature_enabled(get(f, "State")),
                    "optional feature without a FeatureName", lambda name, f: f"feature {name}: state unknown"),
    _FeatureSection("cim_optional_features", lambda f: get(f, "Name"), "IIS-", _cim_installed,
                    "optional feature without a Name",
                    lambda name, f: f"feature {name}: install state {get(f, 'InstallState')!r} unknown"),
)


def _feature_names(b: _Builder, raw: Mapping[str, Any]) -> tuple[list[str] | None, str | None]:
    """Installed IIS feature names, and the section they came from."""
    for sec in _FEATURE_SECTIONS:
        if sec.key not in raw:
            continue
        names: list[str] = []
        for i, f in enumerate(as_list(raw.get(sec.key))):
            f = strip_noise(f)
            name = sec.name(f)
            if not isinstance(name, str) or not name.strip():
                b.problem(sec.key, f"/{i}", sec.no_name)
                continue
            if not name.startswith(sec.prefix):
                continue
            inst = sec.installed(f)
            if inst is None:
                b.problem(sec.key, f"/{i}", sec.unknown(name, f))
            elif inst:
                names.append(name.strip())
        return names, sec.key
    return None, None


def _iis(b: _Builder, raw: Mapping[str, Any]) -> None:
    names, section = _feature_names(b, raw)
    if names is not None and section is not None:
        b.put("iis/features", sorted(set(names)), section, "")
        role = {n.feature_name(x) for x in names}
        b.put("iis/installed", "Web-Server" in role or "Web-WebServer" in role, section, "")
    inetstp = raw.get("inetstp")
    if isinstance(inetstp, dict):
        inetstp = strip_noise(inetstp)
        major = get(inetstp, "MajorVersion")
        if major is not None:
            minor = get(inetstp, "MinorVersion") or 0
            if isinstance(major, int) and isinstance(minor, int):
                b.put("iis/version", f"{major}.{minor}", "inetstp", "/MajorVersion")
            if names is None:
                b.put("iis/installed", True, "inetstp", "/MajorVersion")
        elif names is None and not inetstp:
            # The InetStp key was read and is absent: IIS was never installed.
            b.put("iis/installed", False, "inetstp", "")
    rf = raw.get("request_filtering")
    if isinstance(rf, dict):
        _request_filtering(b, strip_noise(rf), "request_filtering")
    elif isinstance(raw.get("applicationhost_config"), str):
        try:
            parsed = request_filtering_from_config(raw["applicationhost_config"])
        except ValueError as exc:
            b.problem("applicationhost_config", "", str(exc))
            return
        if parsed is not None:
            _request_filtering(b, parsed, "applicationhost_config")


def _request_filtering(b: _Builder, rf: Mapping[str, Any], section: str) -> None:
    for key, fact in (("maxQueryString", "max_query_string"), ("maxUrl", "max_url")):
        value = get(rf, key)
        if value is not None:
            v = _int(b, value, section, "/" + key, key)
            if v is not None:
                b.put(f"iis/request_filtering/{fact}", v, section, "/" + key)
    allow = get(rf, "allowUnlisted")
    if allow is not None:
        flag = n.to_bool(allow)
        if flag is None:
            b.problem(section, "/allowUnlisted", f"allowUnlisted {allow!r} is not a boolean")
        else:
            b.put("iis/request_filtering/allow_unlisted_verbs", flag, section, "/allowUnlisted")
    verbs = get(rf, "verbs")
    if verbs is not None:
        allowed: list[str] = []
        denied: list[str] = []
        for i, v in enumerate(as_list(verbs)):
            name = get(v, "verb") if isinstance(v, dict) else v
            ok = n.to_bool(get(v, "allowed")) if isinstance(v, dict) else True
            if not isinstance(name, str) or not name.strip():
                b.problem(section, f"/verbs/{i}", "verb entry without a verb")
                continue
            (allowed if ok is not False else denied).append(name.strip().upper())
        b.put("iis/request_filtering/allowed_verbs", allowed, section, "/verbs")
        b.put("iis/request_filtering/denied_verbs", denied, section, "/verbs")


def request_filtering_from_config(text: str, site: str = "Default Web Site") -> dict[str, Any] | None:
    """Effective requestFiltering of ``site`` from applicationHost.config text.

    The server-wide section is read first, then a ``<location path="Default Web
    Site">`` section overlays it (attributes replace, the verbs collection honours
    ``<clear/>``, ``<remove/>`` and ``<add/>``). Attributes left unset take the IIS
    schema defaults. Returns None when the text is not an IIS configuration;
    raises ValueError for XML that cannot be parsed. A site's own web.config is
    not read (it may override these limits; the collector notes that).
    """
    if len(text) > MAX_CONFIG_CHARS:
        raise ValueError("applicationHost.config larger than 8 MiB: not read")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        # applicationHost.config never has a DTD; refusing one rules out entity tricks.
        raise ValueError("applicationHost.config with a DTD is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"applicationHost.config is not well-formed XML: {exc}") from None
    if root.tag != "configuration":
        return None
    limits: dict[str, Any] = {"maxQueryString": IIS_DEFAULT_MAX_QUERY_STRING, "maxUrl": IIS_DEFAULT_MAX_URL, "allowUnlisted": True}
    verbs: dict[str, bool] = {}

    def overlay(scope: ET.Element) -> None:
        rf = scope.find("./system.webServer/security/requestFiltering")
        if rf is None:
            return
        rl = rf.find("requestLimits")
        if rl is not None:
            for attr in ("maxQueryString", "maxUrl"):
                if rl.get(attr) is not None:
                    limits[attr] = rl.get(attr)
        vs = rf.find("verbs")
        if vs is not None:
            if vs.get("allowUnlisted") is not None:
                limits["allowUnlisted"] = vs.get("allowUnlisted")
            for el in vs:
                if el.tag == "clear":
                    verbs.clear()
                elif el.tag == "remove" and el.get("verb"):
                    verbs.pop(el.get("verb", "").upper(), None)
                elif el.tag == "add" and el.get("verb"):
                    verbs[el.get("verb", "").upper()] = n.to_bool(el.get("allowed", "true")) is not False

    overlay(root)
    for loc in root.findall("location"):
        if loc.get("path", "") in ("", "."):
            overlay(loc)
    for loc in root.findall("location"):
        if loc.get("path", "").strip("/") == site:
            overlay(loc)
    out = dict(limits)
    out["verbs"] = [{"verb": v, "allowed": a} for v, a in verbs.items()]
    return out


def _hardware(b: _Builder, raw: Mapping[str, Any]) -> None:
    procs = [strip_noise(p) for p in as_list(raw.get("processors"))]
    if procs:
        for key, fact in (("NumberOfLogicalProcessors", "logical_processors"), ("NumberOfCores", "cores")):
            vals = [_int(b, get(p, key), "processors", f"/{i}/{key}", key) for i, p in enumerate(procs)]
            if vals and all(v is not None for v in vals):
                b.put(f"hardware/{fact}", sum(v for v in vals if v is not None), "processors", f"/0/{key}")
    # Installed memory: the DIMMs' capacity is what people size by; the OS's
    # visible memory (kilobytes) is a little less (firmware reserves some), so
    # it is the fallback, then Win32_ComputerSystem's bytes.
    dimms = [strip_noise(m) for m in as_list(raw.get("physical_memory"))]
    # A DIMM without a positive Capacity is unreadable, not empty: then the OS's figure is used.
    caps = [c if c is not None and c > 0 else None for c in (n.parse_number(get(m, "Capacity"), integer=True) for m in dimms)]
    os_ = strip_noise(raw.get("os") or {})
    cs = strip_noise(raw.get("computer_system") or {})
    if dimms and all(c is not None for c in caps):
        b.put("hardware/memory_mb", n.to_mb(sum(c for c in caps if c is not None), "bytes"), "physical_memory", "/0/Capacity")
    elif get(os_, "TotalVisibleMemorySize") is not None:
        kb = _int(b, get(os_, "TotalVisibleMemorySize"), "os", "/TotalVisibleMemorySize", "TotalVisibleMemorySize")
        if kb is not None:
            b.put("hardware/memory_mb", n.kb_to_mb(kb), "os", "/TotalVisibleMemorySize")
    elif get(cs, "TotalPhysicalMemory") is not None:
        by = _int(b, get(cs, "TotalPhysicalMemory"), "computer_system", "/TotalPhysicalMemory", "TotalPhysicalMemory")
        if by is not None:
            b.put("hardware/memory_mb", n.to_mb(by, "bytes"), "computer_system", "/TotalPhysicalMemory")
    disks = [strip_noise(d) for d in as_list(raw.get("disks"))]
    sysdrive = get(os_, "SystemDrive")
    by_id = {str(get(d, "DeviceID") or "").upper().rstrip("\\"): (i, d) for i, d in enumerate(disks)}
    if isinstance(sysdrive, str) and sysdrive.strip():
        hit = by_id.get(sysdrive.strip().upper().rstrip("\\"))
        if hit is not None:
            i, d = hit
            free = _int(b, get(d, "FreeSpace"), "disks", f"/{i}/FreeSpace", "FreeSpace")
            if free is not None:
                b.put("hardware/system_drive_free_gb", n.bytes_to_gb(free), "disks", f"/{i}/FreeSpace")
    store = raw.get("package_store_path")
    store_origin = ("package_store_path", "")
    if not (isinstance(store, str) and store.strip()):
        store = get(_collection(raw), "PackageStorePath")
        store_origin = ("collection", "/PackageStorePath")
    install_dir = get(strip_noise(raw.get("agent") or {}), "InstallDir")
    default_store = None
    if isinstance(install_dir, str) and install_dir.strip():
        # Default package store: <agent install dir>\Package Delivery (KB 416632,
        # itms-domain.md 4); a custom store is passed in as package_store_path.
        default_store = install_dir.strip().rstrip("\\") + "\\Package Delivery"
        if not (isinstance(store, str) and store.strip()):
            store = default_store
            store_origin = ("agent", "/InstallDir")
            # Assumed, not read: a custom store would pass the location rule unseen,
            # so the facts say so (provenance.fact_sources) and the import warns.
            b.source("package_store_path", "assumed-default")
            b.note("agent", "/InstallDir", f"package store path not given: the default {default_store} is assumed (pass -PackageStorePath for a custom store)")
    if isinstance(store, str) and store.strip():
        b.put("package_store/path", store.strip(), *store_origin)
        known, profiles = raw.get("known_folders"), raw.get("profiles_directory")
        if isinstance(known, dict):
            # knownfolders.json as collect.ps1 writes it.
            profiles = get(known, "ProfilesDirectory") if profiles is None else profiles
            known = as_list(get(known, "KnownFolders")) if get(known, "KnownFolders") is not None else None
        inside = in_known_folder(store, default_store, known, profiles)
        if inside is not None:
            is_default = default_store is not None and _norm_path(store) == _norm_path(default_store)
            b.put("package_store/in_known_folder", inside, *(("agent", "/InstallDir") if is_default else ("known_folders", "")))
        m = re.match(r"^([A-Za-z]:)", store.strip())
        hit = by_id.get(m.group(1).upper()) if m else None
        if store.strip().startswith("\\\\"):
            b.put("package_store/fixed_media", False, "package_store_path", "")
        elif hit is not None:
            i, d = hit
            free = _int(b, get(d, "FreeSpace"), "disks", f"/{i}/FreeSpace", "FreeSpace")
            if free is not None:
                b.put("hardware/package_store_free_gb", n.bytes_to_gb(free), "disks", f"/{i}/FreeSpace")
            dtype = get(d, "DriveType")
            if isinstance(dtype, int) and not isinstance(dtype, bool):
                # Win32_LogicalDisk.DriveType 3 = local (fixed) disk.
                b.put("package_store/fixed_media", dtype == 3, "disks", f"/{i}/DriveType")
    virtual = n.is_virtual(get(cs, "Manufacturer"), get(cs, "Model"))
    if virtual is not None:
        b.put("hardware/virtual", virtual, "computer_system", "/Model")


def _norm_path(p: str) -> str:
    return p.strip().replace("/", "\\").rstrip("\\").lower()


def in_known_folder(store: str, default_store: str | None, known_folders: Any, profiles_directory: Any) -> bool | None:
    """KB 416632: whether a package store is a Windows Known Folder or inside one.

    The product's default location (<agent install dir>\\Package Delivery) counts
    as valid, though it lies under Program Files. Otherwise the store is compared,
    case-insensitively, with each Known Folder read on the host and with the user
    profiles root (every user's Documents, Desktop... are below it); drive roots
    are no Known Folder of their own. None when the folders were not read.
    """
    s = _norm_path(store)
    if default_store is not None and s == _norm_path(default_store):
        return False
    folders = [f for f in (known_folders if isinstance(known_folders, list) else []) if isinstance(f, str)]
    if isinstance(profiles_directory, str):
        folders.append(profiles_directory)
    if not isinstance(known_folders, list):
        return None
    for f in folders:
        k = _norm_path(f)
        if len(k) <= 2:  # "c:" (a drive root) or empty
            continue
        if s == k or s.startswith(k + "\\"):
            return True
    return False


def _agent(b: _Builder, raw: Mapping[str, Any]) -> None:
    if "agent" not in raw:
        return
    agent = strip_noise(raw.get("agent") or {})
    version = get(agent, "Version")
    v = n.agent_version(str(version)) if version is not None else None
    if v:
        b.put("agent/version", v, "agent", "/Version")
        return
    # The Version registry value is not a documented interface; the file version
    # of <InstallDir>\AeXNSAgent.exe is what public admin scripts read instead.
    file_version = get(agent, "FileVersion")
    fv = n.agent_version(str(file_version)) if file_version is not None else None
    if fv:
        b.put("agent/version", fv, "agent", "/FileVersion")
        b.source("agent_version", "agent-file-version")
    elif version is not None:
        b.problem("agent", "/Version", f"agent version {version!r} has no dotted version number")
    elif file_version is not None:
        b.problem("agent", "/FileVersion", f"agent file version {file_version!r} has no dotted version number")


def _services(b: _Builder, raw: Mapping[str, Any]) -> None:
    found: dict[str, tuple[str, str]] = {}
    agent = strip_noise(raw.get("agent") or {})
    for i, sub in enumerate(as_list(get(agent, "SubKeys"))):
        r = _service_role(sub)
        if r and r not in found:
            found[r] = ("agent", f"/SubKeys/{i}")
    for i, svc in enumerate(as_list(raw.get("services"))):
        svc = strip_noise(svc)
        if not _is_site_service_candidate(svc):
            # "Citrix Monitor Service" is no ITMS monitor service: markers are matched
            # only against Symantec/Altiris services (an export may list them all).
            continue
        for key in ("DisplayName", "Name"):
            r = _service_role(get(svc, key))
            if r and r not in found:
                found[r] = ("services", f"/{i}/{key}")
    if found:
        # Only positive findings are facts; no finding leaves "installed" unknown,
        # because the detection is best effort (see _SERVICE_MARKERS).
        first = next(iter(found.values()))
        b.put("site_services/installed", [{"service": r} for r in sorted(found)], first[0], first[1])


_VENDOR_RX = re.compile(r"altiris|symantec", re.IGNORECASE)


def _is_site_service_candidate(svc: Any) -> bool:
    """A Windows service object that names Symantec or Altiris (DisplayName or Name)."""
    return any(isinstance(get(svc, k), str) and _VENDOR_RX.search(get(svc, k)) for k in ("DisplayName", "Name"))


def _service_role(name: Any) -> str | None:
    if not isinstance(name, str):
        return None
    low = name.lower()
    for marker, r in _SERVICE_MARKERS:
        if marker in low:
            return r
    return None


#: The Notification Server's own Windows service ("Altiris Service", AeXSvc.exe)
#: [COMMUNITY: process and service lists of public admin tools; not a Broadcom document].
_NS_SERVICE_NAMES = ("aexsvc",)
_NS_SERVICE_DISPLAY = ("altiris service",)


def _notification_server(b: _Builder, raw: Mapping[str, Any]) -> None:
    """identity.is_notification_server, only when the reads settle it.

    True when the NS's own service (AeXSvc) runs here, or when the agent reports to
    this very computer (an NS manages its own agent). False only when the agent
    reports to another computer *and* the Symantec/Altiris services were read
    without AeXSvc among them; anything less leaves the fact unknown.
    """
    services = raw.get("services")
    ns_service = None
    if services is not None:
        for i, svc in enumerate(as_list(services)):
            svc = strip_noise(svc)
            name = str(get(svc, "Name") or "").strip().lower()
            display = str(get(svc, "DisplayName") or "").strip().lower()
            if name in _NS_SERVICE_NAMES or display in _NS_SERVICE_DISPLAY:
                ns_service = i
                break
    if ns_service is not None:
        b.put("identity/is_notification_server", True, "services", f"/{ns_service}/Name")
        return
    ns = b.facts.get("identity", {}).get("notification_server")
    me = b.facts.get("name")
    if not isinstance(ns, str) or not isinstance(me, str) or not ns.strip():
        return
    ns_host = ns.strip().lower().split(":")[0]
    fqdn = b.facts.get("identity", {}).get("fqdn")
    same = ns_host.split(".")[0] == me.strip().lower() or (isinstance(fqdn, str) and ns_host == fqdn.lower())
    if same:
        b.put("identity/is_notification_server", True, "agent", "/Servers/0")
    elif services is not None:
        b.put("identity/is_notification_server", False, "agent", "/Servers/0")


#: Exceptions of the probe that are answers from the network: refused or timed-out
#: connections, a closed stream, a failed TLS handshake. Any other error is the
#: probe's own failure and leaves reachability unknown.
_NETWORK_ERRORS = frozenset({
    "System.Net.Sockets.SocketException",
    "System.TimeoutException",
    "System.IO.IOException",
    "System.Security.Authentication.AuthenticationException",
})


def _network(b: _Builder, raw: Mapping[str, Any]) -> None:
    """network.ns_url, ns_https_reachable, ns_certificate_chain_valid from collect.ps1's HTTPS probe.

    Reachable means an HTTP status line came back over TLS (any status: 401 and
    404 still prove the NS answers HTTPS); a refused or timed-out connection, a
    closed stream or a failed TLS handshake is a definite false. A probe that
    could not run (no NS known, skipped, or failing for its own reasons) leaves
    the facts unknown. The chain is
    the one the host's own X509Chain.Build gave for the certificate the NS sent.
    """
    net = raw.get("network")
    if not isinstance(net, dict):
        return
    net = strip_noise(net)
    url = get(net, "NsUrl")
    if isinstance(url, str) and url.strip():
        b.put("network/ns_url", url.strip(), "network", "/NsUrl")
    if get(net, "Attempted") is not True or get(net, "ProbeError"):
        return
    line = get(net, "StatusLine")
    status = re.match(r"^HTTP/\d(?:\.\d)?\s+([1-5]\d\d)(?:\s|$)", line) if isinstance(line, str) else None
    if status is not None:
        b.put("network/ns_https_reachable", True, "network", "/StatusLine")
    elif get(net, "ErrorType") in _NETWORK_ERRORS:
        b.put("network/ns_https_reachable", False, "network", "/Error")
    elif get(net, "Error") is not None:
        b.problem("network", "/ErrorType", f"the HTTPS probe failed with {get(net, 'ErrorType')!r}, which says nothing about the network: {get(net, 'Error')}")
    # Valid = the chain builds to a root this host trusts *and* the certificate names
    # the host that was asked (SslStream's RemoteCertificateNameMismatch).
    chain = get(net, "ChainBuilt")
    policy = get(net, "SslPolicyErrors")
    if chain is False:
        b.put("network/ns_certificate_chain_valid", False, "network", "/ChainBuilt")
    elif chain is True and isinstance(policy, str):
        mismatch = "RemoteCertificateNameMismatch" in policy
        b.put("network/ns_certificate_chain_valid", not mismatch, "network", "/SslPolicyErrors" if mismatch else "/ChainBuilt")


def _collector_warnings(b: _Builder, raw: Mapping[str, Any]) -> None:
    """The collector's own warnings (reads that failed on the host): kept in the facts and reported."""
    warnings = [w for w in as_list(get(_collection(raw), "Warnings")) if isinstance(w, str) and w.strip()]
    for i, w in enumerate(warnings):
        b.note("collection", f"/Warnings/{i}", f"collector: {w.strip()}")
    if warnings:
        b.put("extensions/sitegate_collector_warnings", [w.strip() for w in warnings], "collection", "/Warnings")


def _provenance(b: _Builder, raw: Mapping[str, Any]) -> None:
    at = raw.get("collected_at")
    section, pointer = "collected_at", ""
    coll = _collection(raw)
    if at is None and get(coll, "CollectedAt") is not None:
        at, section, pointer = get(coll, "CollectedAt"), "collection", "/CollectedAt"
    if at is None:
        # Win32_OperatingSystem.LocalDateTime is the clock at the moment of the
        # query, so it dates an export that carries no separate timestamp.
        at = get(strip_noise(raw.get("os") or {}), "LocalDateTime")
        section, pointer = "os", "/LocalDateTime"
    if isinstance(at, str) and at.strip():
        iso = n.parse_datetime(at)
        if iso:
            b.put("provenance/collected_at", iso, section, pointer)
        else:
            b.problem(section, pointer, f"collection time {at!r} is not a date")
    by = raw.get("collector")
    if by is None and isinstance(get(coll, "CollectorName"), str):
        by = {"name": get(coll, "CollectorName"), "version": get(coll, "CollectorVersion")}
    if isinstance(by, dict) and isinstance(by.get("name"), str):
        cb: dict[str, Any] = {"name": by["name"]}
        if isinstance(by.get("version"), str):
            cb["version"] = by["version"]
        b.put("provenance/collected_by", cb, "collector", "")


def merge_into(facts: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Deep-merge ``extra`` into facts (extra wins), for host metadata given beside raw reads."""
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(facts.get(k), dict):
            merge_into(facts[k], v)
        else:
            facts[k] = v
