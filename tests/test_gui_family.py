"""Issue 13 in the window: transposed convolution chosen and set up from the parameter panel."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox

import engine


def child(win, cls, name):  # type: ignore[no-untyped-def]
    w = win.findChild(cls, name)
    assert w is not None, f"no {cls.__name__} named {name!r}"
    return w


def test_transposed_convolution_from_the_combo_with_output_padding_and_both_pictures(window) -> None:
    m = window.model
    child(window, QComboBox, "op").setCurrentIndex(child(window, QComboBox, "op").findData("conv_transpose"))
    assert m.params.op == "conv_transpose", m.last_error
    child(window, QSpinBox, "stride_h").setValue(2)
    assert m.params.stride == (2, 2)
    op_h = child(window, QSpinBox, "output_padding_h")
    assert op_h.isEnabled()
    op_h.setValue(1)
    assert m.params.output_padding == (1, 1), m.last_error
    x, w = np.asarray(m.x), np.asarray(m.w).transpose(1, 0, 2, 3)
    expected = engine.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(m.run.y, expected)
    assert window.renderer.visible_tiles("output")[0].shape == expected.shape[1:]
    assert child(window, QSpinBox, "pad_top").value() == 1  # its own padding, not the spread's
    assert "Transposed convolution" in m.frame().caption
    # A refused output padding puts the spin box back and says why.
    op_h.setValue(2)
    assert m.params.output_padding == (1, 1) and op_h.value() == 1
    assert "output_padding" in child(window, QLabel, "error").text()
    view = child(window, QComboBox, "transpose_view")
    view.setCurrentIndex(view.findData("scatter"))
    assert m.params.transpose_view == "scatter" and m.frame().phase == "scatter"
    assert m.n_steps == x.size
    # Back to convolution: output padding goes, its widgets grey out.
    child(window, QComboBox, "op").setCurrentIndex(child(window, QComboBox, "op").findData("conv"))
    assert m.params.op == "conv" and m.params.output_padding == (0, 0), m.last_error
    assert not op_h.isEnabled() and not view.isEnabled()


def test_global_pooling_from_the_combo(window) -> None:
    m = window.model
    combo = child(window, QComboBox, "op")
    combo.setCurrentIndex(combo.findData("global_max"))
    assert m.params.op == "global_max", m.last_error
    assert m.n_steps == m.params.in_c
    assert window.renderer.visible_tiles("output")[0].shape == (1, 1)
    assert not child(window, QSpinBox, "kernel_h").isEnabled()
    assert "max of the whole" in m.frame().panel("kernel").title


def test_groups_from_the_spin_box_and_a_refused_value_is_put_back(window) -> None:
    m = window.model
    child(window, QSpinBox, "in_c").setValue(4)
    child(window, QSpinBox, "out_c").setValue(2)
    groups = child(window, QSpinBox, "groups")
    groups.setValue(2)
    assert m.params.groups == 2 and m.w.shape == (2, 2, 3, 3), m.last_error
    groups.setValue(3)
    assert m.params.groups == 2 and groups.value() == 2
    assert "groups must divide" in child(window, QLabel, "error").text()
    assert "group 0: channels 0–1" in m.frame().panel("kernel").title
