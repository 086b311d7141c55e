"""Writing outputs: stdout or files, all of a run's outputs or none, never over an input.

A regular file is written to a temporary file beside it and renamed into place
(a symlink to a regular file stays a symlink: its target is replaced). A device,
FIFO or anything under /dev or /proc (``/dev/null``, ``/dev/stdout``, a terminal)
is written in place, never renamed over. When a run has several outputs, every
one is written completely first (stdout and devices to an anonymous spool file)
and only then published: a failure in one leaves none of this run's reports, and
no report of an earlier run, at any requested path.
"""
from __future__ import annotations

import atexit
import errno
import os
import re
import signal
import stat
import sys
import tempfile
from dataclasses import dataclass
from enum import Enum
from typing import IO, Iterable, Mapping

from ..engine.render import Format, Renderer, console_text


class ColorChoice(str, Enum):
    """``--color``: auto colours only a terminal (and honours NO_COLOR and TERM=dumb)."""

    auto = "auto"
    always = "always"
    never = "never"


def wants_color(choice: ColorChoice | str, stream: object, environ: Mapping[str, str] | None = None) -> bool:
    """Whether text for ``stream`` gets ANSI colours.

    ``always`` and ``never`` are the user's word for this run. ``auto`` colours a
    terminal only, and not when ``NO_COLOR`` is set to anything non-empty
    (https://no-color.org) or ``TERM`` is ``dumb``: the command line overrides the
    environment, the environment overrides the guess.
    """
    env = os.environ if environ is None else environ
    choice = ColorChoice(choice)
    if choice is not ColorChoice.auto:
        return choice is ColorChoice.always
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


@dataclass
class OutputSpec:
    """One requested output: a format and a path ('-' is stdout)."""

    fmt: Format
    path: str


class OutputError(Exception):
    """A bad --output request or an output that cannot be written (exit 2)."""


class Terminated(SystemExit):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C (temporary files removed), exit 128 + signal."""


_FORMAT_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,19}")
_IN_PLACE_ROOTS = ("/dev/", "/proc/")

# Temporary files not yet renamed into place or removed: a signal or an exit that
# bypasses the normal unwinding still removes them (atexit).
_LIVE_TEMPS: set[str] = set()
_HANDLERS_PID: int | None = None


def _remove_live_temps() -> None:
    for tmp in list(_LIVE_TEMPS):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _LIVE_TEMPS.discard(tmp)


atexit.register(_remove_live_temps)


def _on_signal(signum: int, frame: object) -> None:
    if os.getpid() != _HANDLERS_PID:
        # A worker process forked from the CLI: die as the signal says, quietly.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    name = "terminated" if signum == signal.SIGTERM else "hung up"
    try:
        sys.stderr.write(f"sitegate: {name}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr gone too: the exit code still says it
    raise Terminated(128 + signum)


def _default_signals_in_child() -> None:
    # A forked child (a --jobs worker) dies as SIGTERM says, at once, as it did before the
    # handlers: a Python-level handler runs only between bytecodes, and a worker blocked on
    # its queue when the pool terminates it must not outlive the run.
    if _HANDLERS_PID is not None and os.getpid() != _HANDLERS_PID:
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (ValueError, OSError):
                    pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default_signals_in_child)


def install_signal_handlers() -> None:
    """Treat SIGTERM and SIGHUP like Ctrl-C: unwind (dropping temporary files), exit 143 / 129.

    Only from the main thread (Python's rule); a no-op elsewhere and when already done.
    """
    global _HANDLERS_PID
    if _HANDLERS_PID == os.getpid():
        return
    try:
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None and signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
    except ValueError:
        return  # not the main thread
    _HANDLERS_PID = os.getpid()


def _file_mode(path: str) -> int:
    """The mode the output gets: an existing file keeps its own, a new one follows the umask
    (a temporary file is created 0600, which would hide a report from other CI users)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@dataclass(frozen=True)
class Target:
    """Where an output goes. ``kind``: 'stdout', 'file' (temporary file + rename onto
    ``real``, the symlink-resolved path) or 'inplace' (a device, FIFO or /dev, /proc path,
    opened and written where it is)."""

    kind: str
    path: str
    real: str


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def resolve_target(path: str) -> Target:
    """Classify an output path; OutputError for one that can never be written."""
    if path == "-":
        return Target("stdout", "-", "-")
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # name too long, a loop of links, a file used as a directory...
        raise OutputError(f"--output {path}: {_why(exc)}") from None
    real = os.path.realpath(path)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"--output {path} is a directory: name a file")
        if stat.S_ISSOCK(st.st_mode):
            raise OutputError(f"--output {path} is a socket: name a file, a device or a FIFO")
        if not stat.S_ISREG(st.st_mode):
            return Target("inplace", path, real)
    if real.startswith(_IN_PLACE_ROOTS) or os.path.abspath(path).startswith(_IN_PLACE_ROOTS):
        if st is None:
            raise OutputError(f"--output {path}: no such device (sitegate does not create files under /dev or /proc)")
        return Target("inplace", path, real)  # e.g. /dev/stdout redirected to a file
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        raise OutputError(f"--output {path}: directory {directory} does not exist")
    try:
        name_max = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(os.path.basename(real))) > name_max:
        raise OutputError(f"--output {path}: {os.strerror(errno.ENAMETOOLONG)}")
    return Target("file", path, real)


