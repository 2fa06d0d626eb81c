"""What one stage of the pipeline view shows in its box: maps, a folded vector or bars, and their texts.

``StageItems`` is the part of ``gui.pipeline_view.PipelineView`` that draws a
stage's values into a ``pg.ViewBox`` and updates them: the input picture and
feature maps coloured in the theme's maps (levels from each stage's own range),
a long vector folded into a square, dense outputs as bars coloured by sign,
"+N more" under the maps not drawn, and a classifier's class digits and values.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont

from .pipeline_layout import classifier_range, label_pixels, tile_origins
from .scene import apply_lut

MAX_MAPS = 16  # feature maps drawn per stage; the rest are counted
BAR_LIMIT = 128  # vectors up to this long are bars; longer ones a square block
MAX_CLASSES = 10  # a last vector this short is a classifier's output: bars labelled 0..n-1 with values
TEXT_POINTS = 12.0  # "+N more" in the boxes
CLASS_PITCH_PX = 14  # a classifier's bars are at least this many pixels apart (its labels' line height)


class StageItems:
    """Drawing one stage (a mix-in of ``PipelineView``, whose build and fit decide where and when).

    It reads the view's theme (``theme``, ``cmaps``, ``bar_colours``) and the
    values shown (``_shown``), and keeps each stage's items in ``items``,
    ``class_texts`` and ``more_texts``.
    """

    theme: dict[str, str]
    cmaps: dict[str, pg.ColorMap]
    bar_colours: tuple[QColor, QColor]
    boxes: list[pg.ViewBox]
    items: list[list[pg.GraphicsObject]]
    class_texts: dict[int, list[tuple[pg.TextItem, pg.TextItem]]]
    more_texts: dict[int, pg.TextItem]
    _shown: tuple[list[str], list[np.ndarray]]

    @staticmethod
    def _levels(a: np.ndarray) -> tuple[float, float]:
        finite = a[np.isfinite(a)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        return (lo, hi if hi - lo >= 1e-12 else lo + 1.0)

    @staticmethod
    def _as_maps(a: np.ndarray) -> np.ndarray:
        """A long vector folded into a square picture ``(1, s, s)`` (NaN after its end)."""
        side = int(np.ceil(np.sqrt(a.size)))
        grid = np.full(side * side, np.nan)
        grid[: a.size] = a
        return grid.reshape(1, side, side)

    def _bar_colors(self, a: np.ndarray) -> list[QColor]:
        neg, pos = self.bar_colours
        return [pos if v >= 0 else neg for v in a]

    def _update(self, k: int, a: np.ndarray) -> None:
        """New values for stage ``k``'s existing pictures or bars."""
        items = self.items[k]
        if a.ndim == 1 and a.size <= BAR_LIMIT:
            items[0].setOpts(width=a, brushes=self._bar_colors(a))
            if k in self.class_texts:
                self._place_class_texts(k)
            return
        rgba = self._colors(k, (a if a.ndim == 3 else self._as_maps(a))[: len(items)])
        for m, img in enumerate(items):
            img.setImage(rgba[m], autoLevels=False)

    def _colors(self, stage: int, a: np.ndarray) -> np.ndarray:
        """RGBA bytes ``(C, H, W, 4)`` of a stack, levels from its own range (NaN: the theme's empty)."""
        lo, hi = self._levels(a)
        nan = np.isnan(a)
        norm = np.clip((np.where(nan, lo, a) - lo) / (hi - lo), 0.0, 1.0)
        rgba = apply_lut(self.cmaps["picture" if stage == 0 else "output"], norm)
        rgba[nan] = QColor(self.theme["empty"]).getRgb()
        return rgba

    def _draw(self, stage: int, box: pg.ViewBox, a: np.ndarray, last: bool = False
              ) -> list[tuple[float, float, int, int]]:
        """Draw stage ``stage``'s maps, folded vector or bars into ``box``; its tiles ``(x0, y0, h, w)``.

        A ``last`` stage of at most ``MAX_CLASSES`` values is a classifier's
        output: its bars are labelled with the class digit and the value.
        """
        if a.ndim == 1:
            if a.size <= BAR_LIMIT:  # dense outputs as horizontal bars, one per unit, top to bottom
                bars = pg.BarGraphItem(x0=0, y=np.arange(a.size), width=a, height=0.8,
                                       brushes=self._bar_colors(a), pen=None)
                box.addItem(bars)
                self.items[-1].append(bars)
                box.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(self.theme["text"], width=1.5)))
                box.setAspectLocked(False)
                if last and a.size <= MAX_CLASSES:
                    self._add_class_texts(stage, box, a.size)
                return [(0.0, 0.0, int(a.size), 1)]
            a = self._as_maps(a)  # a long vector as a compact square block, read row by row
        c, h, w = a.shape
        n = min(c, MAX_MAPS)
        rgba = self._colors(stage, a[:n])
        tiles = tile_origins(n, 1 if h == 1 else int(np.ceil(np.sqrt(n))), h, w)  # a signal: one a row
        for m, (x0, y0, _h, _w) in enumerate(tiles):
            img = pg.ImageItem(axisOrder="row-major")
            img.setImage(rgba[m], autoLevels=False)
            img.setRect(QRectF(x0 - 0.5, y0 - 0.5, w, h))
            box.addItem(img)
            self.items[-1].append(img)
        if c > n:
            t = pg.TextItem(f"+{c - n} more", color=self.theme["text"], anchor=(0, 0))
            t.setFont(self._text_font())
            t.setPos(-0.5, tiles[-1][1] + h + 0.5)
            box.addItem(t, ignoreBounds=True)
            self.more_texts[stage] = t
        return tiles

    def _text_font(self) -> QFont:
        """The font of labels drawn inside the boxes (legible from the back row)."""
        font = QFont()
        font.setPointSizeF(TEXT_POINTS)
        return font

    def _add_class_texts(self, stage: int, box: pg.ViewBox, n: int) -> None:
        """Class digits 0–9 left of a classifier's bars and their values right (placed by ``_fit``)."""
        texts = []
        for i in range(n):
            digit = pg.TextItem(str(i), color=self.theme["text"], anchor=(0, 0.5))
            value = pg.TextItem("", color=self.theme["text"], anchor=(1, 0.5))
            for t in (digit, value):
                t.textItem.document().setDocumentMargin(0)  # lines as close as the bars
                box.addItem(t, ignoreBounds=True)
            texts.append((digit, value))
        self.class_texts[stage] = texts
        box.setMinimumHeight(n * CLASS_PITCH_PX)  # room for a legible line per class

    def _place_class_texts(self, k: int) -> None:
        """Put a classifier's digits left of its bars and its values right of them, sized to the bars."""
        a = self._shown[1][k]
        box = self.boxes[k]
        size = box.size()
        pixels = label_pixels(size.height() / max(a.size, 1))
        font = QFont()
        font.setPixelSize(max(pixels, 1))
        texts = self.class_texts[k]
        for (digit, value), v in zip(texts, a, strict=False):
            value.setText(f"{v:+.2f}")
            for t in (digit, value):
                t.setFont(font)
                t.setVisible(pixels > 0)
        gap = 4.0  # pixels between a label and the nearest bar
        left = max(d.boundingRect().width() for d, _v in texts) + gap
        right = max(v.boundingRect().width() for _d, v in texts) + gap
        x0, x1 = classifier_range(float(np.nanmin(a)), float(np.nanmax(a)), size.width(), left, right)
        box.setRange(xRange=(x0, x1), yRange=(-0.5, a.size - 0.5), padding=0)
        for i, (digit, value) in enumerate(texts):
            digit.setPos(x0, i)
            value.setPos(x1, i)
