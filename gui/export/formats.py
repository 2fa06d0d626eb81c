"""One writer per format; each streams its frames and commits atomically.

A writer gets the pictures one step at a time, hands every byte to an
``AtomicFile`` (or ``AtomicFolder``) and ticks after each frame; a tick is
where a cancel or an interrupt stops it. The pictures are drawn on this
thread; compressing, writing and piping happen on workers meanwhile
(``overlap``), in order where order matters. Nothing holds more than a few
frames, whatever the number of steps.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from ..models.filechecks import check_gif, check_mp4, check_pdf, check_png, check_svg
from ..models.gif_lzw import BlockEncoder
from ..models.outfiles import AtomicFile, AtomicFolder, ExportError, disk_full
from ..scene import SceneRenderer
from . import gif, png
from .overlap import overlapped
from .paint import PdfPages, bgrx, png_bytes, rgb, svg_bytes

#: The pictures of some steps, one per step, drawn as they are asked for.
Pictures = Callable[[range], Iterator[QImage]]
#: Draws one step on the renderer (for the vector formats, which paint the scene themselves).
Draw = Callable[[int], None]
#: tick(done): report progress; raises to stop.
Tick = Callable[[int], None]


def write_png(pictures: Pictures, target: Path, steps: range, tick: Tick) -> Path:
    """One step as a PNG file."""
    tick(0)
    data = png_bytes(next(pictures(steps)))
    with AtomicFile(target, check_png) as f:
        f.write(data)
        tick(1)
    return target


def write_png_folder(pictures: Pictures, target: Path, steps: range, tick: Tick) -> Path:
    """Several steps as ``frame_0000.png``, … in a new folder."""
    with AtomicFolder(target) as folder:
        tick(0)
        # Pictures are compressed on a worker while the next is drawn, in order (a band of rows that did
        # not change keeps the previous file's bytes: ``png.Bands``), then written, synced and read back
        # in order on a second: this thread only draws.
        def named() -> Iterator[tuple[str, bytes]]:
            with contextlib.closing(overlapped(pictures(steps), png.Bands().encode)) as encoded:
                for n, data in enumerate(encoded):
                    yield f"frame_{n:04d}.png", data

        with contextlib.closing(overlapped(named(), lambda item: folder.add(*item, check_png))) as written:
            for n, _ in enumerate(written, start=1):
                tick(n)
    return target


def write_svg(renderer: SceneRenderer, draw: Draw, target: Path, steps: range, tick: Tick) -> Path:
    """One step as a vector SVG."""
    tick(0)
    draw(steps[0])
    data = svg_bytes(renderer)
    with AtomicFile(target, check_svg) as f:
        f.write(data)
        tick(1)
    return target


def write_pdf(renderer: SceneRenderer, draw: Draw, target: Path, steps: range, tick: Tick) -> Path:
    """Steps as the pages of a vector PDF (fonts embedded)."""
    with AtomicFile(target, lambda p: check_pdf(p, len(steps))) as f:
        pages = PdfPages(renderer, f.write, title=target.stem)
        try:
            tick(0)
            for n, k in enumerate(steps):
                draw(k)
                pages.add_page()
                tick(n + 1)
            pages.finish()
        except BaseException:
            pages.abandon()
            raise
    return target


def gif_delay_ms(fps: float) -> int:
    """Milliseconds per GIF frame: GIF counts hundredths, and viewers slow anything under 20 ms."""
    return max(20, round(1000.0 / fps / 10) * 10)


def write_gif(pictures: Pictures, target: Path, steps: range, fps: float, loop: int, tick: Tick,
              per_step: int = 1) -> Path:
    """An animated GIF, ``per_step`` frames per step (the in-between pictures of travelling products,
    then the step held), streamed (see ``gui.export.gif``)."""
    gif.need_pillow()
    # The LZW compression runs in a child process (Pillow's holds the interpreter: on a thread it would
    # take turns with the drawing), started first so it is ready when the palette is.
    with BlockEncoder() as lzw:
        # One palette for the whole animation, from a few frames spread over it (the first and the
        # last among them: the colours of empty and of finished outputs are both in it), each step's
        # middle picture (a product on its way) and its finished one.
        n = len(steps)
        sample = sorted({steps[round(i * (n - 1) / 4)] for i in range(5)}) if n > 1 else [steps[0]]
        pics = []
        for k in sample:
            tick(0)  # the window stays live and Cancel works while the samples are drawn
            step_pics = list(pictures(range(k, k + 1)))
            pics += [rgb(step_pics[len(step_pics) // 3]), rgb(step_pics[-1])] if len(step_pics) > 1 else [
                rgb(step_pics[0])]
        palette = _palette(pics, tick)
        size = (pics[0].shape[1], pics[0].shape[0])
        del pics
        with AtomicFile(target, lambda p: check_gif(p, n * per_step)) as f:
            stream = gif.GifStream(f.write, size, palette, gif_delay_ms(fps * per_step), loop, lzw)
            tick(0)
            # While the next picture is drawn, a worker finds what changed since the previous picture and
            # maps it onto the palette, another hands it to the child to compress, and the blocks are
            # written here, all in order. The stream reads the pictures' own pixels (nothing paints on a
            # picture once it is handed out): the worker holds the last two, the stream compares them.
            held: list[QImage] = []

            def change(img: QImage) -> gif.Change:
                held[:] = [*held[-1:], img]
                return stream.change(bgrx(img, copy=False))

            def changes() -> Iterator[gif.Change]:
                found = overlapped(pictures(steps), change)
                with contextlib.closing(found):
                    yield from found

            with contextlib.closing(overlapped(changes(), stream.encode)) as blocks:
                for done, block in enumerate(blocks, start=1):
                    stream.write_block(block)
                    if done % per_step == 0:
                        tick(done // per_step)
            stream.close()
    return target


def _palette(pics: list[np.ndarray], tick: Tick, every: float = 0.02) -> gif.Image.Image:
    """``gif.palette_from(pics)`` on a worker (0.1–0.5 s for five 1280×720 pictures), ticking 0 every
    ``every`` seconds meanwhile: the window stays live and a Cancel stops the export once it is done."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="convviz-palette") as pool:
        future = pool.submit(gif.palette_from, pics)
        while True:
            try:
                return future.result(timeout=every)
            except FutureTimeout:
                tick(0)


