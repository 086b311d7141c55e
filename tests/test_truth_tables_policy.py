"""The truth tables hold through the public path: a pack written in YAML, loaded from a
--policy-dir, evaluated over schema-valid host facts, outcomes read from the report.

Each row of tests/truth_tables.py whose fact value a host can hold (the facts
schema decides) becomes a rule comparing a fact of that type on a two- or
three-part path with the row's operand: written as a literal, read from another
fact, or looked up in a table keyed by a fact. Each rule applies to exactly two
hosts: one holding the row's value (the table's outcome) and one without the
fact (unknown). Rows the pack loader refuses (a literal a policy may not
write) are dropped; the test checks the rows it must keep are kept.

Nothing here depends on how the engine represents conditions inside: only the
YAML, the facts and the report.
"""
from __future__ import annotations

import itertools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sitegate.base.diagnostics import InputError
from sitegate.engine.evaluate import Options, evaluate
from sitegate.engine.model import Outcome
from sitegate.engine.packs import load_policies

from .truth_tables import PRESENCE, cases, literal_ok, merge, nest

WORD = {"P": "pass", "F": "fail", "E": "error"}

# Facts by the type of value they hold: (subject paths, a second fact of that type for fact operands).
SUBJECTS: dict[str, tuple[tuple[str, ...], str]] = {
    "int": (("os.build", "iis.request_filtering.max_url"), "hardware.cores"),
    "float": (("hardware.system_drive_free_gb",), "hardware.package_store_free_gb"),
    "bool": (("agent.managed", "iis.request_filtering.allow_unlisted_verbs"), "agent.local"),
    "str": (("os.caption", "iis.version", "provenance.collected_by.version"), "identity.site"),
    "list": (("iis.features", "iis.request_filtering.allowed_verbs"), "iis.request_filtering.denied_verbs"),
}


def _kind(v: Any) -> str | None:
    if type(v) is bool:
        return "bool"
    if type(v) is int:
        return "int"
    if type(v) is float:
        return "float"
    if type(v) is str:
        return "str"
    if type(v) is list:
        return "list"
    return None


def _decoy(v: Any) -> Any:
    """A later row's value of the same type as the operand: a single lookup must not take it."""
    if type(v) is bool:
        return not v
    if type(v) in (int, float):
        return v + 1000
    if type(v) is str:
        return v + "-decoy"
    return [] if v else ["decoy"]


_SCHEMA = json.loads(resources.files("sitegate.schemas").joinpath("facts.v1.schema.json").read_text("utf-8"))
# Every host has a collector name (required where provenance.collected_by is given).
BASE: dict[str, Any] = {"name": "h", "provenance": {"collected_by": {"name": "collector"}}}
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)


def _valid(facts: dict[str, Any]) -> bool:
    return _VALIDATOR.is_valid(facts)


def _subject_for(op: str, fact: Any, i: int) -> str | None:
    kind = _kind(fact)
    if kind is None:
        return None
    paths = SUBJECTS[kind][0]
    if op == "matches" or op.startswith("date"):
        paths = ("os.caption", "provenance.collected_at", "provenance.collected_by.version") if kind == "str" else paths
    path = paths[i % len(paths)]
    return path if _valid(merge(BASE, nest(path, fact))) else None


def _build(tmp: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, tuple[str, str, Any, Any, str]]]:
    rules: list[dict[str, Any]] = []
    hosts: list[dict[str, Any]] = []
    tables: dict[str, Any] = {}
    meta: dict[str, tuple[str, str, Any, Any, str]] = {}
    n = 0
    rows = cases() + [(op, fact, None, e) for fact, ex, mi in PRESENCE for op, e in (("exists", ex), ("missing", mi))]
    for op, fact, operand, exp in rows:
        subject = _subject_for(op, fact, n)
        if subject is None:
            continue
        forms: list[tuple[str, Any, dict[str, Any]]] = []
        if op in ("exists", "missing"):
            forms.append(("none", None, {}))
        else:
            if literal_ok(op, operand):
                forms.append(("literal", operand, {}))
            okind = _kind(operand)
            if okind is not None and _valid(merge(BASE, nest(SUBJECTS[okind][1], operand))):
                forms.append(("fact", {"fact": SUBJECTS[okind][1]}, nest(SUBJECTS[okind][1], operand)))
            forms.append(("table", {"table": f"t{n}", "column": "value", "where": {"key": {"fact": "identity.domain"}}, "single": True}, {"identity": {"domain": f"d{n}"}}))
        for form, value, ofacts in forms:
            rid = f"R-{n:04d}"
            n += 1
            leaf: dict[str, Any] = {"fact": subject, "op": op}
            if form != "none":
                leaf["value"] = value
            if form == "table":
                value["table"] = f"t{n - 1}"
                tables[f"t{n - 1}"] = {
                    "description": "d", "confidence": "low", "source": "https://example.invalid",
                    "rows": [{"key": "other", "value": operand}, {"key": f"d{n - 1}", "value": operand}, {"key": f"d{n - 1}", "value": _decoy(operand)}],
                }
                ofacts = {"identity": {"domain": f"d{n - 1}"}}
            rules.append({
                "id": rid, "title": f"{op} {form}", "description": "d", "severity": "error", "confidence": "low",
                "source": "https://example.invalid",
                "when": {"fact": "identity.fqdn", "op": "eq", "value": rid},
                "assert": leaf, "message": "{host}", "remediation": "r",
                "examples": {"pass": [{"facts": {}}], "fail": [{"facts": {}}]},
            })
            base = merge(merge(BASE, {"identity": {"fqdn": rid}}), ofacts)
            hosts.append({**merge(base, nest(subject, fact)), "name": f"{rid}-has"})
            hosts.append({**base, "name": f"{rid}-gone"})
            meta[rid] = (op, form, fact, operand, exp)
    return rules, hosts, {"tables": tables, "meta": meta}  # type: ignore[return-value]


