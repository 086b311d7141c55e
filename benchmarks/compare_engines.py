#!/usr/bin/env python3
"""Time other policy / validation engines on the 36 checks of baseline_loop.py.

The question: what would a user pick instead of sitegate, and how fast is it on
the same work? Every engine here reads the same JSONL fleet, parses each line
with orjson (skipping lines that are not JSON objects with a ``name``, as
``baseline_loop.py`` does), evaluates every check on every host in-process from
Python and counts fails per check. Wall time (``time.perf_counter``) covers
read + parse + evaluate + count; compiling the checks is timed separately.

Engines (none is a sitegate dependency; install them into a separate venv)::

    python3 -m venv /tmp/cmp-venv
    /tmp/cmp-venv/bin/pip install orjson fastjsonschema jsonschema-rs \\
        common-expression-language cel-python gordon-to-regorus
    /tmp/cmp-venv/bin/python benchmarks/compare_engines.py /tmp/bench/fleet-250000.jsonl \\
        [--hosts N] [--engines baseline,cel-rust,...] [--celpy-hosts 10000] \\
        [--check-hosts 20000] [--repeat 3] [--dump DIR]

``--engines`` takes any of: baseline, fastjsonschema, jsonschema-rs,
jsonschema-rs-allof, cel-rust, cel-rust-list, cel-python, regorus,
regorus-rvm, opa.
An engine whose module does not import is skipped with the reason.

How each engine reports "which checks fail on this host":

- fastjsonschema: one compiled validator per check (it raises on the first
  error, so one schema for all checks cannot say which checks fail); a fail is
  a ``JsonSchemaValueException``. JSON Schema is pass/fail only: no unknowns.
- jsonschema-rs: the same 36 schemas, one ``Draft7Validator.is_valid`` per
  check; ``jsonschema-rs-allof`` puts them under one ``allOf`` and maps each
  error of ``iter_errors`` to its check by ``schema_path[1]``.
- cel-rust (PyPI ``common-expression-language``, module ``cel``): one compiled
  program per check returning 0 pass / 1 fail / 2 unknown, executed against one
  ``cel.Context`` per host; ``cel-rust-list`` compiles the 36 expressions into
  one program returning a list of 36 codes.
- cel-python (``celpy``, pure Python): the same CEL programs; slow, so it runs
  on the first ``--celpy-hosts`` lines and its time is extrapolated to the full
  host count (labelled as such).
- regorus (Microsoft's Rust Rego interpreter; the ``regorus`` distribution is
  not in the reachable index, so the ``gordon-to-regorus`` build of it is used,
  module ``regorus``): ``engines/checks.rego`` plus the reference tables as data,
  ``set_input`` + ``eval_rule("data.sitegate.checks.result")`` per host;
  ``regorus-rvm`` compiles the same policy to regorus' RVM bytecode
  (``Program.compile_from_modules``) and runs ``set_input_json`` + ``execute``.
- opa: Open Policy Agent itself is Go; in-process from Python it needs a policy
  compiled to Wasm with the ``opa`` CLI plus a Wasm runtime. Reported as "not
  measured" with the reason when either is missing.

Expressiveness (see ``APPROXIMATIONS``): CEL and Rego express all 36 checks
exactly. JSON Schema has no cross-field comparison and no numeric parsing of
strings, so five checks are approximated by enumeration or generated regexes
(exact on this fleet's vocabulary) and truthiness is written as ``== true``.

Sanity check: the per-check fail (and unknown) counts of each engine are compared
exactly with ``baseline_loop.run`` on the well-typed hosts among the first
``--check-hosts`` lines (hosts whose facts have the types the checks expect;
the loop gives up on a host at the first TypeError, which no engine mimics).
The full-run counts are printed too, with differences from the loop.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline_loop as bl  # noqa: E402
from run_benchmark import cpu_model  # noqa: E402  (one machine description for both benchmarks)

CHECKS: tuple[str, ...] = bl.CHECKS
N = len(CHECKS)
INDEX = {name: i for i, name in enumerate(CHECKS)}
REGO_POLICY = HERE / "engines" / "checks.rego"

# The role and agent-build vocabularies of generate_fleet.py, for JSON Schema's
# enumerations of cross-field checks.
ROLES = ("task", "package", "network_boot", "monitor")
AGENT_BUILDS = tuple(".".join(map(str, v)) for v in bl.AGENT_MIN.values())
SERVER_TO_DESKTOP = {server: desktop for desktop, server in bl.DESKTOP_NAMES.items()}

APPROXIMATIONS: dict[str, str] = {
    "json-schema": (
        "pass/fail only (no unknown counts). Not expressible, approximated: "
        "agent_version_supported (vtuple(agent) >= table[itms]: one generated "
        "version->=regex per ITMS version in the table), dotnet_48_from_871 "
        "(vtuple(itms) >= 8.7.1: generated regex), iis_version_85_plus "
        "(float(version) >= 8.5: regex over plain decimals), service_not_installed "
        "(installed & planned: enumerated over the 4 known roles), "
        "service_version_matches (installed versions == agent.version: enumerated "
        "over the 8 known agent builds), ig_version_matches (ig == itms: enumerated "
        "over the 8 known ITMS versions). Truthiness (cem_mode, unc_codebases, "
        "iis.installed, is_notification_server, in_known_folder) written as == true."
    ),
    "cel": (
        "all 36 expressed, 0 pass / 1 fail / 2 unknown. CEL has no string split "
        "(neither cel-rust nor celpy ships the strings extension), so the two "
        "version comparisons (agent_version_supported, dotnet_48_from_871) use "
        "the same generated version->=regex with matches(); truthiness written "
        "as == true; numbers compared as double() where facts are floats."
    ),
    "rego": (
        "all 36 expressed exactly (split/to_number version tuples, set "
        "intersection, cross-field equality); truthiness written as == true."
    ),
}


# --------------------------------------------------------------------------
# Machine, versions, input
# --------------------------------------------------------------------------


def dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def module_dist(module: str) -> str:
    """The installed distribution that provides ``module`` (e.g. regorus -> gordon-to-regorus)."""
    dists = importlib.metadata.packages_distributions().get(module) or []
    return dists[0] if dists else module


def head_file(src: str, n: int, tmpdir: str, tag: str) -> str:
    """Copy the first n lines of src to a file in tmpdir; returns its path."""
    out = os.path.join(tmpdir, f"{tag}-{n}.jsonl")
    count = 0
    with open(src, "rb") as fh, open(out, "wb") as wh:
        for line in fh:
            if count >= n:
                break
            wh.write(line)
            count += 1
    return out


def iter_hosts(path: str) -> Iterator[dict[str, Any]]:
    """orjson-parse every line; yield host objects, skip the rest (like baseline_loop)."""
    loads = orjson.loads
    error = orjson.JSONDecodeError
    with open(path, "rb") as fh:
        for line in fh:
            try:
                h = loads(line)
            except error:
                continue
            if type(h) is dict and "name" in h:
                yield h


# --------------------------------------------------------------------------
# Well-typed hosts (the exact sanity comparison runs on these)
# --------------------------------------------------------------------------

Kind = str  # "bool" | "int" | "num" | "str" | "strs" | "obj"
FACT_TYPES: dict[str, dict[str, Kind]] = {
    "agent": {"version": "str", "managed": "bool", "local": "bool", "asset_status": "str",
              "cem_mode": "bool", "acc_configured": "bool"},
    "os": {"architecture": "str", "build": "int", "product_type": "str"},
    "dotnet": {"release": "int"},
    "iis": {"installed": "bool", "version": "str", "features": "strs", "request_filtering": "obj"},
    "hardware": {"memory_mb": "int", "logical_processors": "int", "system_drive_free_gb": "num",
                 "package_store_free_gb": "num"},
    "package_store": {"unc_codebases": "bool", "fixed_media": "bool", "in_known_folder": "bool", "path": "str"},
    "load": {"endpoints": "int", "concurrent_connections": "int"},
    "identity": {"is_notification_server": "bool"},
    "site_services": {"installed": "obj", "planned": "strs"},
    "platform": {"itms_version": "str", "internet_gateway_version": "str"},
}
RF_TYPES: dict[str, Kind] = {"max_query_string": "int", "allowed_verbs": "strs", "denied_verbs": "strs",
                             "allow_unlisted_verbs": "bool"}
ITMS_RE = re.compile(r"\d+(\.\d+)*")


def _kind_ok(v: Any, kind: Kind) -> bool:
    if kind == "bool":
        return type(v) is bool
    if kind == "int":
        return type(v) is int
    if kind == "num":
        return type(v) in (int, float)
    if kind == "str":
        return type(v) is str
    if kind == "strs":
        return type(v) is list and all(type(x) is str for x in v)
    return type(v) in (dict, list)


def well_typed(h: dict[str, Any]) -> bool:
    """Every fact a check reads is absent or has the JSON type the checks expect (no nulls)."""
    for group, keys in FACT_TYPES.items():
        if group not in h:
            continue
        g = h[group]
        if type(g) is not dict:
            return False
        for key, kind in keys.items():
            if key in g and not _kind_ok(g[key], kind):
                return False
    rf = (h.get("iis") or {}).get("request_filtering")
    if rf is not None and (type(rf) is not dict or any(k in rf and not _kind_ok(rf[k], t) for k, t in RF_TYPES.items())):
        return False
    inst = (h.get("site_services") or {}).get("installed")
    if inst is not None and (type(inst) is not list or not all(
            type(s) is dict and type(s.get("service")) is str and type(s.get("version", "")) is str for s in inst)):
        return False
    for key in ("itms_version", "internet_gateway_version"):
        v = (h.get("platform") or {}).get(key)
        if v is not None and not ITMS_RE.fullmatch(v):
            return False
    return True


def clean_file(src: str, n: int, tmpdir: str) -> tuple[str, int]:
    """Well-typed host lines among the first n lines of src; returns (path, hosts)."""
    out = os.path.join(tmpdir, f"clean-{n}.jsonl")
    kept = 0
    loads = orjson.loads
    with open(src, "rb") as fh, open(out, "wb") as wh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            try:
                h = loads(line)
            except orjson.JSONDecodeError:
                continue
            if type(h) is dict and "name" in h and well_typed(h):
                wh.write(line)
                kept += 1
    return out, kept


# --------------------------------------------------------------------------
# Generated regexes (for JSON Schema and CEL, which cannot split a version)
# --------------------------------------------------------------------------


def _int_gt(k: int) -> str:
    """Regex for a decimal integer (no leading zeros) greater than k."""
    s = str(k)
    alts = [rf"[1-9][0-9]{{{len(s)},}}"]  # more digits
    for i, ch in enumerate(s):
        d = int(ch)
        lo = d + 1
        if lo > 9 or (i == 0 and lo == 0):
            continue
        rest = len(s) - i - 1
        alts.append(s[:i] + (f"[{lo}-9]" if lo < 9 else "9") + (rf"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(alts) + ")"


def version_ge_regex(minimum: Sequence[int]) -> str:
    """Regex for dotted versions v with tuple(int(p) for p in v.split(".")) >= minimum.

    Python tuple order: a longer version with the minimum as prefix is greater,
    a proper prefix is smaller. Components are assumed to have no leading zeros.
    """
    alts = []
    for i in range(len(minimum)):
        prefix = "".join(rf"{p}\." for p in minimum[:i])
        alts.append(prefix + _int_gt(minimum[i]) + r"(?:\.[0-9]+)*")
    alts.append(r"\.".join(map(str, minimum)) + r"(?:\.[0-9]+)*")
    return "^(?:" + "|".join(alts) + ")$"


# float(iis.version) >= 8.5 for plain decimals without leading zeros or exponent
IIS_GE_85 = r"^(?:[1-9][0-9]+(?:\.[0-9]*)?|9(?:\.[0-9]*)?|8\.[5-9][0-9]*)$"
GE_871 = version_ge_regex(bl.ITMS_871)
AGENT_GE = {itms: version_ge_regex(v) for itms, v in bl.AGENT_MIN.items()}


def _regex_escape(s: str) -> str:
    """Escape regex metacharacters only (portable across Python re, Rust regex and ECMA)."""
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", s)


def self_test_regexes() -> None:
    import random

    rng = random.Random(7)
    cases = ["8.7.1", "8.7", "8.7.0", "8.7.1.0", "8.6.9", "8.10", "9", "10.0", "8.7.10", "7.99.99"]
    for _ in range(3000):
        cases.append(".".join(str(rng.choice([0, 1, 5, 8, 9, 10, 99, 1000, 1287, 3264, 5032, 9999, 12345]))
                              for _ in range(rng.randint(1, 5))))
    targets = [bl.ITMS_871, *bl.AGENT_MIN.values()]
    for t in targets:
        rx = re.compile(version_ge_regex(t))
        for c in cases:
            assert bool(rx.match(c)) == (bl.vtuple(c) >= t), (t, c)
    rx = re.compile(IIS_GE_85)
    for c in ("7.5", "8.0", "8.5", "8.50", "8.49", "8", "9", "9.", "10.0", "85", "6.0", "100.1"):
        assert bool(rx.match(c)) == (float(c) >= 8.5), c


# --------------------------------------------------------------------------
# JSON Schema (draft-07): one schema per check, valid <=> the check does not fail
# --------------------------------------------------------------------------

Schema = dict[str, Any]


def at(path: Sequence[str], sub: Schema) -> Schema:
    """sub applies to the value at path when it is present (absent: valid)."""
    s = sub
    for key in reversed(path):
        s = {"properties": {key: s}}
    return s


def has(path: Sequence[str], sub: Schema | None = None) -> Schema:
    """The value at path is present (every level an object) and matches sub."""
    s: Schema = dict(sub or {})
    for key in reversed(path):
        s = {"type": "object", "required": [key], "properties": {key: s}}
    return s


def when(cond: Schema | list[Schema], then: Schema) -> Schema:
    if isinstance(cond, list):
        cond = cond[0] if len(cond) == 1 else {"allOf": cond}
    return {"if": cond, "then": then}


def all_of(*schemas: Schema) -> Schema:
    return schemas[0] if len(schemas) == 1 else {"allOf": list(schemas)}


def feature(name: str) -> Schema:
    """Array contains the Server Manager name or its desktop alias."""
    alias = SERVER_TO_DESKTOP.get(name)
    return {"contains": {"enum": [name, alias] if alias else [name]}}


def features_all(names: Iterable[str]) -> Schema:
    return {"allOf": [feature(n) for n in sorted(names)]}


IS_TASK: Schema = {"anyOf": [
    has(["site_services", "installed"], {"type": "array", "contains": has(["service"], {"const": "task"})}),
    has(["site_services", "planned"], {"type": "array", "contains": {"const": "task"}}),
]}
IS_PKG: Schema = {"anyOf": [
    has(["site_services", "installed"], {"type": "array", "contains": has(["service"], {"const": "package"})}),
    has(["site_services", "planned"], {"type": "array", "contains": {"const": "package"}}),
]}
IIS_ON = has(["iis", "installed"], {"const": True})
WORKSTATION = has(["os", "product_type"], {"const": "workstation"})


def json_schemas() -> list[Schema]:
    """The 36 checks, in CHECKS order."""
    d: dict[str, Schema] = {
        "managed": at(["agent", "managed"], {"const": True}),
        "local": at(["agent", "local"], {"const": True}),
        "asset_active": at(["agent", "asset_status"], {"const": "active"}),
        "cem_disabled": at(["agent", "cem_mode"], {"not": {"const": True}}),
        "agent_version_supported": all_of(*[
            when(has(["platform", "itms_version"], {"const": itms}),
                 at(["agent", "version"], {"pattern": rx}))
            for itms, rx in AGENT_GE.items()]),
        "acc_for_unc_codebases": when(has(["package_store", "unc_codebases"], {"const": True}),
                                      at(["agent", "acc_configured"], {"const": True})),
        "arch_x64": at(["os", "architecture"], {"const": "x64"}),
        "os_build_supported": all_of(
            when(WORKSTATION, at(["os", "build"], {"enum": sorted(bl.DESKTOP_BUILDS)})),
            when(has(["os", "product_type"], {"not": {"const": "workstation"}}),
                 at(["os", "build"], {"enum": sorted(bl.SERVER_BUILDS)}))),
        "os_not_legacy": at(["os", "build"], {"not": {"enum": sorted(bl.LEGACY_BUILDS)}}),
        "product_type_known": at(["os", "product_type"], {"enum": ["workstation", "server", "domain_controller"]}),
        "not_domain_controller": at(["os", "product_type"], {"not": {"const": "domain_controller"}}),
        "dotnet_48_from_871": when(has(["platform", "itms_version"], {"type": "string", "pattern": GE_871}),
                                   at(["dotnet", "release"], {"minimum": 528040})),
        "dotnet_supported_by_ms": at(["dotnet", "release"], {"minimum": 394802}),
        "iis_installed": when({"anyOf": [IS_TASK, IS_PKG]}, at(["iis", "installed"], {"const": True})),
        "iis_version_85_plus": when(IIS_ON, at(["iis", "version"], {"pattern": IIS_GE_85})),
        "package_iis_features": when([IIS_ON, IS_PKG], at(["iis", "features"], features_all(bl.PACKAGE_FEATURES))),
        "task_iis_features": when([IIS_ON, IS_TASK], at(["iis"], {"anyOf": [
            {"properties": {"features": features_all(bl.TASK_FEATURES)}},
            {"required": ["version"], "properties": {"version": {"const": "7.5"},
                                                     "features": features_all(bl.TASK_FEATURES_75)}},
        ]})),
        "request_filtering_feature": when(IIS_ON, at(["iis", "features"], feature("Web-Filtering"))),
        "max_query_string_2048": when(IIS_ON, at(["iis", "request_filtering", "max_query_string"],
                                                 {"minimum": 2048})),
        "verbs_get_post_head": when(IIS_ON, at(["iis", "request_filtering"], all_of(
            at(["denied_verbs"], {"not": {"contains": {"enum": list(bl.NEEDED_VERBS)}}}),
            when(has(["allow_unlisted_verbs"], {"const": False}),
                 {"required": ["allowed_verbs"], "properties": {"allowed_verbs": {
                     "allOf": [{"contains": {"const": v}} for v in bl.NEEDED_VERBS]}}}),
        ))),
        "memory_8g": at(["hardware", "memory_mb"], {"minimum": 8192}),
        "memory_16g_big_task": when([IS_TASK, has(["load", "endpoints"], {"type": "number", "exclusiveMinimum": 5000})],
                                    at(["hardware", "memory_mb"], {"minimum": 16384})),
        "logical_procs_4_task": when(IS_TASK, at(["hardware", "logical_processors"], {"minimum": 4})),
        "system_drive_10g": at(["hardware", "system_drive_free_gb"], {"minimum": 10}),
        "package_store_20g": when(IS_PKG, at(["hardware", "package_store_free_gb"], {"minimum": 20})),
        "package_store_fixed": when(IS_PKG, at(["package_store", "fixed_media"], {"const": True})),
        "package_store_not_known": when([IS_PKG, has(["package_store", "in_known_folder"], {"const": True})],
                                        at(["package_store"], {"required": ["path"], "properties": {"path": {
                                            "pattern": _regex_escape(bl.DEFAULT_STORE_SUFFIX) + "$"}}})),
        "task_endpoints_15000": when(IS_TASK, at(["load", "endpoints"], {"maximum": 15000})),
        "task_endpoints_5000": when(IS_TASK, at(["load", "endpoints"], {"maximum": 5000})),
        "desktop_endpoints_20": when(WORKSTATION, at(["load", "endpoints"], {"maximum": 20})),
        "desktop_connections_10": when(WORKSTATION, at(["load", "concurrent_connections"], {"maximum": 10})),
        "ns_task_clients_100": when(has(["identity", "is_notification_server"], {"const": True}),
                                    at(["load", "endpoints"], {"maximum": 100})),
        "service_not_installed": all_of(*[
            {"not": all_of(
                has(["site_services", "installed"], {"type": "array", "contains": has(["service"], {"const": r})}),
                has(["site_services", "planned"], {"type": "array", "contains": {"const": r}}))}
            for r in ROLES]),
        "service_version_matches": all_of(*[
            when(has(["agent", "version"], {"const": v}),
                 at(["site_services", "installed"], {"items": {
                     "required": ["version"], "properties": {"version": {"const": v}}}}))
            for v in AGENT_BUILDS]),
        "itms_version_known": at(["platform", "itms_version"], {"enum": sorted(bl.KNOWN_ITMS)}),
        "ig_version_matches": all_of(*[
            when(has(["platform", "itms_version"], {"const": v}),
                 at(["platform", "internet_gateway_version"], {"const": v}))
            for v in sorted(bl.KNOWN_ITMS)]),
    }
    assert tuple(d) == CHECKS, "JSON Schema checks out of order"
    draft = "http://json-schema.org/draft-07/schema#"
    return [{"$schema": draft, "title": name, **s} for name, s in d.items()]


# --------------------------------------------------------------------------
# CEL: one expression per check -> 0 pass (or not applicable), 1 fail, 2 unknown
# --------------------------------------------------------------------------


def cel_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cel_list(values: Sequence[Any]) -> str:
    return "[" + ", ".join(cel_str(v) if isinstance(v, str) else str(v) for v in values) + "]"


def H(group: str, key: str) -> str:
    """Presence test for h.group.key."""
    return f"(has(h.{group}) && has(h.{group}.{key}))"


def status(unknown: str, fail: str, applies: str | None = None) -> str:
    body = f"({unknown}) ? 2 : (({fail}) ? 1 : 0)"
    return f"({applies}) ? ({body}) : 0" if applies else body


def cel_role(role: str) -> str:
    return (f"({H('site_services', 'installed')} && h.site_services.installed.exists(s, s.service == {cel_str(role)}))"
            f" || ({H('site_services', 'planned')} && {cel_str(role)} in h.site_services.planned)")


def cel_feature(name: str) -> str:
    alias = SERVER_TO_DESKTOP.get(name)
    test = f"{cel_str(name)} in h.iis.features"
    return f"({test} || {cel_str(alias)} in h.iis.features)" if alias else test


def cel_features_all(names: Iterable[str]) -> str:
    return "(" + " && ".join(cel_feature(n) for n in sorted(names)) + ")"


def cel_expressions() -> list[str]:
    """The 36 checks, in CHECKS order."""
    task = f"({cel_role('task')})"
    pkg = f"({cel_role('package')})"
    itms_ok = H("platform", "itms_version")
    itms = "h.platform.itms_version"
    iis_on = f"({H('iis', 'installed')} && h.iis.installed == true)"
    ptype = H("os", "product_type")
    desktop = 'h.os.product_type == "workstation"'
    mem = "h.hardware.memory_mb"
    ep = "h.load.endpoints"
    rf = "h.iis.request_filtering"
    agent_ge = " : ".join(f"{itms} == {cel_str(k)} ? !h.agent.version.matches({cel_str(rx)})"
                          for k, rx in AGENT_GE.items()) + " : false"
    verbs = (f"{cel_list(bl.NEEDED_VERBS)}.exists(v, (has({rf}.denied_verbs) && v in {rf}.denied_verbs)"
             f" || (has({rf}.allow_unlisted_verbs) && {rf}.allow_unlisted_verbs == false"
             f" && !(has({rf}.allowed_verbs) && v in {rf}.allowed_verbs)))")
    ss_empty = "(!has(h.site_services) || size(h.site_services) == 0)"
    inst = "h.site_services.installed"
    d: dict[str, str] = {
        "managed": status(f"!{H('agent', 'managed')}", "h.agent.managed != true"),
        "local": status(f"!{H('agent', 'local')}", "h.agent.local != true"),
        "asset_active": status(f"!{H('agent', 'asset_status')}", 'h.agent.asset_status != "active"'),
        "cem_disabled": status(f"!{H('agent', 'cem_mode')}", "h.agent.cem_mode == true"),
        "agent_version_supported": status(
            f"!{H('agent', 'version')} || !{itms_ok} || !({itms} in {cel_list(list(bl.AGENT_MIN))})", agent_ge),
        "acc_for_unc_codebases": status(f"!{H('agent', 'acc_configured')}", "h.agent.acc_configured == false",
                                        f"{H('package_store', 'unc_codebases')} && h.package_store.unc_codebases == true"),
        "arch_x64": status(f"!{H('os', 'architecture')}", 'h.os.architecture != "x64"'),
        "os_build_supported": status(
            f"!{H('os', 'build')} || !{ptype}",
            f"!(h.os.build in ({desktop} ? {cel_list(sorted(bl.DESKTOP_BUILDS))} : {cel_list(sorted(bl.SERVER_BUILDS))}))"),
        "os_not_legacy": status(f"!{H('os', 'build')}", f"h.os.build in {cel_list(sorted(bl.LEGACY_BUILDS))}"),
        "product_type_known": status(f"!{ptype}",
                                     '!(h.os.product_type in ["workstation", "server", "domain_controller"])'),
        "not_domain_controller": status(f"!{ptype}", 'h.os.product_type == "domain_controller"'),
        "dotnet_48_from_871": (
            f"!{itms_ok} ? 2 : ({itms}.matches({cel_str(GE_871)}) ? "
            f"(!{H('dotnet', 'release')} ? 2 : (h.dotnet.release < 528040 ? 1 : 0)) : 0)"),
        "dotnet_supported_by_ms": status(f"!{H('dotnet', 'release')}", "h.dotnet.release < 394802"),
        "iis_installed": status(f"!{H('iis', 'installed')}", "h.iis.installed != true", f"{task} || {pkg}"),
        "iis_version_85_plus": status(f"!{H('iis', 'version')}", "double(h.iis.version) < 8.5", iis_on),
        "package_iis_features": status(f"!{H('iis', 'features')}", f"!{cel_features_all(bl.PACKAGE_FEATURES)}",
                                       f"{iis_on} && {pkg}"),
        "task_iis_features": status(
            f"!{H('iis', 'features')}",
            f"!({cel_features_all(bl.TASK_FEATURES)} || (has(h.iis.version) && h.iis.version == \"7.5\" && "
            f"{cel_features_all(bl.TASK_FEATURES_75)}))",
            f"{iis_on} && {task}"),
        "request_filtering_feature": status(f"!{H('iis', 'features')}", f"!{cel_feature('Web-Filtering')}", iis_on),
        "max_query_string_2048": status(f"!{H('iis', 'request_filtering')} || !has({rf}.max_query_string)",
                                        f"{rf}.max_query_string < 2048", iis_on),
        "verbs_get_post_head": status(f"!{H('iis', 'request_filtering')}", verbs, iis_on),
        "memory_8g": status(f"!{H('hardware', 'memory_mb')}", f"{mem} < 8192"),
        "memory_16g_big_task": status(f"!{H('hardware', 'memory_mb')}", f"{mem} < 16384",
                                      f"{task} && {H('load', 'endpoints')} && {ep} > 5000"),
        "logical_procs_4_task": status(f"!{H('hardware', 'logical_processors')}",
                                       "h.hardware.logical_processors < 4", task),
        "system_drive_10g": status(f"!{H('hardware', 'system_drive_free_gb')}",
                                   "double(h.hardware.system_drive_free_gb) < 10.0"),
        "package_store_20g": status(f"!{H('hardware', 'package_store_free_gb')}",
                                    "double(h.hardware.package_store_free_gb) < 20.0", pkg),
        "package_store_fixed": status(f"!{H('package_store', 'fixed_media')}",
                                      "h.package_store.fixed_media != true", pkg),
        "package_store_not_known": status(
            f"!{H('package_store', 'in_known_folder')}",
            "h.package_store.in_known_folder == true && !(has(h.package_store.path) && "
            f"h.package_store.path.endsWith({cel_str(bl.DEFAULT_STORE_SUFFIX)}))", pkg),
        "task_endpoints_15000": status(f"!{H('load', 'endpoints')}", f"{ep} > 15000", task),
        "task_endpoints_5000": status(f"!{H('load', 'endpoints')}", f"{ep} > 5000", task),
        "desktop_endpoints_20": (f"!{ptype} ? 2 : (({desktop}) ? "
                                 f"(!{H('load', 'endpoints')} ? 2 : ({ep} > 20 ? 1 : 0)) : 0)"),
        "desktop_connections_10": (f"!{ptype} ? 2 : (({desktop}) ? (!{H('load', 'concurrent_connections')} ? 2 : "
                                   "(h.load.concurrent_connections > 10 ? 1 : 0)) : 0)"),
        "ns_task_clients_100": status(f"!{H('load', 'endpoints')}", f"{ep} > 100",
                                      f"{H('identity', 'is_notification_server')} && "
                                      "h.identity.is_notification_server == true"),
        "service_not_installed": status(
            ss_empty,
            f"{H('site_services', 'installed')} && {H('site_services', 'planned')} && "
            f"{inst}.exists(s, s.service in h.site_services.planned)"),
        "service_version_matches": status(
            f"!{H('agent', 'version')}",
            f"{inst}.exists(s, !has(s.version) || s.version != h.agent.version)",
            f"{H('site_services', 'installed')} && size({inst}) > 0"),
        "itms_version_known": status(f"!{itms_ok}", f"!({itms} in {cel_list(sorted(bl.KNOWN_ITMS))})"),
        "ig_version_matches": (f"({H('platform', 'internet_gateway_version')} && {itms_ok} && "
                               f"h.platform.internet_gateway_version != {itms}) ? 1 : 0"),
    }
    assert tuple(d) == CHECKS, "CEL checks out of order"
    return list(d.values())


# --------------------------------------------------------------------------
# Runners
# --------------------------------------------------------------------------


@dataclass
class Result:
    hosts: int = 0
    seconds: float = 0.0
    fails: list[int] = field(default_factory=lambda: [0] * N)
    unknown: list[int] | None = field(default_factory=lambda: [0] * N)
    errors: int = 0  # hosts on which some check raised / returned an error
    rejected: int = 0
    invalid: int = 0  # baseline only: hosts it gave up on (TypeError etc.)


Runner = Callable[[str], Result]


@dataclass
class Engine:
    name: str
    module: str
    what: str
    approx: str  # key of APPROXIMATIONS or ""
    build: Callable[[], Runner] | None  # None: cannot run (reason in ``missing``)
    max_hosts: int | None = None  # run on the first N lines only and extrapolate
    max_check_hosts: int | None = None  # cap on the lines of the exact comparison (slow engines)
    missing: str = ""


def build_baseline() -> Runner:
    def run(path: str) -> Result:
        hosts, rejected, invalid, fails, unknown, dt = bl.run(path)
        return Result(hosts, dt, fails, unknown, 0, rejected, invalid)
    return run


def build_fastjsonschema() -> Runner:
    import fastjsonschema

    validators = [(i, fastjsonschema.compile(s)) for i, s in enumerate(json_schemas())]
    exc = fastjsonschema.JsonSchemaValueException

    def run(path: str) -> Result:
        r = Result(unknown=None)
        fails = r.fails
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            for i, validate in validators:
                try:
                    validate(h)
                except exc:
                    fails[i] += 1
        r.seconds = time.perf_counter() - t0
        return r
    return run


def build_jsonschema_rs() -> Runner:
    import jsonschema_rs

    validators = [(i, jsonschema_rs.Draft7Validator(s).is_valid) for i, s in enumerate(json_schemas())]

    def run(path: str) -> Result:
        r = Result(unknown=None)
        fails = r.fails
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            for i, is_valid in validators:
                if not is_valid(h):
                    fails[i] += 1
        r.seconds = time.perf_counter() - t0
        return r
    return run


def build_jsonschema_rs_allof() -> Runner:
    import jsonschema_rs

    schemas = json_schemas()
    one = {"$schema": schemas[0]["$schema"], "allOf": [{k: v for k, v in s.items() if k != "$schema"}
                                                       for s in schemas]}
    iter_errors = jsonschema_rs.Draft7Validator(one).iter_errors

    def run(path: str) -> Result:
        r = Result(unknown=None)
        fails = r.fails
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            failed = {e.schema_path[1] for e in iter_errors(h)}
            for i in failed:
                fails[i] += 1  # type: ignore[index]
        r.seconds = time.perf_counter() - t0
        return r
    return run


def _count_codes(r: Result, codes: Sequence[int]) -> None:
    fails, unknown = r.fails, r.unknown
    assert unknown is not None
    for i, c in enumerate(codes):
        if c == 1:
            fails[i] += 1
        elif c == 2:
            unknown[i] += 1


def build_cel_rust() -> Runner:
    import cel

    programs = [(i, cel.compile(src).execute) for i, src in enumerate(cel_expressions())]
    Context = cel.Context

    def run(path: str) -> Result:
        r = Result()
        fails, unknown = r.fails, r.unknown
        assert unknown is not None
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            ctx = Context({"h": h})
            err = False
            for i, execute in programs:
                try:
                    c = execute(ctx)
                except Exception:  # CEL runtime error (e.g. no such overload on a wrongly typed fact)
                    err = True
                    continue
                if c == 1:
                    fails[i] += 1
                elif c == 2:
                    unknown[i] += 1
            r.errors += err
        r.seconds = time.perf_counter() - t0
        return r
    return run


def build_cel_rust_list() -> Runner:
    import cel

    execute = cel.compile("[" + ",\n".join(cel_expressions()) + "]").execute
    Context = cel.Context

    def run(path: str) -> Result:
        r = Result()
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            try:
                codes = execute(Context({"h": h}))
            except Exception:  # one error loses the whole host's list
                r.errors += 1
                continue
            _count_codes(r, codes)
        r.seconds = time.perf_counter() - t0
        return r
    return run


def build_cel_python() -> Runner:
    import logging

    import celpy
    from celpy.adapter import json_to_cel
    from celpy.evaluation import CELEvalError

    logging.getLogger("celpy").setLevel(logging.ERROR)
    env = celpy.Environment()
    programs = [(i, env.program(env.compile(src)).evaluate) for i, src in enumerate(cel_expressions())]

    def run(path: str) -> Result:
        r = Result()
        fails, unknown = r.fails, r.unknown
        assert unknown is not None
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            activation = {"h": json_to_cel(h)}
            err = False
            for i, evaluate in programs:
                try:
                    c = evaluate(activation)
                except CELEvalError:
                    err = True
                    continue
                if isinstance(c, CELEvalError):
                    err = True
                elif c == 1:
                    fails[i] += 1
                elif c == 2:
                    unknown[i] += 1
            r.errors += err
        r.seconds = time.perf_counter() - t0
        return r
    return run


def rego_tables() -> dict[str, Any]:
    return {"tables": {
        "server_builds": sorted(bl.SERVER_BUILDS), "desktop_builds": sorted(bl.DESKTOP_BUILDS),
        "legacy_builds": sorted(bl.LEGACY_BUILDS), "known_itms": sorted(bl.KNOWN_ITMS),
        "agent_min": {k: list(v) for k, v in bl.AGENT_MIN.items()}, "itms_871": list(bl.ITMS_871),
        "package_features": sorted(bl.PACKAGE_FEATURES), "task_features": sorted(bl.TASK_FEATURES),
        "task_features_75": sorted(bl.TASK_FEATURES_75), "desktop_names": dict(bl.DESKTOP_NAMES),
        "needed_verbs": list(bl.NEEDED_VERBS), "default_store_suffix": bl.DEFAULT_STORE_SUFFIX,
    }}


def build_regorus() -> Runner:
    import regorus

    engine = regorus.Engine()
    engine.add_policy_from_file(str(REGO_POLICY))
    engine.add_data(rego_tables())
    set_input, eval_rule = engine.set_input, engine.eval_rule
    rule = "data.sitegate.checks.result"
    index = INDEX

    def run(path: str) -> Result:
        r = Result()
        fails, unknown = r.fails, r.unknown
        assert unknown is not None
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            set_input(h)
            try:
                res = eval_rule(rule)
            except RuntimeError:
                r.errors += 1
                continue
            for name in res["fail"]:
                fails[index[name]] += 1
            for name in res["unknown"]:
                unknown[index[name]] += 1
        r.seconds = time.perf_counter() - t0
        return r
    return run


def build_regorus_rvm() -> Runner:
    import regorus

    data = orjson.dumps(rego_tables()).decode()
    program = regorus.Program.compile_from_modules(
        data, [(str(REGO_POLICY), REGO_POLICY.read_text())], ["data.sitegate.checks.result"])
    vm = regorus.Rvm()
    vm.load_program(program)
    vm.set_data_json(data)
    set_input_json, execute = vm.set_input_json, vm.execute
    dumps, loads = orjson.dumps, orjson.loads
    index = INDEX

    def run(path: str) -> Result:
        r = Result()
        fails, unknown = r.fails, r.unknown
        assert unknown is not None
        t0 = time.perf_counter()
        for h in iter_hosts(path):
            r.hosts += 1
            set_input_json(dumps(h).decode())  # the RVM takes JSON text; re-serialised from the parsed host
            try:
                res = loads(execute())
            except RuntimeError:
                r.errors += 1
                continue
            for name in res["fail"]:
                fails[index[name]] += 1
            for name in res["unknown"]:
                unknown[index[name]] += 1
        r.seconds = time.perf_counter() - t0
        return r
    return run


def opa_missing() -> str:
    reasons = []
    if not shutil.which("opa"):
        reasons.append("no `opa` CLI (OPA is Go; Go toolchain/modules and GitHub releases are not reachable "
                       "here, no Debian package) to run OPA or compile the policy to Wasm")
    try:
        importlib.import_module("opa_wasm")
    except Exception as e:  # noqa: BLE001 - any import failure is the reason
        reasons.append(f"opa-wasm (Python Wasm SDK) does not import: {type(e).__name__}: {e}")
    else:
        reasons.append("opa-wasm imports but needs a policy.wasm built by `opa build -t wasm`")
    return "; ".join(reasons)


def engines(celpy_hosts: int) -> list[Engine]:
    return [
        Engine("baseline", "orjson", "baseline_loop.run (hand-written Python loop)", "", build_baseline),
        Engine("fastjsonschema", "fastjsonschema", "36 compiled draft-07 validators, exception = fail",
               "json-schema", build_fastjsonschema),
        Engine("jsonschema-rs", "jsonschema_rs", "36 Draft7Validator.is_valid calls per host",
               "json-schema", build_jsonschema_rs),
        Engine("jsonschema-rs-allof", "jsonschema_rs", "one allOf schema, iter_errors -> check by schema_path",
               "json-schema", build_jsonschema_rs_allof),
        Engine("cel-rust", "cel", "36 compiled CEL programs, one Context per host", "cel", build_cel_rust),
        Engine("cel-rust-list", "cel", "one CEL program returning a list of 36 codes", "cel", build_cel_rust_list),
        Engine("cel-python", "celpy", "36 celpy programs, json_to_cel once per host", "cel", build_cel_python,
               max_hosts=celpy_hosts, max_check_hosts=2_000),
        Engine("regorus", "regorus", "checks.rego, set_input + eval_rule per host", "rego", build_regorus),
        Engine("regorus-rvm", "regorus", "checks.rego compiled to regorus' RVM bytecode, set_input_json + execute",
               "rego", build_regorus_rvm),
        Engine("opa", "opa_wasm", "Open Policy Agent (Go), in-process via Wasm", "rego", None),
    ]


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def compare(ref: Result, got: Result) -> list[str]:
    """Per-check differences (fails, and unknowns when the engine reports them)."""
    out = []
    for i, name in enumerate(CHECKS):
        if got.fails[i] != ref.fails[i]:
            out.append(f"{name}: fail {got.fails[i]} vs loop {ref.fails[i]}")
        if got.unknown is not None and ref.unknown is not None and got.unknown[i] != ref.unknown[i]:
            out.append(f"{name}: unknown {got.unknown[i]} vs loop {ref.unknown[i]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="time other policy/validation engines on baseline_loop.py's checks")
    ap.add_argument("fleet", help="JSONL fleet (benchmarks/generate_fleet.py)")
    ap.add_argument("--hosts", type=int, help="use only the first N lines")
    ap.add_argument("--engines", help="comma-separated subset (default: all)")
    ap.add_argument("--celpy-hosts", type=int, default=10_000,
                    help="lines for cel-python, extrapolated to the full run (default 10000)")
    ap.add_argument("--check-hosts", type=int, default=20_000,
                    help="lines for the exact per-check comparison with the loop (default 20000, 0: skip)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="time each engine N times and keep the fastest run (cel-python runs once; default 1)")
    ap.add_argument("--dump", metavar="DIR", help="also write the generated JSON Schemas and CEL expressions")
    args = ap.parse_args(argv)

    self_test_regexes()
    all_engines = engines(args.celpy_hosts)
    names = [e.name for e in all_engines]
    wanted = args.engines.split(",") if args.engines else names
    unknown_names = [w for w in wanted if w not in names]
    if unknown_names:
        ap.error(f"unknown engine(s) {unknown_names}; choose from {names}")
    if "baseline" not in wanted:
        wanted.insert(0, "baseline")  # the yardstick for every ratio
    selected = [e for e in all_engines if e.name in wanted]

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        Path(args.dump, "checks.schema.json").write_bytes(orjson.dumps(
            dict(zip(CHECKS, json_schemas())), option=orjson.OPT_INDENT_2))
        Path(args.dump, "checks.cel").write_text("".join(
            f"# {name}\n{src}\n\n" for name, src in zip(CHECKS, cel_expressions())))

    print("== machine")
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); "
          f"{platform.system()} {platform.release()}")
    print(f"python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(f"orjson {dist_version('orjson')}; load average at start: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    with tempfile.TemporaryDirectory(prefix="cmp-engines-") as tmp:
        fleet = head_file(args.fleet, args.hosts, tmp, "head") if args.hosts else args.fleet
        n_lines, parse_s = bl.parse_only(fleet)
        print(f"fleet: {args.fleet}" + (f" (first {args.hosts} lines)" if args.hosts else "")
              + f"; {n_lines} lines; parse only (read + orjson, the floor): {parse_s:.2f} s")
        print()

        results: dict[str, Result] = {}
        setup: dict[str, float] = {}
        versions: dict[str, str] = {}
        skipped: dict[str, str] = {}
        runners: dict[str, Runner] = {}
        for e in selected:
            if e.build is None:
                skipped[e.name] = opa_missing() if e.name == "opa" else e.missing
                continue
            try:
                importlib.import_module(e.module)
            except Exception as ex:  # noqa: BLE001 - report any import failure and go on
                skipped[e.name] = f"module {e.module} does not import ({type(ex).__name__}: {ex})"
                continue
            dist = module_dist(e.module)
            versions[e.name] = f"{dist} {dist_version(dist)}"
            t0 = time.perf_counter()
            runner = e.build()
            setup[e.name] = time.perf_counter() - t0
            runners[e.name] = runner
            path = fleet
            if e.max_hosts is not None and e.max_hosts < n_lines:
                path = head_file(fleet, e.max_hosts, tmp, "sub")
            print(f"running {e.name} ...", file=sys.stderr, flush=True)
            runs = 1 if e.max_hosts is not None else max(1, args.repeat)
            results[e.name] = min((runner(path) for _ in range(runs)), key=lambda r: r.seconds)

        base = results["baseline"]
        base_us = base.seconds / base.hosts * 1e6
        best = f"fastest of {args.repeat} runs; " if args.repeat > 1 else ""
        print(f"== timings (wall, in-process, read + orjson parse + all checks + counting; {best}setup = compile)")
        hdr = f"{'engine':20s} {'package':32s} {'hosts':>8s} {'seconds':>9s} {'us/host':>9s} {'x loop':>7s} {'setup s':>8s}"
        print(hdr)
        print("-" * len(hdr))
        print(f"{'(parse only)':20s} {'orjson ' + dist_version('orjson'):32s} {n_lines:8d} {parse_s:9.2f} "
              f"{parse_s / n_lines * 1e6:9.2f} {parse_s / base.seconds:7.2f} {'':>8s}")
        for e in selected:
            if e.name not in results:
                continue
            r = results[e.name]
            us = r.seconds / r.hosts * 1e6 if r.hosts else 0.0
            secs = f"{r.seconds:9.2f}"
            label = e.name
            if e.max_hosts is not None and r.hosts < base.hosts:
                secs = f"{us * base.hosts / 1e6:8.1f}*"
                label += "*"
            print(f"{label:20s} {versions[e.name]:32s} {r.hosts:8d} {secs} {us:9.2f} {us / base_us:7.2f} "
                  f"{setup[e.name]:8.3f}")
        if any(e.max_hosts is not None and e.name in results and results[e.name].hosts < base.hosts
               for e in selected):
            print(f"* measured on the first {args.celpy_hosts} lines, seconds extrapolated to {base.hosts} hosts "
                  "at the measured us/host")
        for name, why in skipped.items():
            print(f"{name}: not measured: {why}")
        print()
        print("what each engine does per host:")
        for e in selected:
            print(f"  {e.name}: {e.what}")
        print()

        # ---- per-check fail counts of the timed runs
        cols = [e.name for e in selected if e.name in results]
        print("== fail counts per check (timed runs; [u] unknown counts differ from the loop; "
              "cel-python on its subset)")
        short = {"baseline": "loop", "fastjsonschema": "fastjs", "jsonschema-rs": "jsrs", "jsonschema-rs-allof": "jsrs-all",
                 "cel-rust": "cel-rs", "cel-rust-list": "cel-rs-l", "cel-python": "celpy", "regorus": "regorus",
                 "regorus-rvm": "rego-rvm"}
        print(f"{'check':28s}" + "".join(f" {short.get(c, c):>9s}" for c in cols))
        for i, name in enumerate(CHECKS):
            row = f"{name:28s}"
            for c in cols:
                r = results[c]
                mark = ""
                if c != "baseline" and r.hosts == base.hosts:
                    if r.fails[i] != base.fails[i]:
                        mark = "!"
                    if r.unknown is not None and base.unknown is not None and r.unknown[i] != base.unknown[i]:
                        mark += "u"
                row += f" {str(r.fails[i]) + mark:>9s}"
            print(row)
        print(f"{'hosts':28s}" + "".join(f" {results[c].hosts:>9d}" for c in cols))
        print(f"{'hosts with errors':28s}" + "".join(
            f" {(results[c].invalid if c == 'baseline' else results[c].errors):>9d}" for c in cols))
        ill_typed = sum(1 for h in iter_hosts(fleet) if not well_typed(h))
        print(f"('!' = fail count differs from the loop on the same hosts. {ill_typed} hosts in this input have "
              "wrongly typed facts (memory_mb \"lots\", features as one string, build \"17763\", ...): the loop "
              f"gave up on {base.invalid} of them at the first TypeError, skipping their later checks, and applied "
              "Python semantics to the rest (e.g. a features string iterated by character); each engine applies "
              "its own type rules there, so counts may differ on those hosts only. The exact comparison below "
              "leaves them out.)")
        print()

        # ---- exact comparison on well-typed hosts
        if args.check_hosts:
            print("== exact per-check comparison with the loop on the well-typed hosts of the first lines")
            refs: dict[int, tuple[str, int, Result]] = {}
            for e in selected:
                if e.name == "baseline" or e.name not in runners:
                    continue
                n = min(args.check_hosts, e.max_check_hosts or args.check_hosts, n_lines)
                if n not in refs:
                    path, kept = clean_file(fleet, n, tmp)
                    ref = build_baseline()(path)
                    assert ref.invalid == 0, "well_typed() let a host through that the loop rejects"
                    refs[n] = (path, kept, ref)
                path, kept, ref = refs[n]
                got = runners[e.name](path)
                diffs = compare(ref, got)
                what = "fail and unknown" if got.unknown is not None else "fail"
                verdict = "all 36 checks agree" if not diffs else f"{len(diffs)} MISMATCH(ES)"
                print(f"{e.name:20s} {kept:6d} hosts of {n} lines: {what} counts: {verdict}; errors {got.errors}")
                for d in diffs:
                    print(f"    MISMATCH {d}")
            print()

        print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        print()
        print("== what each engine could not express")
        seen = set()
        for e in selected:
            if e.approx and e.approx not in seen:
                seen.add(e.approx)
                engines_here = ", ".join(x.name for x in selected if x.approx == e.approx)
                print(f"{engines_here}: {APPROXIMATIONS[e.approx]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