def _open_temp(path: str) -> tuple[int, str]:
    """(fd, name) of a temporary file beside ``path`` (already resolved), with the mode
    ``path`` will have; renamed into place once complete, so no reader sees half an output."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise OutputError(f"--output {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"--output {path} is a directory: name a file")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sitegate-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"--output {path}: cannot write in {directory}: {_why(exc)}") from None
    _LIVE_TEMPS.add(tmp)
    try:
        os.fchmod(fd, _file_mode(path))
    except OSError as exc:
        os.close(fd)
        _unlink_temp(tmp)
        raise OutputError(f"--output {path}: cannot write in {directory}: {_why(exc)}") from None
    return fd, tmp


def _unlink_temp(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    _LIVE_TEMPS.discard(tmp)


def _open_in_place(target: Target) -> int:
    """A file descriptor on a device or FIFO: no O_CREAT (a vanished device never becomes a
    regular file), O_APPEND (``/dev/stdout`` on a file opened with ``>>`` is appended to)."""
    try:
        return os.open(target.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise OutputError(f"--output {target.path}: cannot write: {_why(exc)}") from None


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def remove_stale(paths: Iterable[str]) -> None:
    """Remove what earlier runs left at these output paths (regular files only): a run that
    fails must not leave an earlier run's verdict to be read as its own."""
    for path in paths:
        if path == "-":
            continue
        try:
            t = resolve_target(path)
        except OutputError:
            continue
        if t.kind == "file":
            try:
                if stat.S_ISREG(os.stat(t.real).st_mode):
                    os.unlink(t.real)
            except OSError:
                pass


def write_atomic(path: str, data: bytes) -> None:
    """Write bytes to one output ('-' is stdout): see :func:`write_all`."""
    write_all([(path, data)])


def write_all(items: list[tuple[str, bytes]]) -> None:
    """Write several outputs all or none: every temporary file complete before any is
    published; on failure none of them appears and the earlier files at those paths are
    removed. Devices and stdout are written in place, after the files are ready."""
    targets: list[Target] = []
    temps: list[tuple[Target, str]] = []
    published: list[str] = []
    try:
        targets = [resolve_target(p) for p, _ in items]
        for t, (_, data) in zip(targets, items):
            if t.kind != "file":
                continue
            fd, tmp = _open_temp(t.real)
            temps.append((t, tmp))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for t, (_, data) in zip(targets, items):
            if t.kind == "stdout":
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            elif t.kind == "inplace":
                fd = _open_in_place(t)
                try:
                    _write_fd(fd, data)
                finally:
                    os.close(fd)
        for t, tmp in temps:
            os.replace(tmp, t.real)
            _LIVE_TEMPS.discard(tmp)
            published.append(t.real)
    except BaseException as exc:
        for _, tmp in temps:
            _unlink_temp(tmp)
        if isinstance(exc, (OSError, OutputError, ValueError)):
            remove_stale([*published, *(p for p, _ in items)])
            if isinstance(exc, OutputError):
                raise
            why = _why(exc) if isinstance(exc, OSError) else "the stream is closed"
            raise OutputError(f"--output {_failed_path(exc, targets)}: cannot write: {why}") from None
        raise


def _failed_path(exc: BaseException, targets: list[Target]) -> str:
    names = {getattr(exc, "filename", None), getattr(exc, "filename2", None)}
    for t in targets:
        if t.real in names or t.path in names:
            return t.path
    return ", ".join(t.path for t in targets)


