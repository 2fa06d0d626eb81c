"""Export files that are never half-written (Qt-free).

Every export is written under a temporary name beside its target,
``.NAME.convviz-PID-TAG.part`` (a file, or a folder for a PNG sequence), then
flushed, synced, measured and read back, and only then renamed over the
target. A failure or an interrupt removes the temporary; the old file, if
any, stays as it was. A run killed outright (SIGKILL, a power cut) cannot
clean up: its leftovers carry its process id, and the next export to the
same folder removes those of processes that are gone (``sweep_leftovers``).

Errors reach the user as ``ExportError`` with one line in plain words.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

__all__ = [
    "AtomicFile",
    "AtomicFolder",
    "ExportCancelled",
    "ExportError",
    "Interrupted",
    "disk_full",
    "os_message",
    "resolve_target",
    "sweep_leftovers",
    "write_chunk",
]

#: What a temporary export file or folder is called (see the module's docstring).
LEFTOVER = re.compile(r"^\..*\.convviz-(\d+)-[0-9a-f]+\.part$")
#: How much of the target's name a temporary name keeps (file names are limited to 255 bytes).
_NAME_KEEP = 120
#: A check of a written file: raises ``ExportError`` when the file is not what was meant.
Check = Callable[[Path], None]


class ExportError(Exception):
    """An export that could not be written; the message is for the user."""


class ExportCancelled(ExportError):  # noqa: N818 - a cancel is not an error to the user
    """The user cancelled; nothing was written."""

    def __init__(self) -> None:
        super().__init__("export cancelled; nothing was written")


class Interrupted(ExportError):  # noqa: N818 - the user's own signal, not an error
    """A signal (Ctrl+C, SIGTERM) stopped the export; nothing was written.

    Attributes
    ----------
    signum : int
    exit_code : int
        ``128 + signum``, as a shell reports a process ended by that signal (130, 143).
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        what = "interrupted (Ctrl+C)" if signum == signal.SIGINT else f"stopped by {_signal_name(signum)}"
        super().__init__(f"{what}; nothing was written")


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# ----------------------------------------------------------------------------- where to
def resolve_target(out: str | os.PathLike[str], fmt: str, *, folder: bool) -> Path:
    """Check where an export goes before any frame is drawn.

    Parameters
    ----------
    out : path
        What the user typed. A trailing slash, or an existing folder, means a folder.
    fmt : str
        The format (its name is the file ending expected).
    folder : bool
        Whether this export writes a folder (a PNG sequence).

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        When the parent folder does not exist, a folder is named for a format that writes one
        file, or the file ending names another format.
    """
    text = os.fspath(out)
    if not text.strip():
        raise ExportError("no file name was given: choose where to save")
    target = Path(text)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"the folder {parent} does not exist")
    names_folder = text.endswith(("/", os.sep)) or target.is_dir()
    if names_folder and not folder:
        raise ExportError(f"{text} names a folder, but {fmt} writes one file: name the file, "
                          f"such as {target.with_name(target.name + '.' + fmt)}")
    if not folder and target.suffix and target.suffix.lower() != f".{fmt}":
        raise ExportError(f"the file name ends in {target.suffix} but the format is {fmt}; "
                          f"name it {target.stem}.{fmt}")
    return target


