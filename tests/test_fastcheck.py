"""The generated fast check (``compile_fast``) against the exact compiled checks.

The fast check is a generated, optimised Python function (``$ref``s inlined,
one test per property, unknown keys found by counting, pattern results
memoised). It stands in for the exact checks on the hot path, so it must say
True only when ``Compiler`` reports no error and no warning, and it should say
True for every clean valid value (otherwise the fast path is wasted). The one
case where it is deliberately more conservative: an integral float (``4.0``)
where the schema asks for an integer, which the exact checks accept.

Both the shipped facts schema and a synthetic schema are checked; the synthetic
one exercises generator branches the facts schema does not use (recursive
``$ref``, anyOf alternatives, const, non-string enum, additionalProperties
schemas, keywords without a type, closed objects without properties).
"""
from __future__ import annotations

import copy
import math
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegate.facts.fastcheck import Compiler, Walk, compile_fast
from sitegate.facts.load import facts_schema

SETTINGS = settings(
    max_examples=150, derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class _Str(str):
    pass


class _Dict(dict):
    pass


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from([0, 1, 4.0, -1, 255, 256, 999999, 1000000, 4294967296, "", "a",
                     "8.7.3", "8.7.3\n", "1.2.3.4.5", "active", "server", "x64", "task", "b", "aa", "p"]),
    st.sampled_from([255, 256, 4096, 4097]).map(lambda n: "x" * n),  # around the length limits
)
JSON = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=6), kids, max_size=3)), max_leaves=8)
ODD = st.one_of(
    st.builds(_Str, st.sampled_from(["a", "8.7.3", "task"])),
    st.builds(lambda: _Dict()),
    st.builds(lambda: OrderedDict()),
    st.builds(lambda: ("a",)),
)


