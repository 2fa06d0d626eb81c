"""The main window driven as a user would: the parameter panel, pinning, editing cells."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QSpinBox

import engine
from gui.controllers import stage as stage_controller


def child(win, cls, name):  # type: ignore[no-untyped-def]
    w = win.findChild(cls, name)
    assert w is not None, f"no {cls.__name__} named {name!r}"
    return w


def naive_conv(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Zero-padded cross-correlation by plain loops, ``x (C, H, W)``, ``w (O, C, kh, kw)``."""
    c_in, h, wd = x.shape
    o_n, _, kh, kw = w.shape
    xp = np.zeros((c_in, h + 2 * pad, wd + 2 * pad))
    xp[:, pad : pad + h, pad : pad + wd] = x
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((o_n, ho, wo))
    for o in range(o_n):
        for i in range(ho):
            for j in range(wo):
                total = 0.0
                for c in range(c_in):
                    for p in range(kh):
                        for q in range(kw):
                            total += w[o, c, p, q] * xp[c, i * stride + p, j * stride + q]
                y[o, i, j] = total
    return y


def output_tile_shape(win) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return win.renderer.visible_tiles("output")[0].shape


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("stride", [2, 3])
def test_typing_a_stride_resizes_the_output(window, user, stride) -> None:
    spin_h = child(window, QSpinBox, "stride_h")
    spin_w = child(window, QSpinBox, "stride_w")
    user.type_into(spin_h, stride)
    assert (spin_h.value(), spin_w.value()) == (stride, stride)  # linked: width follows
    p = window.model.params
    assert p.stride == (stride, stride)
    expected = (
        engine.output_size(p.in_h, p.k_h, stride, (1, 1)),
        engine.output_size(p.in_w, p.k_w, stride, (1, 1)),
    )
    assert window.model.trace.out_shape[1:] == expected
    assert window.model.frame().panel("output").grids[0].shape == expected
    assert window.renderer.tiles["output"][0].shape == expected
    assert output_tile_shape(window) == expected
    assert window.model.n_steps == expected[0] * expected[1]
    assert window.playback.slider.maximum() == window.model.n_steps - 1


def test_unlinked_stride_changes_one_axis(window, user) -> None:
    editor = window.controls.stride
    editor.link.click()
    assert not editor.link.isChecked()
    user.type_into(child(window, QSpinBox, "stride_w"), 2)
    assert window.model.params.stride == (1, 2)
    assert window.model.trace.out_shape[1:] == (5, engine.output_size(5, 3, 2, 1))
    assert output_tile_shape(window) == (5, 3)


# --------------------------------------------------------------------------- refused input
def test_impossible_kernel_is_refused_in_plain_words_and_then_fixed(window, user) -> None:
    error = child(window, QLabel, "error")
    assert not error.isVisible()
    pad_kind = child(window, QComboBox, "pad_kind")
    pad_kind.setCurrentIndex(pad_kind.findText("valid"))
    assert window.model.params.pad_kind == "valid"
    valid_params, valid_trace = window.model.params, window.model.trace
    assert output_tile_shape(window) == (3, 3)

    user.type_into(child(window, QSpinBox, "kernel_h"), 7)
    assert error.isVisible()
    assert "larger than" in error.text()
    assert window.model.last_error in error.text()
    assert window.model.params == valid_params
    assert window.model.trace is valid_trace
    assert output_tile_shape(window) == (3, 3)
    assert window.renderer.frame.params == valid_params

    user.type_into(child(window, QSpinBox, "kernel_h"), 5)
    assert not error.isVisible()
    assert window.model.params.k_h == window.model.params.k_w == 5
    assert window.model.trace.out_shape[1:] == (1, 1)
    assert output_tile_shape(window) == (1, 1)


def test_same_padding_with_stride_two_is_refused(window, user) -> None:
    error = child(window, QLabel, "error")
    pad_kind = child(window, QComboBox, "pad_kind")
    pad_kind.setCurrentIndex(pad_kind.findText("same"))
    before = window.model.params
    assert before.pad_kind == "same"
    user.type_into(child(window, QSpinBox, "stride_h"), 2)
    assert error.isVisible()
    assert "needs stride 1" in error.text()
    assert window.model.params == before
    assert output_tile_shape(window) == (5, 5)
    # The refused value does not stay in the widgets: they show the lesson's stride again.
    assert child(window, QSpinBox, "stride_h").value() == 1
    assert child(window, QSpinBox, "stride_w").value() == 1
    user.type_into(child(window, QSpinBox, "input_h"), 6)  # the next accepted change clears the message
    assert window.model.params.in_h == 6
    assert not error.isVisible()


