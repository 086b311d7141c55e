"""A JSON parser that remembers where every value is.

orjson is used for speed everywhere, but it reports neither duplicate keys nor
positions. This parser is the slow, exact path: it runs when a document must be
explained (an error to locate, a SARIF region to point at, a suspected
duplicate key) and returns the value together with a side table mapping each
JSON pointer to its character offset. The data itself is never annotated.
"""
from __future__ import annotations

import bisect
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # present at run time; typeshed leaves it out
from typing import Any

from .diagnostics import Code, Diagnostic, InputError, pointer_join

MAX_DEPTH = 256
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


class PositionMap:
    """Pointer -> offset side table plus the line index to turn offsets into line:col."""

    __slots__ = ("offsets", "_line_starts")

    def __init__(self, text: str, offsets: dict[str, int]):
        self.offsets = offsets
        starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_starts = starts

    def locate_offset(self, offset: int) -> tuple[int, int]:
        """Line and column (1-based) of a character offset."""
        idx = bisect.bisect_right(self._line_starts, offset) - 1
        return idx + 1, offset - self._line_starts[idx] + 1

    def locate(self, pointer: str) -> tuple[int, int] | None:
        """Line and column of the value at pointer, or of its nearest located ancestor."""
        while True:
            off = self.offsets.get(pointer)
            if off is not None:
                return self.locate_offset(off)
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


class _Parser:
    def __init__(self, text: str, source: str, base_pointer: str):
        self.text = text
        self.source = source
        self.offsets: dict[str, int] = {}
        self.base = base_pointer
        self.diagnostics: list[Diagnostic] = []
        self.pm: PositionMap | None = None

    def _pos(self, offset: int) -> tuple[int, int]:
        if self.pm is None:
            self.pm = PositionMap(self.text, {})
        return self.pm.locate_offset(offset)

    def fail(self, offset: int, message: str, pointer: str = "") -> InputError:
        line, col = self._pos(offset)
        self.diagnostics.append(
            Diagnostic(self.source, message, line, col, pointer, code=Code.JSON_SYNTAX)
        )
        return InputError(self.diagnostics)

    def skip_ws(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def value(self, i: int, pointer: str, depth: int) -> tuple[Any, int]:
        text = self.text
        i = self.skip_ws(i)
        self.offsets[pointer] = i
        if i >= len(text):
            raise self.fail(i, "unexpected end of input: a value was expected", pointer)
        ch = text[i]
        if ch == "{" or ch == "[":
            if depth >= MAX_DEPTH:
                raise self.fail(i, f"nesting deeper than {MAX_DEPTH} levels", pointer)
            return (self.obj if ch == "{" else self.arr)(i + 1, pointer, depth + 1)
        if ch == '"':
            try:
                return scanstring(text, i + 1, True)
            except ValueError as exc:
                raise self.fail(i, f"bad string: {exc.msg}", pointer) from None  # type: ignore[attr-defined]
        m = _NUMBER.match(text, i)
        if m:
            s = m.group()
            return (float(s) if any(c in s for c in ".eE") else int(s)), m.end()
        for word, val in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i):
                return val, i + len(word)
        for word in ("NaN", "Infinity", "-Infinity"):
            if text.startswith(word, i):
                raise self.fail(i, f"{word} is not a JSON number", pointer)
        raise self.fail(i, f"unexpected character {ch!r}: a value was expected", pointer)

    def obj(self, i: int, pointer: str, depth: int) -> tuple[dict[str, Any], int]:
        text = self.text
        out: dict[str, Any] = {}
        i = self.skip_ws(i)
        if i < len(text) and text[i] == "}":
            return out, i + 1
        while True:
            i = self.skip_ws(i)
            if i >= len(text) or text[i] != '"':
                raise self.fail(i, "expected a quoted object key", pointer)
            key_at = i
            try:
                key, i = scanstring(text, i + 1, True)
            except ValueError as exc:
                raise self.fail(key_at, f"bad key: {exc.msg}", pointer) from None  # type: ignore[attr-defined]
            child = pointer_join(pointer, key)
            i = self.skip_ws(i)
            if i >= len(text) or text[i] != ":":
                raise self.fail(i, "expected ':' after an object key", child)
            if key in out:
                line, col = self._pos(key_at)
                first = self.offsets.get(child)
                first_line = self._pos(first)[0] if first is not None else 0
                self.diagnostics.append(
                    Diagnostic(
                        self.source,
                        f"duplicate key {key!r} (first at line {first_line}); "
                        "JSON readers disagree on which value wins",
                        line,
                        col,
                        child,
                        code=Code.DUPLICATE_KEY,
                    )
                )
            val, i = self.value(i + 1, child, depth)
            out[key] = val
            i = self.skip_ws(i)
            if i < len(text) and text[i] == ",":
                i += 1
                continue
            if i < len(text) and text[i] == "}":
                return out, i + 1
            raise self.fail(i, "expected ',' or '}' in an object", pointer)

    def arr(self, i: int, pointer: str, depth: int) -> tuple[list[Any], int]:
        text = self.text
        out: list[Any] = []
        i = self.skip_ws(i)
        if i < len(text) and text[i] == "]":
            return out, i + 1
        while True:
            val, i = self.value(i, pointer_join(pointer, len(out)), depth)
            out.append(val)
            i = self.skip_ws(i)
            if i < len(text) and text[i] == ",":
                i += 1
                continue
            if i < len(text) and text[i] == "]":
                return out, i + 1
            raise self.fail(i, "expected ',' or ']' in an array", pointer)


def parse_with_positions(
    text: str, source: str, *, start: int = 0, end: int | None = None, pointer: str = ""
) -> tuple[Any, PositionMap, list[Diagnostic]]:
    """Parse one JSON value from text[start:end] and return it with its position map.

    Syntax errors raise InputError; duplicate keys are returned as diagnostics
    (the parse goes on, so every duplicate is reported at once).
    """
    p = _Parser(text, source, pointer)
    val, i = p.value(start, pointer, 0)
    i = p.skip_ws(i)
    stop = len(text) if end is None else end
    if i < stop:
        raise p.fail(i, "unexpected data after the JSON value (trailing garbage)")
    return val, PositionMap(text, p.offsets), p.diagnostics
