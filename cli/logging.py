"""structlog set-up: logs go to stderr, results to stdout."""
from __future__ import annotations

import logging
import sys
from typing import Any, Mapping, MutableMapping

import structlog


_VERBOSITY = [0]


def verbosity() -> int:
    """How many -v were given (0: warnings only, 1: info, 2: debug)."""
    return _VERBOSITY[0]


def configure(fmt: str = "console", verbosity: int = 0) -> None:
    """Console or JSON logs on stderr; -v shows info, -vv debug."""
    _VERBOSITY[0] = verbosity
    level = logging.WARNING - 10 * min(verbosity, 2)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _shown_not_obeyed,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


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


def get_logger() -> structlog.typing.FilteringBoundLogger:
    """The CLI's logger."""
    return structlog.get_logger("sitegate")
