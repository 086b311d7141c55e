"""Normalisation in one place: every importer, the collector and the engine use it.

Tables here come from ``shared/reference/itms-domain.md``; each names its source.
The engine calls :func:`derive` once per host to add the ``derived`` facts that
rules read (the .NET version from the Release DWORD, server vs desktop from the
product type, role sets, feature names mapped to one identity).
"""
from __future__ import annotations

import operator
import re
from typing import Any

# .NET Framework 4.5+ minimum Release DWORD per version, newest first. Compare
# with >= (Microsoft's guidance). Source: [SOLID]
# https://learn.microsoft.com/en-us/dotnet/framework/install/how-to-determine-which-versions-are-installed
DOTNET_RELEASES: tuple[tuple[int, str], ...] = (
    (533320, "4.8.1"),
    (528040, "4.8"),
    (461808, "4.7.2"),
    (461308, "4.7.1"),
    (460798, "4.7"),
    (394802, "4.6.2"),
    (394254, "4.6.1"),
    (393295, "4.6"),
    (379893, "4.5.2"),
    (378675, "4.5.1"),
    (378389, "4.5"),
)


def dotnet_version(release: int) -> str:
    """The .NET Framework version a Release DWORD stands for ('4.7.2'); below 4.5: '<4.5'."""
    for minimum, name in DOTNET_RELEASES:
        if release >= minimum:
            return name
    return "<4.5"


# Win32_OperatingSystem.ProductType. Source: [SOLID]
# https://learn.microsoft.com/en-us/windows/win32/cimwin32prov/win32-operatingsystem
PRODUCT_TYPES: dict[int, str] = {1: "workstation", 2: "domain_controller", 3: "server"}


def product_type(value: Any) -> str | None:
    """Map 1/2/3, '1'/'2'/'3' or a name to workstation / domain_controller / server."""
    if isinstance(value, str):
        v = value.strip().lower().replace(" ", "_")
        if v.isdigit():
            return PRODUCT_TYPES.get(int(v))
        aliases = {"work_station": "workstation", "domaincontroller": "domain_controller", "dc": "domain_controller"}
        v = aliases.get(v, v)
        return v if v in PRODUCT_TYPES.values() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return PRODUCT_TYPES.get(value)
    return None


def os_family(ptype: str | None) -> str | None:
    """server for product types 2 and 3 (a domain controller is a server), desktop for 1."""
    if ptype is None:
        return None
    return "desktop" if ptype == "workstation" else "server"


# Build number -> OS name, keyed by family. Sources: [SOLID] hcsshim osversion
# (14393, 17763, 20348, 26100 server); [COMMUNITY] DataForGeeks releases.json
# for client builds. See itms-domain.md section 1.3.
OS_BUILDS: dict[tuple[int, str], str] = {
    (7601, "desktop"): "Windows 7 SP1",
    (7601, "server"): "Windows Server 2008 R2 SP1",
    (9200, "desktop"): "Windows 8",
    (9200, "server"): "Windows Server 2012",
    (9600, "desktop"): "Windows 8.1",
    (9600, "server"): "Windows Server 2012 R2",
    (14393, "desktop"): "Windows 10 1607",
    (14393, "server"): "Windows Server 2016",
    (17763, "desktop"): "Windows 10 1809",
    (17763, "server"): "Windows Server 2019",
    (19044, "desktop"): "Windows 10 21H2",
    (19045, "desktop"): "Windows 10 22H2",
    (20348, "server"): "Windows Server 2022",
    (22000, "desktop"): "Windows 11 21H2",
    (22621, "desktop"): "Windows 11 22H2",
    (22631, "desktop"): "Windows 11 23H2",
    (26100, "desktop"): "Windows 11 24H2",
    (26100, "server"): "Windows Server 2025",
}


def os_name(build: int | None, family: str | None) -> str | None:
    """'Windows Server 2019' for (17763, server); None when the build is not known."""
    if build is None or family is None:
        return None
    return OS_BUILDS.get((build, family))


