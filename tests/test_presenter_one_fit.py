"""Presenter mode fits the stage once for its new size and type (it fitted at each of the widgets it hides,
the text zoom and the full screen: about seven fits in one turn), and a resize of the view fits once for the
view and its box (it fitted for each); the picture must be the one the fits one by one arrived at, going in
and coming back."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

import gui.scene.onefit as onefit
import gui.scene.view as scene_view
from gui.mainwindow import MainWindow


def pixels(win: MainWindow) -> np.ndarray:
    img = win.renderer.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine()).copy()


def lesson_window(qtbot, name: str, step: int, expand: bool, size: tuple[int, int]) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    with qtbot.waitExposed(win):
        win.show()
    assert win.files.open_preset(name)
    win.controller.go_to(step)
    if expand:
        win.act_expand.trigger()
    win.renderer.settle()
    return win


def presenter_pictures(qtbot, name: str, step: int, expand: bool) -> list[np.ndarray]:
    win = lesson_window(qtbot, name, step, expand, (1400, 860))
    shots = []
    for _ in range(2):  # on, then off
        win.toggle_presenter()
        qtbot.waitUntil(lambda: win.isFullScreen() == win.presenting, timeout=3000)
        win.renderer.settle()
        shots.append(pixels(win))
    win.close()
    return shots


CASES = [("conv-half-padding", 7, False), ("backprop-conv", 12, False), ("rgb-volume", 20, True),
         ("conv-as-matrix", 3, False)]


@pytest.mark.parametrize(("name", "step", "expand"), CASES)
def test_one_fit_shows_what_fitting_at_each_resize_showed(qtbot, monkeypatch, name, step, expand) -> None:
    once = presenter_pictures(qtbot, name, step, expand)
    monkeypatch.setattr(onefit, "one_fit", lambda view: contextlib.nullcontext())
    monkeypatch.setattr(scene_view, "one_fit", lambda view: contextlib.nullcontext())
    each = presenter_pictures(qtbot, name, step, expand)
    for a, b in zip(once, each, strict=True):
        assert a.shape == b.shape
        assert np.array_equal(a, b), (name, int((a != b).any(axis=1).sum()))


def test_a_held_fit_is_made_at_the_end_of_the_block(qapp) -> None:  # type: ignore[no-untyped-def]
    """Within one turn: a text zoom and a resize inside ``one_fit`` leave the stage as the same changes
    fitted one by one (nothing asked for is lost: the block fits once at its end), and fit once."""
    from gui.export import offscreen_renderer
    from gui.export.paint import draw
    from gui.models.lesson import Lesson
    from gui.models.params import Params

    m = Lesson(Params(in_c=2, out_c=3))
    shots, fits = [], []
    for hold in (True, False):
        r = offscreen_renderer((1200, 800))
        draw(r, m, 9)
        r.settle()
        calls: list[int] = []
        rounds = r._fit_rounds
        r._fit_rounds = lambda f, rounds=rounds, calls=calls: (calls.append(1), rounds(f))[1]  # type: ignore
        with onefit.one_fit(r) if hold else contextlib.nullcontext():
            r.set_theme("light", zoom=1.6)
            r.resize(1500, 900)
            r.set_theme("light", zoom=1.8)
        shots.append(r.grab().toImage())
        fits.append(len(calls))
        r.hide()
        r.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert shots[0] == shots[1]
    assert fits[0] == 1 < fits[1], fits
