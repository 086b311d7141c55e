"""The one table of condition operators.

Every operator a policy may use is a row here: its name, what its right-hand
operand must be, which fact types it accepts, and the function that decides
it. The policy schema's operator enum is checked against this table by a test,
so the two cannot drift. Functions take already-resolved values and return a
bool; missing facts never reach them (the compiler turns those into
*unknown*).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import lru_cache
from typing import Any, Callable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

import re2


class Operand(str, Enum):
    """What the right-hand side of an operator must be."""

    NONE = "none"  # exists / missing take no value
    SCALAR = "scalar"  # one string, number or bool
    LIST = "list"  # a list of scalars
    NUMBER = "number"
    VERSION = "version"  # a version string
    SPECIFIER = "specifier"  # a PEP 440 specifier set
    REGEX = "regex"
    DATE = "date"  # an ISO 8601 date, YYYY-MM-DD


class OperatorError(Exception):
    """A fact has a value the operator cannot compare (the outcome is *error*)."""


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    """Parse a version once; fleets repeat the same few version strings."""
    try:
        return Version(text)
    except (InvalidVersion, TypeError):
        raise OperatorError(f"{text!r} is not a version") from None


@lru_cache(maxsize=1024)
def parse_specifier(text: str) -> SpecifierSet:
    """Parse a PEP 440 specifier set once."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise OperatorError(f"{text!r} is not a version specifier") from None


