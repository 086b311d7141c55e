"""Whatever closure the compiler picks, the outcome is the one the truth tables say.

The compiler specialises conditions by shape (a constant number, string or
boolean, a one-, two-, three- or deeper fact path, a table lookup whose
where-values are constants looked up once, a lookup keyed by one, two or three
facts, another fact). Every row of the hand-written truth tables
(tests/truth_tables.py) is run through every one of those shapes and compared
with the outcome written in the table: never with the operator table's own
functions, which are the code under test.

A missing subject fact, a missing operand fact, a lookup with no row: unknown,
for every operator and every shape.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitegate.engine.codegen import RuleCode, generate
from sitegate.engine.compiler import ERROR, FAIL, PASS, UNKNOWN, compile_condition
from sitegate.engine.operators import OPERATORS, OperatorError
from sitegate.engine.policy import Confidence, Leaf, Table, TableRef

from .truth_tables import LIST_OPERATORS, PRESENCE, cases, literal_ok, merge, nest

CODE = {"P": PASS, "F": FAIL, "E": ERROR}
NAMES = {PASS: "pass", FAIL: "fail", UNKNOWN: "unknown", ERROR: "error"}
DECOY = "decoy-row"  # a later row matching the same key: a single lookup takes the first


def _table(rows: list[dict[str, Any]]) -> Table:
    return Table(description="t", confidence=Confidence.HIGH, source="https://example.invalid", rows=tuple(rows))


# An operand form: how the operand reaches the comparison.
# (value for the leaf, facts it needs, tables, facts with the operand's source missing or None)
Form = Callable[[Any], tuple[Any, dict[str, Any], dict[str, Table], list[dict[str, Any]]]]


def _literal(operand: Any):
    return operand, {}, {}, []


def _fact(path: str) -> Form:
    def form(operand: Any):
        missing = [{}, nest(path, None)]
        if "." in path:
            missing.append({path.split(".")[0]: 7})
        return {"fact": path}, nest(path, operand), {}, missing
    return form


_KEYS = {"k": "key", "j": "jay", "m": "em"}


def _lookup(nkeys: int, *, per_host: bool, single: bool) -> Form:
    """A lookup with 0..3 where-keys, constant or read from host facts (h.k, h.j, h.m)."""
    keys = list(_KEYS)[:nkeys]

    def form(operand: Any):
        if single:
            rows = [{**_KEYS, "k": "other", "c": DECOY}, {**_KEYS, "c": operand}, {**_KEYS, "c": DECOY}]
        else:
            rows = [{**_KEYS, "k": "other", "c": DECOY}] + [{**_KEYS, "c": x} for x in operand]
        where = {k: ({"fact": f"h.{k}"} if per_host else _KEYS[k]) for k in keys}
        ref = TableRef(table="t", column="c", where=where, single=single)
        facts = {"h": {k: _KEYS[k] for k in keys}} if per_host else {}
        missing: list[dict[str, Any]] = []
        if per_host:
            for k in keys:
                missing.append({"h": {**facts["h"], k: None}})
                missing.append({"h": {**facts["h"], k: "no-such-key"}} if single else {"h": {x: None for x in keys}})
            missing.append({})
        return ref, facts, {"t": _table(rows)}, missing
    return form


FORMS: dict[str, Form] = {
    "literal": _literal,
    "fact-1": _fact("ov"),
    "fact-2": _fact("o.v"),
    "fact-3": _fact("o.p.v"),
    "fact-4": _fact("o.p.q.v"),
    "table-const-single": _lookup(1, per_host=False, single=True),
    "table-const-2-single": _lookup(2, per_host=False, single=True),
    "table-host-1-single": _lookup(1, per_host=True, single=True),
    "table-host-2-single": _lookup(2, per_host=True, single=True),
    "table-host-3-single": _lookup(3, per_host=True, single=True),
    "table-const-rows": _lookup(1, per_host=False, single=False),
    "table-host-1-rows": _lookup(1, per_host=True, single=False),
    "table-host-2-rows": _lookup(2, per_host=True, single=False),
    "table-host-3-rows": _lookup(3, per_host=True, single=False),
}
SUBJECTS = ("x", "sec.field", "a.b.c", "a.b.c.d")


def _applies(form: str, op: str, operand: Any) -> bool:
    if form == "literal":
        return literal_ok(op, operand)
    if form.endswith("-rows"):
        # the column's values across the matching rows form the list
        return op in LIST_OPERATORS and type(operand) is list
    return True


def _outcome(cond: Any, tables: dict[str, Table], facts: dict[str, Any]) -> tuple[int, int, bool]:
    """fast() and explain() of a compiled condition: (fast code, explained code, has evidence)."""
    return _run(compile_condition(cond, tables), facts)


def _run(node: Any, facts: dict[str, Any]) -> tuple[int, int, bool]:
    code = node.fast(facts)
    again = node.fast(facts)  # per-host lookups remember lists: asked twice, as hosts do
    assert again == code
    # The generated code of the same node (engine/codegen.py inlines a leaf's shape),
    # asked twice too (the second time from a memo the first may have filled).
    run = _generated(node)
    assert run(facts) == run(facts) == [code], (run(facts), code)
    ecode, evidence = node.explain(facts)
    return code, ecode, bool(evidence)


def _generated(node: Any) -> Callable[[dict[str, Any]], list[int]]:
    """The generated function of one condition, made once per node."""
    run = getattr(node, "_test_generated", None)
    if run is None:
        run = node._test_generated = generate([RuleCode(None, node)]).function
    return run


ALL_CASES = cases()


@pytest.mark.parametrize("form", list(FORMS))
def test_every_row_of_the_truth_tables_in_every_shape(form: str) -> None:
    wrong = []
    ran = 0
    for op, fact, operand, exp in ALL_CASES:
        if not _applies(form, op, operand):
            continue
        value, ofacts, tables, missing_operand = FORMS[form](operand)
        want = CODE[exp]
        for subject in SUBJECTS:
            leaf = Leaf(fact=subject, op=op, value=value)
            node = compile_condition(leaf, tables)
            got = _run(node, merge(nest(subject, fact), ofacts))
            ran += 1
            if got != (want, want, want != PASS):
                wrong.append(f"{subject} {op} {operand!r:.40} on {fact!r:.40}: {[NAMES.get(c, c) for c in got[:2]]}, table says {NAMES[want]}")
            # The subject fact absent, null, or its parent not an object: unknown.
            gone = [{}, merge(nest(subject, None), ofacts)]
            if "." in subject:
                gone.append(merge({subject.split(".")[0]: 7}, ofacts))
            if subject.count(".") >= 2:
                gone.append(merge(nest(subject.rsplit(".", 1)[0], 7), ofacts))
            for facts in gone:
                got = _run(node, facts)
                if got != (UNKNOWN, UNKNOWN, True):
                    wrong.append(f"{subject} {op} {operand!r:.40} with {facts!r:.60}: {got}, want unknown")
        # The operand's source missing (fact absent or null, no row, a where-fact missing): unknown.
        node = compile_condition(Leaf(fact="sec.field", op=op, value=value), tables)
        for facts in missing_operand:
            got = _run(node, merge({"sec": {"field": fact}}, facts))
            if got != (UNKNOWN, UNKNOWN, True):
                wrong.append(f"{op} {operand!r:.40} with operand source {facts!r:.60}: {got}, want unknown")
    assert ran > 100
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong[:40])


def test_the_operator_table_agrees_with_the_truth_tables() -> None:
    """Each row of the operator table, called as the table documents (resolved values in,
    a bool out, OperatorError for a value it cannot compare), on every row of the tables."""
    wrong = []
    for op, fact, operand, exp in ALL_CASES:
        try:
            got = "P" if OPERATORS[op].fn(fact, operand) is True else "F"
        except (OperatorError, TypeError, ValueError):
            got = "E"
        if got != exp:
            wrong.append(f"{op} {operand!r:.40} on {fact!r:.40}: {got}, table says {exp}")
    for fact, exists, missing in PRESENCE:
        assert (OPERATORS["exists"].fn(fact, None), OPERATORS["missing"].fn(fact, None)) == (exists == "P", missing == "P")
    assert not wrong, "\n".join(wrong)


def test_the_date_memo_stays_bounded() -> None:
    """A fleet of distinct collection times does not grow the parsed-date memo past its bound."""
    from sitegate.engine import operators

    node = compile_condition(Leaf(fact="p.at", op="date_before", value="2027-01-12"), {})
    for i in range(1500):
        stamp = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
        assert node.fast({"p": {"at": stamp}}) == PASS
    assert len(operators._DATES) == 1024
    assert node.fast({"p": {"at": "2027-01-12T00:00:00Z"}}) == FAIL


@pytest.mark.parametrize("subject", SUBJECTS)
def test_exists_and_missing(subject: str) -> None:
    for fact, exists, missing in PRESENCE:
        facts = nest(subject, fact)
        assert _outcome(Leaf(fact=subject, op="exists"), {}, facts) == (CODE[exists],) * 2 + (exists != "P",)
        assert _outcome(Leaf(fact=subject, op="missing"), {}, facts) == (CODE[missing],) * 2 + (missing != "P",)
    absent = [{}, nest(subject, None)] + ([{subject.split(".")[0]: "x"}] if "." in subject else [])
    for facts in absent:
        assert _outcome(Leaf(fact=subject, op="exists"), {}, facts) == (FAIL, FAIL, True)
        assert _outcome(Leaf(fact=subject, op="missing"), {}, facts) == (PASS, PASS, False)


@pytest.mark.parametrize("nkeys", [1, 2, 3])
@pytest.mark.parametrize("per_host", [False, True])
def test_a_single_lookup_takes_the_first_matching_row(nkeys: int, per_host: bool) -> None:
    """Rows are in the table's order; `single` is the first match, not the last."""
    keys = list(_KEYS)[:nkeys]
    rows = [{**_KEYS, "k": "other", "build": 1}, {**_KEYS, "build": 17763}, {**_KEYS, "build": 7601}, {**_KEYS, "build": 9200}]
    where = {k: ({"fact": f"h.{k}"} if per_host else _KEYS[k]) for k in keys}
    ref = TableRef(table="t", column="build", where=where, single=True)
    host = {"h": dict(_KEYS)} if per_host else {}
    tables = {"t": _table(rows)}
    for op, fact, want in [("eq", 17763, PASS), ("eq", 7601, FAIL), ("eq", 9200, FAIL), ("ge", 17763, PASS), ("lt", 9200, PASS), ("gt", 7601, FAIL)]:
        code = _outcome(Leaf(fact="os.build", op=op, value=ref), tables, {"os": {"build": fact}, **host})[0]
        assert code == want, (op, fact, NAMES[code])


