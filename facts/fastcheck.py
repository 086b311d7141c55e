"""A compiled validator for the facts schema, fast enough for the hot path.

jsonschema is exact but far too slow for 250,000 hosts, and pydantic
validation costs as much. The facts schema only uses a small subset of JSON
Schema, so this module compiles that subset into nested closures once. It
agrees with jsonschema on the facts schema (a property test checks it on
generated documents); anything it does not understand is a compile error, not
a silent pass.

While it walks a host it also counts object keys and the ':' characters inside
strings. The loader compares that with the ':' count of the raw record: if they
differ, the record may hide a duplicate key (which orjson silently collapses)
and the exact, slow parser is run on it.

The generated fast path (``compile_fast``, below) also serves the policy pack
schema (engine.packs): there jsonschema is the exact check, and the generator
takes the keywords that schema adds (oneOf, type lists, patternProperties,
propertyNames, uniqueItems, minItems, maxItems), and so do the waivers and data
overlay schemas (minProperties, maxProperties). tests/test_policy_fastcheck.py
and tests/test_input_fastcheck.py check it against jsonschema.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..base.diagnostics import pointer_join

Issue = tuple[str, str]  # (pointer, message)


class Walk:
    """Per-record state: problems found and the key/colon tallies."""

    __slots__ = ("errors", "warnings", "keys", "colons")

    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.keys = 0
        self.colons = 0


Check = Callable[[Any, str, Walk], bool]

_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
    type(None): "null",
}


def _type_of(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _is_type(value: Any, name: str) -> bool:
    t = type(value)
    if name == "string":
        return t is str
    if name == "integer":
        return t is int or (t is float and value.is_integer())
    if name == "number":
        return t is int or t is float
    if name == "boolean":
        return t is bool
    if name == "object":
        return t is dict
    if name == "array":
        return t is list
    if name == "null":
        return value is None
    raise ValueError(f"unsupported type {name!r}")


_HANDLED = {
    "$ref", "anyOf", "type", "enum", "const", "minimum", "maximum", "minLength", "maxLength",
    "pattern", "properties", "required", "additionalProperties", "items", "title", "description",
    "default", "$schema", "$id", "$defs", "oneOf", "examples",
}


class Compiler:
    """Compiles a schema subset into check closures; ``$ref`` resolved in ``$defs``."""

    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.cache: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if ref not in self.cache:
            if not ref.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {ref}")
            # A forward slot lets recursive definitions compile.
            slot: list[Check] = []
            self.cache[ref] = lambda v, p, w: slot[0](v, p, w)
            slot.append(self.compile(self.root["$defs"][ref[len("#/$defs/"):]]))
            self.cache[ref] = slot[0]
        return self.cache[ref]

    def compile(self, s: dict[str, Any]) -> Check:  # noqa: C901 - one switch over keywords
        unknown = set(s) - _HANDLED
        if unknown:
            raise ValueError(f"fastcheck cannot compile keywords {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in s:
            checks.append(self.ref(s["$ref"]))
        if "anyOf" in s:
            alts = [self.compile(a) for a in s["anyOf"]]
            # Optional fields are anyOf [X, null]: check null first, then X with its
            # own messages (clearer than "matches none of").
            non_null = [(a, c) for a, c in zip(s["anyOf"], alts) if a.get("type") != "null"]
            allows_null = len(non_null) < len(alts)
            if len(non_null) == 1:
                inner = non_null[0][1]

                def any_of(v: Any, p: str, w: Walk, inner: Check = inner, allows_null: bool = allows_null) -> bool:
                    if v is None and allows_null:
                        return True
                    return inner(v, p, w)
            else:

                def any_of(v: Any, p: str, w: Walk, alts: list[Check] = alts) -> bool:  # type: ignore[misc]  # the variants bind different defaults
                    for c in alts:
                        probe = Walk()
                        if c(v, p, probe):
                            w.keys += probe.keys
                            w.colons += probe.colons
                            w.warnings.extend(probe.warnings)
                            return True
                    w.errors.append((p, "matches none of the allowed shapes"))
                    return False
            checks.append(any_of)
        if "type" in s:
            tname = s["type"]

            def type_check(v: Any, p: str, w: Walk, tname: str = tname) -> bool:
                if _is_type(v, tname):
                    return True
                w.errors.append((p, f"expected {tname}, got {_type_of(v)}" + ("" if v is None else f" {_short(v)}")))
                return False
            checks.append(type_check)
        if "enum" in s:
            allowed = s["enum"]

            def enum_check(v: Any, p: str, w: Walk, allowed: list[Any] = allowed) -> bool:
                if any(v == a and type(v) is type(a) for a in allowed):
                    return True
                w.errors.append((p, f"{_short(v)} is not one of {', '.join(map(str, allowed))}"))
                return False
            checks.append(enum_check)
        if "const" in s:
            const = s["const"]

            def const_check(v: Any, p: str, w: Walk, const: Any = const) -> bool:
                if v == const:
                    return True
                w.errors.append((p, f"must be {const!r}"))
                return False
            checks.append(const_check)
        for kw, cmp, text in (
            ("minimum", lambda v, b: v >= b, "below the minimum"),
            ("maximum", lambda v, b: v <= b, "above the maximum"),
        ):
            if kw in s:
                bound = s[kw]

                def bound_check(v: Any, p: str, w: Walk, bound: Any = bound, cmp: Any = cmp, text: str = text) -> bool:
                    if type(v) in (int, float) and not cmp(v, bound):
                        w.errors.append((p, f"{v} is {text} {bound}"))
                        return False
                    return True
                checks.append(bound_check)
        if "minLength" in s or "maxLength" in s or "pattern" in s:
            lo = s.get("minLength", 0)
            hi = s.get("maxLength")
            rx = re.compile(s["pattern"]) if "pattern" in s else None

            def str_check(v: Any, p: str, w: Walk, lo: int = lo, hi: int | None = hi, rx: Any = rx) -> bool:
                if type(v) is not str:
                    return True
                n = len(v)
                if n < lo:
                    w.errors.append((p, f"must have at least {lo} character(s)"))
                    return False
                if hi is not None and n > hi:
                    w.errors.append((p, f"is longer than {hi} characters"))
                    return False
                if rx is not None and not rx.search(v):
                    w.errors.append((p, f"{_short(v)} does not have the expected format ({rx.pattern})"))
                    return False
                return True
            checks.append(str_check)
        if "properties" in s or "additionalProperties" in s or "required" in s:
            checks.append(self._object(s))
        if "items" in s:
            item = self.compile(s["items"])

            def items_check(v: Any, p: str, w: Walk, item: Check = item) -> bool:
                if type(v) is not list:
                    return True
                ok = True
                for i, x in enumerate(v):
                    if type(x) is str:
                        w.colons += x.count(":")
                    if not item(x, pointer_join(p, i), w):
                        ok = False
                return ok
            checks.append(items_check)
        if type(s.get("items")) is not dict and "items" in s:
            raise ValueError("tuple items unsupported")
        return _chain(checks)

    def _object(self, s: dict[str, Any]) -> Check:
        props = {k: self.compile(v) for k, v in s.get("properties", {}).items()}
        required = tuple(s.get("required", ()))
        addl = s.get("additionalProperties", True)
        addl_check = self.compile(addl) if isinstance(addl, dict) else None
        names = sorted(props)

        def obj_check(v: Any, p: str, w: Walk) -> bool:
            if type(v) is not dict:
                return True
            ok = True
            w.keys += len(v)
            for r in required:
                if r not in v:
                    w.errors.append((p, f"required property {r!r} is missing"))
                    ok = False
            for k, x in v.items():
                w.colons += k.count(":")
                if type(x) is str:
                    w.colons += x.count(":")
                c = props.get(k)
                if c is not None:
                    if x is None:
                        continue  # an explicit null is a missing fact, if the schema allows it
                    if not c(x, pointer_join(p, k), w):
                        ok = False
                elif addl_check is not None:
                    if not addl_check(x, pointer_join(p, k), w):
                        ok = False
                elif addl is False:
                    w.warnings.append(
                        (pointer_join(p, k), f"unknown field {k!r} ignored" + _suggest(k, names))
                    )
                    if type(x) is not str:
                        _tally(x, w)
                elif type(x) is not str:
                    _tally(x, w)
            return ok
        # Explicit null: the caller above skips the check only for properties whose
        # schema allows null; re-check the others.
        nullable = {k for k, sch in s.get("properties", {}).items() if _allows_null(sch, self.root)}
        if len(nullable) != len(props):
            strict_null = {k: props[k] for k in props if k not in nullable}

            def obj_check_nulls(v: Any, p: str, w: Walk, inner: Check = obj_check) -> bool:
                ok = inner(v, p, w)
                if type(v) is dict:
                    for k, c in strict_null.items():
                        if k in v and v[k] is None:
                            c(None, pointer_join(p, k), w)
                            ok = False
                return ok
            return obj_check_nulls
        return obj_check


def _allows_null(s: dict[str, Any], root: dict[str, Any]) -> bool:
    """Whether ``s`` certainly accepts null (False when unsure: the fast path then
    leaves a null to the exact check)."""
    t = s.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    if t is not None:
        return False
    return any(a.get("type") == "null" for a in s.get("anyOf", ()))


def _type_test(t: Any, v: str) -> str:
    """The condition that ``v`` fails ``"type": t`` (one name or a list of names)."""
    names = t if isinstance(t, list) else [t]
    if not names or any(not isinstance(n, str) or n not in _TYPE_TESTS for n in names):
        raise ValueError(f"unsupported type {t!r}")
    tests = [_TYPE_TESTS[n].format(v=v) for n in names]
    return tests[0] if len(tests) == 1 else "(" + " and ".join(tests) + ")"


def _tally(x: Any, w: Walk) -> None:
    """Count keys and colons of data the schema does not describe."""
    t = type(x)
    if t is str:
        w.colons += x.count(":")
    elif t is dict:
        w.keys += len(x)
        for k, v in x.items():
            w.colons += k.count(":")
            _tally(v, w)
    elif t is list:
        for v in x:
            _tally(v, w)


def _chain(checks: list[Check]) -> Check:
    if not checks:
        return lambda v, p, w: True
    if len(checks) == 1:
        return checks[0]

    def chained(v: Any, p: str, w: Walk) -> bool:
        for c in checks:
            if not c(v, p, w):
                return False
        return True
    return chained


def _short(v: Any) -> str:
    """A value as the facts file spells it (true, not True), cut to 40 characters."""
    text = ("true" if v else "false") if type(v) is bool else repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _suggest(key: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, names, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def tally_strings(x: Any, w: Walk) -> None:
    """Public wrapper used by the loader for string leaves the checks do not visit."""
    _tally(x, w)


# ---------------------------------------------------------------------------
# The fast path: the same schema subset generated as Python source, answering
# only "valid, with nothing to warn about?". It is conservative: True only when
# the checks above would find no error and no warning; anything else (a float
# where an integer is allowed, an unknown field, any error) returns False and
# the caller runs the exact checks above for the messages. Valid records, the
# overwhelming majority of an inventory, never build a pointer or a message.
# ---------------------------------------------------------------------------

#
# Shape of the generated code: one function for the entry definition (and for
# recursive definitions and anyOf alternatives); every other `$ref` is inlined,
# and each property costs one `dict.get` and one `if`. In a closed object
# (additionalProperties false) the properties found are counted instead of
# testing every key against the known names:
#
#     _n4 = len(_x3)
#     _x5 = _x3.get('fqdn')
#     if _x5 is None: _n4 += 1
#     elif type(_x5) is not str or len(_x5) > 4096: return False
#     ...
#     if _n4 != 6 and not _c0.issuperset(_x3): return False
#
# A schema compiles to a list of items, in order: a string is a "bad" condition
# (the value fails when it is true; consecutive ones are or-ed into one `if`),
# a list is a block of statements (relative indentation) that return False.
# Later items may rely on earlier ones having passed (a block for an object
# runs after `type(v) is not dict` was false). No condition can raise.
# ---------------------------------------------------------------------------

_BUILTINS = ("type", "len", "str", "int", "float", "bool", "dict", "list", "set", "any")

# A builtin the generated code calls ("len(") or names in a type test ("is not str").
_BUILTIN_USE = re.compile(rf"\b({'|'.join(_BUILTINS)})\(|\bis not ({'|'.join(_BUILTINS)})\b")

# The generator also takes the array and object keywords of the policy schema
# (the exact ``Compiler`` above does not: the facts schema never uses them).
_FAST_HANDLED = _HANDLED | {
    "uniqueItems", "minItems", "maxItems", "propertyNames", "patternProperties", "minProperties", "maxProperties",
}
# Annotations: no effect on validity.
_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$defs"}

_TYPE_TESTS = {
    "string": "type({v}) is not str",
    "integer": "type({v}) is not int",  # floats like 4.0: the exact path decides
    "number": "(type({v}) is not float and type({v}) is not int)",
    "boolean": "type({v}) is not bool",
    "object": "type({v}) is not dict",
    "array": "type({v}) is not list",
    "null": "{v} is not None",
}

# Strings remembered per pattern (regular expressions are the costliest leaf
# checks, and versions repeat across a fleet): the memo only ever holds strings
# the pattern matched, so it changes speed, never an answer.
_MEMO_MAX_ENTRIES = 2048
_MEMO_MAX_CHARS = 64


def _memo_search(rx: re.Pattern[str], memo: set[str]) -> Callable[[str], bool]:
    search = rx.search

    def matches(s: str) -> bool:
        if search(s) is None:
            return False
        if len(memo) < _MEMO_MAX_ENTRIES and len(s) <= _MEMO_MAX_CHARS:
            memo.add(s)
        return True
    return matches


def _refs(x: Any) -> set[str]:
    """Names of the ``$defs`` a schema fragment refers to."""
    found: set[str] = set()
    if isinstance(x, dict):
        r = x.get("$ref")
        if isinstance(r, str) and r.startswith("#/$defs/"):
            found.add(r[len("#/$defs/"):])
        for y in x.values():
            found |= _refs(y)
    elif isinstance(x, list):
        for y in x:
            found |= _refs(y)
    return found


def _recursive_defs(defs: dict[str, Any]) -> set[str]:
    """Definitions that can reach themselves through ``$ref``: these stay functions."""
    graph = {name: _refs(d) for name, d in defs.items()}
    out = set()
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(graph.get(n, ()))
        if start in seen:
            out.add(start)
    return out


def _indent(lines: list[str], n: int = 1) -> list[str]:
    pad = "    " * n
    return [pad + line for line in lines]


def _or(conds: list[str]) -> str:
    return " or ".join(conds)


def _group(cond: str) -> str:
    """``cond`` ready to be and-ed with another condition."""
    return f"({cond})" if " or " in cond or " and " in cond else cond


def _num(value: Any) -> str | None:
    """A bound as a literal, when repr round-trips it exactly."""
    if type(value) is int or (type(value) is float and value == value and abs(value) != float("inf")):
        return repr(value)
    return None


class _FastGen:
    """Generates the fast check as Python source; ``$ref``s inlined unless recursive."""

    def __init__(self, root: dict[str, Any], *, inline: bool = True):
        self.root = root
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.recursive = _recursive_defs(self.defs)
        # inline=False: every $ref is a call, so each definition is compiled once
        # (less source to compile where start-up matters more than the last ns per value).
        self.called = self.recursive if inline else set(self.defs)
        self.consts: dict[str, Any] = {}
        self.funcs: dict[str, list[str]] = {}
        self.counter = 0

    def const(self, value: Any, prefix: str = "_c") -> str:
        name = f"{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @staticmethod
    def def_name(ref: str) -> str:
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref}")
        return ref[len("#/$defs/"):]

    def ref(self, ref: str) -> str:
        """The function checking ``$defs`` entry ``ref`` (generated once)."""
        name = "_d_" + re.sub(r"\W", "_", self.def_name(ref))
        if name not in self.funcs:
            self.funcs[name] = []  # reserve (recursion)
            self.funcs[name] = self.function(name, self.defs[self.def_name(ref)])
        return name

    def func(self, s: dict[str, Any]) -> str:
        """A standalone function for a sub-schema (anyOf alternatives)."""
        name = self.fresh("_f")
        self.funcs[name] = []
        self.funcs[name] = self.function(name, s)
        return name

    def function(self, name: str, s: dict[str, Any]) -> list[str]:
        body = self.emit(self.check(s, "v", False))
        # Builtins bound as keyword-only defaults are local lookups (a few % faster).
        found = {name for pair in _BUILTIN_USE.findall("\n".join(body)) for name in pair if name}
        used = [b for b in _BUILTINS if b in found]
        params = ", ".join(["v", *(["*"] if used else []), *(f"{b}={b}" for b in used)])
        return [f"def {name}({params}):", *_indent(body), "    return True"]

    @staticmethod
    def emit(items: list[Any]) -> list[str]:
        """Statements for items: runs of conditions become one ``if ...: return False``."""
        out: list[str] = []
        run: list[str] = []
        for it in items:
            if isinstance(it, str):
                run.append(it)
                continue
            if run:
                out.append(f"if {_or(run)}: return False")
                run = []
            out.extend(it)
        if run:
            out.append(f"if {_or(run)}: return False")
        return out

    def unless_none(self, v: str, items: list[Any]) -> list[Any]:
        """Items that apply only when ``v`` is not None."""
        if not items:
            return []
        if all(isinstance(it, str) for it in items):
            return [f"{v} is not None and {_group(_or(items))}"]
        return [[f"if {v} is not None:", *_indent(self.emit(items))]]

    def check(self, s: dict[str, Any], v: str, nonnull: bool) -> list[Any]:  # noqa: C901 - one switch
        """Items that fail unless value ``v`` certainly passes schema ``s``.

        ``nonnull``: the caller already knows ``v is not None``.
        """
        unknown = set(s) - _FAST_HANDLED
        if unknown:
            raise ValueError(f"fastcheck cannot compile keywords {sorted(unknown)}")
        out: list[Any] = []
        t = s.get("type")
        if "type" in s:
            out.append(_type_test(t, v))  # first: the checks below may rely on it
        if "$ref" in s:
            name = self.def_name(s["$ref"])
            if name in self.called:
                out.append(f"not {self.ref(s['$ref'])}({v})")
            else:
                out.extend(self.check(self.defs[name], v, nonnull))
        if "anyOf" in s:
            alts = s["anyOf"]
            non_null = [a for a in alts if a.get("type") != "null"]
            if len(non_null) == 1:
                if len(non_null) < len(alts):
                    inner = self.check(non_null[0], v, True)
                    out.extend(inner if nonnull else self.unless_none(v, inner))
                else:
                    out.extend(self.check(non_null[0], v, nonnull))
            else:
                names = [self.func(a) for a in alts]
                out.append(f"not ({' or '.join(f'{n}({v})' for n in names)})")
        if "oneOf" in s:
            out.append(f"not {self.one_of(s['oneOf'])}({v})")
        if "enum" in s:
            allowed = s["enum"]
            if allowed and all(type(a) is str for a in allowed):
                c = self.const(frozenset(allowed))
                out.append(f"{v} not in {c}" if t == "string" else f"type({v}) is not str or {v} not in {c}")
            else:
                c = self.const(tuple(allowed))
                out.append(f"not any({v} == a and type({v}) is type(a) for a in {c})")
        if "const" in s:
            out.append(f"{v} != {self.const(s['const'])}")
        # Written as "not (v >= bound)", the exact check's own test, so NaN fails here as it does there.
        num = [(kw, op) for kw, op in (("minimum", ">="), ("maximum", "<=")) if kw in s]
        if num:
            conds = _or([f"not {v} {op} {_num(s[kw]) or self.const(s[kw])}" for kw, op in num])
            if t in ("integer", "number"):
                out.append(conds)
            else:
                out.append(f"(type({v}) is int or type({v}) is float) and ({conds})")
        if "minLength" in s or "maxLength" in s or "pattern" in s:
            sconds: list[str] = []
            lo, hi = s.get("minLength"), s.get("maxLength")
            if lo is not None and hi is not None:
                sconds.append(f"not {int(lo)} <= len({v}) <= {int(hi)}")
            elif lo is not None:
                sconds.append(f"len({v}) < {int(lo)}")
            elif hi is not None:
                sconds.append(f"len({v}) > {int(hi)}")
            if "pattern" in s:
                memo = self.const(set(), "_ok")
                match = self.const(_memo_search(re.compile(s["pattern"]), self.consts[memo]), "_re")
                sconds.append(f"({v} not in {memo} and not {match}({v}))")
            out.append(_or(sconds) if t == "string" else f"type({v}) is str and ({_or(sconds)})")
        if "properties" in s or "additionalProperties" in s or "required" in s or "patternProperties" in s:
            out.extend(self.obj(s, v, t == "object"))
        pconds = [f"len({v}) {op} {int(s[kw])}" for kw, op in (("minProperties", "<"), ("maxProperties", ">")) if kw in s]
        if pconds:
            out.append(_or(pconds) if t == "object" else f"type({v}) is dict and ({_or(pconds)})")
        if "propertyNames" in s:
            k = self.fresh("_k")
            inner = self.emit(self.check(s["propertyNames"], k, False))
            if inner:
                block = [f"for {k} in {v}:", *_indent(inner)]
                out.append(block if t == "object" else [f"if type({v}) is dict:", *_indent(block)])
        if "items" in s:
            if type(s["items"]) is not dict:
                raise ValueError("tuple items unsupported")
            x = self.fresh("_i")
            inner = self.emit(self.check(s["items"], x, False))
            if inner:
                block = [f"for {x} in {v}:", *_indent(inner)]
                out.append(block if t == "array" else [f"if type({v}) is list:", *_indent(block)])
        aconds: list[str] = []
        if "minItems" in s:
            aconds.append(f"len({v}) < {int(s['minItems'])}")
        if "maxItems" in s:
            aconds.append(f"len({v}) > {int(s['maxItems'])}")
        if s.get("uniqueItems") is True:
            # Strings only (what the policy schema holds): equal strings are equal
            # items for jsonschema too. Any other item leaves it to the exact check.
            i = self.fresh("_u")
            aconds.append(f"(len({v}) > 1 and (any(type({i}) is not str for {i} in {v}) or len(set({v})) != len({v})))")
        if aconds:
            out.append(_or(aconds) if t == "array" else f"type({v}) is list and ({_or(aconds)})")
        return out

    def one_of(self, alts: list[dict[str, Any]]) -> str:
        """A function: True when exactly one alternative certainly holds and every
        other certainly fails. A fast "no" is only "not certain", so counting fast
        yeses could miss a second match; each other alternative must be refuted."""
        names = [self.func(a) for a in alts]
        refutations = [self.refute(a, "v", set()) for a in alts]
        name = self.fresh("_o")
        body = []
        for i, fn in enumerate(names):
            others = [refutations[j] for j in range(len(alts)) if j != i]
            if all(others):
                body.append(f"if {fn}(v): return {' and '.join(_group(_or(r)) for r in others)}")
            else:
                body.append(f"if {fn}(v): return False")
        self.funcs[name] = [f"def {name}(v, *, type=type, dict=dict):", *_indent(body), "    return False"]
        return name

    def refute(self, s: dict[str, Any], v: str, seen: set[str]) -> list[str]:
        """Conditions on ``v`` any of which makes ``v`` certainly fail schema ``s``
        (the type, the required keys, a closed object's unknown keys, a string
        const or enum); empty when nothing cheap is certain."""
        out: list[str] = []
        t = s.get("type")
        if t is not None:
            names = t if isinstance(t, list) else [t]
            # An integer may be written 4.0: only "not a number at all" refutes it.
            out.append(_type_test(["number" if n == "integer" else n for n in names], v))
        req = s.get("required") or []
        if req:
            out.append(f"(type({v}) is dict and ({_or([f'{r!r} not in {v}' for r in req])}))")
        if s.get("additionalProperties") is False and "patternProperties" not in s:
            out.append(f"(type({v}) is dict and not {self.const(frozenset(s.get('properties', {})))}.issuperset({v}))")
        if "const" in s and type(s["const"]) is str:
            out.append(f"(type({v}) is not str or {v} != {self.const(s['const'])})")
        if "enum" in s and s["enum"] and all(type(a) is str for a in s["enum"]):
            out.append(f"(type({v}) is not str or {v} not in {self.const(frozenset(s['enum']))})")
        ref = s.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            out.extend(self.refute(self.defs[self.def_name(ref)], v, seen | {ref}))
        return out

    def pattern_props(self, patterns: dict[str, Any], addl: Any, props: dict[str, Any], v: str) -> list[str]:
        """Every key matching a pattern checked against its schema; keys matching none
        (and not named in properties) against additionalProperties."""
        x, k, m = self.fresh("_x"), self.fresh("_k"), self.fresh("_m")
        addl_inner: list[str] = []
        if addl is False:
            addl_inner = ["return False"]
        elif isinstance(addl, dict):
            addl_inner = self.emit(self.check(addl, x, False))
        track = bool(addl_inner)  # whether a key matched some pattern matters
        body: list[str] = [f"{m} = False"] if track else []
        checked = track
        for pattern, sub in patterns.items():
            search = self.const(re.compile(pattern).search, "_re")
            inner = self.emit(self.check(sub, x, False))
            checked = checked or bool(inner)
            if inner or track:
                body.append(f"if {search}({k}) is not None:")
                body.extend(_indent([*([f"{m} = True"] if track else []), *inner]))
        if not checked:
            return []
        if track:
            body.append(f"if not {m} and {k} not in {self.const(frozenset(props))}:")
            body.extend(_indent(addl_inner))
        # Keys of a YAML or JSON mapping are strings; any other key is left to the exact check.
        return [f"for {k}, {x} in {v}.items():", f"    if type({k}) is not str: return False", *_indent(body)]

    def obj(self, s: dict[str, Any], v: str, is_dict: bool) -> list[Any]:
        props: dict[str, Any] = s.get("properties", {})
        required = list(s.get("required", ()))
        addl = s.get("additionalProperties", True)
        # A required property that cannot be null needs no membership test: its
        # `is None` test below fails when it is absent.
        conds = [f"{r!r} not in {v}" for r in required if r not in props or _allows_null(props[r], self.root)]
        lines: list[str] = []
        # Unknown fields are warnings: leave them to the exact path. Rather than
        # test every key against the property names, count: when the properties
        # found (not None) are as many as the keys, there is no other key.
        patterns: dict[str, Any] = s.get("patternProperties", {})
        count = self.fresh("_n") if addl is False and props and not patterns else None
        if addl is False and not props and not patterns:
            conds.append(f"len({v})")
        if count:
            lines.append(f"{count} = len({v})")
        if patterns:
            lines.extend(self.pattern_props(patterns, addl, props, v))
        elif isinstance(addl, dict):
            x = self.fresh("_x")
            k = self.fresh("_k")
            inner = self.emit(self.check(addl, x, False))
            if inner:
                lines.append(f"for {k}, {x} in {v}.items():")
                lines.append(f"    if {k} not in {self.const(frozenset(props))}:")
                lines.extend(_indent(inner, 2))
        for key, sub in props.items():
            x = self.fresh("_x")
            inner = self.check(sub, x, True)  # only run on a value that is not None
            nullable = _allows_null(sub, self.root)
            if key in required and not nullable:
                # Absent, or an explicit null: an error either way.
                lines.append(f"{x} = {v}.get({key!r})")
                lines.extend(self.emit([f"{x} is None", *inner]))
                continue
            if not inner and nullable and not count:
                continue
            lines.append(f"{x} = {v}.get({key!r})")
            # When None: absent, or an explicit null (an error unless nullable).
            when_none = [] if nullable else [f"if {key!r} in {v}: return False"]
            if count:
                when_none.append(f"{count} += 1")
            if not when_none:
                lines.extend(self.emit(self.unless_none(x, inner)))
            elif not inner and not count:
                lines.append(f"if {x} is None and {key!r} in {v}: return False")
            else:
                if len(when_none) == 1 and not when_none[0].startswith("if "):
                    lines.append(f"if {x} is None: {when_none[0]}")
                else:
                    lines.extend([f"if {x} is None:", *_indent(when_none)])
                if inner and all(isinstance(it, str) for it in inner):
                    lines.append(f"elif {_or(inner)}: return False")
                elif inner:
                    lines.extend(["else:", *_indent(self.emit(inner))])
        if count:
            names = self.const(frozenset(props))
            lines.append(f"if {count} != {len(props)} and not {names}.issuperset({v}): return False")
        if is_dict:  # the conditions join the type test before them
            return [*conds, lines] if lines else conds
        if conds:
            lines.insert(0, f"if {_or(conds)}: return False")
        return [[f"if type({v}) is dict:", *_indent(lines)]] if lines else []


def certainly_valid(check: Callable[[Any], bool], value: Any) -> bool:
    """``check(value)`` from compile_fast; False (not certain) where the generated
    functions cannot follow the nesting."""
    try:
        return bool(check(value))
    except RecursionError:
        return False


def first_pass(schema: Callable[[], dict[str, Any]]) -> Callable[[Any], bool]:
    """``data -> bool`` for a whole-document schema (a pack, a waivers file, a data
    overlay): True only when jsonschema would certainly report nothing, False for
    "ask jsonschema". The code is generated at the first call, once per process."""
    compiled: list[Callable[[Any], bool]] = []

    def valid(data: Any) -> bool:
        if not compiled:
            compiled.append(compile_fast(schema(), "#", inline=False))
        return certainly_valid(compiled[0], data)

    return valid


def compile_fast(root: dict[str, Any], ref: str, *, inline: bool = True) -> Callable[[Any], bool]:
    """``value -> bool``: True only when the exact checks would report nothing.

    ``ref`` is ``#/$defs/NAME`` or ``#`` for the root schema itself. ``inline``
    (the default) writes each non-recursive ``$ref`` out where it is used: the
    fastest check, for hot paths; False calls one function per definition:
    less source to compile, for a check that runs a few times per process.
    """
    gen = _FastGen(root, inline=inline)
    if ref == "#":
        entry = "_root"
        gen.funcs[entry] = []
        gen.funcs[entry] = gen.function(entry, root)
    else:
        entry = gen.ref(ref)
    src = "\n\n".join("\n".join(lines) for lines in gen.funcs.values())
    ns: dict[str, Any] = dict(gen.consts)
    exec(compile(src, f"<fastcheck {ref}>", "exec"), ns)  # noqa: S102 - generated from the shipped schema
    fn = ns[entry]
    fn.source = src
    return fn
