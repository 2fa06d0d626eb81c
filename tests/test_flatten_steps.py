"""Flatten, stepped by hand: the cell each element reads, the vector unrolled so far, the index formula."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine import describe
from engine import network as nw
from gui.models.flatten import index_formula, unrolled

SMALL = nw.Network((1, 8, 8), (nw.Conv(2, 3), nw.Pool("max", 2), nw.Flatten(), nw.Dense(3)))


@pytest.fixture
def small(pipeline):  # type: ignore[no-untyped-def]
    """The pipeline window (conftest) with a small stack: 2×3×3 flattens into 18."""
    pipeline.model.set_network(SMALL)
    return pipeline


def test_the_index_formula_has_its_numbers() -> None:
    assert index_formula((1, 2, 0), (2, 3, 3)) == "i = c·H·W + r·W + col = 1·3·3 + 2·3 + 0 = 15"
    for c, r, col in np.ndindex(3, 4, 5):
        text = index_formula((c, r, col), (3, 4, 5))
        assert text.endswith(f" = {np.ravel_multi_index((c, r, col), (3, 4, 5))}")


def test_unrolled_keeps_what_was_read() -> None:
    v = np.arange(6.0)
    out = unrolled(v, 2)
    assert out[:3].tolist() == [0.0, 1.0, 2.0] and np.isnan(out[3:]).all() and v[5] == 5.0


def outlined(pipeline, stage: int) -> list:  # type: ignore[no-untyped-def]
    return [item.rect() for item, box in pipeline.view.flat_items if box is pipeline.view.boxes[stage]]


def test_stepping_reaches_the_right_element_cell_and_formula(small, qtbot) -> None:  # type: ignore[no-untyped-def]
    flat = 2
    volume, vector = small.model.outputs[flat], small.model.outputs[flat + 1]
    c, h, w = volume.shape
    n = c * h * w
    assert small.flatten_next.isEnabled() and small.flatten_k == -1
    for k in range(n):
        qtbot.mouseClick(small.flatten_next, Qt.MouseButton.LeftButton)
        assert small.flatten_k == k
        ci, ri, wi = (int(v) for v in np.unravel_index(k, (c, h, w)))
        text = small.field_label.text()
        assert text == (f"flatten: element {k} of {n} = x[{ci}, {ri}, {wi}] = "
                        f"{describe.fmt(float(volume[ci, ri, wi]))}   "
                        f"(i = c·H·W + r·W + col = {ci}·{h}·{w} + {ri}·{w} + {wi} = {k})")
        assert vector[k] == volume[ci, ri, wi]
        # The cell read is outlined on its map; the element it becomes, on the vector.
        (cell,) = outlined(small, flat)
        x0, y0, _, _ = small.view.tiles[flat][ci]
        assert (cell.center().x(), cell.center().y()) == (x0 + wi, y0 + ri)
        (element,) = outlined(small, flat + 1)
        assert element.center().y() == pytest.approx(k)
        # The vector is unrolled up to k: the bars after it are not drawn yet.
        widths = small.view.items[flat + 1][0].opts["width"]
        assert np.array_equal(widths[: k + 1], vector[: k + 1]) and not np.any(widths[k + 1:])
    qtbot.mouseClick(small.flatten_next, Qt.MouseButton.LeftButton)  # wraps round
    assert small.flatten_k == 0
    qtbot.mouseClick(small.flatten_back, Qt.MouseButton.LeftButton)
    assert small.flatten_k == n - 1 and small.field_label.text().endswith(f"= {n - 1})")


def test_arrow_keys_step_and_playing_then_stepping_stops_the_timer(small, qtbot) -> None:  # type: ignore[no-untyped-def]
    small.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is small, timeout=2000)
    qtbot.keyClick(small, Qt.Key.Key_Right)
    qtbot.keyClick(small, Qt.Key.Key_Right)
    assert small.flatten_k == 1
    qtbot.keyClick(small, Qt.Key.Key_Left)
    assert small.flatten_k == 0
    qtbot.mouseClick(small.flatten_button, Qt.MouseButton.LeftButton)
    assert small.flatten_timer.isActive()
    qtbot.waitUntil(lambda: small.flatten_k >= 3, timeout=3000)
    qtbot.mouseClick(small.flatten_back, Qt.MouseButton.LeftButton)
    assert not small.flatten_timer.isActive() and not small.flatten_button.isChecked()
    k = small.flatten_k
    qtbot.mouseClick(small.flatten_next, Qt.MouseButton.LeftButton)
    assert small.flatten_k == (k + 1) % 18


def test_stopping_shows_the_whole_vector_again(small, qtbot) -> None:  # type: ignore[no-untyped-def]
    vector = small.model.outputs[3]
    for _ in range(4):
        small.step_flatten(1)
    qtbot.mouseClick(small.flatten_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(small.flatten_button, Qt.MouseButton.LeftButton)
    assert small.view.flat_items == [] and small.flatten_k == -1
    assert np.array_equal(small.view.items[3][0].opts["width"], vector)


def test_a_long_vector_unrolls_in_its_folded_picture(small) -> None:  # type: ignore[no-untyped-def]
    small.model.set_network(nw.Network((1, 16, 16), (nw.Conv(2, 3), nw.Flatten())))
    vector = small.model.outputs[2]
    assert vector.size > 128
    for _ in range(30):
        small.step_flatten(1)
    side = int(np.ceil(np.sqrt(vector.size)))
    (element,) = outlined(small, 2)
    assert (element.center().x(), element.center().y()) == (29 % side, 29 // side)
    img = small.view.items[2][0].image
    empty = img[side - 1, side - 1]  # past the end of the vector: the empty colour
    assert np.array_equal(img[29 // side, 29 % side + 1], empty) and not np.array_equal(img[0, 0], empty)
