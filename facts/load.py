"""Read facts documents: one host, an array, ``{"hosts": [...]}`` or JSON Lines.

The loader is a generator, so a 250,000-line inventory is never held whole.
Each record is checked by the compiled schema validator; a bad record is
rejected with its diagnostics and the others go on. Positions are computed
only when asked for (errors, SARIF regions), by the exact slow parser, and
kept in a side table, never in the facts.
"""
from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Iterable, Iterator, NamedTuple

import orjson

from ..base.diagnostics import Code, Diagnostic, InputError, Level
from ..base.jsonpos import PositionMap, parse_with_positions
from ..base.textio import MARK_ERRORS, decode, find_bad_text, find_out_of_step, line_col, sniff_encoding
from .fastcheck import Compiler, Walk
from .fastdecode import DECODE_ERRORS
from .normalize import derive

MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
#: JSON Lines from a pipe, FIFO or device (no size known in advance, maybe endless) are
#: read up to the limit of a JSON document, counted while reading.
MAX_STREAM_BYTES = MAX_DOCUMENT_BYTES
#: The head of such a stream checked for NUL bytes (binary: /dev/zero, /dev/urandom).
STREAM_HEAD_BYTES = 1 << 20


def facts_schema() -> dict[str, Any]:
    """The facts JSON Schema shipped in sitegate.schemas."""
    return json.loads(resources.files("sitegate.schemas").joinpath("facts.v1.schema.json").read_text("utf-8"))


_HOST_CHECK = None
_HOST_FAST = None


@lru_cache(maxsize=1)
def _host_properties() -> frozenset[str]:
    """The top-level fields of a host object (HostFacts in the facts schema)."""
    return frozenset(facts_schema()["$defs"]["HostFacts"]["properties"])


def host_check() -> Any:
    """The compiled validator for one host object (compiled once per process)."""
    global _HOST_CHECK
    if _HOST_CHECK is None:
        _HOST_CHECK = Compiler(facts_schema()).ref("#/$defs/HostFacts")
    return _HOST_CHECK


_UNSET: Any = object()
_DECODE: Any = _UNSET


def host_decoder() -> Any:
    """``raw JSON Lines record -> dict`` for records that certainly validate (msgspec,
    see facts.fastdecode), or None where the schema is beyond its translation."""
    global _DECODE
    if _DECODE is _UNSET:
        from .fastdecode import compile_decoder

        _DECODE = compile_decoder(facts_schema(), "#/$defs/HostFacts")
    return _DECODE


def host_fast_check() -> Any:
    """``value -> bool``: True when the host certainly validates with no warning (generated code)."""
    global _HOST_FAST
    if _HOST_FAST is None:
        from .fastcheck import compile_fast

        _HOST_FAST = compile_fast(facts_schema(), "#/$defs/HostFacts")
    return _HOST_FAST


class Locator:
    """Finds the line and column of a pointer inside one record, on demand."""

    def locate(self, pointer: str) -> tuple[int, int]:  # pragma: no cover - interface
        raise NotImplementedError


class LineLocator(Locator):
    """A JSON Lines record: parse its one line exactly when a position is needed."""

    __slots__ = ("text", "line", "source", "_pm", "_which")

    def __init__(self, text: str, line: int, source: str):
        self.text = text
        self.line = line
        self.source = source
        self._pm: PositionMap | None = None
        self._which = -1  # which of _pointer_keys' forms to search with; -1: not decided yet

    def locate(self, pointer: str) -> tuple[int, int]:
        # The line is the record's; for the column, finding each quoted key in
        # turn is exact for compact JSON Lines and far cheaper than a parse.
        keys = _POINTER_KEYS.get(pointer)
        if keys is None:
            keys = _pointer_keys(pointer)
        which = self._which
        if which < 0:
            text = self.text
            if type(text) is not bytes:
                which = 1
            elif text.isascii():
                which = 0  # byte offsets are character offsets
            else:
                self.text = text.decode("utf-8", "replace")
                which = 1
            self._which = which
        forms: tuple[Any, ...] = keys[which]
        text = self.text
        at = 0
        for key in forms:
            found = text.find(key, at)
            if found < 0:
                break
            at = found
        return (self.line, at + 1)


_POINTER_KEYS: dict[str, tuple[tuple[bytes, ...], tuple[str, ...]]] = {}


def _pointer_keys(pointer: str) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """The quoted member names a pointer passes through (array indexes skipped), as bytes and text."""
    names = tuple('"' + t.replace("~1", "/").replace("~0", "~") + '"' for t in pointer.split("/")[1:] if not t.isdigit())
    keys = (tuple(n.encode("utf-8") for n in names), names)
    if len(_POINTER_KEYS) < 4096:
        _POINTER_KEYS[pointer] = keys
    return keys


class _DocPositions:
    """Shared, lazily built position map of a whole JSON document."""

    def __init__(self, text: str, source: str, pm: PositionMap | None = None):
        self.text = text
        self.source = source
        if pm is not None:
            self.__dict__["pm"] = pm  # already built (the cached_property reads the instance dict first)

    @cached_property
    def pm(self) -> PositionMap | None:
        return _position_map(self.text, self.source)


def _position_map(text: str, source: str) -> PositionMap | None:
    """The position map of a JSON text, or None when it cannot be built: a syntax error,
    nesting past the parser's depth, an integer of over 4,300 digits (ValueError), or
    millions of values (MemoryError: positions degrade to 1:1, the run goes on)."""
    try:
        return parse_with_positions(text, source)[1]
    except (InputError, RecursionError, ValueError, MemoryError):
        return None


