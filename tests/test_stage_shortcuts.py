"""Every main-window shortcut acts in the stage view as in the flat view: keys pressed on the stage,
effects read back from what the window shows (the step, the speed, the type size, the frame drawn)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPolygonF

from gui import export

CTRL = Qt.KeyboardModifier.ControlModifier
NONE = Qt.KeyboardModifier.NoModifier


def widget_point(r, x: float, y: float) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Widget pixel of scene point ``(x, y)`` of the stage item."""
    wp = r.mapFromScene(r.view.mapViewToScene(QPointF(x, y)))
    return wp.x(), wp.y()


def press(qtbot, win, key: Qt.Key, mod: Qt.KeyboardModifier = NONE) -> None:  # type: ignore[no-untyped-def]
    """A key pressed with the keyboard on the stage (where a lecturer's focus is)."""
    win.renderer.setFocus()
    qtbot.keyClick(win.renderer, key, mod)


@pytest.mark.parametrize("view", ["flat", "stage"])
def test_every_shortcut_acts_in_both_views(window, qtbot, settle, view: str) -> None:
    win = window
    assert win.files.open_preset("rgb-volume")
    if view == "stage":
        press(qtbot, win, Qt.Key.Key_3, CTRL)
    assert win.renderer.staged == (view == "stage")
    m = win.model
    press(qtbot, win, Qt.Key.Key_Right)
    assert m.step == 1
    settle(win)
    press(qtbot, win, Qt.Key.Key_End)
    assert m.step == m.n_steps - 1
    press(qtbot, win, Qt.Key.Key_Home)
    assert m.step == 0
    speed = win.controller.speed
    press(qtbot, win, Qt.Key.Key_Plus)
    assert win.controller.speed > speed
    press(qtbot, win, Qt.Key.Key_Minus)
    assert win.controller.speed == speed
    press(qtbot, win, Qt.Key.Key_Space)
    assert win.controller.playing
    press(qtbot, win, Qt.Key.Key_Space)
    assert not win.controller.playing
    settle(win)
    zoom = win.renderer.zoom
    press(qtbot, win, Qt.Key.Key_Equal, CTRL)
    assert win.renderer.zoom > zoom
    press(qtbot, win, Qt.Key.Key_Minus, CTRL)
    assert win.renderer.zoom == zoom
    before = win.controls.check_result.text()
    press(qtbot, win, Qt.Key.Key_G, CTRL)  # nothing selected: the check says what to do, in words
    assert win.controls.check_result.text() and win.controls.check_result.text() != before
    shown = win.renderer.frame
    press(qtbot, win, Qt.Key.Key_E, CTRL)
    assert win.renderer.frame is not shown
    if view == "flat":
        assert win.renderer.frame.expanded
    else:
        assert win.renderer.frame.spread and win.renderer.staged
    press(qtbot, win, Qt.Key.Key_E, CTRL)
    assert not win.renderer.frame.expanded and not win.renderer.frame.spread
    press(qtbot, win, Qt.Key.Key_L, CTRL)
    assert win.pipeline is not None and win.pipeline.isVisible()
    win.pipeline.close()


def test_expanding_the_stage_draws_every_channel_slab_apart_with_its_numbers(window, qtbot) -> None:
    """Ctrl+E in the stage view: the input's three slabs no longer overlap and each carries its
    numbers (stacked, only the front one could); Ctrl+E again stacks them."""
    win = window
    assert win.files.open_preset("rgb-volume")
    press(qtbot, win, Qt.Key.Key_3, CTRL)
    st = win.renderer.stage

    def rows_of_slabs() -> list[tuple[float, float]]:
        return sorted((pl.y0, pl.y0 + pl.bounds()[3]) for pl in st.layout.planes["input"])

    def inked_cells(k: int) -> int:
        """Cells of input slab ``k`` whose centre carries type (pixels far from the face's fill)."""
        img = export.rgb(export.grab(win.renderer)).astype(int)
        plane = st.layout.planes["input"][k]
        n = 0
        for i in range(1, plane.rows - 1):
            for j in range(1, plane.cols - 1):
                x, y = widget_point(win.renderer, *plane.centre(i, j))
                fx, fy = widget_point(win.renderer, *plane.point(i + 0.5, j + 0.1))
                patch = img[y - 3 : y + 4, x - 5 : x + 6]
                n += bool((np.abs(patch - img[fy, fx]).sum(axis=2) > 150).any())
        return n

    stacked = rows_of_slabs()
    assert any(a[1] > b[0] for a, b in itertools.pairwise(stacked))  # slabs overlap
    press(qtbot, win, Qt.Key.Key_E, CTRL)
    spread = rows_of_slabs()
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spread))  # one clear of the next
    assert all(inked_cells(k) == 25 for k in range(3))  # every real cell of every channel: a number
    front = st.layout.planes["input"][win.renderer.frame.panel("input").front]
    # The window's slab on top: the lines up to the output cross no other slab's numbers.
    assert front.y0 == min(pl.y0 for pl in st.layout.planes["input"]) and st.link_lines()
    faces = [QPolygonF([QPointF(*widget_point(win.renderer, *pt)) for pt in pl.quad(0, 0, pl.rows, pl.cols)])
             for box in st.layout.boxes for pl in box]
    for rect in st.index_rects.values():  # each box's number under its lowest slab, on no face
        assert not any(face.intersects(QPolygonF(rect)) for face in faces)
    press(qtbot, win, Qt.Key.Key_E, CTRL)
    assert rows_of_slabs() == stacked
