"""Renderers: pure functions of the report, behind one small interface.

A renderer is fed the header, then each host result, then the summary, and
returns text for each; it opens no file, reads no clock and looks at no
environment. Streaming this way lets an audit of 250,000 hosts be written as it
is evaluated, and lets several formats be produced from one evaluation.
Every format is listed in :class:`Format` and has its renderer in
:func:`renderer_class` (an exhaustive match; a test checks every member).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable, Iterator, Mapping, Protocol, assert_never, cast

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

    color: bool = False  # the table's ANSI colours (the other formats have none)
    sarif_profile: str = "github"  # or "full"
    uri_base_id: str = "%SRCROOT%"
    verbose: bool = False
    capacity: bool = False  # JSON and table: add the capacity view (engine.capacity)


@dataclass(frozen=True)
class Needs:
    """What a renderer needs the evaluation to keep beyond the findings (its ``needs``)."""

    full_outcomes: bool = False  # every (host, rule) outcome, passes and not-applicable included
    capacity: bool = False  # each result's capacity record (engine.capacity)


class Renderer(Protocol):
    """The one interface: start, one call per host, finish. Each returns text to write.

    A renderer class also declares, for given options, what it needs the
    evaluation to keep (:meth:`needs`), and whether its text lists the input
    errors itself (``shows_input_errors``: the CLI then does not repeat them on
    stderr when that text goes to the terminal). It may also declare
    ``size_warnings(path, size) -> list[str]``, a classmethod: what a known consumer
    of the format does with a written output of that size (read by :func:`size_warnings`),
    and ``console_text = True``: text for a person at a console (read by :func:`console_text`).
    """

    shows_input_errors: bool

    @classmethod
    def needs(cls, options: RenderOptions) -> Needs:
        """What this renderer, with these options, needs the evaluation to keep."""

    def __init__(self, options: RenderOptions) -> None:
        """A fresh renderer for one output."""

    def start(self, header: ReportHeader) -> str:
        """Text before the first host."""

    def host(self, result: HostResult) -> str:
        """Text for one host."""

    def finish(self, summary: Summary) -> str:
        """Text after the last host (the summary)."""


class FragmentRenderer(Renderer, Protocol):
    """A renderer whose per-host text can be made elsewhere (``--jobs`` workers), as UTF-8 bytes.

    When ``fragments`` is true, ``host(r)`` is the text of ``place(fragment(r))``
    (and ``host_bytes(r)`` its bytes), where ``fragment`` is a function of the
    header given to ``start`` and the result alone (any instance made with the
    same options and started with the same header gives the same bytes) and
    ``place`` only puts before it what depends on the hosts before (a separator:
    ``place(f) == place(b"") + f``); ``join`` puts a worker's run of fragments
    together so that the main process places them at once.
    """

    fragments: bool

    def host_bytes(self, result: HostResult) -> bytes:
        """``host``'s text as UTF-8, made without a str in between."""

    def fragment(self, result: HostResult) -> bytes:
        """The host's text (UTF-8), from the header and the result."""

    def place(self, fragment: bytes) -> bytes:
        """The bytes to write for a fragment, in stream order."""

    def join(self, fragments: list[bytes]) -> bytes:
        """Consecutive fragments as one: ``place(join(fs))`` is the text of placing each in turn."""


def can_fragment(renderer: object) -> bool:
    """True when the renderer's per-host text may be made by a worker process."""
    return bool(getattr(renderer, "fragments", False)) and callable(getattr(renderer, "fragment", None)) and callable(getattr(renderer, "join", None))


def renderer_class(fmt: Format) -> type[Renderer]:
    """The renderer of a format: the one registry, exhaustive over :class:`Format`."""
    match fmt:
        case Format.TABLE:
            from .table import TableRenderer
            return TableRenderer
        case Format.JSON:
            from .json_report import JsonRenderer
            return JsonRenderer
        case Format.SARIF:
            from .sarif import SarifRenderer
            return SarifRenderer
        case Format.JUNIT:
            from .junit import JunitRenderer
            return JunitRenderer
        case Format.MARKDOWN:
            from .markdown import MarkdownRenderer
            return MarkdownRenderer
        case Format.HTML:
            from .html import HtmlRenderer
            return HtmlRenderer
        case _:
            assert_never(fmt)


class _Registry(Mapping[Format, Callable[[RenderOptions], Renderer]]):
    """Format -> renderer class, every format of :class:`Format`; a renderer's module
    is imported when its format is first looked up (a JSON run never imports the
    HTML renderer and what it needs)."""

    def __getitem__(self, fmt: object) -> Callable[[RenderOptions], Renderer]:
        try:
            key = Format(fmt)
        except ValueError:
            raise KeyError(fmt) from None
        return renderer_class(key)

    def __contains__(self, fmt: object) -> bool:
        # Every format has a renderer (renderer_class is exhaustive): no import needed to say so.
        try:
            Format(fmt)
        except ValueError:
            return False
        return True

    def __iter__(self) -> Iterator[Format]:
        return iter(Format)

    def __len__(self) -> int:
        return len(Format)


RENDERERS: Mapping[Format, Callable[[RenderOptions], Renderer]] = _Registry()


def needs(outputs: Iterable[tuple[Format, RenderOptions]]) -> Needs:
    """What the evaluation must keep for these outputs: what their renderers declare."""
    wanted = [renderer_class(f).needs(o) for f, o in outputs]
    return Needs(full_outcomes=any(n.full_outcomes for n in wanted), capacity=any(n.capacity for n in wanted))


def size_warnings(fmt: Format, path: str, size: int) -> list[str]:
    """Warnings the format's renderer declares about a written output of ``size`` bytes
    (a consumer's limit, e.g. GitLab's for JUnit), so the CLI knows no format's limits."""
    declared = getattr(renderer_class(fmt), "size_warnings", None)
    return list(declared(path, size)) if declared is not None else []


def console_text(fmt: Format) -> bool:
    """Whether the format is text for a person at a console (its renderer declares it): the
    CLI writes it in the console's encoding, and does not repeat the summary line after it."""
    return bool(getattr(renderer_class(fmt), "console_text", False))


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


def host_writer(renderer: Renderer) -> Callable[[HostResult], str | bytes]:
    """What to call for a host's text: ``host_bytes`` when the renderer makes UTF-8 bytes
    itself (the JSON report: orjson's bytes go out as they are), else ``host``."""
    return cast("Callable[[HostResult], str | bytes]", getattr(renderer, "host_bytes", None) or renderer.host)