class DocLocator(Locator):
    """A record inside a JSON document, found under ``base`` (e.g. ``/hosts/3``)."""

    __slots__ = ("doc", "base")

    def __init__(self, doc: _DocPositions, base: str):
        self.doc = doc
        self.base = base

    def locate(self, pointer: str) -> tuple[int, int]:
        pm = self.doc.pm
        if pm is None:
            return (1, 1)
        return pm.locate(self.base + pointer) or (1, 1)


@dataclass(slots=True)
class HostRecord:
    """One valid host: its facts (with ``derived`` added) and where it came from."""

    name: str
    facts: dict[str, Any]
    source: str
    index: int  # the record's position in its file
    line: int
    locator: Locator | None = None
    warnings: list[Diagnostic] = field(default_factory=list)

    def locate(self, pointer: str) -> tuple[int, int]:
        """Line and column of a fact in the source file (the record's line if unknown)."""
        if self.locator is None:
            return (self.line or 1, 1)
        return self.locator.locate(pointer)


@dataclass(slots=True)
class Rejected:
    """A record (or a whole file, index -1) that could not be used, and why."""

    source: str
    index: int  # the record's position in its file
    diagnostics: list[Diagnostic]
    host: str | None = None


Item = HostRecord | Rejected


def _first_at(message: str, line: int) -> str:
    """A JSON Lines record is one line: "first at line 1" of its parse is the record's line."""
    if not line:
        return message
    return re.sub(r"\(first at line (\d+)\)", lambda m: f"(first at line {int(m.group(1)) + line - 1})", message)


def _same_keys(raw: bytes | str, value: Any) -> bool:
    """True when the parsed value certainly kept every key of the raw record.

    orjson keeps the last of duplicate keys silently. A compact re-serialisation
    identical to the raw bytes (what orjson, jq -c and most exporters write)
    proves nothing was dropped; otherwise the ':' tallies must agree.
    """
    try:
        again = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested deeper than orjson serialises (254 levels)
        return False
    if again == raw:
        return True
    return again.count(b":") == _raw_colons(raw)


def _raw_colons(raw: bytes | str) -> int:
    """Colons the record's text holds once decoded: literal ones and \\u003a escapes
    (a literal backslash before "u003a" over-counts, which only ever sends a record the exact way)."""
    if isinstance(raw, bytes):
        n = raw.count(b":")
        return n + raw.count(b"\\u003a") + raw.count(b"\\u003A") if b"\\u003" in raw else n
    n = raw.count(":")
    return n + raw.count("\\u003a") + raw.count("\\u003A") if "\\u003" in raw else n


def check_host(value: Any, source: str = "<memory>", index: int = 0, *, line: int = 0, pointer: str = "", derive_only: frozenset[str] | None = None) -> Item:
    """Validate one host's facts as a record of a facts file is validated: its
    :class:`HostRecord` (derived facts added to ``value``, which is changed: pass a
    copy to keep yours) or its :class:`Rejected` with ``file:line:col`` diagnostics.

    ``source``, ``index`` and ``line`` say where the record came from; ``pointer``
    is its JSON pointer in that source (diagnostics point below it); ``derive_only``
    names the derived facts wanted (normalize.derive; None: all).
    """
    return _check_record(value, source, index, line, None, None, None, pointer, False, derive_only)


def _check_record(
    value: Any,
    source: str,
    index: int,
    line: int,
    raw: bytes | str | None,
    locate_text: tuple[str, str, int] | None,
    doc: _DocPositions | None,
    base: str,
    want_locator: bool,
    derive_only: frozenset[str] | None = None,
) -> Item:
    """Validate one parsed record; build its HostRecord or its rejection."""
    if type(value) is not dict:
        pos = (line or 1, 1)
        if doc is not None and doc.pm is not None:
            pos = doc.pm.locate(base) or pos
        return Rejected(
            source,
            index,
            [Diagnostic(source, f"expected a host object, got {type(value).__name__}", pos[0], pos[1], base or "", code=Code.FACTS_SHAPE)],
        )
    name = value.get("name")
    host = name if type(name) is str and name else None
    if "hosts" in value:
        # A host that carries 'hosts' may be a fleet document with a 'name' (fleet-2026):
        # reading it as one host would drop every host inside. Never a guess: an error.
        pos = (line or 1, 1)
        if doc is not None and doc.pm is not None:
            pos = doc.pm.locate(base + "/hosts") or pos
        inner = value["hosts"]
        what = f"{len(inner)} entr{'y' if len(inner) == 1 else 'ies'}" if type(inner) is list else type(inner).__name__
        return Rejected(source, index, [Diagnostic(
            source,
            f"ambiguous shape: a host object that also carries 'hosts' ({what}); a fleet is"
            " {\"hosts\": [...]} without 'name' or other host fields, a host has no 'hosts': nothing in it was read",
            pos[0], pos[1], base + "/hosts", host, code=Code.FACTS_SHAPE)], host)
    if host is not None and (_HOST_FAST or host_fast_check())(value) and (raw is None or _same_keys(raw, value)):
        # Fast path: certainly valid, nothing to warn about, and no hidden duplicate key.
        if want_locator:
            if locate_text is not None:
                fast_locator: Locator | None = LineLocator(locate_text[0], locate_text[2], source)
            else:
                fast_locator = DocLocator(doc, base) if doc is not None else None
        else:
            fast_locator = None
        value["derived"] = derive(value, derive_only)
        return HostRecord(host, value, source, index, line, fast_locator, [])
    w = Walk()
    try:
        ok = host_check()(value, "", w)
    except RecursionError:
        # Nesting just under orjson's limit (1024) still exceeds Python's stack.
        pos = (line or 1, 1)
        if doc is not None and doc.pm is not None:
            pos = doc.pm.locate(base) or pos
        return Rejected(source, index, [Diagnostic(source, "record nests too deeply (more than ~900 levels)", pos[0], pos[1], base or "", host, code=Code.TOO_DEEP)], host)
    duplicates: list[Diagnostic] = []
    if raw is not None and _raw_colons(raw) != w.keys + w.colons:
        # The tallies disagree: the record may hide a duplicate key. Ask the exact parser.
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            _, _, duplicates = parse_with_positions(text, source)
        except InputError as exc:
            duplicates = exc.diagnostics
        duplicates = [
            Diagnostic(d.source, _first_at(d.message, line), line or d.line, d.column, base + d.pointer, host, d.level, d.code)
            for d in duplicates
        ]
    if locate_text is not None:
        locator: Locator | None = LineLocator(locate_text[0], locate_text[2], source)
    elif doc is not None:
        locator = DocLocator(doc, base)
    elif raw is not None and line and not (ok and host is not None):
        # Positions were not asked for, but a rejection still names its column.
        locator = LineLocator(raw, line, source)  # type: ignore[arg-type]
    else:
        locator = None

    def diag(ptr: str, msg: str, level: Level, code: Code) -> Diagnostic:
        l, c = locator.locate(ptr) if locator is not None else (line or 1, 1)
        return Diagnostic(source, msg, l, c, base + ptr, host, level, code)

    if not ok or duplicates or host is None:
        diags = [diag(p, m, Level.ERROR, Code.FACTS_SCHEMA) for p, m in w.errors]
        if host is None and not any(p == "/name" or "'name'" in m for p, m in w.errors):
            diags.append(diag("", "host has no 'name'", Level.ERROR, Code.FACTS_SCHEMA))
        diags.extend(duplicates)
        diags.extend(diag(p, m, Level.WARNING, Code.UNKNOWN_FIELD) for p, m in w.warnings)
        return Rejected(source, index, diags, host)
    warnings = [diag(p, m, Level.WARNING, Code.UNKNOWN_FIELD) for p, m in w.warnings]
    value["derived"] = derive(value, derive_only)
    return HostRecord(host, value, source, index, line, locator if want_locator else None, warnings)


