"""The policy schema's fast first pass against jsonschema.

``engine.packs.load_pack_file`` runs the generated check (``facts.fastcheck.
compile_fast`` on ``schemas/policy.v1.schema.json``) first and jsonschema only
when it says False, so jsonschema still writes every message. That is only
right if the fast check never says True where jsonschema finds an error; and
it only saves time if it says True where jsonschema finds none. Both are
checked here, as "fast is True iff jsonschema reports no error", on:

- the bundled packs and every pack of the bad-input corpus that loads as YAML;
- every single edit of a hand-written pack that uses every keyword of the
  schema (each value replaced by each of a list of awkward values, each key
  removed, a known and an unknown key added to each mapping);
- hypothesis-drawn variants of cut-down bundled packs with a few edits each.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegate.base.diagnostics import InputError
from sitegate.base.yamlload import load_yaml_file, load_yaml_text
from sitegate.engine.packs import bundled_policy_files, policy_schema, schema_valid_fast

from .test_fastcheck import _paths  # every path of a JSON value, the same walk for both schemas

CORPUS = Path(__file__).resolve().parent / "corpus" / "policies"


@lru_cache(maxsize=None)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(policy_schema())


def _exact(value: Any) -> bool:
    return next(iter(_validator().iter_errors(value)), None) is None


def _assert_agrees(value: Any) -> bool:
    exact = _exact(value)
    fast = schema_valid_fast(value)
    assert schema_valid_fast(copy.deepcopy(value)) == fast  # pattern memo warm: same answer
    assert fast == exact, (value, [e.message for e in _validator().iter_errors(value)][:3])
    return exact


@lru_cache(maxsize=None)
def _bundled() -> tuple[tuple[str, Any], ...]:
    return tuple((display, load_yaml_file(path, display).data) for path, display in bundled_policy_files())


def test_bundled_packs_take_the_fast_path() -> None:
    assert len(_bundled()) >= 9
    for display, data in _bundled():
        assert schema_valid_fast(data), display
        assert _exact(data), display


def _corpus_docs() -> list[tuple[str, Any]]:
    out = []
    for p in sorted(CORPUS.glob("*.yaml")):
        try:
            out.append((p.name, load_yaml_file(str(p), p.name).data))
        except InputError:
            continue  # refused before the schema check
    return out


def test_corpus_policies_agree() -> None:
    docs = _corpus_docs()
    verdicts = {name: _assert_agrees(data) for name, data in docs}
    # The corpus holds both kinds, so the comparison above can fail either way.
    assert verdicts["valid.yaml"] and not verdicts["unknown-key.yaml"] and not verdicts["string-as-number.yaml"]


# A small pack that uses every keyword of the schema: tables with version
# columns, lists and nulls; when with all/any/not; lookups with where; every
# optional rule field; all four kinds of example.
FULL = load_yaml_text(
    """
schema: sitegate/policy/v1
id: test-full
version: 1.2.3-rc.1
title: Every keyword
description: A pack for the fast check.
applies_to: '>=8.7'
extends: itms-base
remove_rules: [ITMS-OLD-1, ITMS-OLD-2]
sources:
  - {id: kb1, title: KB one, url: 'https://example.com/kb1', confidence: high, note: read}
tables:
  matrix:
    description: versions
    confidence: medium
    source: kb1
    key: [itms]
    rows:
      - {itms: '8.7', min_version: ['4.6.2', '4.8'], os: [win2019, 2022], cores: 4, ok: true, note: null}
      - {itms: null, version_x: '1', ratio: 0.5}
rules:
  - id: ITMS-TEST-1
    name: EveryKeyword
    title: Every keyword
    description: d
    rationale: r
    severity: warning
    confidence: low
    source: 'https://example.com/kb1'
    sources: [kb1]
    roles: [task, package]
    when:
      all:
        - {fact: os.build, op: ge, value: 17763}
        - any:
            - {fact: derived.roles, op: contains_any, value: [task, package]}
            - not: {fact: agent.version, op: exists}
    assert:
      fact: platform.itms_version
      op: version_in
      value: {table: matrix, column: itms, where: {os: {fact: os.name}, cores: 4}, single: true}
      label: ITMS version
    message: '{host}: {observed}'
    remediation: fix it
    references: ['https://example.com/more']
    tags: [a-b, c]
    overrides: true
    examples:
      pass: [{name: p, target: '8.7.3', facts: {name: h}, audit_date: '2026-01-01'}]
      fail: [{facts: {}}]
      unknown: [{facts: {}}]
      not_applicable: [{facts: {}}]
