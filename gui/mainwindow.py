"""The main window: lays out the controls, the stage and playback, and wires them to the controllers.

The lesson's modules (NumPy, the engine, the scene and the controllers) are imported when the lesson is
built (``MainWindow._build``), not with this module: ``convviz`` paints the window's frame
(``gui.shell``) first and builds the lesson right after (issue #12, ``tests/test_startup.py``). For the
same reason ``Qt`` is not imported at the top: PySide6 builds the namespace's hundred-odd enums on its
first use (15–25 ms), which the frame does without.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QSettings
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QAbstractSpinBox, QMenu

from .models.choices import THEMES, Theme
from .shell import WindowShell

if TYPE_CHECKING:
    from .controllers.document import DocumentController
    from .controllers.jump import JumpController
    from .controllers.lesson import LessonController
    from .controllers.motion import MotionController
    from .controllers.picture import BusyRow
    from .controllers.playback import PlaybackController
    from .controllers.stage import StageController
    from .controls import ControlPanel, PlaybackBar
    from .models.lesson import Lesson
    from .models.params import Params
    from .pipeline import PipelineWindow  # imported when the pipeline window first opens: pyqtgraph
    from .scene import SceneRenderer

_Slot = Callable[..., object]


class MainWindow(WindowShell):
    """The convviz window a lecturer uses in class.

    It owns the lesson and builds the widgets and controllers around it:
    ``controls`` and ``playback`` (widgets) are bound by ``lesson_ctl``; the
    stage (``renderer``) by ``stage``; files, decks and export by ``files``.
    """

    model: Lesson
    controller: PlaybackController
    renderer: SceneRenderer
    controls: ControlPanel
    playback: PlaybackBar
    lesson_ctl: LessonController
    stage: StageController
    files: DocumentController
    motion: MotionController
    busy_row: BusyRow
    jumps: JumpController

    def __init__(self, params: Params | None = None, settings: QSettings | None = None, *,
                 later: bool = False) -> None:
        """Build the window with ``params``' lesson; with ``later``, only its frame until it first paints.

        A window made ``later`` has no lesson (``model``, ``renderer``, … do not exist yet) until it
        emits ``ready``: show it, and do what needs the lesson in a slot connected to ``ready``.
        """
        super().__init__(settings)
        self.presenting = False
        self._zoom_before = 1.0
        self.pipeline: PipelineWindow | None = None
        if later:
            self.build_after_first_paint(lambda: self._build(params))
        else:
            self._build(params)

    def _build(self, params: Params | None) -> None:
        """Make the lesson, its widgets and controllers, and put them in the frame; then emit ``ready``."""
        from .controllers.document import DocumentController
        from .controllers.jump import JumpController
        from .controllers.lesson import LessonController
        from .controllers.motion import MotionController
        from .controllers.picture import BusyRow
        from .controllers.playback import PlaybackController
        from .controllers.stage import StageController
        from .controllers.theme import ThemeSwitch
        from .controls import ControlPanel, PlaybackBar
        from .models.lesson import Lesson
        from .scene import SceneRenderer
        from .scene.prerender import colourer

        self.model = Lesson(params)
        self.controller = PlaybackController(self.model, self)
        self.renderer = SceneRenderer(self)
        self.renderer.progressive = True  # big lessons' tile pictures over a few short turns
        self.renderer.setObjectName("scene")
        self.themes = ThemeSwitch(self.renderer, self)  # a big lesson's colours looked up in a worker
        self.controls = ControlPanel(self.model)
        self.playback = PlaybackBar(self.model)
        self.fill(self.controls, self.renderer, self.playback)
        self.lesson_ctl = LessonController(self.model, self.controls, self.playback, self.controller, self)
        self.lesson_ctl.colourer = lambda: colourer(self.renderer)  # big changes coloured in the worker
        self.stage = StageController(self.model, self.renderer, say=self.say,
                                     check_result=self.controls.check_result.setText, notify=self.notify,
                                     parent=self)
        self.files = DocumentController(self.model, self, self.renderer, self.controller,
                                        settings=self.settings, notify=self.notify, say=self.say,
                                        expanded=lambda: self.stage.expanded, parent=self)
        self.files.theme_requested.connect(self._scenario_theme)
        self.jumps = JumpController(self.model, self.playback, notify=self.notify, parent=self)
        self.controller.far = self.jumps.go_to  # a far backward jump of a big lesson: in a worker
        self.busy_row = BusyRow(self.controls, self.lesson_ctl, self.files.pictures, self,
                                jumps=self.jumps)  # one Cancel
        self.controller.glide.connect(self.renderer.glide)
        self.motion = MotionController(self.model, self.renderer, self.controller,
                                       presenting=lambda: self.presenting, parent=self)
        self.controls.check.clicked.connect(self.stage.check_gradient)
        self.controls.check_cancel.clicked.connect(self.stage.cancel_check)
        self.stage.checking_changed.connect(self.controls.check_cancel.setVisible)
        self._make_actions()
        self.files.deck_changed.connect(self._deck_open)
        # Enter in a spin box hands the keyboard back to the stage, so Right/Left step again.
        for box in self.controls.findChildren(QAbstractSpinBox):
            box.lineEdit().returnPressed.connect(self.renderer.setFocus)
        self.setAcceptDrops(True)
        self._restore_settings()
        self.stage.redraw()
        self.is_ready = True
        self.ready.emit()

    # ------------------------------------------------------------------ actions
    def _action(self, menu: QMenu, text: str, shortcut: object, tip: str, slot: _Slot,
                checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))  # type: ignore[call-overload]
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        menu.addAction(a)
        self.addAction(a)
        return a

    def _hidden(self, text: str, key: object, slot: _Slot) -> QAction:
        a = QAction(text, self)
        a.setShortcut(QKeySequence(key))  # type: ignore[call-overload]
        a.triggered.connect(slot)
        return a

    def _make_actions(self) -> None:
        from PySide6.QtCore import Qt  # here, not at the top: see the module's docstring

        from .models import scenario

        c, files = self.controller, self.files
        file_menu = self.menus["file"]
        self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open,
                     "Open a scenario or a lecture deck (.json); you can also drop a file on the window",
                     files.open_dialog)
        files.recent_menu = file_menu.addMenu("Open &Recent")
        presets = file_menu.addMenu("&Presets")
        for name in scenario.list_presets():
            a = QAction(name, self)
            a.triggered.connect(lambda _=False, n=name: files.open_preset(n))
            presets.addAction(a)
        self._action(file_menu, "Open &picture…", "Ctrl+I",
                     "Use a picture (a sample or a PNG/JPEG/BMP file) as the input",
                     files.open_picture_dialog)
        self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, "Save the scenario", files.save)
        self._action(file_menu, "Save &As…", "Ctrl+Shift+S", "Save the scenario to a new file", files.save_as)
        file_menu.addSeparator()
        self._action(file_menu, "&Export…", "Ctrl+Shift+E",
                     "Export this step or a range as PNG, SVG, GIF or MP4", files.export_dialog)
        self._action(file_menu, "Copy as &PyTorch", "Ctrl+Shift+C",
                     "Copy the equivalent torch.nn call to the clipboard", files.copy_pytorch)
        file_menu.addSeparator()
        self._action(file_menu, "&New values", "Ctrl+R", "Draw new random values", self.model.new_values)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, "Quit convviz", self.close)
        files.update_recent_menu()

        play = self.menus["playback"]
        self.act_play = self._action(play, "Play / pause", Qt.Key.Key_Space, "Play or pause", c.toggle)
        self._action(play, "Step forward", Qt.Key.Key_Right, "Next step", lambda: c.step_by(1))
        self._action(play, "Step back", Qt.Key.Key_Left, "Previous step", lambda: c.step_by(-1))
        self._action(play, "First step", Qt.Key.Key_Home, "Go to the first step", c.first)
        self._action(play, "Last step", Qt.Key.Key_End, "Go to the last step", c.last)
        play.addSeparator()
        self._action(play, "Faster", Qt.Key.Key_Plus, "Play faster", c.faster)
        self.addAction(self._hidden("Faster (=)", Qt.Key.Key_Equal, c.faster))
        self._action(play, "Slower", Qt.Key.Key_Minus, "Play slower", c.slower)
        self.act_check = self._action(
            play, "Check gradient", "Ctrl+G",
            "Analytic gradient of the selected cell against a centred finite difference",
            self.stage.check_gradient,
        )

        view = self.menus["view"]
        theme_menu = view.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name in THEMES:
            a = QAction(name, self, checkable=True)
            a.setChecked(name == self.renderer.theme_name)
            a.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            self.theme_group.addAction(a)
            theme_menu.addAction(a)
            self.theme_actions[name] = a

        def larger() -> None:
            self.set_zoom(self.renderer.zoom + 0.25)

        self._action(view, "Larger text", QKeySequence.StandardKey.ZoomIn, "Larger captions and titles",
                     larger)
        self.addAction(self._hidden("Larger text (Ctrl+=)", "Ctrl+=", larger))  # Ctrl++ needs Shift
        self._action(view, "Smaller text", QKeySequence.StandardKey.ZoomOut, "Smaller captions and titles",
                     lambda: self.set_zoom(self.renderer.zoom - 0.25))
        self._action(view, "Pi&peline view", "Ctrl+L",
                     "A whole small CNN: feature maps, shapes, parameters and receptive fields",
                     self.show_pipeline)
        self.motion.menu(view)
        self.act_present = self._action(
            view, "&Presenter mode", Qt.Key.Key_F5,
            "Full screen, large type, no editing controls (Esc leaves)", self.toggle_presenter,
        )
        lecture = self.menus["lecture"]
        self.act_next = self._action(lecture, "Next scenario", Qt.Key.Key_PageDown,
                                     "Next scenario of the lecture deck (what clickers send)",
                                     lambda: files.deck_step(1))
        self.act_prev = self._action(lecture, "Previous scenario", Qt.Key.Key_PageUp,
                                     "Previous scenario of the lecture deck", lambda: files.deck_step(-1))
        self._deck_open(False)  # only with a deck open: else Page keys scroll as usual
        self.act_expand = self._action(
            view, "&Expand channels", "Ctrl+E",
            "Show every channel side by side instead of a stack (the stage view: the slabs drawn apart)",
            self.stage.set_expanded, checkable=True,
        )
        self.act_stage_view = self._action(
            view, "&Stage view", "Ctrl+3",
            "Input plane below, output plane above, the window joined to its output cell by lines "
            "(saved with the scenario)", self._stage_view, checkable=True,
        )
        self.act_stage_view.setChecked(self.model.params.view == "stage")
        self.model.changed.connect(self._view_changed)
        self._action(view, "&Full screen", Qt.Key.Key_F11, "Full screen for the lecture hall",
                     self._toggle_fullscreen)
        self._action(view, "Clear pinned receptive field / leave presenter mode", Qt.Key.Key_Escape,
                     "Unpin the receptive field; in presenter mode, leave it", self._escape)

    def _stage_view(self, on: bool) -> None:
        """The View ▸ Stage view toggle: the scenario's view setting, flat or stage."""
        self.model.set_view("stage" if on else "flat")

    def _view_changed(self) -> None:
        """Keep the Stage view toggle in step with the scenario (a file or a deck may bring either)."""
        on = self.model.params.view == "stage"
        if self.act_stage_view.isChecked() != on:
            blocked = self.act_stage_view.blockSignals(True)
            self.act_stage_view.setChecked(on)
            self.act_stage_view.blockSignals(blocked)

    def _deck_open(self, on: bool) -> None:
        for a in (self.act_next, self.act_prev):
            a.setEnabled(on)

    # ------------------------------------------------------------------ messages
    def notify(self, message: str, *, error: bool = False) -> None:
        """Say something next to the controls (errors in red) and in the status bar."""
        self.controls.show_message(message, error=error)
        self.status.setText(message)
        self.status.setStyleSheet("color: #b00000; font-weight: bold" if error else "")

    def say(self, text: str) -> None:
        """One line in the status bar (plain: an earlier error's red does not stay)."""
        self.status.setText(text)
        self.status.setStyleSheet("")

    def show_problem(self, message: str) -> None:
        """Show an unexpected error in plain words (see ``gui.app.report_exception``)."""
        self.status.setText(message)
        self.status.setStyleSheet("color: #b00000; font-weight: bold")

    # ------------------------------------------------------------------ files (drag and drop)
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if self.is_ready and urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.files.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    # ------------------------------------------------------------------ themes, lecture mode
    def _scenario_theme(self, name: str) -> None:
        if name != self.themes.name:
            self.set_theme(name)

    def set_theme(self, name: Theme | str) -> None:
        """Switch theme (remembered between runs; a big lesson's stage switches once coloured)."""
        self.themes.switch(name)
        if name in self.theme_actions:
            self.theme_actions[name].setChecked(True)
        if self.pipeline is not None and self.pipeline.isVisible():  # a hidden one takes it when shown
            self.pipeline.set_theme(name)
        if self.settings is not None:
            self.settings.setValue("view/theme", name)

    def set_zoom(self, zoom: float) -> None:
        """Scale captions and titles (remembered between runs)."""
        self.renderer.set_theme(self.renderer.theme_name, zoom=zoom)
        if self.settings is not None and not self.presenting:  # presenter type is for the hall only
            self.settings.setValue("view/zoom", self.renderer.zoom)

    def toggle_presenter(self) -> None:
        """Presenter mode: full screen, large type, no editing controls."""
        from .scene.onefit import one_fit  # with the scene, imported once the lesson is shown

        self.presenting = not self.presenting
        with one_fit(self.renderer):  # the stage fitted once for the new size and type, not at each step
            for w in (self.scroll, self.playback, self.menuBar(), self.statusBar()):
                w.setVisible(not self.presenting)
            if self.presenting:
                self._zoom_before = self.renderer.zoom
                self.renderer.set_theme(self.renderer.theme_name, zoom=max(1.6, self.renderer.zoom))
                self.showFullScreen()
            else:
                self.renderer.set_theme(self.renderer.theme_name, zoom=self._zoom_before)
                self.showNormal()
        self.motion.refresh()  # "auto": products travel while presenting

    def _escape(self) -> None:
        if self.busy_row.cancel():  # a picture being read or a change being computed stops first
            return
        if self.presenting:
            self.toggle_presenter()
        else:
            self.stage.unpin()

    def _toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # ------------------------------------------------------------------ pipeline
    def show_pipeline(self) -> PipelineWindow:
        """Open (or raise) the pipeline window."""
        if self.pipeline is None:
            import pyqtgraph as pg

            from .pipeline import PipelineWindow

            pg.setConfigOptions(antialias=True)
            self.pipeline = PipelineWindow(self, theme=self.themes.name, later=True)  # shows, then fills
            self.pipeline.setWindowFlag(QtCore.Qt.WindowType.Window, True)
            self.pipeline.open_layer.connect(self.open_layer)
        elif self.pipeline.theme_name != self.themes.name:  # switched while it was closed (it redraws)
            self.pipeline.set_theme(self.themes.name)
        self.pipeline.show()
        self.pipeline.raise_()
        return self.pipeline

    def open_layer(self, spec: dict) -> bool:
        """Show one pipeline layer here, with its input maps and weights, for step-by-step study."""
        layer = spec["layer"]
        from engine.network import describe_layer  # here: the pipeline's modules are not needed at start-up

        from .models.pipeline import lesson_spec_for_layer

        ls = lesson_spec_for_layer(layer, spec["x"], spec.get("w"), spec.get("b"), base=self.model.params)
        if not self.model.load(ls.params, x=ls.x, w=ls.w, bias=ls.bias):
            self.notify(f"Could not open the layer: {self.model.last_error}", error=True)
            return False
        self.files.path = None
        self.setWindowTitle(f"convviz — pipeline layer: {describe_layer(layer)}")
        self.say(f"Opened pipeline layer: {describe_layer(layer)}")
        self.raise_()
        self.activateWindow()
        return True

    # ------------------------------------------------------------------ lifetime
    def _restore_settings(self) -> None:
        s = self.settings  # the window's geometry was restored with its frame (``WindowShell``)
        if s is None:
            return
        with contextlib.suppress(TypeError, ValueError):  # a damaged entry keeps the default
            self.controller.set_speed(float(s.value("playback/speed", self.controller.speed)))  # type: ignore[arg-type]
        self.act_expand.setChecked(str(s.value("view/expanded", "false")).lower() == "true")
        theme = str(s.value("view/theme", "light"))
        if theme in THEMES:
            self.set_theme(theme)
        with contextlib.suppress(TypeError, ValueError):
            self.renderer.set_theme(self.renderer.theme_name, zoom=float(s.value("view/zoom", 1.0)))  # type: ignore[arg-type]

    def _save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("playback/speed", self.controller.speed)
        s.setValue("view/expanded", self.act_expand.isChecked())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.is_ready:  # closed before its lesson was built: nothing runs, nothing to keep
            super().closeEvent(event)
            return
        self._save_settings()
        self.controller.stop()
        self.lesson_ctl.shutdown()
        self.themes.shutdown()
        self.files.pictures.shutdown()
        self.stage.shutdown()
        self.jumps.shutdown()
        super().closeEvent(event)