class RawLine(NamedTuple):
    """One non-blank JSON Lines record, not parsed yet (what a worker process is sent)."""

    source: str
    index: int  # type: ignore[assignment]  # a record field; shadows tuple.index on purpose
    line: int
    data: bytes | str


def parse_raw_line(rl: RawLine, *, locate: bool, derive_only: frozenset[str] | None = None) -> Item:
    """Parse and check one JSON Lines record (``derive_only``: as check_host)."""
    return _parse_line(rl[0], rl[1], rl[2], rl[3], locate, derive_only)


def _parse_line(source: str, index: int, lineno: int, stripped: bytes | str, locate: bool, derive_only: frozenset[str] | None = None) -> Item:
    decode = _DECODE if _DECODE is not _UNSET else host_decoder()
    if decode is not None and type(stripped) is bytes and b'"extensions"' not in stripped:
        # One pass that parses and validates (facts.fastdecode); anything it does not
        # certainly accept, or that lost a key on the way (_same_keys), goes the exact way.
        # The decoder refuses free-form data itself, but only after decoding the whole
        # record: a host with extensions is sent the exact way before that (a scan of the
        # line costs about 1/20 of a decode, so this wins once 1 host in 20 has them).
        try:
            value = decode(stripped)
        except DECODE_ERRORS:
            value = None
        if value is not None and _same_keys(stripped, value):
            value["derived"] = derive(value, derive_only)
            return HostRecord(value["name"], value, source, index, lineno, LineLocator(stripped, lineno, source) if locate else None, [])  # type: ignore[arg-type]
    try:
        value = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        if isinstance(stripped, bytes):
            try:
                text = stripped.decode("utf-8")
            except UnicodeDecodeError as bad:
                col = len(stripped[: bad.start].decode("utf-8", "replace")) + 1
                msg = f"not valid UTF-8 text: byte 0x{stripped[bad.start]:02x} cannot be decoded; save the file as UTF-8"
                return Rejected(source, index, [Diagnostic(source, msg, lineno, col, f"/{index}", code=Code.ENCODING)])
        else:
            text = stripped
            marked = find_bad_text(text)  # bytes a UTF-16/32 stream could not decode (textio.MARK_ERRORS)
            if marked is not None:
                return Rejected(source, index, [Diagnostic(source, marked[1], lineno, marked[0] + 1, f"/{index}", code=Code.ENCODING)])
            step = find_out_of_step(text)
            if step is not None:
                msg = "not valid UTF-16 text: from about here the bytes are out of step (a byte is missing or extra), so the rest of the file cannot be read"
                return Rejected(source, index, [Diagnostic(source, msg, lineno, step + 1, f"/{index}", code=Code.ENCODING)])
        return Rejected(source, index, [_syntax_diag(text, source, lineno, f"/{index}", exc)])
    text_for_locator = None
    if locate:
        # The line stays bytes until a position is asked for (LineLocator decodes it).
        text_for_locator = (stripped, source, lineno)
    return _check_record(value, source, index, lineno, stripped, text_for_locator, None, f"/{index}", locate, derive_only)  # type: ignore[arg-type]


def _over_long(line: bytes | str, fh: Any) -> bool:
    """Whether ``line``, read with ``readline(MAX_RECORD_BYTES + 1)``, is the start of an
    over-long line; if so the rest of it is read past, never held."""
    nl: Any = b"\n" if type(line) is bytes else "\n"
    if len(line) <= MAX_RECORD_BYTES or line.endswith(nl):
        return False
    while True:
        more = fh.readline(MAX_RECORD_BYTES)
        if not more or more.endswith(nl):
            return True


