"""The compiler's specialised closures agree with the operator table on any input.

The compiler picks a faster closure for common shapes (a constant number, a
string or boolean, a two-part fact path read inline, a table lookup whose
where-values are constants looked up once). Whatever it picks, the outcome must
be what the plain definition gives: missing fact or operand -> unknown, the
operator raising -> error, else pass or fail.
"""
from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegate.engine.compiler import ERROR, FAIL, MISSING, PASS, UNKNOWN, compile_condition
from sitegate.engine.operators import OPERATORS, OperatorError
from sitegate.engine.policy import Confidence, Leaf, Lit, Table, TableRef

OPS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains_all", "contains_any", "contains_none", "version_ge", "date_before", "exists", "missing")
PATHS = ("x", "sec.field", "a.b.c")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([1.0, 2.5, -0.0, 3.0]),
    st.sampled_from(["a", "b", "1", "8.7.3", "2025-10-14", "2026-01-01", ""]),
)
values = st.one_of(scalars, st.lists(scalars.filter(lambda v: v is not None), max_size=4))

TABLE = Table(
    description="t",
    confidence=Confidence.HIGH,
    source="https://example.invalid",
    rows=(
        {"k": "a", "n": 3, "s": "b", "l": ["a", "b"], "d": "2026-01-01", "v": "8.7.1"},
        {"k": "b", "n": 2.5, "s": "a", "l": ["b"], "d": "2025-10-14", "v": "8.8"},
        {"k": "b", "n": True, "s": 1, "l": [1], "d": 5, "v": 8},
        {"k": "c"},
    ),
)
columns = st.sampled_from(["n", "s", "l", "d", "v"])
table_refs = st.builds(
    lambda col, key, single: TableRef(table="t", column=col, where={"k": key} if key is not None else {}, single=single),
    columns, st.sampled_from(["a", "b", "c", "z", None]), st.booleans(),
)


def _get(facts: dict[str, Any], path: str) -> Any:
    o: Any = facts
    for p in path.split("."):
        if type(o) is not dict:
            return MISSING
        o = o.get(p)
        if o is None:
            return MISSING
    return o


def _lookup(ref: TableRef) -> Any:
    where = {k: w.value for k, w in ref.where.items() if isinstance(w, Lit)}  # constant keys only here
    assert len(where) == len(ref.where)
    vals = [row[ref.column] for row in TABLE.rows if all(row.get(k) == w and type(row.get(k)) is type(w) for k, w in where.items()) and row.get(ref.column) is not None]
    if not vals:
        return MISSING if ref.single else []
    return vals[0] if ref.single else vals


def _reference(op: str, path: str, operand: Any, facts: dict[str, Any]) -> int:
    v = _get(facts, path)
    if op == "exists":
        return PASS if v is not MISSING else FAIL
    if op == "missing":
        return PASS if v is MISSING else FAIL
    if v is MISSING:
        return UNKNOWN
    r = _lookup(operand) if isinstance(operand, TableRef) else operand
    if r is MISSING:
        return UNKNOWN
    try:
        return PASS if OPERATORS[op].fn(v, r) else FAIL
    except (OperatorError, TypeError, ValueError):
        return ERROR


@settings(max_examples=600, deadline=None)
@given(
    op=st.sampled_from(OPS),
    path=st.sampled_from(PATHS),
    operand=st.one_of(values.filter(lambda v: v is not None), table_refs),
    fact=values,
    shape=st.sampled_from(["value", "no-section", "section-not-object"]),
)
def test_fast_closure_equals_the_operator_definition(op: str, path: str, operand: Any, fact: Any, shape: str) -> None:
    if op in ("contains_all", "contains_any", "contains_none", "in", "not_in") and not isinstance(operand, (list, TableRef)):
        operand = [operand]
    leaf = Leaf(fact=path, op=op, value=None if op in ("exists", "missing") else operand)
    node = compile_condition(leaf, {"t": TABLE})
    head, *rest = path.split(".")
    facts: dict[str, Any]
    if shape == "no-section" and rest:
        facts = {}
    elif shape == "section-not-object" and rest:
        facts = {head: 7}
    else:
        inner: Any = fact
        for p in reversed(rest):
            inner = {p: inner}
        facts = {head: inner}
    # The operand as the test wrote it (the model holds it parsed: Lit, TableRef).
    expected = _reference(op, path, None if op in ("exists", "missing") else operand, facts)
    assert node.fast(facts) == expected, (op, path, operand, facts)
    code, evidence = node.explain(facts)
    assert code == expected
    assert (evidence == []) == (expected == PASS)