# ----------------------------------------------------------------------------- temporaries
def _temp_for(target: Path) -> Path:
    name = target.name[:_NAME_KEEP]
    return target.with_name(f".{name}.convviz-{os.getpid()}-{secrets.token_hex(4)}.part")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove the temporaries of exports into ``folder`` whose process is gone.

    Returns
    -------
    list of Path
        What was removed. Temporaries of running exports are left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = LEFTOVER.match(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def write_chunk(fd: int, data: bytes | memoryview) -> int:
    """Write all of ``data`` to ``fd``; the bytes written (every export's writes go through here).

    Raises
    ------
    OSError
        ``ENOSPC`` when the device takes nothing more.
    """
    view = memoryview(data).cast("B")
    done = 0
    while done < len(view):
        n = os.write(fd, view[done:])
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        done += n
    return done


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be synced
        _fsync_path(folder)


def disk_full(folder: Path) -> bool:
    """Whether the file system holding ``folder`` has (next to) no room left."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 1 << 20


def os_message(exc: OSError, target: Path) -> str:
    """``exc`` in plain words, naming ``target``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        kept = " (the old file is unchanged)" if target.exists() else ""
        return f"the disk is full: {target.name} was not written{kept}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {target}: permission denied"
    return f"cannot write {target}: {exc.strerror or exc}"


class AtomicFile:
    """A temporary file beside ``target`` that becomes ``target`` only once it is whole.

    Use as a context manager; write with ``write`` (or let another program
    write ``path`` and pass ``external=True``). On a clean exit the file is
    flushed, synced, its size compared with what was written, ``check``
    run on it, and it is renamed over ``target``; on any exception it is
    removed and an ``OSError`` becomes an ``ExportError``.

    Parameters
    ----------
    target : Path
    check : callable, optional
        ``check(path)`` reads the written file back; raises ``ExportError``.
    external : bool
        Another program writes ``path`` (ffmpeg): no size to compare.
    """

    def __init__(self, target: Path, check: Check | None = None, *, external: bool = False) -> None:
        self.target = target
        self.check = check
        self.external = external
        self.path = _temp_for(target)
        self.written = 0
        self._fd: int | None = None

    def __enter__(self) -> AtomicFile:
        folder = self.target.parent
        sweep_leftovers(folder)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise ExportError(os_message(exc, self.target)) from None
        if self.external:  # the name is taken; the other program opens it itself
            os.close(self._fd)
            self._fd = None
        return self

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data``."""
        assert self._fd is not None, "write inside the with block"
        self.written += write_chunk(self._fd, data)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        fd, self._fd = self._fd, None
        try:
            if fd is not None:
                try:
                    if kind is None:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            if kind is None:
                if self.external:
                    _fsync_path(self.path)
                self._verify()
                os.replace(self.path, self.target)
                _fsync_folder(self.target.parent)
        except BaseException as failure:
            self.path.unlink(missing_ok=True)
            if isinstance(failure, OSError):
                raise ExportError(os_message(failure, self.target)) from None
            raise
        if kind is not None:
            self.path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise ExportError(os_message(exc, self.target)) from None

    def _verify(self) -> None:
        size = self.path.stat().st_size
        if not self.external and size != self.written:
            raise ExportError(_short_message(self.target, size, self.written))
        if size == 0:
            raise ExportError(_short_message(self.target, 0, None))
        if self.check is not None:
            try:
                self.check(self.path)
            except ExportError as bad:
                if disk_full(self.target.parent):
                    raise ExportError(f"the disk is full: {self.target.name} was not written") from None
                raise ExportError(f"{self.target.name} was not written: {bad}") from None


def _short_message(target: Path, size: int, meant: int | None, part: str = "") -> str:
    where = f"{part}: " if part else ""
    had = "" if meant is None else f" ({where}{size:,} of {meant:,} bytes reached the disk)"
    why = "the disk is full" if meant is not None or disk_full(target.parent) else "nothing was written"
    return f"{why}: {target.name} was not written{had}"


class AtomicFolder:
    """A temporary folder beside ``target`` that becomes ``target`` once every file in it is whole.

    ``target`` must be new or an empty folder. Files are added with
    ``add(name, data, check)``, each synced and read back as it is written.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = _temp_for(target)

    def __enter__(self) -> AtomicFolder:
        t = self.target
        if t.exists() and (not t.is_dir() or any(t.iterdir())):
            raise ExportError(f"{t} exists and is not an empty folder; choose a new folder name")
        sweep_leftovers(t.parent)
        try:
            os.mkdir(self.path, 0o777)
        except OSError as exc:
            raise ExportError(os_message(exc, t)) from None
        return self

    def add(self, name: str, data: bytes, check: Check | None = None) -> None:
        """Write the file ``name`` in the folder, synced, measured and checked."""
        path = self.path / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            written = write_chunk(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        size = path.stat().st_size
        if size != written or size != len(data):
            raise ExportError(_short_message(self.target, size, len(data), name))
        if check is not None:
            check(path)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None:
                _fsync_folder(self.path)
                if self.target.exists():
                    self.target.rmdir()
                os.replace(self.path, self.target)
                _fsync_folder(self.target.parent)
                return
        except BaseException as failure:
            shutil.rmtree(self.path, ignore_errors=True)
            if isinstance(failure, OSError):
                raise ExportError(os_message(failure, self.target)) from None
            raise
        shutil.rmtree(self.path, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ExportError(os_message(exc, self.target)) from None