def iter_jsonl(
    fh: io.BufferedReader | io.TextIOBase | io.BytesIO, source: str, *, locate: bool, raw_lines: bool = False,
    meter: list[int] | None = None, start: tuple[int, int] = (0, 0), derive_only: frozenset[str] | None = None,
) -> Iterator[Item | RawLine]:
    """Records of a JSON Lines stream, one per non-blank line.

    ``raw_lines`` yields each record unparsed (:class:`RawLine`, for worker
    processes); ``meter[0]`` is advanced by the size of every line read (progress).
    ``start`` is the (record index, line number) before the stream's first line,
    for a :class:`RawBlock` read out of a larger file.
    """
    index, lineno = start
    while True:
        raw = fh.readline(MAX_RECORD_BYTES + 1)
        if not raw:
            break
        lineno += 1
        if meter is not None:
            meter[0] += len(raw)
        if _over_long(raw, fh):
            yield Rejected(source, index, [Diagnostic(source, f"record longer than {MAX_RECORD_BYTES // 1024 // 1024} MiB", lineno, 1, f"/{index}", code=Code.TOO_LARGE)])
            index += 1
            continue
        stripped = raw.strip()
        if not stripped:
            continue
        if type(raw) is str and raw[-1:] != "\n":
            # The last line of a text (UTF-16/32) stream: a truncated file leaves its
            # undecodable end here, after the last record. That record is kept; the
            # broken end is reported on its own, at its line and column.
            tail = _undecodable_tail(stripped)  # type: ignore[arg-type]  # a str here: the line came from a text stream
            if tail is not None:
                cut, message = tail
                stripped = stripped[:cut].rstrip()
                if stripped:
                    yield RawLine(source, index, lineno, stripped) if raw_lines else _parse_line(source, index, lineno, stripped, locate, derive_only)
                    index += 1
                yield Rejected(source, -1, [Diagnostic(source, message, lineno, cut + 1, code=Code.ENCODING)])
                continue
        yield RawLine(source, index, lineno, stripped) if raw_lines else _parse_line(source, index, lineno, stripped, locate, derive_only)
        index += 1


_MARKS_AND_SPACE = re.compile("[\\ud800-\\udfff\\s]*")


def _undecodable_tail(text: str) -> tuple[int, str] | None:
    """(index, message) when text ends in undecodable bytes (and only those, or
    whitespace, follow the first of them), else None."""
    bad = find_bad_text(text)
    if bad is None or _MARKS_AND_SPACE.fullmatch(text, bad[0]) is None:
        return None
    return bad


BLOCK_BYTES = 1 << 20


class RawBlock(NamedTuple):
    """Whole JSON Lines lines of one file, not parsed yet: what a ``--jobs`` worker is
    sent. ``index`` and ``line`` are the record index and line number before its
    first line, so :func:`block_items` gives the records :func:`iter_jsonl` would.
    ``data`` is bytes for a UTF-8 file, text (newlines already translated) for one
    in another encoding."""

    source: str
    index: int  # type: ignore[assignment]  # a record field; shadows tuple.index on purpose
    line: int
    data: bytes | str


def block_items(block: RawBlock, *, locate: bool, derive_only: frozenset[str] | None = None) -> Iterator[Item]:
    """The records of a block, parsed and checked, exactly as :func:`iter_jsonl` reads them."""
    data = block.data
    fh = io.BytesIO(data) if type(data) is bytes else io.StringIO(data, newline="\n")  # type: ignore[arg-type]  # no second translation
    return iter_jsonl(fh, block.source, locate=locate, start=(block.index, block.line), derive_only=derive_only)  # type: ignore[return-value]


def _records_and_lines(body: bytes | str) -> tuple[int, int]:
    """Records (non-blank lines) and lines in whole lines of JSON Lines (ending in a newline)."""
    # One split and one C-level strip per line: measured cheaper than counting
    # newlines and searching for blank lines in separate passes.
    if type(body) is bytes:
        parts: list[Any] = body.split(b"\n")
        stripped: list[Any] = list(map(bytes.strip, parts))
    else:
        parts = body.split("\n")  # type: ignore[arg-type]
        stripped = [part.strip() for part in parts]
    # split leaves one empty piece after the final newline: that one is no line.
    return len(parts) - stripped.count(body[:0]), len(parts) - 1


def iter_jsonl_blocks(
    fh: io.BufferedReader | io.TextIOBase, source: str, *, meter: list[int] | None = None, block_size: int | None = None,
) -> Iterator[RawBlock]:
    """A JSON Lines stream cut into blocks of whole lines (about ``block_size``
    bytes, or characters for a text stream), for worker processes to parse.

    The main process only counts newlines here (C speed), so that each block
    knows the record index and line number it starts at; a line longer than
    MAX_RECORD_BYTES is cut after MAX_RECORD_BYTES + 1 bytes and ends its block,
    which :func:`iter_jsonl` then rejects as too large, as it would line by line.
    """
    block_size = min(block_size or BLOCK_BYTES, MAX_RECORD_BYTES)  # a block never holds an over-long line whole
    index = lineno = 0
    nl: Any = None
    while True:
        data = fh.read(block_size)
        if not data:
            return
        if nl is None:
            nl = b"\n" if type(data) is bytes else "\n"
        cut = data.rfind(nl) + 1
        body, last = data[:cut], data[cut:]
        too_long = False
        if last:
            last += fh.readline(MAX_RECORD_BYTES + 1 - len(last))  # type: ignore[operator]  # same kind as data
            too_long = _over_long(last, fh)
        records, lines = _records_and_lines(body)
        if last:
            lines += 1
            records += 1 if too_long or last.strip() else 0
        if meter is not None:
            meter[0] += len(body) + len(last)
        yield RawBlock(source, index, lineno, body + last if last else body)  # type: ignore[operator]  # same kind as data
        index += records
        lineno += lines