def _from_schema(root: dict[str, Any], s: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values (mostly) valid against schema ``s`` of ``root``."""
    if "$ref" in s:
        target = st.deferred(lambda: _from_schema(root, root["$defs"][s["$ref"].split("/")[-1]], depth + 1))
        return target.filter(lambda x: _type_ok(x, s["type"])) if "type" in s else target
    if "anyOf" in s:
        return st.one_of([_from_schema(root, a, depth) for a in s["anyOf"]])
    if "enum" in s:
        return st.sampled_from(s["enum"])
    if "const" in s:
        return st.just(s["const"])
    t = s.get("type")
    if t is None and ("minimum" in s or "maximum" in s):
        t = "number"
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t in ("integer", "number"):
        lo, hi = s.get("minimum"), s.get("maximum")
        ints = st.integers(min_value=None if lo is None else math.ceil(lo), max_value=None if hi is None else math.floor(hi))
        if t == "integer":
            return ints
        return st.one_of(ints, st.floats(min_value=lo, max_value=hi, allow_nan=False))
    if t == "string" or "pattern" in s or "maxLength" in s:
        if "pattern" in s:
            return st.from_regex(s["pattern"], fullmatch=True).filter(lambda x: len(x) <= s.get("maxLength", 10**9))
        return st.text(min_size=s.get("minLength", 0), max_size=min(s.get("maxLength", 12), 12))
    if t == "array" or "items" in s:
        if depth > 6:
            return st.just([])
        return st.lists(_from_schema(root, s.get("items", {}), depth + 1), max_size=3)
    if t == "object" or "properties" in s:
        props = s.get("properties", {})
        required = set(s.get("required", ()))
        return st.fixed_dictionaries(
            {k: _from_schema(root, v, depth + 1) if k in props else JSON for k, v in ((r, props.get(r, {})) for r in required)},
            optional={k: _from_schema(root, v, depth + 1) for k, v in props.items() if k not in required and depth <= 6},
        )
    return JSON


def _type_ok(x: Any, t: str) -> bool:
    return {"integer": type(x) is int, "number": type(x) in (int, float), "string": type(x) is str}.get(t, True)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if type(value) is dict:
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif type(value) is list:
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def _mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """A valid value with a few things changed: a value replaced, a key added or removed."""
    value = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = [p for p in _paths(value) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for k in path[:-1]:
            parent = parent[k]
        kind = draw(st.sampled_from(["replace", "replace", "odd", "add", "remove", "lengthen"]))
        if kind == "lengthen":  # a string to either side of a length limit
            strings = [p for p in paths if type(_at(value, p)) is str]
            if strings:
                path = draw(st.sampled_from(strings))
                _at(value, path[:-1])[path[-1]] = "x" * draw(st.sampled_from([0, 1, 2, 3, 255, 256, 4096, 4097]))
        elif kind == "replace":
            parent[path[-1]] = draw(JSON)
        elif kind == "odd":
            parent[path[-1]] = draw(ODD)
        elif type(parent) is dict and kind == "add":
            parent[draw(st.sampled_from(["extra", "name", "version", "memroy_mb", "service", "label", "x", ""]))] = draw(JSON)
        elif type(parent) is dict:
            del parent[path[-1]]
    return value


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        value = value[k]
    return value


def _has_integral_float(value: Any) -> bool:
    if type(value) is float:
        return value.is_integer()
    if type(value) is dict:
        return any(_has_integral_float(v) for v in value.values())
    if type(value) is list:
        return any(_has_integral_float(v) for v in value)
    return False


def _assert_agrees(fast: Callable[[Any], bool], exact: Any, value: Any) -> None:
    w = Walk()
    ok = bool(exact(value, "", w)) and not w.errors and not w.warnings
    got = fast(value)
    assert fast(copy.deepcopy(value)) == got  # pattern memo warm: same answer
    if got:
        assert ok, (value, w.errors, w.warnings)
    elif ok:
        assert _has_integral_float(value), value  # the only case the fast path leaves to the exact one


# Every single edit of a valid value: each node replaced by each of these, each
# key removed, an unknown key added to each object.
EDITS: list[Any] = [
    None, True, False, 0, 1, -1, 4.0, 4.5, -0.5, 2**64, 1e300, [], ["a"], [None], {}, {"name": "n"},
    _Str("a"), ("a",), _Dict(), *("x" * n for n in (0, 1, 2, 3, 4, 255, 256, 4096, 4097)),
    "8.7.3", "8.7.3\n", "8.7", "active", "server", "task", "p", "b", "z", [1, 2],
]


def _neighbours(value: Any) -> list[Any]:
    out = []
    for path in _paths(value):
        if path:
            for new in EDITS:
                v = copy.deepcopy(value)
                _at(v, path[:-1])[path[-1]] = copy.deepcopy(new)
                out.append(v)
        node = _at(value, path)
        if type(node) is dict:
            for k in [*node, "extra"]:
                v = copy.deepcopy(value)
                if k in node:
                    del _at(v, path)[k]
                else:
                    _at(v, path)[k] = 1
                out.append(v)
    return out


# ------------------------------------------------------------------ the shipped facts schema

@lru_cache(maxsize=None)
def _facts() -> tuple[Callable[[Any], bool], Any]:
    root = facts_schema()
    return compile_fast(root, "#/$defs/HostFacts"), Compiler(root).ref("#/$defs/HostFacts")


VALID_HOST = st.deferred(lambda: _from_schema(facts_schema(), {"$ref": "#/$defs/HostFacts"}))


@SETTINGS
@given(value=VALID_HOST)
def test_fast_check_accepts_valid_hosts(value: Any) -> None:
    fast, exact = _facts()
    _assert_agrees(fast, exact, value)
    assert fast(value) or _has_integral_float(value), fast.source  # type: ignore[attr-defined]


@settings(SETTINGS, max_examples=15)
@given(value=VALID_HOST)
def test_fast_check_agrees_with_exact_check_on_every_single_edit(value: Any) -> None:
    fast, exact = _facts()
    for v in _neighbours(value):
        _assert_agrees(fast, exact, v)


@SETTINGS
@given(value=_mutated(VALID_HOST))
def test_fast_check_agrees_with_exact_check_on_mutated_hosts(value: Any) -> None:
    fast, exact = _facts()
    _assert_agrees(fast, exact, value)


@SETTINGS
@given(value=st.one_of(JSON, ODD))
def test_fast_check_agrees_with_exact_check_on_anything(value: Any) -> None:
    fast, exact = _facts()
    _assert_agrees(fast, exact, value)


# ------------------------------------------------------------------ a synthetic schema

SYNTHETIC: dict[str, Any] = {
    "$defs": {
        "Tree": {
            "type": "object", "additionalProperties": False, "required": ["label"],
            "properties": {
                "label": {"type": "string", "minLength": 1},
                "kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}},
                "next": {"anyOf": [{"$ref": "#/$defs/Tree"}, {"type": "null"}]},
            },
        },
        "Multi": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^a+$"}, {"type": "null"}]},
        "Leaf": {
            "type": "object", "properties": {"x": {"type": "number", "minimum": -1.5}},
            "additionalProperties": {"type": "integer", "maximum": 10},
        },
        "Untyped": {
            "required": ["a", "zz"],
            "properties": {
                "a": {"enum": [1, "1", True, None, 2.5]},
                "b": {"const": [1, 2]},
                "c": {"minimum": 0, "maximum": 3},
                "d": {"maxLength": 3, "pattern": "b"},
                "e": {"items": {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "null"}]}},
                "f": {"type": "string", "enum": ["p", "q"]},
                "g": {"anyOf": [{"type": "string"}]},
                "h": {"type": "null"},
                "i": {"const": "z"},
                "j": {"type": "integer", "enum": [1, 2]},
                "k": {"$ref": "#/$defs/Multi", "type": "integer"},
                "w": {},
            },
        },
        "Closed": {"type": "object", "additionalProperties": False},
        "Top": {
            "type": "object", "additionalProperties": False, "required": ["r", "rn"],
            "properties": {
                "r": {"type": "integer"},
                "rn": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "o": {"type": "string", "maxLength": 2},
                "oe": {"type": "object"},
                "t": {"$ref": "#/$defs/Tree"},
                "m": {"$ref": "#/$defs/Multi"},
                "m2": {"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/Leaf"}]},
                "u": {"$ref": "#/$defs/Untyped"},
                "c": {"$ref": "#/$defs/Closed"},
                "l": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/Leaf"}, {"type": "null"}]}},
                "any": {},
            },
        },
    },
}


@lru_cache(maxsize=None)
def _synthetic(name: str) -> tuple[Callable[[Any], bool], Any]:
    ref = f"#/$defs/{name}"
    return compile_fast(SYNTHETIC, ref), Compiler(SYNTHETIC).ref(ref)


def test_synthetic_schema_compiles_recursive_refs_to_functions() -> None:
    fast, _ = _synthetic("Top")
    src = fast.source  # type: ignore[attr-defined]
    assert "def _d_Tree(" in src and "def _d_Multi(" not in src  # recursive: a function; the rest inlined


@settings(SETTINGS, max_examples=400)
@given(name=st.sampled_from(sorted(SYNTHETIC["$defs"])), data=st.data())
def test_fast_check_agrees_with_exact_check_on_synthetic_schema(name: str, data: st.DataObject) -> None:
    fast, exact = _synthetic(name)
    valid = _from_schema(SYNTHETIC, SYNTHETIC["$defs"][name])
    value = data.draw(st.one_of(valid, _mutated(valid), _mutated(valid), JSON))
    _assert_agrees(fast, exact, value)


@settings(SETTINGS, max_examples=60)
@given(name=st.sampled_from(sorted(SYNTHETIC["$defs"])), data=st.data())
def test_fast_check_agrees_with_exact_check_on_every_single_edit_synthetic(name: str, data: st.DataObject) -> None:
    fast, exact = _synthetic(name)
    for v in _neighbours(data.draw(_from_schema(SYNTHETIC, SYNTHETIC["$defs"][name]))):
        _assert_agrees(fast, exact, v)


def test_nan_within_bounds_is_never_certified_valid() -> None:
    """NaN compares false with everything: a bound written as 'v < min' would let it through."""
    from sitegate.facts.load import host_fast_check

    for section, key in (("hardware", "memory_mb"), ("hardware", "system_drive_free_gb"), ("load", "endpoints")):
        value = {"name": "h", section: {key: math.nan}}
        assert host_fast_check()(value) is False, (section, key)
        w = Walk()
        Compiler(facts_schema()).ref("#/$defs/HostFacts")(value, "", w)
        assert w.errors, (section, key)
