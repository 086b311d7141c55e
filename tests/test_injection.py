"""Injection into what people read (issue 16, item 5).

The Markdown report is rendered with cmark-gfm (GitHub's own Markdown library, through
cmarkgfm) and the HTML it gives is checked: no link, image or mention may come from a
value in the facts. SARIF message text escapes literal brackets (SARIF 2.1.0 3.11.6).
Every path to the terminal escapes control and bidirectional characters.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sitegate.engine.evaluate import evaluate
from sitegate.engine.render import Format, RenderOptions, render
from sitegate.engine.render.markdown import md
from sitegate.engine.render.sarif import message_text
from sitegate.engine.render.text import safe_text

from .formats_support import assert_valid_sarif, options

cmarkgfm = pytest.importorskip("cmarkgfm")

HOSTILE = [
    "https://evil.example/login",
    "HTTP://EVIL.EXAMPLE",
    "www.evil.example",
    "ops@evil.example",
    "@org/team",
    "@admin",
    "[click](https://evil.example)",
    r"\[click\](https://evil.example)",
    "![img](https://evil.example/x.png)",
    "<https://evil.example>",
    "<a href='https://evil.example'>x</a>",
    "see #123",
    "mailto:ops@evil.example",
    "ftp://evil.example/x",
]


class _Rendered(HTMLParser):
    """Tags and visible text of the HTML GitHub would show."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "code":
            self._code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code:  # GitHub does not link mentions or references inside code
            self.text.append(data)


def _github(markdown: str) -> _Rendered:
    parsed = _Rendered()
    parsed.feed(cmarkgfm.github_flavored_markdown_to_html(markdown))
    return parsed


# GitHub's mention and issue-reference filters run on the rendered text: '@' straight
# before a name character, '#' straight before a digit.
_MENTION = re.compile(r"@[A-Za-z0-9]")
_REFERENCE = re.compile(r"#\d")


def _assert_inert(markdown: str) -> None:
    page = _github(markdown)
    assert not {"a", "img", "script", "iframe"} & set(page.tags), (markdown, page.tags)
    text = "".join(page.text)
    assert not _MENTION.search(text), text
    assert not _REFERENCE.search(text), text


@pytest.mark.parametrize("value", HOSTILE)
def test_md_value_never_becomes_a_link_or_mention_on_github(value: str) -> None:
    _assert_inert(f"- **{md(value)}** ({md(value)})")
    # The text still reads as written (the zero-width space is invisible).
    assert "".join(_github(md(value)).text).replace("\u200b", "").strip() == value.strip()


@settings(max_examples=300, deadline=None)
@example(["_", "www", ".", "http"])  # '\_www.' autolinked on GitHub before the fix
@example(["_", "http", ":", "//", "x.y"])
@given(st.lists(st.sampled_from(["http", "https", "ftp", "www", ".", ":", "/", "//", "@", "#", "1", "a", "-",
                                 "[", "]", "(", ")", "<", ">", "\\", "!", "mailto", " ", "_", "org", "x.y"]), max_size=24))
def test_md_any_mix_of_link_triggers_stays_inert(parts: list[str]) -> None:
    _assert_inert(md("".join(parts)))


def _hosts(name: str, site: str) -> list[dict[str, Any]]:
    return [{
        "name": name,
        "identity": {"site": site} if site else {},
        "os": {"caption": f"Windows {name}", "build": 7601, "product_type": "server"},
        "platform": {"itms_version": "8.7.3"},
    }, {"name": name + "-bad", "hardware": {"memory_mb": name}}]


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_report_with_hostile_names_renders_inert_on_github(value: str, policies) -> None:
    report = evaluate(_hosts(value, value), policies, options(inputs=(value,)))
    text = render(Format.MARKDOWN, report)
    _assert_inert(text.replace("<sub>", "").replace("</sub>", ""))


@pytest.mark.parametrize("value", HOSTILE)
def test_sarif_message_text_escapes_brackets(value: str, policies) -> None:
    report = evaluate(_hosts(value, value), policies, options())
    doc = assert_valid_sarif(render(Format.SARIF, report, RenderOptions(sarif_profile="full")))
    run = doc["runs"][0]
    texts = [r["message"]["text"] for r in run["results"]]
    texts += [n["message"]["text"] for inv in run["invocations"] for n in inv["toolExecutionNotifications"]]
    assert texts
    for t in texts:
        # every bracket is preceded by an odd number of backslashes: never an embedded link
        for m in re.finditer(r"(\\*)[\[\]]", t):
            assert len(m.group(1)) % 2 == 1, t
    if "[" in value:
        assert any(value.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]") in t for t in texts), texts


def test_message_text_escapes_as_sarif_3_11_6_says() -> None:
    assert message_text("[x](https://e.example)") == r"\[x\](https://e.example)"
    assert message_text(r"a\[b") == r"a\\\[b"  # a backslash before a bracket stays a backslash
    assert message_text(r"C:\dir\f") == r"C:\dir\f"  # others are left alone


@pytest.mark.parametrize("ch", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"])
def test_safe_text_shows_bidi_controls_escaped(ch: str) -> None:
    out = safe_text(f"admin{ch}txt.exe")
    assert ch not in out and f"\\u{ord(ch):04x}" in out


def test_table_escapes_bidi_and_osc_in_host_names(policies) -> None:
    report = evaluate(_hosts("evil\u202egnp.exe\x1b]0;pwned\x07", ""), policies, options())
    table = render(Format.TABLE, report)
    assert "\u202e" not in table and "\x1b" not in table and "\\u202e" in table


def test_json_report_keeps_the_value_exact(policies) -> None:
    """Escaping is for display: the JSON report (data) keeps the name as it was."""
    name = "[x](https://e.example) @org/team \u202e"
    report = evaluate(_hosts(name, ""), policies, options())
    assert json.loads(render(Format.JSON, report))["hosts"][0]["name"] == name
