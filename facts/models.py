"""The facts model: what sitegate knows about one host.

These pydantic models are the single definition of a facts document. The JSON
Schema in ``schemas/facts.v1.schema.json`` is generated from them
(``python -m sitegate.facts.models``) and a test keeps the two identical. Every
field but ``name`` is optional, so partial inventories still load; a rule that
needs a missing fact reports *unknown*, never *pass*.
"""
from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "https://sitegate.dev/schemas/facts.v1.schema.json"

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)

Str = Annotated[str, Field(max_length=4096)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class Role(str, Enum):
    """A site service (role) that a site server can run."""

    TASK = "task"
    PACKAGE = "package"
    NETWORK_BOOT = "network_boot"
    MONITOR = "monitor"


class ProductType(str, Enum):
    """Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server."""

    WORKSTATION = "workstation"
    DOMAIN_CONTROLLER = "domain_controller"
    SERVER = "server"


class Architecture(str, Enum):
    """Operating system architecture."""

    X64 = "x64"
    X86 = "x86"
    ARM64 = "arm64"


class AssetStatus(str, Enum):
    """CMDB asset status of the computer resource."""

    ACTIVE = "active"
    RETIRED = "retired"
    DISPOSED = "disposed"
    IN_STOCK = "in_stock"
    MISSING = "missing"
    STOLEN = "stolen"
    ON_ORDER = "on_order"
    OTHER = "other"


class _M(BaseModel):
    model_config = _STRICT


class Identity(_M):
    """Who the host is and where it reports."""

    fqdn: Str | None = Field(None, title="FQDN", description="Fully qualified DNS name, e.g. ts01.corp.example.com.")
    domain: Str | None = Field(None, title="Domain", description="DNS or Active Directory domain.")
    site: Str | None = Field(None, title="Site", description="ITMS site (or location) the host serves.")
    notification_server: Str | None = Field(
        None, title="Notification Server", description="Name of the Notification Server the agent reports to."
    )
    is_notification_server: bool | None = Field(
        None,
        title="Is the Notification Server",
        description="True when this host is the SMP/Notification Server itself (its own task service).",
    )
    resource_guid: Str | None = Field(None, title="Resource GUID", description="CMDB resource GUID of the computer.")


class OperatingSystem(_M):
    """Win32_OperatingSystem, normalised."""

    caption: Str | None = Field(None, title="Caption", description="Localised OS caption; informative only, rules key on build.")
    version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")] | None = Field(
        None, title="Version", description="Win32_OperatingSystem.Version, e.g. 10.0.17763."
    )
    build: Annotated[int, Field(ge=0, le=999_999)] | None = Field(
        None, title="Build", description="OS build number (Win32_OperatingSystem.BuildNumber), e.g. 17763."
    )
    edition: Str | None = Field(
        None, title="Edition", description="Edition: Standard, Datacenter, Enterprise, Pro, Education, Home..."
    )
    product_type: ProductType | None = Field(
        None, title="Product type", description="workstation (1), domain_controller (2) or server (3)."
    )
    architecture: Architecture | None = Field(None, title="Architecture", description="x64, x86 or arm64.")


class DotNet(_M):
    """.NET Framework 4.x, from the registry."""

    release: Annotated[int, Field(ge=0, le=4_294_967_295)] | None = Field(
        None,
        title="Release DWORD",
        description=r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full\Release; the version is derived from it.",
    )


class RequestFiltering(_M):
    """IIS request-filtering limits (system.webServer/security/requestFiltering)."""

    max_query_string: Annotated[int, Field(ge=0, le=4_294_967_295)] | None = Field(
        None, title="maxQueryString", description="requestLimits maxQueryString in bytes."
    )
    max_url: Annotated[int, Field(ge=0, le=4_294_967_295)] | None = Field(
        None, title="maxUrl", description="requestLimits maxUrl in bytes."
    )
    allowed_verbs: list[Str] | None = Field(
        None, title="Allowed verbs", description="Verbs explicitly allowed (verbs add allowed=true)."
    )
    denied_verbs: list[Str] | None = Field(
        None, title="Denied verbs", description="Verbs explicitly denied (verbs add allowed=false)."
    )
    allow_unlisted_verbs: bool | None = Field(
        None, title="Allow unlisted verbs", description="verbs allowUnlisted; false means only allowed_verbs pass."
    )