def _syntax_diag(text: str, source: str, line_offset: int, pointer: str, orjson_error: Exception | None = None) -> Diagnostic:
    """Exact position of a JSON syntax error in text (stdlib json reports it).

    What the stdlib accepts but orjson refuses (NaN, nesting, huge numbers, lone
    surrogates) is located by the exact parser, else by orjson's own message.
    """
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        line = exc.lineno + line_offset - 1
        return Diagnostic(source, f"invalid JSON: {exc.msg}", line, exc.colno, pointer, code=Code.JSON_SYNTAX)
    except (ValueError, RecursionError):
        pass
    try:
        parse_with_positions(text, source)
    except InputError as exc:
        d = exc.diagnostics[-1]
        return Diagnostic(source, f"invalid JSON: {d.message}", d.line + line_offset - 1, d.column, pointer + d.pointer, code=Code.JSON_SYNTAX)
    except (RecursionError, ValueError):  # ValueError: an integer of over 4300 digits
        pass
    sanitized, bad = _bad_numbers(text)
    if bad:
        # A number beyond a double (1e400, 400 digits): name it, where it is and its pointer.
        off, lit = bad[0]
        found = _pointers_at(sanitized, source, {off})
        l, c = line_col(text, off)
        return _number_diag(source, lit, l + line_offset - 1, c, pointer + found.get(off, ""))
    if isinstance(orjson_error, json.JSONDecodeError):
        e = orjson_error
        return Diagnostic(source, f"invalid JSON: {e.msg}", e.lineno + line_offset - 1, e.colno, pointer, code=Code.JSON_SYNTAX)
    return Diagnostic(source, "invalid JSON", line_offset, 1, pointer, code=Code.JSON_SYNTAX)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# Numbers orjson refuses in a document that is otherwise valid JSON: NaN and
# (-)Infinity (not JSON), and numbers beyond a double (1e400, an integer of 309
# digits or more: "number is infinity when parsed as double"). They cost only the
# record that holds them: each is replaced by a placeholder of the same length
# ("0" and spaces, so every position stays where it was), the document is parsed
# again, and the records holding one are rejected, each number named at its
# line:col with its pointer. The stdlib would read them (as inf, nan or a big int);
# the placeholder route keeps orjson's reading of everything else.
_SUSPECT_NUMBER = re.compile(r"NaN|Infinity|[0-9]{309}|[eE]\+?0*[1-9][0-9]{2}")
_STRING_OR_NUMBER = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)')
_INF = float("inf")


def _bad_numbers(text: str) -> tuple[str, list[tuple[int, str]]]:
    """(text with each refused number replaced by a same-length placeholder,
    [(offset, literal)] of those numbers); (text, []) when there is none."""
    if _SUSPECT_NUMBER.search(text) is None:
        return text, []
    bad: list[tuple[int, str]] = []
    for m in _STRING_OR_NUMBER.finditer(text):
        lit = m.group(1)
        if lit is not None and (lit[-1] in "Ny" or abs(float(lit)) == _INF):
            bad.append((m.start(1), lit))
    if not bad:
        return text, []
    parts: list[str] = []
    at = 0
    for off, lit in bad:
        parts += (text[at:off], "0", " " * (len(lit) - 1))
        at = off + len(lit)
    parts.append(text[at:])
    return "".join(parts), bad


def _pointers_at(text: str, source: str, offsets: set[int]) -> dict[int, str]:
    """{offset: pointer} of the values that start at these offsets ({} if text cannot be parsed)."""
    pm = _position_map(text, source)
    return {} if pm is None else {off: ptr for ptr, off in pm.offsets.items() if off in offsets}


def _number_diag(source: str, lit: str, line: int, col: int, pointer: str, host: str | None = None) -> Diagnostic:
    if lit[-1] in "Ny":
        return Diagnostic(source, f"invalid JSON: {lit} is not a JSON number", line, col, pointer, host, code=Code.JSON_SYNTAX)
    shown = lit if len(lit) <= 24 else f"{lit[:16]}... ({len(lit)} characters)"
    return Diagnostic(source, f"number {shown} is out of range: infinity when parsed as double", line, col, pointer, host, code=Code.NUMBER_RANGE)


class _Spared(NamedTuple):
    """A document whose only fault is numbers orjson refuses (see _bad_numbers)."""

    value: Any
    text: str  # with placeholders: same length, same positions
    pm: PositionMap
    numbers: list[tuple[str, int, str]]  # (pointer, offset, literal)


def _spare_numbers(text: str, source: str) -> _Spared | None:
    sanitized, bad = _bad_numbers(text)
    if not bad:
        return None
    try:
        value = orjson.loads(sanitized)
    except orjson.JSONDecodeError:
        return None  # something else is wrong too: the whole document is refused, as before
    pm = _position_map(sanitized, source)
    if pm is None:
        return None
    at = {off: lit for off, lit in bad}
    numbers = [(ptr, off, at[off]) for ptr, off in pm.offsets.items() if off in at]
    if len(numbers) != len(bad):
        return None
    numbers.sort(key=lambda n: n[1])
    return _Spared(value, sanitized, pm, numbers)


