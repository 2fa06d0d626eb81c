"""In presenter mode a cell's number stays clear of the window's tag over it ("+3", "×−2": the top
band of the cell) and of its corner count ("2×", bottom right): the digits of "17" ran under "+3".
The numbers' ink is read from the glyph pictures the tiles paint, at the sizes they painted them."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from gui import export
from gui.models import scenario
from gui.models.lesson import Lesson
from gui.scene import grid
from gui.scene.grid import TAG_BAND

PRESENTER_ZOOM = 1.6  # what F5 sets
GAP = 0.03  # clear space kept between a number and a tag or count (a share of the cell)


def ink_rows(s: str, dark: bool, size: int) -> tuple[float, float]:
    """Top and bottom of glyph ``s``'s ink relative to the picture's centre (where the tile puts the
    cell's centre), pixels."""
    img = grid.glyph(s, dark, size, 1.0).toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    alpha = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine() // 4, 4)[:, :w, 3]
    rows = np.nonzero((alpha > 64).any(axis=1))[0]
    return rows.min() - h / 2, rows.max() + 1 - h / 2


@pytest.mark.parametrize(("name", "changes", "step", "panel"), [
    ("conv-as-matrix", {"mode": "backward"}, 2, "dw"),  # dL/dW's cells all tagged "+3", "+0", …
    ("transposed-scatter", {}, 4, "output"),  # stamps' tags and corner counts on the output
    ("conv-half-padding", {}, 7, "input"),  # "×−2" over the window's cells
])
def test_numbers_keep_clear_of_tags_and_corner_counts(offscreen_renderers, monkeypatch, name, changes,
                                                      step, panel) -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    if changes:
        assert m.set_params(**changes), m.last_error
    r = offscreen_renderers((1920, 1080))
    r.set_theme("light", zoom=PRESENTER_ZOOM)
    painted: list[tuple[str, bool, int]] = []
    real = grid.glyph

    def record(s: str, dark: bool, size: int, dpr: float) -> object:
        painted.append((s, dark, size))
        return real(s, dark, size, dpr)

    monkeypatch.setattr(grid, "glyph", record)
    export.draw(r, m, step)
    tile = r.visible_tiles(panel)[0]
    px = tile.item.sceneTransform().m11()  # widget pixels per cell
    labels = {s for s in tile.item.render.labels.ravel().tolist() if s}
    corner = tile.item.grid.corner
    corners = set() if corner is None else {s for s in np.ravel(corner).tolist() if s}
    painted.clear()
    export.grab(r)
    numbers = [(s, dark, size) for s, dark, size in painted if s in labels and size > px * 0.3]
    counts = [(s, dark, size) for s, dark, size in painted if s in corners and size <= px * 0.3]
    assert numbers and (counts or not corners)
    # A count's picture sits on the cell's bottom edge (less a pixel): the top of its ink.
    count_top = min((px / 2 - 1 - real(s, d, z, 1.0).height() / 2 + ink_rows(s, d, z)[0]
                     for s, d, z in counts), default=px / 2)
    for s, dark, size in numbers:
        top, bottom = ink_rows(s, dark, size)
        assert top >= -px / 2 + (TAG_BAND + GAP) * px, (s, size, px, top)  # clear under the tag's band
        if counts:
            assert bottom <= count_top - GAP * px, (s, size, px, bottom, count_top)  # over the count
