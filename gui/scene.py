"""The one scene renderer: input, kernel and output grids, drawn from a ``Frame``.

The same ``SceneRenderer`` paints the window on screen and (offscreen) every
exported frame. It only lays out and paints what a ``Frame`` says; colours
are looked up once per frame, never inside ``paint``.

Coordinates: one scene unit is one cell; cell ``(i, j)`` of a grid whose
origin is ``(x0, y0)`` is centred on ``(x0 + j, y0 + i)``; the y axis points
down, like a matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy

from engine.describe import fmt_cell

from .model import OP_LABELS, Frame

GAP = 2.5  # cells between panels
STACK_SHIFT = 0.35  # cells each channel behind the front one is shifted up-right

THEMES: dict[str, dict[str, str]] = {
    "light": {
        "background": "#ffffff", "text": "#1a1a1a", "grid": "#4d4d4d", "empty": "#ececec",
        "padding": "#9a9a9a", "window": "#ff7f0e", "output": "#d62728", "hover": "#17becf",
        "unreached": "#d62728",
    },
    "dark": {
        "background": "#1e1f22", "text": "#f0f0f0", "grid": "#bdbdbd", "empty": "#34363a",
        "padding": "#8a8a8a", "window": "#ffb000", "output": "#ff5c5c", "hover": "#4dd8ff",
        "unreached": "#ff5c5c",
    },
}


@dataclass
class TileData:
    """What one grid tile shows (built from a Frame; plain data).

    Attributes
    ----------
    rgba : ndarray of uint8, shape (H, W, 4)
    text : list of list of str
        Value strings per cell ("" for none).
    dark_text : ndarray of bool, shape (H, W)
        Whether a cell's text is drawn dark (on a light colour).
    kinds : ndarray of int8, shape (H, W) or None
        0 real, 1 padding, 2 overhang (input tiles only).
    unreached_rows, unreached_cols : ndarray of int
        Grid rows/columns to mark as never reached.
    """

    rgba: np.ndarray
    text: list[list[str]]
    dark_text: np.ndarray
    kinds: np.ndarray | None = None
    unreached_rows: np.ndarray | None = None
    unreached_cols: np.ndarray | None = None
    front: bool = True


def colorize(values: np.ndarray, levels: tuple[float, float], cmap: pg.ColorMap,
             empty: QColor, *, show_text: bool) -> TileData:
    """Map ``values (H, W)`` through ``cmap`` with fixed ``levels``; NaN cells become ``empty``."""
    lo, hi = levels
    finite = np.isfinite(values)
    norm = np.clip((np.where(finite, values, lo) - lo) / (hi - lo), 0.0, 1.0)
    rgba = cmap.map(norm.ravel(), mode="byte").reshape(*values.shape, -1)
    if rgba.shape[-1] == 3:
        rgba = np.concatenate([rgba, np.full((*values.shape, 1), 255, np.uint8)], axis=-1)
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    rgba[~finite] = (empty.red(), empty.green(), empty.blue(), 255)
    lum = 0.299 * rgba[..., 0] + 0.587 * rgba[..., 1] + 0.114 * rgba[..., 2]
    text = [[fmt_cell(v) if show_text else "" for v in row] for row in values.tolist()]
    return TileData(rgba, text, lum > 140)


class GridOverlay(pg.GraphicsObject):
    """Grid lines, padding marks, unreached rows/columns and cell values of one tile."""

    def __init__(self, theme: dict[str, str]) -> None:
        super().__init__()
        self.theme = theme
        self.data: TileData | None = None
        self.origin = (0.0, 0.0)
        self._rect = QRectF()

    def set_tile(self, data: TileData, origin: tuple[float, float]) -> None:
        """Show ``data`` with cell (0, 0) centred on ``origin = (x0, y0)``."""
        self.prepareGeometryChange()
        self.data = data
        self.origin = origin
        h, w = data.rgba.shape[:2]
        self._rect = QRectF(origin[0] - 0.5, origin[1] - 0.5, w, h)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-0.1, -0.1, 0.1, 0.1)

    def paint(self, p: QPainter, *args: object) -> None:
        d = self.data
        if d is None:
            return
        h, w = d.rgba.shape[:2]
        x0, y0 = self.origin[0] - 0.5, self.origin[1] - 0.5
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))  # pixels per cell
        grid = QPen(QColor(self.theme["grid"]))
        grid.setCosmetic(True)
        grid.setWidthF(1.0 if px >= 8 else 0.0)
        if px >= 4:
            p.setPen(grid)
            for i in range(h + 1):
                p.drawLine(QPointF(x0, y0 + i), QPointF(x0 + w, y0 + i))
            for j in range(w + 1):
                p.drawLine(QPointF(x0 + j, y0), QPointF(x0 + j, y0 + h))
        if d.kinds is not None and (d.kinds != 0).any():
            # Padding: a hatched veil; overhang: a dotted outline only.
            veil = QColor(self.theme["background"])
            veil.setAlpha(110)
            hatch = QBrush(QColor(self.theme["padding"]), Qt.BrushStyle.BDiagPattern)
            p.setPen(Qt.PenStyle.NoPen)
            for i, j in zip(*np.nonzero(d.kinds == 1), strict=True):
                r = QRectF(x0 + j, y0 + i, 1, 1)
                p.fillRect(r, veil)
                p.fillRect(r, hatch)
            dotted = QPen(QColor(self.theme["padding"]), 1.0, Qt.PenStyle.DotLine)
            dotted.setCosmetic(True)
            p.setPen(dotted)
            for i, j in zip(*np.nonzero(d.kinds == 2), strict=True):
                p.fillRect(QRectF(x0 + j, y0 + i, 1, 1), QColor(self.theme["background"]))
                p.drawRect(QRectF(x0 + j + 0.05, y0 + i + 0.05, 0.9, 0.9))
            # The real input's border, drawn strong.
            rows, cols = np.nonzero(d.kinds == 0)
            border = QPen(QColor(self.theme["text"]), 2.0)
            border.setCosmetic(True)
            p.setPen(border)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x0 + cols.min(), y0 + rows.min(),
                              cols.max() - cols.min() + 1, rows.max() - rows.min() + 1))
        if d.unreached_rows is not None and (len(d.unreached_rows) or len(d.unreached_cols)):
            mark = QColor(self.theme["unreached"])
            mark.setAlpha(70)
            brush = QBrush(mark, Qt.BrushStyle.FDiagPattern)
            for i in d.unreached_rows:
                p.fillRect(QRectF(x0, y0 + i, w, 1), brush)
            for j in d.unreached_cols:
                p.fillRect(QRectF(x0 + j, y0, 1, h), brush)
        if px >= 16 and d.front:
            self._paint_text(p, d, tr, px, x0, y0)

    def _paint_text(self, p: QPainter, d: TileData, tr: object, px: float, x0: float, y0: float) -> None:
        p.save()
        p.resetTransform()
        font = QFont()
        longest = max((len(s) for row in d.text for s in row), default=1) or 1
        font.setPixelSize(int(max(7, min(px * 0.42, px * 1.5 / max(longest, 2)))))
        p.setFont(font)
        dark, light = QColor("#111111"), QColor("#ffffff")
        for i, row in enumerate(d.text):
            for j, s in enumerate(row):
                if not s:
                    continue
                c = tr.map(QPointF(x0 + j + 0.5, y0 + i + 0.5))  # type: ignore[attr-defined]
                p.setPen(dark if d.dark_text[i, j] else light)
                p.drawText(QRectF(c.x() - px / 2, c.y() - px / 2, px, px), Qt.AlignmentFlag.AlignCenter, s)
        p.restore()


class CellMarks(pg.GraphicsObject):
    """Outlined cells at offsets from the item's position (a window, a cell, a receptive field).

    Moving the item with ``setPos`` moves the whole pattern: the glide.
    """

    def __init__(self, color: str, width: float = 3.0, fill_alpha: int = 60) -> None:
        super().__init__()
        self.color = QColor(color)
        self.width = width
        self.fill_alpha = fill_alpha
        self.cells: list[tuple[float, float]] = []  # (row, col) offsets
        self.labels: list[str] = []
        self.special: tuple[float, float] | None = None
        self.outline: QRectF | None = None
        self._rect = QRectF()

    def set_cells(self, cells: list[tuple[float, float]], *, labels: list[str] | None = None,
                  special: tuple[float, float] | None = None, outline: QRectF | None = None) -> None:
        """Cells as ``(row, col)`` offsets (centres); optional small labels and a marked cell."""
        self.prepareGeometryChange()
        self.cells = cells
        self.labels = labels or []
        self.special = special
        self.outline = outline
        if cells:
            rs = [c[0] for c in cells]
            cs = [c[1] for c in cells]
            self._rect = QRectF(min(cs) - 0.6, min(rs) - 0.6,
                                max(cs) - min(cs) + 1.2, max(rs) - min(rs) + 1.2)
            if outline is not None:
                self._rect = self._rect.united(outline.adjusted(-0.1, -0.1, 0.1, 0.1))
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, p: QPainter, *args: object) -> None:
        if not self.cells:
            return
        fill = QColor(self.color)
        fill.setAlpha(self.fill_alpha)
        pen = QPen(self.color, self.width)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if self.outline is not None:
            dashed = QPen(self.color, 1.5, Qt.PenStyle.DashLine)
            dashed.setCosmetic(True)
            p.setPen(dashed)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.outline)
        p.setPen(pen)
        p.setBrush(fill)
        for r, c in self.cells:
            p.drawRect(QRectF(c - 0.5, r - 0.5, 1, 1))
        if self.special is not None:
            thick = QPen(self.color, self.width * 2.2)
            thick.setCosmetic(True)
            p.setPen(thick)
            p.setBrush(Qt.BrushStyle.NoBrush)
            r, c = self.special
            p.drawEllipse(QRectF(c - 0.42, r - 0.42, 0.84, 0.84))
        if self.labels:
            tr = p.transform()
            px = float(np.hypot(tr.m11(), tr.m12()))
            if px >= 28:
                p.save()
                p.resetTransform()
                font = QFont()
                font.setPixelSize(int(max(8, px * 0.22)))
                font.setBold(True)
                p.setFont(font)
                for (r, c), s in zip(self.cells, self.labels, strict=False):
                    tl = tr.map(QPointF(c - 0.5, r - 0.5))
                    box = QRectF(tl.x() + 2, tl.y() + 1, px - 4, px * 0.3)
                    p.fillRect(box.adjusted(0, 0, 0, 0), QColor(255, 255, 255, 200))
                    p.setPen(QColor("#000000"))
                    p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, s)
                p.restore()


class Legend(pg.GraphicsObject):
    """A colour bar with its lowest and highest value, under a panel."""

    def __init__(self, theme: dict[str, str]) -> None:
        super().__init__()
        self.theme = theme
        self.colors: list[QColor] = []
        self.labels = ("", "")
        self.rect = QRectF()

    def set_legend(self, cmap: pg.ColorMap, levels: tuple[float, float], rect: QRectF,
                   labels: tuple[str, str] | None = None) -> None:
        """Show ``cmap`` from ``levels[0]`` to ``levels[1]`` in ``rect`` (scene units)."""
        self.prepareGeometryChange()
        rgba = cmap.map(np.linspace(0.0, 1.0, 64), mode="byte")
        self.colors = [QColor(*(int(v) for v in c[:3])) for c in rgba]
        self.labels = labels or (fmt_cell(levels[0]), fmt_cell(levels[1]))
        self.rect = rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.rect.adjusted(-0.5, 0, 0.5, 1.2)

    def paint(self, p: QPainter, *args: object) -> None:
        if not self.colors:
            return
        r = self.rect
        n = len(self.colors)
        p.setPen(Qt.PenStyle.NoPen)
        for k, c in enumerate(self.colors):
            p.fillRect(QRectF(r.x() + r.width() * k / n, r.y(), r.width() / n + 0.01, r.height()), c)
        tr = p.transform()
        px = float(np.hypot(tr.m11(), tr.m12()))
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPixelSize(int(min(max(10, px * 0.3), 22)))
        p.setFont(font)
        p.setPen(QColor(self.theme["text"]))
        left = tr.map(QPointF(r.left(), r.bottom()))
        right = tr.map(QPointF(r.right(), r.bottom()))
        h = font.pixelSize() * 1.6
        p.drawText(QRectF(left.x(), left.y() + 2, 200, h), Qt.AlignmentFlag.AlignLeft, self.labels[0])
        p.drawText(QRectF(right.x() - 200, right.y() + 2, 200, h), Qt.AlignmentFlag.AlignRight,
                   self.labels[1])
        p.restore()


class Tile:
    """One 2-D grid: an ``ImageItem`` for the colours and a ``GridOverlay`` on top."""

    def __init__(self, view: pg.ViewBox, theme: dict[str, str]) -> None:
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = GridOverlay(theme)
        view.addItem(self.image)
        view.addItem(self.overlay)
        self.origin = (0.0, 0.0)
        self.shape = (0, 0)

    def set(self, data: TileData, origin: tuple[float, float], z: float) -> None:
        """Show ``data`` with cell (0, 0) at ``origin``, stacked at depth ``z``."""
        h, w = data.rgba.shape[:2]
        self.origin, self.shape = origin, (h, w)
        self.image.setImage(data.rgba, autoLevels=False)
        self.image.setRect(QRectF(origin[0] - 0.5, origin[1] - 0.5, w, h))
        self.image.setZValue(z)
        self.overlay.setZValue(z + 0.1)
        self.overlay.set_tile(data, origin)
        self.set_visible(True)

    def set_visible(self, on: bool) -> None:
        """Show or hide the tile."""
        self.image.setVisible(on)
        self.overlay.setVisible(on)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """Grid cell ``(i, j)`` under scene point ``(x, y)``, or None."""
        j = int(np.floor(x - self.origin[0] + 0.5))
        i = int(np.floor(y - self.origin[1] + 0.5))
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return i, j
        return None


class SceneRenderer(pg.GraphicsLayoutWidget):
    """Draws a ``Frame``: caption, the three panels, and the step's arithmetic.

    Signals
    -------
    cell_hovered(str, int, int, int)
        Panel ("input" or "output"), channel, row, column under the mouse
        (channel -1 when the mouse leaves every cell). Input rows/columns are
        padded coordinates.
    cell_clicked(str, int, int, int)
    cell_double_clicked(str, int, int, int)
        Panel ("input", "kernel", "output"); kernel cells give ``o*C_in + c`` as channel.
    """

    cell_hovered = Signal(str, int, int, int)
    cell_clicked = Signal(str, int, int, int)
    cell_double_clicked = Signal(str, int, int, int)

    def __init__(self, parent: object = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.theme_name = theme
        self.theme = THEMES[theme]
        self.setBackground(self.theme["background"])
        self.ci.setContentsMargins(12, 8, 12, 8)
        self.caption = self.addLabel("", row=0, col=0, size="14pt", color=self.theme["text"])
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.arith = self.addLabel("", row=2, col=0, size="15pt", color=self.theme["text"])
        self.ci.layout.setRowStretchFactor(1, 10)
        for label in (self.caption, self.arith):  # text never dictates the scene's width
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cmaps = {
            "input": pg.colormap.get("cividis"),
            "kernel": pg.colormap.get("CET-CBD1"),
            "output": pg.colormap.get("viridis"),
        }
        self.tiles: dict[str, list[Tile]] = {"input": [], "kernel": [], "output": []}
        self.titles = {k: pg.TextItem(color=self.theme["text"], anchor=(0, 1)) for k in self.tiles}
        for t in self.titles.values():
            t.setFont(_font(13, bold=True))
            self.view.addItem(t)
        self.window_marks: list[CellMarks] = []
        self.out_mark = CellMarks(self.theme["output"], 4.0, 40)
        self.tap_mark = CellMarks(self.theme["output"], 4.0, 0)
        self.hover_marks = CellMarks(self.theme["hover"], 3.0, 90)
        self.hover_out = CellMarks(self.theme["hover"], 3.0, 90)
        for m in (self.out_mark, self.tap_mark, self.hover_marks, self.hover_out):
            m.setZValue(50)
            self.view.addItem(m)
        self.legends = {k: Legend(self.theme) for k in self.tiles}
        for lg in self.legends.values():
            self.view.addItem(lg)
        self._legend_boxes: dict[str, QRectF] = {}
        self.expanded = False
        self.frame: Frame | None = None
        self._glide_from: dict[int, QPointF] = {}
        self._glide_to: dict[int, QPointF] = {}
        self._glide_last: dict[int, QPointF] = {}
        self._layout_key: tuple | None = None
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)

    # ------------------------------------------------------------------ drawing
    def set_expanded(self, on: bool) -> None:
        """Show every channel side by side (True) or as a stack (False)."""
        if on != self.expanded:
            self.expanded = on
            self._layout_key = None
            if self.frame is not None:
                self.show_frame(self.frame)

    def _tiles(self, panel: str, n: int) -> list[Tile]:
        tiles = self.tiles[panel]
        while len(tiles) < n:
            tiles.append(Tile(self.view, self.theme))
        for t in tiles[n:]:
            t.set_visible(False)
        return tiles[:n]

    def _place(self, panel: str, datas: list[TileData], front: int, x0: float,
               shape: tuple[int, int], columns: int = 1) -> float:
        """Lay the tiles of one panel out from ``x0``; return the panel's right edge."""
        n = len(datas)
        h, w = shape
        tiles = self._tiles(panel, n)
        right = x0 + w
        bottom = h if not self.expanded else ((n + columns - 1) // columns) * (h + 1.0) - 1.0
        for k, (tile, data) in enumerate(zip(tiles, datas, strict=True)):
            if self.expanded:
                col, row = k % columns, k // columns
                origin = (x0 + col * (w + 1), row * (h + 1.0))
                data.front = True
                z = 0.0
            else:
                depth = (k - front) % n
                origin = (x0 + depth * STACK_SHIFT, -depth * STACK_SHIFT)
                data.front = depth == 0
                z = -depth
            tile.set(data, origin, z)
            right = max(right, origin[0] + w)
        self._legend_boxes[panel] = QRectF(x0 - 0.5, bottom - 0.5 + 0.35, w, 0.3)
        return right

    def show_frame(self, f: Frame) -> None:
        """Draw frame ``f`` (positions jump; see ``glide`` for the motion)."""
        prev = self.frame
        self.frame = f
        p = f.params
        empty = QColor(self.theme["empty"])
        step = f.step
        conv = p.is_conv
        c_in = f.x_padded.shape[0]
        # --- input
        in_datas = []
        for c in range(c_in):
            d = colorize(f.x_padded[c], f.levels["input"], self.cmaps["input"], empty,
                         show_text=f.show_values)
            d.kinds = f.kinds
            d.unreached_rows = f.unreached_rows + f.offset[0]
            d.unreached_cols = f.unreached_cols + f.offset[1]
            in_datas.append(d)
        active_in = 0 if conv else step.channel
        hp, wp = f.x_padded.shape[1:]
        right = self._place("input", in_datas, active_in, 0.0, (hp, wp))
        # --- kernel
        kx = right + GAP
        if conv:
            k = f.kernel
            k_datas = [
                colorize(k[o, c], f.levels["kernel"], self.cmaps["kernel"], empty, show_text=True)
                for o in range(k.shape[0]) for c in range(k.shape[1])
            ]
            if self.expanded:
                front = 0
            else:
                o = step.out_channel
                k_datas = k_datas[o * k.shape[1] : (o + 1) * k.shape[1]]
                front = 0
            right = self._place("kernel", k_datas, front, kx, k.shape[2:], columns=k.shape[1])
        else:
            win = np.full((p.k_h, p.k_w), np.nan)
            d = colorize(win, (0, 1), self.cmaps["kernel"], QColor(self.theme["empty"]), show_text=False)
            d.text = [[p.op] * p.k_w for _ in range(p.k_h)]
            d.dark_text = np.ones((p.k_h, p.k_w), bool)
            right = self._place("kernel", [d], 0, kx, (p.k_h, p.k_w))
        # --- output
        ox = right + GAP
        out = f.output
        o_datas = [
            colorize(out[o], f.levels["output"], self.cmaps["output"], empty, show_text=f.show_values)
            for o in range(out.shape[0])
        ]
        active_out = step.out_channel if conv else step.channel
        self._place("output", o_datas, active_out, ox, out.shape[1:])
        self._titles(f, kx, ox)
        for panel in ("input", "output"):
            self.legends[panel].set_legend(self.cmaps[panel], f.levels[panel], self._legend_boxes[panel])
        if conv:
            self.legends["kernel"].set_legend(self.cmaps["kernel"], f.levels["kernel"],
                                              self._legend_boxes["kernel"])
        else:
            self.legends["kernel"].set_legend(self.cmaps["kernel"], (0, 1), QRectF(), labels=("", ""))
            self.legends["kernel"].colors = []
        self._marks(f, prev)
        self.caption.setText(f"{OP_LABELS[p.op]} — {f.caption}")
        self.arith.setText(_html_escape(f.arithmetic).replace("\n", "<br>"))
        key = (self.expanded, f.x_padded.shape, None if f.kernel is None else f.kernel.shape,
               f.output.shape, p.op)
        if key != self._layout_key:
            self._layout_key = key
            self.view.autoRange(padding=0.04)

    def _titles(self, f: Frame, kx: float, ox: float) -> None:
        p = f.params
        c_in, h, w = p.in_c, p.in_h, p.in_w
        pad = "" if (f.kinds == 0).all() else " + padding"
        self.titles["input"].setText(f"Input {c_in}×{h}×{w}{pad}" if c_in > 1 else f"Input {h}×{w}{pad}")
        self.titles["input"].setPos(-0.5, -0.6 - (0 if self.expanded else STACK_SHIFT * (c_in - 1)))
        if p.is_conv:
            flip = " (flipped)" if p.flip_kernel else ""
            label = f"Kernel {f.step.out_channel + 1}/{p.out_c}{flip}" if p.out_c > 1 else f"Kernel{flip}"
        else:
            label = f"{p.op} window"
        self.titles["kernel"].setText(f"{label} {p.k_h}×{p.k_w}")
        self.titles["kernel"].setPos(kx - 0.5, -0.6 - (0 if self.expanded else STACK_SHIFT * (c_in - 1)))
        co, ho, wo = f.output.shape
        self.titles["output"].setText(f"Output {co}×{ho}×{wo}" if co > 1 else f"Output {ho}×{wo}")
        self.titles["output"].setPos(ox - 0.5, -0.6 - (0 if self.expanded else STACK_SHIFT * (co - 1)))

    def _marks(self, f: Frame, prev: Frame | None) -> None:
        """Window, tap and output-cell highlights for the current step."""
        step = f.step
        p = f.params
        conv = p.is_conv
        win = step.window
        rows0, cols0 = int(win.rows[0]), int(win.cols[0])
        cells = [(float(r - rows0), float(c - cols0)) for r in win.rows for c in win.cols]
        span = QRectF(-0.5, -0.5, float(win.cols[-1] - cols0 + 1), float(win.rows[-1] - rows0 + 1))
        in_tiles = [t for t in self.tiles["input"] if t.image.isVisible()]
        targets = in_tiles if self.expanded else in_tiles[:1]
        if not conv and self.expanded:
            targets = [in_tiles[step.channel]]
        elif not self.expanded:
            targets = [t for t in in_tiles if t.overlay.data is not None and t.overlay.data.front]
        while len(self.window_marks) < len(targets):
            m = CellMarks(self.theme["window"], 3.5, 45)
            m.setZValue(40)
            self.view.addItem(m)
            self.window_marks.append(m)
        labels: list[str] = []
        special = None
        for k, m in enumerate(self.window_marks):
            if k >= len(targets):
                m.set_cells([])
                continue
            if conv:
                c = k if self.expanded else 0
                labels = [f"×{fmt_cell(v)}" for v in step.weights[c].ravel()]
            elif step.chosen is not None:
                special = cells[step.chosen[0] * len(win.cols) + step.chosen[1]]
            m.set_cells(cells, labels=labels, special=special, outline=span)
            t = targets[k]
            m.setPos(QPointF(t.origin[0] + cols0, t.origin[1] + rows0))
        # output cell
        out_tiles = [t for t in self.tiles["output"] if t.image.isVisible()]
        oc = step.out_channel if conv else step.channel
        t_out = out_tiles[oc] if self.expanded else next(
            (t for t in out_tiles if t.overlay.data is not None and t.overlay.data.front), out_tiles[0])
        self.out_mark.set_cells([(0.0, 0.0)])
        self.out_mark.setPos(QPointF(t_out.origin[0] + step.out_col, t_out.origin[1] + step.out_row))
        # current tap (tap granularity)
        if conv and step.tap is not None:
            c, i, j = step.tap
            k_tiles = [t for t in self.tiles["kernel"] if t.image.isVisible()]
            idx = (step.out_channel * p.in_c + c) if self.expanded else c
            kt = k_tiles[min(idx, len(k_tiles) - 1)]
            self.tap_mark.set_cells([(float(i), float(j))])
            self.tap_mark.setPos(QPointF(kt.origin[0], kt.origin[1]))
        else:
            self.tap_mark.set_cells([])
        # glide bookkeeping: where each moving item was, and where it is now
        items = [*self.window_marks, self.out_mark]
        self._glide_to = {id(m): m.pos() for m in items}
        if prev is not None and prev.params == p:
            self._glide_from = {id(m): self._glide_last.get(id(m), m.pos()) for m in items}
        else:
            self._glide_from = dict(self._glide_to)
        self._glide_last = dict(self._glide_to)

    def glide(self, t: float) -> None:
        """Place the moving highlights at fraction ``t`` (0..1) of the way to this frame's positions."""
        t = min(max(t, 0.0), 1.0)
        s = t * t * (3 - 2 * t)  # smoothstep
        for m in [*self.window_marks, self.out_mark]:
            a = self._glide_from.get(id(m))
            b = self._glide_to.get(id(m))
            if a is None or b is None:
                continue
            m.setPos(QPointF(a.x() + (b.x() - a.x()) * s, a.y() + (b.y() - a.y()) * s))

    # ------------------------------------------------------------------ hover / pick
    def show_receptive_field(self, cells: list[tuple[int, int]], channel_tiles: str = "input") -> None:
        """Highlight padded input cells ``(row, col)`` on the front/visible input tiles."""
        tiles = [t for t in self.tiles[channel_tiles] if t.image.isVisible()]
        t = tiles[0] if tiles else None
        if t is None or not cells:
            self.hover_marks.set_cells([])
            return
        front = next((x for x in tiles if x.overlay.data is not None and x.overlay.data.front), t)
        self.hover_marks.setPos(QPointF(*front.origin))
        self.hover_marks.set_cells([(float(r), float(c)) for r, c in cells])

    def show_fed_outputs(self, cells: list[tuple[int, int]], labels: list[str] | None = None) -> None:
        """Highlight output cells ``(row, col)`` on the front output tile, with tap labels."""
        tiles = [t for t in self.tiles["output"] if t.image.isVisible()]
        if not tiles or not cells:
            self.hover_out.set_cells([])
            return
        front = next((x for x in tiles if x.overlay.data is not None and x.overlay.data.front), tiles[0])
        self.hover_out.setPos(QPointF(*front.origin))
        self.hover_out.set_cells([(float(r), float(c)) for r, c in cells], labels=labels)

    def pick(self, scene_pos: QPointF) -> tuple[str, int, int, int] | None:
        """The panel, channel index and cell under a scene position, or None."""
        v = self.view.mapSceneToView(scene_pos)
        for panel in ("output", "input", "kernel"):
            tiles = [t for t in self.tiles[panel] if t.image.isVisible()]
            ordered = sorted(enumerate(tiles), key=lambda kt: -kt[1].image.zValue())
            for k, t in ordered:
                hit = t.cell_at(v.x(), v.y())
                if hit is not None:
                    return panel, self._channel_of(panel, k), hit[0], hit[1]
        return None

    def _channel_of(self, panel: str, k: int) -> int:
        f = self.frame
        if f is None or self.expanded or (panel == "kernel" and not self.expanded):
            if panel == "kernel" and f is not None and f.params.is_conv and not self.expanded:
                return f.step.out_channel * f.params.in_c + k
            return k
        return k

    def cell_center(self, panel: str, k: int, i: int, j: int) -> QPointF:
        """Widget coordinates of the centre of cell ``(i, j)`` of tile ``k`` of ``panel``."""
        t = [x for x in self.tiles[panel] if x.image.isVisible()][k]
        sp = self.view.mapViewToScene(QPointF(t.origin[0] + j, t.origin[1] + i))
        return self.mapFromScene(sp)

    def _mouse_moved(self, pos: QPointF) -> None:
        hit = self.pick(pos)
        if hit is None:
            self.cell_hovered.emit("", -1, -1, -1)
        else:
            self.cell_hovered.emit(*hit)

    def _mouse_clicked(self, ev: object) -> None:
        hit = self.pick(ev.scenePos())  # type: ignore[attr-defined]
        if hit is None:
            return
        if ev.double():  # type: ignore[attr-defined]
            self.cell_double_clicked.emit(*hit)
        else:
            self.cell_clicked.emit(*hit)


def _font(size: int, *, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(size)
    f.setBold(bold)
    return f


def _html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
