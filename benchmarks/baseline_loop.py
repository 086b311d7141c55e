#!/usr/bin/env python3
"""The hand-written Python loop: the speed yardstick for the sitegate engine.

Reads a JSONL fleet with orjson and applies 36 readiness checks as plain dict
lookups and comparisons, counting per check how many hosts fail and how many
lack the facts to decide (unknown). It does what a careful engineer would write
by hand with no policy engine, no evidence, no explanations: the engine cannot
be much faster than this, so "hosts/s of the engine / hosts/s of this loop" is
the number to watch.

    python benchmarks/baseline_loop.py fleet.jsonl [--parse-only-too] [--quiet]

Lines that are not JSON objects (truncated, NaN, arrays) count as rejected;
a host whose facts have wrong types (memory_mb "lots") stops at the first
comparison that raises TypeError and counts as invalid. Checks are deliberately
simple; thresholds mirror shared/reference/itms-domain.md where it has them
(.NET 528040 from 8.7.1, maxQueryString 2048, 15,000 / 5,000 task clients,
100 clients on the NS, desktop session limits) and are illustrative elsewhere.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Iterable

import orjson

CHECKS = (
    "managed",                    # 0  agent.managed
    "local",                      # 1  agent.local
    "asset_active",               # 2  agent.asset_status == active
    "cem_disabled",               # 3  agent.cem_mode false
    "agent_version_supported",    # 4  agent >= build of the NS's ITMS version
    "acc_for_unc_codebases",      # 5  UNC code bases need an ACC
    "arch_x64",                   # 6  os.architecture == x64
    "os_build_supported",         # 7  build in the per-family set
    "os_not_legacy",              # 8  not 7601 / 9200 / 9600
    "product_type_known",         # 9
    "not_domain_controller",      # 10
    "dotnet_48_from_871",         # 11 release >= 528040 when ITMS >= 8.7.1
    "dotnet_supported_by_ms",     # 12 release >= 394802
    "iis_installed",              # 13 task / package roles
    "iis_version_85_plus",        # 14
    "package_iis_features",       # 15 KB 180398 feature set
    "task_iis_features",          # 16
    "request_filtering_feature",  # 17 Web-Filtering present
    "max_query_string_2048",      # 18 KB 150920
    "verbs_get_post_head",        # 19 KB 150920
    "memory_8g",                  # 20
    "memory_16g_big_task",        # 21 task with > 5000 endpoints
    "logical_procs_4_task",       # 22
    "system_drive_10g",           # 23
    "package_store_20g",          # 24
    "package_store_fixed",        # 25 KB 416632
    "package_store_not_known",    # 26 KB 416632 (custom locations only)
    "task_endpoints_15000",       # 27 KB 390448
    "task_endpoints_5000",        # 28 KB 426743 default registration limit
    "desktop_endpoints_20",       # 29 desktop serving more than 20 endpoints
    "desktop_connections_10",     # 30 IIS client request limit
    "ns_task_clients_100",        # 31 KB 390448
    "service_not_installed",      # 32 planned service already installed
    "service_version_matches",    # 33 installed services at the agent version
    "itms_version_known",         # 34
    "ig_version_matches",         # 35 KB 440752
)
N = len(CHECKS)

SERVER_BUILDS = frozenset({14393, 17763, 20348, 26100})
DESKTOP_BUILDS = frozenset({19045, 22621, 22631, 26100})
LEGACY_BUILDS = frozenset({7601, 9200, 9600})
KNOWN_ITMS = frozenset({"8.5", "8.6", "8.7", "8.7.1", "8.7.2", "8.7.3", "8.8", "8.8.1"})
ITMS_871 = (8, 7, 1)
# Synthetic agent build per ITMS version, the same table as generate_fleet.py.
AGENT_MIN = {
    "8.5": (8, 5, 5032, 0), "8.6": (8, 6, 4081, 0), "8.7": (8, 7, 1112, 0), "8.7.1": (8, 7, 1287, 0),
    "8.7.2": (8, 7, 2102, 0), "8.7.3": (8, 7, 3264, 0), "8.8": (8, 8, 1035, 0), "8.8.1": (8, 8, 1187, 0),
}
PACKAGE_FEATURES = frozenset({"Web-ASP", "Web-Windows-Auth", "Web-Mgmt-Compat", "Web-Metabase", "Web-WMI",
                              "Web-Lgcy-Scripting", "Web-Lgcy-Mgmt-Console"})
TASK_FEATURES = frozenset({"Web-Asp-Net45", "Web-Net-Ext45", "Web-ISAPI-Ext", "Web-ISAPI-Filter",
                           "Web-Windows-Auth", "Web-Metabase"})
TASK_FEATURES_75 = frozenset({"Web-Asp-Net", "Web-Net-Ext", "Web-ISAPI-Ext", "Web-ISAPI-Filter",
                              "Web-Windows-Auth", "Web-Metabase"})
DESKTOP_NAMES = {
    "IIS-WebServerRole": "Web-Server", "IIS-WebServer": "Web-WebServer", "IIS-StaticContent": "Web-Static-Content",
    "IIS-DefaultDocument": "Web-Default-Doc", "IIS-DirectoryBrowsing": "Web-Dir-Browsing",
    "IIS-HttpErrors": "Web-Http-Errors", "IIS-HttpRedirect": "Web-Http-Redirect",
    "IIS-RequestFiltering": "Web-Filtering", "IIS-WindowsAuthentication": "Web-Windows-Auth", "IIS-ASP": "Web-ASP",
    "IIS-ASPNET": "Web-Asp-Net", "IIS-ASPNET45": "Web-Asp-Net45", "IIS-NetFxExtensibility": "Web-Net-Ext",
    "IIS-NetFxExtensibility45": "Web-Net-Ext45", "IIS-ISAPIExtensions": "Web-ISAPI-Ext",
    "IIS-ISAPIFilter": "Web-ISAPI-Filter", "IIS-IIS6ManagementCompatibility": "Web-Mgmt-Compat",
    "IIS-Metabase": "Web-Metabase", "IIS-WMICompatibility": "Web-WMI", "IIS-LegacyScripts": "Web-Lgcy-Scripting",
    "IIS-LegacySnapIn": "Web-Lgcy-Mgmt-Console", "IIS-ManagementConsole": "Web-Mgmt-Console",
}
NEEDED_VERBS = ("GET", "POST", "HEAD")
DEFAULT_STORE_SUFFIX = "\\Altiris Agent\\Package Delivery"
EMPTY: dict = {}


def vtuple(s: str) -> tuple[int, ...]:
    return tuple(int(p) for p in s.split("."))


def run(path: str) -> tuple[int, int, int, list[int], list[int], float]:
    """Evaluate every line; returns hosts, rejected, invalid, fails, unknowns, seconds."""
    with open(path, "rb") as fh:
        return run_lines(fh)


def run_lines(lines: Iterable[bytes]) -> tuple[int, int, int, list[int], list[int], float]:
    """Evaluate each JSON line of ``lines`` (a file, or a list of one line to see one
    host's outcomes); returns hosts, rejected, invalid, fails, unknowns, seconds."""
    fails = [0] * N
    unknown = [0] * N
    hosts = rejected = invalid = 0
    loads = orjson.loads
    desk_get = DESKTOP_NAMES.get
    t0 = time.perf_counter()
    for line in lines:
        try:
            h = loads(line)
        except orjson.JSONDecodeError:
            rejected += 1
            continue
        if type(h) is not dict or "name" not in h:
            rejected += 1
            continue
        hosts += 1
        try:
            agent = h.get("agent") or EMPTY
            os_ = h.get("os") or EMPTY
            iis = h.get("iis") or EMPTY
            hw = h.get("hardware") or EMPTY
            load = h.get("load") or EMPTY
            ss = h.get("site_services") or EMPTY
            store = h.get("package_store") or EMPTY
            plat = h.get("platform") or EMPTY
            ident = h.get("identity") or EMPTY

            installed_list = ss.get("installed") or ()
            installed = {s["service"] for s in installed_list}
            planned = ss.get("planned") or ()
            roles = installed.union(planned)
            is_task = "task" in roles
            is_pkg = "package" in roles
            itms = plat.get("itms_version")
            endpoints = load.get("endpoints")
            ptype = os_.get("product_type")
            desktop = ptype == "workstation" if ptype is not None else None

            # 0-3 console prerequisites on the agent / CMDB resource
            v = agent.get("managed")
            if v is None:
                unknown[0] += 1
            elif v is not True:
                fails[0] += 1
            v = agent.get("local")
            if v is None:
                unknown[1] += 1
            elif v is not True:
                fails[1] += 1
            v = agent.get("asset_status")
            if v is None:
                unknown[2] += 1
            elif v != "active":
                fails[2] += 1
            v = agent.get("cem_mode")
            if v is None:
                unknown[3] += 1
            elif v:
                fails[3] += 1
            # 4 agent version
            av = agent.get("version")
            if av is None or itms is None or itms not in AGENT_MIN:
                unknown[4] += 1
            elif vtuple(av) < AGENT_MIN[itms]:
                fails[4] += 1
            # 5 ACC for UNC code bases
            if store.get("unc_codebases"):
                v = agent.get("acc_configured")
                if v is None:
                    unknown[5] += 1
                elif not v:
                    fails[5] += 1
            # 6-10 operating system
            v = os_.get("architecture")
            if v is None:
                unknown[6] += 1
            elif v != "x64":
                fails[6] += 1
            build = os_.get("build")
            if build is None or desktop is None:
                unknown[7] += 1
            elif build not in (DESKTOP_BUILDS if desktop else SERVER_BUILDS):
                fails[7] += 1
            if build is None:
                unknown[8] += 1
            elif build in LEGACY_BUILDS:
                fails[8] += 1
            if ptype is None:
                unknown[9] += 1
            elif ptype not in ("workstation", "server", "domain_controller"):
                fails[9] += 1
            if ptype is None:
                unknown[10] += 1
            elif ptype == "domain_controller":
                fails[10] += 1
            # 11-12 .NET
            rel = (h.get("dotnet") or EMPTY).get("release")
            if itms is None:
                unknown[11] += 1
            elif vtuple(itms) >= ITMS_871:
                if rel is None:
                    unknown[11] += 1
                elif rel < 528040:
                    fails[11] += 1
            if rel is None:
                unknown[12] += 1
            elif rel < 394802:
                fails[12] += 1
            # 13-19 IIS
            iis_on = iis.get("installed")
            if is_task or is_pkg:
                if iis_on is None:
                    unknown[13] += 1
                elif iis_on is not True:
                    fails[13] += 1
            if iis_on:
                iv = iis.get("version")
                if iv is None:
                    unknown[14] += 1
                elif float(iv) < 8.5:
                    fails[14] += 1
                feats = iis.get("features")
                if feats is None:
                    if is_pkg:
                        unknown[15] += 1
                    if is_task:
                        unknown[16] += 1
                    unknown[17] += 1
                else:
                    fs = {desk_get(f, f) for f in feats}
                    if is_pkg and not PACKAGE_FEATURES <= fs:
                        fails[15] += 1
                    if is_task and not (TASK_FEATURES <= fs or (iv == "7.5" and TASK_FEATURES_75 <= fs)):
                        fails[16] += 1
                    if "Web-Filtering" not in fs:
                        fails[17] += 1
                rf = iis.get("request_filtering")
                if rf is None:
                    unknown[18] += 1
                    unknown[19] += 1
                else:
                    mqs = rf.get("max_query_string")
                    if mqs is None:
                        unknown[18] += 1
                    elif mqs < 2048:
                        fails[18] += 1
                    allowed = rf.get("allowed_verbs") or ()
                    denied = rf.get("denied_verbs") or ()
                    unlisted = rf.get("allow_unlisted_verbs")
                    for verb in NEEDED_VERBS:
                        if verb in denied or (unlisted is False and verb not in allowed):
                            fails[19] += 1
                            break
            # 20-26 hardware and package store
            mem = hw.get("memory_mb")
            if mem is None:
                unknown[20] += 1
            elif mem < 8192:
                fails[20] += 1
            if is_task and endpoints is not None and endpoints > 5000:
                if mem is None:
                    unknown[21] += 1
                elif mem < 16384:
                    fails[21] += 1
            if is_task:
                lp = hw.get("logical_processors")
                if lp is None:
                    unknown[22] += 1
                elif lp < 4:
                    fails[22] += 1
            v = hw.get("system_drive_free_gb")
            if v is None:
                unknown[23] += 1
            elif v < 10:
                fails[23] += 1
            if is_pkg:
                v = hw.get("package_store_free_gb")
                if v is None:
                    unknown[24] += 1
                elif v < 20:
                    fails[24] += 1
                v = store.get("fixed_media")
                if v is None:
                    unknown[25] += 1
                elif v is not True:
                    fails[25] += 1
                # KB 416632 is about a custom location; the default store
                # (<agent install dir>\Package Delivery) is exempt
                v = store.get("in_known_folder")
                if v is None:
                    unknown[26] += 1
                elif v and not (store.get("path") or "").endswith(DEFAULT_STORE_SUFFIX):
                    fails[26] += 1
            # 27-31 capacity
            if is_task:
                if endpoints is None:
                    unknown[27] += 1
                    unknown[28] += 1
                else:
                    if endpoints > 15000:
                        fails[27] += 1
                    if endpoints > 5000:
                        fails[28] += 1
            if desktop is None:
                unknown[29] += 1
                unknown[30] += 1
            elif desktop:
                if endpoints is None:
                    unknown[29] += 1
                elif endpoints > 20:
                    fails[29] += 1
                cc = load.get("concurrent_connections")
                if cc is None:
                    unknown[30] += 1
                elif cc > 10:
                    fails[30] += 1
            if ident.get("is_notification_server"):
                if endpoints is None:
                    unknown[31] += 1
                elif endpoints > 100:
                    fails[31] += 1
            # 32-33 site services
            if not ss:
                unknown[32] += 1
            elif not installed.isdisjoint(planned):
                fails[32] += 1
            if installed_list:
                if av is None:
                    unknown[33] += 1
                else:
                    for s in installed_list:
                        if s.get("version") != av:
                            fails[33] += 1
                            break
            # 34-35 platform
            if itms is None:
                unknown[34] += 1
            elif itms not in KNOWN_ITMS:
                fails[34] += 1
            ig = plat.get("internet_gateway_version")
            if ig is not None and itms is not None and ig != itms:
                fails[35] += 1
        except (TypeError, ValueError, AttributeError, KeyError):
            invalid += 1
    dt = time.perf_counter() - t0
    return hosts, rejected, invalid, fails, unknown, dt


def failing_pairs(path: str) -> tuple[set[tuple[int, str]], set[int]]:
    """The loop's verdicts per host: every (line number, check name) that fails, and
    the line numbers of the hosts it gave up on at a wrong-typed fact (their later
    checks never ran). Line numbers count from 1, as sitegate's reports do."""
    pairs: set[tuple[int, str]] = set()
    gave_up: set[int] = set()
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            _, _, invalid, fails, _, _ = run_lines((line,))
            if invalid:
                gave_up.add(lineno)
            pairs.update((lineno, CHECKS[i]) for i, n in enumerate(fails) if n)
    return pairs, gave_up


def parse_only(path: str) -> tuple[int, float]:
    """Read and orjson-parse every line, nothing else: the floor under any evaluator."""
    n = 0
    loads = orjson.loads
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        for line in fh:
            try:
                loads(line)
            except orjson.JSONDecodeError:
                pass
            n += 1
    return n, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="hand-written readiness loop over a JSONL fleet (speed yardstick)")
    ap.add_argument("fleet")
    ap.add_argument("--parse-only-too", action="store_true", help="also time a read+parse-only pass")
    ap.add_argument("--quiet", action="store_true", help="omit the per-check table")
    args = ap.parse_args(argv)

    if args.parse_only_too:
        n, dt = parse_only(args.fleet)
        print(f"parse only: {n} lines in {dt:.2f}s = {n / dt:,.0f} lines/s")
    hosts, rejected, invalid, fails, unknown, dt = run(args.fleet)
    print(f"hosts: {hosts} (rejected lines: {rejected}, hosts with wrong-typed facts: {invalid})")
    print(f"checks: {N}")
    print(f"seconds: {dt:.2f}")
    print(f"hosts/s: {hosts / dt if dt else 0:,.0f}")
    if not args.quiet:
        print(f"{'check':28s} {'fail':>8s} {'unknown':>8s}")
        for name, f, u in zip(CHECKS, fails, unknown):
            print(f"{name:28s} {f:8d} {u:8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