def _identity(target: Target) -> tuple[str, object]:
    """What two outputs share when they are the same file: the inode of an existing file
    (hard links, ``/dev/stdout`` and '-'), else the resolved path."""
    try:
        st = os.fstat(1) if target.kind == "stdout" else os.stat(target.real)
        return ("inode", (st.st_dev, st.st_ino))
    except OSError:
        return ("path", target.real)


#: File name endings (lower case) that name an output format, longest first. A name
#: with none of them (``report.txt``, ``out``) gets --format, or the table.
EXTENSION_FORMATS: tuple[tuple[str, str], ...] = (
    (".sarif.json", "sarif"),
    (".sarif", "sarif"),
    (".json", "json"),
    (".xml", "junit"),
    (".markdown", "markdown"),
    (".md", "markdown"),
    (".html", "html"),
    (".htm", "html"),
)


def format_of_name(path: str) -> str | None:
    """The output format a file name's extension says (``r.sarif`` -> sarif, ``r.xml``
    -> junit), or None ('-', ``.txt``, no extension)."""
    if path == "-":
        return None
    low = path.lower()
    for ending, name in EXTENSION_FORMATS:
        if low.endswith(ending):
            return name
    return None


def choose_format(path: str, given: str | None, default: str, allowed: Iterable[str], *, option: str = "--format") -> str:
    """The format of ``--output path`` written without ``FORMAT=``.

    The extension decides (``-o report.sarif`` writes SARIF); ``given`` (the
    ``--format`` the user typed, None when left out) must agree with it, or the run
    is a usage error: one of the two would be ignored. With no known extension:
    ``given``, else ``default``. An extension naming a format this command cannot
    write is an error too, unless ``given`` says which one to write.
    """
    by_name = format_of_name(path)
    allowed = list(allowed)
    if by_name is None:
        return given or default
    if by_name not in allowed:
        if given is not None:
            return given
        raise OutputError(
            f"--output {path}: the extension says {by_name}, which this command does not write"
            f" (formats: {', '.join(allowed)}); give {option} to write one of them under this name"
        )
    if given is not None and given != by_name:
        raise OutputError(
            f"--output {path} says {by_name} by its extension but {option} says {given}:"
            f" drop {option}, or write {given}={path} to force it"
        )
    return by_name


def parse_outputs(outputs: list[str], default_fmt: Format | None) -> list[OutputSpec]:
    """``--output FILE`` takes its format from the file's extension (``.sarif``, ``.json``,
    ``.xml``, ``.md``, ``.html``), else from --format (``default_fmt``; None when it was
    not given: the table); ``--output fmt=FILE`` names the format. An extension that
    disagrees with a given --format is an OutputError (a usage error)."""
    fallback = default_fmt or Format.TABLE
    if not outputs:
        return [OutputSpec(fallback, "-")]
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
            given = default_fmt.value if default_fmt is not None else None
            specs.append(OutputSpec(Format(choose_format(o, given, fallback.value, [f.value for f in Format])), o))
    for s in specs:
        if s.path != "-" and os.path.isdir(s.path):
            raise OutputError(f"--output {s.path} is a directory: name a file")
    stdout = [s for s in specs if s.path == "-"]
    if len(stdout) > 1:
        raise OutputError("only one output can go to standard output")
    check_distinct(specs)
    return specs


def check_distinct(specs: list[OutputSpec]) -> None:
    """Refuse two outputs that are one file: same resolved path or same inode (a hard link,
    ``-`` and ``/dev/stdout``, stdout redirected to a file that is also an output)."""
    seen: dict[tuple[str, object], str] = {}
    for s in specs:
        t = resolve_target(s.path)
        keys = {_identity(t), ("path", t.real)}
        for key in keys:
            if key in seen:
                first = seen[key]
                same = "" if first == s.path else f" ({first} and {s.path})"
                raise OutputError(f"two outputs name the same file{same}")
        for key in keys:
            seen[key] = s.path


def check_not_inputs(specs: list[OutputSpec], inputs: list[str]) -> None:
    """Refuse to write an output over a file sitegate reads in the same run, or two outputs
    over one file.

    Compared by resolved path and by inode (a hard link to an input is the input). An input
    may be a directory (facts directory, --policy-dir): no existing file under it may be
    overwritten either.
    """
    check_distinct(specs)
    real_inputs = {os.path.realpath(p) for p in inputs if p and p != "-"}
    input_inodes = set()
    for p in real_inputs:
        try:
            st = os.stat(p)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            input_inodes.add((st.st_dev, st.st_ino))
    dirs = [d for d in real_inputs if os.path.isdir(d)]
    for s in specs:
        if s.path == "-":
            continue
        real = os.path.realpath(s.path)
        inside = os.path.isfile(real) and any(os.path.commonpath([d, real]) == d for d in dirs)
        try:
            st = os.stat(real)
            same_inode = stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in input_inodes
        except OSError:
            same_inode = False
        if real in real_inputs or inside or same_inode:
            raise OutputError(f"--output {s.path} would overwrite an input file")


