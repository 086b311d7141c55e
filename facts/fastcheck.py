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
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..engine.diagnostics import pointer_join

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

                def any_of(v: Any, p: str, w: Walk, alts: list[Check] = alts) -> bool:
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
                w.errors.append((p, f"expected {tname}, got {_type_of(v)} {_short(v)}"))
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
    if s.get("type") == "null":
        return True
    return any(a.get("type") == "null" for a in s.get("anyOf", ()))


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
    text = repr(v)
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


class _FastGen:
    """Generates one Python function per ``$defs`` entry, checks inlined."""

    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.consts: dict[str, Any] = {}
        self.funcs: dict[str, list[str]] = {}
        self.counter = 0

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def ref(self, ref: str) -> str:
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref}")
        name = "_d_" + re.sub(r"\W", "_", ref[len("#/$defs/"):])
        if name not in self.funcs:
            self.funcs[name] = []  # reserve (recursion)
            body = self.check(self.root["$defs"][ref[len("#/$defs/"):]], "v", 1)
            self.funcs[name] = [f"def {name}(v):", *body, "    return True"]
        return name

    def func(self, s: dict[str, Any]) -> str:
        """A standalone function for a sub-schema (anyOf alternatives)."""
        name = self.fresh("_f")
        self.funcs[name] = []
        body = self.check(s, "v", 1)
        self.funcs[name] = [f"def {name}(v):", *body, "    return True"]
        return name

    def check(self, s: dict[str, Any], v: str, depth: int) -> list[str]:  # noqa: C901 - one switch
        """Lines that ``return False`` unless value ``v`` certainly passes schema ``s``."""
        unknown = set(s) - _HANDLED
        if unknown:
            raise ValueError(f"fastcheck cannot compile keywords {sorted(unknown)}")
        if "oneOf" in s:
            raise ValueError("oneOf is not supported by the fast path")
        ind = "    " * depth
        out: list[str] = []
        if "$ref" in s:
            out.append(f"{ind}if not {self.ref(s['$ref'])}({v}): return False")
        if "anyOf" in s:
            alts = s["anyOf"]
            non_null = [a for a in alts if a.get("type") != "null"]
            if len(non_null) == 1:
                inner = self.check(non_null[0], v, depth + 1)
                if len(non_null) < len(alts):
                    out.append(f"{ind}if {v} is not None:")
                else:
                    out.append(f"{ind}if True:")
                out.extend(inner or [f"{ind}    pass"])
            else:
                names = [self.func(a) for a in alts]
                out.append(f"{ind}if not ({' or '.join(f'{n}({v})' for n in names)}): return False")
        if "type" in s:
            t = s["type"]
            test = {
                "string": f"type({v}) is not str",
                "integer": f"type({v}) is not int",  # floats like 4.0: the exact path decides
                "number": f"type({v}) is not int and type({v}) is not float",
                "boolean": f"type({v}) is not bool",
                "object": f"type({v}) is not dict",
                "array": f"type({v}) is not list",
                "null": f"{v} is not None",
            }.get(t)
            if test is None:
                raise ValueError(f"unsupported type {t!r}")
            out.append(f"{ind}if {test}: return False")
        if "enum" in s:
            allowed = s["enum"]
            if allowed and all(type(a) is str for a in allowed):
                c = self.const(frozenset(allowed))
                out.append(f"{ind}if type({v}) is not str or {v} not in {c}: return False")
            else:
                c = self.const(tuple(allowed))
                out.append(f"{ind}if not any({v} == a and type({v}) is type(a) for a in {c}): return False")
        if "const" in s:
            c = self.const(s["const"])
            out.append(f"{ind}if {v} != {c}: return False")
        num = [(kw, op) for kw, op in (("minimum", "<"), ("maximum", ">")) if kw in s]
        if num:
            conds = " or ".join(f"{v} {op} {self.const(s[kw])}" for kw, op in num)
            out.append(f"{ind}if (type({v}) is int or type({v}) is float) and ({conds}): return False")
        if "minLength" in s or "maxLength" in s or "pattern" in s:
            conds = []
            if "minLength" in s:
                conds.append(f"len({v}) < {int(s['minLength'])}")
            if "maxLength" in s:
                conds.append(f"len({v}) > {int(s['maxLength'])}")
            if "pattern" in s:
                conds.append(f"not {self.const(re.compile(s['pattern']))}.search({v})")
            out.append(f"{ind}if type({v}) is str and ({' or '.join(conds)}): return False")
        if "properties" in s or "additionalProperties" in s or "required" in s:
            out.extend(self.obj(s, v, depth))
        if "items" in s:
            if type(s["items"]) is not dict:
                raise ValueError("tuple items unsupported")
            x = self.fresh("_x")
            inner = self.check(s["items"], x, depth + 2)
            if inner:
                out.append(f"{ind}if type({v}) is list:")
                out.append(f"{ind}    for {x} in {v}:")
                out.extend(inner)
        return out

    def obj(self, s: dict[str, Any], v: str, depth: int) -> list[str]:
        ind = "    " * depth
        props: dict[str, Any] = s.get("properties", {})
        addl = s.get("additionalProperties", True)
        out = [f"{ind}if type({v}) is dict:"]
        ind2 = ind + "    "
        for r in s.get("required", ()):
            out.append(f"{ind2}if {r!r} not in {v}: return False")
        if addl is False:
            # Unknown fields are warnings: leave them to the exact path.
            out.append(f"{ind2}if not {self.const(frozenset(props))}.issuperset({v}): return False")
        elif isinstance(addl, dict):
            x = self.fresh("_x")
            k = self.fresh("_k")
            inner = self.check(addl, x, depth + 3)
            if inner:
                out.append(f"{ind2}for {k}, {x} in {v}.items():")
                out.append(f"{ind2}    if {k} not in {self.const(frozenset(props))}:")
                out.extend(inner)
        for key, sub in props.items():
            x = self.fresh("_x")
            inner = self.check(sub, x, depth + 2)
            nullable = _allows_null(sub, self.root)
            out.append(f"{ind2}{x} = {v}.get({key!r})")
            if not nullable:
                # An explicit null on a non-nullable property is an error.
                out.append(f"{ind2}if {x} is None and {key!r} in {v}: return False")
            if inner:
                out.append(f"{ind2}if {x} is not None:")
                out.extend(inner)
        return out if len(out) > 1 else []


def compile_fast(root: dict[str, Any], ref: str) -> Callable[[Any], bool]:
    """``value -> bool``: True only when the exact checks would report nothing."""
    gen = _FastGen(root)
    entry = gen.ref(ref)
    src = "\n\n".join("\n".join(lines) for lines in gen.funcs.values())
    ns: dict[str, Any] = dict(gen.consts)
    exec(compile(src, f"<fastcheck {ref}>", "exec"), ns)  # noqa: S102 - generated from the shipped schema
    fn = ns[entry]
    fn.source = src  # type: ignore[attr-defined]
    return fn  # type: ignore[no-any-return]
