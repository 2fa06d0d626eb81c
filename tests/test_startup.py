"""The window's start-up path leaves out what the first painted frame does not need (issue #12)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Loaded on first use: a dialog, an export, Copy as PyTorch, a picture, the pipeline window.
LAZY = (
    "gui.dialogs",
    "gui.images",
    "engine.image",
    "gui.export",
    "gui.models.exportplan",
    "gui.models.outfiles",
    "gui.models.pytorch",
    "gui.pipeline",
    "gui.models.pipeline",
    "pyqtgraph",
)

# Build the window, show it, let it paint once, and list every module loaded by then.
STARTUP = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui.mainwindow import MainWindow
app = QApplication(sys.argv)
win = MainWindow()
win.show()
QTimer.singleShot(200, app.quit)
app.exec()
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def startup_modules() -> set[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_the_lazy_list_names_real_modules() -> None:
    for name in LAZY:
        assert importlib.util.find_spec(name) is not None, name


def test_start_up_does_not_load_what_the_first_frame_does_not_need(startup_modules: set[str]) -> None:
    assert "gui.mainwindow" in startup_modules and "engine.conv" in startup_modules  # the run was real
    loaded = sorted(m for m in startup_modules for lazy in LAZY if m == lazy or m.startswith(lazy + "."))
    assert loaded == []


def test_each_lazy_module_still_loads_when_asked(startup_modules: set[str]) -> None:
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code, *LAZY], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_start_up_objects_leave_the_collector_once_the_window_is_up():
    """``freeze_start_up`` (scheduled by ``main`` after ``win.show()``) moves what exists into the
    permanent generation, so later full collections stop walking it (playback's late steps)."""
    import gc

    from gui.app import freeze_start_up

    before = gc.get_freeze_count()
    kept = [[k] for k in range(1000)]  # made "during start-up"
    try:
        freeze_start_up()
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()
