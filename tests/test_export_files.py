"""Nothing half-written: a full disk or a short write in any format leaves the old file as it was and no
temporary behind, and says the disk is full; every written file is read back before it replaces
anything; leftovers of a killed run are recognised and removed by the next export to the folder."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui import export
from gui.export import formats
from gui.models import filechecks, outfiles, scenario
from gui.models.lesson import Lesson

SIZE = (320, 240)
#: Each format, the name it writes and the steps it writes.
CASES = {
    "png": ("a.png", range(1, 2)), "png-folder": ("frames", range(0, 3)), "svg": ("a.svg", range(1, 2)),
    "pdf": ("a.pdf", range(0, 3)), "gif": ("a.gif", range(0, 3)), "mp4": ("a.mp4", range(0, 3)),
    "json": ("a.json", range(0, 3)),
}


@pytest.fixture
def renderer(offscreen_renderers):  # type: ignore[no-untyped-def]
    return offscreen_renderers(SIZE)


def lesson() -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-stride2-padding")), m.last_error
    return m


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def run(renderer: object, case: str, folder: Path) -> Path:
    name, steps = CASES[case]
    return export.export(lesson(), renderer, case.split("-")[0], folder / name, steps=steps)  # type: ignore[arg-type]


def full_after(limit: int):  # type: ignore[no-untyped-def]
    """A ``write_chunk`` for a device that takes ``limit`` bytes in all, then fails with ENOSPC."""
    left = [limit]

    def write(fd: int, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        n = min(len(view), left[0])
        os.write(fd, view[:n])
        left[0] -= n
        if n < len(view):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return n

    return write


def short_writes(fd: int, data: bytes | memoryview) -> int:
    """A ``write_chunk`` that loses half of every write and says it wrote it all (a failing device)."""
    view = memoryview(data).cast("B")
    os.write(fd, view[: len(view) // 2])
    return len(view)


def ffmpeg_on_a_full_disk(exe, path, w, h, fps, log):  # type: ignore[no-untyped-def]
    """Stands in for ffmpeg: takes the frames, then fails as ffmpeg does when the disk fills up."""
    code = ("import sys; sys.stdin.buffer.read(); "
            "sys.stderr.write('[out#0/mp4] Error writing trailer: No space left on device\\n'); sys.exit(1)")
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=log)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("failure", ["enospc", "short-write"])
def test_a_full_disk_keeps_the_old_file_and_says_so(renderer, tmp_path, monkeypatch, case, failure) -> None:
    name, _ = CASES[case]
    old = tmp_path / name
    if case != "png-folder":  # a folder export never replaces anything
        old.write_bytes(b"the lecture's old file")
    if case == "mp4":
        monkeypatch.setattr(formats, "_ffmpeg", ffmpeg_on_a_full_disk)
    else:
        monkeypatch.setattr(outfiles, "write_chunk", full_after(300) if failure == "enospc" else short_writes)
    with pytest.raises(export.ExportError) as err:
        run(renderer, case, tmp_path)
    message = str(err.value)
    assert "disk is full" in message and name in message and "\n" not in message, message
    if case == "png-folder":
        assert listing(tmp_path) == []
    else:
        assert listing(tmp_path) == [name]
        assert old.read_bytes() == b"the lecture's old file"


@pytest.mark.parametrize("case", list(CASES))
def test_every_format_replaces_an_old_file_only_when_whole(renderer, tmp_path, case) -> None:
    name, steps = CASES[case]
    if case != "png-folder":
        (tmp_path / name).write_bytes(b"old")
    out = run(renderer, case, tmp_path)
    assert listing(tmp_path) == [name]
    check = {"png": filechecks.check_png, "svg": filechecks.check_svg, "mp4": filechecks.check_mp4,
             "gif": lambda p: filechecks.check_gif(p, len(steps)),
             "pdf": lambda p: filechecks.check_pdf(p, len(steps)),
             "json": lambda p: filechecks.check_json(p, b'{"format": "convviz-frames"', b"\n]}\n")}
    if case == "png-folder":
        assert listing(out) == ["frame_0000.png", "frame_0001.png", "frame_0002.png"]
        for f in out.iterdir():
            filechecks.check_png(f)
    else:
        check[case](out)


@pytest.mark.parametrize("case", ["png", "svg", "pdf", "gif", "mp4"])
def test_the_checks_refuse_a_cut_file(renderer, tmp_path, case) -> None:
    """What the read-back catches: the same file cut short (as a full disk leaves it) is refused."""
    _, steps = CASES[case]
    out = run(renderer, case, tmp_path)
    data = out.read_bytes()
    check = {"png": filechecks.check_png, "svg": filechecks.check_svg, "mp4": filechecks.check_mp4,
             "gif": lambda p: filechecks.check_gif(p, len(steps)),
             "pdf": lambda p: filechecks.check_pdf(p, len(steps))}[case]
    for cut in (len(data) // 3, len(data) - 2):
        out.write_bytes(data[:cut])
        with pytest.raises(outfiles.ExportError):
            check(out)
    out.write_bytes(data)
    check(out)
    if case in ("gif", "pdf"):  # and one with a frame or page fewer than meant
        with pytest.raises(outfiles.ExportError, match="not 4"):
            {"gif": filechecks.check_gif, "pdf": filechecks.check_pdf}[case](out, 4)


def a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_export_are_removed_by_the_next(renderer, tmp_path) -> None:
    dead, alive = a_dead_pid(), os.getppid()
    stale_file = tmp_path / f".a.gif.convviz-{dead}-0123abcd.part"
    stale_file.write_bytes(b"GIF89a half")
    stale_folder = tmp_path / f".frames.convviz-{dead}-89abcdef.part"
    stale_folder.mkdir()
    (stale_folder / "frame_0000.png").write_bytes(b"png")
    running = tmp_path / f".b.gif.convviz-{alive}-00000000.part"  # another export still writing
    running.write_bytes(b"GIF89a")
    mine = tmp_path / ".notes.part"  # not ours: left alone
    mine.write_text("x")
    run(renderer, "gif", tmp_path)
    assert listing(tmp_path) == sorted([running.name, mine.name, "a.gif"])


def test_a_temporary_name_is_recognised_as_a_leftover(tmp_path) -> None:
    target = tmp_path / ("long name " * 23 + ".gif")  # 234 bytes: its temporary must stay under 255
    with outfiles.AtomicFile(target) as f:
        assert outfiles.LEFTOVER.match(f.path.name)
        assert len(f.path.name.encode()) < 255
        assert f.path.parent == tmp_path
        f.write(b"data")
    assert target.read_bytes() == b"data"