@pytest.mark.parametrize(("widget", "cls", "value", "name"), [
    ("op", QComboBox, "max", "op"),  # max pooling with "same" padding
    ("kernel_h", QSpinBox, 7, "k_h"),  # a 7x7 kernel on a 5x5 input without padding
])
def test_a_refused_change_puts_the_widget_back(window, user, widget, cls, value, name) -> None:
    pad_kind = child(window, QComboBox, "pad_kind")
    pad_kind.setCurrentIndex(pad_kind.findText("same" if name == "op" else "valid"))
    before = window.model.params
    w = child(window, cls, widget)
    if cls is QComboBox:
        w.setCurrentIndex(w.findData(value))
        assert w.currentData() == before.op
    else:
        user.type_into(w, value)
        assert w.value() == getattr(before, name)
    assert window.model.params == before
    assert child(window, QLabel, "error").isVisible()


# --------------------------------------------------------------------------- operations
@pytest.mark.parametrize(("op", "marker"), [("conv", "\u00b7"), ("max", "max("), ("min", "min("),
                                            ("avg", "/ ")])
def test_each_operation_from_the_combo(window, op, marker) -> None:
    combo = child(window, QComboBox, "op")
    if op == "conv":  # start elsewhere so that choosing it is a real change
        combo.setCurrentIndex(combo.findData("max"))
    combo.setCurrentIndex(combo.findData(op))
    assert window.model.params.op == op
    assert marker in window.model.frame().arithmetic
    assert marker in window.renderer.arith.text
    others = {"max(", "min("} - {marker}
    assert not any(o in window.renderer.arith.text for o in others)


def test_pooling_arithmetic_shows_the_engine_result(window) -> None:
    combo = child(window, QComboBox, "op")
    combo.setCurrentIndex(combo.findData("max"))
    x = np.array(window.model.x)
    expected = engine.pool2d(x, 3, op="max", stride=1, padding=1)
    np.testing.assert_allclose(window.model.trace.output, expected)
    first = engine.describe.fmt(expected[0, 0, 0])
    assert window.renderer.arith.text.endswith(f"= {first}")


def test_expand_channels_shows_the_expanded_frame(window, qtbot, settle) -> None:
    m = window.model
    assert m.set_params(in_c=3, out_c=2)
    assert not window.renderer.expanded and len(window.renderer.visible_tiles("kernel")) == 3
    window.act_expand.trigger()
    f = window.renderer.frame
    assert f.expanded and f is m.frame(expanded=True)
    assert len(window.renderer.visible_tiles("kernel")) == 6 == len(f.panel("kernel").grids)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(window)
    assert window.renderer.frame is m.frame(expanded=True) and window.renderer.frame.step_index == 1
    window.act_expand.trigger()
    assert not window.renderer.expanded and len(window.renderer.visible_tiles("kernel")) == 3


# --------------------------------------------------------------------------- pin and hover
def test_clicking_an_output_cell_pins_its_receptive_field(window, user) -> None:
    r = window.renderer
    g = window.model.trace.geometry
    i, j = 2, 3
    user.click_cell(r, "output", i, j)
    assert window.stage.pinned == (i, j)
    rows, cols = g.window(i, j)
    pinned_cells = [(float(a), float(b)) for a in rows for b in cols]
    assert r.hover_marks.cells == pinned_cells
    assert (r.hover_marks.pos().x(), r.hover_marks.pos().y()) == r.front_tile("input").origin
    assert "pinned" in window.status.text()

    # Hovering elsewhere does not move a pinned field.
    user.hover_cell(r, "output", 0, 0)
    user.hover_cell(r, "input", 4, 1)
    assert window.stage.pinned == (i, j)
    assert r.hover_marks.cells == pinned_cells

    # Clicking the same cell again releases it; hovering works again.
    user.click_cell(r, "output", i, j)
    assert window.stage.pinned is None
    assert r.hover_marks.cells == []
    user.hover_cell(r, "output", 0, 1)
    rows, cols = g.window(0, 1)
    assert r.hover_marks.cells == [(float(a), float(b)) for a in rows for b in cols]


def test_pinned_field_survives_stepping_and_escape_releases_it(window, user, qtbot, settle) -> None:
    r = window.renderer
    user.click_cell(r, "output", 1, 1)
    cells = list(r.hover_marks.cells)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(window)
    assert window.model.step == 1
    assert window.stage.pinned == (1, 1)
    assert r.hover_marks.cells == cells
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.stage.pinned is None
    assert r.hover_marks.cells == []


def test_parameter_change_that_drops_the_pin_also_clears_its_status(window, user) -> None:
    user.click_cell(window.renderer, "output", 1, 1)
    assert "pinned" in window.status.text()
    combo = child(window, QComboBox, "op")
    combo.setCurrentIndex(combo.findData("max"))
    assert window.stage.pinned is None
    assert window.renderer.hover_marks.cells == []
    assert "pinned" not in window.status.text()


