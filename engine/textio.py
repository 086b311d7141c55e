"""Turn the bytes of an input file into text, whatever Windows wrote.

Windows PowerShell 5.1's ``Out-File`` and ``>`` write UTF-16 LE with a BOM;
``Set-Content`` writes the ANSI code page; newer tools write UTF-8 with or
without a BOM. JSON must be Unicode (RFC 8259), so JSON inputs accept the
UTF encodings only; CSV inputs may also fall back to Windows-1252.
"""
from __future__ import annotations

import codecs

from .diagnostics import Diagnostic, InputError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """Return (encoding, BOM length). Without a BOM, guess UTF-16 from NUL patterns."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    # BOM-less UTF-16 (rare, but some exporters write it): ASCII text has a NUL
    # in every other byte.
    if len(data) >= 4:
        if data[0] and not data[1] and data[2] and not data[3]:
            return "utf-16-le", 0
        if not data[0] and data[1] and not data[2] and data[3]:
            return "utf-16-be", 0
    return "utf-8", 0


def decode(data: bytes, source: str, *, fallback: str | None = None) -> str:
    """Decode input bytes to str, or raise InputError naming line and column.

    ``fallback`` (e.g. ``"cp1252"``) is tried when the bytes are not valid UTF-8
    and carry no BOM, for formats where legacy code pages are legitimate.
    """
    encoding, skip = sniff_encoding(data)
    body = data[skip:]
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if fallback and encoding == "utf-8" and not skip:
            try:
                return body.decode(fallback)
            except UnicodeDecodeError:
                pass
        line, col = _position_of_byte(body, exc.start, encoding)
        raise InputError(
            [
                Diagnostic(
                    source,
                    f"not valid {encoding.upper()} text: byte 0x{body[exc.start]:02x} "
                    f"cannot be decoded ({exc.reason}); save the file as UTF-8",
                    line,
                    col,
                    code="encoding",
                )
            ]
        ) from None


def _position_of_byte(body: bytes, offset: int, encoding: str) -> tuple[int, int]:
    good = body[:offset].decode(encoding, errors="replace")
    line = good.count("\n") + 1
    col = len(good) - (good.rfind("\n") + 1) + 1
    return line, col


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index in text."""
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def read_limited(path: str, source: str, max_bytes: int, *, expected: str, too_large: str) -> bytes:
    """Read at most ``max_bytes`` of an input file, or raise InputError saying why not.

    ``expected`` names what the file should be (for "is a directory"), ``too_large``
    is the message for a file over the limit.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except IsADirectoryError:
        raise InputError([Diagnostic(source, f"is a directory, {expected} was expected", code="io")]) from None
    except OSError as exc:
        raise InputError([Diagnostic(source, f"cannot read: {exc.strerror}", code="io")]) from None
    if len(raw) > max_bytes:
        raise InputError([Diagnostic(source, too_large, 1, 1, code="too-large")])
    return raw
