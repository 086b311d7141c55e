"""The cheaper building blocks of issue 18 (item 3) change no outcome.

- Version comparisons remember their outcome per version string (or pair of
  strings): every answer, first or remembered, is the one written here by hand.
- The finding memo's key: two hosts that differ in any value a rule reads never
  share evidence (the key tells 1 from 1.0 from true, -0.0 from 0.0, a list from
  a string, a missing fact from one of a missing section).
"""
from __future__ import annotations

from typing import Any

import pytest

from sitegate.engine import compiler as compiler_mod
from sitegate.engine.codegen import RuleCode, generate
from sitegate.engine.compiler import ERROR, FAIL, PASS, UNKNOWN, compile_condition
from sitegate.engine.policy import Confidence, Leaf, Table


def _table(rows: list[dict[str, Any]]) -> Table:
    return Table(description="t", confidence=Confidence.HIGH, source="https://example.invalid", rows=tuple(rows))


def _both(cond: dict[str, Any], tables: dict[str, Table] | None = None) -> list[Any]:
    """The closure and the generated code of one condition (each with its own memo)."""
    leaf = Leaf.model_validate(cond)
    closure = compile_condition(leaf, tables or {})
    node = compile_condition(leaf, tables or {})
    gen = generate([RuleCode(None, node)]).function
    return [closure.fast, lambda f: gen(f)[0]]


def _agent(v: Any) -> dict[str, Any]:
    return {"agent": {"version": v}} if v is not None else {"agent": {}}


# Written by hand from PEP 440: 8.10 is after 8.7.1, trailing zeros do not count.
GE_871 = [
    ("8.7.3", PASS), ("8.7.1", PASS), ("8.7.1.0", PASS), ("8.7.0.9999", FAIL), ("8.6", FAIL),
    ("8.10", PASS), ("8.7.1rc1", FAIL), ("junk", ERROR), ("", ERROR), (8.7, ERROR), (871, ERROR),
    (True, ERROR), (["8.7.3"], ERROR), (None, UNKNOWN),
]


@pytest.mark.parametrize("form", ["literal", "table"])
def test_a_version_constant_answers_the_same_the_first_time_and_after(form: str) -> None:
    if form == "literal":
        cond = {"fact": "agent.version", "op": "version_ge", "value": "8.7.1"}
        tables: dict[str, Table] = {}
    else:  # a lookup whose where-values are constants: looked up once, then a constant
        cond = {"fact": "agent.version", "op": "version_ge", "value": {"table": "t", "column": "c", "where": {"k": "x"}, "single": True}}
        tables = {"t": _table([{"k": "y", "c": "9.0"}, {"k": "x", "c": "8.7.1"}])}
    for fast in _both(cond, tables):
        for _ in range(3):  # the first answer is computed, the others remembered
            for value, want in GE_871:
                assert fast(_agent(value)) == want, (value, want)


def test_every_version_operator_through_the_memo() -> None:
    # (op, constant, value, outcome), by hand.
    rows = [
        ("version_eq", "8.7", "8.7.0", PASS), ("version_eq", "8.7", "8.7.1", FAIL),
        ("version_lt", "8.7", "8.6.9", PASS), ("version_lt", "8.7", "8.7", FAIL),
        ("version_le", "8.7", "8.7.0", PASS), ("version_le", "8.7", "8.7.1", FAIL),
        ("version_gt", "8.7", "8.10", PASS), ("version_gt", "8.7", "8.7.0", FAIL),
        ("version_in", ">=8.7,<8.8", "8.7.3", PASS), ("version_in", ">=8.7,<8.8", "8.8", FAIL),
        ("version_in", ">=8.7,<8.8", "8.7.5rc1", PASS),  # prereleases count, as the operator says
        ("version_in", ">=8.7,<8.8", "x.y", ERROR),
    ]
    for op, const, value, want in rows:
        for fast in _both({"fact": "agent.version", "op": op, "value": const}):
            assert [fast(_agent(value)) for _ in range(3)] == [want] * 3, (op, const, value)


def test_two_version_facts_are_remembered_as_a_pair() -> None:
    cond = {"fact": "platform.parent_notification_server_version", "op": "version_le", "value": {"fact": "platform.itms_version"}}
    rows = [
        (("8.7.1", "8.7.3"), PASS), (("8.7.3", "8.7.1"), FAIL), (("8.7.3", "8.7.3.0"), PASS),
        (("8.7", "8.10"), PASS), (("8.10", "8.7"), FAIL), (("bad", "8.7"), ERROR), (("8.7", "bad"), ERROR),
        ((8.7, "8.7"), ERROR), (("8.7", None), UNKNOWN), ((None, "8.7"), UNKNOWN),
    ]
    for fast in _both(cond):
        for _ in range(2):
            for (parent, own), want in rows:
                platform = {k: v for k, v in (("parent_notification_server_version", parent), ("itms_version", own)) if v is not None}
                assert fast({"platform": platform}) == want, (parent, own)


def test_the_version_memo_is_bounded_and_still_right_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler_mod, "VERSION_MEMO_LIMIT", 8)
    node = compile_condition(Leaf.model_validate({"fact": "agent.version", "op": "version_ge", "value": "8.7.10"}), {})
    assert node.shape is not None and node.shape[0] == "memo"
    memo = node.shape[1]
    values = [f"8.7.{i}" for i in range(30)]
    for _ in range(2):
        assert [node.fast(_agent(v)) for v in values] == [FAIL] * 10 + [PASS] * 20
    assert len(memo) == 8