def os_display(build: int | None, family: str | None, caption: Any = None) -> str | None:
    """How a message names the OS: 'Windows Server 2019 (build 17763)', the caption when
    the build has no known name, 'Windows build 26200' when there is no caption either."""
    name = os_name(build, family)
    if name is None and isinstance(caption, str) and caption.strip():
        name = caption.strip()
    if name is not None:
        return f"{name} (build {build})" if build is not None else name
    return f"Windows build {build}" if build is not None else None


# .NET Framework 4.8.1 per OS. Sources: [SOLID] dotnet/docs PR #43057
# (versions-and-dependencies.md: 4.8.1's only Windows Server is 2022; clients
# Windows 10 20H2 and later and Windows 11), dotnet/docs on-server-2022.md (Server
# 2022 ships with 4.8), Microsoft's .NET system requirements (Windows 11 22H2,
# 23H2 and 24H2 ship with 4.8.1). Windows 10 20H2 is build 19042.
_NET481_ANYWHERE = "4.8.1 only on Windows Server 2022, Windows 10 20H2 or later and Windows 11"


def dotnet_upgrade(build: int | None, family: str | None) -> str:
    """What .NET Framework 4.8.x this OS can take, for a remediation sentence."""
    if family == "server":
        if build in (14393, 17763):
            return "4.8 (4.8.1 cannot be installed on Windows Server 2016 or 2019)"
        if build == 20348:
            return "4.8 or 4.8.1 (Windows Server 2022 ships with 4.8)"
    elif family == "desktop" and build is not None:
        if build in (22621, 22631, 26100):
            return "4.8.1 (this Windows 11 release ships with it)"
        if build >= 22000:
            return "4.8 or 4.8.1"
        if 19042 <= build < 20000:
            return "4.8 or 4.8.1"
        if build < 19042:
            return "4.8 (4.8.1 needs Windows 10 20H2 or later)"
    return f"4.8 ({_NET481_ANYWHERE})"


# Desktop optional-feature names -> Server Manager names. Sources: [SOLID]
# MicrosoftDocs server-core roles page and IIS "install typical workloads";
# names marked with a dagger in itms-domain.md 3.2 are [COMMUNITY].
DESKTOP_FEATURES: dict[str, str] = {
    "IIS-WebServerRole": "Web-Server",
    "IIS-WebServer": "Web-WebServer",
    "IIS-StaticContent": "Web-Static-Content",
    "IIS-DefaultDocument": "Web-Default-Doc",
    "IIS-DirectoryBrowsing": "Web-Dir-Browsing",
    "IIS-HttpErrors": "Web-Http-Errors",
    "IIS-HttpRedirect": "Web-Http-Redirect",
    "IIS-RequestFiltering": "Web-Filtering",
    "IIS-WindowsAuthentication": "Web-Windows-Auth",
    "IIS-ASP": "Web-ASP",
    "IIS-ASPNET": "Web-Asp-Net",
    "IIS-ASPNET45": "Web-Asp-Net45",
    "IIS-NetFxExtensibility": "Web-Net-Ext",
    "IIS-NetFxExtensibility45": "Web-Net-Ext45",
    "IIS-ISAPIExtensions": "Web-ISAPI-Ext",
    "IIS-ISAPIFilter": "Web-ISAPI-Filter",
    "IIS-IIS6ManagementCompatibility": "Web-Mgmt-Compat",
    "IIS-Metabase": "Web-Metabase",
    "IIS-WMICompatibility": "Web-WMI",
    "IIS-LegacyScripts": "Web-Lgcy-Scripting",
    "IIS-LegacySnapIn": "Web-Lgcy-Mgmt-Console",
    "IIS-ManagementConsole": "Web-Mgmt-Console",
}
_FEATURES_BY_LOWER = {k.lower(): v for k, v in DESKTOP_FEATURES.items()}
_SERVER_BY_LOWER = {v.lower(): v for v in DESKTOP_FEATURES.values()}