# --------------------------------------------------------------------------- editing
def test_double_clicking_an_input_cell_edits_it(window, user, monkeypatch) -> None:
    asked: list[tuple] = []

    def get_double(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(args)
        return 42.0, True

    monkeypatch.setattr(stage_controller.QInputDialog, "getDouble", staticmethod(get_double))
    m = window.model
    before = np.array(m.x)
    w = np.array(m.w)
    # Padded (2, 3) is the real input cell (1, 2) under the default padding of 1.
    user.double_click_cell(window.renderer, "input", 2, 3)
    assert len(asked) == 1
    assert asked[0][3] == before[0, 1, 2]  # the dialog starts at the old value
    expected_x = before.copy()
    expected_x[0, 1, 2] = 42.0
    np.testing.assert_array_equal(m.x, expected_x)
    np.testing.assert_allclose(m.trace.output, naive_conv(expected_x, w, stride=1, pad=1))
    np.testing.assert_allclose(m.trace.output, engine.conv2d(expected_x, w, padding=1))
    # The picture follows: the frame the renderer shows carries the new value.
    assert window.renderer.frame.x_padded[0, 2, 3] == 42.0


def test_cancelled_edit_changes_nothing(window, user, monkeypatch) -> None:
    monkeypatch.setattr(stage_controller.QInputDialog, "getDouble",
                        staticmethod(lambda *a, **k: (7.0, False)))
    before = np.array(window.model.x)
    trace = window.model.trace
    user.double_click_cell(window.renderer, "input", 1, 1)
    np.testing.assert_array_equal(window.model.x, before)
    assert window.model.trace is trace


def test_double_clicking_padding_does_not_edit(window, user, monkeypatch) -> None:
    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("no dialog for a padding cell")

    monkeypatch.setattr(stage_controller.QInputDialog, "getDouble", staticmethod(refuse))
    trace = window.model.trace
    user.double_click_cell(window.renderer, "input", 0, 0)
    assert window.model.trace is trace
    assert "padding" in window.status.text().lower()


def test_editing_a_flipped_kernel_cell_edits_the_weight_shown(window, user, monkeypatch) -> None:
    window.controls.flip.click()
    assert window.model.params.flip_kernel
    monkeypatch.setattr(stage_controller.QInputDialog, "getDouble", staticmethod(lambda *a, **k: (9.0, True)))
    user.double_click_cell(window.renderer, "kernel", 0, 1)
    assert window.model.w[0, 0, 2, 1] == 9.0  # the screen shows the kernel flipped
    assert window.renderer.frame.kernel[0, 0, 0, 1] == 9.0
    x, w = np.array(window.model.x), np.array(window.model.w)
    np.testing.assert_allclose(window.model.trace.output,
                               naive_conv(x, w[:, :, ::-1, ::-1], stride=1, pad=1))


def test_the_control_panel_fits_its_column_whatever_the_operation(window) -> None:
    """A long choice (the transposed convolution's picture) must not widen the panel past its column,
    where the right half of every control would be cut off (the column has no horizontal scroll bar)."""
    for name in ("transposed-padding-strides", "depthwise", "global-max-pool", "backprop-conv"):
        assert window.files.open_preset(name)
        QApplication.processEvents()
        assert window.controls.minimumSizeHint().width() <= window.scroll.viewport().width(), name


# --------------------------------------------------------------------------- repaints
def test_new_values_repaint_no_spin_box_and_new_settings_show_in_them(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: a change of values leaves the panel's settings as they were, so none of its 17 spin boxes
    is repainted with the new picture (Qt repaints one at every ``setValue``, ~1 ms for all); a new
    setting still shows, and a half-typed text is put back to the lesson's value by any change."""
    from PySide6.QtCore import QEvent, QObject

    painted: list[str] = []

    class Painted(QObject):
        def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
            if ev.type() == QEvent.Type.Paint:
                painted.append(obj.objectName() if isinstance(obj, QSpinBox) else "stage")
            return False

    spins = window.controls.findChildren(QSpinBox)
    assert len(spins) >= 17
    spy = Painted()
    watched = [*spins, window.renderer.viewport()]
    for w in watched:
        w.installEventFilter(spy)
    try:
        size = child(window, QSpinBox, "input_h")
        size.update()  # a repaint of a spin box reaches the filter
        qtbot.waitUntil(lambda: "input_h" in painted)
        painted.clear()
        assert window.model.set_params(seed=11)
        qtbot.waitUntil(lambda: "stage" in painted)  # the new picture, painted with whatever else was dirty
        assert painted == ["stage"]
        assert window.model.set_params(in_h=20)
        qtbot.waitUntil(lambda: "input_h" in painted)
        assert size.value() == 20 and size.text() == "20"
        size.lineEdit().setText("7")  # typed, not entered
        assert window.model.set_params(seed=12)
        assert size.value() == 20 and size.text() == "20"
    finally:
        for w in watched:
            w.removeEventFilter(spy)
