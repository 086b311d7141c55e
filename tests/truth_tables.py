"""Hand-written truth tables of every condition operator.

Each row is a fact value, an operand and the outcome written out by hand for
each operator of a family: "P" pass, "F" fail, "E" error (the operator cannot
compare the value). None of these expectations is computed by sitegate code;
they are what the policy language means (docs/policies.md): type-strict
equality (True is not 1, "1" is not 1, but 2 == 2.0), numbers only for order
(a boolean is not a number), PEP 440 versions (8.10 > 8.9, pre-releases sort
below their release and count inside a range), and so on.

A missing fact or operand is *unknown* for every operator but exists/missing;
that rule is applied by the tests to every row rather than written per row.

``literal_ok`` tells which operands a policy may write as a literal (the pack
loader refuses the others); any operand can still arrive through a fact or a
table reference, so every row is run in those forms.
"""
from __future__ import annotations

from typing import Any

P, F, E = "P", "F", "E"

# (fact value, operand, eq, ne)
EQ_NE: list[tuple[Any, Any, str, str]] = [
    # int, at and around the boundary
    (17763, 17763, P, F),
    (17762, 17763, F, P),
    (17764, 17763, F, P),
    (7601, 17763, F, P),
    (0, 0, P, F),
    (-1, 0, F, P),
    (1, 0, F, P),
    # float, and int against float (numbers compare by value)
    (2.5, 2.5, P, F),
    (2.4, 2.5, F, P),
    (2.6, 2.5, F, P),
    (2, 2.0, P, F),
    (2.0, 2, P, F),
    (3, 2.0, F, P),
    (0.0, 0, P, F),
    # bool, and bool against int/float (never equal: True is not 1)
    (True, True, P, F),
    (False, False, P, F),
    (False, True, F, P),
    (True, False, F, P),
    (True, 1, F, P),
    (1, True, F, P),
    (False, 0, F, P),
    (0, False, F, P),
    (1.0, True, F, P),
    (True, 1.0, F, P),
    # strings (and strings that look like numbers, booleans or versions)
    ("Standard", "Standard", P, F),
    ("Standard", "Datacenter", F, P),
    ("standard", "Standard", F, P),
    ("Standard ", "Standard", F, P),
    ("", "", P, F),
    ("", "a", F, P),
    ("1", 1, F, P),
    (1, "1", F, P),
    ("True", True, F, P),
    (True, "true", F, P),
    ("8.7", "8.7.0", F, P),  # eq compares text; version_eq compares versions
    # lists (through a fact or a table only: eq takes a single literal)
    (["a"], ["a"], P, F),
    (["a"], ["b"], F, P),
    (["a"], "a", F, P),
    ([], [], P, F),
]

# (fact value, list operand, in, not_in)
IN_NOT_IN: list[tuple[Any, Any, str, str]] = [
    (17763, [14393, 17763], P, F),
    (14393, [14393, 17763], P, F),
    (17762, [14393, 17763], F, P),
    (17764, [14393, 17763], F, P),
    (7601, [14393, 17763], F, P),
    # the True == 1 trap, both ways
    (True, [1, 2], F, P),
    (1, [True], F, P),
    (0, [False], F, P),
    (False, [0, 1], F, P),
    (1.0, [True], F, P),
    (True, [True], P, F),
    (False, [True], F, P),
    (True, [1, True], P, F),
    (1, [True, 1], P, F),
    (1, [True, "x"], F, P),
    # numbers by value
    (1, [1.0], P, F),
    (1.0, [1], P, F),
    (2.5, [2.5, 3], P, F),
    (2.5, [2, 3], F, P),
    # strings
    ("a", ["a", "b"], P, F),
    ("b", ["a", "b"], P, F),
    ("c", ["a", "b"], F, P),
    ("A", ["a", "b"], F, P),
    ("1", [1], F, P),
    (1, ["1"], F, P),
    ("", [""], P, F),
    ("", ["a"], F, P),
    # empty lists
    ("a", [], F, P),
    (1, [], F, P),
    (True, [], F, P),
    # numbers against a list of numbers only (the constant membership test of numbers)
    (1, [1, 2], P, F),
    (2.0, [1, 2], P, F),
    (0, [0.0, 5], P, F),
    (-0.0, [0], P, F),
    (0.5, [1, 2], F, P),
    (3, [1, 2.5, 3], P, F),
    (True, [1.0, 2], F, P),
    (False, [0, 0.0], F, P),
    (10**20, [10**20, 1], P, F),  # huge ints, by value
    (10**20, [1e20], P, F),  # 1e20 is exactly 10**20
    (2**53 + 1, [float(2**53)], F, P),  # a float that rounds: not equal by value
    (float(2**53), [2**53 + 1, 2**53], P, F),
    ("1", [1, 2], F, P),
    ("", [0], F, P),
    # values no list of scalars holds: never a member, never an error
    ([1], [1, 2], F, P),
    ([], [0], F, P),
    ({"a": 1}, [1, 2], F, P),
    (["a"], ["a", "b"], F, P),
    ({"a": 1}, ["a"], F, P),
    ([1, 2], [[1, 2], 3], P, F),  # a list equal to a list member (operands through a fact or table)
]

