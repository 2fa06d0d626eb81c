"""A transposed convolution's inserted zeros have no value of their own. On dL/dX (gather picture)
they still add up what the window sends them, so their numbers look like any cell's: each is framed
dotted, as on the stage view, and a real cell is not. Read from the painted picture."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from gui import export
from gui.models import scenario
from gui.models.lesson import Lesson
from gui.scene.theme import theme_colours


def frame_pixels(img: np.ndarray, r: object, panel: str, i: int, j: int, colour: QColor) -> int:
    """Pixels of ``colour`` along the top and left sides of a square inset in cell ``(i, j)``."""
    tile = r.visible_tiles(panel)[0]  # type: ignore[attr-defined]
    px = tile.item.sceneTransform().m11()
    c = r.cell_center(panel, 0, i, j)  # type: ignore[attr-defined]
    left, top = c.x() - px / 2, c.y() - px / 2
    y = round(top + 0.12 * px)
    x = round(left + 0.12 * px)
    band = np.concatenate([img[y - 1:y + 2, round(left + 0.2 * px):round(left + 0.8 * px)].reshape(-1, 3),
                           img[round(top + 0.2 * px):round(top + 0.8 * px), x - 1:x + 2].reshape(-1, 3)])
    want = np.array([colour.red(), colour.green(), colour.blue()])
    return int((np.abs(band - want).sum(axis=1) < 90).sum())


def test_inserted_cells_of_dl_dx_are_framed_apart_from_real_cells(offscreen_renderers) -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("transposed-padding-strides")), m.last_error
    assert m.set_params(mode="backward"), m.last_error
    r = offscreen_renderers((1400, 860))
    export.draw(r, m, 4)
    img = export.rgb(export.grab(r)).astype(int)
    g = m.frame(4).panel("dx").grids[0]
    assert g.kinds[1, 2] == 3 and g.kinds[1, 3] == 0 and g.labels[1, 2] == g.labels[1, 3] == "−2"
    padding = QColor(theme_colours("light")["padding"])
    assert frame_pixels(img, r, "dx", 1, 2, padding) >= 8  # the inserted cell: its dotted frame
    assert frame_pixels(img, r, "dx", 1, 3, padding) == 0  # a real cell with the same number: none