class Sink:
    """One output being written.

    A regular file goes to a temporary file beside it; stdout and devices are written
    directly, or, with ``spool`` (a run with several outputs), to an anonymous temporary
    file copied out when every output is complete (:func:`publish`).
    """

    def __init__(self, spec: OutputSpec, renderer: Renderer | None = None, *, spool: bool = False):
        self.spec = spec
        self.renderer = renderer  # None when the caller renders (the CLI writes an engine run's text)
        self.target = resolve_target(spec.path)
        self.tmp: str | None = None
        self.spool: IO[str] | None = None
        self._fd: int | None = None
        self._finished = False
        #: The byte layer under ``fh`` that both ``write`` and ``write_bytes`` go to, when
        #: there is a UTF-8 one: text is encoded here, bytes go as they are, in order.
        self._bin: IO[bytes] | None = None
        self._errors = "strict"
        if self.target.kind == "file":
            fd, self.tmp = _open_temp(self.target.real)
            # A large buffer: a fleet report is written a host (a few KB) at a time.
            self.fh: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
        elif spool:
            try:
                self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n", buffering=1 << 20)
            except OSError as exc:
                raise OutputError(f"--output {spec.path}: cannot make a temporary file: {_why(exc)}") from None
            self.fh = self.spool
        elif self.target.kind == "stdout":
            if sys.stdout is None:
                raise OutputError("standard output is closed: nothing can be written there (give -o FILE)")
            self.fh = _stdout_for(spec.fmt)
        else:
            self._fd = _open_in_place(self.target)
            self.fh = open(self._fd, "w", encoding="utf-8", newline="\n", buffering=1 << 20, closefd=False)
        raw = getattr(self.fh, "buffer", None)
        if raw is not None and (getattr(self.fh, "encoding", "") or "").lower().replace("-", "") == "utf8":
            # Anything already written through the text layer (another part of the program
            # printing to stdout) goes out first; from here on only the byte layer is written.
            self.fh.flush()
            self._bin = raw
            errors = getattr(self.fh, "errors", None)
            self._errors = errors if isinstance(errors, str) else "replace" if isinstance(self.fh, _Utf8Stdout) else "strict"

    def _fail(self, exc: OSError) -> OutputError:
        return OutputError(f"--output {self.spec.path}: cannot write: {_why(exc)}")

    def write(self, text: str) -> None:
        """Append text."""
        if text:
            try:
                if self._bin is not None:
                    self._bin.write(text.encode("utf-8", self._errors))
                else:
                    self.fh.write(text)
            except OSError as exc:
                raise self._fail(exc) from None

    def write_bytes(self, data: bytes) -> None:
        """Append UTF-8 text that is already encoded (the JSON report's hosts, ``--jobs`` workers' blocks)."""
        if not data:
            return
        try:
            if self._bin is not None:
                self._bin.write(data)
            else:
                # A text stream without a UTF-8 byte layer under it (a replaced stdout): as text.
                self.fh.write(data.decode("utf-8"))
        except OSError as exc:
            raise self._fail(exc) from None

    def finish(self) -> None:
        """Complete the output without publishing it: every byte written and synced."""
        if self._finished:
            return
        try:
            self.fh.flush()
            if self.tmp is not None:
                os.fsync(self.fh.fileno())
                self.fh.close()
        except OSError as exc:
            raise self._fail(exc) from None
        self._finished = True

    def deliver(self) -> None:
        """Copy a spooled stdout or device output to where it goes."""
        if self.spool is None:
            if self._fd is not None:
                self.fh.close()
                os.close(self._fd)
                self._fd = None
            return
        try:
            self.spool.seek(0)
            raw = self.spool.buffer  # type: ignore[attr-defined]
            if self.target.kind == "stdout":
                if sys.stdout is None:
                    raise OutputError("standard output is closed: nothing can be written there (give -o FILE)")
                out = sys.stdout
                out_raw = getattr(out, "buffer", None)
                utf8 = (getattr(out, "encoding", "") or "").lower().replace("-", "") == "utf8"
                out.flush()
                while chunk := raw.read(1 << 20):
                    if out_raw is not None and (utf8 or not console_text(self.spec.fmt)):
                        out_raw.write(chunk)
                    else:
                        out.write(chunk.decode("utf-8"))
                out.flush()
            else:
                fd = _open_in_place(self.target)
                try:
                    while chunk := raw.read(1 << 20):
                        _write_fd(fd, chunk)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise self._fail(exc) from None
        finally:
            self.spool.close()
            self.spool = None

    def rename_into_place(self) -> None:
        """Publish a finished regular-file output: rename its temporary file into place."""
        if self.tmp is None:
            return
        try:
            os.replace(self.tmp, self.target.real)
        except OSError as exc:
            raise self._fail(exc) from None
        _LIVE_TEMPS.discard(self.tmp)
        self.tmp = None

    def commit(self) -> None:
        """Finish and publish this output alone (a run with one output)."""
        try:
            self.finish()
            self.deliver()
            self.rename_into_place()
        except OutputError:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop a half-written output (crash, Ctrl-C, SIGTERM): nothing partial is left."""
        if self.tmp is not None:
            try:
                self.fh.close()
            except OSError:
                pass  # the text is being dropped anyway (a full disk fails the flush)
            finally:
                _unlink_temp(self.tmp)
                self.tmp = None
        if self.spool is not None:
            try:
                self.spool.close()
            except OSError:
                pass
            self.spool = None
        if self._fd is not None:
            try:
                self.fh.close()
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


class _Utf8Stdout:
    """Standard output for a machine-read format (JSON, SARIF, JUnit, Markdown, HTML): UTF-8
    bytes whatever the console's encoding, so a cp1252 console cannot make a report
    unwritable or change its bytes (the table goes through the console's encoding, with
    what it cannot show escaped)."""

    def __init__(self, text: IO[str]):
        self._text = text
        self.buffer = text.buffer  # type: ignore[attr-defined]
        self.encoding = "utf-8"

    def write(self, s: str) -> int:
        self._text.flush()
        return self.buffer.write(s.encode("utf-8", "replace"))

    def flush(self) -> None:
        self._text.flush()
        self.buffer.flush()

    def fileno(self) -> int:
        return self._text.fileno()


class _ConsoleStdout:
    """Standard output for the table on a console whose encoding cannot show every
    character (cp1252, Latin-1): what it cannot encode is written escaped (\\u6771),
    never an error."""

    def __init__(self, text: IO[str], encoding: str):
        self._text = text
        self.encoding = encoding

    def write(self, s: str) -> int:
        return self._text.write(s.encode(self.encoding, "backslashreplace").decode(self.encoding))

    def flush(self) -> None:
        self._text.flush()

    def fileno(self) -> int:
        return self._text.fileno()


def _stdout_for(fmt: Format) -> IO[str]:
    out = sys.stdout
    encoding = getattr(out, "encoding", "") or ""
    enc = encoding.lower().replace("-", "").replace("_", "")
    if enc == "utf8":
        return out
    if console_text(fmt) or getattr(out, "buffer", None) is None:
        try:
            return _ConsoleStdout(out, encoding) if encoding else out  # type: ignore[return-value]
        except LookupError:
            return out
    return _Utf8Stdout(out)  # type: ignore[return-value]


def open_sinks(specs: list[OutputSpec], renderers: list[Renderer]) -> list[Sink]:
    """A sink per output; with several outputs stdout and devices are spooled, so that
    nothing is shown before every output is complete."""
    spool = len(specs) > 1
    sinks: list[Sink] = []
    try:
        for s, r in zip(specs, renderers):
            sinks.append(Sink(s, r, spool=spool))
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    return sinks


def publish(sinks: list[Sink]) -> None:
    """Publish every output or none.

    Every output is completed first (a full disk shows here); then stdout and devices get
    their copy; then the files are renamed into place. On a failure none of this run's
    reports is left and earlier files at the requested paths are removed.
    """
    renamed: list[str] = []
    try:
        for sink in sinks:
            sink.finish()
        for sink in sinks:
            sink.deliver()
        for sink in sinks:
            if sink.tmp is not None:
                sink.rename_into_place()
                renamed.append(sink.target.real)
    except OutputError:
        for sink in sinks:
            sink.abort()
        remove_stale([*renamed, *(s.spec.path for s in sinks)])
        raise
