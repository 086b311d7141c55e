"""Compile validated conditions into plain Python closures, once per rule.

Evaluation is three-valued plus error: a comparison whose fact is missing is
*unknown* (never a pass). ``all`` fails if any part fails, ``any`` passes if
any part passes, ``not`` swaps pass and fail. The hot path (``fast``) returns
only an int; the slow path (``explain``) is run for non-passing results to
collect evidence, so the cost of evidence is paid only where there is some.
"""
from __future__ import annotations

from typing import Any, Callable

from ..facts.normalize import DERIVED_SOURCES, user_fact
from .operators import OPERATORS, Operand, OperatorError, all_text, describe_expected, member_keys, only_str_types
from .model import ERROR, FAIL, MISSING, OUTCOME_NAMES, PASS, UNKNOWN, Evidence, show
from .policy import Condition, FactRef, Leaf, Lit, OperandModel, Table, TableRef, fold, leaves, operand_facts, written

Facts = dict[str, Any]
Getter = Callable[[Facts], Any]


def fact_pointer(path: str) -> str:
    """The JSON pointer in the facts file that a fact path reads."""
    if path.startswith("derived."):
        return DERIVED_SOURCES.get(path, "")
    if path.startswith("context."):
        return ""
    return "/" + path.replace(".", "/")


