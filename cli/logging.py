"""structlog set-up: logs go to stderr, results to stdout.

structlog (with the asyncio and rich modules it pulls in) costs about a tenth of
a second to import, and a run at the default verbosity logs nothing: so it is
imported and configured at the first event that passes the level, and a call
below the level costs one comparison.
"""
from __future__ import annotations

import logging
import sys
from typing import Any, Iterable, Mapping, MutableMapping

_VERBOSITY = [0]
_SETTINGS: dict[str, Any] = {"fmt": "console", "level": logging.WARNING, "configured": False}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR, "critical": logging.CRITICAL}


def verbosity() -> int:
    """How many -v were given (0: warnings only, 1: info, 2: debug)."""
    return _VERBOSITY[0]


def configure(fmt: str = "console", verbosity: int = 0) -> None:
    """Console or JSON logs on stderr; -v shows info, -vv debug (structlog is set up at the first event shown)."""
    _VERBOSITY[0] = verbosity
    _SETTINGS.update(fmt=fmt, level=logging.WARNING - 10 * min(verbosity, 2), configured=False)


def _structlog() -> Any:
    import structlog

    if not _SETTINGS["configured"]:
        renderer: structlog.typing.Processor = (
            structlog.processors.JSONRenderer() if _SETTINGS["fmt"] == "json" else structlog.dev.ConsoleRenderer(colors=False)
        )
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                _shown_not_obeyed,
                renderer,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(_SETTINGS["level"]),
            logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
            cache_logger_on_first_use=False,
        )
        _SETTINGS["configured"] = True
    return structlog


def _shown_not_obeyed(logger: Any, method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """A file or host name with an escape sequence or a control character in it is logged
    escaped (as every line the CLI prints is): a log line on a terminal never obeys it."""
    from ..engine.render.text import safe_text

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return safe_text(value)
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return {k: clean(v) for k, v in event.items()}


class Logger:
    """The CLI's logger: ``debug``/``info``/``warning``/``error`` as structlog's bound
    logger has them, passed to structlog only when the level shows them."""

    def _log(self, method: str, event: str, **fields: Any) -> None:
        if _LEVELS[method] < _SETTINGS["level"]:
            return
        getattr(_structlog().get_logger("sitegate"), method)(event, **fields)

    def debug(self, event: str, **fields: Any) -> None:
        """Shown with -vv."""
        self._log("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        """Shown with -v."""
        self._log("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Always shown."""
        self._log("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        """Always shown."""
        self._log("error", event, **fields)


def get_logger() -> Logger:
    """The CLI's logger."""
    return Logger()


def log_inputs_and_outputs(facts: Iterable[str], input_format: str | None, outputs: Iterable[tuple[str, str]]) -> None:
    """-v: each input with the format it is read as, and each (format, path) output."""
    if not verbosity():
        return
    import os

    from ..facts.formats import detect_format

    log = get_logger()
    for path in facts:
        log.info("input", path=path, format=str(input_format or detect_format(path) or ("facts folder" if os.path.isdir(path) else "facts")))
    for fmt, path in outputs:
        log.info("output", path=path, format=fmt)


def chain_label(pack: Any) -> str:
    """An effective pack as -v names it: id, version and the chain it extends."""
    return f"{pack.id} {pack.version} ({' -> '.join(pack.chain)})"