class Iis(_M):
    """Internet Information Services."""

    installed: bool | None = Field(None, title="Installed", description="True when the Web Server (IIS) role is installed.")
    version: Str | None = Field(None, title="Version", description="IIS version, e.g. 10.0.")
    features: list[Str] | None = Field(
        None,
        title="Installed features",
        description="Installed IIS features by Windows feature Name (Web-Asp-Net45...); desktop names (IIS-ASPNET45) are accepted and mapped.",
    )
    request_filtering: RequestFiltering | None = Field(
        None, title="Request filtering", description="Request-filtering limits of the Default Web Site."
    )


class Hardware(_M):
    """Processors, memory and disks."""

    logical_processors: Count | None = Field(None, title="Logical processors", description="Number of logical processors.")
    cores: Count | None = Field(None, title="Cores", description="Number of physical cores.")
    memory_mb: Annotated[int, Field(ge=0, le=1_073_741_824)] | None = Field(
        None, title="Memory (MB)", description="Installed physical memory in MiB."
    )
    system_drive_free_gb: Annotated[float, Field(ge=0, le=1_000_000_000)] | None = Field(
        None, title="System drive free (GB)", description="Free space on the system drive in GiB."
    )
    package_store_free_gb: Annotated[float, Field(ge=0, le=1_000_000_000)] | None = Field(
        None, title="Package store free (GB)", description="Free space on the package store drive in GiB."
    )
    virtual: bool | None = Field(None, title="Virtual", description="True for a virtual machine.")


class Agent(_M):
    """Symantec Management Agent and its CMDB resource."""

    version: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+){1,3}$")] | None = Field(
        None, title="Agent version", description="Symantec Management Agent version, e.g. 8.7.3264.0."
    )
    managed: bool | None = Field(None, title="Managed", description="The computer resource is managed (IsManaged = 1).")
    local: bool | None = Field(
        None, title="Local", description="The resource belongs to this Notification Server (not replicated in)."
    )
    asset_status: AssetStatus | None = Field(None, title="Asset status", description="CMDB asset status.")
    cem_mode: bool | None = Field(
        None, title="CEM mode", description="True when the agent is in Cloud-enabled Management (internet) mode."
    )
    acc_configured: bool | None = Field(
        None,
        title="Agent Connectivity Credential",
        description="True when an Agent Connectivity Credential (ACC) is configured for UNC access.",
    )


class InstalledService(_M):
    """A site service already installed on the host."""

    service: Role = Field(title="Service", description="task, package, network_boot or monitor.")
    version: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+){1,3}$")] | None = Field(
        None, title="Version", description="Installed version of the service."
    )


class SiteServices(_M):
    """Site services installed and planned."""

    installed: list[InstalledService] | None = Field(
        None, title="Installed services", description="Site services already on the host, with versions."
    )
    planned: list[Role] | None = Field(
        None, title="Planned services", description="Site services to be installed on the host."
    )


class PackageStore(_M):
    """Package server store and code bases."""

    path: Str | None = Field(None, title="Path", description="Primary package store location.")
    fixed_media: bool | None = Field(None, title="On fixed media", description="The store is on a fixed (non-removable) disk.")
    in_known_folder: bool | None = Field(
        None, title="In a Known Folder", description="The store is a Windows Known Folder or inside one."
    )
    unc_codebases: bool | None = Field(
        None, title="UNC code bases", description="Packages are served from UNC locations."
    )


class Load(_M):
    """The load the host serves or will serve."""

    endpoints: Count | None = Field(None, title="Endpoints", description="Client computers served (or expected).")
    concurrent_connections: Count | None = Field(
        None, title="Concurrent connections", description="Expected peak concurrent client connections."
    )
    ns_task_service_clients: Count | None = Field(
        None,
        title="Clients of the NS's own task service",
        description=(
            "On the Notification Server: the clients registered to its own task service "
            "(not every managed endpoint; KB 390448 recommends at most 100)."
        ),
    )


class Platform(_M):
    """The ITMS platform the host belongs to."""

    itms_version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)*$")] | None = Field(
        None,
        title="ITMS version",
        description="ITMS version the Notification Server the host reports to runs now, e.g. 8.6 or 8.7.3.",
    )
    internet_gateway_version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)*$")] | None = Field(
        None, title="Internet Gateway version", description="Version of the Internet Gateway used for CEM, if any."
    )
    parent_notification_server_version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)*$")] | None = Field(
        None,
        title="Parent Notification Server version",
        description=(
            "In an NS hierarchy: ITMS version of the parent of the Notification Server the host "
            "reports to (whose own version is itms_version). Absent when that NS has no parent."
        ),
    )


