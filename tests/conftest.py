"""Test setup: Qt runs offscreen, and no test may leave a timer or window behind."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from PySide6.QtCore import QAbstractAnimation, QEvent, QPoint, QPointF, Qt, QTimer, QVariantAnimation
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QWidget

from gui.app import paint_on_one_thread

# Read when the QApplication is created (by pytest-qt's qapp fixture), not at import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
paint_on_one_thread()  # as the app paints (read at the first paint)

# CI replays the same examples every run (a failure there is reproducible); locally they vary.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_STILL_RUNNING = pytest.StashKey[list[str]]()


def _describe(obj: object) -> str:
    parent = obj.parent() if hasattr(obj, "parent") else None  # type: ignore[attr-defined]
    name = obj.objectName() or "(unnamed)"  # type: ignore[attr-defined]
    owner = f"{type(parent).__name__}" if parent is not None else "no parent"
    return f"{type(obj).__name__} {name} owned by {owner}"


def still_running() -> list[str]:
    """Active ``QTimer``s and running ``QVariantAnimation``s among the top-level widgets' children."""
    app = QApplication.instance()
    if app is None:
        return []
    found: list[str] = []
    seen: set[int] = set()
    for top in QApplication.topLevelWidgets():
        for t in top.findChildren(QTimer):
            if id(t) not in seen and t.isActive():
                seen.add(id(t))
                found.append(f"{_describe(t)} is still active")
        for a in top.findChildren(QVariantAnimation):
            if id(a) not in seen and a.state() == QAbstractAnimation.State.Running:
                seen.add(id(a))
                found.append(f"{_describe(a)} is still running")
    return found


def _running_workers() -> list[str]:
    """Lesson changes, gradient checks or pipeline changes still computing in a worker thread (then
    waited for: none outlives the test)."""
    import sys

    ctl = sys.modules.get("gui.controllers.lesson")
    if ctl is None:
        return []
    n = ctl.running_jobs()
    for pool in ctl.live_pools():
        pool.clear()
        pool.waitForDone()
    said = f"{n} worker thread(s) still computing a lesson change, a gradient check or a pipeline change"
    return [said] if n else []


def _stop_everything() -> None:
    for top in QApplication.topLevelWidgets():
        for t in top.findChildren(QTimer):
            t.stop()
        for a in top.findChildren(QVariantAnimation):
            a.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Look for running timers *before* pytest-qt closes the test's widgets (closing stops them)."""
    if "no_leftover_timers" in getattr(item, "fixturenames", ()):
        item.stash[_STILL_RUNNING] = still_running() + _running_workers()
        _stop_everything()
    return (yield)


@pytest.fixture(autouse=True)
def no_leftover_timers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a QTimer active or an animation running; close windows left behind.

    The check itself runs in ``pytest_runtest_teardown`` above, before any widget is
    closed (a ``MainWindow`` stops its controller's timer when it closes, which would
    hide the leak); the verdict is given here.
    """
    yield
    leaks = request.node.stash.get(_STILL_RUNNING, [])
    app = QApplication.instance()
    if app is not None:
        for w in QApplication.topLevelWidgets():
            if w.parentWidget() is None and isinstance(w, QWidget):
                w.close()
                w.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
    if leaks:
        pytest.fail("the test left Qt activity running at teardown:\n  " + "\n  ".join(leaks),
                    pytrace=False)


@pytest.fixture
def running_qt_activity():  # type: ignore[no-untyped-def]
    """The check ``no_leftover_timers`` makes at teardown, to call during a test."""
    return still_running


@pytest.fixture
def pipeline(qtbot):  # type: ignore[no-untyped-def]
    """A shown ``PipelineWindow`` (trained LeNet-5, a sample digit on its canvas)."""
    from gui.pipeline import PipelineWindow

    w = PipelineWindow()
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    return w


@pytest.fixture
def window(qtbot):  # type: ignore[no-untyped-def]
    """A shown ``MainWindow`` with default parameters (no QSettings)."""
    from gui.mainwindow import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
    return w


@pytest.fixture
def settle(qtbot):  # type: ignore[no-untyped-def]
    """Wait until a window's playback timer has stopped (the glide between steps is over)."""

    def wait(win: object, timeout: int = 3000) -> None:
        timer = win.controller.timer  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: not timer.isActive(), timeout=timeout)

    return wait