def feature_name(name: str) -> str:
    """One identity per IIS feature: the Server Manager Name (case as Microsoft writes it)."""
    key = name.strip().lower()
    return _FEATURES_BY_LOWER.get(key) or _SERVER_BY_LOWER.get(key) or name.strip()


_VERSION_RX = re.compile(r"(\d+(?:\.\d+){1,3})")


def agent_version(text: str) -> str | None:
    """'8.7.3264.0', 'Symantec Management Agent 8.7.3264' -> the dotted version, else None."""
    m = _VERSION_RX.search(text or "")
    return m.group(1) if m else None


def kb_to_mb(kb: int | float) -> int:
    """Win32_OperatingSystem memory figures are kilobytes."""
    return int(round(kb / 1024))


def bytes_to_gb(n: int | float) -> float:
    """Bytes to GiB with two decimals."""
    return round(n / 1024**3, 2)


# Facts that derived values come from, for evidence pointers.
DERIVED_SOURCES: dict[str, str] = {
    "derived.dotnet_version": "/dotnet/release",
    "derived.dotnet_display": "/dotnet/release",
    "derived.os_family": "/os/product_type",
    "derived.os_name": "/os/build",
    "derived.os_display": "/os/build",
    "derived.dotnet_upgrade": "/dotnet/release",
    "derived.roles": "/site_services",
    "derived.installed_services": "/site_services/installed",
    "derived.iis_features": "/iis/features",
}

# Catalogue entry for each derived fact: (kind, description).
DERIVED_FACTS: dict[str, tuple[str, str]] = {
    "derived.dotnet_version": ("version", ".NET Framework version derived from the Release DWORD, e.g. 4.7.2."),
    "derived.dotnet_display": ("string", "Version and Release, e.g. '4.7.2 (461814)'."),
    "derived.os_family": ("string", "server (product type 2 or 3) or desktop (1)."),
    "derived.os_name": ("string", "OS name from build and family, e.g. Windows Server 2019."),
    "derived.os_display": ("string", "OS as messages name it: 'Windows Server 2019 (build 17763)', else the caption or 'Windows build N'."),
    "derived.dotnet_upgrade": ("string", ".NET Framework 4.8.x this OS can take, e.g. '4.8 (4.8.1 cannot be installed on Windows Server 2016 or 2019)'."),
    "derived.roles": ("list", "Site services installed or planned."),
    "derived.installed_services": ("list", "Site services already installed."),
    "derived.iis_features": ("list", "Installed IIS features by Server Manager Name."),
}


# How a message names a fact the host does not have, when a rule's template
# puts it in a sentence ("it reports to {identity.notification_server}"): never
# the word "missing" as if it were a value.
MISSING_PHRASES: dict[str, str] = {
    "identity.notification_server": "an unknown Notification Server",
    "identity.site": "an unknown site",
    "package_store.path": "a package store at an unknown path",
    "network.ns_url": "an unknown NS URL",
    "platform.itms_version": "an unknown ITMS version",
    "os.edition": "an unknown edition",
    "os.build": "an unknown build",
    "derived.os_name": "an unknown Windows version",
    "derived.os_display": "an OS of unknown build",
    "derived.os_family": "an unknown OS family (no product type)",
    "derived.dotnet_display": "an unknown .NET Framework version",
}


def user_fact(path: str) -> str:
    """The fact a user can supply for a path: a derived fact names the fact it comes
    from ('derived.installed_services' -> 'site_services.installed'); others are
    returned as they are."""
    src = DERIVED_SOURCES.get(path)
    return src.strip("/").replace("/", ".") if src else path


def missing_phrase(path: str) -> str:
    """What a message says in place of a fact the host does not have."""
    phrase = MISSING_PHRASES.get(path)
    if phrase:
        return phrase
    return f"an unknown {path.rsplit('.', 1)[-1].replace('_', ' ')} ({user_fact(path)} not recorded)"


