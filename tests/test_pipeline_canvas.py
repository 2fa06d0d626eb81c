"""The pipeline window's digit panel driven as a user would: strokes as mouse events, bars read back.

Digits are drawn on the canvas widget with pytest-qt mouse presses, moves
and releases; the trained LeNet-5 must read them (these tests need the
shipped weights and say so when they are missing). The bars' words are read
back from the widget and compared with the probabilities computed here; the
saliency picture with the gradient of the class score.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPointingDevice, QTabletEvent

from engine import network as nw
from gui.canvas import CanvasWidget
from gui.models import digits
from gui.models.prediction import class_gradient, percent

needs_weights = pytest.mark.skipif(not digits.is_trained(),
                                   reason="the trained LeNet-5 weights are not shipped")


def pixel(canvas: CanvasWidget, x: float, y: float) -> QPoint:
    """The widget pixel over grid point ``(x, y)`` (column, row)."""
    r = canvas.paper()
    rows, cols = canvas.model.shape
    return QPoint(round(r.left() + x / cols * r.width()), round(r.top() + y / rows * r.height()))


def draw(qtbot, canvas: CanvasWidget, points: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    """One stroke through ``points`` (grid coordinates) as a mouse press, moves and a release."""
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(canvas, left, pos=pixel(canvas, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, pixel(canvas, *p))
    qtbot.mouseRelease(canvas, left, pos=pixel(canvas, *points[-1]))


def line(a: tuple[float, float], b: tuple[float, float], n: int = 12) -> list[tuple[float, float]]:
    return [(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for t in np.linspace(0, 1, n)]


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48) -> list[tuple[float, float]]:
    return [(cx + rx * np.sin(t), cy - ry * np.cos(t)) for t in np.linspace(0, 2 * np.pi, n)]


STROKES: dict[int, list[list[tuple[float, float]]]] = {
    1: [line((64, 14), (62, 114))],
    0: [ellipse(64, 64, 30, 46)],
    7: [line((30, 20), (98, 20)) + line((98, 20), (52, 112))[1:], line((50, 66), (88, 66))],
    4: [line((78, 14), (30, 76)) + line((30, 76), (100, 76))[1:], line((80, 40), (80, 116))],
}


# --------------------------------------------------------------------------- drawing is classified


#: A 7 without a bar: scikit-learn's writers barred theirs (weights before the stroke thickening and
#: elastic augmentation read this as a 3).
PLAIN_SEVEN = [line((30, 20), (98, 20)) + line((98, 20), (52, 112))[1:]]


@needs_weights
@pytest.mark.parametrize(("digit", "strokes"), [
    *((d, s) for d, s in STROKES.items()),
    pytest.param(7, PLAIN_SEVEN, id="7-without-a-bar"),
])
def test_a_digit_drawn_with_the_mouse_is_read_by_the_trained_lenet5(pipeline, qtbot, digit: int,
                                                                   strokes: list) -> None:  # type: ignore[type-arg]
    qtbot.mouseClick(pipeline.digits.clear_button, Qt.MouseButton.LeftButton)
    canvas = pipeline.digits.canvas
    assert canvas.model.is_empty() and not pipeline.model.x.any()
    for stroke in strokes:
        draw(qtbot, canvas, stroke)
    x = digits.digit_input(np.array(canvas.model.picture))
    np.testing.assert_array_equal(pipeline.model.x, x)  # the network runs on the drawing
    p = digits.probabilities(x)
    assert int(np.argmax(p)) == digit, p.round(3)
    texts = pipeline.digits.bars.texts()
    assert texts[digit] == (str(digit), percent(float(p[digit])), True)
    assert pipeline.digits.headline.text() == f"LeNet-5 reads {digit} ({percent(float(p[digit]))})"


def test_the_window_opens_on_the_trained_lenet5_with_a_sample_on_the_canvas(pipeline) -> None:
    m = pipeline.model
    assert pipeline.weights_kind.currentText() == "trained" and m.trained_layers == 12
    assert pipeline.weights_label.text() == m.weights_text()
    if pipeline.digits.samples:  # a held-out 7 to start from
        assert not pipeline.digits.canvas.model.is_empty()
        np.testing.assert_array_equal(m.x, digits.digit_input(np.array(pipeline.digits.canvas.model.picture)))


def test_the_bars_read_back_as_the_softmax_of_the_last_layer(pipeline, qtbot) -> None:
    qtbot.mouseClick(pipeline.digits.clear_button, Qt.MouseButton.LeftButton)
    draw(qtbot, pipeline.digits.canvas, STROKES[7][0])
    scores = pipeline.model.outputs[-1]
    p = np.exp(scores - scores.max())
    p /= p.sum()
    win = int(np.argmax(p))
    assert pipeline.digits.bars.texts() == [(str(k), percent(float(v)), k == win) for k, v in enumerate(p)]


# --------------------------------------------------------------------------- controls


def test_clear_blanks_the_canvas_and_the_input(pipeline, qtbot) -> None:
    draw(qtbot, pipeline.digits.canvas, STROKES[1][0])
    assert pipeline.model.x.any()
    qtbot.mouseClick(pipeline.digits.clear_button, Qt.MouseButton.LeftButton)
    assert pipeline.digits.canvas.model.is_empty() and not pipeline.model.x.any()
    assert pipeline.digits.headline.text() == "Draw a digit on the canvas"


def test_a_sample_picture_as_input_wipes_the_canvas_and_drawing_takes_over_again(pipeline, qtbot) -> None:
    draw(qtbot, pipeline.digits.canvas, STROKES[1][0])
    pipeline.use_sample("digit")
    assert pipeline.digits.canvas.model.is_empty() and pipeline.model.x.any()
    assert pipeline.digits.headline.text() != "Draw a digit on the canvas"
    draw(qtbot, pipeline.digits.canvas, STROKES[0][0])
    np.testing.assert_array_equal(pipeline.model.x,
                                  digits.digit_input(np.array(pipeline.digits.canvas.model.picture)))


@pytest.mark.skipif(not digits.sample_digits(), reason="no sample digits are shipped")
def test_a_sample_digit_goes_on_the_canvas_and_into_the_network(pipeline, qtbot) -> None:
    label, picture = digits.sample_digits()[3]
    box = pipeline.digits.sample
    box.setCurrentIndex(4)
    box.activated.emit(4)
    assert box.currentIndex() == 0  # the combo is a menu of starts
    drawn = np.array(pipeline.digits.canvas.model.picture)
    np.testing.assert_allclose(drawn[::4, ::4], np.clip(picture, 0, 1))
    np.testing.assert_array_equal(pipeline.model.x, digits.digit_input(drawn))
    assert f"a {label}" in box.itemText(4)


def test_random_weights_are_a_choice_in_the_window(pipeline, qtbot) -> None:
    trained_scores = pipeline.model.outputs[-1].copy()
    pipeline.weights_kind.setCurrentText("random")
    pipeline.weights_kind.activated.emit(1)
    m = pipeline.model
    assert m.weights_kind == "random" and m.trained_layers == 0
    np.testing.assert_array_equal(m.weights[0][0], nw.lenet5().init_weights(m.seed)[0][0])
    assert pipeline.weights_label.text() == f"Random weights (seed {m.seed})"
    assert "random" in pipeline.digits.kernels_title.text()
    if digits.is_trained():  # the stand-in for missing weights is seed 0's random weights
        assert not np.allclose(m.outputs[-1], trained_scores)
    assert pipeline.digits.headline.text().startswith("the network reads ")
    pipeline.weights_kind.setCurrentText("trained")
    pipeline.weights_kind.activated.emit(0)
    np.testing.assert_allclose(m.outputs[-1], trained_scores)


def test_new_weights_turn_the_choice_to_random(pipeline, qtbot) -> None:
    qtbot.mouseClick(pipeline.findChild(type(pipeline.open_button), "new_weights"), Qt.MouseButton.LeftButton)
    assert pipeline.weights_kind.currentText() == "random" and pipeline.model.seed == 1


def test_the_saliency_picture_is_the_gradient_of_the_chosen_class(pipeline, qtbot) -> None:
    draw(qtbot, pipeline.digits.canvas, STROKES[7][0])
    m, panel = pipeline.model, pipeline.digits
    win = m.prediction().winner  # type: ignore[union-attr]
    assert panel.saliency.saliency.target == win and f"d score[{win}]" in panel.saliency_title.text()
    panel.target.setCurrentText("3")
    panel.target.activated.emit(4)
    g = class_gradient(m.network, m.weights, m.outputs, 3)[0]
    np.testing.assert_array_equal(panel.saliency.saliency.picture, g)
    rgba = panel.saliency.rgba()
    assert rgba is not None and rgba.shape == (32, 32, 4)
    # Cells with the largest positive and negative gradient take the two ends of the diverging map.
    lut = panel.saliency.cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
    top, bottom = np.unravel_index(np.argmax(g), g.shape), np.unravel_index(np.argmin(g), g.shape)
    if g.max() == -g.min():
        np.testing.assert_array_equal(rgba[top][:3], lut[-1][:3])
    assert np.abs(rgba[top][:3].astype(int) - rgba[bottom][:3].astype(int)).sum() > 100


def test_c1_kernels_are_drawn_as_six_5x5_tiles(pipeline) -> None:
    tiles = pipeline.digits.kernels.tiles()
    assert len(tiles) == 6 and all(abs(t.width() - t.height()) < 1e-6 for t in tiles)
    np.testing.assert_array_equal(pipeline.digits.kernels.data.kernels, pipeline.model.weights[0][0][:, 0])


@needs_weights
def test_c1_opens_in_the_main_window_with_trained_weights_and_the_drawn_input(qtbot, window) -> None:
    pw = window.show_pipeline()
    qtbot.waitUntil(lambda: pw.is_ready)  # the sample is on the canvas (it would replace the drawing)
    qtbot.mouseClick(pw.digits.clear_button, Qt.MouseButton.LeftButton)
    draw(qtbot, pw.digits.canvas, STROKES[0][0])
    pw.layers.setCurrentRow(0)
    qtbot.mouseClick(pw.open_button, Qt.MouseButton.LeftButton)
    m = window.model
    _, trained = digits.trained_lenet5()
    np.testing.assert_array_equal(m.x, pw.model.x)
    np.testing.assert_array_equal(m.w, trained[0][0])
    np.testing.assert_array_equal(m.bias_values, trained[0][1])
    np.testing.assert_allclose(m.trace.output, pw.model.outputs[1], rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- never stalls


def test_the_network_runs_at_most_once_per_interval_while_drawing(pipeline, qtbot) -> None:
    canvas = pipeline.digits.canvas
    runs: list[int] = []
    pipeline.model.changed.connect(lambda: runs.append(1))
    canvas._throttle.setInterval(60_000)  # nothing may run before the pen lifts
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(canvas, left, pos=pixel(canvas, 20, 20))
    for x in range(21, 110, 2):
        qtbot.mouseMove(canvas, pixel(canvas, x, x))
    assert runs == [] and canvas.model.picture[100, 100] == 1.0  # the ink is there at once
    qtbot.mouseRelease(canvas, left, pos=pixel(canvas, 110, 110))
    assert runs == [1]


def test_the_network_reruns_while_the_pen_is_still_down(pipeline, qtbot) -> None:
    canvas = pipeline.digits.canvas
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(canvas, left, pos=pixel(canvas, 64, 20))
    qtbot.mouseMove(canvas, pixel(canvas, 64, 100))
    with qtbot.waitSignal(pipeline.model.changed, timeout=2000):
        pass
    np.testing.assert_array_equal(pipeline.model.x, digits.digit_input(np.array(canvas.model.picture)))
    qtbot.mouseRelease(canvas, left, pos=pixel(canvas, 64, 100))


def test_a_pen_falls_back_to_mouse_events(pipeline) -> None:
    canvas = pipeline.digits.canvas
    ev = QTabletEvent(QTabletEvent.Type.TabletPress, QPointingDevice.primaryPointingDevice(), QPointF(50, 50),
                      QPointF(50, 50), 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier,
                      Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
    ev.accept()
    canvas.tabletEvent(ev)
    assert not ev.isAccepted()  # so Qt sends it again as a mouse press


def test_the_digit_panel_follows_the_theme(pipeline) -> None:
    pipeline.set_theme("dark")
    assert pipeline.digits.bars.theme["background"] == "#1e1f22"
    img = pipeline.digits.bars.grab().toImage()
    assert img.pixelColor(2, 2) == QColor("#1e1f22")