def _pack(rules: list[dict[str, Any]], tables: dict[str, Any]) -> str:
    pack = {
        "schema": "sitegate/policy/v1", "id": "truth", "version": "1.0.0", "title": "truth tables",
        "applies_to": ">=8.5", "sources": [{"id": "s", "title": "S", "url": "https://example.invalid", "confidence": "low"}],
        "tables": tables, "rules": rules,
    }
    return yaml.safe_dump(pack, sort_keys=False, width=1 << 20)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, tuple], dict[tuple[str, str], str], set[str]]:
    tmp = tmp_path_factory.mktemp("truth")
    rules, hosts, extra = _build(tmp)
    tables, meta = extra["tables"], extra["meta"]  # type: ignore[index]
    d = tmp / "pol"
    d.mkdir()
    refused: set[str] = set()
    for _ in range(3):
        (d / "truth.yaml").write_text(_pack(rules, tables), "utf-8")
        try:
            ps, _w = load_policies([str(d)], include_bundled=False)
            break
        except InputError as exc:
            bad = set()
            for diag in exc.diagnostics:
                m = re.match(r"/rules/(\d+)/", diag.pointer + "/")
                t = re.match(r"/tables/t(\d+)/", diag.pointer + "/")
                assert m or t, diag
                bad.add(rules[int(m.group(1))]["id"] if m else f"R-{int(t.group(1)):04d}")  # type: ignore[union-attr]
            refused |= bad
            rules = [r for r in rules if r["id"] not in bad]
            tables = {k: v for k, v in tables.items() if any(isinstance(r["assert"].get("value"), dict) and r["assert"]["value"].get("table") == k for r in rules)}
    else:  # pragma: no cover - the loop always loads or fails the test
        pytest.fail("pack never loaded")
    kept = {r["id"] for r in rules}
    hosts = [h for h in hosts if h["identity"]["fqdn"] in kept]
    report = evaluate(hosts, ps, Options(target="8.7.3", full_outcomes=True, audit_date="2026-01-01"))
    outcomes: dict[tuple[str, str], str] = {}
    for h in report.hosts:
        assert not h.rejected, (h.name, h.diagnostics)
        for rid, code in zip(h.rule_ids, h.outcomes):
            outcomes[(h.name, rid)] = Outcome.from_code(code).value
    return {k: v for k, v in meta.items() if k in kept}, outcomes, refused


def test_every_kept_row_gives_the_tables_outcome_through_a_yaml_pack(evaluated) -> None:
    meta, outcomes, _ = evaluated
    wrong = []
    for rid, (op, form, fact, operand, exp) in meta.items():
        got = outcomes[(f"{rid}-has", rid)]
        want = WORD[exp]
        if got != want:
            wrong.append(f"{rid} {op} ({form}) {operand!r:.40} on {fact!r:.40}: {got}, table says {want}")
        gone = outcomes[(f"{rid}-gone", rid)]
        want_gone = {"exists": "fail", "missing": "pass"}.get(op, "unknown")
        if gone != want_gone:
            wrong.append(f"{rid} {op} ({form}) without the fact: {gone}, want {want_gone}")
    # every other host is outside a rule's `when`
    ids = list(meta)
    for a, b in itertools.pairwise(ids):
        assert outcomes[(f"{a}-has", b)] == outcomes[(f"{b}-gone", a)] == "not_applicable"
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong[:40])


