#!/usr/bin/env python3
"""Generate a synthetic, deterministic ITMS fleet as JSON Lines facts.

One host object per line, shaped like ``schemas/facts.v1.schema.json``. Every
record is a site server or a site-server candidate (the population a readiness
gate evaluates): Notification Servers, existing site servers with installed
services, and candidates with planned services, grouped into sites.

All values are SYNTHETIC benchmark data. Build numbers, product types, .NET
Release DWORDs and IIS feature names follow shared/reference/itms-domain.md
(sections 1.3, 2.2, 3.2); agent build numbers and hardware figures are made up
(the reference has no Broadcom table for them) and must never be read as facts.

Determinism: one ``random.Random(seed)`` drives everything, only its
version-stable methods are used (``random``, ``randrange``, ``getrandbits``),
and dicts are built in a fixed key order, so the same arguments give
byte-identical output.

    python benchmarks/generate_fleet.py --hosts 250000 --seed 1 --out fleet.jsonl
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from bisect import bisect_right
from random import Random
from typing import Any, Iterator

import orjson

HOSTS_PER_NS = 20_000
BASE_EPOCH = 1_748_736_000  # 2025-06-01T00:00:00Z; collection times are offsets from it


class Weighted:
    """Weighted choice with a version-stable draw (one rng.random() per pick)."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, pairs: list[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in pairs]
        acc = 0.0
        self.cum = []
        for _, w in pairs:
            acc += w
            self.cum.append(acc)
        self.total = acc

    def pick(self, rng: Random) -> Any:
        return self.at(rng.random())

    def at(self, q: float) -> Any:
        """The value at quantile q (0 <= q < 1) of the weighted distribution."""
        i = bisect_right(self.cum, q * self.total)
        return self.values[min(i, len(self.values) - 1)]


# --------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------

# ITMS versions of the Notification Servers, with a synthetic agent build each.
ITMS_VERSIONS = Weighted([("8.5", 2), ("8.6", 8), ("8.7", 5), ("8.7.1", 18), ("8.7.2", 15),
                          ("8.7.3", 30), ("8.8", 15), ("8.8.1", 7)])
ITMS_ORDER = ["8.5", "8.6", "8.7", "8.7.1", "8.7.2", "8.7.3", "8.8", "8.8.1"]
AGENT_BUILD = {
    "8.5": "8.5.5032.0",
    "8.6": "8.6.4081.0",
    "8.7": "8.7.1112.0",
    "8.7.1": "8.7.1287.0",
    "8.7.2": "8.7.2102.0",
    "8.7.3": "8.7.3264.0",
    "8.8": "8.8.1035.0",
    "8.8.1": "8.8.1187.0",
}

# OS profiles: build, version, product_type, caption stem, editions, IIS version,
# .NET Release values (exact per-OS values, itms-domain.md 2.2) with weights,
# and architectures with weights.
_X64 = Weighted([("x64", 1)])


def _os(build, version, ptype, caption, editions, iis, releases, arch=_X64):
    return {
        "build": build, "version": version, "product_type": ptype, "caption": caption,
        "editions": Weighted(editions), "iis": iis, "releases": Weighted(releases), "arch": arch,
    }


_SRV_ED = [("Standard", 70), ("Datacenter", 30)]
_DESK_ED = [("Enterprise", 60), ("Pro", 35), ("Education", 5)]