class Network(_M):
    """How the host reaches its Notification Server (collected on the host)."""

    ns_url: Str | None = Field(
        None,
        title="Notification Server URL",
        description="URL the agent (and a task server) uses to reach its NS, e.g. https://ns01.corp.example.com/Altiris/.",
    )
    ns_https_reachable: bool | None = Field(
        None,
        title="NS reachable over HTTPS",
        description="True when an HTTPS request from the host to the NS URL completed (any HTTP status).",
    )
    ns_certificate_chain_valid: bool | None = Field(
        None,
        title="NS certificate chain valid",
        description=(
            "True when the NS's TLS certificate chain builds to a root trusted in the host's machine store "
            "and its name matches the URL."
        ),
    )


class CollectedBy(_M):
    """The collector or importer that produced the facts."""

    name: Str = Field(title="Name", description="Collector or importer name.")
    version: Str | None = Field(None, title="Version", description="Its version.")


class FactSources(_M):
    """How a fact was obtained when it was not simply read on the host."""

    package_store_path: Str | None = Field(
        None,
        title="Package store path source",
        description="'assumed-default': no store path was given, <agent dir>\\Package Delivery was assumed.",
    )
    agent_version: Str | None = Field(
        None,
        title="Agent version source",
        description="'agent-file-version': the file version of AeXNSAgent.exe, not the registry Version value.",
    )


class Provenance(_M):
    """Where these facts come from."""

    collected_at: Str | None = Field(None, title="Collected at", description="ISO 8601 time of collection.")
    collected_by: CollectedBy | None = Field(None, title="Collected by", description="Collector name and version.")
    source_file: Str | None = Field(None, title="Source file", description="Original export the facts were imported from.")
    fact_sources: FactSources | None = Field(
        None, title="Fact sources", description="How facts were obtained where they were not simply read."
    )


class HostFacts(_M):
    """Facts about one host (a site server or a candidate)."""

    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(
        title="Host name", description="Computer name as ITMS shows it; the host's identity in reports."
    )
    identity: Identity | None = Field(None, title="Identity", description="FQDN, domain, site, Notification Server.")
    os: OperatingSystem | None = Field(None, title="Operating system", description="Win32_OperatingSystem facts.")
    dotnet: DotNet | None = Field(None, title=".NET Framework", description=".NET Framework 4.x Release DWORD.")
    iis: Iis | None = Field(None, title="IIS", description="IIS role and features.")
    hardware: Hardware | None = Field(None, title="Hardware", description="Processors, memory, disks.")
    agent: Agent | None = Field(None, title="Agent", description="Symantec Management Agent state.")
    site_services: SiteServices | None = Field(None, title="Site services", description="Installed and planned site services.")
    package_store: PackageStore | None = Field(None, title="Package store", description="Package server store and code bases.")
    load: Load | None = Field(None, title="Load", description="Endpoints and connections served.")
    platform: Platform | None = Field(None, title="Platform", description="ITMS version of the Notification Server.")
    network: Network | None = Field(
        None, title="Network", description="NS URL, HTTPS reachability and certificate chain, seen from the host."
    )
    provenance: Provenance | None = Field(None, title="Provenance", description="Collection time and tool.")
    extensions: dict[str, Any] | None = Field(
        None, title="Extensions", description="Organisation-specific data; never read by bundled rules."
    )


def build_schema() -> dict[str, Any]:
    """The facts JSON Schema (2020-12) for one host, generated from the models."""
    schema = HostFacts.model_json_schema()
    defs = schema.pop("$defs", {})
    host = dict(schema)
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "sitegate facts v1",
        "description": (
            "Facts about ITMS site servers. A document holds one host object, an array "
            "of host objects, an object with a 'hosts' array, or JSON Lines (one host per line)."
        ),
        "oneOf": [
            {"$ref": "#/$defs/HostFacts"},
            {"type": "array", "items": {"$ref": "#/$defs/HostFacts"}},
            {
                "type": "object",
                "required": ["hosts"],
                "properties": {
                    "$schema": {"type": "string", "title": "Schema", "description": "This schema's URI."},
                    "hosts": {
                        "type": "array",
                        "title": "Hosts",
                        "description": "The hosts of this document.",
                        "items": {"$ref": "#/$defs/HostFacts"},
                    },
                },
                "additionalProperties": False,
            },
        ],
        "$defs": {**defs, "HostFacts": host},
    }
    return out


if __name__ == "__main__":
    json.dump(build_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