def test_a_lookup_key_that_is_a_list_or_a_number_matches_its_row() -> None:
    rows = [{"k": ["a", "b"], "n": 2, "c": "list-key"}, {"k": 5, "n": 2, "c": "int-key"}, {"k": "a", "n": 2, "c": "str-key"}]
    tables = {"t": _table(rows)}
    for key, want in ([["a", "b"], "list-key"], [5, "int-key"], ["a", "str-key"]):
        for where in ({"k": {"fact": "h.k"}}, {"k": {"fact": "h.k"}, "n": {"fact": "h.n"}}, {"k": {"fact": "h.k"}, "n": {"fact": "h.n"}, "c": want}):
            ref = TableRef(table="t", column="c", where=where, single=True)
            leaf = Leaf(fact="s.v", op="eq", value=ref)
            assert _outcome(leaf, tables, {"s": {"v": want}, "h": {"k": key, "n": 2}})[0] == PASS, (key, where)
            assert _outcome(leaf, tables, {"s": {"v": "str-key" if want != "str-key" else "int-key"}, "h": {"k": key, "n": 2}})[0] == FAIL


def test_a_constant_lookup_without_a_row_is_unknown_for_every_host() -> None:
    tables = {"t": _table([{"k": "a", "c": 1}])}
    for op, fact in (("eq", 1), ("ge", 1), ("contains_any", [1]), ("in", 1)):
        ref = TableRef(table="t", column="c", where={"k": "zz"}, single=True)
        assert _outcome(Leaf(fact="s.v", op=op, value=ref), tables, {"s": {"v": fact}}) == (UNKNOWN, UNKNOWN, True)


