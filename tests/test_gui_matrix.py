"""Issue 13 in the window: the matrix picture chosen from the panel, laid out so that C's entries
line up with the vectors they join, and refused in words where it cannot be shown."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox


def child(win, cls, name):  # type: ignore[no-untyped-def]
    w = win.findChild(cls, name)
    assert w is not None, f"no {cls.__name__} named {name!r}"
    return w


def test_the_matrix_picture_from_the_combo_lines_x_up_with_cs_columns_and_y_with_its_rows(window) -> None:
    m = window.model
    child(window, QSpinBox, "input_h").setValue(4)
    child(window, QSpinBox, "input_w").setValue(4)
    combo = child(window, QComboBox, "drawn_as")
    assert combo.isEnabled()
    combo.setCurrentIndex(combo.findData("matrix"))
    assert m.params.drawn_as == "matrix", m.last_error
    r = window.renderer
    (c,) = r.visible_tiles("matrix")
    (x,) = r.visible_tiles("across")
    (y,) = r.visible_tiles("down")
    rows, cols = m.n_steps, 16
    assert c.shape == (rows, cols) and x.shape == (1, cols) and y.shape == (rows, 1)
    assert not r.visible_tiles("input") and not r.visible_tiles("kernel")
    # x's entry j sits right above C's column j; y's entry k right beside C's row k, at C's size.
    for j in (0, cols - 1):
        assert abs(r.cell_center("across", 0, 0, j).x() - r.cell_center("matrix", 0, 0, j).x()) < 1.0
    for k in (0, rows - 1):
        assert abs(r.cell_center("down", 0, k, 0).y() - r.cell_center("matrix", 0, k, 0).y()) < 1.0
    assert x.scale == y.scale == c.scale
    assert r.cell_center("across", 0, 0, 0).y() < r.cell_center("matrix", 0, 0, 0).y()
    assert r.cell_center("down", 0, 0, 0).x() > r.cell_center("matrix", 0, 0, cols - 1).x()
    assert "row 0 of C" in m.frame(0).caption
    # Back to the grid: the usual panels.
    combo.setCurrentIndex(combo.findData("grid"))
    assert m.params.drawn_as == "grid" and r.visible_tiles("input") and not r.visible_tiles("matrix")


def test_a_matrix_too_large_is_refused_and_the_widget_put_back(window) -> None:
    m = window.model
    assert window.files.open_preset("conv-as-matrix"), m.last_error
    spin = child(window, QSpinBox, "input_h")
    spin.setValue(9)
    assert m.params.in_h == 4 and spin.value() == 4
    assert "at most 25 rows and 36 columns" in child(window, QLabel, "error").text()
    pooling = child(window, QComboBox, "op")
    pooling.setCurrentIndex(pooling.findData("max"))
    assert m.params.op == "conv"
    assert "pooling is drawn as a grid only" in child(window, QLabel, "error").text()
    # The picture on the stage is still the 4×16 matrix.
    assert window.renderer.visible_tiles("matrix")[0].shape == (4, 16)


def test_hovering_the_matrix_lights_what_an_entry_joins(window, user) -> None:
    m = window.model
    assert window.files.open_preset("conv-as-matrix"), m.last_error
    r = window.renderer
    # An entry of x: the taps of its column of C, and the outputs it feeds, labelled with the weights.
    user.hover_cell(r, "across", 0, 5)
    assert r.hover_marks.cells == [(float(k), 5.0) for k in range(4)]
    assert r.hover_out.labels == ["×−2", "×2", "×0", "×0"]
    assert "Input cell (1, 1) feeds 4 output cells" in window.status.text()
    # An entry of y: its row's nine taps.
    user.hover_cell(r, "down", 3, 0)
    assert len(r.hover_marks.cells) == 9 and {c[0] for c in r.hover_marks.cells} == {3.0}
    assert "Output cell (1, 1) adds up 9 input cells" in window.status.text()
    # A structural zero says so.
    user.hover_cell(r, "matrix", 3, 0)
    assert "C[3,0] is a structural zero" in window.status.text()


def test_no_colour_bar_room_is_kept_under_x_which_has_none(window) -> None:
    assert window.files.open_preset("conv-as-matrix")
    r = window.renderer
    placed = r._placed
    x, c = placed["across"], placed["matrix"]
    assert not x.legend and c.legend
    gap = c.rect[1] - (x.rect[1] + x.rect[3])  # cells between x's bottom and C's top: C's title only
    title = r.titles["matrix"].textItem.boundingRect().height() * r._per_cell
    assert gap < title + 1.0


def test_the_matrix_picture_is_drawn_flat_in_the_stage_view_too(window) -> None:
    m = window.model
    assert window.files.open_preset("conv-as-matrix"), m.last_error
    assert m.set_view("stage")
    assert m.params.view == "stage" and m.frame().view == "flat"
    r = window.renderer
    assert not r.staged and r.visible_tiles("matrix")[0].shape == (4, 16)
    assert m.set_params(drawn_as="grid")
    assert m.frame().view == "stage" and r.staged
