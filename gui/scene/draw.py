"""Small drawing helpers every painter item shares: vector or raster, pens in screen pixels, padding bands."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPaintEngine, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem


def is_vector(p: QPainter) -> bool:
    """True when ``p`` paints on a vector device (an SVG), not into pixels."""
    engine = p.paintEngine()
    return engine is not None and engine.type() != QPaintEngine.Type.Raster


def repaint(item: QGraphicsItem, rect: QRectF | None) -> None:
    """Repaint ``rect`` of ``item`` (item units; empty: nothing), or all of it (None).

    A part is handed to the scene as a scene rectangle: while anyone listens to the scene's changes
    (an export does: ``gui.export.damage``), Qt widens an item's own partial update to the whole item.
    """
    scene = item.scene()
    if rect is None or scene is None or not item.isVisible():
        item.update()
    elif not rect.isEmpty():
        scene.update(item.mapRectToScene(rect))


def pixel_ratio(p: QPainter) -> float:
    """Device pixels per logical pixel where ``p`` really paints: the image a widget is rendered
    into (an export at scale 2: 2), else the widget's screen (high-DPI: 2); 1 when unknown."""
    engine = p.paintEngine()
    device = engine.paintDevice() if engine is not None else None
    device = device if device is not None else p.device()
    return float(device.devicePixelRatioF()) if device is not None else 1.0


def screen_pen(p: QPainter, color: QColor | str, width_px: float,
               style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A pen ``width_px`` pixels (points: the widget's logical pixels) wide, whatever the zoom.

    On screen and in pictures it is a cosmetic pen of ``width_px`` times the device's pixel
    ratio (a cosmetic width counts device pixels: without it a 2× picture or a high-DPI
    screen drew every line half as thick as the text around it, and an SVG or PDF twice as
    thick as that picture); in an SVG or PDF it is a plain pen as wide in scene units, since
    not every SVG reader honours ``non-scaling-stroke``.
    """
    pen = QPen(QColor(color), width_px, style)
    if is_vector(p):
        tr = p.transform()
        pen.setWidthF(width_px / max(float(np.hypot(tr.m11(), tr.m12())), 1e-9))
    else:
        pen.setWidthF(width_px * pixel_ratio(p))
        pen.setCosmetic(True)
    return pen


def bands(kinds: np.ndarray) -> tuple[list[QRectF], list[QRectF], QRectF]:
    """Rectangles (cell units, origin at cell (0, 0)'s corner) covering padding and overhang.

    The real cells form one block; explicit padding rings it and ceil-mode
    overhang lies past it on the bottom/right, so a few bands cover each.
    """
    h, w = kinds.shape
    key = id(kinds)
    hit = _BANDS.get(key)
    if hit is not None and hit[0] is kinds:
        return hit[1]
    real = kinds == 0
    rr, rc = np.flatnonzero(real.any(axis=1)), np.flatnonzero(real.any(axis=0))
    r0, r1, c0, c1 = rr[0], rr[-1] + 1, rc[0], rc[-1] + 1
    inside = kinds != 2
    R1, C1 = np.flatnonzero(inside.any(axis=1))[-1] + 1, np.flatnonzero(inside.any(axis=0))[-1] + 1
    pad = [QRectF(0, 0, C1, r0), QRectF(0, r1, C1, R1 - r1), QRectF(0, r0, c0, r1 - r0),
           QRectF(c1, r0, C1 - c1, r1 - r0)]
    over = [QRectF(C1, 0, w - C1, h), QRectF(0, R1, C1, h - R1)]
    keep = [r for r in pad if r.width() > 0 and r.height() > 0]
    out = keep, [r for r in over if r.width() > 0 and r.height() > 0], QRectF(c0, r0, c1 - c0, r1 - r0)
    if len(_BANDS) >= 64:
        _BANDS.clear()
    _BANDS[key] = (kinds, out)  # the channels of a panel share one kinds array: worked out once
    return out


#: ``bands`` by the identity of the kinds array (held, so the id is not reused).
_BANDS: dict[int, tuple[np.ndarray, tuple[list[QRectF], list[QRectF], QRectF]]] = {}
