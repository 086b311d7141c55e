"""A small progress line on stderr for long audits (TTY only, stdlib only).

``hosts done, hosts/s`` and, when the inputs' total size is known, the share
of bytes read so far and an ETA. Redrawn at most ``rate`` times a second; on a
pipe or a file it prints nothing at all.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Throttled one-line progress: call ``update(hosts)`` often, ``close()`` once."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        total_bytes: int | None = None,
        meter: list[int] | None = None,
        rate: float = 10.0,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            try:
                enabled = self.stream.isatty()
            except (AttributeError, ValueError):
                enabled = False
        self.enabled = enabled
        self.total_bytes = total_bytes if total_bytes and total_bytes > 0 else None
        self.meter = meter
        self.interval = 1.0 / rate
        self.clock = clock
        self.started = clock()
        self.last = float("-inf")
        self.hosts = 0
        self.drawn = 0  # redraws so far (tests check the throttle)
        self.width = 0

    def update(self, hosts: int) -> None:
        """Hosts done so far; redraws only if enough time has passed."""
        self.hosts = hosts
        if not self.enabled:
            return
        now = self.clock()
        if now - self.last < self.interval:
            return
        self.last = now
        self._draw(now)

    def text(self, now: float | None = None) -> str:
        """The progress line (without the carriage return)."""
        now = self.clock() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = self.hosts / elapsed
        parts = [f"{self.hosts:,} hosts", f"{rate:,.0f} hosts/s"]
        if self.total_bytes and self.meter is not None:
            frac = min(1.0, self.meter[0] / self.total_bytes)
            parts.append(f"{frac * 100:.0f}%")
            if 0 < frac < 1:
                parts.append("ETA " + _clock_text(elapsed * (1 - frac) / frac))
        parts.append(_clock_text(elapsed) + " elapsed")
        return "sitegate: " + "  ".join(parts)

    def _draw(self, now: float) -> None:
        line = self.text(now)
        pad = " " * max(0, self.width - len(line))
        self.width = len(line)
        self.drawn += 1
        try:
            self.stream.write("\r" + line + pad)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def close(self) -> None:
        """Draw the final count and end the line (nothing when disabled)."""
        if not self.enabled:
            return
        self._draw(self.clock())
        try:
            self.stream.write("\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass
        self.enabled = False