SERVER_OS = Weighted([
    (_os(7601, "6.1.7601", "server", "Microsoft Windows Server 2008 R2", _SRV_ED + [("Enterprise", 20)], "7.5",
         [(528049, 30), (461814, 35), (394806, 20), (379893, 15)]), 2),
    (_os(9600, "6.3.9600", "server", "Microsoft Windows Server 2012 R2", _SRV_ED, "8.5",
         [(528049, 55), (461814, 25), (394806, 10), (378675, 10)]), 6),
    (_os(14393, "10.0.14393", "server", "Microsoft Windows Server 2016", _SRV_ED, "10.0",
         [(528049, 62), (461814, 20), (394802, 18)]), 17),
    (_os(17763, "10.0.17763", "server", "Microsoft Windows Server 2019", _SRV_ED, "10.0",
         [(528049, 80), (461814, 12), (533325, 8)]), 33),
    (_os(20348, "10.0.20348", "server", "Microsoft Windows Server 2022", _SRV_ED, "10.0",
         [(528449, 70), (533325, 30)]), 31),
    (_os(26100, "10.0.26100", "server", "Microsoft Windows Server 2025", _SRV_ED, "10.0",
         [(533509, 100)]), 11),
])
DESKTOP_OS = Weighted([
    (_os(7601, "6.1.7601", "workstation", "Microsoft Windows 7", [("Enterprise", 60), ("Professional", 40)], "7.5",
         [(528049, 40), (461814, 40), (379893, 20)], Weighted([("x64", 70), ("x86", 30)])), 1),
    (_os(9600, "6.3.9600", "workstation", "Microsoft Windows 8.1", [("Enterprise", 60), ("Pro", 40)], "8.5",
         [(528049, 60), (461814, 40)], Weighted([("x64", 80), ("x86", 20)])), 1),
    (_os(18363, "10.0.18363", "workstation", "Microsoft Windows 10", _DESK_ED, "10.0",
         [(528040, 100)]), 1),
    (_os(19045, "10.0.19045", "workstation", "Microsoft Windows 10", _DESK_ED, "10.0",
         [(528372, 70), (533325, 30)], Weighted([("x64", 96), ("x86", 4)])), 46),
    (_os(22621, "10.0.22621", "workstation", "Microsoft Windows 11", _DESK_ED, "10.0",
         [(533320, 100)]), 18),
    (_os(22631, "10.0.22631", "workstation", "Microsoft Windows 11", _DESK_ED, "10.0",
         [(533320, 100)], Weighted([("x64", 97), ("arm64", 3)])), 28),
    (_os(26100, "10.0.26100", "workstation", "Microsoft Windows 11", _DESK_ED, "10.0",
         [(533509, 100)], Weighted([("x64", 95), ("arm64", 5)])), 5),
])
# The Notification Server itself: Windows Server 2016..2025 only.
NS_OS = Weighted([(SERVER_OS.values[2], 5), (SERVER_OS.values[3], 40), (SERVER_OS.values[4], 45),
                  (SERVER_OS.values[5], 10)])

# IIS features by Server Manager Name (itms-domain.md 3.2), and the desktop
# optional-feature names used on client Windows.
FEATURE_ORDER = [
    "Web-Server", "Web-WebServer", "Web-Static-Content", "Web-Default-Doc", "Web-Dir-Browsing",
    "Web-Http-Errors", "Web-Http-Redirect", "Web-Filtering", "Web-Windows-Auth", "Web-ASP",
    "Web-Asp-Net", "Web-Asp-Net45", "Web-Net-Ext", "Web-Net-Ext45", "Web-ISAPI-Ext",
    "Web-ISAPI-Filter", "Web-Mgmt-Console", "Web-Mgmt-Compat", "Web-Metabase", "Web-WMI",
    "Web-Lgcy-Scripting", "Web-Lgcy-Mgmt-Console",
]
DESKTOP_NAME = {
    "Web-Server": "IIS-WebServerRole",
    "Web-WebServer": "IIS-WebServer",
    "Web-Static-Content": "IIS-StaticContent",
    "Web-Default-Doc": "IIS-DefaultDocument",
    "Web-Dir-Browsing": "IIS-DirectoryBrowsing",
    "Web-Http-Errors": "IIS-HttpErrors",
    "Web-Http-Redirect": "IIS-HttpRedirect",
    "Web-Filtering": "IIS-RequestFiltering",
    "Web-Windows-Auth": "IIS-WindowsAuthentication",
    "Web-ASP": "IIS-ASP",
    "Web-Asp-Net": "IIS-ASPNET",
    "Web-Asp-Net45": "IIS-ASPNET45",
    "Web-Net-Ext": "IIS-NetFxExtensibility",
    "Web-Net-Ext45": "IIS-NetFxExtensibility45",
    "Web-ISAPI-Ext": "IIS-ISAPIExtensions",
    "Web-ISAPI-Filter": "IIS-ISAPIFilter",
    "Web-Mgmt-Console": "IIS-ManagementConsole",
    "Web-Mgmt-Compat": "IIS-IIS6ManagementCompatibility",
    "Web-Metabase": "IIS-Metabase",
    "Web-WMI": "IIS-WMICompatibility",
    "Web-Lgcy-Scripting": "IIS-LegacyScripts",
    "Web-Lgcy-Mgmt-Console": "IIS-LegacySnapIn",
}
BASE_FEATURES = ("Web-Server", "Web-WebServer", "Web-Static-Content", "Web-Default-Doc",
                 "Web-Http-Errors", "Web-Filtering", "Web-Mgmt-Console")