def iter_document(text: str, source: str, *, locate: bool, derive_only: frozenset[str] | None = None) -> Iterator[Item]:
    """Records of a whole JSON document (host, array of hosts, or {hosts: [...]})."""
    spared: _Spared | None = None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if _looks_like_jsonl(text):
            yield from iter_jsonl(io.StringIO(text, newline=None), source, locate=locate, derive_only=derive_only)  # type: ignore[misc]  # CR, LF or CRLF; no raw_lines, so no RawLine
            return
        spared = _spare_numbers(text, source)
        if spared is None:
            yield Rejected(source, -1, [_syntax_diag(text, source, 1, "", exc)])
            return
        # The whole document refused as before, if a refused number is in no host.
        original, error = text, exc
        refused = lambda: Rejected(source, -1, [_syntax_diag(original, source, 1, "", error)])  # noqa: E731
        value, text = spared.value, spared.text
    # With placeholders the text keeps every position, so its map is the file's.
    doc = _DocPositions(text, source, spared.pm if spared is not None else None)
    if type(value) is dict and "hosts" in value and "name" not in value:
        extra = sorted(set(value) - {"hosts", "$schema"})
        host_keys = [k for k in extra if k in _host_properties()]
        if host_keys:
            # {"hosts": [...], "os": {...}}: a fleet or a host? Never a guess.
            pos = (doc.pm.locate("/" + host_keys[0]) if doc.pm else None) or (1, 1)
            yield Rejected(source, -1, [Diagnostic(
                source,
                f"ambiguous shape: an object with 'hosts' and the host field(s) {', '.join(map(repr, host_keys))};"
                " a fleet is {\"hosts\": [...]} alone, a host has no 'hosts': nothing in it was read",
                pos[0], pos[1], "/" + host_keys[0], code=Code.FACTS_SHAPE)])
            return
        if extra:
            pm = doc.pm
            for k in extra:
                pos = (pm.locate("/" + k) if pm else None) or (1, 1)
                yield Rejected(source, -1, [Diagnostic(source, f"unknown top-level field {k!r} ignored", pos[0], pos[1], "/" + k, level=Level.WARNING, code=Code.UNKNOWN_FIELD)])
        hosts = value["hosts"]
        if spared is not None and type(hosts) is not list:
            yield refused()
            return
        if type(hosts) is not list:
            pos = (doc.pm.locate("/hosts") if doc.pm else None) or (1, 1)
            yield Rejected(source, -1, [Diagnostic(source, "'hosts' must be an array of host objects", pos[0], pos[1], "/hosts", code=Code.FACTS_SHAPE)])
            return
        base = "/hosts/"
    elif type(value) is list:
        hosts = value
        base = "/"
    elif type(value) is dict:
        hosts = [value]
        base = None  # a single host is the document itself
    else:
        yield refused() if spared is not None else Rejected(source, -1, [Diagnostic(source, f"expected a host object or an array of hosts, got {type(value).__name__}", 1, 1, code=Code.FACTS_SHAPE)])
        return
    numbers_by_record: dict[int, list[tuple[str, int, str]]] = {}
    if spared is not None:
        for n in spared.numbers:
            numbers_by_record.setdefault(_record_index(n[0], base), []).append(n)
        if -1 in numbers_by_record:
            yield refused()  # a refused number outside every host: the document as a whole is refused
            return
    if not hosts:
        # Like an empty file: a facts file that holds no host is a mistake, never "all compliant".
        pos = ((doc.pm.locate(base.rstrip("/")) if doc.pm else None) or (1, 1)) if base else (1, 1)
        yield Rejected(source, -1, [Diagnostic(source, "no hosts: the array of hosts is empty", pos[0], pos[1], (base or "/").rstrip("/"), code=Code.EMPTY)])
        return
    # One duplicate-key check for the whole document, not per record.
    whole = Walk()
    from .fastcheck import tally_strings

    try:
        tally_strings(value, whole)
        deep = False
    except RecursionError:
        deep = True  # the exact parser below stops at its depth limit and names the record
    dup_by_record: dict[int, list[Diagnostic]] = {}
    if deep or _raw_colons(text) != whole.keys + whole.colons:
        try:
            _, _, dups = parse_with_positions(text, source)
        except InputError as exc:
            dups = exc.diagnostics
        for d in dups:
            idx = _record_index(d.pointer, base)
            dup_by_record.setdefault(idx, []).append(d)
    for i, rec in enumerate(hosts):
        ptr = "" if base is None else f"{base}{i}"
        numbers = numbers_by_record.get(i) if numbers_by_record else None
        if numbers:
            # Its placeholders would be judged as numbers: the refused numbers are its diagnostics.
            name = rec.get("name") if type(rec) is dict else None
            host = name if type(name) is str and name else None
            pm = spared.pm  # type: ignore[union-attr]
            item: Item = Rejected(source, i, [_number_diag(source, lit, l, c, p, host) for p, off, lit in numbers for l, c in (pm.locate_offset(off),)], host)
        else:
            item = _check_record(rec, source, i, 0, None, None, doc, ptr, locate, derive_only)
        extra_dups = dup_by_record.get(i if base is not None else 0) or []
        if extra_dups:
            name = item.name if isinstance(item, HostRecord) else item.host
            diags = item.diagnostics if isinstance(item, Rejected) else list(item.warnings)
            item = Rejected(source, i, diags + [Diagnostic(d.source, d.message, d.line, d.column, d.pointer, name, d.level, d.code) for d in extra_dups], name)
        if isinstance(item, HostRecord) and locate:
            item.line = item.locate("")[0]
        yield item
    stray = dup_by_record.get(-1)
    if stray:
        yield Rejected(source, -1, stray)


def _record_index(pointer: str, base: str | None) -> int:
    if base is None:
        return 0
    if not pointer.startswith(base):
        return -1
    head = pointer[len(base):].split("/", 1)[0]
    return int(head) if head.isdigit() else -1


_LINE_END = re.compile(r"\r\n?|\n")


def _looks_like_jsonl(text: str) -> bool:
    first = text.lstrip()[:1]
    if first != "{":
        return False
    head, *rest = _LINE_END.split(text.lstrip(), 1)  # CR, LF or CRLF
    if not rest or not rest[0].strip():
        return False
    try:
        orjson.loads(head)
        return True
    except orjson.JSONDecodeError:
        return False


