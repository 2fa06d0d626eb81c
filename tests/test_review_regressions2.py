"""Regressions for problems found in the review of 2 December: each test fails on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FLOW_AT_SCALE_2 = """
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView
from gui.scene.marks import FlowLines
app = QApplication([])
scene = QGraphicsScene(0, 0, 400, 300)
scene.setBackgroundBrush(QColor("white"))
view = QGraphicsView(scene)
view.setFrameShape(QGraphicsView.Shape.NoFrame)
view.resize(420, 320)
lines = FlowLines("#ff0000", "#0000ff")
scene.addItem(lines)
lines.set_lines(QPointF(10, 10), [QPointF(390, 290)], [1.0])
view.show()
app.processEvents()
img = view.viewport().grab().toImage()
d = img.devicePixelRatio()
print(d)
for t in (0.1, 0.3, 0.6, 0.9):
    at = view.mapFromScene(QPointF(10 + 380 * t, 10 + 280 * t))
    print(img.pixelColor(int(at.x() * d), int(at.y() * d)).name())
"""


def test_flow_lines_are_drawn_whole_on_a_high_dpi_screen() -> None:
    """At a device pixel ratio of 2 a flow line reaches its end (its layer was clipped to the top-left
    quarter of the view: a widget's width was divided by the ratio as a picture's is)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", _FLOW_AT_SCALE_2], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=env, check=True).stdout.split()
    assert float(out[0]) == 2.0
    assert out[1:] == [out[1]] * 4 and out[1] != "#ffffff", out  # the same light red all along the line


def test_a_window_closed_before_its_lesson_is_built_does_not_build_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Closed before its first paint, a window made ``later`` built its lesson anyway once the fallback
    timer fired (behind the closed window, with nothing left to shut down what it started); shown again,
    it builds it then."""
    from PySide6.QtCore import QEventLoop, QTimer

    from gui.mainwindow import MainWindow
    from gui.shell import FALLBACK_MS

    win = MainWindow(later=True)
    qtbot.addWidget(win)
    win.show()
    win.close()
    built: list[bool] = []
    win.ready.connect(lambda: built.append(True))
    loop = QEventLoop()
    QTimer.singleShot(FALLBACK_MS + 300, loop.quit)  # past the fallback timer: a build would have run
    loop.exec()
    assert not built and not win.is_ready and not hasattr(win, "model")
    with qtbot.waitSignal(win.ready, timeout=5000):
        win.show()
    assert win.model.n_steps > 0
