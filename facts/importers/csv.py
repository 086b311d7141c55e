"""Import a CSV export (SMP console report, CMDB query) into facts.

Columns are sitegate's standard columns (see :data:`STANDARD_COLUMNS` and
``docs/cmdb-export.sql``), matched case- and punctuation-insensitively ("OS
Build" is ``os_build``). Any other export is read through a column-mapping YAML
file (``--mapping FILE``)::

    # sitegate column mapping
    columns:
      "Computer Name": name                 # source column -> standard column
      "Total Memory (KB)": {column: memory_mb, unit: kb}
      "Status":
        column: asset_status
        values: {"Aktiv": active, "Ausgemustert": retired}
      "Comment": ignore                     # read and deliberately not used
    date_format: "%d.%m.%Y %H:%M"           # tried before the built-in formats
    delimiter: ";"                          # default: sniffed from the header
    encoding: cp1252                        # default: BOM / UTF-8 / UTF-16, then Windows-1252
    constants: {site: Berlin}               # the same value for every row

What the reader copes with, because consoles and SQL tools write it: the
delimiter (``,`` ``;`` tab ``|``, sniffed from the header), quoting, a UTF-8
BOM, UTF-16, Windows-1252 text, ``NULL``/empty cells (missing: the key is left
out), thousands separators, booleans spelled many ways and console dates.
A cell that cannot be read leaves its fact out and raises a warning at its
``file:line:col``; a row that fails the facts schema is rejected with the same
precision. Nothing is dropped silently.
"""
from __future__ import annotations

import csv as _csv
import io
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

from ...base.diagnostics import Code, Diagnostic, InputError, Level, pointer_join
from ...base.textio import decode
from ...base.yamlload import YamlDoc, load_yaml_file
from .. import normalize as n
from ..load import Item, Rejected
from . import _columns as cols
from ._common import MapLocator, finish, nearest

MAX_CSV_BYTES = 512 * 1024 * 1024
# Console and CMDB exports have tens of columns, a few hundred at most; a header far wider is
# a wrong delimiter or not a CSV file, and every column costs work per row.
MAX_CSV_COLUMNS = 2000
IMPORTER_NAME = "sitegate-import-csv"
IMPORTER_VERSION = "1.0.0"
DELIMITERS = (",", ";", "\t", "|")
STANDARD_COLUMNS = cols.STANDARD_COLUMNS
_MAPPING_KEYS = ("columns", "date_format", "delimiter", "encoding", "constants")


@dataclass
class Target:
    """Where one source column goes: a standard column, its unit and value map."""

    column: str | None  # None: ignore the source column
    unit: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Mapping:
    """A loaded column-mapping file."""

    source: str
    columns: dict[str, Target] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    delimiter: str | None = None
    encoding: str | None = None
    constants: dict[str, Any] = field(default_factory=dict)
    doc: YamlDoc | None = None

    def target(self, header: str) -> Target | None:
        """The mapping for a source header (exact, then case- and space-insensitive)."""
        if header in self.columns:
            return self.columns[header]
        key = cols.header_key(header)
        for k, t in self.columns.items():
            if cols.header_key(k) == key:
                return t
        return None


