"""Export frames and animations through the same ``SceneRenderer`` the screen uses.

Every format is written to a temporary name beside the target and renamed at
the end, so a failed or cancelled export leaves nothing behind. Errors come
back as ``ExportError`` with a plain-words message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QCoreApplication, QEvent, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter

from .models.choices import EXPORT_FORMATS, MAX_SCALE, MIN_SCALE
from .models.lesson import Lesson
from .models.scenario import default_mode
from .scene import SceneRenderer

FORMATS = EXPORT_FORMATS
DEFAULT_SIZE = (1280, 720)
#: progress(done, total) -> keep going?
Progress = Callable[[int, int], bool]
#: The pictures of some steps, one per step, drawn as they are asked for.
Pictures = Callable[[range], Iterator[QImage]]


class ExportError(Exception):
    """An export that could not be written; the message is for the user."""


class ExportCancelled(ExportError):  # noqa: N818 - a cancel is not an error to the user
    """The user cancelled; nothing was written."""

    def __init__(self) -> None:
        super().__init__("export cancelled; nothing was written")


def parse_steps(text: str | None, n_steps: int) -> range:
    """``"START:STOP"`` (0-based, STOP exclusive, either may be empty) as a range within the trace.

    Raises
    ------
    ExportError
        For text that is not of that form or an empty range.
    """
    if not text:
        return range(n_steps)
    parts = text.split(":")
    if len(parts) != 2:
        raise ExportError(f"steps must look like START:STOP (e.g. 0:10), got {text!r}")
    try:
        start = int(parts[0]) if parts[0].strip() else 0
        stop = int(parts[1]) if parts[1].strip() else n_steps
    except ValueError:
        raise ExportError(f"steps must be whole numbers, as in 0:10; got {text!r}") from None
    start, stop = max(0, start), min(n_steps, stop)
    if start >= stop:
        raise ExportError(f"steps {text} select no step: this animation has steps 0 to {n_steps - 1}")
    return range(start, stop)


def offscreen_renderer(size: tuple[int, int] = DEFAULT_SIZE, theme: str = "light") -> SceneRenderer:
    """A renderer laid out at ``size`` without showing a window (for headless export)."""
    r = SceneRenderer(theme=theme)
    r.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    r.resize(*size)
    r.show()  # lays the widget out; WA_DontShowOnScreen keeps it off the screen
    return r


def draw(renderer: SceneRenderer, lesson: Lesson, step: int, *, expanded: bool = False) -> None:
    """Put the frame of step ``step`` on ``renderer`` as the screen shows it once the glide ends.

    Only reads ``lesson``: its step does not move.
    """
    renderer.show_frame(lesson.frame(step, expanded=expanded))
    renderer.glide(1.0)
    # Let the caption and arithmetic rows take their new heights now, as the screen's event loop would.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def grab(renderer: SceneRenderer, scale: float = 1.0) -> QImage:
    """The renderer's picture at ``scale`` times its size (vector content redrawn, not stretched)."""
    if scale == 1.0:
        return renderer.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    w, h = renderer.width(), renderer.height()
    img = QImage(QSize(round(w * scale), round(h * scale)), QImage.Format.Format_RGB32)
    img.fill(renderer.backgroundBrush().color())
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.scale(scale, scale)
        renderer.render(p)
    finally:
        p.end()
    return img


def frames(renderer: SceneRenderer, lesson: Lesson, steps: range, scale: float = 1.0, *,
           expanded: bool = False) -> Iterator[QImage]:
    """Pictures of ``steps``, one per step (``lesson`` is only read)."""
    for k in steps:
        draw(renderer, lesson, k, expanded=expanded)
        yield grab(renderer, scale)


def _rgb(img: QImage) -> np.ndarray:
    """``img`` as an ``(H, W, 3)`` uint8 array."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def _png_bytes(img: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise ExportError("could not encode the picture as PNG")
    return bytes(buf.data())


def _temp_beside(target: Path, suffix: str) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write to {folder}: permission denied")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=folder)
    os.close(fd)
    os.chmod(tmp, default_mode())  # as an ordinary new file, not mkstemp's owner-only 0600
    return Path(tmp)


def export(lesson: Lesson, renderer: SceneRenderer, fmt: str, out: str | os.PathLike[str], *,
           steps: range | None = None, scale: float = 1.0, fps: float = 2.0, loop: int = 0,
           expanded: bool = False, progress: Progress | None = None) -> Path:
    """Write ``steps`` of ``lesson`` drawn by ``renderer`` to ``out``.

    The frames are made from a copy of ``lesson``, taken first: the lecturer's
    lesson is never moved, and a change made while the export runs does not
    reach the file.

    Parameters
    ----------
    fmt : {"png", "svg", "gif", "mp4"}
        PNG with one step writes one file; with several, ``out`` is a folder
        that receives ``frame_0000.png``, …. SVG writes the current step.
    steps : range, optional
        Defaults to the current step for PNG/SVG and every step for GIF/MP4.
    scale : float
        1 to 4: pixel size multiplier (PNG, GIF, MP4).
    fps, loop : float, int
        Animation speed and GIF loop count (0 = forever).
    expanded : bool
        Channels side by side, as on the stage with *Expand channels*.
    progress : callable, optional
        ``progress(done, total)``; returning False cancels.

    Returns
    -------
    Path
        What was written.

    Raises
    ------
    ExportError
        With a plain message; nothing is left behind.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ExportError(f"scale must be from {MIN_SCALE} to {MAX_SCALE}, got {scale}")
    if not 0.1 <= fps <= 60:
        raise ExportError(f"frame rate must be from 0.1 to 60 frames per second, got {fps}")
    target = Path(out)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():  # said before any frame is drawn
        raise ExportError(f"the folder {folder} does not exist")
    single = fmt in ("svg", "gif", "mp4") or (fmt == "png" and (steps is None or len(steps) == 1))
    if single and target.suffix and target.suffix.lower() != f".{fmt}":
        raise ExportError(f"the file name ends in {target.suffix} but the format is {fmt}; "
                          f"name it {target.stem}.{fmt}")
    model = lesson.copy()
    if steps is None:
        steps = range(model.step, model.step + 1) if fmt in ("png", "svg") else range(model.n_steps)
    if len(steps) == 0:
        raise ExportError("there is no step to export")
    total = len(steps)

    def tick(done: int) -> None:
        if progress is not None and not progress(done, total):
            raise ExportCancelled()

    def pictures(which: range) -> Iterator[QImage]:
        return frames(renderer, model, which, scale, expanded=expanded)

    try:
        if fmt == "svg":
            draw(renderer, model, steps[0], expanded=expanded)
            return _export_svg(renderer, target)
        if fmt == "png" and total == 1:
            tick(0)
            data = _png_bytes(next(pictures(steps)))
            tmp = _temp_beside(target, ".part")
            _finish(tmp, target, data)
            tick(1)
            return target
        if fmt == "png":
            return _export_png_folder(pictures, target, steps, tick)
        if fmt == "gif":
            return _export_gif(pictures, target, steps, fps, loop, tick)
        return _export_mp4(pictures, target, steps, fps, tick)
    except OSError as exc:
        raise ExportError(_os_message(exc, target)) from None


