"""Pictures of frames from the stage painter: pixels at any scale, SVG and PDF.

Every picture is the same layout as the screen's at the painter's size; a
larger scale draws that layout with more pixels per point (as a high-DPI
screen would), never a different or cropped one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QPoint,
    QRectF,
    QSizeF,
    Qt,
)
from PySide6.QtGui import QFont, QFontInfo, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QRegion
from PySide6.QtWidgets import QWidget

from ..models.lesson import Lesson
from ..models.motion import export_fractions, export_per_step
from ..models.outfiles import ExportError
from ..scene import SceneRenderer
from . import png
from .damage import repainting

DEFAULT_SIZE = (1280, 720)


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
    renderer.settle()  # the caption and arithmetic rows take their new heights now


def grab(renderer: SceneRenderer, scale: float = 1.0) -> QImage:
    """The renderer's picture with ``scale`` pixels per point: the scale-1 picture, sharper.

    The widget paints itself into an image whose device pixel ratio is
    ``scale`` (what ``QWidget.grab`` does on a high-DPI screen): the layout is
    the one on screen, text and lines are drawn at the finer resolution.
    """
    w, h = renderer.width(), renderer.height()
    img = QImage(round(w * scale), round(h * scale), QImage.Format.Format_RGB32)
    img.setDevicePixelRatio(scale)
    img.fill(renderer.backgroundBrush().color())
    flags = (QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren
             | QWidget.RenderFlag.IgnoreMask)
    # QGraphicsView.render (the scene into a rectangle) hides QWidget.render (the widget as drawn).
    QWidget.render(renderer, img, QPoint(), QRegion(0, 0, w, h), flags)
    img.setDevicePixelRatio(1.0)
    return img


def frames(renderer: SceneRenderer, lesson: Lesson, steps: range, scale: float = 1.0, *,
           expanded: bool = False, partial: bool = False) -> Iterator[QImage]:
    """Pictures of ``steps``, one per step (``lesson`` is only read); with ``partial`` each is painted
    over the previous one where the stage changed (``gui.export.damage``: the same pixels)."""
    with _pictures(renderer, scale, partial) as take:
        for k in steps:
            draw(renderer, lesson, k, expanded=expanded)
            yield take()


@contextmanager
def _pictures(renderer: SceneRenderer, scale: float, partial: bool) -> Iterator[Callable[[], QImage]]:
    """What takes each picture: ``grab``, or with ``partial`` a ``Repainter``'s ``picture``."""
    if not partial:
        yield lambda: grab(renderer, scale)
        return
    with repainting(renderer, scale) as rp:
        yield rp.picture


def movie(renderer: SceneRenderer, lesson: Lesson, steps: range, fps: float, scale: float = 1.0, *,
          expanded: bool = False, partial: bool = False) -> Iterator[QImage]:
    """Pictures of ``steps`` for an animation at ``fps`` steps per second: ``export_per_step`` of them
    per step, the in-between pictures of the travelling products (``Frame.motion``) first, then
    the finished step held for the rest of the step's time (``lesson`` is only read; ``partial`` as
    in ``frames``)."""
    per_step = export_per_step(lesson.params.motion, fps)
    if per_step == 1:
        yield from frames(renderer, lesson, steps, scale, expanded=expanded, partial=partial)
        return
    travel = renderer.text.travel
    was = travel.enabled
    travel.set_enabled(True)
    try:
        with _pictures(renderer, scale, partial) as grab_now:
            for k in steps:
                f = lesson.frame(k, expanded=expanded)
                renderer.show_frame(f)
                renderer.settle()
                plan = None if f.motion is None else export_fractions(f.motion.pieces, fps)
                shown = 0
                if plan is not None:
                    travel.start(True)
                    for t in plan[0][: per_step - 1]:
                        renderer.glide(t)
                        yield grab_now()
                        shown += 1
                renderer.glide(1.0)
                renderer.settle()
                still = grab_now()
                for _ in range(per_step - shown):
                    yield still
    finally:
        travel.set_enabled(was)


def rgb(img: QImage) -> np.ndarray:
    """``img`` as an ``(H, W, 3)`` uint8 array."""
    return png.rgb_rows(img)


def bgrx(img: QImage, *, copy: bool = True) -> np.ndarray:
    """``img`` as format RGB32 has it in memory, an ``(H, W, 4)`` uint8 array: blue, green, red, 0xff
    (``gui.export.gif`` reads it as it is, without a conversion). A copy, or with ``copy=False`` a view
    of an RGB32 ``img``'s pixels, valid while ``img`` lives unchanged (no 3.7 MB copy a 1280×720 frame)."""
    if img.format() != QImage.Format.Format_RGB32:
        img, copy = img.convertToFormat(QImage.Format.Format_RGB32), True
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    view = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl // 4, 4)[:, :w]
    return view.copy() if copy else view


