"""sitegate's standard inventory columns and how each cell becomes a fact.

The CSV importer, a column mapping and a PowerShell export's ``host.json`` all
speak these column names; each names the fact it fills (a path in the facts
model) and the conversion that reads a cell. Conversions are in
:mod:`sitegate.facts.normalize`; this table only says which one applies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .. import normalize as n

Converted = tuple[Any, str | None]
"""(value, None) on success; (None, reason) when the cell cannot be read."""


@dataclass(frozen=True)
class Column:
    """One standard column: the fact it fills, what it holds and its default unit."""

    path: str
    kind: str
    description: str
    unit: str | None = None


STANDARD_COLUMNS: dict[str, Column] = {
    "name": Column("name", "text", "Computer name as ITMS shows it (required)."),
    "fqdn": Column("identity/fqdn", "text", "Fully qualified DNS name."),
    "domain": Column("identity/domain", "text", "DNS or AD domain."),
    "site": Column("identity/site", "text", "ITMS site the host serves."),
    "notification_server": Column("identity/notification_server", "text", "Notification Server the agent reports to."),
    "is_notification_server": Column("identity/is_notification_server", "bool", "True for the SMP server itself."),
    "resource_guid": Column("identity/resource_guid", "text", "CMDB resource GUID."),
    "os_caption": Column("os/caption", "text", "OS caption (informative)."),
    "os_version": Column("os/version", "os_version", "Win32_OperatingSystem.Version, e.g. 10.0.17763."),
    "os_build": Column("os/build", "int", "OS build number, e.g. 17763."),
    "os_edition": Column("os/edition", "text", "Edition: Standard, Datacenter, Pro..."),
    "os_product_type": Column("os/product_type", "product_type", "1/2/3 or workstation/domain_controller/server."),
    "os_architecture": Column("os/architecture", "architecture", "64-bit/x64, 32-bit/x86, ARM64."),
    "dotnet_release": Column("dotnet/release", "int", ".NET Framework 4.x Release DWORD."),
    "iis_installed": Column("iis/installed", "bool", "Web Server (IIS) role installed."),
    "iis_version": Column("iis/version", "text", "IIS version, e.g. 10.0."),
    "iis_features": Column("iis/features", "list", "Installed IIS features by Name, ';'-separated."),
    "max_query_string": Column("iis/request_filtering/max_query_string", "int", "requestLimits maxQueryString."),
    "max_url": Column("iis/request_filtering/max_url", "int", "requestLimits maxUrl."),
    "allowed_verbs": Column("iis/request_filtering/allowed_verbs", "verbs", "Allowed verbs, ';'-separated."),
    "denied_verbs": Column("iis/request_filtering/denied_verbs", "verbs", "Denied verbs, ';'-separated."),
    "allow_unlisted_verbs": Column("iis/request_filtering/allow_unlisted_verbs", "bool", "verbs allowUnlisted."),
    "memory_mb": Column("hardware/memory_mb", "memory", "Installed memory (MiB unless a unit is mapped).", "mb"),
    "logical_processors": Column("hardware/logical_processors", "int", "Logical processors."),
    "cores": Column("hardware/cores", "int", "Physical cores."),
    "system_drive_free_gb": Column("hardware/system_drive_free_gb", "disk", "System drive free space (GiB unless mapped).", "gb"),
    "package_store_free_gb": Column("hardware/package_store_free_gb", "disk", "Package store free space (GiB unless mapped).", "gb"),
    "virtual": Column("hardware/virtual", "bool", "Virtual machine."),
    "agent_version": Column("agent/version", "agent_version", "Symantec Management Agent version."),
    "managed": Column("agent/managed", "bool", "CMDB IsManaged."),
    "local": Column("agent/local", "bool", "Resource belongs to this NS."),
    "asset_status": Column("agent/asset_status", "asset_status", "CMDB asset status (Active, Retired...)."),
    "cem_mode": Column("agent/cem_mode", "bool", "Agent in Cloud-enabled Management mode."),
    "acc_configured": Column("agent/acc_configured", "bool", "Agent Connectivity Credential configured."),
    "installed_services": Column("site_services/installed", "installed_services", "Installed site services, 'task:8.7.3264.0;package'."),
    "planned_services": Column("site_services/planned", "roles", "Planned site services, 'task;package'."),
    "package_store_path": Column("package_store/path", "text", "Package store location."),
    "package_store_fixed_media": Column("package_store/fixed_media", "bool", "Store on fixed media."),
    "endpoints": Column("load/endpoints", "int", "Endpoints served or expected."),
    "concurrent_connections": Column("load/concurrent_connections", "int", "Expected peak concurrent connections."),
    "ns_task_service_clients": Column("load/ns_task_service_clients", "int", "On the NS: clients registered to its own task service."),
    "itms_version": Column("platform/itms_version", "dotted", "ITMS version of the NS, e.g. 8.7.3."),
    "internet_gateway_version": Column("platform/internet_gateway_version", "dotted", "Internet Gateway version."),
    "parent_notification_server_version": Column(
        "platform/parent_notification_server_version", "dotted", "ITMS version of the parent NS in a hierarchy."
    ),
    "ns_url": Column("network/ns_url", "text", "URL the agent uses to reach its Notification Server."),
    "ns_https_reachable": Column("network/ns_https_reachable", "bool", "The NS answers over HTTPS from this host."),
    "ns_certificate_chain_valid": Column("network/ns_certificate_chain_valid", "bool", "The NS certificate chain validates on this host."),
    "collected_at": Column("provenance/collected_at", "datetime", "When the data was collected (console date or ISO 8601)."),
}

# Header spellings that mean a standard column without a mapping file.
ALIASES: dict[str, str] = {
    "computer_name": "name",
    "computer": "name",
    "host_name": "name",
    "hostname": "name",
    "net_release": "dotnet_release",  # ".NET Release"
    "net_framework_release": "dotnet_release",
}


def header_key(header: str) -> str:
    """'OS Build' -> 'os_build': the form headers are compared in."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def standard_column(header: str) -> str | None:
    """The standard column a header names ('OS Build' -> 'os_build'), if any."""
    key = header_key(header)
    key = ALIASES.get(key, key)
    return key if key in STANDARD_COLUMNS else None


