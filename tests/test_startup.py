"""The window's start-up path leaves out what the first painted frame does not need (issue #12)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

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

# What must not be loaded when the window first paints: its frame comes before the lesson (gui.shell).
NOT_BEFORE_FIRST_PAINT = ("numpy", "engine", "psygnal", "gui.models.lesson", "gui.scene", "gui.controls",
                          "gui.controllers")

# Start convviz as the command line does (gui.app.main), watching every paint: note what is loaded and
# what the window shows at its first paint, and at the stage's first paint (the lesson); then quit.
STARTUP = r"""
import json, os, sys
import PySide6.QtCore
lazy_types = "QTimer" not in vars(PySide6.QtCore)  # PySide6 makes each type on its first use
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from gui.app import main
from gui.mainwindow import MainWindow

seen = {}

def window():
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))

class Watch(QObject):
    def eventFilter(self, obj, ev):
        try:
            self.look(obj, ev)
        except Exception as exc:  # a failed look ends the run (a slot's exception would be swallowed)
            print(repr(exc), file=sys.stderr, flush=True)
            os._exit(3)
        return False

    def look(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            if "first" not in seen:
                win = window()
                seen["first"] = {"modules": sorted(sys.modules), "ready": win.is_ready,
                                 "preparing": win.preparing.isVisible() and win.preparing.text(),
                                 "menus": [m.title() for m in win.menus.values()],
                                 "qt_namespace_made": lazy_types and "Qt" in vars(PySide6.QtCore)}
            parent = obj.parent()
            if parent is not None and parent.objectName() == "scene" and "lesson" not in seen:
                win = window()
                seen["lesson"] = {"modules": sorted(sys.modules), "ready": win.is_ready,
                                  "heading": win.renderer.frame.heading,
                                  "caption": win.renderer.frame.caption,
                                  "status": win.status.text()}
                QTimer.singleShot(200, lambda: QApplication.instance().exit(0))
            if parent is not None and parent.objectName() == "scene":  # the threads painting the lesson made
                tasks = "/proc/self/task"
                seen["threads"] = sorted(open(f"{tasks}/{t}/comm").read().strip() for t in os.listdir(tasks)
                                         ) if os.path.isdir(tasks) else None

app = QApplication(sys.argv)
watch = Watch()
app.installEventFilter(watch)
code = main(["convviz", "--preset", "avgpool-3x3-stride1", "--step", "3"])
print(json.dumps(seen))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """What the first paint and the stage's first paint saw (``STARTUP``), settings in a fresh folder."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               XDG_CONFIG_HOME=str(tmp_path_factory.mktemp("config")))
    env.pop("QT_NO_GUI_THREADPOOL", None)  # as a user's shell has it (these tests set it for themselves)
    proc = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen: dict[str, dict] = json.loads(proc.stdout.splitlines()[-1])
    return seen


@pytest.fixture(scope="module")
def startup_modules(started: dict[str, dict]) -> set[str]:
    """Every module loaded when the stage first painted the lesson."""
    return set(started["lesson"]["modules"])


def test_the_window_paints_before_numpy_and_the_engine_load(started: dict[str, dict]) -> None:
    first = started["first"]
    loaded = sorted(m for m in first["modules"] for name in NOT_BEFORE_FIRST_PAINT
                    if m == name or m.startswith(name + "."))
    assert "gui.mainwindow" in first["modules"] and "gui.shell" in first["modules"]  # the run was real
    assert loaded == []
    assert not first["ready"]
    assert first["preparing"] == "Preparing the lesson…"
    assert not first["qt_namespace_made"]  # its hundred-odd enums (15-25 ms) wait for the lesson
    assert first["menus"] == ["&File", "&Playback", "&View", "&Lecture"]


def test_the_stage_first_paints_the_lesson_the_command_line_asked_for(started: dict[str, dict]) -> None:
    lesson = started["lesson"]
    assert lesson["ready"]
    assert lesson["heading"] == "Average pooling 3x3, stride 1, padding 1"
    assert lesson["caption"].startswith("Average pooling — Step 4 of 25")
    assert lesson["status"] == "Opened preset avgpool-3x3-stride1"


def test_qt_paints_the_lesson_on_the_ui_thread_alone(started: dict[str, dict]) -> None:
    """Issue 12: Qt's pool of painting threads is off (``gui.app.paint_on_one_thread``): handing pieces of
    every big draw to it cost more CPU time than it saved and made each draw wait for threads."""
    threads = started["threads"]
    if threads is None:
        pytest.skip("no /proc/self/task to list the threads")
    assert "Thread (pooled)" not in threads, threads


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


def test_the_choices_name_the_engines_activations_and_kernel_presets() -> None:
    """``gui.models.choices`` spells these out (importing the engine there would load NumPy at start)."""
    from engine.activations import ACTIVATIONS
    from engine.kernels import KERNEL_PRESETS
    from gui.models import choices

    assert choices.ACTIVATIONS == ACTIVATIONS
    assert choices.KERNEL_PRESETS == KERNEL_PRESETS


def test_a_window_made_later_shows_its_frame_then_its_lesson(qtbot) -> None:  # type: ignore[no-untyped-def]
    from gui.mainwindow import MainWindow
    from gui.models.params import Params
    from gui.shell import PREPARING

    win = MainWindow(Params(in_h=6, in_w=6), later=True)
    qtbot.addWidget(win)
    assert not win.is_ready and not hasattr(win, "model")
    assert win.preparing.text() == PREPARING
    assert [a.text() for a in win.menuBar().actions()] == ["&File", "&Playback", "&View", "&Lecture"]
    with qtbot.waitSignal(win.ready, timeout=5000):
        win.show()
    assert win.is_ready
    assert win.controls.isVisible() and win.renderer.isVisible()
    qtbot.waitUntil(lambda: win.renderer.frame is not None, timeout=5000)
    assert win.renderer.frame.caption.startswith("Convolution — Step 1 of 36")  # type: ignore[union-attr]
    assert [a.text() for a in win.menuBar().actions()] == [
        "&File", "&Playback", "&View", "&Lecture"]  # the frame's menus, filled in, none added twice
    assert win.menus["file"].actions() and win.menus["lecture"].actions()


def test_a_window_made_later_builds_its_lesson_even_if_never_painted(qtbot) -> None:  # type: ignore[no-untyped-def]
    from gui.mainwindow import MainWindow

    win = MainWindow(later=True)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.ready, timeout=5000):
        pass  # never shown: no paint comes, the fallback timer builds it
    assert win.model.n_steps > 0


OPENED_IN_A_FINISHED_WINDOW = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from gui.mainwindow import MainWindow
app = QApplication(sys.argv)
app.setApplicationName("convviz")
app.setOrganizationName("convviz")
win = MainWindow()
win.show()
assert QTest.qWaitForWindowExposed(win)  # a window up and at its size: now the user opens the preset
assert win.files.open_preset("backprop-conv")
win.model.set_step(12)
QTimer.singleShot(400, lambda: app.exit(0 if win.grab().save(sys.argv[1]) else 1))  # as --screenshot
sys.exit(app.exec())
"""


def test_the_screenshot_pictures_the_finished_window(tmp_path: Path) -> None:
    """``--screenshot`` with ``--preset`` and ``--step``: the same picture as a window that was up and
    finished, in which the preset was then opened and the step chosen."""
    from PySide6.QtGui import QImage

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    runs = [[sys.executable, "main.py", "--preset", "backprop-conv", "--step", "12",
             "--screenshot", str(tmp_path / "cli.png")],
            [sys.executable, "-c", OPENED_IN_A_FINISHED_WINDOW, str(tmp_path / "direct.png")]]
    for cmd in runs:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
    cli, direct = QImage(str(tmp_path / "cli.png")), QImage(str(tmp_path / "direct.png"))
    assert cli.width() > 800 and cli.height() > 400
    assert cli == direct


def test_the_frame_is_in_the_colours_of_the_theme_the_stage_will_have(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QColor

    from gui.models.choices import THEME_COLOURS
    from gui.shell import WindowShell

    settings = QSettings(str(tmp_path / "convviz.ini"), QSettings.Format.IniFormat)
    settings.setValue("view/theme", "dark")
    shell = WindowShell(settings)
    qtbot.addWidget(shell)
    with qtbot.waitExposed(shell):
        shell.show()
    picture = shell.preparing.grab().toImage()
    assert picture.pixelColor(3, 3) == QColor(THEME_COLOURS["dark"]["background"])
    assert shell.preparing.text() == "Preparing the lesson…"


def test_a_lesson_that_cannot_be_made_is_said_in_the_frame(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A failure while building (here: a broken ``_build``) leaves a window that says so, and
    ``--screenshot`` ends with exit status 1 instead of waiting for a picture that never comes."""
    import gui.app
    from gui import app as gui_app
    from gui.mainwindow import MainWindow

    def broken(self: MainWindow, params: object) -> None:
        raise ValueError("no lesson today")

    monkeypatch.setattr(MainWindow, "_build", broken)
    exits: list[int] = []
    qapp = QApplication.instance()
    monkeypatch.setattr(type(qapp), "exit", staticmethod(lambda code=0: exits.append(code)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # open_window sets the app's: put it back after
    reported: list[str] = []
    monkeypatch.setattr(gui_app, "ERROR_LOG", reported)
    win = gui_app.open_window(gui.app.parse_args(["--screenshot", "never.png"]))
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.failed, timeout=5000) as failed:
        pass
    assert failed.args == ["no lesson today"]
    qtbot.waitUntil(lambda: len(reported) == 1, timeout=5000)  # the exception went on to the excepthook
    assert reported[0].rstrip().endswith("ValueError: no lesson today")
    assert exits == [1]
    assert win.preparing.text() == "The lesson could not be made: no lesson today"
    assert not win.is_ready


PRELOAD = r"""
import sys, time
from gui.app import preload_pipeline
worker = preload_pipeline()
started = {"alive": worker.is_alive(), "daemon": worker.daemon}  # it returned while importing
worker.join(120)
print(started, "gui.pipeline" in sys.modules, "pyqtgraph" in sys.modules, "numpy.ma" in sys.modules,
      preload_pipeline())
"""


def test_the_pipeline_windows_modules_are_imported_in_a_worker_thread() -> None:
    """Issue 12: the first Ctrl+L imported pyqtgraph and the window's modules in its turn (160-190 ms);
    ``preload_pipeline`` imports them beside the UI thread (once: nothing when they are loaded)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PRELOAD], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["{'alive':", "True,", "'daemon':", "True}", "True", "True", "True", "None"]


def test_the_app_preloads_the_pipeline_once_the_window_is_quiet(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Not while a lesson plays (the worker's import would make its turns longer): a while later."""
    from gui import app as gui_app

    calls: list[bool] = []
    monkeypatch.setattr(gui_app, "preload_pipeline", lambda: calls.append(True))
    monkeypatch.setattr(gui_app, "PRELOAD_AFTER_MS", 50)
    window.controller.play()
    gui_app.preload_when_quiet(window)
    assert calls == []
    window.controller.pause()
    qtbot.waitUntil(lambda: calls == [True], timeout=5000)