def load_mapping(path: str) -> Mapping:
    """Read and check a column-mapping YAML file; raise InputError naming line:col."""
    doc = load_yaml_file(path)
    data = doc.data
    errors: list[Diagnostic] = []
    if not isinstance(data, dict):
        raise InputError([doc.diag("", "a column mapping must be a YAML mapping with a 'columns' key", code=Code.MAPPING)])
    for k in data:
        if k not in _MAPPING_KEYS:
            errors.append(doc.diag(f"/{k}", f"unknown key {k!r} (expected one of {', '.join(_MAPPING_KEYS)})", code=Code.MAPPING))
    m = Mapping(doc.source, doc=doc)
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        errors.append(doc.diag("/columns", "'columns' must map source column names to standard columns", code=Code.MAPPING))
        columns = {}
    for src, spec in columns.items():
        ptr = pointer_join("/columns", src)
        t = _target(doc, ptr, spec, errors)
        if t is not None:
            m.columns[src] = t
    fmt = data.get("date_format")
    if fmt is not None:
        fmts = fmt if isinstance(fmt, list) else [fmt]
        if not all(isinstance(f, str) and "%" in f for f in fmts):
            errors.append(doc.diag("/date_format", "date_format must be a strptime pattern such as '%d.%m.%Y %H:%M' (or a list of them)", code=Code.MAPPING))
        else:
            m.date_formats = tuple(fmts)
    delim = data.get("delimiter")
    if delim is not None:
        if delim in ("\\t", "tab"):
            delim = "\t"
        if not isinstance(delim, str) or len(delim) != 1:
            errors.append(doc.diag("/delimiter", "delimiter must be one character (',', ';', '|' or 'tab')", code=Code.MAPPING))
        else:
            m.delimiter = delim
    enc = data.get("encoding")
    if enc is not None:
        import codecs

        try:
            codecs.lookup(str(enc))
            m.encoding = str(enc)
        except LookupError:
            errors.append(doc.diag("/encoding", f"unknown encoding {enc!r}", code=Code.MAPPING))
    consts = data.get("constants")
    if consts is not None:
        if not isinstance(consts, dict):
            errors.append(doc.diag("/constants", "constants must map standard columns to values", code=Code.MAPPING))
        else:
            for k, v in consts.items():
                if k not in STANDARD_COLUMNS or k == "name":
                    errors.append(doc.diag(f"/constants/{k}", f"{k!r} is not a standard column that can be constant", code=Code.MAPPING))
                else:
                    bad = _not_text(doc, pointer_join("/constants", k), k, v)
                    if bad is not None:
                        errors.append(bad)
                    else:
                        m.constants[k] = v
    if errors:
        raise InputError(errors)
    return m


def _target(doc: YamlDoc, ptr: str, spec: Any, errors: list[Diagnostic]) -> Target | None:
    if spec is None or spec == "ignore":
        return Target(None)
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        errors.append(doc.diag(ptr, "expected a standard column name or {column, unit, values}", code=Code.MAPPING))
        return None
    for k in spec:
        if k not in ("column", "unit", "values"):
            errors.append(doc.diag(f"{ptr}/{k}", f"unknown key {k!r} (column, unit, values)", code=Code.MAPPING))
    column = spec.get("column")
    if column == "ignore" or column is None and "column" in spec:
        return Target(None)
    if not isinstance(column, str) or column not in STANDARD_COLUMNS:
        errors.append(doc.diag(f"{ptr}/column" if "column" in spec else ptr, f"{column!r} is not a standard column" + _did_you_mean(column), code=Code.MAPPING))
        return None
    unit = spec.get("unit")
    kind = STANDARD_COLUMNS[column].kind
    if unit is not None:
        allowed = n.MEMORY_UNITS if kind == "memory" else n.DISK_UNITS if kind == "disk" else ()
        if not allowed:
            errors.append(doc.diag(f"{ptr}/unit", f"column {column!r} takes no unit", code=Code.MAPPING))
            unit = None
        elif not isinstance(unit, str) or unit.lower() not in allowed:
            errors.append(doc.diag(f"{ptr}/unit", f"unit {unit!r} is not one of {', '.join(allowed)}", code=Code.MAPPING))
            unit = None
        else:
            unit = unit.lower()
    values = spec.get("values") or {}
    if not isinstance(values, dict):
        errors.append(doc.diag(f"{ptr}/values", "values must map source values to standard values", code=Code.MAPPING))
        values = {}
    for k, v in values.items():
        bad = _not_text(doc, pointer_join(f"{ptr}/values", k), column, v)
        if bad is not None:
            errors.append(bad)
    return Target(column, unit, {str(k): v for k, v in values.items()})


# Columns whose fact is a string in the facts schema and whose conversion takes the
# value's text as it is: a YAML number there would be turned into text silently
# (itms_version: 8.10 -> "8.1"), so a mapping must quote it. (Product type, asset
# status and the like convert numbers on purpose, e.g. product type 3 -> server.)
_TEXT_KINDS = {"text": "a string", "os_version": "a version string", "agent_version": "a version string", "dotted": "a version string"}