@settings(max_examples=600, deadline=None)
@given(
    op=st.sampled_from(OPS),
    column=columns,
    key=st.sampled_from(["a", "b", "c", "z", 1, True]),
    single=st.booleans(),
    fact=values,
    repeat=st.integers(1, 3),
)
def test_fast_closure_with_a_per_host_lookup_equals_the_definition(op: str, column: str, key: Any, single: bool, fact: Any, repeat: int) -> None:
    """A table lookup keyed by a fact (resolved per host, the lists remembered by the
    ``in`` closure) against the definition; asked more than once, as hosts do."""
    ref = TableRef(table="t", column=column, where={"k": {"fact": "host.key"}}, single=single)
    leaf = Leaf(fact="sec.field", op=op, value=None if op in ("exists", "missing") else ref)
    node = compile_condition(leaf, {"t": TABLE})
    facts = {"sec": {"field": fact}, "host": {"key": key}}
    expected = _reference(op, "sec.field", TableRef(table="t", column=column, where={"k": key}, single=single), facts)
    for _ in range(repeat):
        assert node.fast(facts) == expected, (op, column, key, single, facts)


GRID_FACTS = [None, True, False, 0, 1, 2, 3, -1, 2.5, 3.0, 1.0, "a", "b", "1", "8.8", "", [], ["a"], ["a", "b"], [1], [True]]


def test_membership_with_a_per_host_lookup_on_a_grid() -> None:
    """``in``/``not_in`` against a per-host lookup, every column, key and fact of a grid
    (True == 1 and 1 == 1.0 are the cases a plain ``in`` gets wrong)."""
    for op in ("in", "not_in"):
        for column in ("n", "s", "l", "d", "v"):
            for key in ("a", "b", "c", "z", 1, True):
                for single in (False, True):
                    ref = TableRef(table="t", column=column, where={"k": {"fact": "host.key"}}, single=single)
                    node = compile_condition(Leaf(fact="sec.field", op=op, value=ref), {"t": TABLE})
                    for fact in GRID_FACTS:
                        facts = {"sec": {"field": fact}, "host": {"key": key}}
                        expected = _reference(op, "sec.field", TableRef(table="t", column=column, where={"k": key}, single=single), facts)
                        for _ in range(2):
                            assert node.fast(facts) == expected, (op, column, key, single, fact)


GRID_LISTS = [None, [], ["a"], ["a", "b"], ["b", "c"], [1], [True], [1.0], [["a"]], [{"a": 1}], "ab", 5, {"a": 1}, ["a", ["b"]]]


def test_fact_against_fact_on_a_grid() -> None:
    """Every operator with another fact as its operand (resolved per host), on a grid of
    lists, non-lists and unhashable items, against the operator table's definition."""
    for op in OPS:
        if op in ("exists", "missing"):
            continue
        node = compile_condition(Leaf(fact="sec.field", op=op, value={"fact": "other.value"}), {})
        for a in GRID_LISTS + GRID_FACTS:
            for b in GRID_LISTS + GRID_FACTS:
                facts = {"sec": {"field": a}, "other": {"value": b}}
                v, r = _get(facts, "sec.field"), _get(facts, "other.value")
                if v is MISSING or r is MISSING:
                    expected = UNKNOWN
                else:
                    try:
                        expected = PASS if OPERATORS[op].fn(v, r) else FAIL
                    except (OperatorError, TypeError, ValueError):
                        expected = ERROR
                assert node.fast(facts) == expected, (op, a, b)
