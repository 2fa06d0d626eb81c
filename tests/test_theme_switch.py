"""Issue 12 on a theme switch: a big lesson's grids are coloured in a worker while the stage keeps its
picture; what lands is the picture a switch on the UI thread paints, in fresh colours, and a newer
switch drops an older one. (``BACKGROUND_CELLS`` is lowered so a small lesson takes the worker's path.)"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtGui import QImage

from gui.controllers import theme as theme_ctl
from gui.mainwindow import MainWindow
from gui.models.params import Params
from gui.scene import colour
from tests.test_big_turns import _shows_fresh_colours

PARAMS = Params(in_c=3, out_c=2, in_h=24, in_w=24, mode="backward")


def shown(qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(PARAMS)
    qtbot.addWidget(win)
    win.resize(1100, 700)
    with qtbot.waitExposed(win):
        win.show()
    win.model.set_step(win.model.n_forward + 7)
    return win


def picture(win: MainWindow) -> QImage:
    return win.renderer.grab().toImage()


def on_ui_thread(calls: list[int]):  # type: ignore[no-untyped-def]
    real = colour.paint_rows

    def paint_rows(rows, *a):  # type: ignore[no-untyped-def]
        if threading.current_thread() is threading.main_thread():
            calls.append(rows.size)
        return real(rows, *a)

    return paint_rows


def test_a_big_lesson_keeps_its_picture_until_the_worker_coloured_it_then_paints_the_same_as_at_once(
        qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    at_once = shown(qtbot)
    at_once.set_theme("dark")  # small: switched on the UI thread, as before
    assert at_once.renderer.theme_name == "dark" and not at_once.themes.busy
    want = picture(at_once)
    at_once.close()

    monkeypatch.setattr(theme_ctl, "BACKGROUND_CELLS", 0)
    win = shown(qtbot)
    before = picture(win)
    coloured: list[int] = []
    monkeypatch.setattr(colour, "paint_rows", on_ui_thread(coloured))
    win.theme_actions["dark"].trigger()
    assert win.themes.busy and win.themes.name == "dark" and win.renderer.theme_name == "light"
    assert win.theme_actions["dark"].isChecked()
    assert picture(win) == before  # the last picture stays while the worker colours
    qtbot.waitUntil(lambda: not win.themes.busy, timeout=5000)
    assert win.renderer.theme_name == "dark" and coloured == []  # nothing coloured on the UI thread
    _shows_fresh_colours(win.renderer, win.renderer.frame)
    assert picture(win) == want != before


def test_a_newer_switch_drops_the_older_and_a_step_meanwhile_is_coloured_fresh(
        qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(theme_ctl, "BACKGROUND_CELLS", 0)
    win = shown(qtbot)
    themes: list[str] = []
    real = win.renderer.set_theme
    monkeypatch.setattr(win.renderer, "set_theme",
                        lambda name, *a, **k: themes.append(name) or real(name, *a, **k))
    win.set_theme("dark")
    win.set_theme("high-contrast")
    win.model.set_step(win.model.step + 1)  # a new frame: the worker coloured the one before it
    qtbot.waitUntil(lambda: not win.themes.busy, timeout=5000)  # one worker, in order: the older's
    # result (if it ran) was delivered before this one's
    assert themes == ["high-contrast"] and win.renderer.theme_name == "high-contrast"
    _shows_fresh_colours(win.renderer, win.renderer.frame)
    win.set_theme("dark")
    win.close()  # closing drops a switch being coloured and waits for the worker (the teardown checks)
    assert not win.themes.busy and themes == ["high-contrast"]