# Memo tables for derive(): an inventory repeats the same few .NET releases,
# OS builds and IIS feature sets, so each is normalised once per process.
_MEMO_MAX = 4096
_DOTNET_MEMO: dict[int, tuple[str, str]] = {}
_OS_MEMO: dict[tuple[str, int], tuple[str | None, str | None, str | None]] = {}
_NET_UPGRADE_MEMO: dict[tuple[Any, Any], str] = {}
_IIS_MEMO: dict[tuple[str, ...], list[str]] = {}
_ROLES_MEMO: dict[tuple[Any, Any], tuple[list[str] | None, list[str]]] = {}


def _memo_put(table: dict[Any, Any], key: Any, value: Any) -> None:
    if len(table) >= _MEMO_MAX:
        table.clear()
    table[key] = value


#: The names of the derived facts (``derived.<name>``).
DERIVED_NAMES: frozenset[str] = frozenset(path.split(".", 1)[1] for path in DERIVED_FACTS)
_DOTNET_NAMES = frozenset({"dotnet_version", "dotnet_display"})
_OS_NAMES = frozenset({"os_family", "os_name", "os_display"})
_ROLE_NAMES = frozenset({"roles", "installed_services"})
_GROUPS = (_DOTNET_NAMES, frozenset({"dotnet_upgrade"}), _OS_NAMES, _ROLE_NAMES, frozenset({"iis_features"}))


def derive_selection(names: frozenset[str] | set[str]) -> frozenset[str] | None:
    """``only`` for :func:`derive` to compute at least ``names``: None when every group
    of derived facts would be computed anyway (then derive tests nothing per host)."""
    if all(not group.isdisjoint(names) for group in _GROUPS):
        return None
    return frozenset(names)


#: Which groups of derived facts a selection wants, per selection (a run passes one):
#: (.NET version and display, .NET upgrade, OS, roles, IIS features).
_WANTS: dict[frozenset[str] | None, tuple[bool, bool, bool, bool, bool]] = {None: (True, True, True, True, True)}
_WANTS_MAX = 64
_SERVICE = operator.itemgetter("service")


def _wants(only: frozenset[str] | None) -> tuple[bool, bool, bool, bool, bool]:
    """The groups of derived facts :func:`derive` computes for ``only``."""
    try:
        got = _WANTS.get(only)
    except TypeError:  # a set, not a frozenset: answered, not remembered
        got = None
    if got is None:
        assert only is not None  # None is always in the table
        a, b, c, d, e = (not group.isdisjoint(only) for group in _GROUPS)
        got = (a, b, c, d, e)
        if type(only) is frozenset and len(_WANTS) < _WANTS_MAX:
            _WANTS[only] = got
    return got


