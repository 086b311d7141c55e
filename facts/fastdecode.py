"""Parse and validate a JSON Lines record in one pass, with msgspec.

The facts schema's ``HostFacts`` is translated, at start-up, into msgspec types
(TypedDicts, so the result is the same plain dict ``orjson.loads`` gives):
``msgspec.json.Decoder(type).decode(line)`` then parses the line and checks
types, enums, bounds, lengths and patterns in C, in about two thirds of the
instructions of ``orjson.loads`` plus the generated check (``fastcheck``).

It only ever answers "certainly valid, and here is the value"; everything else
goes the exact way (orjson, then the schema walk with its diagnostics):

* a record msgspec rejects, for any reason;
* a record with free-form data (``"extensions"`` other than null: msgspec and
  orjson read integers beyond 64 bits there differently), refused by the check
  after decoding (below);
* a record with a key the schema does not know: msgspec drops such keys, so the
  caller's ``_same_keys`` test (the re-serialised value against the raw line)
  sends it on to the exact path, which reports the unknown field.

Integers are bounded to what orjson reads as an integer (-2**63 .. 2**64-1), so
the two parsers agree on every value this path accepts; tests/test_fastdecode.py
holds it to that, record by record, against the exact path.

String patterns (the version strings) are not checked by msgspec: it calls the
compiled expression's ``search`` for every such string, about a third of a
record's decode. The decoder checks them after msgspec, with the generated
first pass of a schema that keeps only the way to each pattern and to each
free-form value (``fastcheck.compile_fast``); every pattern remembers the
strings it matched (a fleet repeats a few versions, so most checks are one set
lookup), and a free-form value must be null. Same expression, same ``search``:
the same strings pass.
"""
from __future__ import annotations

from typing import Annotated, Any, Callable, Literal, NotRequired, Optional, Required, TypedDict, Union

import msgspec

#: orjson's integer range: beyond it orjson reads a JSON integer as a float.
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1

_IGNORED = {"title", "description", "default", "examples", "$schema", "$id", "$defs"}


class Unsupported(Exception):
    """The schema uses a keyword this translation does not cover (so: no fast decoder)."""


class _Translator:
    def __init__(self, root: dict[str, Any], *, patterns: bool = True):
        self.root = root
        self.defs: dict[str, Any] = {}
        self.patterns = patterns  # False: string patterns are left to a check after decoding

    def ref(self, ref: str) -> Any:
        if not ref.startswith("#/$defs/"):
            raise Unsupported(ref)
        name = ref.rsplit("/", 1)[1]
        if name not in self.defs:
            self.defs[name] = None  # a recursive reference would show up as None
            t = self.type(self.root["$defs"][name])
            if t is None:
                raise Unsupported(f"recursive {ref}")
            self.defs[name] = t
        t = self.defs[name]
        if t is None:
            raise Unsupported(f"recursive {ref}")
        return t

    def type(self, s: dict[str, Any]) -> Any:  # noqa: C901 - one switch over keywords
        keys = set(s) - _IGNORED
        if "$ref" in s:
            if keys != {"$ref"}:
                raise Unsupported("$ref with siblings")
            return self.ref(s["$ref"])
        if "anyOf" in s:
            if keys != {"anyOf"}:
                raise Unsupported("anyOf with siblings")
            alts = [self.type(a) for a in s["anyOf"]]
            return Union[tuple(alts)] if len(alts) > 1 else alts[0]
        t = s.get("type")
        if "enum" in s:
            values = s["enum"]
            if keys - {"enum", "type"} or t != "string" or not all(type(v) is str for v in values):
                raise Unsupported("enum")
            return Literal[tuple(values)]
        if t == "null" and keys == {"type"}:
            return type(None)
        if t == "boolean" and keys == {"type"}:
            return bool
        if t in ("integer", "number"):
            if keys - {"type", "minimum", "maximum"}:
                raise Unsupported(f"{t} keywords {sorted(keys)}")
            lo, hi = s.get("minimum"), s.get("maximum")
            ilo = _INT_MIN if lo is None else max(_INT_MIN, lo)
            ihi = _INT_MAX if hi is None else min(_INT_MAX, hi)
            as_int = Annotated[int, msgspec.Meta(ge=ilo, le=ihi)]
            if t == "integer":
                return as_int
            fmeta = {k: v for k, v in (("ge", lo), ("le", hi)) if v is not None}
            return Union[as_int, Annotated[float, msgspec.Meta(**fmeta)] if fmeta else float]
        if t == "string":
            if keys - {"type", "minLength", "maxLength", "pattern"}:
                raise Unsupported(f"string keywords {sorted(keys)}")
            meta = {}
            if "minLength" in s:
                meta["min_length"] = s["minLength"]
            if "maxLength" in s:
                meta["max_length"] = s["maxLength"]
            if "pattern" in s and self.patterns:
                meta["pattern"] = s["pattern"]  # re.search, as the schema walk and fastcheck use it
            return Annotated[str, msgspec.Meta(**meta)] if meta else str
        if t == "array":
            if keys - {"type", "items"} or "items" not in s:
                raise Unsupported("array keywords")
            return list[self.type(s["items"])]  # type: ignore[misc]
        if t == "object":
            if keys - {"type", "properties", "required", "additionalProperties"}:
                raise Unsupported(f"object keywords {sorted(keys)}")
            props = s.get("properties")
            extra = s.get("additionalProperties", True)
            if props is None:
                if extra is not True:
                    raise Unsupported("object without properties")
                return dict[str, Any]
            if extra is not False:
                raise Unsupported("open object with properties")
            required = set(s.get("required", ()))
            fields = {k: (Required if k in required else NotRequired)[self.type(v)] for k, v in props.items()}
            return TypedDict(s.get("title") or "Object", fields)  # type: ignore[operator]
        raise Unsupported(f"keywords {sorted(keys)}")