PACKAGE_FEATURES = ("Web-ASP", "Web-Windows-Auth", "Web-Mgmt-Compat", "Web-Metabase", "Web-WMI",
                    "Web-Lgcy-Scripting", "Web-Lgcy-Mgmt-Console")
TASK_FEATURES = ("Web-Asp-Net45", "Web-Net-Ext45", "Web-ISAPI-Ext", "Web-ISAPI-Filter",
                 "Web-Windows-Auth", "Web-Metabase")
TASK_FEATURES_75 = ("Web-Asp-Net", "Web-Net-Ext", "Web-ISAPI-Ext", "Web-ISAPI-Filter",
                    "Web-Windows-Auth", "Web-Metabase")  # IIS 7.5 has no *45 names
FEATURE_QUALITY = Weighted([("full", 82), ("partial", 13), ("base", 5)])

MAX_QUERY_STRING = Weighted([(2048, 80), (1024, 8), (512, 3), (4096, 6), (8192, 3)])
MAX_URL = Weighted([(4096, 90), (2048, 5), (8192, 5)])

# Site-service combinations (package and PXE are often combined, KB 390448).
INSTALLED_COMBOS = Weighted([
    (("package",), 18), (("task",), 8), (("package", "task"), 30), (("package", "network_boot"), 20),
    (("package", "task", "network_boot"), 14), (("network_boot",), 3), (("package", "task", "monitor"), 4),
    (("monitor",), 3),
])
PLANNED_COMBOS = Weighted([
    (("package",), 22), (("task",), 10), (("package", "task"), 25), (("package", "network_boot"), 25),
    (("package", "task", "network_boot"), 10), (("network_boot",), 4), (("monitor",), 4),
])
ROLE_ORDER = ("task", "package", "network_boot", "monitor")

SERVER_MEMORY = Weighted([(4096, 5), (8192, 22), (12288, 8), (16384, 30), (24576, 6), (32768, 19),
                          (49152, 4), (65536, 6)])
DESKTOP_MEMORY = Weighted([(4096, 15), (8192, 45), (16384, 30), (32768, 10)])
NS_MEMORY = Weighted([(32768, 40), (49152, 25), (65536, 35)])
SERVER_CORES = Weighted([(2, 14), (4, 34), (6, 6), (8, 26), (12, 6), (16, 9), (24, 3), (32, 2)])
DESKTOP_CORES = Weighted([(2, 15), (4, 45), (6, 15), (8, 20), (12, 5)])

ASSET_STATUS = Weighted([("active", 970), ("retired", 10), ("in_stock", 5), ("missing", 5),
                         ("disposed", 3), ("on_order", 3), ("other", 3), ("stolen", 1)])

# (path, fixed_media, in_known_folder)
PACKAGE_STORES = Weighted([
    (("C:\\Program Files\\Altiris\\Altiris Agent\\Package Delivery", True, True), 45),
    (("D:\\Package Delivery", True, False), 30),
    (("E:\\SMP\\Packages", True, False), 15),
    (("C:\\ProgramData\\Packages", True, True), 5),
    (("C:\\Users\\Public\\Documents\\Packages", True, True), 2),
    (("F:\\Packages", False, False), 3),
])

CITIES = [
    "AMS", "ATL", "BER", "BOS", "BRU", "CHI", "CPH", "DAL", "DEN", "DUB", "FRA", "HAM", "HEL", "HKG",
    "HOU", "IST", "JNB", "LAX", "LIS", "LON", "LYS", "MAD", "MEL", "MEX", "MIA", "MIL", "MUC", "NYC",
    "OSL", "PAR", "PHX", "PRG", "RIO", "ROM", "SEA", "SFO", "SGP", "STO", "SYD", "TOR", "TYO", "VIE",
    "WAW", "ZRH",
]
COLLECTORS = Weighted([
    ({"name": "sitegate-collect", "version": "0.1.0"}, 70),
    ({"name": "itms-cmdb-import", "version": "0.1.0"}, 30),
])


# --------------------------------------------------------------------------
# Host builders
# --------------------------------------------------------------------------


def _guid(rng: Random) -> str:
    h = "%032X" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _sorted_roles(roles) -> list[str]:
    return [r for r in ROLE_ORDER if r in roles]


