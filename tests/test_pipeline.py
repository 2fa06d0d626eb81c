"""The pipeline window driven as a user would: the stack list, clicks on maps, flatten, hand-off, themes.

The state's own rules (shapes, parameters, refusals, fields, flatten order,
a layer as a lesson) are tested without Qt in ``test_pipeline_core.py``; here
the window must show them. Expected shapes and parameter counts are LeNet-5's
by hand; receptive-field sizes come from ``1 + Σ (k−1)·jump``; the flatten
order is checked against ``np.unravel_index``.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QDialog, QPushButton, QSpinBox

import engine
from engine import network as nw
from gui.images import read_image, sample_path
from gui.models.choices import THEME_COLOUR_MAPS, THEME_COLOURS
from gui.pipeline import PipelineWindow
from gui.pipeline_dialog import LayerDialog
from gui.pipeline_panel import ERROR_COLOUR
from gui.scene import apply_lut

LENET_ROWS = [  # (shape after the layer, parameters) by hand
    ("6×28×28", 5 * 5 * 1 * 6 + 6), ("6×28×28", 0), ("6×14×14", 0),
    ("16×10×10", 5 * 5 * 6 * 16 + 16), ("16×10×10", 0), ("16×5×5", 0), ("400", 0),
    ("120", 16 * 5 * 5 * 120 + 120), ("120", 0), ("84", 120 * 84 + 84), ("84", 0), ("10", 84 * 10 + 10),
]


def cell_pos(view, stage: int, m: int, i: int, j: int) -> QPoint:  # type: ignore[no-untyped-def]
    """Viewport pixel at the centre of cell ``(i, j)`` of map ``m`` of ``stage``."""
    x0, y0, _h, _w = view.tiles[stage][m]
    scene = view.boxes[stage].mapViewToScene(QPointF(x0 + j, y0 + i))
    return view.mapFromScene(scene)


def click_cell(qtbot, view, stage: int, m: int, i: int, j: int) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.cell_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_pos(view, stage, m, i, j))
    assert blocker.args == [stage, m, i, j]


def click_row(qtbot, win: PipelineWindow, row: int) -> None:  # type: ignore[no-untyped-def]
    lst = win.layers
    item = lst.item(row)
    lst.scrollToItem(item)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(item).center())
    assert lst.currentRow() == row


def rf_size(layers: list[tuple[int, int]]) -> int:
    """``1 + Σ (k−1)·jump`` for ``(kernel, stride)`` pairs, first layer first."""
    rf, jump = 1, 1
    for k, s in layers:
        rf += (k - 1) * jump
        jump *= s
    return rf


# --------------------------------------------------------------------------- the stack


def test_lenet_preset_totals_and_rows(pipeline) -> None:
    assert pipeline.preset.currentText() == "LeNet-5"
    assert "61,706 parameters" in pipeline.totals.text()
    assert sum(n for _, n in LENET_ROWS) == 61_706
    assert "Input 1×32×32" in pipeline.totals.text()
    assert pipeline.layers.count() == len(LENET_ROWS)
    for k, (shape, params) in enumerate(LENET_ROWS):
        text = pipeline.layers.item(k).text()
        assert text.startswith(f"{k + 1}. ")
        assert text.endswith(f"→ {shape}" + (f" · {params:,} params" if params else "")), text
    assert pipeline.message.text() == ""
    assert len(pipeline.view.boxes) == len(LENET_ROWS) + 1  # the input and every layer's output


def test_preset_combo_switches_to_tiny_vgg_and_back(pipeline, qtbot) -> None:
    combo = pipeline.preset
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == "tiny VGG"
    vgg = 8 * 3 * 9 + 8 + 8 * 8 * 9 + 8 + 16 * 8 * 9 + 16 + 16 * 16 * 9 + 16 + 16 * 8 * 8 * 10 + 10
    assert f"{vgg:,} parameters" in pipeline.totals.text()
    assert "Input 3×32×32" in pipeline.totals.text()
    assert pipeline.model.x.shape == (3, 32, 32)
    assert pipeline.layers.item(pipeline.layers.count() - 2).text().endswith("→ 1024")
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    assert combo.currentText() == "LeNet-5"
    assert "61,706 parameters" in pipeline.totals.text()
    assert pipeline.model.x.shape == (1, 32, 32)
    # Another sample picture as the input, at the network's input size.
    pipeline.use_sample("checkerboard")
    expected = read_image(sample_path("checkerboard"), gray=True, size=(32, 32))
    np.testing.assert_array_equal(pipeline.model.x, expected)
    np.testing.assert_array_equal(pipeline.model.outputs[0], expected)
    assert pipeline.model.outputs[-1].shape == (10,)


def test_impossible_layer_is_flagged_and_fixed(pipeline, qtbot) -> None:
    second_pool = 5
    assert isinstance(pipeline.model.network.layers[second_pool], nw.Pool)
    click_row(qtbot, pipeline, second_pool)
    pipeline.insert_layer(nw.Conv(4, 9))
    bad = second_pool + 1
    m = pipeline.model
    assert m.problem is not None and m.problem.index == bad
    item = pipeline.layers.item(bad)
    assert "✗" in item.text()
    assert item.foreground().color() == QColor(ERROR_COLOUR)
    assert "9x9" in item.text() and "5×5" in item.text()
    msg = pipeline.message.text()
    assert f"layer {bad + 1}" in msg
    assert "conv 4@9x9 cannot slide over a 5×5 map" in msg
    # The layers after it are greyed (the palette's disabled text), and not counted.
    greyed = pipeline.layers.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    for k in range(bad + 1, pipeline.layers.count()):
        assert "(after the problem)" in pipeline.layers.item(k).text()
        assert pipeline.layers.item(k).foreground().color() == greyed
    assert f"{156 + 2416:,} parameters" in pipeline.totals.text()
    # Earlier stages are still drawn and computed.
    assert len(m.outputs) == bad + 1
    assert len(pipeline.view.boxes) == bad + 1
    assert m.outputs[-1].shape == (16, 5, 5)
    assert not pipeline.flatten_button.isEnabled()

    assert pipeline.layers.currentRow() == bad
    pipeline.remove_layer()
    assert m.problem is None
    assert pipeline.message.text() == ""
    assert "61,706 parameters" in pipeline.totals.text()
    assert len(pipeline.view.boxes) == 13
    assert all("✗" not in pipeline.layers.item(k).text() for k in range(pipeline.layers.count()))
    assert pipeline.flatten_button.isEnabled()

    pipeline.layers.setCurrentRow(2)  # after the first pooling: a dense layer before the flatten
    pipeline.insert_layer(nw.Dense(10))
    assert m.problem is not None and m.problem.index == 3
    assert "layer 4" in pipeline.message.text()
    assert "flatten the 6×14×14 map first" in pipeline.message.text()
    assert len(pipeline.view.boxes) == 4


def test_edit_layer_in_its_dialog(pipeline, qtbot, monkeypatch) -> None:
    def answer(dlg: LayerDialog) -> QDialog.DialogCode:
        assert dlg.fields["out_channels"].value() == 6
        assert dlg.fields["kernel"].value() == 5
        dlg.findChild(QSpinBox, "out_channels").setValue(4)
        dlg.findChild(QSpinBox, "kernel").setValue(3)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(LayerDialog, "exec", answer)
    click_row(qtbot, pipeline, 0)
    pipeline.edit_layer()
    assert pipeline.model.network.layers[0] == nw.Conv(4, 3)
    assert pipeline.layers.item(0).text() == f"1. conv 4@3x3 → 4×30×30 · {3 * 3 * 1 * 4 + 4} params"
    # 30 → 15 → conv 5: 11 → 5 (floor): the rest of the stack follows.
    assert pipeline.layers.item(3).text().startswith("4. conv 16@5x5 → 16×11×11")
    assert pipeline.model.outputs[7].shape == (16 * 5 * 5,)
    c3 = 5 * 5 * 4 * 16 + 16
    assert f"{40 + c3 + 48120 + 10164 + 850:,} parameters" in pipeline.totals.text()


def test_move_layer_up_and_down(pipeline) -> None:
    pipeline.layers.setCurrentRow(1)  # tanh after C1
    pipeline.move_layer(1)
    layers = pipeline.model.network.layers
    assert isinstance(layers[1], nw.Pool) and isinstance(layers[2], nw.Activation)
    assert pipeline.layers.currentRow() == 2
    # tanh and average pooling do not commute, so the maps change; the shapes do not.
    assert pipeline.model.outputs[3].shape == (6, 14, 14)
    pipeline.move_layer(-1)
    assert pipeline.model.network == nw.lenet5()


# --------------------------------------------------------------------------- receptive fields


def test_clicking_a_c3_cell_traces_its_receptive_field(pipeline, qtbot) -> None:
    stage = 4  # the output of C3 (layer index 3)
    predicted = rf_size([(5, 1), (2, 2), (5, 1)])
    assert predicted == 14
    click_cell(qtbot, pipeline.view, stage, 0, 4, 6)
    assert pipeline.field_sizes[0] == (predicted, predicted)
    assert pipeline.field_sizes[-1] == (1, 1)
    assert pipeline.field_sizes == [(14, 14), (10, 10), (10, 10), (5, 5), (1, 1)]
    assert "Cell (4, 6) of stage 4" in pipeline.field_label.text()
    assert "input: 14×14" in pipeline.field_label.text()
    # The outline on the input spans rows 8..21 and columns 12..25 (cell (i, j) starts at 2i, 2j).
    input_box = pipeline.view.boxes[0]
    rects = [item.rect() for item, box in pipeline.view.rf_items if box is input_box]
    assert len(rects) == 1
    r = rects[0]
    assert (r.x(), r.y(), r.width(), r.height()) == (12 - 0.5, 8 - 0.5, 14, 14)
    # Every shown map of every earlier stage gets an outline.
    assert len(pipeline.view.rf_items) == sum(len(pipeline.view.tiles[k]) for k in range(stage + 1))


def test_a_cell_before_an_impossible_layer_can_still_be_traced(pipeline, qtbot) -> None:
    pipeline.layers.setCurrentRow(5)
    pipeline.insert_layer(nw.Conv(4, 9))
    assert pipeline.model.problem is not None
    click_cell(qtbot, pipeline.view, 4, 0, 4, 6)
    assert pipeline.field_sizes == [(14, 14), (10, 10), (10, 10), (5, 5), (1, 1)]


@pytest.mark.parametrize(("stage", "m", "cell", "size"), [(1, 2, (27, 0), 5), (3, 5, (13, 13), 6)])
def test_clicking_earlier_stages(pipeline, qtbot, stage: int, m: int, cell: tuple[int, int],
                                 size: int) -> None:
    click_cell(qtbot, pipeline.view, stage, m, *cell)
    assert pipeline.field_sizes[0] == (size, size)
    assert size == rf_size([(5, 1), (2, 2)][: 1 if stage == 1 else 2])


def test_border_cell_of_a_padded_stack_is_clipped(pipeline, qtbot) -> None:
    # Two padded 3x3 convolutions, as in a VGG block, on a grid small enough to click.
    pipeline.model.set_network(nw.Network((1, 12, 12), (nw.Conv(2, 3, padding=1), nw.Activation("relu"),
                                                         nw.Conv(2, 3, padding=1))))
    stage = 3  # after the second convolution
    full = rf_size([(3, 1), (3, 1)])
    click_cell(qtbot, pipeline.view, stage, 1, 6, 5)
    assert pipeline.field_sizes[0] == (full, full)
    click_cell(qtbot, pipeline.view, stage, 0, 0, 11)
    # Rows −2..2 and columns 9..13 would be read; the input has rows 0.. and columns ..11 only.
    assert pipeline.field_sizes[0] == (full - 2, full - 2)
    assert pipeline.field_sizes[1] == (2, 2)  # and the middle stage is clipped too


def test_clicking_a_vector_stage_traces_nothing(pipeline, qtbot) -> None:
    before = pipeline.field_label.text()
    view = pipeline.view
    stage = 8  # dense 120, drawn as bars
    with qtbot.waitSignal(view.cell_clicked, timeout=1000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell_pos(view, stage, 0, 60, 0))
    assert pipeline.field_label.text() == before
    assert view.rf_items == []


# --------------------------------------------------------------------------- flatten animation


FLAT_RE = re.compile(r"flatten: element (\d+) of \d+ = x\[(\d+), (\d+), (\d+)\] = \S+\s+"
                     r"\(i = c·H·W \+ r·W \+ col = (\d+)·(\d+·\d+) \+ (\d+)·(\d+) \+ (\d+) = \d+\)")


def test_flatten_animation_follows_c_order(pipeline, qtbot) -> None:
    pipeline.model.set_network(nw.Network((1, 8, 8), (nw.Conv(2, 3), nw.Pool("max", 2), nw.Flatten(),
                                                        nw.Dense(3))))
    flat_layer = 2
    c, h, w = pipeline.model.outputs[flat_layer].shape
    assert (c, h, w) == (2, 3, 3)
    timer = pipeline.flatten_timer
    seen: list[tuple[str, tuple[float, float]]] = []

    def record() -> None:
        item, box = pipeline.view.flat_items[0]
        assert box is pipeline.view.boxes[flat_layer]
        centre = item.rect().center()
        seen.append((pipeline.field_label.text(), (centre.x(), centre.y())))

    timer.timeout.connect(record)
    button = pipeline.flatten_button
    assert button.isEnabled() and not timer.isActive()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.isChecked()
    assert timer.isActive()
    n = c * h * w
    qtbot.waitUntil(lambda: len(seen) >= n + 2, timeout=5000)
    vector = pipeline.model.outputs[flat_layer + 1]
    for step, (text, centre) in enumerate(seen):
        match = FLAT_RE.fullmatch(text)
        assert match, text
        k, ci, hi, wi, c_, hw, hi2, w_, wi2 = (int(np.prod([int(v) for v in g.split("·")]))
                                               for g in match.groups())
        assert k == step % n  # one element per tick, wrapping round
        assert (ci, hi, wi) == tuple(int(v) for v in np.unravel_index(k, (c, h, w)))
        assert (c_, hi2, wi2) == (ci, hi, wi) and hw == h * w and w_ == w
        assert c_ * hw + hi2 * w_ + wi2 == k
        assert vector[k] == pipeline.model.outputs[flat_layer][ci, hi, wi]
        x0, y0, _, _ = pipeline.view.tiles[flat_layer][ci]
        assert centre == (x0 + wi, y0 + hi)  # the outlined cell is the one read
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not button.isChecked()
    assert not timer.isActive()
    assert pipeline.view.flat_items == []
    timer.timeout.disconnect(record)
    # Closing the window stops a running animation too.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert timer.isActive()
    pipeline.close()
    assert not timer.isActive()


def test_flatten_stops_itself_when_the_stack_breaks(pipeline, qtbot) -> None:
    qtbot.mouseClick(pipeline.flatten_button, Qt.MouseButton.LeftButton)
    assert pipeline.flatten_timer.isActive()
    pipeline.layers.setCurrentRow(5)
    pipeline.insert_layer(nw.Conv(4, 9))  # impossible: the animation has nothing to read
    qtbot.waitUntil(lambda: not pipeline.flatten_timer.isActive(), timeout=1000)
    assert not pipeline.flatten_button.isChecked()


# --------------------------------------------------------------------------- hand-off to the main window


def open_in_main(qtbot, window, row: int) -> PipelineWindow:  # type: ignore[no-untyped-def]
    pw = window.show_pipeline()
    with qtbot.waitExposed(pw):
        pass
    qtbot.waitUntil(lambda: pw.is_ready)
    click_row(qtbot, pw, row)
    assert pw.open_button.isEnabled()
    with qtbot.waitSignal(pw.open_layer, timeout=1000):
        qtbot.mouseClick(pw.open_button, Qt.MouseButton.LeftButton)
    return pw


def test_open_c3_in_the_main_window(qtbot, window) -> None:
    pw = open_in_main(qtbot, window, 3)
    m = window.model
    x_in = pw.model.outputs[3]
    np.testing.assert_array_equal(m.x, x_in)
    p = m.params
    assert (p.op, p.in_c, p.in_h, p.in_w, p.out_c, p.k_h, p.k_w) == ("conv", 6, 14, 14, 16, 5, 5)
    assert p.stride == (1, 1) and p.pad_kind == "valid" and p.activation == "none" and p.mode == "forward"
    out = np.asarray(m.trace.output)
    assert out.shape == pw.model.outputs[4].shape == (16, 10, 10)
    # The main window's own trace is a convolution of what it was given ...
    np.testing.assert_allclose(out, engine.conv2d(np.array(m.x), np.array(m.w), m.bias_values), atol=1e-12)
    # ... with the pipeline's weights (to display precision), so the maps agree closely.
    w_pipe, b_pipe = pw.model.weights[3]
    np.testing.assert_allclose(m.w, w_pipe, atol=5e-4 + 1e-12)
    np.testing.assert_allclose(m.bias_values, b_pipe, atol=5e-4 + 1e-12)
    np.testing.assert_allclose(out, pw.model.outputs[4], atol=2e-2)
    assert "conv 16@5x5" in window.windowTitle()


def test_opened_layer_output_equals_the_pipeline_output(qtbot, window) -> None:
    pw = open_in_main(qtbot, window, 3)
    np.testing.assert_allclose(window.model.trace.output, pw.model.outputs[4], rtol=1e-9, atol=1e-12)


def test_open_a_pooling_layer_in_the_main_window(qtbot, window) -> None:
    pw = open_in_main(qtbot, window, 2)
    m = window.model
    np.testing.assert_array_equal(m.x, pw.model.outputs[2])
    p = m.params
    assert (p.op, p.k_h, p.k_w, p.stride) == ("avg", 2, 2, (2, 2))
    np.testing.assert_allclose(m.trace.output, pw.model.outputs[3], rtol=1e-12, atol=1e-15)
    # Average pooling by hand, on one map.
    x = pw.model.outputs[2]
    i, j = 3, 5
    window_mean = (x[1, 2 * i, 2 * j] + x[1, 2 * i, 2 * j + 1] + x[1, 2 * i + 1, 2 * j]
                   + x[1, 2 * i + 1, 2 * j + 1]) / 4
    assert m.trace.output[1, i, j] == pytest.approx(window_mean, abs=1e-12)


def test_open_button_is_disabled_for_an_activation(qtbot, pipeline) -> None:
    click_row(qtbot, pipeline, 3)
    assert pipeline.open_button.isEnabled()
    click_row(qtbot, pipeline, 1)
    assert not pipeline.open_button.isEnabled()
    click_row(qtbot, pipeline, 7)  # dense
    assert not pipeline.open_button.isEnabled()


def test_open_button_follows_the_row_left_selected_after_a_removal(qtbot, pipeline) -> None:
    click_row(qtbot, pipeline, 3)  # C3: enabled
    pipeline.remove_layer()  # row 3 is now the tanh that followed C3
    assert isinstance(pipeline.model.network.layers[pipeline.layers.currentRow()], nw.Activation)
    assert not pipeline.open_button.isEnabled()


# --------------------------------------------------------------------------- refusals and themes


def test_a_sample_that_cannot_be_read_is_reported_and_changes_nothing(pipeline, qtbot, monkeypatch,
                                                                      tmp_path) -> None:
    monkeypatch.setattr("gui.pipeline.sample_path", lambda name: tmp_path / f"{name}.png")
    x = pipeline.model.x.copy()
    pipeline.use_sample("shapes")
    assert pipeline.message.text() == "shapes.png does not exist"
    np.testing.assert_array_equal(pipeline.model.x, x)
    qtbot.mouseClick(pipeline.findChild(QPushButton, "new_weights"), Qt.MouseButton.LeftButton)
    assert pipeline.message.text() == ""  # a change that works clears it


def stage_rgba(view, stage: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(view.items[stage][0].image)


def expected_rgba(theme: str, role: str, a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return apply_lut(pg.colormap.get(THEME_COLOUR_MAPS[theme][role]), (a - lo) / (hi - lo))


def test_maps_and_bars_use_the_themes_colour_maps(pipeline) -> None:
    view, m = pipeline.view, pipeline.model
    assert pipeline.theme_name == "light"
    for theme in ("light", "colour-blind", "dark"):
        pipeline.set_theme(theme)
        colours = THEME_COLOURS[theme]
        assert view.backgroundBrush().color() == QColor(colours["background"])
        # The input in the picture map, feature maps (levels from their stage) in the output map.
        np.testing.assert_array_equal(stage_rgba(view, 0), expected_rgba(theme, "picture", m.outputs[0][0]))
        c1 = m.outputs[1]
        lo, hi = float(c1.min()), float(c1.max())
        np.testing.assert_array_equal(
            stage_rgba(view, 1),
            apply_lut(pg.colormap.get(THEME_COLOUR_MAPS[theme]["output"]), (c1[0] - lo) / (hi - lo)))
        # Dense outputs: bars coloured by sign with the diverging map's ends.
        ends = apply_lut(pg.colormap.get(THEME_COLOUR_MAPS[theme]["diverging"]), np.array([0.0, 1.0]))
        out = m.outputs[-1]
        brushes = view.items[-1][0].opts["brushes"]
        for v, brush in zip(out, brushes, strict=True):
            assert pg.mkBrush(brush).color().getRgb() == tuple(int(c) for c in ends[1 if v >= 0 else 0])
        assert view.labels[0].opts["color"] == colours["text"]
    assert not np.array_equal(expected_rgba("light", "output", m.outputs[1][0]),
                              expected_rgba("colour-blind", "output", m.outputs[1][0]))
    with pytest.raises(ValueError, match="unknown theme"):
        pipeline.set_theme("sepia")


def test_a_traced_field_survives_a_theme_switch_in_the_new_colour(pipeline, qtbot) -> None:
    click_cell(qtbot, pipeline.view, 4, 0, 4, 6)
    n = len(pipeline.view.rf_items)
    assert n > 0
    pipeline.set_theme("high-contrast")
    assert len(pipeline.view.rf_items) == n
    item, _ = pipeline.view.rf_items[0]
    assert item.pen().color() == QColor(THEME_COLOURS["high-contrast"]["window"])


def test_the_pipeline_follows_the_main_windows_theme(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.set_theme("dark")
    pw = window.show_pipeline()  # opened after the switch: starts dark
    qtbot.waitUntil(lambda: pw.is_ready)
    assert pw.theme_name == "dark"
    assert pw.view.backgroundBrush().color() == QColor(THEME_COLOURS["dark"]["background"])
    window.set_theme("colour-blind")  # switched while open: follows
    assert pw.theme_name == "colour-blind"
    assert pw.view.backgroundBrush().color() == QColor(THEME_COLOURS["colour-blind"]["background"])


def test_a_closed_pipeline_is_not_redrawn_by_a_switch_but_opens_in_it(window, monkeypatch, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: a switch redrew a closed pipeline window's every stage (~140 ms on the UI thread); now
    it takes the theme when it opens again, and looks as one opened in that theme."""
    pw = window.show_pipeline()
    qtbot.waitUntil(lambda: pw.is_ready)
    pw.close()
    redrawn: list[str] = []
    real = pw.set_theme
    monkeypatch.setattr(pw, "set_theme", lambda name: redrawn.append(name) or real(name))
    window.set_theme("dark")
    window.set_theme("high-contrast")
    assert redrawn == [] and pw.theme_name == "light"
    assert window.show_pipeline() is pw and redrawn == ["high-contrast"]
    assert pw.view.backgroundBrush().color() == QColor(THEME_COLOURS["high-contrast"]["background"])