# (fact value, number operand, lt, le, gt, ge)
ORDER: list[tuple[Any, Any, str, str, str, str]] = [
    (99, 100, P, P, F, F),
    (100, 100, F, P, F, P),
    (101, 100, F, F, P, P),
    (-1, 0, P, P, F, F),
    (0, 0, F, P, F, P),
    (1, 0, F, F, P, P),
    (99.5, 100, P, P, F, F),
    (100.0, 100, F, P, F, P),
    (100.5, 100, F, F, P, P),
    (2, 2.5, P, P, F, F),
    (2.5, 2.5, F, P, F, P),
    (3, 2.5, F, F, P, P),
    (100, 100.0, F, P, F, P),
    # a boolean is not a number, a string of digits is not a number
    (True, 1, E, E, E, E),
    (False, 1, E, E, E, E),
    (True, 0, E, E, E, E),
    ("99", 100, E, E, E, E),
    ("a", 1, E, E, E, E),
    ([1], 2, E, E, E, E),
    # operands no policy may write as a literal, through a fact or a table
    (1, True, E, E, E, E),
    (1, "2", E, E, E, E),
    (True, False, E, E, E, E),  # two booleans do not order either
    (False, True, E, E, E, E),
    ("99", "100", E, E, E, E),  # nor two strings of digits
    ("a", "b", E, E, E, E),
]

# (fact value, version operand, version_eq, version_lt, version_le, version_gt, version_ge)
VERSIONS: list[tuple[Any, Any, str, str, str, str, str]] = [
    ("8.7", "8.7", P, F, P, F, P),
    ("8.7.0", "8.7", P, F, P, F, P),
    ("8.7", "8.7.0.0", P, F, P, F, P),
    ("8.6.9999", "8.7", F, P, P, F, F),
    ("8.6.4081.0", "8.7", F, P, P, F, F),
    ("8.7.1", "8.7", F, F, F, P, P),
    ("8.7.3264.0", "8.7.3", F, F, F, P, P),
    ("8.10", "8.9", F, F, F, P, P),  # versions, not floats
    ("8.9", "8.10", F, P, P, F, F),
    ("8.8rc1", "8.8", F, P, P, F, F),  # a pre-release sorts below its release
    ("8.8", "8.8rc1", F, F, F, P, P),
    ("8.8rc1", "8.8rc1", P, F, P, F, P),
    ("not-a-version", "8.7", E, E, E, E, E),
    ("", "8.7", E, E, E, E, E),
    (8, "8.7", E, E, E, E, E),
    (8.7, "8.7", E, E, E, E, E),
    (True, "8.7", E, E, E, E, E),
    (["8.7"], "8.7", E, E, E, E, E),
    # operands no policy may write as a literal
    ("8.7", "nope", E, E, E, E, E),
    ("8.7", 8.7, E, E, E, E, E),
]

