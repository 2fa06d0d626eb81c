"""A tile's pictures at the device's resolution, and drawing them (``GridItem`` takes these from here).

A tile is drawn once per content and size into a picture and every later paint
is a blit (see ``grid``). A tile behind a stack's front tile shows only a sliver
along its top and right edges: the opaque tile just over it (``cover``, the
offset of that tile in this one's cells) hides the rest. Such a tile's picture
is drawn only outside a ``hole`` a few pixels inside what hides it, as a few
small pictures (``Banded``: one big picture would cost its every memory page,
even with its inside left undrawn), each blitted where its pixels lie in the
whole one: the screen's pixels are the same (the tile over it paints every pixel
of the hole opaquely), at a few hundredths of the work for a big stack.

On a live window (``progressive``) the pictures one event-loop turn makes are
limited (``TURN_BUDGET``): a tile whose picture is not made yet shows its last
one (scaled to its new size) and is painted again next turn, so a theme switch,
a new size or presenter mode at the largest setting is a few short turns instead
of one long one; the stage settles on exactly the pictures made in one go.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter, QPixmap

from ..models.frame import Grid
from .cells import LINES_PX, kind_cells, paint_cells, paint_lines
from .colour import TileRender
from .draw import pixel_ratio
from .inking import qround
from .upscale import cell_map, fill_cells

__all__ = ["HOLE_MARGIN", "Banded", "Hole", "TilePictures", "outside"]

#: Device pixels a hole keeps inside the edges of the tile that hides it (both tiles land on whole pixels:
#: never a pixel the tile over it leaves to this one).
HOLE_MARGIN = 6
#: A hole's edges lie on multiples of this many device pixels: each part of a ``Banded`` picture starts
#: where a hatching pattern's period (8 pixels) starts again, as in the whole picture.
HOLE_GRID = 16
#: Smaller holes are not worth the parts (each part costs about what ~40,000 pixels of picture do).
HOLE_MIN_PIXELS = 30_000

#: Pixels of a picture not drawn: ``(x0, y0, x1, y1)``, device pixels from its top-left corner.
Hole = tuple[int, int, int, int]
Rect = tuple[float, float, float, float]


def outside(rect: Rect, hole: Rect | None) -> list[Rect]:
    """``rect = (x0, y0, x1, y1)`` less ``hole``: at most four rectangles that do not overlap (the rows
    above and below the hole across, then its left and right)."""
    if hole is None:
        return [rect]
    x0, y0, x1, y1 = rect
    hx0, hy0, hx1, hy1 = max(hole[0], x0), max(hole[1], y0), min(hole[2], x1), min(hole[3], y1)
    if hx1 <= hx0 or hy1 <= hy0:
        return [rect]
    parts = [(x0, y0, x1, hy0), (x0, hy1, x1, y1), (x0, hy0, hx0, hy1), (hx1, hy0, x1, hy1)]
    return [r for r in parts if r[2] > r[0] and r[3] > r[1]]


@dataclass(frozen=True, eq=False)
class Banded:
    """A tile's picture drawn only outside its hole: ``parts``, each ``(x, y, picture)`` with ``x, y`` the
    device pixels of its top-left corner from the whole picture's."""

    parts: tuple[tuple[int, int, QPixmap | QImage], ...]


Picture = QPixmap | QImage | Banded
T = TypeVar("T")

#: Picture-making a live window's tiles may do in one event-loop turn (estimated milliseconds,
#: ``picture_cost``); what is left waits for the next turn.
TURN_BUDGET = 24.0


class Turn:
    """What is left of this event-loop turn's ``TURN_BUDGET``, and the tiles to paint again next turn."""

    def __init__(self) -> None:
        self.left = TURN_BUDGET
        self.armed = False
        self.waiting: list[TilePictures] = []

    @property
    def busy(self) -> bool:
        """Pictures were made or put off this turn (the stage may not have settled)."""
        return self.armed

    def spend(self, cost: float) -> bool:
        """Take ``cost`` from this turn's budget; False when it is spent (nothing taken)."""
        self._arm()
        if self.left <= 0.0:
            return False
        self.left -= cost
        return True

    def wait(self, item: TilePictures) -> None:
        """Paint ``item`` again next turn."""
        self._arm()
        self.waiting.append(item)

    def _arm(self) -> None:
        if not self.armed:
            self.armed = True
            QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        self.left, self.armed = TURN_BUDGET, False
        waiting, self.waiting = self.waiting, []
        for item in waiting:
            with contextlib.suppress(RuntimeError):  # RuntimeError: its scene is gone
                item.update()  # type: ignore[attr-defined]


