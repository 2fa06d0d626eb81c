"""Unexpected exceptions in slots are shown in the window, never swallowed, and the app goes on."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt, QVariantAnimation

from gui import app as gui_app


class BoomError(RuntimeError):
    pass


@pytest.fixture
def reported(monkeypatch):  # type: ignore[no-untyped-def]
    """Install ``report_exception`` as the excepthook, with a fresh log."""
    log: list[str] = []
    monkeypatch.setattr(gui_app, "ERROR_LOG", log)
    monkeypatch.setattr(sys, "excepthook", gui_app.report_exception)
    return log


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_button_slot_is_shown_and_the_app_keeps_working(
    window, qtbot, settle, reported, capsys
) -> None:
    def broken() -> None:
        raise BoomError("the lecture notes caught fire")

    button = window.controls.new_values
    button.clicked.connect(broken)
    try:
        seed = window.model.params.seed
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "the lecture notes caught fire" in window.status.text(), timeout=2000)
    finally:
        button.clicked.disconnect(broken)
    assert window.status.text() == "Something went wrong and was stopped: the lecture notes caught fire"
    assert len(reported) == 1 and "BoomError" in reported[0] and "Traceback" in reported[0]
    assert "BoomError: the lecture notes caught fire" in capsys.readouterr().err
    # The button's own slot still ran, and the window still answers the keyboard.
    assert window.model.params.seed == seed + 1
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.model.step == 1
    settle(window)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.model.params.seed == seed + 2
    assert len(reported) == 1


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_step_slot_is_shown_and_stepping_goes_on(window, qtbot, settle, reported) -> None:
    def broken(step: int) -> None:
        raise ValueError(f"cannot draw step {step}")

    window.model.step_changed.connect(broken)
    try:
        qtbot.keyClick(window, Qt.Key.Key_Right)
        qtbot.waitUntil(lambda: "cannot draw step 1" in window.status.text(), timeout=2000)
    finally:
        window.model.step_changed.disconnect(broken)
    settle(window)
    assert window.model.step == 1
    assert window.playback.label.text() == f"step 2 / {window.model.n_steps}"
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(window)
    assert window.model.step == 2
    assert len(reported) == 1


@pytest.mark.qt_no_exception_capture
def test_exception_without_a_message_names_its_type(window, qtbot, reported) -> None:
    def broken(_: object = None) -> None:
        raise KeyError

    anim = QVariantAnimation(window)  # finishes from the event loop's animation timer
    anim.setDuration(5)
    anim.setStartValue(0.0)
    anim.setEndValue(1.0)
    anim.finished.connect(broken)
    try:
        anim.start()
        qtbot.waitUntil(lambda: "KeyError" in window.status.text(), timeout=2000)
    except KeyError:
        pytest.fail("the exception escaped into the caller instead of reaching the excepthook")
    finally:
        anim.finished.disconnect(broken)
    assert window.status.text() == "Something went wrong and was stopped (KeyError)"