# (fact value, specifier, version_in)
VERSION_IN: list[tuple[Any, Any, str]] = [
    ("8.7", ">=8.7,<8.9", P),
    ("8.7.0", ">=8.7,<8.9", P),
    ("8.6.9", ">=8.7,<8.9", F),
    ("8.6.9999.0", ">=8.7,<8.9", F),
    ("8.7rc1", ">=8.7,<8.9", F),  # below 8.7
    ("8.7.1", ">=8.7,<8.9", P),
    ("8.8", ">=8.7,<8.9", P),
    ("8.8rc1", ">=8.7,<8.9", P),  # a pre-release inside the range is inside
    ("8.8.1", ">=8.7,<8.9", P),
    ("8.8.9999", ">=8.7,<8.9", P),
    ("8.9", ">=8.7,<8.9", F),
    ("8.9rc1", ">=8.7,<8.9", F),  # PEP 440: <8.9 excludes 8.9's own pre-releases
    ("8.9.0", ">=8.7,<8.9", F),
    ("8.10", ">=8.7,<8.9", F),
    ("8.8.1", "==8.8.*", P),
    ("8.9", "==8.8.*", F),
    ("8.7.3", "==8.7.3", P),
    ("8.7.3.0", "==8.7.3", P),
    ("8.7.3.1", "==8.7.3", F),
    ("x", ">=8.7,<8.9", E),
    (8.8, ">=8.7,<8.9", E),
    (True, ">=8.7,<8.9", E),
    ("8.8", "not a specifier", E),  # not writable as a literal
]

# (fact value, list operand, contains_all, contains_any, contains_none)
CONTAINS: list[tuple[Any, Any, str, str, str]] = [
    (["a", "b", "c"], ["a", "b"], P, P, F),
    (["a", "b"], ["a", "b"], P, P, F),
    (["b", "a"], ["a", "b"], P, P, F),
    (["a"], ["a", "b"], F, P, F),
    (["b"], ["a", "b"], F, P, F),
    (["c"], ["a", "b"], F, F, P),
    (["A"], ["a"], F, F, P),
    ([], ["a"], F, F, P),
    (["a"], [], P, F, P),  # all of nothing holds, any of nothing does not
    ([], [], P, F, P),
    (["a", "a"], ["a"], P, P, F),
    ([1, 2], [1], P, P, F),
    ([1], [2], F, F, P),
    ([1.0], [1], P, P, F),  # numbers compare by value, as in `in`
    ([1], [True], F, F, P),  # a bool is not the number 1 (as `in` holds it)
    ([True], [1], F, F, P),
    ([0, "a"], [False], F, F, P),
    ([True, "a"], [True], P, P, F),
    (["1"], [1], F, F, P),  # a string is not a number
    ([1], ["1"], F, F, P),
    ([True], ["True"], F, F, P),
    (["a", 1, True, 1.5, None], ["a"], P, P, F),
    (["a", 1, True, 1.5, None], ["b", "c"], F, F, P),
    ([10**20], [1e20], P, P, F),
    # a list holding a list or an object: its members cannot be compared (error), even
    # when another member already decides (contains_any/none stop at no member)
    ([["a"]], ["a"], E, E, E),
    ([{"a": 1}], ["a"], E, E, E),
    (["a", ["x"]], ["a"], E, E, E),
    (["b", {"x": 1}], ["a"], E, E, E),
    ([1, ["x"]], [1], E, E, E),
    ([["a"]], [], E, E, E),  # even against no member at all
    ({"a": 1}, ["a"], E, E, E),  # an object is not a list
    ("ab", ["a"], E, E, E),  # a string is not a list of its characters
    ("a", ["a"], E, E, E),
    (1, [1], E, E, E),
    (True, [True], E, E, E),
]

# (present fact value, exists, missing); an absent or null fact is the other way round
PRESENCE: list[tuple[Any, str, str]] = [
    ("8.7", P, F),
    ("", P, F),
    (0, P, F),
    (False, P, F),
    ([], P, F),
]