MAX_REGEX_LENGTH = 512
MAX_REGEX_INPUT = 65536


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Any:
    """Compile a policy regex with RE2 (linear time: no catastrophic backtracking)."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise OperatorError(f"regular expression longer than {MAX_REGEX_LENGTH} characters")
    opts = re2.Options()
    opts.max_mem = 1 << 20  # bound the automaton too, not only the run time
    opts.log_errors = False
    try:
        return re2.compile(pattern, options=opts)
    except re2.error as exc:
        raise OperatorError(f"invalid regular expression: {exc}") from None


# The wrapper's search() runs a Python generator per call (offset maps, a Match
# object); a yes/no answer needs only the compiled RE2 object's Match and its
# first span. These are the names the wrapper itself uses for that test.
_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
_NULL_SPAN = getattr(re2, "_NULL_SPAN", None)


@lru_cache(maxsize=1024)
def regex_search(pattern: str) -> Callable[[str], bool]:
    """``text -> bool``: whether the policy regex matches anywhere in text, as
    ``compile_regex(pattern).search(text) is not None`` answers, calling RE2's
    compiled matcher directly (about 6x fewer instructions than the wrapper)."""
    rx = compile_regex(pattern)
    inner = getattr(rx, "_regexp", None)
    if _UNANCHORED is None or _NULL_SPAN is None or inner is None or not hasattr(inner, "Match"):
        # Another google-re2 layout: the public API, slower but the same answer.
        return lambda text: rx.search(text) is not None
    match = inner.Match
    anchor = _UNANCHORED
    null = _NULL_SPAN

    def search(text: str) -> bool:
        b = text.encode("utf-8")  # what the wrapper does (a lone surrogate raises alike)
        return match(anchor, b, 0, len(b))[0] != null
    return search


def _num(v: Any) -> float | int:
    if type(v) is bool or not isinstance(v, (int, float)):
        raise OperatorError(f"{v!r} is not a number")
    return v


def _ver(v: Any) -> Version:
    if type(v) is not str:
        raise OperatorError(f"{v!r} is not a version string")
    return parse_version(v)


def member_keys(items: Any) -> set[tuple[bool, Any]]:
    """List members as set keys that keep a bool apart from the number it equals in
    Python (True == 1), as ``in`` does; numbers still compare by value (1 == 1.0)."""
    return {(type(x) is bool, x) for x in items}


#: Whether an iterable of types holds only ``str`` (a C call: no Python frame per member).
only_str_types = frozenset({str}).issuperset


def all_text(items: Any) -> bool:
    """Whether every member is a string: then plain set operations agree with
    :func:`member_keys` (a string equals only a string) and are cheaper."""
    return only_str_types(map(type, items))


def _lst(v: Any) -> list[Any]:
    if type(v) is not list:
        raise OperatorError(f"{v!r} is not a list")
    return v


def _date(v: Any) -> date:
    if type(v) is not str:
        raise OperatorError(f"{v!r} is not a date")
    d = _DATES.get(v)
    if d is not None:
        return d  # the audit date and a table's end dates, once per host each
    try:
        d = date.fromisoformat(v[:10])
    except ValueError:
        raise OperatorError(f"{v!r} is not an ISO date (YYYY-MM-DD)") from None
    if len(_DATES) < 1024:
        _DATES[v] = d
    return d


_DATES: dict[str, date] = {}


def _matches(v: Any, rx: str) -> bool:
    if type(v) is not str:
        raise OperatorError(f"{v!r} is not a string")
    if len(v) > MAX_REGEX_INPUT:
        # Truncating would change the answer; refuse instead (the outcome is error).
        raise OperatorError(f"value longer than {MAX_REGEX_INPUT} characters for a regex match")
    return regex_search(rx)(v)


@dataclass(frozen=True)
class OperatorSpec:
    """One row of the operator table."""

    name: str
    operand: Operand
    fact_kinds: frozenset[str]  # "string", "number", "boolean", "list", "version", "any"
    fn: Callable[[Any, Any], bool]
    symbol: str
    doc: str


def _row(name: str, operand: Operand, kinds: str, fn: Callable[[Any, Any], bool], symbol: str, doc: str) -> OperatorSpec:
    return OperatorSpec(name, operand, frozenset(kinds.split()), fn, symbol, doc)


OPERATORS: dict[str, OperatorSpec] = {
    s.name: s
    for s in (
        _row("eq", Operand.SCALAR, "any", lambda a, b: a == b and type(a) is type(b) or (_both_num(a, b) and a == b), "=", "equal to"),
        _row("ne", Operand.SCALAR, "any", lambda a, b: not (a == b and (type(a) is type(b) or _both_num(a, b))), "!=", "not equal to"),
        # A non-list operand (a fact or table cell holding a string) is an error, not a
        # string searched character by character.
        _row("in", Operand.LIST, "string number boolean", lambda a, b: any(a == x and (type(a) is type(x) or _both_num(a, x)) for x in _lst(b)), "in", "one of"),
        _row("not_in", Operand.LIST, "string number boolean", lambda a, b: not any(a == x and (type(a) is type(x) or _both_num(a, x)) for x in _lst(b)), "not in", "none of"),
        _row("lt", Operand.NUMBER, "number", lambda a, b: _num(a) < _num(b), "<", "less than"),
        _row("le", Operand.NUMBER, "number", lambda a, b: _num(a) <= _num(b), "<=", "at most"),
        _row("gt", Operand.NUMBER, "number", lambda a, b: _num(a) > _num(b), ">", "more than"),
        _row("ge", Operand.NUMBER, "number", lambda a, b: _num(a) >= _num(b), ">=", "at least"),
        _row("version_eq", Operand.VERSION, "version", lambda a, b: _ver(a) == _ver(b), "==", "version equal to"),
        _row("version_lt", Operand.VERSION, "version", lambda a, b: _ver(a) < _ver(b), "<", "version below"),
        _row("version_le", Operand.VERSION, "version", lambda a, b: _ver(a) <= _ver(b), "<=", "version at most"),
        _row("version_gt", Operand.VERSION, "version", lambda a, b: _ver(a) > _ver(b), ">", "version above"),
        _row("version_ge", Operand.VERSION, "version", lambda a, b: _ver(a) >= _ver(b), ">=", "version at least"),
        _row("version_in", Operand.SPECIFIER, "version", lambda a, b: parse_specifier(b).contains(_ver(a), prereleases=True), "in", "version within"),
        _row("contains_all", Operand.LIST, "list", lambda a, b: member_keys(b).issubset(member_keys(_lst(a))), "contains all of", "contains all of"),
        _row("contains_any", Operand.LIST, "list", lambda a, b: not member_keys(b).isdisjoint(member_keys(_lst(a))), "contains any of", "contains at least one of"),
        _row("contains_none", Operand.LIST, "list", lambda a, b: member_keys(b).isdisjoint(member_keys(_lst(a))), "contains none of", "contains none of"),
        _row("exists", Operand.NONE, "any", lambda a, b: True, "exists", "is present"),
        _row("missing", Operand.NONE, "any", lambda a, b: False, "is missing", "is absent"),
        _row("matches", Operand.REGEX, "string version", _matches, "matches", "matches the pattern"),
        _row("date_before", Operand.DATE, "string", lambda a, b: _date(a) < _date(b), "before", "a date before"),
        _row("date_on_or_after", Operand.DATE, "string", lambda a, b: _date(a) >= _date(b), "on or after", "a date on or after"),
    )
}


def _both_num(a: Any, b: Any) -> bool:
    return type(a) in (int, float) and type(b) in (int, float)


def describe_expected(op: str, value: Any) -> str:
    """Human text for what an operator expects, e.g. '>= 528040' or 'all of [A, B]'."""
    spec = OPERATORS[op]
    if spec.operand is Operand.NONE:
        return spec.symbol
    if isinstance(value, list):
        shown = ", ".join(str(v) for v in value[:12]) + (", ..." if len(value) > 12 else "")
        return f"{spec.doc} [{shown}]"
    if isinstance(value, bool):
        value = str(value).lower()
    return f"{spec.symbol} {value}"