def png_bytes(img: QImage) -> bytes:
    """``img`` encoded as PNG (``gui.export.png``)."""
    return png.encode(img)


# ----------------------------------------------------------------------------- vector
def _render_scene(renderer: SceneRenderer, p: QPainter) -> None:
    """The renderer's scene, 1:1, into a device of the renderer's size in its own units."""
    renderer.render(p, QRectF(0, 0, renderer.width(), renderer.height()), renderer.viewport().rect())


_FAMILY = re.compile(r'font-family="([^"]*)"')


def _real_families(svg: str) -> str:
    """Name the fonts an SVG uses as the painter resolved them, with a generic fallback.

    Qt writes the family it was asked for ("Sans Serif", Qt's own alias), which
    a browser does not know: it would fall back to its default, often a serif.
    """
    names: dict[str, str] = {}
    for family in set(_FAMILY.findall(svg)):
        real = QFontInfo(QFont(family)).family()
        generic = "monospace" if QFontInfo(QFont(family)).fixedPitch() else "sans-serif"
        names[family] = f"'{real}', {generic}" if real and real != family else f"'{family}', {generic}"
    return _FAMILY.sub(lambda m: f'font-family="{names[m.group(1)]}"', svg)


def svg_bytes(renderer: SceneRenderer, title: str = "convviz") -> bytes:
    """What ``renderer`` shows as a vector SVG of its size in CSS pixels.

    The generator's resolution is the painter's (96 dpi): Qt sizes text in points
    and writes them as user units at the generator's resolution, so at its default
    72 dpi every caption came out a quarter smaller than on screen.
    """
    from PySide6.QtSvg import QSvgGenerator

    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setResolution(renderer.logicalDpiX())
    gen.setSize(renderer.size())
    gen.setViewBox(QRectF(0, 0, renderer.width(), renderer.height()))
    gen.setTitle(title)
    p = QPainter(gen)
    try:
        _render_scene(renderer, p)
    finally:
        p.end()
    text = bytes(buf.data().data()).decode("utf-8")
    if not text:
        raise ExportError("the SVG could not be drawn")
    return _real_families(text).encode("utf-8")


class PdfPages:
    """A vector PDF of the renderer's pictures, one page each, handed out in pieces.

    The page is the renderer's size at 96 dpi (1280×720 → 960×540 pt, a 16:9
    slide); text stays text with its fonts embedded. ``QPdfWriter`` writes into
    a buffer that ``drain`` empties after every page, so a long document needs
    the memory of one page.

    Parameters
    ----------
    renderer : SceneRenderer
    sink : callable
        ``sink(data)`` takes each piece of the file, in order.
    title : str
    """

    def __init__(self, renderer: SceneRenderer, sink: Callable[[bytes], None],
                 title: str = "convviz") -> None:
        self.renderer, self.sink = renderer, sink
        self.pages = 0
        self._buf = QBuffer()
        self._buf.open(QIODevice.OpenModeFlag.WriteOnly)
        self._writer = QPdfWriter(self._buf)
        dpi = renderer.logicalDpiX()
        self._writer.setResolution(dpi)
        pt = QSizeF(renderer.width() * 72 / dpi, renderer.height() * 72 / dpi)
        self._writer.setPageLayout(QPageLayout(QPageSize(pt, QPageSize.Unit.Point, "convviz"),
                                               QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
        self._writer.setTitle(title)
        self._writer.setCreator("convviz")
        self._painter: QPainter | None = None

    def add_page(self) -> None:
        """Paint what the renderer shows now as the next page."""
        if self._painter is None:
            self._painter = QPainter(self._writer)
            if not self._painter.isActive():
                raise ExportError("the PDF could not be started")
        else:
            self._writer.newPage()
        _render_scene(self.renderer, self._painter)
        self.pages += 1
        self.drain()

    def drain(self) -> None:
        """Hand what the writer produced so far to the sink."""
        data = bytes(self._buf.data().data())
        if data:
            self.sink(data)
            self._buf.close()
            self._buf.setData(QByteArray())
            self._buf.open(QIODevice.OpenModeFlag.WriteOnly)

    def finish(self) -> None:
        """End the document (fonts, page index and trailer) and hand out the rest."""
        if self._painter is not None:
            self._painter.end()
            self._painter = None
        self.drain()

    def abandon(self) -> None:
        """Stop without finishing (the caller removes the file)."""
        if self._painter is not None:
            self._painter.end()
            self._painter = None