def make_getter(path: str) -> Getter:
    """A closure reading a dotted path; absent or null values read as MISSING."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (a,) = parts

        def g1(f: Facts) -> Any:
            v = f.get(a)
            return MISSING if v is None else v
        return g1
    if len(parts) == 2:
        a, b = parts

        def g2(f: Facts) -> Any:
            o = f.get(a)
            if type(o) is not dict:
                return MISSING
            v = o.get(b)
            return MISSING if v is None else v
        return g2
    if len(parts) == 3:
        a, b, c = parts

        def g3(f: Facts) -> Any:
            o = f.get(a)
            if type(o) is not dict:
                return MISSING
            o = o.get(b)
            if type(o) is not dict:
                return MISSING
            v = o.get(c)
            return MISSING if v is None else v
        return g3

    def gn(f: Facts) -> Any:
        o: Any = f
        for p in parts:
            if type(o) is not dict:
                return MISSING
            o = o.get(p)
            if o is None:
                return MISSING
        return o
    return gn


class Node:
    """A compiled condition: ``fast`` for the hot path, ``explain`` for evidence."""

    fast: Callable[[Facts], int]
    tables: frozenset[str] = frozenset()

    def explain(self, f: Facts) -> tuple[int, list[Evidence]]:  # pragma: no cover - interface
        raise NotImplementedError


class TableIndex:
    """Rows of a table indexed by the ``where`` columns of one lookup."""

    def __init__(self, table: Table, ref: TableRef):
        self.name = ref.table
        self.column = ref.column
        self.keys = tuple(sorted(ref.where))
        self.index: dict[tuple[Any, ...], list[Any]] = {}
        for row in table.rows:
            key = tuple(_hashable(row.get(k)) for k in self.keys)
            if self.column in row and row[self.column] is not None:
                self.index.setdefault(key, []).append(row[self.column])


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _rows(index: dict[tuple[Any, ...], list[Any]], key: tuple[Any, ...], single: bool) -> Any:
    """What a lookup gives for one key: the first row's value (``single``) or every
    row's, MISSING or [] when no row has the key. A key holding an object (or a list
    of objects) cannot be hashed, and no row holds one: no row."""
    try:
        vals = index.get(key)
    except TypeError:
        vals = None
    if not vals:
        return MISSING if single else []
    return vals[0] if single else vals


def _resolver(value: OperandModel | None, tables: dict[str, Table]) -> tuple[Getter, str, frozenset[str]]:
    """A closure resolving an operand for a host, its text, and the tables it reads."""
    if isinstance(value, FactRef):
        return make_getter(value.fact), f"the value of {value.fact}", frozenset()
    if isinstance(value, TableRef):
        idx = TableIndex(tables[value.table], value)
        where = [(_resolver(value.where[k], tables)[0]) for k in idx.keys]
        single = value.single
        index = idx.index
        desc = f"{value.table}.{value.column}" + (
            " where " + ", ".join(f"{k}={_operand_text(value.where[k])}" for k in idx.keys) if idx.keys else ""
        )

        if len(where) == 1:
            (g0,) = where

            def lookup1(f: Facts) -> Any:
                v = g0(f)
                if v is MISSING:
                    return MISSING
                return _rows(index, (tuple(v) if type(v) is list else v,), single)
            return lookup1, desc, frozenset({value.table})

        if len(where) == 2:
            ga, gb = where

            def lookup2(f: Facts) -> Any:
                a = ga(f)
                if a is MISSING:
                    return MISSING
                b = gb(f)
                if b is MISSING:
                    return MISSING
                return _rows(index, (tuple(a) if type(a) is list else a, tuple(b) if type(b) is list else b), single)
            return lookup2, desc, frozenset({value.table})

        def lookup(f: Facts) -> Any:
            key = []
            for g in where:
                v = g(f)
                if v is MISSING:
                    return MISSING
                key.append(_hashable(v))
            return _rows(index, tuple(key), single)
        return lookup, desc, frozenset({value.table})
    const = value.value if isinstance(value, Lit) else None
    return (lambda f: const), "", frozenset()


def operand_paths(value: OperandModel | None) -> list[str]:
    """Fact paths an operand reads (a fact reference; a table lookup's where-values, nested lookups included)."""
    return operand_facts(value)


def _reads_no_fact(value: OperandModel | None) -> bool:
    """True for a table lookup whose where-values are constants (nested lookups included)."""
    return isinstance(value, TableRef) and not operand_facts(value)


def _operand_text(v: OperandModel) -> str:
    if isinstance(v, FactRef):
        return v.fact
    return repr(written(v))


#: What a leaf's hot path does, for code generation (engine/codegen.py), or None
#: when only its closure knows: ("presence", want_present), ("code", outcome),
#: ("set", bound_set_method, hit, miss, whole), ("memo", outcomes_by_string, closure),
#: a fact against another fact ("fact_eq", hit, miss, path), ("pair_memo",
#: outcomes_by_pair, closure, path), membership in the rows a fact selects
#: ("table_in", present, absent, sets_by_key, closure, key_path), or a const_shape tuple.
Shape = tuple[Any, ...]


class LeafNode(Node):
    """``fact op value``."""

    def __init__(self, leaf: Leaf, tables: dict[str, Table]):
        self.leaf = leaf
        self.shape: Shape | None = None
        spec = OPERATORS[leaf.op]
        self.getter = getter = make_getter(leaf.fact)
        self.pointer = fact_pointer(leaf.fact)
        self._expected_memo: dict[Any, str] = {}
        fn = spec.fn
        if spec.operand is Operand.NONE:
            want_present = leaf.op == "exists"

            def fast_presence(f: Facts) -> int:
                return PASS if (getter(f) is not MISSING) == want_present else FAIL
            self.fast = fast_presence
            self.shape = ("presence", want_present)
            self.resolve: Getter = lambda f: None
            self.value_text = ""
            return
        resolve, self.value_text, self.tables = _resolver(leaf.value, tables)
        self.resolve = resolve
        is_const = isinstance(leaf.value, Lit)
        if _reads_no_fact(leaf.value):
            # A table lookup whose where-values are all constants has one answer:
            # look it up once, and compare each host with it like a constant.
            r0 = resolve({})
            if r0 is MISSING:
                def fast_no_data(f: Facts) -> int:
                    return UNKNOWN  # missing fact or no row: unknown either way
                self.fast = fast_no_data
                self.shape = ("code", UNKNOWN)
                return
            self.fast, self.shape = _const_leaf(leaf.op, r0, getter, fn, leaf.fact)
            return
        if is_const:
            self.fast, self.shape = _const_leaf(leaf.op, leaf.literal, getter, fn, leaf.fact)
            return

        if leaf.op in ("in", "not_in"):
            # Membership by == first (a C loop): no equal item means a definite
            # answer; otherwise the exact, type-strict operator decides.
            absent = FAIL if leaf.op == "in" else PASS
            present = PASS if leaf.op == "in" else FAIL
            # Lists (a table's column values, mostly the same few objects) known to
            # hold only plain strings and numbers: there an equal item of a string
            # or a number is already a type-strict match (True == 1 is the false
            # friend the exact operator exists for).
            # Only a table's lists are remembered: they never change, a fact's list may.
            plain: dict[int, tuple[list[Any], bool]] = {}
            from_table = bool(self.tables)

            def fast_dyn_in(f: Facts) -> int:
                v = getter(f)
                if v is MISSING:
                    return UNKNOWN
                r = resolve(f)
                if r is MISSING:
                    return UNKNOWN
                try:
                    if type(r) is list:
                        if v not in r:
                            return absent
                        tv = type(v)
                        if from_table and (tv is str or tv is int or tv is float):
                            known = plain.get(id(r))
                            if known is None or known[0] is not r:
                                if len(plain) >= 256:
                                    plain.clear()
                                known = plain[id(r)] = (r, all(type(x) is str or type(x) is int or type(x) is float for x in r))
                            if known[1]:
                                return present
                    return PASS if fn(v, r) else FAIL
                except (OperatorError, TypeError, ValueError):
                    return ERROR
            self.fast = fast_dyn_in
            ref = leaf.value
            if isinstance(ref, TableRef) and not ref.single and len(ref.where) == 1:
                (key,) = ref.where.values()
                if isinstance(key, FactRef):
                    # The rows of one table keyed by one fact: per key, the column's values
                    # as a set where they are plain (strings and numbers, no bool: a plain
                    # value of the host equal to one is a type-strict match), else None
                    # (the closure decides). A key with no rows: the empty list, no member.
                    rows = TableIndex(tables[ref.table], ref).index
                    sets = {k[0]: frozenset(vals) if all(type(x) is str or type(x) is int or type(x) is float for x in vals) else None for k, vals in rows.items()}
                    self.shape = ("table_in", present, absent, sets, fast_dyn_in, key.fact)
            return

        if leaf.op in ("lt", "le", "gt", "ge"):
            import operator as _op

            cmp = {"lt": _op.lt, "le": _op.le, "gt": _op.gt, "ge": _op.ge}[leaf.op]

            def fast_dyn_num(f: Facts) -> int:
                v = getter(f)
                if v is MISSING:
                    return UNKNOWN
                r = resolve(f)
                if r is MISSING:
                    return UNKNOWN
                tv = type(v)
                tr = type(r)
                if (tv is int or tv is float) and (tr is int or tr is float):
                    return PASS if cmp(v, r) else FAIL
                try:
                    return PASS if fn(v, r) else FAIL
                except (OperatorError, TypeError, ValueError):
                    return ERROR
            self.fast = fast_dyn_num
            return

        if leaf.op in ("contains_all", "contains_any", "contains_none"):
            # The operator table's definition, set(b) against _lst(a), without its two calls.
            kind = leaf.op

            def fast_dyn_contains(f: Facts) -> int:
                v = getter(f)
                if v is MISSING:
                    return UNKNOWN
                r = resolve(f)
                if r is MISSING:
                    return UNKNOWN
                try:
                    want = set(r)
                except TypeError:
                    return ERROR
                if type(v) is not list:
                    return ERROR
                try:
                    if not only_str_types(map(type, want)):  # all_text, without its call
                        return PASS if fn(v, r) else FAIL  # typed members: True is not 1
                    # issubset hashes every member of v (an unhashable one raises
                    # TypeError: error, as the operator's set of members); isdisjoint
                    # does when it answers True, and stops at a shared member: then
                    # a frozenset of v hashes the rest.
                    if kind == "contains_all":
                        return PASS if want.issubset(v) else FAIL
                    if want.isdisjoint(v):
                        return PASS if kind == "contains_none" else FAIL
                    frozenset(v)
                    return FAIL if kind == "contains_none" else PASS
                except (OperatorError, TypeError):
                    return ERROR
            self.fast = fast_dyn_contains
            return

        if leaf.op in VERSION_OPS:
            # Two version strings (an agent's and the NS's, a table's minimum): the
            # outcome of each pair once, then a dict hit (a fleet repeats a few pairs).
            pairs: dict[tuple[str, str], int] = {}

            def fast_dyn_version(f: Facts) -> int:
                v = getter(f)
                if v is MISSING:
                    return UNKNOWN
                r = resolve(f)
                if r is MISSING:
                    return UNKNOWN
                both = type(v) is str and type(r) is str
                if both:
                    code = pairs.get((v, r))
                    if code is not None:
                        return code
                try:
                    code = PASS if fn(v, r) else FAIL
                except (OperatorError, TypeError, ValueError):
                    code = ERROR
                if both and len(pairs) < VERSION_MEMO_LIMIT:
                    pairs[(v, r)] = code
                return code
            self.fast = fast_dyn_version
            if isinstance(leaf.value, FactRef):
                # Another fact: generated code reads both inline and looks the pair up.
                self.shape = ("pair_memo", pairs, fast_dyn_version, leaf.value.fact)
            return

        def fast_dyn(f: Facts) -> int:
            v = getter(f)
            if v is MISSING:
                return UNKNOWN
            r = resolve(f)
            if r is MISSING:
                return UNKNOWN
            try:
                return PASS if fn(v, r) else FAIL
            except (OperatorError, TypeError, ValueError):
                return ERROR
        self.fast = fast_dyn
        if leaf.op in ("eq", "ne") and isinstance(leaf.value, FactRef):
            # Fact against fact, equal by the operator's rule (== and the same type, or
            # two numbers): generated code reads both inline ("fact_eq", hit, miss, path).
            self.shape = ("fact_eq", *((PASS, FAIL) if leaf.op == "eq" else (FAIL, PASS)), leaf.value.fact)

    def _expected(self, r: Any) -> str:
        """describe_expected, memoised per operand value (constants repeat on every host)."""
        leaf = self.leaf
        arg = r if r is not MISSING else self.value_text or leaf.literal
        try:
            key: Any = (type(arg), tuple(arg) if type(arg) is list else arg)
            text = self._expected_memo.get(key)
        except TypeError:
            return describe_expected(leaf.op, arg)
        if text is None:
            text = describe_expected(leaf.op, arg)
            if len(self._expected_memo) < 256:
                self._expected_memo[key] = text
        return text

    def explain(self, f: Facts) -> tuple[int, list[Evidence]]:
        leaf = self.leaf
        code = self.fast(f)
        if code == PASS:
            return code, []
        v = self.getter(f)
        r = self.resolve(f)
        expected = self._expected(r)
        detail = ""
        if code == UNKNOWN:
            detail = f"{user_fact(leaf.fact)} is not recorded" if v is MISSING else operand_gap(leaf.value, f)
        elif code == ERROR:
            try:
                OPERATORS[leaf.op].fn(v, r)
                detail = f"{v!r} cannot be compared with {leaf.op}"
            except Exception as exc:  # noqa: BLE001 - the message is the evidence
                detail = str(exc)
        elif leaf.op == "contains_all" and isinstance(v, list) and isinstance(r, (list, frozenset)):
            detail = "missing: " + ", ".join(sorted(str(x) for _, x in member_keys(r) - member_keys(v)))
        elif leaf.op == "contains_none" and isinstance(v, list) and isinstance(r, (list, frozenset)):
            detail = "present: " + ", ".join(sorted(str(x) for _, x in member_keys(r) & member_keys(v)))
        return code, [Evidence(leaf.fact, self.pointer, v, expected, leaf.op, OUTCOME_NAMES[code], detail, leaf.label or "")]


def operand_gap(value: OperandModel | None, f: Facts) -> str:
    """Why an operand has no value for this host, in the facts a user supplies:
    the fact it refers to is not recorded, a where-value of a table lookup is not
    (so no row can be chosen), or no row has the host's values ("no os_lifecycle
    row for build 19044 (desktop)")."""
    if isinstance(value, FactRef):
        return f"{user_fact(value.fact)} is not recorded"
    if not isinstance(value, TableRef):
        return "the value to compare with is not known"
    shown: list[tuple[str, str]] = []
    absent: list[str] = []
    for key, w in value.where.items():
        if isinstance(w, FactRef):
            got = make_getter(w.fact)(f)
            if got is MISSING:
                absent.append(user_fact(w.fact))
            else:
                shown.append((key, show(got)))
        elif isinstance(w, Lit):
            shown.append((key, show(w.value)))
        else:
            return operand_gap(w, f)  # a nested lookup: its own gap is the cause
    if absent:
        names = list(dict.fromkeys(absent))
        verb = "is" if len(names) == 1 else "are"
        return f"{' and '.join(names)} {verb} not recorded, so no {value.table} row can be chosen"
    if not shown:
        return f"table {value.table} has no {value.column}"
    return f"no {value.table} row for " + " and ".join(f"{key} {got}" for key, got in shown)


CONTAINS_OPS = frozenset({"contains_all", "contains_any", "contains_none"})


def _const_leaf(op: str, const: Any, getter: Getter, fn: Callable[[Any, Any], bool], path: str) -> tuple[Callable[[Facts], int], Shape | None]:
    """The closure and shape of ``fact op constant``, the constant a literal or the one
    answer of a table lookup whose where-values are constants: the fastest form that
    keeps the operator table's outcome, else the general closure."""
    if op in CONTAINS_OPS:
        found = _const_set(op, const, getter)
        if found is not None:
            return found
        return _compare_const(getter, fn, const), None
    special = _special_const(op, const, getter, path)
    if special is not None:
        return special, const_shape(op, const)
    fast = _compare_const(getter, fn, const)
    if op in MEMO_OPS:
        return _string_memo(getter, fast)
    return fast, None


def _const_set(op: str, const: Any, getter: Getter) -> tuple[Callable[[Facts], int], Shape] | None:
    """``list contains_all/any/none constant list of strings`` as one bound set method
    (a C call per host, no Python frame): ("set", method, hit, miss), or None for
    another constant. Only strings: a string equals only a string, so a plain set
    agrees with the operator's typed members (True is not 1 never arises).

    Every member of the fact's list is hashed, as the operator's set of members is: a
    member that is a list or an object cannot be, TypeError, the operator's error
    outcome. issubset makes a set of the list itself. isdisjoint sees every member when
    it answers True (no shared one), but stops at the first shared member: then
    (``whole``, contains_any/none) a frozenset of the list hashes the rest."""
    if type(const) is not list or not all_text(const):
        return None
    members = frozenset(const)
    if op == "contains_all":
        method, hit, miss, whole = members.issubset, PASS, FAIL, False
    else:  # no shared member decides: any fails, none passes
        method, whole = members.isdisjoint, True
        hit, miss = (FAIL, PASS) if op == "contains_any" else (PASS, FAIL)

    def fast_const_list(f: Facts) -> int:
        v = getter(f)
        if v is MISSING:
            return UNKNOWN
        if type(v) is not list:
            return ERROR
        try:
            if method(v):
                return hit
            if whole:
                frozenset(v)  # an unhashable member after a shared one: TypeError
            return miss
        except TypeError:
            return ERROR
    return fast_const_list, ("set", method, hit, miss, whole)


def _compare_const(getter: Getter, fn: Callable[[Any, Any], bool], const: Any) -> Callable[[Facts], int]:
    """The general closure for ``fact op constant``: the operator table's function, errors as ERROR."""
    def fast_const(f: Facts) -> int:
        v = getter(f)
        if v is MISSING:
            return UNKNOWN
        try:
            return PASS if fn(v, const) else FAIL
        except (OperatorError, TypeError, ValueError):
            return ERROR
    return fast_const


#: Operators whose outcome for a fact value is a function of the version string alone
#: (parsed by packaging, compared or matched against a specifier).
VERSION_OPS = frozenset({"version_eq", "version_lt", "version_le", "version_gt", "version_ge", "version_in"})
#: Operators whose outcome against a constant is a function of the fact's string alone:
#: the version operators, and ``matches`` (RE2 against a fixed pattern; a value too long
#: or no UTF-8 text is an error, the same for the same string every time).
MEMO_OPS = VERSION_OPS | {"matches"}
#: Distinct version strings (or pairs) remembered per comparison: a fleet has a few
#: dozen agent builds; past the limit the others are parsed and compared each time.
VERSION_MEMO_LIMIT = 1024
#: Longer strings are not remembered (1,024 of them could hold 64 MB of text a
#: regex is allowed to read); the comparison decides them each time.
MEMO_KEY_LIMIT = 1024


def _string_memo(getter: Getter, exact: Callable[[Facts], int]) -> tuple[Callable[[Facts], int], Shape]:
    """``fact op constant`` (an op of MEMO_OPS) answered once per distinct string: the
    outcome ``exact`` gives (pass, fail or error: the string alone decides it), then a
    dict hit. Only strings are remembered; anything else (a number where a version
    belongs: error) is decided by ``exact`` every time. The shape lets generated code
    look the memo up inline: ("memo", table, closure)."""
    memo: dict[str, int] = {}

    def fast_memo(f: Facts) -> int:
        v = getter(f)
        if v is MISSING:
            return UNKNOWN
        if type(v) is str:
            code = memo.get(v)
            if code is None:
                code = exact(f)
                if len(memo) < VERSION_MEMO_LIMIT and len(v) <= MEMO_KEY_LIMIT:
                    memo[v] = code
            return code
        return exact(f)
    return fast_memo, ("memo", memo, fast_memo)


def const_shape(op: str, const: Any) -> Shape | None:
    """Which fast form a constant comparison takes, or None for the general one:
    ("num", op, const), ("is", hit, miss, const) for a boolean, ("str_eq", hit,
    miss, const), ("str_in", hit, miss, frozenset), ("num_in", hit, miss, frozenset).
    The closures of
    _special_const and the generated code (engine/codegen.py) both follow it."""
    tc = type(const)
    if op in ("lt", "le", "gt", "ge") and (tc is int or tc is float):
        return ("num", op, const)
    if op in ("eq", "ne") and (tc is str or tc is bool):
        hit, miss = (PASS, FAIL) if op == "eq" else (FAIL, PASS)
        return ("is" if tc is bool else "str_eq", hit, miss, const)
    if op in ("in", "not_in") and tc is list and const:
        hit, miss = (PASS, FAIL) if op == "in" else (FAIL, PASS)
        if all(type(x) is str for x in const):
            return ("str_in", hit, miss, frozenset(const))
        if all(type(x) is int or type(x) is float for x in const):
            # Numbers only (no bool: True == 1 is the trap `in` is type-strict about): a
            # number is a member when equal by value (1 == 1.0), which a set answers too
            # (equal numbers hash alike). Any other fact value is never a member.
            return ("num_in", hit, miss, frozenset(const))
    return None


def _special_const(op: str, const: Any, getter: Getter, path: str = "") -> Callable[[Facts], int] | None:
    """A faster closure for the common constant comparisons, with the exact semantics of
    the operator table (type-strict equality, numbers only for order, bool is not a number).

    A two-part path (``section.field``, most facts) is read inline rather than
    through the getter: one Python call fewer per comparison per host.
    """
    shape = const_shape(op, const)
    if shape is None:
        return None
    kind = shape[0]
    parts = path.split(".")
    two = len(parts) == 2
    a, b = parts if two else ("", "")
    if kind == "num":
        import operator as _op

        cmp = {"lt": _op.lt, "le": _op.le, "gt": _op.gt, "ge": _op.ge}[op]
        if two:
            def fast_num2(f: Facts) -> int:
                o = f.get(a)
                if type(o) is not dict:
                    return UNKNOWN
                v = o.get(b)
                if v is None:
                    return UNKNOWN
                t = type(v)
                if t is int or t is float:
                    return PASS if cmp(v, const) else FAIL
                return ERROR
            return fast_num2

        def fast_num(f: Facts) -> int:
            v = getter(f)
            if v is MISSING:
                return UNKNOWN
            t = type(v)
            if t is int or t is float:
                return PASS if cmp(v, const) else FAIL
            return ERROR
        return fast_num
    if kind in ("is", "str_eq"):
        hit, miss = shape[1], shape[2]
        if kind == "is":
            if two:
                def fast_bool2(f: Facts) -> int:
                    o = f.get(a)
                    if type(o) is not dict:
                        return UNKNOWN
                    v = o.get(b)
                    if v is None:
                        return UNKNOWN
                    return hit if v is const else miss
                return fast_bool2

            def fast_bool(f: Facts) -> int:
                v = getter(f)
                if v is MISSING:
                    return UNKNOWN
                return hit if v is const else miss
            return fast_bool
        if two:
            def fast_str2(f: Facts) -> int:
                o = f.get(a)
                if type(o) is not dict:
                    return UNKNOWN
                v = o.get(b)
                if v is None:
                    return UNKNOWN
                return hit if type(v) is str and v == const else miss
            return fast_str2

        def fast_str(f: Facts) -> int:
            v = getter(f)
            if v is MISSING:
                return UNKNOWN
            return hit if type(v) is str and v == const else miss
        return fast_str
    if kind in ("str_in", "num_in"):
        _, hit, miss, members = shape
        # The types a member can have: a bool is no number (its type is bool, not int).
        kinds = (str,) if kind == "str_in" else (int, float)

        def fast_in(f: Facts) -> int:
            v = getter(f)
            if v is MISSING:
                return UNKNOWN
            return hit if type(v) in kinds and v in members else miss
        return fast_in
    return None


def _combine_all(codes: list[int]) -> int:
    if FAIL in codes:
        return FAIL
    if ERROR in codes:
        return ERROR
    if UNKNOWN in codes:
        return UNKNOWN
    return PASS


def _combine_any(codes: list[int]) -> int:
    if PASS in codes:
        return PASS
    if ERROR in codes:
        return ERROR
    if UNKNOWN in codes:
        return UNKNOWN
    return FAIL


class AllNode(Node):
    """Every child holds."""

    def __init__(self, children: list[Node]):
        self.children = children
        self.tables = frozenset().union(*(c.tables for c in children))
        fasts = tuple(c.fast for c in children)
        if len(fasts) == 2:
            first, second = fasts

            def fast_all2(f: Facts) -> int:
                r = first(f)
                if r == FAIL:
                    return FAIL
                r2 = second(f)
                if r2 == FAIL:
                    return FAIL
                return r if r > r2 else r2
            self.fast = fast_all2
            return

        def fast_all(f: Facts) -> int:
            worst = PASS
            for c in fasts:
                r = c(f)
                if r == FAIL:
                    return FAIL
                if r > worst:
                    worst = r
            return worst
        self.fast = fast_all

    def explain(self, f: Facts) -> tuple[int, list[Evidence]]:
        results = [c.explain(f) for c in self.children]
        code = _combine_all([r[0] for r in results])
        # Evidence of the parts that decided the outcome.
        ev = [e for r in results if r[0] == code for e in r[1]]
        return code, ev


class AnyNode(Node):
    """At least one child holds."""

    def __init__(self, children: list[Node]):
        self.children = children
        self.tables = frozenset().union(*(c.tables for c in children))
        fasts = tuple(c.fast for c in children)

        def fast_any(f: Facts) -> int:
            codes = []
            for c in fasts:
                r = c(f)
                if r == PASS:
                    return PASS
                codes.append(r)
            return _combine_any(codes)
        self.fast = fast_any

    def explain(self, f: Facts) -> tuple[int, list[Evidence]]:
        results = [c.explain(f) for c in self.children]
        code = _combine_any([r[0] for r in results])
        ev = [e for r in results for e in r[1]] if code != PASS else []
        return code, ev


class NotNode(Node):
    """The child does not hold."""

    def __init__(self, child: Node):
        self.child = child
        self.tables = child.tables
        inner = child.fast

        def fast_not(f: Facts) -> int:
            r = inner(f)
            return FAIL if r == PASS else PASS if r == FAIL else r
        self.fast = fast_not

    def explain(self, f: Facts) -> tuple[int, list[Evidence]]:
        code = self.fast(f)
        if code == PASS:
            return code, []
        if isinstance(self.child, LeafNode):
            leaf = self.child.leaf
            v = self.child.getter(f)
            r = self.child.resolve(f)
            text = describe_expected(leaf.op, r if r is not MISSING else self.child.value_text or leaf.literal)
            return code, [Evidence(leaf.fact, self.child.pointer, v, f"not ({text})", f"not {leaf.op}", OUTCOME_NAMES[code], "", leaf.label or "")]
        _, ev = self.child.explain(f)
        if not ev:
            # The child passed, so it explained nothing: the evidence of a failing
            # `not` is every comparison of the child, as observed.
            ev = [_leaf_evidence(n, f) for n in _leaf_nodes(self.child)]
        return code, [Evidence(e.fact, e.pointer, e.observed, f"not ({e.expected})", f"not {e.op}", OUTCOME_NAMES[code], e.detail, e.label) for e in ev]


def _leaf_nodes(node: Node) -> list[LeafNode]:
    """The comparisons of a compiled condition, in order."""
    if isinstance(node, LeafNode):
        return [node]
    if isinstance(node, NotNode):
        return _leaf_nodes(node.child)
    return [x for c in getattr(node, "children", ()) for x in _leaf_nodes(c)]


def _leaf_evidence(node: LeafNode, f: Facts) -> Evidence:
    """What one comparison observed and expected, whatever its outcome."""
    leaf = node.leaf
    code = node.fast(f)
    return Evidence(leaf.fact, node.pointer, node.getter(f), node._expected(node.resolve(f)), leaf.op, OUTCOME_NAMES[code], "", leaf.label or "")


def compile_condition(cond: Condition, tables: dict[str, Table]) -> Node:
    """Compile a validated condition model into a Node."""
    return fold(cond, lambda leaf: LeafNode(leaf, tables), AllNode, AnyNode, NotNode)


def iter_leaves(cond: Condition | None) -> list[Leaf]:
    """All comparisons of a condition, in order."""
    return [leaf for _, leaf in leaves(cond)]