def _not_text(doc: YamlDoc, ptr: str, column: str, value: Any) -> Diagnostic | None:
    """A load error for a constant or mapped value that is not a string where its fact is one."""
    kind = STANDARD_COLUMNS[column].kind
    if value is None or isinstance(value, str) or kind not in _TEXT_KINDS:
        return None
    fact = STANDARD_COLUMNS[column].path.replace("/", ".")
    if isinstance(value, (dict, list)):
        return doc.diag(ptr, f"{column} fills {fact}, {_TEXT_KINDS[kind]} in the facts schema: a {type(value).__name__} cannot be one", code=Code.MAPPING)
    return doc.diag(ptr, f"{doc.scalar_lead(ptr, value)}; {column} fills {fact}, {_TEXT_KINDS[kind]} in the facts schema: quote it: '{doc.written(ptr, value)}'", code=Code.MAPPING)


def _did_you_mean(name: Any) -> str:
    import difflib

    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(STANDARD_COLUMNS), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (',' on a tie)."""
    best, count = ",", 1
    for d in DELIMITERS:
        try:
            fields = next(_csv.reader([header_line], delimiter=d), [])
        except _csv.Error:
            continue
        if len(fields) > count:
            best, count = d, len(fields)
    return best


def field_starts(raw: str, delimiter: str, quote: str = '"') -> list[int]:
    """Character offsets where each field of one raw CSV record starts."""
    starts = [0]
    in_quotes = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if in_quotes:
            if c == quote:
                if i + 1 < len(raw) and raw[i + 1] == quote:
                    i += 2
                    continue
                in_quotes = False
        elif c == quote:
            in_quotes = True
        elif c == delimiter:
            starts.append(i + 1)
        elif c in "\r\n":
            break
        i += 1
    return starts


class _LineFeed:
    """Feeds csv.reader line by line and keeps the raw text of the current record."""

    def __init__(self, text: str):
        self._it = iter(io.StringIO(text, newline=""))
        self.buffer: list[str] = []
        self.lines = 0
        self.exhausted = False

    def __iter__(self) -> "_LineFeed":
        return self

    def __next__(self) -> str:
        try:
            line = next(self._it)
        except StopIteration:
            self.exhausted = True
            raise
        self.buffer.append(line)
        self.lines += 1
        return line


def _columns_at(raw: str, offsets: list[int]) -> list[int]:
    """The 1-based column of each offset (ascending) in ``raw``: one pass over the text,
    where :func:`_position` per offset would rescan it (quadratic in the field count)."""
    out: list[int] = []
    line_start = 0
    scanned = 0
    for o in offsets:
        nl = max(raw.rfind("\n", scanned, o), raw.rfind("\r", scanned, o))
        if nl >= 0:
            line_start = nl + 1
        scanned = max(scanned, o)
        out.append(o - line_start + 1)
    return out


def _position(raw: str, start_line: int, offset: int) -> tuple[int, int]:
    line = start_line + raw.count("\n", 0, offset) + raw.count("\r", 0, offset) - raw.count("\r\n", 0, offset)
    nl = max(raw.rfind("\n", 0, offset), raw.rfind("\r", 0, offset))
    return line, offset - (nl + 1) + 1


def iter_csv(paths: list[str], *, mapping: str | None = None, strict: bool = False, locate: bool = False) -> Iterator[Item]:
    """Hosts of CSV files, one per data row; a problem file yields a Rejected with index -1."""
    m: Mapping | None = None
    if mapping is not None:
        try:
            m = load_mapping(mapping)
        except InputError as exc:
            yield Rejected(mapping, -1, exc.diagnostics)
            return
    for path in paths:
        yield from _iter_file(path, m, strict=strict, locate=locate)


def _iter_file(path: str, m: Mapping | None, *, strict: bool, locate: bool) -> Iterator[Item]:
    source = path
    if os.path.isdir(path):
        yield Rejected(source, -1, [Diagnostic(source, "is a directory, a CSV file was expected", code=Code.IO)])
        return
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        yield Rejected(source, -1, [Diagnostic(source, f"cannot read: {exc.strerror or exc}", code=Code.IO)])
        return
    if len(data) > MAX_CSV_BYTES:
        yield Rejected(source, -1, [Diagnostic(source, "CSV file larger than 512 MiB: split the export", code=Code.TOO_LARGE)])
        return
    try:
        if m is not None and m.encoding:
            text = data.decode(m.encoding)
            text = text[1:] if text.startswith("\ufeff") else text
        else:
            # Console exports are UTF-8 or UTF-16 (Excel "Unicode text"); older
            # SQL tools write the ANSI code page, Windows-1252 on western systems.
            text = decode(data, source, fallback="cp1252")
    except UnicodeDecodeError as exc:
        yield Rejected(source, -1, [Diagnostic(source, f"not valid {m.encoding if m else ''} text at byte {exc.start}", code=Code.ENCODING)])
        return
    except InputError as exc:
        yield Rejected(source, -1, exc.diagnostics)
        return
    if "\x00" in text:
        nul = text.index("\x00")
        nul_line = text.count("\n", 0, nul) + 1
        yield Rejected(source, -1, [Diagnostic(source, "contains a NUL character: not a text file", nul_line, nul - (text.rfind("\n", 0, nul) + 1) + 1, code=Code.BINARY)])
        return
    if not text.strip():
        yield Rejected(source, -1, [Diagnostic(source, "the file is empty: no header, no hosts", 1, 1, code=Code.EMPTY)])
        return
    first_line = text.splitlines()[0] if text else ""
    delimiter = (m.delimiter if m and m.delimiter else None) or sniff_delimiter(first_line)
    feed = _LineFeed(text)
    reader = _csv.reader(feed, delimiter=delimiter, quotechar='"', strict=False)
    try:
        header = next(reader)
    except (_csv.Error, StopIteration) as exc:
        yield Rejected(source, -1, [Diagnostic(source, f"cannot read the header: {exc}", 1, 1, code=Code.CSV)])
        return
    if len(header) > MAX_CSV_COLUMNS:
        yield Rejected(source, -1, [Diagnostic(
            source, f"the header has {len(header):,} columns: more than {MAX_CSV_COLUMNS:,} is not an inventory export (wrong delimiter or not a CSV file?)",
            1, 1, code=Code.CSV_HEADER)])
        return
    header_raw = "".join(feed.buffer)
    header_cols = _columns_at(header_raw, field_starts(header_raw, delimiter))
    plan, file_diags = _plan(header, header_cols, source, m)
    if file_diags:
        yield Rejected(source, -1, file_diags)
    if not any(t is not None and t.column == "name" for t in plan):
        yield Rejected(source, -1, [Diagnostic(source, "no 'name' column: every host needs a name (map one with --mapping)", 1, 1, code=Code.CSV_HEADER)])
        return
    index = 0
    while True:
        feed.buffer = []
        start_line = feed.lines + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except _csv.Error as exc:
            yield Rejected(source, index, [Diagnostic(source, f"malformed CSV: {exc}", start_line, 1, f"/{index}", code=Code.CSV)])
            index += 1
            continue
        raw = "".join(feed.buffer)
        # Lines before the record's first character that are blank belong to it in
        # csv's reading; skip them for positions.
        if not row or all(not c.strip() for c in row):
            continue
        starts = field_starts(raw, delimiter)
        if feed.exhausted and raw.count('"') % 2 == 1:
            # csv (strict=False) lets a quoted field that is never closed swallow the
            # rest of the file silently: every row after it would be lost.
            opened = max((o for o in starts if raw.startswith('"', o)), default=0)
            line, col = _position(raw, start_line, opened)
            yield Rejected(source, index, [Diagnostic(source, "unterminated quoted field: it runs to the end of the file, swallowing every row after it", line, col, f"/{index}", code=Code.CSV)])
            index += 1
            continue
        yield _row(row, raw, starts, start_line, plan, header, source, index, m, strict=strict, locate=locate)
        index += 1
    if index == 0:
        # Like an empty file: a header alone holds no host, and that is never "all compliant".
        yield Rejected(source, -1, [Diagnostic(source, "no hosts: a header but no data rows", feed.lines + 1, 1, code=Code.EMPTY)])


def _plan(header: list[str], header_cols: list[int], source: str, m: Mapping | None) -> tuple[list[Target | None], list[Diagnostic]]:
    """Which standard column each source column feeds (None: not used)."""
    plan: list[Target | None] = []
    diags: list[Diagnostic] = []
    taken: dict[str, int] = {}
    for i, h in enumerate(header):
        h = h.strip().lstrip("\ufeff")
        col = header_cols[i] if i < len(header_cols) else 1
        t = m.target(h) if m is not None else None
        if t is None:
            std = cols.standard_column(h)
            t = Target(std) if std else None
            if t is None and h:
                diags.append(Diagnostic(source, f"column {h!r} is neither a standard column nor mapped: ignored", 1, col, level=Level.WARNING, code=Code.CSV_COLUMN))
        fed = t.column if t is not None else None
        if fed is not None:
            if fed in taken:
                diags.append(Diagnostic(source, f"column {h!r} feeds {fed!r} like column {taken[fed] + 1}: the first one wins", 1, col, level=Level.WARNING, code=Code.CSV_COLUMN))
                t = None
            else:
                taken[fed] = i
        plan.append(t)
    if m is not None:
        present = {cols.header_key(h) for h in header}
        for src in m.columns:
            if cols.header_key(src) not in present:
                ptr = pointer_join("/columns", src)
                line, col = m.doc.locate(ptr) if m.doc else (1, 1)
                diags.append(Diagnostic(m.source, f"mapped column {src!r} is not in {source}", line, col, ptr, level=Level.WARNING, code=Code.MAPPING))
    return plan, diags


def _row(
    row: list[str],
    raw: str,
    starts: list[int],
    start_line: int,
    plan: list[Target | None],
    header: list[str],
    source: str,
    index: int,
    m: Mapping | None,
    *,
    strict: bool,
    locate: bool,
) -> Item:
    facts: dict[str, Any] = {}
    positions: dict[str, tuple[int, int]] = {}
    problems: list[Diagnostic] = []
    fmts = m.date_formats if m else ()

    def pos(i: int) -> tuple[int, int]:
        return _position(raw, start_line, starts[i]) if i < len(starts) else (start_line, 1)

    if len(row) > len(header):
        l, c = pos(len(header))
        problems.append(Diagnostic(source, f"row has {len(row)} fields, the header {len(header)}: the extra fields are ignored", l, c, level=Level.WARNING, code=Code.CSV_ROW))
    name_cell: tuple[int, int] | None = None
    for i, cell in enumerate(row[: len(plan)]):
        t = plan[i]
        if t is None or t.column is None:
            continue
        value: Any = cell
        if t.values:
            key = cell.strip()
            if key in t.values:
                value = t.values[key]
            else:
                low = {k.lower(): v for k, v in t.values.items()}
                value = low.get(key.lower(), cell)
        if t.column == "name":
            name_cell = pos(i)
        converted, why = cols.convert(t.column, value, unit=t.unit, date_formats=fmts)
        l, c = pos(i)
        if why is not None:
            problems.append(
                Diagnostic(source, f"{header[i].strip()!r}: {why}; the fact is left out", l, c, "/" + STANDARD_COLUMNS[t.column].path, level=Level.WARNING, code=Code.CSV_VALUE)
            )
            continue
        if converted is None:
            continue  # an empty or NULL cell: a missing fact, not an error
        cols.put(facts, STANDARD_COLUMNS[t.column].path, converted)
        positions["/" + STANDARD_COLUMNS[t.column].path] = (l, c)
    if m is not None:
        for k, v in m.constants.items():
            path = STANDARD_COLUMNS[k].path
            if _has(facts, path):
                continue
            converted, why = cols.convert(k, v, date_formats=fmts)
            ptr = f"/constants/{k}"
            line, col = m.doc.locate(ptr) if m.doc else (1, 1)
            if why is not None:
                problems.append(Diagnostic(m.source, f"constant {k}: {why}", line, col, ptr, level=Level.WARNING, code=Code.MAPPING))
            elif converted is not None:
                cols.put(facts, path, converted)
    cols.complete(facts)
    prov = facts.setdefault("provenance", {})
    prov.setdefault("source_file", os.path.basename(source))
    prov.setdefault("collected_by", {"name": IMPORTER_NAME, "version": IMPORTER_VERSION})
    ordered = {"name": facts.pop("name")} if "name" in facts else {}
    ordered.update(facts)

    def origin(pointer: str) -> tuple[str, int, int] | None:
        p = nearest(positions, pointer)
        if pointer in ("", "/name") and name_cell is not None:
            p = name_cell  # "host has no 'name'": point at the empty name cell
        return (source, p[0], p[1]) if p else (source, start_line, 1)

    loc = MapLocator(positions, (start_line, 1)) if locate else None
    return finish(ordered, source=source, index=index, line=start_line, origin=origin, problems=problems, strict=strict, locator=loc)


def _has(facts: dict[str, Any], path: str) -> bool:
    node: Any = facts
    for p in path.split("/"):
        if not isinstance(node, dict) or p not in node:
            return False
        node = node[p]
    return True