def derive(host: dict[str, Any], only: frozenset[str] | None = None) -> dict[str, Any]:
    """Compute the derived facts of one validated host (missing inputs give no key).

    ``only``: names of the derived facts wanted (see DERIVED_NAMES; None: all). The
    others may be left out: a fact computed together with a wanted one (the .NET
    version with its display text) comes along, the rest is not computed.
    """
    d: dict[str, Any] = {}
    want_dotnet, want_upgrade, want_os, want_roles, want_iis = _wants(only)
    dn = host.get("dotnet") if want_dotnet or want_upgrade else None
    if dn:
        rel = dn.get("release")
        if rel is not None and want_dotnet:
            memo = _DOTNET_MEMO.get(rel) if type(rel) is int else None
            if memo is None:
                v = dotnet_version(int(rel))
                memo = (v if v != "<4.5" else "4.0", f"{v} ({rel})")
                if type(rel) is int:
                    _memo_put(_DOTNET_MEMO, rel, memo)
            d["dotnet_version"], d["dotnet_display"] = memo
        if rel is not None and want_upgrade:
            osd = host.get("os") or {}
            ukey = (osd.get("build"), osd.get("product_type"))
            up = _NET_UPGRADE_MEMO.get(ukey) if type(ukey[0]) in (int, type(None)) and type(ukey[1]) in (str, type(None)) else None
            if up is None:
                b = ukey[0] if type(ukey[0]) is int else None
                up = dotnet_upgrade(b, os_family(ukey[1]) if type(ukey[1]) is str else None)
                if type(ukey[0]) in (int, type(None)) and type(ukey[1]) in (str, type(None)):
                    _memo_put(_NET_UPGRADE_MEMO, ukey, up)
            d["dotnet_upgrade"] = up
    osf = host.get("os") if want_os else None
    if osf:
        pt = osf.get("product_type")
        build = osf.get("build")
        key = (pt, build) if type(pt) is str and type(build) is int else None
        got = _OS_MEMO.get(key) if key is not None else None
        if got is None:
            fam = os_family(pt)
            name = os_name(build, fam) if fam else None
            # The display text of a named build is remembered with it (an integer build only).
            got = (fam, name, f"{name} (build {build})" if name and type(build) is int else None)
            if key is not None:
                _memo_put(_OS_MEMO, key, got)
        fam, name, shown = got
        if fam:
            d["os_family"] = fam
            if name:
                d["os_name"] = name
        if type(build) is int:
            d["os_display"] = shown or (os_display(build, fam, osf.get("caption")) or "")
        elif type(osf.get("caption")) is str and osf["caption"].strip():
            d["os_display"] = osf["caption"].strip()
    ss = host.get("site_services") if want_roles else None
    if ss is not None:
        installed = ss.get("installed")
        planned = ss.get("planned")
        if installed is not None or planned is not None:
            if installed is None:
                names = None
            else:
                try:  # a validated record: every item is an object with a service
                    names = tuple(map(_SERVICE, installed))
                except TypeError:  # an item that is no object is passed over
                    names = tuple([s["service"] for s in installed if isinstance(s, dict)])
            skey = (names, None if planned is None else tuple(planned))
            try:
                sgot = _ROLES_MEMO.get(skey)
            except TypeError:  # unhashable items: not from a validated record
                skey, sgot = None, None  # type: ignore[assignment]
            if sgot is None:
                inst = None if names is None else sorted(set(names))
                sgot = (inst, sorted(set(inst or ()) | set(planned or ())))
                if skey is not None:
                    _memo_put(_ROLES_MEMO, skey, sgot)
            if sgot[0] is not None:
                d["installed_services"] = list(sgot[0])
            d["roles"] = list(sgot[1])
    iis = host.get("iis") if want_iis else None
    if iis:
        feats = iis.get("features")
        if feats is not None:
            fkey: tuple[Any, ...] | None = tuple(feats)
            try:
                feature_names = _IIS_MEMO.get(fkey)  # type: ignore[arg-type]  # a tuple here
            except TypeError:  # unhashable items: not from a validated record
                fkey, feature_names = None, None
            if feature_names is None:
                feature_names = sorted({feature_name(f) for f in feats})
                if fkey is not None:
                    _memo_put(_IIS_MEMO, fkey, feature_names)
            d["iis_features"] = list(feature_names)
    return d


# ---------------------------------------------------------------------------
# Input normalisation for the collector and the importers (issue 5). Every
# importer turns text or raw PowerShell values into facts through these
# functions, so a CSV cell, a JSON property and a registry value that mean the
# same thing normalise the same way. Each returns None for "cannot tell"; the
# caller decides whether that is worth a diagnostic.
# ---------------------------------------------------------------------------

import datetime as _dt  # noqa: E402  (kept beside the helpers that use it)

#: Cell values that mean "no value" in SQL exports and console reports.
MISSING_VALUES: frozenset[str] = frozenset({"", "null", "(null)", "<null>", "n/a", "#n/a"})