# Metamorphic property: the shape of a condition never changes its outcome. A value
# compared with a literal, with the same value through a fact, through a constant
# lookup and through a per-host lookup, on a 1-, 2-, 3- or 4-part path, gives one
# answer. (The answers themselves are pinned by the truth tables above.)
scalars = st.one_of(
    st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5, -0.0, 3.0]),
    st.sampled_from(["a", "b", "1", "8.7.3", "8.8rc1", "2025-10-14", "2026-01-01", ""]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
OPS = sorted({c[0] for c in ALL_CASES})


@settings(max_examples=120, deadline=None)
@given(op=st.sampled_from(OPS), fact=values, operand=values)
def test_the_shape_of_a_condition_never_changes_its_outcome(op: str, fact: Any, operand: Any) -> None:
    if op in LIST_OPERATORS and type(operand) is not list:
        operand = [operand]
    seen = {}
    for form, build in FORMS.items():
        if not _applies(form, op, operand):
            continue
        value, ofacts, tables, _ = build(operand)
        for subject in SUBJECTS:
            try:
                got = _outcome(Leaf(fact=subject, op=op, value=value), tables, merge(nest(subject, fact), ofacts))
            except TypeError:
                continue  # an unhashable list in a set operand: not a value facts can hold
            seen[(form, subject)] = got
    assert len(set(seen.values())) <= 1, seen


def test_a_row_without_the_looked_up_column_gives_no_value() -> None:
    """A row that matches the key but has no value in the column (absent or null) adds
    nothing: the lookup goes on to the next matching row, or is unknown without one."""
    rows = [{"k": "a"}, {"k": "a", "build": None}, {"k": "a", "build": 17763}, {"k": "b"}]
    tables = {"t": _table(rows)}
    ref = TableRef(table="t", column="build", where={"k": {"fact": "h.k"}}, single=True)
    leaf = Leaf(fact="os.build", op="eq", value=ref)
    assert _outcome(leaf, tables, {"os": {"build": 17763}, "h": {"k": "a"}})[:2] == (PASS, PASS)
    assert _outcome(leaf, tables, {"os": {"build": 17763}, "h": {"k": "b"}})[:2] == (UNKNOWN, UNKNOWN)


@pytest.mark.parametrize(("op", "const", "kind"), [
    ("ge", 8192, "num"), ("lt", 2.5, "num"),
    ("eq", "x64", "str_eq"), ("ne", True, "is"),
    ("in", ["task", "package"], "str_in"), ("not_in", ["a"], "str_in"),
    ("in", [1, 2], "num_in"), ("not_in", [7601, 2.5], "num_in"),
])
def test_common_constant_comparisons_take_their_fast_form(op: str, const: Any, kind: str) -> None:
    """The fast forms are a designed property (the generated code inlines them; the general
    closure is several Python calls more per host): a number against a threshold, a string or
    a bool against a constant, a string against a list of strings. Outcomes stay the table's."""
    from sitegate.engine.compiler import LeafNode, const_shape

    assert const_shape(op, const)[0] == kind
    node = LeafNode(Leaf(fact="sec.field", op=op, value=const), {})
    assert node.shape is not None and node.shape[0] == kind
    assert node.fast.__name__ != "fast_const"  # not the general closure


@pytest.mark.parametrize(("op", "const"), [
    ("ge", "8"), ("ge", True), ("eq", 5), ("in", []), ("contains_all", [1]),
    ("in", [1, True]), ("not_in", [True]), ("in", [1, "1"]), ("not_in", [[1], 2]), ("in", [None, 1]),
])
def test_other_constant_comparisons_take_the_general_form(op: str, const: Any) -> None:
    from sitegate.engine.compiler import const_shape

    assert const_shape(op, const) is None


@pytest.mark.parametrize(("op", "value", "fact", "kind", "want"), [
    ("ge", 8192, 8192, "num", PASS), ("ge", 8192, 8191, "num", FAIL),
    ("eq", "x64", "x64", "str_eq", PASS), ("eq", "x64", "x86", "str_eq", FAIL),
    ("in", ["task", "package"], "task", "str_in", PASS), ("in", ["task", "package"], "monitor", "str_in", FAIL),
    ("not_in", [7601, 9200], 7601, "num_in", FAIL), ("not_in", [7601, 9200], 7601.5, "num_in", PASS),
    ("not_in", [1], True, "num_in", PASS),
    ("contains_all", ["Web-ASP", "Web-WMI"], ["Web-WMI", "Web-ASP"], "set", PASS),
    ("contains_any", ["GET"], ["PUT"], "set", FAIL), ("contains_none", ["GET"], ["PUT", ["x"]], "set", ERROR),
    ("matches", r"\\Package Delivery$", "C:\\Package Delivery", "memo", PASS), ("matches", "^a", 5, "memo", ERROR),
])
def test_a_constant_lookup_takes_the_fast_form_of_its_value(op: str, value: Any, fact: Any, kind: str, want: int) -> None:
    """A lookup whose where-values are constants has one answer, looked up once: the
    comparison then takes the fast form of that answer, as a literal would."""
    from sitegate.engine.compiler import LeafNode

    ref = TableRef(table="t", column="c", where={"k": "a"}, single=True)
    node = LeafNode(Leaf(fact="sec.field", op=op, value=ref), {"t": _table([{"k": "a", "c": value}, {"k": "b", "c": "other"}])})
    assert node.shape is not None and node.shape[0] == kind
    assert node.fast.__name__ != "fast_const"  # not the general closure
    assert node.fast({"sec": {"field": fact}}) == want



@pytest.mark.parametrize("where", [{}, {"k": "a"}])
@pytest.mark.parametrize(("op", "kind"), [
    ("contains_all", "set"), ("contains_any", "set"), ("contains_none", "set"), ("in", "num_in"), ("not_in", "num_in"),
])
def test_a_constant_lookup_of_rows_takes_the_fast_form_of_their_column(where: dict[str, Any], op: str, kind: str) -> None:
    """A lookup of all rows (or of the rows a constant selects) is one constant list: a
    list of strings against a list fact, a list of numbers for a number, as a literal."""
    from sitegate.engine.compiler import LeafNode

    column = ["Web-ASP", "Web-WMI"] if kind == "set" else [7601, 9200.0]
    rows = [{"k": "a", "c": x} for x in column] + ([{"k": "b", "c": "other"}] if where else [])
    ref = TableRef(table="t", column="c", where=where, single=False)
    node = LeafNode(Leaf(fact="sec.field", op=op, value=ref), {"t": _table(rows)})
    assert node.shape is not None and node.shape[0] == kind
    assert node.fast.__name__ != "fast_const"


def test_the_regex_memo_keeps_no_long_text() -> None:
    """A matches memo remembers short strings only: values up to 64 KB may be matched,
    1,024 of them would hold 64 MB. Long ones are decided each time, rightly."""
    from sitegate.engine.compiler import MEMO_KEY_LIMIT, LeafNode

    node = LeafNode(Leaf(fact="s.v", op="matches", value="a$"), {})
    assert node.shape is not None and node.shape[0] == "memo"
    memo = node.shape[1]
    long_a, long_b = "x" * MEMO_KEY_LIMIT + "a", "x" * MEMO_KEY_LIMIT + "b"
    for _ in range(2):
        assert [node.fast({"s": {"v": v}}) for v in ("a", "b", long_a, long_b)] == [PASS, FAIL, PASS, FAIL]
    assert memo == {"a": PASS, "b": FAIL}


@pytest.mark.parametrize("operand", ["o.v", "ov", "o.p.v", "sec.other"])
@pytest.mark.parametrize(("op", "kind"), [("eq", "fact_eq"), ("ne", "fact_eq"), ("version_le", "pair_memo"), ("version_eq", "pair_memo")])
def test_a_fact_against_another_fact_takes_a_shape_the_generated_code_inlines(operand: str, op: str, kind: str) -> None:
    """eq/ne and the version operators of two facts are read inline by generated code (the
    truth tables' fact forms hold their outcomes); other operators keep their closures."""
    from sitegate.engine.compiler import LeafNode

    node = LeafNode(Leaf(fact="sec.field", op=op, value={"fact": operand}), {})
    assert node.shape is not None and node.shape[0] == kind and node.shape[-1] == operand
    assert LeafNode(Leaf(fact="sec.field", op="lt", value={"fact": operand}), {}).shape is None


@pytest.mark.parametrize("op", ["in", "not_in"])
def test_membership_in_the_rows_a_fact_selects(op: str) -> None:
    """in/not_in a table's rows keyed by one fact ("table_in"): per key its plain values as
    a set, a key with no rows no member, a key of another type or a key whose values are
    not plain decided by the closure (generated and closure agree, raising alike)."""
    rows = [
        {"k": "s", "c": 17763}, {"k": "s", "c": 20348.0}, {"k": "s", "c": "x"},
        {"k": "b", "c": True}, {"k": "b", "c": 2},  # a bool: not plain, the closure decides
        {"k": 1, "c": "one"}, {"k": "n"},  # a row without a value: no member
    ]
    ref = TableRef(table="t", column="c", where={"k": {"fact": "h.k"}}, single=False)
    node = compile_condition(Leaf(fact="sec.field", op=op, value=ref), {"t": _table(rows)})
    assert node.shape is not None and node.shape[0] == "table_in"
    assert node.shape[3] == {"s": frozenset({17763, 20348, "x"}), "b": None, 1: frozenset({"one"})}
    run = _generated(node)
    yes, no = (PASS, FAIL) if op == "in" else (FAIL, PASS)
    table = [
        ("s", 17763, yes), ("s", 17763.0, yes), ("s", 20348, yes), ("s", "x", yes), ("s", "17763", no), ("s", True, no),
        ("s", [17763], no), ("s", {"a": 1}, no), ("s", 1, no),
        ("b", True, yes), ("b", 1, no), ("b", 2, yes), ("b", 2.0, yes), ("b", False, no),
        (1, "one", yes), (True, "one", yes), (1.0, "one", yes), ("1", "one", no),  # keys match as the table's dict does
        ("n", 17763, no), ("zz", 17763, no), ("zz", True, no), (["s"], 17763, no), (False, "one", no),
        (None, 17763, UNKNOWN), ("s", None, UNKNOWN),
    ]
    for key, value, want in table:
        facts: dict[str, Any] = {"h": {"k": key}, "sec": {"field": value}}
        assert node.fast(facts) == want, (key, value)
        assert run(facts) == [want], (key, value)
    # An object, or a list of objects, as the key: no row holds one (the value is in no row's column).
    for key in ({"a": 1}, [{"a": 1}]):
        facts = {"h": {"k": key}, "sec": {"field": 1}}
        assert node.fast(facts) == no and run(facts) == [no], key


@pytest.mark.parametrize("keys", [1, 2, 3])
@pytest.mark.parametrize("single", [True, False])
def test_an_object_key_selects_no_row_with_any_number_of_keys(keys: int, single: bool) -> None:
    """A lookup keyed (in any of its 1, 2 or 3 where-values) on an object or a list of
    objects: no row holds one. A single value is then missing (unknown), rows are none
    (not in them); never a TypeError, in the closure or the generated code."""
    names = ["k0", "k1", "k2"][:keys]
    rows = [{**{n: "a" for n in names}, "c": 1}]
    ref = TableRef(table="t", column="c", where={n: {"fact": f"h.{n}"} for n in names}, single=single)
    op = "eq" if single else "in"
    node = compile_condition(Leaf(fact="sec.field", op=op, value=ref), {"t": _table(rows)})
    run = _generated(node)
    hit = {"h": {n: "a" for n in names}, "sec": {"field": 1}}
    assert node.fast(hit) == PASS and run(hit) == [PASS]
    want = UNKNOWN if single else FAIL
    for odd in ({"x": 1}, [{"x": 1}]):
        for at in names:
            facts = {"h": {n: (odd if n == at else "a") for n in names}, "sec": {"field": 1}}
            assert node.fast(facts) == want and run(facts) == [want], (keys, at, odd)