_DOTTED = re.compile(r"\d+\.\d+(?:\.\d+)*")
_SERVICE_ITEM = re.compile(r"^(?P<name>.*?)[\s:=@(]*(?P<version>\d+(?:\.\d+){1,3})?\)?$")


def _text(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    s = str(v).strip() if not isinstance(v, bool) else None
    return (s, None) if s else (None, f"{v!r} is not text")


def _int(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    num = n.parse_number(v, integer=True)
    if num is None:
        return None, f"{v!r} is not a whole number"
    if num < 0:
        return None, f"{v!r} is negative"
    return int(num), None


def _bool(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    b = n.to_bool(v)
    return (b, None) if b is not None else (None, f"{v!r} is not a boolean (True/False, 1/0, Yes/No)")


def _memory(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    num = n.parse_number(v)
    if num is None or num < 0:
        return None, f"{v!r} is not a memory size"
    return n.to_mb(num, unit or "mb"), None


def _disk(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    num = n.parse_number(v)
    if num is None or num < 0:
        return None, f"{v!r} is not a disk size"
    return n.to_gb(num, unit or "gb"), None


def _product_type(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    pt = n.product_type(v)
    return (pt, None) if pt else (None, f"{v!r} is not a product type (1, 2, 3 or workstation/domain_controller/server)")


def _architecture(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    a = n.architecture(v) if isinstance(v, str) else None
    return (a, None) if a else (None, f"{v!r} is not an architecture (x64, x86, arm64)")


def _os_version(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    ver = n.os_version(str(v))
    return (ver, None) if ver else (None, f"{v!r} is not an OS version such as 10.0.17763")


def _agent_version(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    ver = n.agent_version(str(v))
    return (ver, None) if ver else (None, f"{v!r} has no dotted version number")


def _dotted(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    m = _DOTTED.search(str(v))
    return (m.group(0), None) if m else (None, f"{v!r} is not a version such as 8.7.3")


def _asset_status(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    s = n.asset_status(v)
    return (s, None) if s else (None, f"{v!r} is not a known asset status (map it with 'values:' in a mapping file)")


def _datetime(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    iso = n.parse_datetime(v, fmts)
    return (iso, None) if iso else (None, f"{v!r} is not a date this importer reads (set date_format in a mapping file)")


def _list(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    items = n.split_list(v)
    return (items, None) if items is not None else (None, f"{v!r} is not a list")


def _verbs(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    items = n.split_list(v)
    return ([x.upper() for x in items], None) if items is not None else (None, f"{v!r} is not a list of verbs")


def _roles(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    items = n.split_list(v)
    if items is None:
        return None, f"{v!r} is not a list of site services"
    out: list[str] = []
    for item in items:
        r = n.role(item)
        if r is None:
            return None, f"{item!r} is not a site service (task, package, network_boot, monitor)"
        if r not in out:
            out.append(r)
    return out, None


def _installed_services(v: Any, c: Column, unit: str | None, fmts: tuple[str, ...]) -> Converted:
    items = n.split_list(v)
    if items is None:
        return None, f"{v!r} is not a list of site services"
    out: list[dict[str, str]] = []
    for item in items:
        m = _SERVICE_ITEM.match(item)
        r = n.role(m.group("name")) if m else None
        if r is None or m is None:
            return None, f"{item!r} is not a site service (task, package, network_boot, monitor, optionally ':version')"
        entry = {"service": r}
        if m.group("version"):
            entry["version"] = m.group("version")
        out.append(entry)
    return out, None


CONVERTERS: dict[str, Callable[[Any, Column, str | None, tuple[str, ...]], Converted]] = {
    "text": _text,
    "int": _int,
    "bool": _bool,
    "memory": _memory,
    "disk": _disk,
    "product_type": _product_type,
    "architecture": _architecture,
    "os_version": _os_version,
    "agent_version": _agent_version,
    "dotted": _dotted,
    "asset_status": _asset_status,
    "datetime": _datetime,
    "list": _list,
    "verbs": _verbs,
    "roles": _roles,
    "installed_services": _installed_services,
}


def convert(column: str, value: Any, *, unit: str | None = None, date_formats: tuple[str, ...] = ()) -> Converted:
    """Read one cell of a standard column; missing cells ('', NULL) give (None, None)."""
    if n.is_missing(value):
        return None, None
    col = STANDARD_COLUMNS[column]
    return CONVERTERS[col.kind](value, col, unit, date_formats)


def put(facts: dict[str, Any], path: str, value: Any) -> None:
    """facts['a']['b'] = value for path 'a/b', creating the objects on the way."""
    parts = path.split("/")
    node = facts
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def complete(facts: dict[str, Any]) -> None:
    """Fill facts that follow from others: the build from os.version's third part."""
    os_ = facts.get("os")
    if isinstance(os_, dict) and "build" not in os_ and os_.get("version"):
        build = n.build_from_version(os_["version"])
        if build is not None:
            os_["build"] = build