TURN = Turn()


def picture_cost(size: tuple[int, int], hole: Hole | None) -> float:
    """Estimated milliseconds to make a picture of ``size`` device pixels with ``hole`` left out (each
    picture or part ~0.3 ms whatever its size, then ~1 ms per 400,000 pixels: a quiet machine's figures)."""
    w, h = size
    if hole is None:
        return 0.3 + w * h / 400_000
    x0, y0, x1, y1 = hole
    return 4 * 0.3 + (w * h - (x1 - x0) * (y1 - y0)) / 400_000


def stretch(p: QPainter, at: QPointF, pic: Picture, scale: float, dpr: float) -> None:
    """Draw ``pic`` ``scale`` times its size from ``at`` (a stale picture until the new one is made)."""
    parts = pic.parts if isinstance(pic, Banded) else ((0, 0, pic),)
    for x, y, part in parts:
        target = QRectF(at + QPointF(x * scale / dpr, y * scale / dpr),
                        QSizeF(part.width() * scale / dpr, part.height() * scale / dpr))
        if isinstance(part, QImage):
            p.drawImage(target, part)
        else:
            p.drawPixmap(target, part, QRectF(part.rect()))


def draw(p: QPainter, at: QPointF, pic: QPixmap | QImage) -> None:
    """Draw ``pic`` with its top-left corner at ``at``."""
    if isinstance(pic, QImage):
        p.drawImage(at, pic)
    else:
        p.drawPixmap(at, pic)


