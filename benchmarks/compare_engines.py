#!/usr/bin/env python3
"""Time sitegate and other policy / validation engines on the 36 checks of baseline_loop.py.

The question: what would a user pick instead of sitegate, and how fast is it on
the same work? Every in-process engine here reads the same JSONL fleet, parses
each line with orjson (skipping lines that are not JSON objects with a ``name``,
as ``baseline_loop.py`` does), evaluates every check on every host from Python
and counts fails per check; CPU time (``time.process_time``) covers read +
parse + evaluate + count, compiling the checks is timed separately. sitegate
runs as a user runs it, ``sitegate audit ... -f json -o FILE --jobs 1`` (and
``--jobs 2``) with the checks as a policy pack (``sitegate_engine.py``,
``engines/sitegate-checks/``), as a child process whose CPU comes from
``os.wait4``. ``--callgrind N`` adds instructions per host (valgrind), and
``--markdown`` the table as Markdown (benchmarks/README.md).

Engines (none is a sitegate dependency; install them into a separate venv)::

    python3 -m venv /tmp/cmp-venv
    /tmp/cmp-venv/bin/pip install orjson fastjsonschema jsonschema-rs \\
        common-expression-language cel-python gordon-to-regorus
    /tmp/cmp-venv/bin/python benchmarks/compare_engines.py /tmp/bench/fleet-250000.jsonl \\
        [--hosts N] [--engines baseline,cel-rust,...] [--celpy-hosts 10000] \\
        [--check-hosts 20000] [--repeat 3] [--callgrind 2500] [--markdown] \\
        [--sitegate .venv/bin/sitegate] [--dump DIR]

``--engines`` takes any of: baseline, baseline-gc-off, sitegate, sitegate-jobs2,
fastjsonschema, jsonschema-rs, jsonschema-rs-allof, cel-rust, cel-rust-list,
cel-python, regorus, regorus-rvm, opa.
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

Sanity check: every engine's failing (line, check) pairs are compared exactly
with ``baseline_loop.failing_pairs`` on the well-typed hosts among the first
``--check-hosts`` lines (hosts whose facts have the types the checks expect;
the loop gives up on a host at the first TypeError, which no engine mimics),
and unknown counts where the engine has them. The full-run counts are printed
too, with differences from the loop.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
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
import sitegate_engine as sg  # noqa: E402
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
    "sitegate": (
        "34 of 36 as rules (engines/sitegate-checks/pack.yaml): product_type_known is the facts "
        "schema's enum (such a host is rejected as invalid input, not evaluated) and "
        "service_version_matches is not expressible (no test over each element of a list of "
        "objects); iis_version_85_plus compares versions (the loop: floats) and "
        "agent_version_supported PEP 440 versions (the loop: int tuples), the same on this fleet's "
        "vocabulary. Every host is strictly decoded (duplicate keys, unknown fields, enums, "
        "types) and every finding carries its evidence (fact, pointer, observed, expected, line and column) in the JSON report; messages are written only for outputs that show them."
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
    seconds: float = 0.0  # wall
    fails: list[int] = field(default_factory=lambda: [0] * N)
    unknown: list[int] | None = field(default_factory=lambda: [0] * N)
    errors: int = 0  # hosts on which some check raised / returned an error
    rejected: int = 0
    invalid: int = 0  # baseline only: hosts it gave up on (TypeError etc.)
    cpu: float | None = None  # CPU seconds; set by the runner for a child process (sitegate)
    max_rss_mb: float | None = None  # child processes only


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
    external: bool = False  # a child process (sitegate), not a module imported here


def build_baseline(gc_off: bool = False) -> Runner:
    def run(path: str) -> Result:
        if gc_off:
            gc.disable()
        try:
            hosts, rejected, invalid, fails, unknown, dt = bl.run(path)
        finally:
            gc.enable()
        return Result(hosts, dt, fails, unknown, 0, rejected, invalid)
    return run


@dataclass
class SitegateOptions:
    """Where the sitegate console script is, and how to run it (set from the command line)."""

    exe: str = str(HERE.parent / ".venv" / "bin" / "sitegate")


SITEGATE = SitegateOptions()


def sitegate_missing() -> str:
    if not os.access(SITEGATE.exe, os.X_OK):
        return (f"{SITEGATE.exe} is not an executable (install sitegate into its own venv: "
                "python3 -m venv .venv && .venv/bin/pip install -e . ; or pass --sitegate PATH)")
    return ""


def build_sitegate(jobs: int, bundled: bool = False) -> Runner:
    """``sitegate audit`` as a child process; CPU is the child's (workers included).
    ``bundled``: the bundled ITMS packs (other rules than the loop's checks: timed and
    counted, not compared pair by pair)."""

    def run(path: str) -> Result:
        child = sg.run_audit(SITEGATE.exe, path, jobs, bundled=bundled)
        rd = child.reading
        # sitegate's unknowns follow its own three-valued logic (a `when` whose fact is
        # missing is unknown where the loop skips the check), so only fails are compared.
        return Result(hosts=rd.hosts, seconds=child.wall, fails=rd.fails, unknown=None,
                      rejected=len(rd.rejected), cpu=child.cpu, max_rss_mb=child.max_rss_mb)
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
        Engine("baseline", "orjson", "baseline_loop.run (hand-written Python loop), cyclic GC on", "",
               build_baseline),
        Engine("baseline-gc-off", "orjson", "baseline_loop.run with gc.disable() around it", "",
               lambda: build_baseline(gc_off=True)),
        Engine("sitegate", "sitegate", "sitegate audit --jobs 1 -f json -o FILE (child process; the pack "
               "engines/sitegate-checks, 34 rules)", "sitegate", lambda: build_sitegate(1), external=True),
        Engine("sitegate-jobs2", "sitegate", "the same with --jobs 2 (CPU of the main process and its workers)",
               "sitegate", lambda: build_sitegate(2), external=True),
        Engine("sitegate-bundled", "sitegate", f"sitegate audit --target {sg.BUNDLED_TARGET} --jobs 1 -f json -o FILE: "
               "the bundled ITMS packs, not the loop's checks (timed, not compared pair by pair)",
               "", lambda: build_sitegate(1, bundled=True), external=True),
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
# Failing pairs, instruction counts
# --------------------------------------------------------------------------


def engine_pairs(runner: Runner, path: str, tmp: str) -> set[tuple[int, str]]:
    """(line, check) pairs an in-process engine fails: the runner on one line at a time."""
    one = os.path.join(tmp, "one-host.jsonl")
    pairs: set[tuple[int, str]] = set()
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            Path(one).write_bytes(line)
            r = runner(one)
            pairs.update((lineno, CHECKS[i]) for i, n in enumerate(r.fails) if n)
    return pairs


def pair_diffs(ref: set[tuple[int, str]], got: set[tuple[int, str]]) -> list[str]:
    """Per check: pairs only the loop fails, pairs only the engine fails."""
    out = []
    for name in CHECKS:
        only_ref = sum(1 for p in ref - got if p[1] == name)
        only_got = sum(1 for p in got - ref if p[1] == name)
        if only_ref or only_got:
            out.append(f"{name}: {only_ref} pair(s) only the loop fails, {only_got} only the engine")
    return out


COLLECTED = re.compile(rb"Collected\s*:\s*([0-9,]+)")


def callgrind(argv: list[str]) -> int:
    """Instructions executed by argv under valgrind's callgrind (the same every run)."""
    env = dict(sg.child_env(), PYTHONHASHSEED="0")
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    m = COLLECTED.search(proc.stderr)
    if m is None:
        raise RuntimeError(f"callgrind gave no count for {argv}:\n{proc.stderr[-2000:].decode('utf-8', 'replace')}")
    return int(m.group(1).replace(b",", b""))


