"""Pictures read on two threads at once: no deadlock, the same values as one at a time.

Regression: a worker reading a picture through the stoppable device while the UI
thread looked at another's header (``picture_pixels``) could hang both for ever
(Qt's plugin lock against the interpreter's). The race is run in a child process,
so a hang fails the test at its time limit instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys, threading, time
import numpy as np
from PySide6.QtGui import QGuiApplication, QImage
app = QGuiApplication([])
from gui.images import picture_pixels, read_image
d, seconds = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(0)
for name, w, h in (("a.png", 300, 200), ("b.jpg", 320, 240)):
    px = np.ascontiguousarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8))
    QImage(px.data, w, h, 4 * w, QImage.Format.Format_RGB32).save(f"{d}/{name}")
want = {n: read_image(f"{d}/{n}", size=(28, 28)) for n in ("a.png", "b.jpg")}
stop = time.monotonic() + seconds
counts, wrong = [0, 0], []

def worker():
    while time.monotonic() < stop:
        if not np.array_equal(read_image(f"{d}/b.jpg", size=(28, 28)), want["b.jpg"]):
            wrong.append("b.jpg")
        counts[0] += 1

t = threading.Thread(target=worker, daemon=True)
t.start()
while time.monotonic() < stop:
    assert picture_pixels(f"{d}/a.png") == 300 * 200
    if not np.array_equal(read_image(f"{d}/a.png", size=(28, 28)), want["a.png"]):
        wrong.append("a.png")
    counts[1] += 1
t.join(30)
print("done", counts[0], counts[1], "wrong", len(wrong), "alive", t.is_alive())
"""


def test_two_threads_reading_pictures_finish_with_the_right_values(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "3"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("reading pictures on two threads at once hung (a deadlock)") from None
    assert out.returncode == 0, out.stderr[-2000:]
    words = out.stdout.split()
    assert words[0] == "done", out.stdout
    worker, ui, wrong, alive = int(words[1]), int(words[2]), int(words[4]), words[6]
    assert worker > 10 and ui > 10  # both threads read many pictures meanwhile
    assert wrong == 0 and alive == "False"
