"""Text hygiene shared by renderers: nothing from facts reaches a terminal or XML raw."""
from __future__ import annotations

import re

# C0/C1 controls, line/paragraph separators, the bidirectional controls (U+202A-U+202E,
# U+2066-U+2069, marks U+200E, U+200F, U+061C) that can make a terminal show text in an
# order other than the one it has ("Trojan Source"), and lone surrogates (no encoder takes them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]")
#: A lone surrogate: a valid JSON escape (``"\ud800"``) and what Python makes of a file name's
#: undecodable byte, but not Unicode text: no UTF-8 encoder (orjson, a file) takes it.
SURROGATE = re.compile("[\ud800-\udfff]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def _escape_char(m: re.Match[str]) -> str:
    n = ord(m.group())
    return f"\\x{n:02x}" if n <= 0xFF else f"\\u{n:04x}"


def escape_surrogates(text: str) -> str:
    """Each lone surrogate written as its JSON escape (``\\ud800``, shown as text): every format
    shows such a host name or path the one same way, and stays valid UTF-8. Other text is
    returned as it is."""
    if SURROGATE.search(text) is None:
        return text
    return SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def safe_text(text: str, *, keep_newlines: bool = False) -> str:
    """Escape control characters and ANSI sequences so they are shown, not obeyed."""
    text = _ANSI.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    text = _CONTROL.sub(_escape_char, text)
    if not keep_newlines:
        text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")
    return text


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 forbids with a visible escape (``\\x01``, ``\\ud800``)."""
    return _XML_INVALID.sub(_escape_char, text)