def callgrind_argv(e: Engine, path: str, tmp: str) -> list[str]:
    if e.external:
        return [*sg.interpreter(SITEGATE.exe)[:-1], SITEGATE.exe,
                *sg.command(SITEGATE.exe, path, os.path.join(tmp, "cg-report.json"), 1,
                            bundled=e.name == "sitegate-bundled")[1:]]
    return [sys.executable, str(Path(__file__).resolve()), path, "--run-one", e.name]


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def compare(ref: Result, got: Result) -> list[str]:
    """Per-check count differences of unknowns, when the engine reports them."""
    out = []
    for i, name in enumerate(CHECKS):
        if got.unknown is not None and ref.unknown is not None and got.unknown[i] != ref.unknown[i]:
            out.append(f"{name}: unknown {got.unknown[i]} vs loop {ref.unknown[i]}")
    return out


def run_one(name: str, path: str) -> int:
    """Build one engine and run it once on path, printing nothing (for callgrind)."""
    e = next(x for x in engines(10**9) if x.name == name)
    assert e.build is not None and not e.external
    e.build()(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="time other policy/validation engines on baseline_loop.py's checks")
    ap.add_argument("fleet", help="JSONL fleet (benchmarks/generate_fleet.py)")
    ap.add_argument("--hosts", type=int, help="use only the first N lines")
    ap.add_argument("--engines", help="comma-separated subset (default: all); both loops always run")
    ap.add_argument("--celpy-hosts", type=int, default=10_000,
                    help="lines for cel-python, extrapolated to the full run (default 10000)")
    ap.add_argument("--check-hosts", type=int, default=20_000,
                    help="lines for the failing-pairs comparison with the loop (default 20000, 0: skip)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every engine N times, interleaved, and keep each one's lowest CPU time "
                         "(cel-python runs once; default 1)")
    ap.add_argument("--sitegate", metavar="PATH", default=SITEGATE.exe,
                    help=f"the sitegate console script to run (default {SITEGATE.exe})")
    ap.add_argument("--callgrind", type=int, metavar="N", default=0,
                    help="also count instructions per host with valgrind's callgrind: (count for the first N "
                         "lines - count for the first --callgrind-small lines) / the difference in lines "
                         "(0: off; e.g. 2500)")
    ap.add_argument("--callgrind-small", type=int, metavar="M", help="default N/5")
    ap.add_argument("--markdown", action="store_true", help="also print the results as a Markdown table")
    ap.add_argument("--dump", metavar="DIR", help="also write the generated JSON Schemas and CEL expressions")
    ap.add_argument("--run-one", metavar="ENGINE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    SITEGATE.exe = args.sitegate
    if args.run_one:
        return run_one(args.run_one, args.fleet)

    self_test_regexes()
    all_engines = engines(args.celpy_hosts)
    names = [e.name for e in all_engines]
    wanted = args.engines.split(",") if args.engines else names
    unknown_names = [w for w in wanted if w not in names]
    if unknown_names:
        ap.error(f"unknown engine(s) {unknown_names}; choose from {names}")
    for loop in ("baseline-gc-off", "baseline"):
        if loop not in wanted:
            wanted.insert(0, loop)  # the yardsticks for every ratio
    selected = [e for e in all_engines if e.name in wanted]

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        Path(args.dump, "checks.schema.json").write_bytes(orjson.dumps(
            dict(zip(CHECKS, json_schemas())), option=orjson.OPT_INDENT_2))
        Path(args.dump, "checks.cel").write_text("".join(
            f"# {name}\n{src}\n\n" for name, src in zip(CHECKS, cel_expressions())))

    print("== machine")
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); "
          f"{platform.system()} {platform.release()}; niceness {os.nice(0)}")
    print(f"python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(f"orjson {dist_version('orjson')}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          "load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("command: " + " ".join(["compare_engines.py", *(argv if argv is not None else sys.argv[1:])]))

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
        paths: dict[str, str] = {}
        for e in selected:
            if e.build is None:
                skipped[e.name] = opa_missing() if e.name == "opa" else e.missing
                continue
            if e.external:
                why = sitegate_missing()
                if why:
                    skipped[e.name] = why
                    continue
                out = subprocess.run([SITEGATE.exe, "--version"], capture_output=True, text=True)
                versions[e.name] = (out.stdout.strip().splitlines() or ["sitegate ?"])[0]
            else:
                try:
                    importlib.import_module(e.module)
                except Exception as ex:  # noqa: BLE001 - report any import failure and go on
                    skipped[e.name] = f"module {e.module} does not import ({type(ex).__name__}: {ex})"
                    continue
                dist = module_dist(e.module)
                versions[e.name] = f"{dist} {dist_version(dist)}"
            t0 = time.perf_counter()
            runners[e.name] = e.build()
            setup[e.name] = time.perf_counter() - t0
            paths[e.name] = fleet
            if e.max_hosts is not None and e.max_hosts < n_lines:
                paths[e.name] = head_file(fleet, e.max_hosts, tmp, "sub")

        # Interleaved: a burst of load from elsewhere hits one round, not one engine.
        order = [e for e in selected if e.name in runners]
        if any(e.external for e in order):
            for bundled in (False, True):  # fill the child's bytecode cache (sg.child_env), not counted
                sg.run_audit(SITEGATE.exe, head_file(fleet, 1, tmp, "warm"), 1, bundled=bundled)
        for rnd in range(max(1, args.repeat)):
            for e in order:
                if rnd and e.max_hosts is not None:
                    continue
                print(f"running {e.name} (round {rnd + 1}) ...", file=sys.stderr, flush=True)
                t0 = time.process_time()
                r = runners[e.name](paths[e.name])
                if r.cpu is None:
                    r.cpu = time.process_time() - t0
                best = results.get(e.name)
                if best is None or r.cpu < (best.cpu or 0.0):
                    results[e.name] = r

        base = results["baseline-gc-off"]
        assert base.cpu is not None
        startup = None
        if "sitegate" in runners:
            # What a one-host audit costs: interpreter, imports, policy loading, report
            # header; in every sitegate CPU figure, however many hosts follow.
            one = head_file(fleet, 1, tmp, "one")
            startup = min(sg.run_audit(SITEGATE.exe, one, 1).cpu for _ in range(max(1, args.repeat)))

        def cpu_us(r: Result) -> float:
            return (r.cpu or 0.0) / r.hosts * 1e6 if r.hosts else 0.0

        base_us = cpu_us(base)
        best = f"lowest CPU of {args.repeat} interleaved runs; " if args.repeat > 1 else ""

        # ---- instructions
        instr: dict[str, float] = {}
        cg_note = ""
        if args.callgrind:
            small = args.callgrind_small if args.callgrind_small is not None else args.callgrind // 5
            a = head_file(fleet, small, tmp, "cg-small")
            b = head_file(fleet, args.callgrind, tmp, "cg-big")
            la, lb = bl.parse_only(a)[0], bl.parse_only(b)[0]
            cg_note = (f"instructions per host: callgrind count for the first {lb} lines minus the count for "
                       f"the first {la}, divided by {lb - la} (start-up, imports and compilation cancel out)")
            for e in order:
                if e.max_hosts is not None or e.name == "sitegate-jobs2":
                    continue  # too slow under valgrind / workers are other processes
                print(f"callgrind {e.name} ...", file=sys.stderr, flush=True)
                ia = callgrind(callgrind_argv(e, a, tmp))
                ib = callgrind(callgrind_argv(e, b, tmp))
                instr[e.name] = (ib - ia) / (lb - la)
        base_instr = instr.get("baseline-gc-off")

        print(f"== timings (CPU = user + system: in-process for the Python engines, the child's for sitegate; "
              f"{best}read + parse + all checks + counting; setup = compile, not in CPU)")
        hdr = (f"{'engine':20s} {'package':34s} {'hosts':>8s} {'CPU s':>8s} {'us/host':>8s} {'x loop':>7s} "
               f"{'wall s':>8s} {'instr/host':>10s} {'x loop':>7s} {'setup s':>8s}")
        print(hdr)
        print("-" * len(hdr))
        print(f"{'(parse only)':20s} {'orjson ' + dist_version('orjson'):34s} {n_lines:8d} {'':>8s} "
              f"{'':>8s} {'':>7s} {parse_s:8.2f}")
        rows: list[dict[str, Any]] = []
        for e in order:
            r = results[e.name]
            us = cpu_us(r)
            extrapolated = e.max_hosts is not None and r.hosts < base.hosts
            cpu_s = us * base.hosts / 1e6 if extrapolated else (r.cpu or 0.0)
            ins = instr.get(e.name)
            row = {"engine": e.name + ("*" if extrapolated else ""), "package": versions[e.name], "hosts": r.hosts,
                   "cpu": cpu_s, "us": us, "x": us / base_us if base_us else 0.0, "wall": r.seconds,
                   "instr": ins, "xi": ins / base_instr if ins and base_instr else None,
                   "setup": setup[e.name], "rss": r.max_rss_mb}
            rows.append(row)
            ins_s = f"{ins / 1000:9.1f}k" if ins else f"{'-':>10s}"
            xi_s = f"{row['xi']:7.2f}" if row["xi"] else f"{'-':>7s}"
            print(f"{row['engine']:20s} {row['package']:34s} {r.hosts:8d} {cpu_s:8.2f} {us:8.2f} {row['x']:7.2f} "
                  f"{r.seconds:8.2f} {ins_s} {xi_s} {setup[e.name]:8.3f}")
        if any(e.max_hosts is not None and results[e.name].hosts < base.hosts for e in order):
            print(f"* measured on the first {args.celpy_hosts} lines, CPU seconds extrapolated to {base.hosts} hosts "
                  "at the measured us/host")
        print("x loop: against the hand-written loop with the cyclic GC off (baseline-gc-off)")
        if cg_note:
            print(cg_note)
        for name in ("sitegate", "sitegate-jobs2", "sitegate-bundled"):
            if name in results:
                r = results[name]
                print(f"{name}: peak RSS {r.max_rss_mb:.0f} MB; {r.rejected} records rejected as invalid input "
                      "(the fleet's deliberately broken lines; not counted in hosts)")
        if startup is not None:
            r = results["sitegate"]
            print(f"sitegate start-up (an audit of the first line alone): {startup:.2f} s CPU; without it "
                  f"--jobs 1 takes {((r.cpu or 0.0) - startup) / r.hosts * 1e6:.1f} us/host")
        if "sitegate" in results and "sitegate-jobs2" in results:
            print(f"sitegate --jobs 2 wall / --jobs 1 wall: "
                  f"{results['sitegate-jobs2'].seconds / results['sitegate'].seconds:.2f}")
        for name, why in skipped.items():
            print(f"{name}: not measured: {why}")
        print()
        print("what each engine does per host:")
        for e in selected:
            print(f"  {e.name}: {e.what}")
        print()

        # ---- per-check fail counts of the timed runs
        cols = [e.name for e in order if e.name != "sitegate-bundled"]  # its rules are not the loop's checks
        print("== fail counts per check (timed runs; '!' differs from the loop on the same hosts; "
              "cel-python on its subset)")
        short = {"baseline": "loop", "baseline-gc-off": "loop-nogc", "sitegate": "sitegate",
                 "sitegate-jobs2": "sg-j2", "sitegate-bundled": "sg-itms", "fastjsonschema": "fastjs", "jsonschema-rs": "jsrs",
                 "jsonschema-rs-allof": "jsrs-all", "cel-rust": "cel-rs", "cel-rust-list": "cel-rs-l",
                 "cel-python": "celpy", "regorus": "regorus", "regorus-rvm": "rego-rvm"}
        print(f"{'check':28s}" + "".join(f" {short.get(c, c):>9s}" for c in cols))
        for i, name in enumerate(CHECKS):
            row_s = f"{name:28s}"
            for c in cols:
                r = results[c]
                mark = ""
                if not c.startswith("baseline") and r.hosts == base.hosts and r.fails[i] != base.fails[i]:
                    mark = "!"
                row_s += f" {str(r.fails[i]) + mark:>9s}"
            print(row_s)
        print(f"{'hosts':28s}" + "".join(f" {results[c].hosts:>9d}" for c in cols))
        print(f"{'hosts with errors/rejected':28s}" + "".join(
            f" {(results[c].invalid if c.startswith('baseline') else results[c].errors + results[c].rejected):>9d}"
            for c in cols))
        ill_typed = sum(1 for h in iter_hosts(fleet) if not well_typed(h))
        print(f"({ill_typed} hosts in this input have wrongly typed facts (memory_mb \"lots\", features as one "
              f"string, build \"17763\", ...): the loop gave up on {base.invalid} of them at the first TypeError "
              "and applied Python semantics to the rest; sitegate rejects them (and duplicate keys, unknown "
              "fields, bad enums) as invalid input; each other engine applies its own type rules there, so "
              "counts may differ. The pair comparison below leaves them out.)")
        print()

        # ---- failing pairs on well-typed hosts
        verdicts: dict[str, str] = {}
        if args.check_hosts:
            print("== failing (host, check) pairs against the loop's, on the well-typed hosts of the first lines")
            refs: dict[int, tuple[str, int, set[tuple[int, str]], Result]] = {}
            for e in order:
                if e.name.startswith("baseline") or e.name == "sitegate-bundled":
                    continue  # the yardsticks; other rules than the loop's checks
                n = min(args.check_hosts, e.max_check_hosts or args.check_hosts, n_lines)
                if n not in refs:
                    path, kept = clean_file(fleet, n, tmp)
                    loop_pairs, gave_up = bl.failing_pairs(path)
                    assert not gave_up, "well_typed() let a host through that the loop rejects"
                    refs[n] = (path, kept, loop_pairs, build_baseline()(path))
                path, kept, loop_pairs, ref = refs[n]
                extra = ""
                if e.external:
                    child = sg.run_audit(SITEGATE.exe, path, 2 if e.name == "sitegate-jobs2" else 1,
                                         want_pairs=True)
                    rejected = child.reading.rejected
                    want = {p for p in loop_pairs if p[0] not in rejected and p[1] not in sg.LEFT_OUT}
                    got = child.reading.pairs
                    left = {c: sum(1 for p in loop_pairs if p[1] == c and p[0] not in rejected) for c in sg.LEFT_OUT}
                    codes: dict[str, int] = {}
                    for c in rejected.values():
                        codes[c] = codes.get(c, 0) + 1
                    extra = (f"; {len(rejected)} of the hosts rejected by sitegate's strict decoder "
                             f"({', '.join(f'{k} {v}' for k, v in sorted(codes.items())) or 'none'}), not compared; "
                             "checks not in the pack: " + ", ".join(f"{c} (loop fails {k})" for c, k in left.items()))
                    unknown_diffs: list[str] = []
                else:
                    want = loop_pairs
                    got = engine_pairs(runners[e.name], path, tmp)
                    unknown_diffs = compare(ref, runners[e.name](path))
                diffs = pair_diffs(want, got)
                verdicts[e.name] = "equal" if not diffs else f"{len(diffs)} check(s) differ"
                verdict = (f"all {len(want)} failing pairs equal" if not diffs
                           else f"{len(diffs)} check(s) DIFFER")
                print(f"{e.name:20s} {kept:6d} hosts of {n} lines: {verdict}{extra}")
                for d in diffs:
                    print(f"    MISMATCH {d}")
                for d in unknown_diffs:
                    print(f"    unknown count differs: {d}")
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

        if args.markdown:
            print()
            print(f"| engine | package | CPU s ({base.hosts:,} hosts) | µs/host | × loop | wall s "
                  "| instructions/host | × loop | failing pairs = loop's |")
            print("|---|---|---:|---:|---:|---:|---:|---:|---|")
            for row in sorted(rows, key=lambda x: x["cpu"]):
                name = row["engine"].rstrip("*")
                label = MD_LABELS.get(name, name) + ("*" if row["engine"].endswith("*") else "")
                ins = f"{row['instr'] / 1000:,.0f}k" if row["instr"] else "-"
                xi = f"{row['xi']:.1f}" if row["xi"] else "-"
                wall = "-" if row["engine"].endswith("*") else f"{row['wall']:,.2f}"  # measured on fewer hosts
                print(f"| {label} | {row['package']} | {row['cpu']:,.2f} | {row['us']:,.1f} | {row['x']:.1f} "
                      f"| {wall} | {ins} | {xi} | {verdicts.get(name, 'yardstick' if name.startswith('baseline') else 'not compared: other rules' if name == 'sitegate-bundled' else '-')} |")
    return 0


MD_LABELS = {
    "baseline": "hand-written loop, GC on",
    "baseline-gc-off": "hand-written loop, GC off",
    "sitegate": "**sitegate `audit --jobs 1`, JSON report**",
    "sitegate-jobs2": "sitegate `audit --jobs 2`, JSON report",
    "sitegate-bundled": "sitegate `audit --jobs 1`, bundled ITMS packs at 8.7.3 (other rules)",
    "jsonschema-rs": "jsonschema-rs, 36 validators",
    "jsonschema-rs-allof": "jsonschema-rs, one allOf",
    "fastjsonschema": "fastjsonschema, 36 validators",
    "cel-rust": "CEL (Rust), 36 programs",
    "cel-rust-list": "CEL (Rust), one list program",
    "cel-python": "CEL, pure Python",
    "regorus": "regorus (Rust Rego) interpreter",
    "regorus-rvm": "regorus, RVM bytecode",
}


if __name__ == "__main__":
    sys.exit(main())
