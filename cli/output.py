"""Writing outputs: stdout or files, atomically, never over an input."""
from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass
from typing import IO

from ..engine.render import Format, Renderer


@dataclass
class OutputSpec:
    """One requested output: a format and a path ('-' is stdout)."""

    fmt: Format
    path: str


class OutputError(Exception):
    """A bad --output request (usage error, exit 2)."""


_FORMAT_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,19}")


def _file_mode(path: str) -> int:
    """The mode the output gets: an existing file keeps its own, a new one follows the umask
    (a temporary file is created 0600, which would hide a report from other CI users)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _open_temp(path: str) -> tuple[int, str]:
    """(fd, name) of a temporary file beside ``path``, with the mode ``path`` will have;
    renamed into place once complete, so no reader ever sees half an output."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise OutputError(f"--output {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"--output {path} is a directory: name a file")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sitegate-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"--output {path}: cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, _file_mode(path))
    except OSError as exc:
        os.close(fd)
        os.unlink(tmp)
        raise OutputError(f"--output {path}: cannot write in {directory}: {exc.strerror or exc}") from None
    return fd, tmp


def write_atomic(path: str, data: bytes) -> None:
    """Write bytes to a file through a temporary file and a rename ('-' is stdout)."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    fd, tmp = _open_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"--output {path}: cannot write: {exc.strerror or exc}") from None
        raise


def parse_outputs(outputs: list[str], default_fmt: Format) -> list[OutputSpec]:
    """``--output FILE`` uses --format; ``--output fmt=FILE`` names the format."""
    if not outputs:
        return [OutputSpec(default_fmt, "-")]
    specs = []
    names = {f.value for f in Format}
    for o in outputs:
        fmt_name, sep, path = o.partition("=")
        if sep and fmt_name.lower() in names:
            specs.append(OutputSpec(Format(fmt_name.lower()), path or "-"))
        elif sep and _FORMAT_LIKE.fullmatch(fmt_name):
            # A misspelt or missing format must not become part of a file name silently.
            raise OutputError(
                f"--output {o}: unknown format {fmt_name!r} (formats: {', '.join(sorted(names))});"
                f" for a file whose name has '=' in it, write ./{o}"
            )
        else:
            specs.append(OutputSpec(default_fmt, o))
    for s in specs:
        if s.path != "-" and os.path.isdir(s.path):
            raise OutputError(f"--output {s.path} is a directory: name a file")
    stdout = [s for s in specs if s.path == "-"]
    if len(stdout) > 1:
        raise OutputError("only one output can go to standard output")
    paths = [os.path.realpath(s.path) for s in specs if s.path != "-"]
    if len(paths) != len(set(paths)):
        raise OutputError("two outputs name the same file")
    return specs


def check_not_inputs(specs: list[OutputSpec], inputs: list[str]) -> None:
    """Refuse to write an output over a file sitegate reads in the same run.

    An input may be a directory (facts directory, --policy-dir): no existing
    file under it may be overwritten either.
    """
    real_inputs = {os.path.realpath(p) for p in inputs if p and p != "-"}
    dirs = [d for d in real_inputs if os.path.isdir(d)]
    for s in specs:
        if s.path == "-":
            continue
        real = os.path.realpath(s.path)
        inside = os.path.isfile(real) and any(os.path.commonpath([d, real]) == d for d in dirs)
        if real in real_inputs or inside:
            raise OutputError(f"--output {s.path} would overwrite an input file")


class Sink:
    """One output being written: stdout directly, a file through a temporary file."""

    def __init__(self, spec: OutputSpec, renderer: Renderer):
        self.spec = spec
        self.renderer = renderer
        self.tmp: str | None = None
        if spec.path == "-":
            self.fh: IO[str] = sys.stdout
        else:
            fd, self.tmp = _open_temp(spec.path)
            # A large buffer: a fleet report is written a host (a few KB) at a time.
            self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=1 << 20)

    def write(self, text: str) -> None:
        """Append text."""
        if text:
            self.fh.write(text)

    def write_bytes(self, data: bytes) -> None:
        """Append UTF-8 text that is already encoded (``--jobs`` workers encode their blocks)."""
        if not data:
            return
        raw = getattr(self.fh, "buffer", None)
        if raw is None or (getattr(self.fh, "encoding", "") or "").lower().replace("-", "") != "utf8":
            # A text stream without a UTF-8 byte layer under it (a replaced stdout): as text.
            self.fh.write(data.decode("utf-8"))
            return
        self.fh.flush()
        raw.write(data)

    def commit(self) -> None:
        """Make the output visible: rename the finished temporary file into place."""
        if self.tmp is None:
            self.fh.flush()
            return
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            os.replace(self.tmp, self.spec.path)
        except OSError as exc:
            self.abort()
            raise OutputError(f"--output {self.spec.path}: cannot write: {exc.strerror or exc}") from None
        self.tmp = None

    def abort(self) -> None:
        """Drop a half-written output (crash or Ctrl-C): nothing partial is left."""
        if self.tmp is not None:
            try:
                self.fh.close()
            except OSError:
                pass  # the text is being dropped anyway (a full disk fails the flush)
            finally:
                try:
                    os.unlink(self.tmp)
                except FileNotFoundError:
                    pass
                self.tmp = None