def _free_form(s: Any) -> bool:
    """Whether the translation reads values of schema ``s`` as free-form data (``dict[str, Any]``)."""
    return type(s) is dict and s.get("type") == "object" and "properties" not in s and s.get("additionalProperties", True) is True


def _checked_after(s: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a value below schema ``s`` is left to the check after decoding: a
    string with a pattern, or free-form data."""
    if type(s) is not dict:
        return False
    if "pattern" in s or _free_form(s):
        return True
    ref = s.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/"):]
        if name not in seen and _checked_after(defs.get(name), defs, seen | {name}):
            return True
    alts = s.get("anyOf")
    if isinstance(alts, list) and any(_checked_after(a, defs, seen) for a in alts):
        return True
    props = s.get("properties")
    if isinstance(props, dict) and any(_checked_after(p, defs, seen) for p in props.values()):
        return True
    return _checked_after(s.get("items"), defs, seen)


def _after_schema(s: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Schema ``s`` cut down to what is left once msgspec has checked every other
    keyword: types, patterns, free-form data as ``null`` (anything else there goes
    the exact way), and the properties, items and alternatives that lead to them."""
    if _free_form(s):
        return {"type": "null"}
    out: dict[str, Any] = {k: s[k] for k in ("type", "pattern", "$ref") if k in s}
    if "anyOf" in s:
        alts = [_after_schema(a, defs) for a in s["anyOf"]]
        if all(a == {"type": "null"} for a in alts):  # free-form data or null: null
            return {"type": "null"}
        out["anyOf"] = alts
    if "properties" in s:
        out["properties"] = {k: _after_schema(v, defs) for k, v in s["properties"].items() if _checked_after(v, defs)}
    if "items" in s and _checked_after(s["items"], defs):
        out["items"] = _after_schema(s["items"], defs)
    return out


def compile_after_check(schema: dict[str, Any], ref: str) -> Optional[Callable[[Any], bool]]:
    """``value -> bool`` for a value of ``ref`` that already has every other keyword of
    the schema: True when every string pattern holds too (each pattern remembers the
    strings it matched, ``fastcheck._memo_search``) and every free-form value is null.
    None when ``ref`` holds neither."""
    from .fastcheck import compile_fast

    defs = schema.get("$defs", {})
    if not _checked_after({"$ref": ref}, defs):
        return None
    reduced = {"$defs": {name: _after_schema(d, defs) for name, d in defs.items()}}
    return compile_fast(reduced, ref)


def compile_decoder(schema: dict[str, Any], ref: str) -> Optional[Callable[[bytes], Any]]:
    """``raw line -> dict``, raising ``msgspec.ValidationError``/``DecodeError`` when the
    record is not certainly valid; None when the schema is beyond this translation."""
    try:
        t = _Translator(schema, patterns=False).ref(ref)
        decode = msgspec.json.Decoder(t).decode
        holds = compile_after_check(schema, ref)
    except (Unsupported, TypeError, ValueError):
        return None
    if holds is None:
        return decode

    def decode_checked(data: bytes) -> Any:
        value = decode(data)
        if not holds(value):
            raise msgspec.ValidationError("a string does not match its pattern, or free-form data is not null")
        return value
    return decode_checked


#: What a failed decode raises (all mean: take the exact path, which explains it):
#: invalid JSON or schema (msgspec's errors), text that is not UTF-8
#: (UnicodeDecodeError, a ValueError), nesting deeper than msgspec goes.
DECODE_ERRORS = (msgspec.MsgspecError, ValueError, RecursionError)