def write_mp4(pictures: Pictures, target: Path, steps: range, fps: float, tick: Tick,
              per_step: int = 1) -> Path:
    """An H.264 MP4, ``per_step`` frames per step at ``fps * per_step`` frames per second, piped to
    ffmpeg by a worker (in order) while the next picture is drawn."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ExportError("MP4 export needs imageio-ffmpeg: pip install imageio-ffmpeg") from None
    with AtomicFile(target, check_mp4, external=True) as f, tempfile.TemporaryFile() as log:
        feeder = _Feeder(imageio_ffmpeg.get_ffmpeg_exe(), f.path, fps * per_step, log)
        fed = overlapped(pictures(steps), feeder.feed)
        try:
            tick(0)
            for n, _ in enumerate(fed, start=1):
                if n % per_step == 0:
                    tick(n // per_step)
            feeder.finish()
        except BaseException:
            feeder.kill()  # first: a worker waiting on a full pipe gives up at once
            raise
        finally:
            fed.close()
    return target


class _Feeder:
    """Pictures to one ffmpeg process, started with the first (whose size it takes)."""

    def __init__(self, exe: str, path: Path, fps: float, log: object) -> None:
        self.exe, self.path, self.fps, self.log = exe, path, fps, log
        self.proc: subprocess.Popen[bytes] | None = None

    def feed(self, img: QImage) -> None:
        """Hand ``img`` to ffmpeg (H.264 needs even sides: an odd one repeats its edge)."""
        a = rgb(img)
        h, w = a.shape[:2]
        if h % 2 or w % 2:
            a = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self.proc is None:
            self.proc = _ffmpeg(self.exe, self.path, a.shape[1], a.shape[0], self.fps, self.log)
        _feed(self.proc, a, self.log, self.path)

    def finish(self) -> None:
        """End the stream and wait for ffmpeg to write the file; raise if it failed."""
        assert self.proc is not None
        self.proc.stdin.close()  # type: ignore[union-attr]
        if self.proc.wait() != 0:
            raise _ffmpeg_failure(self.log, self.path)

    def kill(self) -> None:
        """Stop ffmpeg now (a cancel or a failure; the caller removes the file)."""
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            with contextlib.suppress(OSError):
                proc.stdin.close()  # type: ignore[union-attr]


def _ffmpeg(exe: str, path: Path, w: int, h: int, fps: float, log: object) -> subprocess.Popen[bytes]:
    """ffmpeg reading raw RGB frames on stdin, writing H.264 to ``path``; its messages go to ``log``.

    It runs in a session of its own, so a Ctrl+C at the terminal reaches only convviz, which
    stops it and removes the file.
    """
    cmd = [exe, "-y", "-v", "error", "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{w}x{h}",
           "-pix_fmt", "rgb24", "-r", f"{fps:g}", "-i", "-", "-vcodec", "libx264", "-pix_fmt", "yuv420p",
           "-crf", "10", "-f", "mp4", str(path)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log,  # type: ignore[arg-type]
                            start_new_session=True)


def _feed(proc: subprocess.Popen[bytes], frame: np.ndarray, log: object, path: Path) -> None:
    try:
        proc.stdin.write(np.ascontiguousarray(frame).data)  # type: ignore[union-attr]
    except BrokenPipeError:
        proc.wait()
        raise _ffmpeg_failure(log, path) from None


def _ffmpeg_failure(log: object, path: Path) -> Exception:
    """What ffmpeg said, as one line; a full disk as ``ENOSPC`` (``AtomicFile`` says so plainly)."""
    log.seek(0)  # type: ignore[attr-defined]
    text = log.read().decode("utf-8", "replace")  # type: ignore[attr-defined]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "No space left" in text or disk_full(path.parent):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return ExportError(f"the video encoder (ffmpeg) failed: {lines[-1] if lines else 'no message'}")