# (fact value, pattern, matches)
MATCHES: list[tuple[Any, Any, str]] = [
    ("Microsoft Windows Server 2019 Standard", r"Server 20(19|22)", P),
    ("Microsoft Windows Server 2022 Datacenter", r"Server 20(19|22)", P),
    ("Microsoft Windows Server 2016 Standard", r"Server 20(19|22)", F),
    ("Server 2019", r"^Server 2019$", P),
    ("Server 20190", r"^Server 2019$", F),
    ("", r"^$", P),
    ("a", r"^$", F),
    ("8.7.3", r"^8\.7", P),
    ("8x7.3", r"^8\.7", F),
    ("a" * 65536, r"a$", P),  # the longest value compared
    ("a" * 65537, r"a$", E),  # longer: refused, never truncated
    ("a" * 512, "a" * 512, P),  # the longest pattern
    (5, r"5", E),
    (True, r"True", E),
    (False, r"False", E),
    (1.5, r"1", E),
    (["a"], r"a", E),
    ({"a": 1}, r"a", E),
    ("\ud800", r"a", E),  # a lone surrogate is no UTF-8 text: refused, not matched
    ("x\ud800", r"x", E),
    ("\u00e9t\u00e9", r"^\x{e9}t", P),
    ("a\nb", r"^b", F),  # ^ is the start of the text, not of a line
    # patterns no policy may write as a literal
    ("a" * 513, "a" * 513, E),  # too long
    ("abc", r"(", E),  # not a regular expression
]

# (fact value, date operand, date_before, date_on_or_after)
DATES: list[tuple[Any, Any, str, str]] = [
    ("2027-01-11", "2027-01-12", P, F),
    ("2027-01-12", "2027-01-12", F, P),
    ("2027-01-13", "2027-01-12", F, P),
    ("2027-01-11T23:59:59Z", "2027-01-12", P, F),
    ("2027-01-12T00:00:00Z", "2027-01-12", F, P),
    ("2026-11-20T09:12:00Z", "2027-01-12", P, F),
    ("2028-01-01", "2027-01-12", F, P),
    ("not a date", "2027-01-12", E, E),
    ("", "2027-01-12", E, E),
    (20270111, "2027-01-12", E, E),
    (True, "2027-01-12", E, E),
    ("2027-01-11", "12/01/2027", E, E),  # not writable as a literal
]


def cases() -> list[tuple[str, Any, Any, str]]:
    """Every (operator, fact value, operand, expected) of the tables above."""
    out: list[tuple[str, Any, Any, str]] = []
    for fact, operand, *exp in EQ_NE:
        out += [(op, fact, operand, e) for op, e in zip(("eq", "ne"), exp)]
    for fact, operand, *exp in IN_NOT_IN:
        out += [(op, fact, operand, e) for op, e in zip(("in", "not_in"), exp)]
    for fact, operand, *exp in ORDER:
        out += [(op, fact, operand, e) for op, e in zip(("lt", "le", "gt", "ge"), exp)]
    for fact, operand, *exp in VERSIONS:
        ops = ("version_eq", "version_lt", "version_le", "version_gt", "version_ge")
        out += [(op, fact, operand, e) for op, e in zip(ops, exp)]
    out += [("version_in", fact, operand, e) for fact, operand, e in VERSION_IN]
    for fact, operand, *exp in CONTAINS:
        out += [(op, fact, operand, e) for op, e in zip(("contains_all", "contains_any", "contains_none"), exp)]
    out += [("matches", fact, operand, e) for fact, operand, e in MATCHES]
    for fact, operand, *exp in DATES:
        out += [(op, fact, operand, e) for op, e in zip(("date_before", "date_on_or_after"), exp)]
    return out


LIST_OPERATORS = frozenset({"in", "not_in", "contains_all", "contains_any", "contains_none"})
_NUMBER = frozenset({"lt", "le", "gt", "ge"})
_STRING = frozenset({"version_eq", "version_lt", "version_le", "version_gt", "version_ge", "version_in", "matches", "date_before", "date_on_or_after"})


def literal_ok(op: str, operand: Any) -> bool:
    """Whether a policy may write this operand as a literal (what the pack loader accepts)."""
    if op in LIST_OPERATORS:
        return type(operand) is list
    if op in _NUMBER:
        return type(operand) in (int, float)
    if op in _STRING:
        if type(operand) is not str:
            return False
        if op == "matches":
            return len(operand) <= 512 and operand != "("
        if op.startswith("date"):
            return operand[4:5] == "-"
        return operand not in ("nope", "not a specifier")
    return type(operand) is not list


def nest(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for the dotted path ``a.b``: a fact placed in a facts document."""
    head, *rest = path.split(".")
    inner: Any = value
    for p in reversed(rest):
        inner = {p: inner}
    return {head: inner}


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``b`` laid over ``a``, nested objects merged key by key."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out
