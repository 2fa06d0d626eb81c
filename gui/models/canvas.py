"""A drawing canvas as a grid of ink: strokes with a thickness, rasterised in NumPy, no Qt.

``InkCanvas`` holds a ``(rows, cols)`` grid of ink amounts in ``[0, 1]`` (0 is
paper, 1 is full ink). A stroke is a polyline of points in grid coordinates
(``x`` along columns, ``y`` along rows, cell ``(i, j)`` covering
``[j, j+1) × [i, i+1)``); each segment is painted as a capsule of radius
``radius`` cells: a cell whose centre lies within ``radius`` of the segment is
full ink, with one cell of linear fall-off outside for a smooth edge. Ink only
grows (a cell keeps the darkest ink that reached it), so redrawing over a line
changes nothing.

The Qt widget (``gui.canvas``) turns mouse or pen positions into grid
coordinates and calls ``begin``/``extend``/``end``; the pipeline turns the
grid into a network input with ``gui.models.digits.digit_input``.
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal

__all__ = ["DEFAULT_RADIUS", "DEFAULT_SIZE", "InkCanvas", "paint_segment"]

#: Rows and columns of the drawing grid.
DEFAULT_SIZE = 128
#: Pen radius in cells: a stroke is about 1/10 of the canvas wide, as a marker on a whiteboard.
DEFAULT_RADIUS = 6.0


def paint_segment(grid: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> None:
    """Ink the capsule around the segment ``p0``–``p1`` into ``grid`` (in place, keeping the maximum).

    Parameters
    ----------
    grid : ndarray, shape (rows, cols)
        Ink amounts in ``[0, 1]``; written in place.
    p0, p1 : (x, y)
        Segment ends in grid coordinates (``x`` along columns); equal ends paint a disc.
    radius : float
        Half the stroke's width, in cells (> 0).
    """
    rows, cols = grid.shape
    (x0, y0), (x1, y1) = p0, p1
    reach = radius + 1.0
    j_lo = max(int(np.floor(min(x0, x1) - reach)), 0)
    j_hi = min(int(np.ceil(max(x0, x1) + reach)) + 1, cols)
    i_lo = max(int(np.floor(min(y0, y1) - reach)), 0)
    i_hi = min(int(np.ceil(max(y0, y1) + reach)) + 1, rows)
    if j_lo >= j_hi or i_lo >= i_hi:
        return
    cx = np.arange(j_lo, j_hi)[None, :] + 0.5  # cell centres
    cy = np.arange(i_lo, i_hi)[:, None] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    # Where along the segment each centre is nearest (0 for a dot).
    t = np.clip(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0, 1.0) if length2 > 0.0 else np.zeros((1, 1))
    dist = np.hypot(cx - (x0 + t * dx), cy - (y0 + t * dy))
    ink = np.clip(radius + 1.0 - dist, 0.0, 1.0)
    window = grid[i_lo:i_hi, j_lo:j_hi]
    np.maximum(window, ink, out=window)


class InkCanvas:
    """A grid of ink that strokes are drawn into.

    Parameters
    ----------
    rows, cols : int
        Grid size (8 to 1024 each).
    radius : float
        Pen radius in cells (0.5 to rows/4).

    Signals
    -------
    changed()
        The ink changed (a stroke grew, the canvas was cleared or loaded).
    """

    changed = Signal()

    def __init__(self, rows: int = DEFAULT_SIZE, cols: int = DEFAULT_SIZE,
                 radius: float = DEFAULT_RADIUS) -> None:
        if not (8 <= rows <= 1024 and 8 <= cols <= 1024):
            raise ValueError(f"a canvas is 8 to 1024 cells a side, got {rows}×{cols}")
        if not 0.5 <= radius <= min(rows, cols) / 4:
            raise ValueError(f"the pen radius must be from 0.5 to {min(rows, cols) / 4:g} cells, "
                             f"got {radius}")
        self.radius = float(radius)
        self._grid = np.zeros((rows, cols))
        self._last: tuple[float, float] | None = None
        self.strokes = 0

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (int(self._grid.shape[0]), int(self._grid.shape[1]))

    @property
    def picture(self) -> np.ndarray:
        """The ink ``(rows, cols)``, 0 paper to 1 ink (a read-only view)."""
        v = self._grid.view()
        v.flags.writeable = False
        return v

    def is_empty(self) -> bool:
        """True when no cell holds any ink."""
        return not self._grid.any()

    def drawing(self) -> bool:
        """True between ``begin`` and ``end``."""
        return self._last is not None

    def begin(self, x: float, y: float) -> None:
        """Put the pen down at ``(x, y)`` (grid coordinates): a dot."""
        self._last = (float(x), float(y))
        self.strokes += 1
        paint_segment(self._grid, self._last, self._last, self.radius)
        self.changed.emit()

    def extend(self, x: float, y: float) -> None:
        """Draw from the last point to ``(x, y)``; ignored when the pen is up."""
        if self._last is None:
            return
        p = (float(x), float(y))
        paint_segment(self._grid, self._last, p, self.radius)
        self._last = p
        self.changed.emit()

    def end(self) -> None:
        """Lift the pen."""
        self._last = None

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """A whole stroke through ``points`` (grid coordinates), pen down to pen up."""
        if not points:
            return
        with self.changed.blocked():
            self.begin(*points[0])
            for p in points[1:]:
                self.extend(*p)
            self.end()
        self.changed.emit()

    def clear(self) -> None:
        """Blank paper."""
        self._grid[:] = 0.0
        self._last = None
        self.strokes = 0
        self.changed.emit()

    def load(self, picture: np.ndarray) -> None:
        """Replace the ink with ``picture (h, w)`` (ink 0-1), scaled to the grid by repeating cells.

        Raises
        ------
        ValueError
            ``picture`` is not a 2-D grid of finite numbers.
        """
        a = np.asarray(picture, dtype=float)
        if a.ndim == 3 and a.shape[0] == 1:
            a = a[0]
        if a.ndim != 2 or a.size == 0 or not np.isfinite(a).all():
            raise ValueError(f"a canvas picture is a 2-D grid of finite numbers, got shape {a.shape}")
        rows, cols = self.shape
        ri = (np.arange(rows) * a.shape[0]) // rows
        ci = (np.arange(cols) * a.shape[1]) // cols
        self._grid[:] = np.clip(a[ri][:, ci], 0.0, 1.0)
        self._last = None
        self.strokes = 0
        self.changed.emit()