def iter_file(
    path: str, display: str | None = None, *, locate: bool = False, fmt: str | None = None,
    raw_lines: bool = False, meter: list[int] | None = None, raw_blocks: bool = False,
    derive_only: frozenset[str] | None = None,
) -> Iterator[Item | RawLine | RawBlock]:
    """Every record of one facts file (``-`` reads standard input).

    ``raw_lines``: JSON Lines records unparsed (:class:`RawLine`); ``raw_blocks``:
    JSON Lines as :class:`RawBlock` s of whole lines. Both are for worker processes.
    """
    source = display or path
    if path != "-" and os.path.isdir(path):
        yield Rejected(source, -1, [Diagnostic(source, "is a directory, a facts file was expected", code=Code.IO)])
        return
    try:
        fh = open(path, "rb", buffering=1 << 20) if path != "-" else _stdin_bytes()  # fewer, larger reads
    except FileNotFoundError:
        yield Rejected(source, -1, [Diagnostic(source, "no such file", code=Code.IO)])
        return
    except OSError as exc:
        yield Rejected(source, -1, [Diagnostic(source, f"cannot read: {exc.strerror}", code=Code.IO)])
        return
    with fh:
        head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
        encoding, bom = sniff_encoding(head)
        lower = source.lower()
        jsonl = fmt == "jsonl" or (fmt is None and lower.endswith((".jsonl", ".ndjson")))
        if jsonl:
            stream = _stream_kind(fh)
            if stream is None:
                yield from _iter_jsonl_file(fh, source, encoding, bom, locate, raw_lines, meter, raw_blocks, derive_only)
                return
            # A pipe, FIFO or device may never end (/dev/zero, a FIFO fed forever): counted
            # while read, refused past the limit; the records read before it are kept.
            limit = MAX_STREAM_BYTES
            bounded = io.BufferedReader(_BoundedStream(fh, limit, encoding == "utf-8"), 1 << 20)
            try:
                yield from _iter_jsonl_file(bounded, source, encoding, bom, locate, raw_lines, meter, raw_blocks, derive_only)
            except _StreamRefused as exc:
                yield Rejected(source, -1, [Diagnostic(source, exc.message(stream, limit), code=Code.TOO_LARGE if exc.binary_at < 0 else Code.BINARY)])
            return
        raw = _read_document(fh, MAX_DOCUMENT_BYTES)
    if meter is not None:
        meter[0] += len(raw)
    if len(raw) > MAX_DOCUMENT_BYTES:
        yield Rejected(source, -1, [Diagnostic(source, "JSON document larger than 1 GiB: use JSON Lines", code=Code.TOO_LARGE)])
        return
    if not raw.strip():
        yield Rejected(source, -1, [Diagnostic(source, "the file is empty: no hosts", 1, 1, code=Code.EMPTY)])
        return
    try:
        document = decode(raw, source)
    except InputError as exc:
        yield Rejected(source, -1, exc.diagnostics)
        return
    if "\x00" in document:
        l, c = line_col(document, document.index("\x00"))
        yield Rejected(source, -1, [Diagnostic(source, "contains a NUL character: not a text file", l, c, code=Code.BINARY)])
        return
    yield from iter_document(document, source, locate=locate, derive_only=derive_only)


def _iter_jsonl_file(
    fh: Any, source: str, encoding: str, bom: int, locate: bool, raw_lines: bool, meter: list[int] | None, raw_blocks: bool,
    derive_only: frozenset[str] | None = None,
) -> Iterator[Item | RawLine | RawBlock]:
    """The records (or raw lines, or blocks) of an opened JSON Lines file."""
    if encoding == "utf-8":
        if bom:
            fh.read(bom)
        lines: Any = fh
        if hasattr(fh, "peek") and _bare_cr(fh.peek(1 << 20)[: 1 << 20]):
            # Old Mac line ends (CR): read through a layer that makes every line end LF.
            # Decided once per file, by its first line end; LF and CRLF files never take it.
            lines = io.BufferedReader(_CRLinesAsLF(fh), 1 << 20)
        if raw_blocks:
            yield from iter_jsonl_blocks(lines, source, meter=meter)
        else:
            yield from iter_jsonl(lines, source, locate=locate, raw_lines=raw_lines, meter=meter, derive_only=derive_only)
    else:
        # Universal newlines (CR, LF, CRLF); undecodable bytes become markers that
        # cost only their own record (textio.MARK_ERRORS), never an exception.
        text = io.TextIOWrapper(fh, encoding=encoding.replace("-le", "").replace("-be", "") if bom else encoding, errors=MARK_ERRORS)
        if raw_blocks:
            yield from iter_jsonl_blocks(text, source, meter=meter)
        else:
            yield from iter_jsonl(text, source, locate=locate, raw_lines=raw_lines, meter=meter, derive_only=derive_only)


def _stream_kind(fh: Any) -> str | None:
    """What an opened input is when it has no size to trust (a pipe, FIFO, device), else
    None (a regular file; an in-memory stdin, as tests give, is finite too)."""
    import stat

    try:
        mode = os.fstat(fh.fileno()).st_mode
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


class _StreamRefused(Exception):
    """A JSON Lines stream that is not read on: past the limit, or binary from the start."""

    def __init__(self, read: int, binary_at: int = -1):
        super().__init__(read)
        self.read = read
        self.binary_at = binary_at

    def message(self, kind: str, limit: int) -> str:
        if self.binary_at >= 0:
            return (f"{kind} that gives binary data (a NUL byte at byte {self.binary_at + 1:,}), not JSON Lines text:"
                    " nothing more is read from it")
        return (f"{kind} that gave more than {_size_text(limit)}, the limit of any input (JSON Lines from a pipe or"
                " device are counted as read): the rest is not read; save it to a file, or split it")


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