def _features(rng: Random, roles: set[str], osp: dict, desktop: bool) -> list[str]:
    chosen = set(BASE_FEATURES)
    role_specific: set[str] = set()
    if "package" in roles:
        role_specific.update(PACKAGE_FEATURES)
    if "task" in roles:
        role_specific.update(TASK_FEATURES_75 if osp["iis"] == "7.5" else TASK_FEATURES)
    quality = FEATURE_QUALITY.pick(rng)
    if quality == "full":
        chosen |= role_specific
    elif quality == "partial" and role_specific:
        spec = [f for f in FEATURE_ORDER if f in role_specific]
        for _ in range(1 + rng.randrange(3)):
            if len(spec) > 1:
                spec.pop(rng.randrange(len(spec)))
        chosen.update(spec)
    if rng.random() < 0.3:
        chosen.add("Web-Dir-Browsing")
    if rng.random() < 0.1:
        chosen.add("Web-Http-Redirect")
    if rng.random() < 0.03:  # someone removed request filtering
        chosen.discard("Web-Filtering")
    names = [f for f in FEATURE_ORDER if f in chosen]
    if desktop:
        return [DESKTOP_NAME[f] for f in names]
    return names


def _request_filtering(rng: Random) -> dict[str, Any]:
    rf: dict[str, Any] = {"max_query_string": MAX_QUERY_STRING.pick(rng), "max_url": MAX_URL.pick(rng)}
    r = rng.random()
    if r < 0.10:
        rf["allow_unlisted_verbs"] = False
        rf["allowed_verbs"] = ["GET", "HEAD", "POST"] if rng.random() < 0.8 else ["GET", "POST"]
    else:
        rf["allow_unlisted_verbs"] = True
    r = rng.random()
    if r < 0.12:
        rf["denied_verbs"] = ["TRACE", "TRACK"]
    elif r < 0.14:
        rf["denied_verbs"] = ["HEAD"]
    return rf