""",
    "full.yaml",
).data

# Values every node is replaced by: wrong types, YAML floats, bounds of every
# length and count limit, near-misses of patterns, enums and consts, other shapes.
EDITS: list[Any] = [
    None, True, False, 0, 1, -1, 8.1, 0.5, float("nan"), 2**64, "", "x", "8.10", "1.2", "1.2.3", "01.2.3",
    "ITMS-NET-48", "itms-NET", "high", "HIGH", "error", "eq", "version_gt", "os.build", "Os.build",
    "https://x", "ftp://x", "sitegate/policy/v1", "task", "monitor", "2026-13-01", "2026-1-1",
    "x" * 200, "x" * 201, "x" * 1000, "x" * 1001, "x" * 20001,
    [], [""], ["a"], ["a", "a"], ["task", "task"], ["ITMS-A-1", "ITMS-A-1"], [1, "a"], [None], [["a"]], ["t"] * 11,
    {}, {"fact": "os.build"}, {"fact": "os.build", "op": "eq"}, {"all": []}, {"all": [{"fact": "a", "op": "exists"}]},
    {"not": {"fact": "a", "op": "exists"}, "all": [{"fact": "a", "op": "exists"}]},
    {"table": "t", "column": "c"}, {"table": "t", "column": "c", "fact": "a"}, {"x": 1},
]
ADDED_KEYS = ["extra", "fact", "op", "all", "not", "value", "name", "itms", "Bad-Col", "version_y", "1abc"]


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        value = value[k]
    return value


def _neighbours(value: Any, stride: int = 1) -> list[Any]:
    """Single edits of value; with ``stride`` n, node i gets every n-th replacement
    value starting at i mod n (each replacement still lands on many nodes)."""
    out = []
    for i, path in enumerate(_paths(value)):
        if path:
            for new in EDITS[i % stride::stride]:
                v = copy.deepcopy(value)
                _at(v, path[:-1])[path[-1]] = copy.deepcopy(new)
                out.append(v)
        node = _at(value, path)
        if type(node) is dict:
            for k in [*node, *ADDED_KEYS]:
                v = copy.deepcopy(value)
                if k in node:
                    del _at(v, path)[k]
                else:
                    _at(v, path)[k] = "x"
                out.append(v)
        elif type(node) is list and node:
            v = copy.deepcopy(value)
            _at(v, path).append(copy.deepcopy(node[0]))  # a repeated item (uniqueItems)
            out.append(v)
            v = copy.deepcopy(value)
            _at(v, path).clear()  # no item (minItems)
            out.append(v)
    return out


def test_full_pack_is_valid_and_fast() -> None:
    assert _exact(FULL), [e.message for e in _validator().iter_errors(FULL)]
    assert schema_valid_fast(FULL)


def test_single_edits_agree() -> None:
    # All 6,500 single edits take half a minute of jsonschema; a fifth of them
    # (every replacement value still on dozens of nodes) keeps the suite fast.
    variants = _neighbours(FULL, stride=5)
    verdicts = [_assert_agrees(v) for v in variants]
    # Both answers occur many times, so the agreement above is not vacuous.
    assert sum(verdicts) > 200 and len(verdicts) - sum(verdicts) > 500, (sum(verdicts), len(verdicts))


@st.composite
def _variant(draw: st.DrawFn) -> Any:
    """A bundled pack cut to one or two rules and tables, with up to three edits."""
    display, data = draw(st.sampled_from(_bundled()))
    value = copy.deepcopy(data)
    if value.get("rules"):
        start = draw(st.integers(min_value=0, max_value=len(value["rules"]) - 1))
        value["rules"] = value["rules"][start:start + draw(st.integers(min_value=0, max_value=2))]
    if value.get("tables"):
        names = sorted(value["tables"])
        keep = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        value["tables"] = {n: value["tables"][n] for n in keep}
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = [p for p in _paths(value) if p]
        path = draw(st.sampled_from(paths))
        parent = _at(value, path[:-1])
        kind = draw(st.sampled_from(["replace", "replace", "move", "add", "remove", "repeat"]))
        if kind == "replace":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(EDITS)))
        elif kind == "move":  # a value from elsewhere in the pack: often the right type in the wrong place
            parent[path[-1]] = copy.deepcopy(_at(value, draw(st.sampled_from(paths))))
        elif kind == "add" and type(parent) is dict:
            parent[draw(st.sampled_from(ADDED_KEYS))] = copy.deepcopy(draw(st.sampled_from(EDITS)))
        elif kind == "repeat" and type(parent) is list:
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif type(parent) is dict:
            del parent[path[-1]]
        elif type(parent) is list:
            del parent[path[-1]]
    return value


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(value=_variant())
def test_variants_of_bundled_packs_agree(value: Any) -> None:
    _assert_agrees(value)


@pytest.mark.parametrize("value", [None, [], "schema: x", 1, {"schema": "sitegate/policy/v1"}, {1: "x"}])
def test_not_a_pack_agrees(value: Any) -> None:
    assert not schema_valid_fast(value)
    _assert_agrees(value)


# Generator branches the policy schema does not reach, or reaches only one way:
# overlapping oneOf alternatives, patternProperties beside properties with
# additionalProperties false, two patterns on one key, type lists with integer,
# uniqueItems over non-strings, propertyNames without a type.
SYNTHETIC: dict[str, Any] = {
    "$defs": {"short": {"maxLength": 3}},
    "type": "object",
    "properties": {
        "one": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/short"}]},
        "two": {"oneOf": [{"$ref": "#/$defs/short"}, {"type": "string"}]},
        "closed": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "patternProperties": {"^x": {"type": "integer"}, "^xy": {"minimum": 0}},
            "additionalProperties": False,
        },
        "open": {"patternProperties": {"^n": {"type": ["integer", "null"]}}},
        "tags": {"type": "array", "uniqueItems": True, "minItems": 1, "maxItems": 3},
        "keys": {"propertyNames": {"maxLength": 2}},
    },
}
SYNTHETIC_VALUES: list[tuple[Any, bool | None]] = [
    # (value, what the fast check must say; None: whatever jsonschema says, or False)
    ({"one": "ab"}, False),  # a short string matches both alternatives: invalid
    ({"one": "abcd"}, None),  # only the first, but the second cannot be refuted cheaply
    ({"one": 5}, True),  # only the second (maxLength ignores numbers); the first refuted by type
    ({"two": "ab"}, False),
    ({"two": 5}, True),
    ({"two": "abcd"}, None),
    ({"one": None}, None),  # an explicit null is always left to the exact check
    ({"closed": {"name": "a", "x1": 1, "xy": 2}}, True),
    ({"closed": {"xy": -1}}, False),
    ({"closed": {"xy": 1.5}}, False),
    ({"closed": {"x": 4.0}}, None),  # an integral float: left to jsonschema
    ({"closed": {"y": 1}}, False),
    ({"closed": {"name": 1}}, False),
    ({"open": {"n": None, "m": "anything"}}, True),
    ({"open": {"n": "x"}}, False),
    ({"open": "not an object"}, True),
    ({"tags": [1, 2]}, None),
    ({"tags": ["a", "a"]}, False),
    ({"tags": ["a", "b"]}, True),
    ({"tags": []}, False),
    ({"tags": ["a", "b", "c", "d"]}, False),
    ({"tags": [[1], [1]]}, False),
    ({"keys": {"ab": 1}}, True),
    ({"keys": {"abc": 1}}, False),
    ({"keys": 3}, True),
]


@pytest.mark.parametrize(("value", "want"), SYNTHETIC_VALUES)
def test_synthetic_branches(value: Any, want: bool | None) -> None:
    from sitegate.facts.fastcheck import compile_fast

    exact = jsonschema.Draft202012Validator(SYNTHETIC).is_valid(value)
    for inline in (True, False):  # $refs written out, or one function per definition
        fast = compile_fast(SYNTHETIC, "#", inline=inline)(value)
        if fast:
            assert exact, value
        if want is not None:
            assert fast is want, (value, inline)
            assert exact is want, value
