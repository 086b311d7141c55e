"""Text hygiene shared by renderers: nothing from facts reaches a terminal or XML raw."""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def safe_text(text: str, *, keep_newlines: bool = False) -> str:
    """Escape control characters and ANSI sequences so they are shown, not obeyed."""
    text = _ANSI.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if not keep_newlines:
        text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")
    return text


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 forbids with a visible escape."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
