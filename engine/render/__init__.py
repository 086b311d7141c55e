"""Renderers: pure functions of the report, behind one small interface.

A renderer is fed the header, then each host result, then the summary, and
returns text for each; it opens no file, reads no clock and looks at no
environment. Streaming this way lets an audit of 250,000 hosts be written as it
is evaluated, and lets several formats be produced from one evaluation.
Every format is listed in :class:`Format`; a test checks each is wired.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Protocol

from ..model import HostResult, Report, ReportHeader, Summary


class Format(str, Enum):
    """Every output format sitegate writes."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True)
class RenderOptions:
    """Presentation choices made by the caller (the CLI decides them, not the renderer)."""

    color: bool = False
    sarif_profile: str = "github"  # or "full"
    uri_base_id: str = "%SRCROOT%"
    verbose: bool = False
    capacity: bool = False  # JSON and table: add the capacity view (engine.capacity)


class Renderer(Protocol):
    """The one interface: start, one call per host, finish. Each returns text to write."""

    def start(self, header: ReportHeader) -> str:
        """Text before the first host."""

    def host(self, result: HostResult) -> str:
        """Text for one host."""

    def finish(self, summary: Summary) -> str:
        """Text after the last host (the summary)."""


class FragmentRenderer(Renderer, Protocol):
    """A renderer whose per-host text can be made elsewhere (``--jobs`` workers).

    When ``fragments`` is true, ``host(r)`` equals ``place(fragment(r))``, where
    ``fragment`` is a function of the result alone (any instance made with the
    same options gives the same text) and ``place`` only puts before it what
    depends on the hosts before (a separator: ``place(f) == place("") + f``);
    ``join`` puts a worker's run of fragments together so that the main process
    places them at once.
    """

    fragments: bool

    def fragment(self, result: HostResult) -> str:
        """The host's text, from the result alone."""

    def place(self, fragment: str) -> str:
        """The text to write for a fragment, in stream order."""

    def join(self, fragments: list[str]) -> str:
        """Consecutive fragments as one: ``place(join(fs))`` is the text of placing each in turn."""


def can_fragment(renderer: object) -> bool:
    """True when the renderer's per-host text may be made by a worker process."""
    return bool(getattr(renderer, "fragments", False)) and callable(getattr(renderer, "fragment", None)) and callable(getattr(renderer, "join", None))


def _registry() -> dict[Format, Callable[[RenderOptions], Renderer]]:
    from . import json_report, table

    reg: dict[Format, Callable[[RenderOptions], Renderer]] = {
        Format.TABLE: table.TableRenderer,
        Format.JSON: json_report.JsonRenderer,
    }
    # Formats contributed by their own modules register here as they land.
    for name, fmt in (("sarif", Format.SARIF), ("junit", Format.JUNIT), ("markdown", Format.MARKDOWN), ("html", Format.HTML)):
        try:
            mod = __import__(f"{__name__}.{name}", fromlist=["RENDERER"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        reg[fmt] = mod.RENDERER
    return reg


RENDERERS = _registry()


def available_formats() -> list[Format]:
    """Formats that have a renderer in this build."""
    return [f for f in Format if f in RENDERERS]


def make_renderer(fmt: Format, options: RenderOptions = RenderOptions()) -> Renderer:
    """A fresh renderer for one output."""
    try:
        return RENDERERS[fmt](options)
    except KeyError:
        raise ValueError(f"format {fmt.value} is not available") from None


def render(fmt: Format, report: Report, options: RenderOptions = RenderOptions()) -> str:
    """Render a materialised report to one string."""
    r = make_renderer(fmt, options)
    parts = [r.start(report.header)]
    parts.extend(r.host(h) for h in report.hosts)
    parts.append(r.finish(report.summary))
    return "".join(parts)
