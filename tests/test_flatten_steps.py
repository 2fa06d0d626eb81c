"""Flatten, stepped by hand: the cell each element reads, the vector unrolled so far, the index formula."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine import describe
from engine import network as nw
from gui.models.flatten import index_formula, unrolled
from gui.pipeline import PipelineWindow

SMALL = nw.Network((1, 8, 8), (nw.Conv(2, 3), nw.Pool("max", 2), nw.Flatten(), nw.Dense(3)))


@pytest.fixture
def pipeline(qtbot):  # type: ignore[no-untyped-def]
    w = PipelineWindow()
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    w.model.set_network(SMALL)
    return w


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


def test_stepping_reaches_the_right_element_cell_and_formula(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    flat = 2
    volume, vector = pipeline.model.outputs[flat], pipeline.model.outputs[flat + 1]
    c, h, w = volume.shape
    n = c * h * w
    assert pipeline.flatten_next.isEnabled() and pipeline.flatten_k == -1
    for k in range(n):
        qtbot.mouseClick(pipeline.flatten_next, Qt.MouseButton.LeftButton)
        assert pipeline.flatten_k == k
        ci, ri, wi = (int(v) for v in np.unravel_index(k, (c, h, w)))
        text = pipeline.field_label.text()
        assert text == (f"flatten: element {k} of {n} = x[{ci}, {ri}, {wi}] = "
                        f"{describe.fmt(float(volume[ci, ri, wi]))}   "
                        f"(i = c·H·W + r·W + col = {ci}·{h}·{w} + {ri}·{w} + {wi} = {k})")
        assert vector[k] == volume[ci, ri, wi]
        # The cell read is outlined on its map; the element it becomes, on the vector.
        (cell,) = outlined(pipeline, flat)
        x0, y0, _, _ = pipeline.view.tiles[flat][ci]
        assert (cell.center().x(), cell.center().y()) == (x0 + wi, y0 + ri)
        (element,) = outlined(pipeline, flat + 1)
        assert element.center().y() == pytest.approx(k)
        # The vector is unrolled up to k: the bars after it are not drawn yet.
        widths = pipeline.view.items[flat + 1][0].opts["width"]
        assert np.array_equal(widths[: k + 1], vector[: k + 1]) and not np.any(widths[k + 1:])
    qtbot.mouseClick(pipeline.flatten_next, Qt.MouseButton.LeftButton)  # wraps round
    assert pipeline.flatten_k == 0
    qtbot.mouseClick(pipeline.flatten_back, Qt.MouseButton.LeftButton)
    assert pipeline.flatten_k == n - 1 and pipeline.field_label.text().endswith(f"= {n - 1})")


def test_arrow_keys_step_and_playing_then_stepping_stops_the_timer(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    pipeline.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is pipeline, timeout=2000)
    qtbot.keyClick(pipeline, Qt.Key.Key_Right)
    qtbot.keyClick(pipeline, Qt.Key.Key_Right)
    assert pipeline.flatten_k == 1
    qtbot.keyClick(pipeline, Qt.Key.Key_Left)
    assert pipeline.flatten_k == 0
    qtbot.mouseClick(pipeline.flatten_button, Qt.MouseButton.LeftButton)
    assert pipeline.flatten_timer.isActive()
    qtbot.waitUntil(lambda: pipeline.flatten_k >= 3, timeout=3000)
    qtbot.mouseClick(pipeline.flatten_back, Qt.MouseButton.LeftButton)
    assert not pipeline.flatten_timer.isActive() and not pipeline.flatten_button.isChecked()
    k = pipeline.flatten_k
    qtbot.mouseClick(pipeline.flatten_next, Qt.MouseButton.LeftButton)
    assert pipeline.flatten_k == (k + 1) % 18


def test_stopping_shows_the_whole_vector_again(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    vector = pipeline.model.outputs[3]
    for _ in range(4):
        pipeline.step_flatten(1)
    qtbot.mouseClick(pipeline.flatten_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pipeline.flatten_button, Qt.MouseButton.LeftButton)
    assert pipeline.view.flat_items == [] and pipeline.flatten_k == -1
    assert np.array_equal(pipeline.view.items[3][0].opts["width"], vector)


def test_a_long_vector_unrolls_in_its_folded_picture(pipeline) -> None:  # type: ignore[no-untyped-def]
    pipeline.model.set_network(nw.Network((1, 16, 16), (nw.Conv(2, 3), nw.Flatten())))
    vector = pipeline.model.outputs[2]
    assert vector.size > 128
    for _ in range(30):
        pipeline.step_flatten(1)
    side = int(np.ceil(np.sqrt(vector.size)))
    (element,) = outlined(pipeline, 2)
    assert (element.center().x(), element.center().y()) == (29 % side, 29 // side)
    img = pipeline.view.items[2][0].image
    empty = img[side - 1, side - 1]  # past the end of the vector: the empty colour
    assert np.array_equal(img[29 // side, 29 % side + 1], empty) and not np.array_equal(img[0, 0], empty)