class User:
    """What a user does with mouse and keyboard, in the forms the tests need."""

    def __init__(self, qtbot) -> None:  # type: ignore[no-untyped-def]
        self.qtbot = qtbot

    def type_into(self, spin: QAbstractSpinBox, value: object) -> None:
        """Focus a spin box, select all, type ``value`` and press Enter."""
        spin.setFocus(Qt.FocusReason.MouseFocusReason)
        self.qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        self.qtbot.keyClicks(spin, str(value))
        self.qtbot.keyClick(spin, Qt.Key.Key_Return)

    @staticmethod
    def cell_point(renderer: object, panel: str, i: int, j: int, k: int = 0) -> QPoint:
        """Viewport pixel at the centre of cell ``(i, j)`` of tile ``k`` of ``panel``."""
        p = renderer.cell_center(panel, k, i, j)  # type: ignore[attr-defined]
        return QPointF(p).toPoint()

    def click_cell(self, renderer: object, panel: str, i: int, j: int) -> None:
        vp = renderer.viewport()  # type: ignore[attr-defined]
        self.qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=self.cell_point(renderer, panel, i, j))

    def hover_cell(self, renderer: object, panel: str, i: int, j: int) -> None:
        """Move the mouse onto a cell and wait until the renderer reports the hover.

        pyqtgraph drops mouse moves that come sooner than ``1/mouseRateLimit`` s after
        the last one, so the mouse wiggles by a pixel (inside the cell) until one counts.
        """
        vp = renderer.viewport()  # type: ignore[attr-defined]
        pos = self.cell_point(renderer, panel, i, j)
        seen: list[tuple[str, int, int]] = []

        def record(p: str, ch: int, a: int, b: int) -> None:
            seen.append((p, a, b))

        renderer.cell_hovered.connect(record)  # type: ignore[attr-defined]
        moves = [0]

        def arrived() -> bool:
            if (panel, i, j) in seen:
                return True
            moves[0] += 1
            self.qtbot.mouseMove(vp, pos + QPoint(moves[0] % 2, 0))
            return (panel, i, j) in seen

        try:
            self.qtbot.waitUntil(arrived, timeout=2000)
        finally:
            renderer.cell_hovered.disconnect(record)  # type: ignore[attr-defined]

    def double_click_cell(self, renderer: object, panel: str, i: int, j: int) -> None:
        """Press-release, double-click, release: the sequence a real double click delivers.

        Qt 6's ``QTest.mouseDClick`` sends only the MouseButtonDblClick event, and
        pyqtgraph's scene reports clicks on the *release*, so the release is added.
        """
        vp = renderer.viewport()  # type: ignore[attr-defined]
        pos = self.cell_point(renderer, panel, i, j)
        left = Qt.MouseButton.LeftButton
        self.qtbot.mouseClick(vp, left, pos=pos)
        self.qtbot.mouseDClick(vp, left, pos=pos)
        self.qtbot.mouseRelease(vp, left, pos=pos)


@pytest.fixture
def user(qtbot) -> User:  # type: ignore[no-untyped-def]
    """Mouse and keyboard helpers acting on real widgets."""
    return User(qtbot)


def dispose_view(widget) -> None:  # type: ignore[no-untyped-def]
    """Delete an offscreen renderer without ``close()`` (which crashed before 48e30c9: the test on
    closing a used renderer checks that in a child process, where a crash cannot end this run)."""
    widget.hide()
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def offscreen_renderers(qapp) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """``make(size, theme="light")``: offscreen renderers for export tests, deleted afterwards."""
    from gui import export

    made: list[object] = []

    def make(size: tuple[int, int], theme: str = "light"):  # type: ignore[no-untyped-def]
        r = export.offscreen_renderer(size, theme)
        made.append(r)
        return r

    yield make
    for r in made:
        dispose_view(r)