def test_ctrl_l_shows_the_window_first_then_draws_it_as_one_built_at_once(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the first Ctrl+L built the stages and ran two forward passes in one ~160 ms turn; now the
    window shows at once, the sample digit is put on the canvas on the next turn and the stages are drawn
    with its values a slice a turn after that, and it ends as a window built in one go does, pixel for
    pixel (its dense bars were ranged on the first input's values, before the digit's)."""
    pw = window.show_pipeline()
    assert pw.isVisible() and not pw.is_ready and not pw.view.boxes
    assert pw.totals.text() == "Drawing the stages…"  # the empty window says why (not as an error)
    qtbot.waitUntil(lambda: pw.view.building, timeout=5000)
    assert pw.totals.text() == "Drawing the stages…"  # until the last slice of them is drawn
    with qtbot.waitSignal(pw.ready, timeout=10_000):
        pass
    at_once = PipelineWindow()
    qtbot.addWidget(at_once)
    assert at_once.is_ready
    with qtbot.waitExposed(at_once):
        at_once.show()
    assert pw.view.size() == at_once.view.size()
    assert pw.view.grab().toImage() == at_once.view.grab().toImage()  # the same picture, pixel for pixel
    assert pw.digits.grab().toImage() == at_once.digits.grab().toImage()
    np.testing.assert_array_equal(pw.model.x, at_once.model.x)
    assert len(pw.view.boxes) == len(at_once.view.boxes) == len(at_once.model.outputs)
    for a, b in zip(pw.model.outputs, at_once.model.outputs, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pw.digits.canvas.model.picture, at_once.digits.canvas.model.picture)
    assert (pw.totals.text(), pw.message.text()) == (at_once.totals.text(), at_once.message.text())


def test_stages_drawn_over_turns_end_as_the_stages_drawn_at_once(pipeline, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the first Ctrl+L drew every stage in one 65-127 ms turn; now a slice of them a turn
    (here one a turn), nothing painted half-built, and the picture at the end is the one drawn at once."""
    monkeypatch.setattr("gui.pipeline_view.BUILD_SLICE_S", 0.0)
    view = pipeline.view
    names, outputs = view._shown
    at_once = view.grab().toImage()
    slices: list[tuple[int, bool]] = []  # after each slice: stages drawn, the layout shown
    real = view._build_more
    monkeypatch.setattr(view, "_build_more",
                        lambda build: real(build) or slices.append((len(view.boxes), view.ci.isVisible())))
    view._structure = []  # not the same stages: built again
    with qtbot.waitSignal(view.built, timeout=10_000):
        view.show_stages(names, outputs, in_turns=True)
        assert view.building and not view.boxes and not view.ci.isVisible()  # old stages gone, no new one yet
    n = len(outputs)
    assert slices == [(k, False) for k in range(1, n + 1)] + [(n, True)]  # a stage each, then the fit
    assert not view.building
    assert view.grab().toImage() == at_once


def test_new_values_during_stages_drawn_over_turns_land_in_every_stage(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Values of the same shapes shown while a build is going on: the stages drawn already are updated,
    the others drawn with them; a new stack instead supersedes the build."""
    view = pipeline.view
    names, outputs = view._shown
    flipped = [-a for a in outputs]
    view._structure = []
    with qtbot.waitSignal(view.built, timeout=10_000):
        view.show_stages(names, outputs, in_turns=True)
        qtbot.waitUntil(lambda: 0 < len(view.boxes) < len(outputs), timeout=5000)
        view.show_stages(names, flipped)  # the same stages: only the values change
    built_in_turns = view.grab().toImage()
    view._structure = []
    view.show_stages(names, flipped)  # at once
    assert view.grab().toImage() == built_in_turns
    with qtbot.waitSignal(view.built, timeout=10_000):
        view._structure = []
        view.show_stages(names, outputs, in_turns=True)
        view.show_stages(names[:3], outputs[:3])  # another stack, at once: the build in turns is dropped
    assert not view.building and len(view.boxes) == 3
