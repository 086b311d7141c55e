"""A minimal PowerShell tokenizer for tests: comments, strings and everything else.

Written from the PowerShell language specification (chapter 2, lexical
structure): a new-line character is CR or LF; a comment starts with ``#`` at
the start of a token and runs to the end of the line, or is ``<# ... #>``;
single-quote characters are ' and U+2018..U+201B, and inside a verbatim string
two of them stand for one; double-quoted strings take backtick escapes and
``$(...)`` sub-expressions (code!). Enough to tell, for a generated script,
which text PowerShell would run and which it would only read.
"""
from __future__ import annotations

from typing import NamedTuple

SQ = "'\u2018\u2019\u201a\u201b"
DQ = '"\u201c\u201d\u201e'
NEWLINE = "\r\n"


class Token(NamedTuple):
    kind: str  # "code", "comment", "sq" (verbatim string; text is its value), "dq" (expandable string, raw text)
    text: str


def tokenize(src: str) -> list[Token]:
    out: list[Token] = []
    code: list[str] = []
    i, n = 0, len(src)

    def flush() -> None:
        if code:
            out.append(Token("code", "".join(code)))
            code.clear()

    while i < n:
        ch = src[i]
        at_token_start = i == 0 or src[i - 1] in " \t\r\n;({}|,=" or src[i - 1].isspace()
        if ch == "<" and src.startswith("<#", i):
            flush()
            end = src.find("#>", i + 2)
            end = n if end < 0 else end + 2
            out.append(Token("comment", src[i:end]))
            i = end
        elif ch == "#" and at_token_start:
            flush()
            j = i
            while j < n and src[j] not in NEWLINE:
                j += 1
            out.append(Token("comment", src[i:j]))
            i = j
        elif ch in SQ:
            flush()
            j, value = i + 1, []
            while j < n:
                if src[j] in SQ:
                    if j + 1 < n and src[j + 1] in SQ:
                        value.append(src[j])
                        j += 2
                        continue
                    break
                value.append(src[j])
                j += 1
            out.append(Token("sq", "".join(value)))
            i = j + 1
        elif ch in DQ:
            flush()
            j = i + 1
            while j < n:
                if src[j] == "`":
                    j += 2
                    continue
                if src[j] in DQ:
                    if j + 1 < n and src[j + 1] in DQ:
                        j += 2
                        continue
                    break
                j += 1
            out.append(Token("dq", src[i:j + 1]))
            i = j + 1
        else:
            code.append(ch)
            i += 1
    flush()
    return out