# Rows the public path must run (the mutants of issue 20 live there), as (op, form, fact, operand).
MUST = [
    ("eq", "literal", 7601, 17763), ("eq", "literal", 17763, 17763), ("ne", "literal", 7601, 17763),
    ("eq", "fact", 7601, 17763), ("eq", "table", 17763, 17763),
    ("eq", "literal", "Standard", "Standard"), ("eq", "literal", "standard", "Standard"),
    ("version_lt", "literal", "8.7", "8.7"), ("version_in", "literal", "8.8rc1", ">=8.7,<8.9"),
    ("in", "literal", True, [1, 2]), ("in", "literal", 1, [True]), ("not_in", "literal", True, [1, 2]),
    ("in", "table", 1, [True]), ("contains_all", "literal", ["a"], []),
    ("lt", "literal", 99, 100), ("ge", "fact", 100, 100), ("matches", "literal", "Server 20190", r"^Server 2019$"),
    ("date_before", "literal", "2027-01-12", "2027-01-12"), ("exists", "none", False, None),
]


def test_the_rows_that_matter_are_not_dropped(evaluated) -> None:
    meta, _, refused = evaluated
    kept = {(op, form, json.dumps(fact), json.dumps(operand)) for op, form, fact, operand, _ in meta.values()}
    for op, form, fact, operand in MUST:
        assert (op, form, json.dumps(fact), json.dumps(operand)) in kept, (op, form, fact, operand)
    ops = {m[0] for m in meta.values()}
    assert len(ops) == 22  # every operator of the language
    assert len(meta) > 300 and len(refused) < len(meta)


# Rule-level composition through a YAML pack: `when` (applicability) and `assert`,
# each an all/any/not of pass (P), fail (F), unknown (U) and error (E) leaves.
# A `when` that fails makes the rule not applicable; unknown or error in `when`
# is the rule's outcome (never a silent not-applicable); else the assert decides.
LEAF = {
    "P": {"fact": "agent.managed", "op": "eq", "value": True},
    "F": {"fact": "agent.local", "op": "eq", "value": True},
    "U": {"fact": "agent.cem_mode", "op": "eq", "value": False},
    "E": {"fact": "os.caption", "op": "version_ge", "value": "8.7"},
}
HOST = {"name": "h1", "agent": {"managed": True, "local": False}, "os": {"caption": "Windows"}}


def _cond(spec: str) -> dict[str, Any]:
    """'all:PPF' -> {all: [P, P, F]}; 'not:any:FU' -> {not: {any: [F, U]}}; 'P' -> the leaf."""
    if spec.startswith("not:"):
        return {"not": _cond(spec[4:])}
    if ":" in spec:
        kind, kids = spec.split(":")
        return {kind: [LEAF[k] for k in kids]}
    return LEAF[spec]


RULE_ROWS = [  # (when, assert, outcome)
    (None, "all:PPP", "pass"),
    (None, "all:PPPF", "fail"),
    ("all:PPP", "all:PPU", "unknown"),
    ("all:PPF", "all:PPU", "not_applicable"),
    ("all:PPFU", "P", "not_applicable"),  # one fail settles an all
    ("all:PPU", "F", "unknown"),
    ("all:PPE", "F", "error"),
    ("any:FFF", "P", "not_applicable"),
    ("any:FFP", "F", "fail"),
    ("any:FFU", "P", "unknown"),
    ("any:FUEP", "all:PPPP", "pass"),
    ("not:all:PPP", "P", "not_applicable"),
    ("not:any:FFF", "any:FFFU", "unknown"),
    ("not:U", "P", "unknown"),
    ("P", "not:all:PPF", "pass"),
    ("P", "not:any:FFE", "error"),
    ("F", "E", "not_applicable"),
    ("U", "F", "unknown"),
]


def test_when_and_assert_compose_with_not_applicable(tmp_path: Path) -> None:
    rules = []
    for i, (when, check, _) in enumerate(RULE_ROWS):
        rule: dict[str, Any] = {
            "id": f"C-{i:02d}", "title": "t", "description": "d", "severity": "error", "confidence": "low",
            "source": "https://example.invalid", "assert": _cond(check), "message": "{host}", "remediation": "r",
            "examples": {"pass": [{"facts": {}}], "fail": [{"facts": {}}]},
        }
        if when is not None:
            rule["when"] = _cond(when)
        rules.append(rule)
    d = tmp_path / "pol"
    d.mkdir()
    (d / "c.yaml").write_text(_pack(rules, {}), "utf-8")
    ps, _ = load_policies([str(d)], include_bundled=False)
    report = evaluate([HOST], ps, Options(target="8.7.3", full_outcomes=True, audit_date="2026-01-01"))
    (h,) = report.hosts
    got = {rid: Outcome.from_code(code).value for rid, code in zip(h.rule_ids, h.outcomes)}
    want = {f"C-{i:02d}": row[2] for i, row in enumerate(RULE_ROWS)}
    assert got == want
    # findings carry the same outcomes; not-applicable and pass are no findings
    assert {f.rule_id: f.outcome.value for f in h.findings} == {k: v for k, v in want.items() if v not in ("pass", "not_applicable")}