def _os_message(exc: OSError, target: Path) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return f"the disk is full: {target.name} was not written"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {target}: permission denied"
    return f"cannot write {target}: {exc.strerror or exc}"


def _finish(tmp: Path, target: Path, data: bytes) -> None:
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _export_svg(renderer: SceneRenderer, target: Path) -> Path:
    """Write what ``renderer`` shows as a vector SVG."""
    from PySide6.QtSvg import QSvgGenerator

    tmp = _temp_beside(target, ".part")
    try:
        gen = QSvgGenerator()
        gen.setFileName(str(tmp))
        gen.setSize(renderer.size())
        gen.setViewBox(QRectF(0, 0, renderer.width(), renderer.height()))
        gen.setTitle("convviz")
        p = QPainter(gen)
        try:
            renderer.render(p)
        finally:
            p.end()
        if tmp.stat().st_size == 0:
            raise ExportError("the SVG could not be written")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _export_png_folder(pictures: Pictures, target: Path, steps: range, tick: Callable[[int], None]) -> Path:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"{target} exists and is not an empty folder; choose a new folder name")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"the folder {parent} does not exist")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
        os.chmod(tmp, default_mode(directory=True))
    except OSError as exc:
        raise ExportError(_os_message(exc, target)) from None
    try:
        tick(0)
        for n, img in enumerate(pictures(steps)):
            (tmp / f"frame_{n:04d}.png").write_bytes(_png_bytes(img))
            tick(n + 1)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _export_gif(pictures: Pictures, target: Path, steps: range, fps: float, loop: int,
                tick: Callable[[int], None]) -> Path:
    try:
        from PIL import Image
    except ImportError:
        raise ExportError("GIF export needs Pillow: pip install Pillow") from None
    tick(0)
    # One palette for the whole animation, from its first and last pictures side by side: the
    # colours of empty and of finished outputs are both in it, and mapping onto a fixed palette
    # is several times faster than choosing one per frame (and does not flicker).
    first_last = range(steps[0], steps[-1] + 1, max(1, len(steps) - 1))
    ends = [_rgb(img) for img in pictures(first_last)]
    palette = Image.fromarray(np.concatenate(ends, axis=0)).quantize(256, method=Image.Quantize.FASTOCTREE)
    pics = []
    for n, img in enumerate(pictures(steps)):
        pics.append(Image.fromarray(_rgb(img)).quantize(palette=palette, dither=Image.Dither.NONE))
        tick(n + 1)
    tmp = _temp_beside(target, ".part")
    try:
        # GIF stores delays in hundredths of a second.
        delay = max(20, round(1000.0 / fps / 10) * 10)
        pics[0].save(tmp, format="GIF", save_all=True, append_images=pics[1:], duration=delay,
                     loop=loop, disposal=1, optimize=False)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _export_mp4(pictures: Pictures, target: Path, steps: range, fps: float,
                tick: Callable[[int], None]) -> Path:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ExportError("MP4 export needs imageio-ffmpeg: pip install imageio-ffmpeg") from None
    tmp = _temp_beside(target, ".mp4")
    writer = None
    try:
        tick(0)
        for n, img in enumerate(pictures(steps)):
            rgb = _rgb(img)
            h, w = rgb.shape[:2]
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # H.264 needs even sides
            if writer is None:
                writer = imageio_ffmpeg.write_frames(
                    str(tmp), (rgb.shape[1], rgb.shape[0]), fps=fps, codec="libx264",
                    pix_fmt_out="yuv420p", macro_block_size=1, quality=8, ffmpeg_log_level="error",
                )
                writer.send(None)
            writer.send(np.ascontiguousarray(rgb))
            tick(n + 1)
        writer.close()
        writer = None
        os.replace(tmp, target)
    except BaseException:
        if writer is not None:
            with contextlib.suppress(Exception):  # the export already failed: clean up, report that
                writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return target
