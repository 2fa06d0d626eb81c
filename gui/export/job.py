"""``export``: check the request, then hand the frames of a copy of the lesson to a format's writer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtGui import QImage

from ..models import frames_io
from ..models.choices import EXPORT_FORMATS, MAX_SCALE, MIN_SCALE
from ..models.exportplan import MAX_FPS, MAX_LOOP, MIN_FPS, Announce, Progress, Ticker, default_steps
from ..models.lesson import Lesson
from ..models.motion import export_per_step
from ..models.outfiles import ExportError, resolve_target
from ..scene import SceneRenderer
from . import formats
from .paint import draw, frames, movie

FORMATS = EXPORT_FORMATS


def export(lesson: Lesson, renderer: SceneRenderer | None, fmt: str, out: str | os.PathLike[str], *,
           steps: range | None = None, scale: float = 1.0, fps: float = 2.0, loop: int = 0,
           expanded: bool = False, progress: Progress | None = None, announce: Announce | None = None,
           title: str = "") -> Path:
    """Write ``steps`` of ``lesson`` drawn by ``renderer`` to ``out``.

    The frames are made from a copy of ``lesson``, taken first: the lecturer's
    lesson is never moved, and a change made while the export runs does not
    reach the file. Every format streams (memory does not grow with the number
    of steps) and is written under a temporary name, checked, then renamed.

    Parameters
    ----------
    fmt : {"png", "svg", "gif", "mp4", "json", "pdf"}
        PNG with one step writes one file; with several, or an ``out`` ending in
        a slash, ``out`` is a new or empty folder that receives
        ``frame_0000.png``, …. SVG writes one step; PDF a page per step; JSON the
        frames as data (``gui.models.frames_io``; needs no renderer).
    steps : range, optional
        Defaults to the current step for PNG/SVG/PDF and every step for GIF/MP4/JSON.
    scale : float
        1 to 4: pixels per point (PNG, GIF, MP4): the same picture, sharper.
    fps, loop : float, int
        Animation speed (0.1 to 60) and GIF loop count (0 = forever, up to 65535).
    expanded : bool
        Channels side by side, as on the stage with *Expand channels*.
    progress : callable, optional
        ``progress(done, total)``; returning False cancels.
    announce : callable, optional
        ``announce(frames, seconds)``, once, after the first of several frames.
    title : str
        The document's title (JSON, PDF).

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
    if not MIN_FPS <= fps <= MAX_FPS:
        raise ExportError(f"frame rate must be from {MIN_FPS:g} to {MAX_FPS:g} frames per second, got {fps}")
    if not 0 <= loop <= MAX_LOOP:
        raise ExportError(f"a GIF loops 0 (forever) to {MAX_LOOP} times, not {loop}")
    model = lesson.copy()
    steps = default_steps(model.step, model.n_steps, fmt) if steps is None else steps
    if len(steps) == 0:
        raise ExportError("there is no step to export")
    text = os.fspath(out)
    folder = fmt == "png" and (len(steps) > 1 or text.endswith(("/", os.sep)) or Path(text).is_dir())
    target = resolve_target(out, fmt, folder=folder)
    if fmt == "json":
        return frames_io.write_frames_json(model, target, steps, expanded=expanded, title=title,
                                           progress=progress, announce=announce)
    tick = Ticker(len(steps), progress, announce)
    if renderer is None:
        raise ExportError(f"{fmt} export needs a renderer")

    def pictures(which: range) -> Iterator[QImage]:
        return frames(renderer, model, which, scale, expanded=expanded, partial=True)

    def animation(which: range) -> Iterator[QImage]:
        return movie(renderer, model, which, fps, scale, expanded=expanded, partial=True)

    def draw_step(k: int) -> None:
        draw(renderer, model, k, expanded=expanded)

    if fmt == "svg":
        return formats.write_svg(renderer, draw_step, target, steps[:1], tick)
    if fmt == "pdf":
        return formats.write_pdf(renderer, draw_step, target, steps, tick)
    if fmt == "png":
        if folder:
            return formats.write_png_folder(pictures, target, steps, tick)
        return formats.write_png(pictures, target, steps, tick)
    per_step = export_per_step(model.params.motion, fps)
    if fmt == "gif":
        return formats.write_gif(animation, target, steps, fps, loop, tick, per_step)
    return formats.write_mp4(animation, target, steps, fps, tick, per_step)
