"""Turn the bytes of an input file into text, whatever Windows wrote.

Windows PowerShell 5.1's ``Out-File`` and ``>`` write UTF-16 LE with a BOM;
``Set-Content`` writes the ANSI code page; newer tools write UTF-8 with or
without a BOM. JSON must be Unicode (RFC 8259), so JSON inputs accept the
UTF encodings only; CSV inputs may also fall back to Windows-1252.
"""
from __future__ import annotations

import codecs
import re

from .diagnostics import Code, Diagnostic, InputError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """Return (encoding, BOM length). Without a BOM, guess UTF-16 or UTF-32 from NUL patterns."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    # BOM-less UTF-16 or UTF-32 (rare, but some exporters write it): JSON text begins
    # with an ASCII character, so with NULs in a pattern of its own (RFC 4627, 3).
    if len(data) >= 4:
        if data[0] and not data[1] and not data[2] and not data[3]:
            return "utf-32-le", 0
        if not data[0] and not data[1] and not data[2] and data[3]:
            return "utf-32-be", 0
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
            [Diagnostic(source, bad_text_message(encoding, body[exc.start : exc.end], exc.reason), line, col, code=Code.ENCODING)]
        ) from None


def bad_text_message(encoding: str, bad: bytes, reason: str) -> str:
    """What is said of bytes that are not text in ``encoding`` (one message for every reader):
    the first bad byte, or for UTF-16/32 the bad code unit's bytes (up to 4)."""
    why = f" ({reason})" if reason else ""
    if len(bad) > 1 and encoding.lower().startswith(("utf-16", "utf-32")):
        what = "bytes " + " ".join(f"0x{b:02x}" for b in bad[:4])
    else:
        what = f"byte 0x{bad[0]:02x}" if bad else "a byte"
    return f"not valid {encoding.upper()} text: {what} cannot be decoded{why}; save the file as UTF-8"


# ---------------------------------------------------------------- streams read as text
#
# A UTF-16 or UTF-32 JSON Lines file is read through a TextIOWrapper. With the
# default ("strict") errors a bad byte raises UnicodeDecodeError out of readline
# and ends the whole run; with MARK_ERRORS each undecodable run of bytes becomes
# a marker in the text instead: one high surrogate (which encoding, which reason)
# and a low surrogate for each of its first 4 bad bytes. No strict decoder ever gives a lone
# surrogate, so a surrogate in such text is always a marker; the marker travels
# in the text itself (to --jobs workers too), and :func:`find_bad_text` turns it
# back into the message :func:`decode` gives, for the one record that holds it.

MARK_ERRORS = "sitegate-mark-undecodable"
_MARK_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_MARK_REASONS = (
    "",
    "truncated data",
    "unexpected end of data",
    "illegal encoding",
    "illegal UTF-16 surrogate",
    "code point not in range(0x110000)",
    "code point in surrogate code point range(0xd800, 0xe000)",
    "invalid start byte",
    "invalid continuation byte",
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    enc = (exc.encoding or "").lower().replace("_", "-")
    e = _MARK_ENCODINGS.index(enc) + 1 if enc in _MARK_ENCODINGS else 0
    r = _MARK_REASONS.index(exc.reason) if exc.reason in _MARK_REASONS else 0
    bad = exc.object[exc.start : min(exc.end, exc.start + 4)]
    return chr(0xD800 + (e << 5) + r) + "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error(MARK_ERRORS, _mark_undecodable)


def find_bad_text(text: str) -> tuple[int, str] | None:
    """(index, message) of the first undecodable-bytes marker (see MARK_ERRORS) in
    text, or None when the text holds none (an ordinary line: one C-level search)."""
    m = _SURROGATE.search(text)
    if m is None:
        return None
    i = m.start()
    hi = ord(text[i])
    bad = bytes(ord(c) - 0xDC00 for c in _MARK_BYTES.match(text, i + 1).group())  # type: ignore[union-attr]
    if 0xD800 <= hi < 0xD800 + (len(_MARK_ENCODINGS) + 1) * 32 and bad:
        e, r = divmod(hi - 0xD800, 32)
        encoding = _MARK_ENCODINGS[e - 1] if e else "unicode"
        reason = _MARK_REASONS[r] if r < len(_MARK_REASONS) else ""
        return i, bad_text_message(encoding, bad, reason)
    return i, f"not valid text: a lone surrogate U+{hi:04X} cannot be decoded; save the file as UTF-8"


_MARK_BYTES = re.compile("[\\udc00-\\udcff]{0,4}")
# Chars U+2000, U+2100, ... U+7E00: ASCII read out of step as UTF-16 (a byte missing
# or extra shifts every code unit by one byte), 8 or more in a row.
_OUT_OF_STEP = re.compile("[" + "".join(chr(b << 8) for b in range(0x20, 0x7F)) + "]{8}")


def find_out_of_step(text: str) -> int | None:
    """Index where text read as UTF-16 goes out of step with its bytes (a byte lost or
    added before it), or None. Only asked of a record that could not be parsed."""
    m = _OUT_OF_STEP.search(text)
    return None if m is None else m.start()


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
        raise InputError([Diagnostic(source, f"is a directory, {expected} was expected", code=Code.IO)]) from None
    except OSError as exc:
        raise InputError([Diagnostic(source, f"cannot read: {exc.strerror}", code=Code.IO)]) from None
    if len(raw) > max_bytes:
        raise InputError([Diagnostic(source, too_large, 1, 1, code=Code.TOO_LARGE)])
    return raw