class TilePictures:
    """``GridItem``'s pictures: made, cached and blitted (a mix-in: the item's ``origin``, ``theme``,
    ``zoom``, ``cover``, ``_qimage`` and caches are its own)."""

    origin: tuple[float, float]
    theme: dict[str, str]
    zoom: float
    cover: tuple[float, float] | None
    _qimage: QImage
    grid: Grid | None
    _parts_ok = False  # the painter's pixels are the pictures' (``_blit``)
    progressive = False  # a live window's tile: at most ``TURN_BUDGET`` of pictures a turn
    hides = False  # another tile's ``cover``: drawn over it, hiding its hole
    _stale: dict[str, tuple[Picture, float]]  # the last picture of each name shown, and its cell size
    _pics: dict[str, Picture]
    _recent: list[tuple[tuple[object, ...], tuple[object, ...], dict[str, Picture]]]
    _statics: dict[tuple[object, ...], tuple[object, object]]

    def _text_picture(self, g: Grid, d: TileRender, px: float, dpr: float) -> QImage:
        raise NotImplementedError

    def _corner(self) -> tuple[float, float]:
        """The tile's top-left corner in item coordinates."""
        return self.origin[0] - 0.5, self.origin[1] - 0.5

    def _blit(self, p: QPainter, g: Grid, d: TileRender, px: float,
              names: tuple[tuple[str, bool], ...]) -> None:
        """Draw cached pictures: each ``(name, done)`` over the cells computed (done) or not yet."""
        tr = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        # Parts land on whole pixels only where the painter's pixels are the pictures' (not so in an image
        # a widget is rendered into at another scale: whole pictures there).
        self._parts_ok = pixel_ratio(p) == dpr
        key = (id(d), id(g.kinds), id(g.corner), g.unreached_rows, g.unreached_cols, round(px, 3), dpr,
               self.zoom, self.cover if self._parts_ok else None)
        held = (d, g.kinds, g.corner)  # holding them keeps their ids from being reused while cached
        hit = next((e for e in self._recent if e[0] == key and e[1][0] is d), None)
        if hit is None:
            hit = (key, held, {})
            self._recent = [hit, *self._recent[:5]]
        self._pics = hit[2]
        h, w = d.rgba.shape[:2]
        stop = h * w if g.pending_from is None else g.pending_from
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        top_left = tr.map(QPointF(x0, y0))
        p.save()
        p.resetTransform()
        r0, c0 = divmod(stop, w)
        done = [(0, r0, 0, w), (r0, r0 + 1, 0, c0)] if stop < h * w else [(0, h, 0, w)]
        todo = [(r0, r0 + 1, c0, w), (r0 + 1, h, 0, w)] if stop < h * w else []
        for name, on_done in names:
            rects = [r for r in (done if on_done else todo) if r[1] > r[0] and r[3] > r[2]]
            if not rects:
                continue
            pic, scale = self._picture_now(name, g, d, px, dpr)
            if pic is None:
                continue
            for i0, i1, j0, j1 in rects:
                extra_w = 1.0 if j1 == w else 0.0  # the last grid line lies on the far edge
                extra_h = 1.0 if i1 == h else 0.0
                p.setClipRect(QRectF(top_left.x() + j0 * px, top_left.y() + i0 * px,
                                     (j1 - j0) * px + extra_w, (i1 - i0) * px + extra_h))
                if scale != 1.0:  # the last picture, at its own size, until this one is made
                    stretch(p, top_left, pic, scale, dpr)
                elif isinstance(pic, Banded):  # each part where its pixels lie in the whole picture,
                    left = float(qround(np.array(top_left.x() * dpr)))  # which lands where qRound says
                    top = float(qround(np.array(top_left.y() * dpr)))
                    for x, y, part in pic.parts:
                        draw(p, QPointF((left + x) / dpr, (top + y) / dpr), part)
                else:
                    draw(p, top_left, pic)
        p.restore()

    def _picture_now(self, name: str, g: Grid, d: TileRender, px: float,
                     dpr: float) -> tuple[Picture | None, float]:
        """The picture ``name`` and 1; or, on a live window whose turn has made enough pictures, the last
        one shown and how much larger this one will be (None: none yet), the tile painted again next turn."""
        if self.progressive and name != "text" and name not in self._pics:
            old = self._stale.get(name)
            # A tile over others hides their holes: never nothing (nor holes of its own) meanwhile.
            stale = old is not None and not (self.hides and isinstance(old[0], Banded))
            cost = picture_cost(self._picture_size(d, px, dpr), self._hole(d, px, dpr))
            if not TURN.spend(cost) and (stale or not self.hides):
                TURN.wait(self)
                return (None, 1.0) if old is None else (old[0], px / old[1])
        pic = self._picture(name, g, d, px, dpr)
        self._stale[name] = (pic, px)
        return pic, 1.0

    def _hole(self, d: TileRender, px: float, dpr: float) -> Hole | None:
        """The pixels of this tile's pictures the opaque tile over it (``cover``) hides, ``HOLE_MARGIN``
        inside its edges, or None: no tile over it, a device ratio that is not whole or not the painter's, or
        padding cells (QPainter's hatching would start elsewhere in a part than in the whole picture)."""
        g = self.grid
        if self.cover is None or not self._parts_ok or dpr != round(dpr) or g is None or (
                g.kinds is not None and kind_cells(g.kinds).marked):
            return None
        h, w = d.rgba.shape[:2]
        size_w, size_h = self._picture_size(d, px, dpr)
        cx, cy = self.cover
        k, m, n = px * dpr, HOLE_MARGIN, HOLE_GRID
        x0, y0 = math.ceil((cx * k + m) / n) * n, math.ceil((cy * k + m) / n) * n
        x1 = math.floor(min(size_w, (cx + w) * k - m) / n) * n
        y1 = math.floor(min(size_h, (cy + h) * k - m) / n) * n
        x0, y0 = max(x0, 0), max(y0, 0)
        if x1 - x0 < 2 * m or y1 - y0 < 2 * m or (x1 - x0) * (y1 - y0) < HOLE_MIN_PIXELS:
            return None  # too small to be worth its parts
        return x0, y0, x1, y1

    def _picture(self, name: str, g: Grid, d: TileRender, px: float, dpr: float) -> Picture:
        """The tile drawn at ``px`` pixels per cell: "full", "blank" (not computed yet) or "text"
        (the labels alone, on a transparent picture)."""
        pix = self._pics.get(name)
        if pix is None:
            if name == "text":
                pix = self._text_picture(g, d, px, dpr)
            elif name == "blank":  # no values in it: one per shape, kinds and size, whatever the values
                hole = self._hole(d, px, dpr)
                key = ("blank", g.shape, id(g.kinds), g.unreached_rows, g.unreached_cols, round(px, 3), dpr,
                       self.origin, hole)
                pix = self._static(key, g.kinds, lambda: self._cells_picture(g, d, px, dpr, blank=True))
            else:
                pix = self._cells_picture(g, d, px, dpr, blank=False)
            self._pics[name] = pix
        return pix

    def _static(self, key: tuple[object, ...], held: object, make: Callable[[], T]) -> T:
        """A picture that depends on the tile's shape, kinds and size, not on its values (``held`` keeps
        the ids in ``key`` from being reused while cached)."""
        hit = self._statics.get(key)
        if hit is None or hit[0] is not held:
            hit = (held, make())
            self._statics[key] = hit
            while len(self._statics) > 9:  # blank, lines and cell map at three sizes
                del self._statics[next(iter(self._statics))]
        return hit[1]  # type: ignore[return-value]

    def _picture_size(self, d: TileRender, px: float, dpr: float) -> tuple[int, int]:
        """Pixels of a tile picture: one more each way, since the last grid line sits on the far edge."""
        h, w = d.rgba.shape[:2]
        return int(np.ceil(w * px * dpr)) + 1, int(np.ceil(h * px * dpr)) + 1

    def _place_painter(self, q: QPainter, px: float) -> None:
        """Put the tile's top-left corner at the picture's origin, ``px`` pixels per cell."""
        q.scale(px, px)
        q.translate(-(self.origin[0] - 0.5), -(self.origin[1] - 0.5))

    def _cells_picture(self, g: Grid, d: TileRender, px: float, dpr: float, *, blank: bool) -> Picture:
        """Cell colours (or, ``blank``, the empty colour), padding and unreached marks, grid lines; with a
        ``_hole``, only the parts around it (``Banded``)."""
        w, h = self._picture_size(d, px, dpr)
        hole = self._hole(d, px, dpr)
        if hole is None:
            return self._cells_part(g, d, px, dpr, (0, 0, w, h), blank=blank)
        return Banded(tuple((int(x0), int(y0), self._cells_part(g, d, px, dpr, (x0, y0, x1, y1), blank=blank))
                            for x0, y0, x1, y1 in outside((0, 0, w, h), hole)))

    def _cells_part(self, g: Grid, d: TileRender, px: float, dpr: float, box: Rect, *,
                    blank: bool) -> QPixmap | QImage:
        """The pixels ``box = (x0, y0, x1, y1)`` of the tile's picture (device pixels of the whole one)."""
        x0, y0, x1, y1 = (int(v) for v in box)
        w, h = x1 - x0, y1 - y0
        pix: QPixmap | QImage
        if blank or not d.opaque:
            pix, filled = QPixmap(w, h), False
            pix.fill(Qt.GlobalColor.transparent)
        else:  # opaque cells cover all but the far edges: only the edges need clearing first
            pix = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            bits = np.frombuffer(pix.bits(), np.uint32).reshape(h, pix.bytesPerLine() // 4)[:, :w]
            shape = rows, cols = d.rgba.shape[:2]
            full_w, full_h = self._picture_size(d, px, dpr)
            for a, b in ((0, 2), (full_h - 3, full_h), (max(0, int(rows * px * dpr) - 2), full_h)):
                bits[min(max(a - y0, 0), h):min(max(b - y0, 0), h)] = 0  # those rows of the whole picture
            for a, b in ((0, 2), (full_w - 3, full_w), (max(0, int(cols * px * dpr) - 2), full_w)):
                bits[:, min(max(a - x0, 0), w):min(max(b - x0, 0), w)] = 0
            where = self._static(("cell map", shape, round(px, 3), dpr, self.origin), None, lambda: cell_map(
                (full_w, full_h), dpr, shape, self._corner(), lambda q: self._place_painter(q, px)))
            filled = fill_cells(bits, d.rgba, where, (x0, y0))  # the colours as QPainter draws them
        pix.setDevicePixelRatio(dpr)
        q = QPainter(pix)
        try:
            q.translate(-x0 / dpr, -y0 / dpr)
            self._place_painter(q, px)
            paint_cells(q, g, None if blank else (d.rgba, self._qimage), self._corner(), self.theme, px,
                        drawn=filled)
            if px >= LINES_PX and dpr == 1.0:  # opaque one-pixel lines: a copy of them is the same pixels
                key = ("lines", g.shape, round(px, 3), dpr, self.origin)
                lines = self._static(key, None, lambda: self._lines_picture(g, d, px, dpr))
                q.resetTransform()
                q.drawPixmap(-x0, -y0, lines)
            else:
                paint_lines(q, g, self._corner(), self.theme, px)
        finally:
            q.end()
        return pix

    def _lines_picture(self, g: Grid, d: TileRender, px: float, dpr: float) -> QPixmap:
        """The grid lines alone on a transparent picture."""
        pix = QPixmap(*self._picture_size(d, px, dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(Qt.GlobalColor.transparent)
        q = QPainter(pix)
        try:
            self._place_painter(q, px)
            paint_lines(q, g, self._corner(), self.theme, px)
        finally:
            q.end()
        return pix