class Fleet:
    """Walks Notification Servers and sites, yielding host dicts."""

    def __init__(self, n_hosts: int, seed: int) -> None:
        self.n = n_hosts
        self.rng = Random(seed)
        self.n_ns = max(1, round(n_hosts / HOSTS_PER_NS))
        self.site_no = 0

    # ---- per Notification Server context
    def _ns_context(self, k: int, itms: str) -> dict[str, Any]:
        rng = self.rng
        idx = ITMS_ORDER.index(itms)
        cem = rng.random() < 0.4
        ig = None
        if cem:
            ig = itms if (rng.random() < 0.75 or idx == 0) else ITMS_ORDER[idx - 1]
        collector = COLLECTORS.pick(rng)
        return {
            "k": k,
            "name": f"SMP{k + 1:02d}",
            "domain": f"corp{k + 1:02d}.example.com",
            "itms": itms,
            "agent": AGENT_BUILD[itms],
            "prev_agent": AGENT_BUILD[ITMS_ORDER[max(0, idx - 1)]],
            "old_agent": AGENT_BUILD[ITMS_ORDER[max(0, idx - 2)]],
            "ig": ig,
            "collector": collector,
            "source_file": f"exports/SMP{k + 1:02d}-site-servers.csv" if collector["name"] == "itms-cmdb-import" else None,
            "t0": BASE_EPOCH + k * 86_400 + rng.randrange(3600),
        }

    def hosts(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        base, extra = divmod(self.n, self.n_ns)
        # ITMS versions spread over the NSes by quantile (so every common version
        # appears once there are a few NSes), in a shuffled order.
        versions = [ITMS_VERSIONS.at((k + 0.5) / self.n_ns) for k in range(self.n_ns)]
        rng.shuffle(versions)
        for k in range(self.n_ns):
            quota = base + (1 if k < extra else 0)
            if quota <= 0:
                continue
            ns = self._ns_context(k, versions[k])
            yield self._host(ns, kind="ns", site=f"{ns['name']}-HQ", name=ns["name"], site_endpoints=0, share=1)
            made = 1
            while made < quota:
                self.site_no += 1
                city = CITIES[rng.randrange(len(CITIES))]
                code = f"{city}{self.site_no:05d}"
                site = f"{city}-{self.site_no:05d}"
                # endpoints 50..3000, log-uniform (many small branch sites)
                endpoints = int(math.exp(rng.uniform(3.912, 8.006)))
                n_srv = 1 + (endpoints > 800) + (endpoints > 2000) + (rng.random() < 0.25)
                n_cand = (rng.random() < 0.45) + (rng.random() < 0.15)
                for j in range(n_srv + n_cand):
                    if made >= quota:
                        break
                    kind = "existing" if j < n_srv else "candidate"
                    # candidates are sized as if they took over one server's share
                    yield self._host(ns, kind=kind, site=site, name=f"{code}SS{j + 1:02d}",
                                     site_endpoints=endpoints, share=n_srv)
                    made += 1

    # ---- one host
    def _host(self, ns: dict, *, kind: str, site: str, name: str, site_endpoints: int, share: int) -> dict[str, Any]:
        rng = self.rng
        is_ns = kind == "ns"

        # roles
        if is_ns:
            installed_roles = {"task", "package"}
            planned_roles: set[str] = set()
            if rng.random() < 0.1:
                planned_roles.add("network_boot")
        elif kind == "existing":
            installed_roles = set(INSTALLED_COMBOS.pick(rng))
            r = rng.random()
            planned_roles = set()
            if r < 0.12:
                planned_roles = {("network_boot", "task", "package")[rng.randrange(3)]} - installed_roles
            elif r < 0.16:  # re-planning a service that is already installed
                planned_roles = {sorted(installed_roles)[0]}
            elif r < 0.19:
                planned_roles = {"monitor"} - installed_roles
        else:
            installed_roles = set()
            planned_roles = set(PLANNED_COMBOS.pick(rng))
        roles = installed_roles | planned_roles

        # OS
        if is_ns:
            osp = NS_OS.pick(rng)
        else:
            desk_p = 0.45 if site_endpoints < 300 else 0.10
            if "task" in roles:
                desk_p *= 0.5
            osp = DESKTOP_OS.pick(rng) if rng.random() < desk_p else SERVER_OS.pick(rng)
        desktop = osp["product_type"] == "workstation"
        ptype = osp["product_type"]
        edition = osp["editions"].pick(rng)
        if not desktop and rng.random() < 0.03:
            ptype = "domain_controller"
        caption = f"{osp['caption']} {edition}"
        os_ = {
            "caption": caption,
            "version": osp["version"],
            "build": osp["build"],
            "edition": edition,
            "product_type": ptype,
            "architecture": osp["arch"].pick(rng),
        }

        # .NET
        dotnet = {"release": osp["releases"].pick(rng)}

        # IIS
        p_iis = 0.97 if roles & {"task", "package"} else 0.6
        if kind == "candidate":
            p_iis -= 0.15
        if is_ns or rng.random() < p_iis:
            iis: dict[str, Any] = {
                "installed": True,
                "version": osp["iis"],
                "features": _features(rng, roles, osp, desktop),
                "request_filtering": _request_filtering(rng),
            }
        else:
            iis = {"installed": False, "features": []}

        # hardware
        if is_ns:
            cores = (8, 12, 16)[rng.randrange(3)]
            mem = NS_MEMORY.pick(rng)
        elif desktop:
            cores = DESKTOP_CORES.pick(rng)
            mem = DESKTOP_MEMORY.pick(rng)
        else:
            cores = SERVER_CORES.pick(rng)
            mem = SERVER_MEMORY.pick(rng)
        virtual = rng.random() < (0.08 if desktop else 0.72)
        logical = cores if (virtual or rng.random() < 0.3) else cores * 2
        sys_free = round(rng.uniform(1.5, 12.0) if rng.random() < 0.05 else rng.uniform(12.0, 400.0), 2)
        hardware: dict[str, Any] = {
            "logical_processors": logical,
            "cores": cores,
            "memory_mb": mem,
            "system_drive_free_gb": sys_free,
        }
        if "package" in roles:
            hardware["package_store_free_gb"] = round(
                rng.uniform(0.5, 20.0) if rng.random() < 0.06 else rng.uniform(20.0, 2000.0), 2)
        hardware["virtual"] = virtual

        # agent
        r = rng.random()
        agent_v = ns["agent"] if r < 0.88 else (ns["prev_agent"] if r < 0.98 else ns["old_agent"])
        agent = {
            "version": agent_v,
            "managed": rng.random() < 0.985,
            "local": rng.random() < 0.97,
            "asset_status": ASSET_STATUS.pick(rng),
            "cem_mode": (not is_ns) and ns["ig"] is not None and rng.random() < 0.06,
            "acc_configured": rng.random() < 0.7,
        }

        # site services
        installed = [{"service": s, "version": agent_v} for s in _sorted_roles(installed_roles)]
        if installed and rng.random() < 0.05:  # a service left at an older version
            installed[0] = {"service": installed[0]["service"], "version": ns["old_agent"]}
        site_services = {"installed": installed, "planned": _sorted_roles(planned_roles)}

        # package store
        package_store = None
        if "package" in roles:
            path, fixed, known = PACKAGE_STORES.pick(rng)
            package_store = {
                "path": path,
                "fixed_media": fixed,
                "in_known_folder": known,
                "unc_codebases": rng.random() < 0.08,
            }

        # load
        if is_ns:
            endpoints = rng.randrange(0, 101) if rng.random() < 0.6 else rng.randrange(101, 2500)
        elif rng.random() < 0.02 and "task" in roles:  # central hub task servers
            endpoints = rng.randrange(5000, 20001)
        elif roles & {"task", "package"}:
            endpoints = max(0, int(site_endpoints / share * rng.uniform(0.8, 1.2)))
        else:
            endpoints = rng.randrange(0, 60)
        conc = int(endpoints * rng.uniform(0.02, 0.15))
        if desktop and conc > 10 and rng.random() < 0.5:
            conc = rng.randrange(3, 21)
        load = {"endpoints": endpoints, "concurrent_connections": conc}

        # platform and provenance
        platform: dict[str, Any] = {"itms_version": ns["itms"]}
        if ns["ig"] is not None:
            platform["internet_gateway_version"] = ns["ig"]
        prov: dict[str, Any] = {
            "collected_at": _iso(ns["t0"] + rng.randrange(14_400)),
            "collected_by": ns["collector"],
        }
        if ns["source_file"]:
            prov["source_file"] = ns["source_file"]

        identity: dict[str, Any] = {
            "fqdn": f"{name.lower()}.{ns['domain']}",
            "domain": ns["domain"],
            "site": site,
            "notification_server": ns["name"],
            "is_notification_server": is_ns,
            "resource_guid": _guid(rng),
        }

        host: dict[str, Any] = {
            "name": name,
            "identity": identity,
            "os": os_,
            "dotnet": dotnet,
            "iis": iis,
            "hardware": hardware,
            "agent": agent,
            "site_services": site_services,
        }
        if package_store is not None:
            host["package_store"] = package_store
        host["load"] = load
        host["platform"] = platform
        host["provenance"] = prov
        if rng.random() < 0.03:
            host["extensions"] = {"cost_center": f"CC{rng.randrange(1000, 10000)}", "owner": "site-ops"}
        return host


# --------------------------------------------------------------------------
# Incomplete and broken records
# --------------------------------------------------------------------------

GROUPS = ("identity", "os", "dotnet", "iis", "hardware", "agent", "site_services", "package_store",
          "load", "platform", "provenance")
NESTED_DROPS = (("dotnet", "release"), ("os", "build"), ("os", "product_type"), ("hardware", "memory_mb"),
                ("iis", "features"), ("agent", "version"), ("agent", "managed"), ("load", "endpoints"),
                ("iis", "request_filtering"), ("platform", "itms_version"))


def make_incomplete(rng: Random, host: dict[str, Any]) -> None:
    """Drop one to three fact groups, or a single nested fact."""
    if rng.random() < 0.35:
        group, key = NESTED_DROPS[rng.randrange(len(NESTED_DROPS))]
        sub = host.get(group)
        if isinstance(sub, dict) and key in sub:
            host[group] = {k: v for k, v in sub.items() if k != key}
        return
    for _ in range(1 + rng.randrange(3)):
        host.pop(GROUPS[rng.randrange(len(GROUPS))], None)


BROKEN_KINDS = ("wrong_type", "truncated", "missing_name", "duplicate_key", "nan", "unknown_field",
                "bad_enum", "not_an_object")
WRONG_TYPES = (
    ("hardware", "memory_mb", "lots"),
    ("load", "endpoints", "many"),
    ("os", "build", "17763"),
    ("agent", "managed", "yes"),
    ("dotnet", "release", -1),
    ("iis", "features", "Web-ASP,Web-Metabase"),
    ("hardware", "cores", 4.5),
    ("os", "product_type", 3),
)


def make_broken(rng: Random, host: dict[str, Any], dumps) -> tuple[str, bytes]:
    """Return (kind, line bytes without newline) for a deliberately broken record."""
    kind = BROKEN_KINDS[rng.randrange(len(BROKEN_KINDS))]
    if kind == "wrong_type":
        group, key, value = WRONG_TYPES[rng.randrange(len(WRONG_TYPES))]
        sub = dict(host.get(group) or {})
        sub[key] = value
        host[group] = sub
        return kind, dumps(host)
    if kind == "truncated":
        line = dumps(host)
        return kind, line[: 1 + rng.randrange(len(line) - 2)]
    if kind == "missing_name":
        del host["name"]
        return kind, dumps(host)
    if kind == "duplicate_key":
        line = dumps(host)
        if rng.random() < 0.5:  # the same key twice at the top, with a different value
            dup = b'{"name":' + dumps(host["name"] + "-DUP") + b","
        else:
            dup = b'{"agent":{"managed":false},'
        return kind, dup + line[1:]
    if kind == "nan":
        hw = dict(host.get("hardware") or {})
        hw["memory_mb"] = "\x00NAN\x00"
        host["hardware"] = hw
        return kind, dumps(host).replace(b'"\\u0000NAN\\u0000"', b"NaN")
    if kind == "unknown_field":
        hw = dict(host.get("hardware") or {})
        hw["memroy_mb"] = hw.pop("memory_mb", 8192)
        host["hardware"] = hw
        return kind, dumps(host)
    if kind == "bad_enum":
        os_ = dict(host.get("os") or {})
        os_["architecture"] = "64-bit"
        host["os"] = os_
        return kind, dumps(host)
    # not_an_object: a bare array of names, as a wrong export might write
    return kind, dumps([host["name"], host.get("identity", {}).get("site")])


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def generate(n_hosts: int, seed: int, broken_share: float = 0.01, incomplete_share: float = 0.05,
             manifest: dict[int, str] | None = None) -> Iterator[bytes]:
    """Yield JSONL lines (with trailing newline). ``manifest`` collects line -> flaw."""
    fleet = Fleet(n_hosts, seed)
    # Flaws use their own stream so changing the shares does not move the fleet.
    flaw_rng = Random(seed * 1_000_003 + 17)
    dumps = orjson.dumps
    for lineno, host in enumerate(fleet.hosts(), start=1):
        r = flaw_rng.random()
        if r < broken_share:
            kind, line = make_broken(flaw_rng, host, dumps)
            if manifest is not None:
                manifest[lineno] = "broken:" + kind
            yield line + b"\n"
            continue
        if r < broken_share + incomplete_share:
            make_incomplete(flaw_rng, host)
            if manifest is not None:
                manifest[lineno] = "incomplete"
        yield dumps(host, option=orjson.OPT_APPEND_NEWLINE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, required=True, help="number of host lines")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--out", required=True, help="output .jsonl file ('-' for stdout)")
    ap.add_argument("--broken-share", type=float, default=0.01, help="share of broken lines (default 0.01)")
    ap.add_argument("--incomplete-share", type=float, default=0.05,
                    help="share of valid but incomplete records (default 0.05)")
    ap.add_argument("--manifest", help="also write a JSON {line: flaw} map of broken/incomplete lines")
    args = ap.parse_args(argv)
    if args.hosts < 0 or not (0 <= args.broken_share <= 1) or not (0 <= args.incomplete_share <= 1):
        ap.error("--hosts must be >= 0 and shares within 0..1")
    if args.broken_share + args.incomplete_share > 1:
        ap.error("--broken-share + --incomplete-share must not exceed 1")

    manifest: dict[int, str] | None = {} if args.manifest else None
    t0 = time.perf_counter()
    out = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")
    try:
        buf: list[bytes] = []
        n = 0
        for line in generate(args.hosts, args.seed, args.broken_share, args.incomplete_share, manifest):
            buf.append(line)
            n += 1
            if len(buf) >= 4096:
                out.write(b"".join(buf))
                buf.clear()
        out.write(b"".join(buf))
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    if manifest is not None:
        with open(args.manifest, "wb") as fh:
            fh.write(orjson.dumps({str(k): v for k, v in manifest.items()}, option=orjson.OPT_INDENT_2))
    dt = time.perf_counter() - t0
    print(f"wrote {n} hosts to {args.out} in {dt:.2f}s ({n / dt if dt else 0:,.0f} hosts/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