def is_missing(value: Any) -> bool:
    """True for None and for the text a SQL export or console writes for "no value"."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_VALUES
    return False


_TRUE = frozenset({"true", "1", "yes", "y", "t", "on", "enabled", "-1"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "off", "disabled"})


def to_bool(value: Any) -> bool | None:
    """True/False/1/0/Yes/No/On/Off/Enabled/Disabled (any case) -> bool; else None.

    ``-1`` is true because VBScript and some SQL tooling write True as -1.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0 if value in (0, 1, -1) else None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([.,' \u00a0\u202f])\d{3})(?:\1\d{3})*$")


def parse_number(value: Any, *, integer: bool = False) -> int | float | None:
    """A number from a cell, tolerant of thousands separators and decimal commas.

    "16,384", "16.384", "16 384", "16'384" and "16384" are all 16384 (a group of
    exactly three digits after a single separator kind reads as thousands: consoles
    format memory and counts that way). "12,5" is 12.5 (a decimal comma);
    "1.234,5" and "1,234.5" are 1234.5 (the last separator is the decimal one).
    With ``integer=True`` a value with a fractional part gives None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        num: int | float = value
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", " ").replace("\u202f", " ")
        if not text:
            return None
        if _GROUPED.match(text):
            text = re.sub(r"[.,' ]", "", text)
        else:
            text = text.replace(" ", "").replace("'", "")
            if "," in text and "." in text:
                if text.rfind(",") > text.rfind("."):
                    text = text.replace(".", "").replace(",", ".")
                else:
                    text = text.replace(",", "")
            elif text.count(",") == 1:
                text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            return None
        num = float(text) if re.search(r"[.eE]", text) else int(text)
    else:
        return None
    if isinstance(num, float):
        if num != num or num in (float("inf"), float("-inf")):
            return None
        if integer:
            return int(num) if num.is_integer() else None
    return num


def to_mb(value: float, unit: str) -> int:
    """A memory figure in ``unit`` (bytes, kb, mb, gb) as whole MiB."""
    factor = {"b": 1 / 1024**2, "bytes": 1 / 1024**2, "kb": 1 / 1024, "mb": 1, "gb": 1024, "tb": 1024**2}[unit.lower()]
    return int(round(value * factor))


def to_gb(value: float, unit: str) -> float:
    """A disk figure in ``unit`` (bytes, kb, mb, gb, tb) as GiB with two decimals."""
    factor = {"b": 1 / 1024**3, "bytes": 1 / 1024**3, "kb": 1 / 1024**2, "mb": 1 / 1024, "gb": 1, "tb": 1024}[unit.lower()]
    return round(float(value) * factor, 2)


#: Units the column mapping accepts, by kind of target.
MEMORY_UNITS = ("bytes", "b", "kb", "mb", "gb")
DISK_UNITS = ("bytes", "b", "kb", "mb", "gb", "tb")


def architecture(value: Any) -> str | None:
    """'64-bit', 'AMD64', 'x64', '64 bits' -> x64; '32-bit', 'x86' -> x86; 'ARM 64-bit Processor' -> arm64.

    Win32_OperatingSystem.OSArchitecture is localised text ("64 bits" in French,
    "64-Bit" in German), so the match is on digits and 'arm', not on the words.
    """
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    if not v:
        return None
    if "arm" in v or "aarch64" in v:
        return "arm64" if "64" in v else None
    if v in ("x64", "amd64", "x86_64", "em64t", "intel64") or re.match(r"^64[\s-]?bit", v):
        return "x64"
    if v in ("x86", "i386", "i686", "ia32") or re.match(r"^32[\s-]?bit", v):
        return "x86"
    return None


_EDITIONS: tuple[tuple[str, str], ...] = (
    ("datacenter", "Datacenter"),
    ("standard", "Standard"),
    ("essentials", "Essentials"),
    ("enterprise", "Enterprise"),
    ("education", "Education"),
    ("professional", "Pro"),
    (" pro", "Pro"),
    ("home", "Home"),
    ("ultimate", "Ultimate"),
    ("iot", "IoT"),
)


def os_edition(caption: Any) -> str | None:
    """Edition from an OS caption ('Microsoft Windows Server 2019 Datacenter' -> 'Datacenter')."""
    if not isinstance(caption, str):
        return None
    c = " " + caption.strip().lower() + " "
    for needle, name in _EDITIONS:
        if needle in c:
            return name
    return None


_OS_VERSION_RX = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


def os_version(value: Any) -> str | None:
    """'10.0.17763' from '10.0.17763', '10.0.17763.5830' or 'Microsoft Windows NT 10.0.17763.0'.

    The facts schema keeps major.minor[.build]; the revision is dropped because
    Win32_OperatingSystem.Version itself has three parts.
    """
    if not isinstance(value, str):
        return None
    m = _OS_VERSION_RX.search(value)
    return m.group(1) if m else None


def build_from_version(version: str | None) -> int | None:
    """The build number is the third part of Win32_OperatingSystem.Version."""
    if not version:
        return None
    parts = version.split(".")
    return int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else None


# Get-WindowsFeature InstallState (Microsoft.Windows.ServerManager.Commands.InstallState),
# as Windows PowerShell 5.1's ConvertTo-Json writes it: an integer. 1 = Installed
# [INFERENCE, itms-domain.md 8.3: the integer values were not found in a Microsoft
# page]; collectors should prefer the boolean ``Installed`` property.
INSTALL_STATES: dict[int, str] = {0: "Available", 1: "Installed", 2: "Removed", 3: "InstallPending", 4: "UninstallPending"}


def feature_installed(obj: dict[str, Any]) -> bool | None:
    """Whether a Get-WindowsFeature object says it is installed (``Installed`` first, then ``InstallState``)."""
    inst = to_bool(obj.get("Installed")) if "Installed" in obj else None
    if inst is not None:
        return inst
    state = obj.get("InstallState")
    if isinstance(state, int) and not isinstance(state, bool):
        return state == 1
    if isinstance(state, str):
        s = state.strip()
        if s.isdigit():
            return int(s) == 1
        return s.lower() == "installed"
    return None


# Get-WindowsOptionalFeature State (Microsoft.Dism.Commands.FeatureState). The
# text form is certain ("Enabled", "Disabled", "DisabledWithPayloadRemoved",
# [COMMUNITY] itms-domain.md 8.3). The integer form follows the DISM API's
# DismPackageFeatureState, where 4 = Installed [SOLID, same section]; PowerShell
# 5.1 writes the enum's integer. Pending states are not installed yet.
def optional_feature_enabled(state: Any) -> bool | None:
    """Whether a Get-WindowsOptionalFeature ``State`` (text or integer) means enabled."""
    if isinstance(state, bool):
        return state
    if isinstance(state, int):
        return state == 4
    if isinstance(state, str):
        s = state.strip()
        if s.isdigit():
            return int(s) == 4
        low = s.lower()
        if low in ("enabled", "installed"):
            return True
        if low:
            return False
    return None


_PS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ps_date(value: Any) -> str | None:
    """Windows PowerShell 5.1's ``/Date(1700000000000)/`` (ms since the epoch, UTC) as ISO 8601.

    The optional ``+hhmm`` suffix is the writer's offset; the milliseconds are UTC
    either way, so the result is UTC with a ``Z``.
    """
    if not isinstance(value, str):
        return None
    m = _PS_DATE.match(value.strip())
    if not m:
        return None
    ms = int(m.group(1))
    t = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond // 1000:03d}" if t.microsecond else "") + "Z"


# Date formats seen in SMP console report exports and CMDB query tools, tried in
# order. Day-first vs month-first: the console's en-US default is month-first, so
# an ambiguous "03/04/2026" reads as March 4th; a first field above 12 can only be
# a day, so "25/11/2026" falls through to the day-first patterns. A mapping file
# can name the exact pattern (``date_format``) for day-first exports.
_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def parse_datetime(value: Any, formats: tuple[str, ...] = ()) -> str | None:
    """A console or SQL date as ISO 8601 ('11/25/2026 3:04:05 PM' -> '2026-11-25T15:04:05').

    ISO 8601 input (with 'T', a zone or 'Z') is kept as given after validation;
    ``/Date(ms)/`` becomes UTC. Console dates carry no zone, so none is invented.
    ``formats`` (strptime patterns, e.g. from a column mapping) are tried first.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().split())
    if not text:
        return None
    ps = ps_date(text)
    if ps:
        return ps
    for fmt in formats:
        try:
            return _iso(_dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    if "T" in text:
        try:
            parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        out = parsed.isoformat()
        return out.replace("+00:00", "Z") if text.endswith("Z") else out
    for fmt in _DATE_FORMATS:
        try:
            return _iso(_dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def _iso(t: _dt.datetime) -> str:
    out = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        out += f".{t.microsecond // 1000:03d}"
    return out


# Site-service names as consoles, registries and services write them -> Role.
# [INFERENCE] for the spellings beyond the four role names of KB 390448.
_ROLE_ALIASES: dict[str, str] = {
    "task": "task",
    "task service": "task",
    "task server": "task",
    "client task server": "task",
    "ts": "task",
    "package": "package",
    "package service": "package",
    "package server": "package",
    "ps": "package",
    "network_boot": "network_boot",
    "network boot": "network_boot",
    "network boot service": "network_boot",
    "network boot server": "network_boot",
    "nbs": "network_boot",
    "pxe": "network_boot",
    "monitor": "monitor",
    "monitor service": "monitor",
    "monitor server": "monitor",
}


def role(value: Any) -> str | None:
    """'Task Service', 'package server', 'NBS', 'PXE', 'monitor' -> task / package / network_boot / monitor."""
    if not isinstance(value, str):
        return None
    key = " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    return _ROLE_ALIASES.get(key) or _ROLE_ALIASES.get(key.replace(" ", "_"))


_ASSET_STATUS = {
    "active": "active",
    "retired": "retired",
    "disposed": "disposed",
    "in stock": "in_stock",
    "instock": "in_stock",
    "missing": "missing",
    "stolen": "stolen",
    "on order": "on_order",
    "onorder": "on_order",
    "other": "other",
}


def asset_status(value: Any) -> str | None:
    """CMDB asset status text ('Active', 'In Stock', 'on_order') -> the facts enum; None when unknown."""
    if not isinstance(value, str):
        return None
    key = " ".join(value.strip().lower().replace("_", " ").split())
    return _ASSET_STATUS.get(key)


# Manufacturer/model strings of common hypervisors' virtual hardware
# (Win32_ComputerSystem). [INFERENCE] from the vendors' well-known identifiers.
_VIRTUAL_MARKERS = ("virtual machine", "vmware", "virtualbox", "kvm", "qemu", "xen", "hvm domu", "parallels", "bochs", "openstack", "google compute engine", "amazon ec2")


def is_virtual(manufacturer: Any, model: Any) -> bool | None:
    """True when Win32_ComputerSystem's manufacturer/model name a hypervisor; None if both are unknown."""
    text = " ".join(str(x) for x in (manufacturer, model) if isinstance(x, str) and x.strip()).lower()
    if not text:
        return None
    return any(m in text for m in _VIRTUAL_MARKERS)


def split_list(value: Any) -> list[str] | None:
    """A list cell ('Web-Server;Web-ASP', 'a, b', 'a|b') or a JSON list -> stripped non-empty items."""
    if isinstance(value, list):
        return [str(x).strip() for x in value if str(x).strip()]
    if not isinstance(value, str):
        return None
    return [p.strip() for p in re.split(r"[;,|\n]", value) if p.strip()]