class _BoundedStream(io.RawIOBase):
    """A byte stream counted as it is read: past ``limit`` bytes, or at a NUL byte in its
    first STREAM_HEAD_BYTES when it should be UTF-8 text, reading raises
    :class:`_StreamRefused` (the records before it are already out)."""

    def __init__(self, raw: Any, limit: int, utf8: bool):
        self._raw = raw
        self._limit = limit
        self._check_head = utf8
        self.read_total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        # Reads stop at the limit, then one byte more tells whether the stream goes past it:
        # every record that ends within the limit is read.
        view = memoryview(b)[: max(1, self._limit - self.read_total)]
        n = self._raw.readinto1(view) if hasattr(self._raw, "readinto1") else self._raw.readinto(view)
        start = self.read_total
        self.read_total += n
        if self._check_head and start < STREAM_HEAD_BYTES and n:
            nul = bytes(view[: min(n, STREAM_HEAD_BYTES - start)]).find(b"\x00")
            if nul >= 0:
                raise _StreamRefused(self.read_total, start + nul)
        if self.read_total > self._limit:
            raise _StreamRefused(self.read_total)
        return n


def _bare_cr(head: bytes) -> bool:
    """Whether the first line end in ``head`` is a CR alone (an old Mac file). In a file
    whose first line ends LF or CRLF, a stray CR stays inside its line (JSON whitespace
    or a bad record), as it always has."""
    cr = head.find(b"\r")
    if cr < 0 or cr + 1 >= len(head):
        return False
    lf = head.find(b"\n", 0, cr + 2)
    return lf < 0


class _CRLinesAsLF(io.RawIOBase):
    """A byte stream with its CR and CRLF line ends read as LF (universal newlines, as a
    text stream has them), for :func:`iter_jsonl` and :func:`iter_jsonl_blocks`, which
    split on LF. Only a file with CR line ends is read through it (see iter_file)."""

    def __init__(self, raw: Any):
        self._raw = raw
        self._after_cr = False  # the last chunk ended in CR: an LF first in the next is its CRLF's
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._out:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                return 0
            if self._after_cr and chunk[:1] == b"\n":
                chunk = chunk[1:]
            self._after_cr = chunk[-1:] == b"\r"
            self._out = memoryview(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def _stdin_bytes() -> io.BufferedReader:
    import sys

    return sys.stdin.buffer  # type: ignore[return-value]


_FACTS_SUFFIXES = (".json", ".jsonl", ".ndjson")


def iter_paths(
    paths: Iterable[str], *, locate: bool = False, fmt: str | None = None,
    raw_lines: bool = False, meter: list[int] | None = None, raw_blocks: bool = False,
    derive_only: frozenset[str] | None = None,
) -> Iterator[Item | RawLine | RawBlock]:
    """Records of several files in order; directories are expanded to their *.json/*.jsonl files
    (``derive_only``: the derived facts wanted, as check_host)."""
    for p in paths:
        if p != "-" and os.path.isdir(p):
            found = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(p) for f in fs)
            # Only regular files are read from a folder: a FIFO named x.json would wait for a
            # writer forever, a device would stream without end. They are named and skipped.
            odd = [(f, what) for f in found if (what := _not_regular(f))]
            if odd:
                skipped_odd = {f for f, _ in odd}
                found = [f for f in found if f not in skipped_odd]
                yield Rejected(p, -1, [
                    Diagnostic(_display(f), f"{what}, not a regular file: skipped", level=Level.WARNING, code=Code.SKIPPED)
                    for f, what in odd
                ])
            files = [f for f in found if f.lower().endswith(_FACTS_SUFFIXES)]
            # Nothing in a facts directory is passed over silently (a CSV export there is
            # not read unless --input-format csv says how).
            skipped = [f for f in found if not f.lower().endswith(_FACTS_SUFFIXES)]
            if skipped:
                yield Rejected(p, -1, [
                    Diagnostic(_display(f), "not a .json/.jsonl facts file: skipped"
                               + (" (read CSV exports with --input-format csv)" if f.lower().endswith(".csv") else ""),
                               level=Level.WARNING, code=Code.SKIPPED)
                    for f in skipped
                ])
            if not files:
                yield Rejected(p, -1, [Diagnostic(p, "directory holds no .json or .jsonl facts files", code=Code.IO)])
            for f in files:
                yield from iter_file(f, _display(f), locate=locate, fmt=fmt, raw_lines=raw_lines, meter=meter, raw_blocks=raw_blocks, derive_only=derive_only)
        else:
            yield from iter_file(p, _display(p) if p != "-" else "<stdin>", locate=locate, fmt=fmt, raw_lines=raw_lines, meter=meter, raw_blocks=raw_blocks, derive_only=derive_only)


def _not_regular(path: str) -> str | None:
    """What ``path`` is when it is not a regular file (following links), else None."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # a dangling link: reading it says "no such file"
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return what
    return "a special file"


def _read_document(fh: Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes, in chunks, stopping at the first chunk that shows the
    input is binary (NUL bytes in UTF-8 text): ``check /dev/zero`` is refused at once,
    not after a gigabyte."""
    parts: list[bytes] = []
    total = 0
    first = True
    while total <= limit:
        chunk = fh.read(min(1 << 22, limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        if first:
            first = False
            encoding, _ = sniff_encoding(chunk[:4])
            utf8 = encoding == "utf-8"
        if utf8 and b"\x00" in chunk:
            break  # decode/NUL checks below name the position; the rest is not needed
    return b"".join(parts)


def display_name(path: str) -> str:
    """The name :func:`iter_paths` gives the records of an input path it reads as one file
    (their ``source``): ``<stdin>`` for ``-``, else the path as :func:`_display` shows it."""
    return "<stdin>" if path == "-" else _display(path)


def _display(path: str) -> str:
    """A path relative to the working directory when it is below it (stable SARIF URIs)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel.replace(os.sep, "/")
