"""Typed policy operands (literal, fact reference, table lookup) and the one condition walker."""
from __future__ import annotations

from typing import Any

import pytest

from sitegate.engine.packs import load_policies
from sitegate.engine.policy import (
    AllOf,
    AnyOf,
    FactRef,
    Leaf,
    Lit,
    NotOf,
    Rule,
    TableRef,
    fold,
    leaves,
    lookups,
    operand_facts,
    written,
)


def _leaf(value: Any) -> Leaf:
    return Leaf.model_validate({"fact": "a.b", "op": "eq", "value": value})


@pytest.mark.parametrize(
    "raw,kind",
    [
        ("8.7", Lit),
        (528040, Lit),
        (2.5, Lit),
        (True, Lit),
        (["x", 1, False], Lit),
        ({"fact": "os.build"}, FactRef),
        ({"table": "t", "column": "c"}, TableRef),
        ({"table": "t", "column": "c", "where": {"k": {"fact": "x.y"}}, "single": True}, TableRef),
    ],
)
def test_an_operand_is_parsed_once_into_its_model(raw: Any, kind: type) -> None:
    value = _leaf(raw).value
    assert type(value) is kind
    # The literal keeps the exact Python value YAML gave: a list stays a list, a bool a bool.
    if kind is Lit:
        assert value.value == raw and type(value.value) is type(raw)
    assert written(value) == raw


def test_where_operands_are_typed_too() -> None:
    leaf = _leaf({"table": "t", "column": "c", "where": {"k": {"fact": "x.y"}, "n": "8.7", "m": {"table": "u", "column": "v", "where": {"z": {"fact": "p.q"}}}}})
    ref = leaf.value
    assert isinstance(ref, TableRef)
    assert isinstance(ref.where["k"], FactRef) and isinstance(ref.where["n"], Lit) and isinstance(ref.where["m"], TableRef)
    assert [r.table for r in lookups(ref)] == ["t", "u"]
    assert operand_facts(ref) == ["x.y", "p.q"]
    assert operand_facts(Lit(value="x.y")) == [] and operand_facts(None) == []


def test_exists_takes_no_operand() -> None:
    leaf = Leaf.model_validate({"fact": "a.b", "op": "exists"})
    assert leaf.value is None and leaf.literal is None


def test_a_model_error_inside_an_operand_points_at_the_yaml_not_at_model_names(tmp_path: Any) -> None:
    # The JSON Schema catches this first; the model would say the same place.
    with pytest.raises(Exception) as exc:
        _leaf({"table": "t"})
    locs = [e["loc"] for e in exc.value.errors()]  # type: ignore[attr-defined]
    from sitegate.engine.packs import _alias_path

    assert [_alias_path(loc) for loc in locs] == [["value", "column"]]


COND = AllOf.model_validate(
    {
        "all": [
            {"fact": "a.x", "op": "exists"},
            {"any": [{"fact": "a.y", "op": "eq", "value": 1}, {"not": {"fact": "a.z", "op": "eq", "value": {"fact": "a.w"}}}]},
        ]
    }
)


def test_leaves_walks_in_document_order_with_pointers() -> None:
    got = [(ptr, leaf.fact) for ptr, leaf in leaves(COND, "/rules/0/assert")]
    assert got == [
        ("/rules/0/assert/all/0", "a.x"),
        ("/rules/0/assert/all/1/any/0", "a.y"),
        ("/rules/0/assert/all/1/any/1/not", "a.z"),
    ]
    assert list(leaves(None)) == []


def test_fold_builds_bottom_up() -> None:
    text = fold(
        COND,
        lambda leaf: leaf.fact,
        lambda xs: "all(" + ",".join(xs) + ")",
        lambda xs: "any(" + ",".join(xs) + ")",
        lambda x: "not(" + x + ")",
    )
    assert text == "all(a.x,any(a.y,not(a.z)))"
    assert isinstance(COND.all[1], AnyOf) and isinstance(COND.all[1].any[1], NotOf)


def test_no_bundled_condition_holds_a_raw_dict() -> None:
    ps, _ = load_policies()
    seen = {Lit: 0, FactRef: 0, TableRef: 0}

    def check(rule: Rule) -> None:
        for cond in (rule.when, rule.assert_):
            for _, leaf in leaves(cond):
                if leaf.value is None:
                    continue
                assert type(leaf.value) in seen, (rule.id, leaf)
                seen[type(leaf.value)] += 1
                for ref in lookups(leaf.value):
                    assert all(type(w) in seen for w in ref.where.values()), (rule.id, ref)

    for e in ps.effective.values():
        for rule in e.rules:
            check(rule)
    # The bundled packs use all three kinds of operand.
    assert all(seen.values()), seen
