"""The main window: controls on the left, the scene and playback on the right, menus on top."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressDialog,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine import network as nw
from engine.describe import fmt

from . import export
from .controller import PlaybackController
from .controls import ControlPanel, PlaybackBar
from .dialogs import ExportDialog, ImageDialog
from .images import ImageError, read_image
from .models import scenario
from .models.choices import THEMES
from .models.lesson import Lesson
from .models.params import Params
from .models.pytorch import pytorch_code
from .pipeline import PipelineWindow
from .scene import SceneRenderer

MAX_RECENT = 8


class MainWindow(QMainWindow):
    """The convviz window a lecturer uses in class."""

    def __init__(self, params: Params | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("convviz — convolution and pooling, step by step")
        self.settings = settings
        self.model = Lesson(params)
        self.controller = PlaybackController(self.model, self)
        self.renderer = SceneRenderer(self)
        self.renderer.setObjectName("scene")
        self.controls = ControlPanel(self.model)
        self.playback = PlaybackBar(self.model, self.controller)
        self.pinned: tuple[int, int] | None = None
        self.expanded = False  # channels side by side (View ▸ Expand channels)
        self.path: Path | None = None  # the scenario file being edited, if any
        self.deck: list[scenario.Scenario] = []
        self.deck_title = ""
        self.deck_index = 0
        self.presenting = False
        self.last_export = ""
        self.pipeline: PipelineWindow | None = None
        #: The cell the gradient check looks at: ("x", (c, i, j)) or ("w", (o, c, i, j)).
        self.selected: tuple[str, tuple[int, ...]] = ("x", (0, 0, 0))

        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(370)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.renderer, 1)
        rl.addWidget(self.playback)
        self.scroll = scroll
        self.right = right
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 1000])
        self.setCentralWidget(split)
        self.status = QLabel("")
        self.statusBar().addWidget(self.status, 1)

        self.model.changed.connect(self._redraw)
        self.model.step_changed.connect(self._redraw_step)
        self.controller.glide.connect(self.renderer.glide)
        self.renderer.cell_hovered.connect(self._hovered)
        self.renderer.cell_clicked.connect(self._clicked)
        self.renderer.cell_double_clicked.connect(self._edit_cell)
        self.controls.check.clicked.connect(self.check_gradient)
        self._make_actions()
        # Enter in a spin box hands the keyboard back to the scene, so Right/Left step again.
        for box in self.controls.findChildren(QAbstractSpinBox):
            box.lineEdit().returnPressed.connect(self.renderer.setFocus)
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        self._restore_settings()
        self._redraw()

    # ------------------------------------------------------------------ actions
    def _action(self, menu: object, text: str, shortcut: object, tip: str, slot: object,
                checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        menu.addAction(a)  # type: ignore[attr-defined]
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        bar = self.menuBar()
        c = self.controller
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)
        self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open,
                     "Open a scenario or a lecture deck (.json); you can also drop a file on the window",
                     self.open_dialog)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        presets = file_menu.addMenu("&Presets")
        for name in scenario.list_presets():
            a = QAction(name, self)
            a.triggered.connect(lambda _=False, n=name: self.open_preset(n))
            presets.addAction(a)
        self._action(file_menu, "Open &picture…", "Ctrl+I",
                     "Use a picture (a sample or a PNG/JPEG/BMP file) as the input", self.open_picture_dialog)
        self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, "Save the scenario", self.save)
        self._action(file_menu, "Save &As…", "Ctrl+Shift+S", "Save the scenario to a new file", self.save_as)
        file_menu.addSeparator()
        self._action(file_menu, "&Export…", "Ctrl+Shift+E",
                     "Export this step or a range as PNG, SVG, GIF or MP4", self.export_dialog)
        self._action(file_menu, "Copy as &PyTorch", "Ctrl+Shift+C",
                     "Copy the equivalent torch.nn call to the clipboard", self.copy_pytorch)
        file_menu.addSeparator()
        self._action(file_menu, "&New values", "Ctrl+R", "Draw new random values", self.model.new_values)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, "Quit convviz", self.close)
        self._update_recent()
        play = bar.addMenu("&Playback")
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
            self.check_gradient,
        )
        view = bar.addMenu("&View")
        view.setToolTipsVisible(True)
        play.setToolTipsVisible(True)
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
        self.act_present = self._action(
            view, "&Presenter mode", Qt.Key.Key_F5,
            "Full screen, large type, no editing controls (Esc leaves)", self.toggle_presenter,
        )
        lecture = bar.addMenu("&Lecture")
        lecture.setToolTipsVisible(True)
        self.act_next = self._action(lecture, "Next scenario", Qt.Key.Key_PageDown,
                                     "Next scenario of the lecture deck (what clickers send)",
                                     lambda: self.deck_step(1))
        self.act_prev = self._action(lecture, "Previous scenario", Qt.Key.Key_PageUp,
                                     "Previous scenario of the lecture deck", lambda: self.deck_step(-1))
        for a in (self.act_next, self.act_prev):  # only with a deck open: else Page keys scroll as usual
            a.setEnabled(False)
        self.act_expand = self._action(
            view, "&Expand channels", "Ctrl+E", "Show every channel side by side instead of a stack",
            self._set_expanded, checkable=True,
        )
        self._action(view, "&Full screen", Qt.Key.Key_F11, "Full screen for the lecture hall",
                     self._toggle_fullscreen)
        self._action(view, "Clear pinned receptive field / leave presenter mode", Qt.Key.Key_Escape,
                     "Unpin the receptive field; in presenter mode, leave it", self._escape)

    def _hidden(self, text: str, key: object, slot: object) -> QAction:
        a = QAction(text, self)
        a.setShortcut(QKeySequence(key))
        a.triggered.connect(slot)
        return a

    # ------------------------------------------------------------------ files
    def notify(self, message: str, *, error: bool = False) -> None:
        """Say something next to the controls (errors in red) and in the status bar."""
        self.controls.show_message(message, error=error)
        self.status.setText(message)
        self.status.setStyleSheet("color: #b00000; font-weight: bold" if error else "")

    def load_scenario(self, s: scenario.Scenario, *, origin: str) -> bool:
        """Show ``s``; on refusal the current scenario stays and the reason is shown."""
        errors: list[str] = []
        self.model.error.connect(errors.append)
        try:
            ok = scenario.apply(self.model, s)
        finally:
            self.model.error.disconnect(errors.append)
        if not ok:
            self.notify(f"Could not open {origin}: {errors[-1] if errors else 'refused'}", error=True)
            return False
        if s.theme != self.renderer.theme_name:
            self.set_theme(s.theme)
        self.setWindowTitle(f"convviz — {s.title or origin}")
        self.status.setText(f"Opened {origin}")
        return True

    def open_preset(self, name: str) -> bool:
        """Open a built-in preset."""
        try:
            s = scenario.load_preset(name)
        except scenario.ScenarioError as exc:
            self.notify(f"Could not open the preset: {exc}", error=True)
            return False
        ok = self.load_scenario(s, origin=f"preset {name}")
        if ok:
            self.path = None
        return ok

    def open_path(self, path: str | Path) -> bool:
        """Open a scenario or a lecture deck file."""
        p = Path(path)
        try:
            if scenario.is_deck(p):
                title, scenes = scenario.load_deck(p)
                ok = self.load_scenario(scenes[0], origin=f"{p.name} (1 of {len(scenes)})")
                if ok:
                    self.deck, self.deck_title, self.deck_index = scenes, title, 0
                    self.path = None  # Save asks for a name: it never overwrites a deck's file
            else:
                ok = self.load_scenario(scenario.load(p), origin=p.name)
                if ok:
                    self.path = p
                    self.deck = []  # a scenario of its own ends the deck
            for a in (self.act_next, self.act_prev):
                a.setEnabled(bool(self.deck))
        except scenario.ScenarioError as exc:
            self.notify(f"Could not open {p.name}: {exc}. The current scenario is unchanged.", error=True)
            return False
        if ok:
            self._remember(p)
        return ok

    def open_picture_dialog(self) -> None:
        """Ask which picture, how many channels, what grid size; then use it as the input."""
        dlg = ImageDialog(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.open_picture(dlg.chosen_path(), gray=bool(dlg.channels.currentData()),
                          size=(dlg.h.value(), dlg.w.value()), unit=bool(dlg.unit.currentData()))

    def open_picture(self, path: str | Path, *, gray: bool = True, size: tuple[int, int] = (28, 28),
                     unit: bool = True) -> bool:
        """Read a picture into the input; on a refused file the current input stays."""
        try:
            x = read_image(path, gray=gray, size=size, unit=unit)
        except ImageError as exc:
            self.notify(f"Could not use the picture: {exc}. The input is unchanged.", error=True)
            return False
        p = replace(self.model.params, in_c=x.shape[0], in_h=x.shape[1], in_w=x.shape[2], picture=True,
                    integers=False)
        errors: list[str] = []
        self.model.error.connect(errors.append)
        try:
            same_kernel = p.in_c == self.model.params.in_c  # else a new kernel for the new channels
            ok = self.model.load(p, x=x, w=self.model.w if same_kernel else None,
                                 bias=self.model.bias_values, step=0)
        finally:
            self.model.error.disconnect(errors.append)
        if not ok:
            self.notify(f"Could not use the picture: {errors[-1] if errors else 'refused'}", error=True)
            return False
        self.notify("")
        self.status.setText(f"Input: {Path(path).name}, {x.shape[0]}×{x.shape[1]}×{x.shape[2]}")
        return True

    def open_dialog(self) -> None:
        """Ask for a file and open it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open a scenario or lecture deck", "",
                                              "convviz files (*.json);;All files (*)")
        if path:
            self.open_path(path)

    def save(self) -> bool:
        """Save to the current file, or ask where."""
        return self.save_to(self.path) if self.path is not None else self.save_as()

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        path, _ = QFileDialog.getSaveFileName(self, "Save scenario", str(self.path or "scenario.json"),
                                              "convviz scenarios (*.json)")
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Write the scenario to ``path`` (atomically); say so, or say why not."""
        s = scenario.from_model(self.model, theme=self.renderer.theme_name,
                                title=self.windowTitle().removeprefix("convviz — "))
        try:
            scenario.save(path, s)
        except OSError as exc:
            self.notify(f"Could not save {path.name}: {exc.strerror or exc}. Nothing was written.",
                        error=True)
            return False
        self.path = path
        self._remember(path)
        self.notify("")
        self.status.setText(f"Saved {path}")
        return True

    def _remember(self, path: Path) -> None:
        if self.settings is None:
            return
        recent = [str(path.resolve())] + [p for p in self._recent() if p != str(path.resolve())]
        self.settings.setValue("files/recent", recent[:MAX_RECENT])
        self._update_recent()

    def _recent(self) -> list[str]:
        if self.settings is None:
            return []
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def _update_recent(self) -> None:
        self.recent_menu.clear()
        for p in self._recent():
            a = QAction(Path(p).name, self.recent_menu)  # owned by the menu: clear() deletes it
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, q=p: self.open_path(q))
            self.recent_menu.addAction(a)
        self.recent_menu.setEnabled(bool(self._recent()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    def copy_pytorch(self) -> None:
        """Put the equivalent PyTorch call on the clipboard."""
        code = pytorch_code(self.model.params)
        QGuiApplication.clipboard().setText(code)
        self.status.setText("Copied: " + code.splitlines()[-1])

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        """Ask what to export, then export it with a progress dialog that can cancel."""
        dlg = ExportDialog(self.model.n_steps, self.model.step, self, self.last_export)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.run_export(dlg.fmt(), dlg.path.text().strip(), dlg.steps(), dlg.scale.value(),
                        dlg.fps.value(), dlg.loop.value())

    def run_export(self, fmt_key: str, path: str, steps: range, scale: float = 1.0, fps: float = 2.0,
                   loop: int = 0) -> bool:
        """Export through the on-screen renderer (the class sees exactly what is exported)."""
        if not path:
            self.notify("Export: choose where to save first.", error=True)
            return False
        self.controller.pause()
        progress = QProgressDialog("Exporting…", "Cancel", 0, len(steps), self)
        progress.setWindowTitle("Export")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def tick(done: int, total: int) -> bool:
            progress.setValue(done)
            QGuiApplication.processEvents()
            return not progress.wasCanceled()

        try:
            out = export.export(self.model, self.renderer, fmt_key, path, steps=steps, scale=scale, fps=fps,
                                loop=loop, progress=tick)
        except export.ExportCancelled:
            self.notify("Export cancelled; nothing was written.")
            return False
        except export.ExportError as exc:
            self.notify(f"Export failed: {exc}", error=True)
            return False
        finally:
            progress.close()
            progress.deleteLater()
        self.last_export = path
        self.notify("")
        self.status.setText(f"Exported {out}")
        return True

    # ------------------------------------------------------------------ themes, lecture mode
    def set_theme(self, name: str) -> None:
        """Switch theme (remembered between runs)."""
        self.renderer.set_theme(name)
        if name in self.theme_actions:
            self.theme_actions[name].setChecked(True)
        if self.settings is not None:
            self.settings.setValue("view/theme", name)

    def set_zoom(self, zoom: float) -> None:
        """Scale captions and titles (remembered between runs)."""
        self.renderer.set_theme(self.renderer.theme_name, zoom=zoom)
        if self.settings is not None and not self.presenting:  # presenter type is for the hall only
            self.settings.setValue("view/zoom", self.renderer.zoom)

    def toggle_presenter(self) -> None:
        """Presenter mode: full screen, large type, no editing controls."""
        self.presenting = not self.presenting
        for w in (self.scroll, self.playback, self.menuBar(), self.statusBar()):
            w.setVisible(not self.presenting)
        if self.presenting:
            self._zoom_before = self.renderer.zoom
            self.renderer.set_theme(self.renderer.theme_name, zoom=max(1.6, self.renderer.zoom))
            self.showFullScreen()
        else:
            self.renderer.set_theme(self.renderer.theme_name, zoom=getattr(self, "_zoom_before", 1.0))
            self.showNormal()

    def _escape(self) -> None:
        if self.presenting:
            self.toggle_presenter()
        else:
            self._unpin()

    def deck_step(self, delta: int) -> None:
        """Next (+1) or previous (−1) scenario of the lecture deck."""
        if not self.deck:
            self.status.setText("No lecture deck is open (File ▸ Open a deck file)")
            return
        k = min(max(self.deck_index + delta, 0), len(self.deck) - 1)
        if k == self.deck_index:
            return
        self.controller.pause()
        origin = f"{self.deck_title or 'deck'} ({k + 1} of {len(self.deck)})"
        if self.load_scenario(self.deck[k], origin=origin):
            self.deck_index = k

    # ------------------------------------------------------------------ pipeline
    def show_pipeline(self) -> PipelineWindow:
        """Open (or raise) the pipeline window."""
        if self.pipeline is None:
            self.pipeline = PipelineWindow(self)
            self.pipeline.setWindowFlag(Qt.WindowType.Window, True)
            self.pipeline.open_layer.connect(self.open_layer)
        self.pipeline.show()
        self.pipeline.raise_()
        return self.pipeline

    def open_layer(self, spec: dict) -> bool:
        """Show one pipeline layer here, with its input maps and weights, for step-by-step study."""
        layer, x = spec["layer"], np.asarray(spec["x"])
        c, h, w = x.shape
        base = replace(self.model.params, in_c=c, in_h=h, in_w=w, integers=False, picture=False, seed=0,
                       mode="forward", upstream="ones", grad_view="scatter", activation="none")
        if isinstance(layer, nw.Conv):
            kh, kw = nw._pair(layer.kernel)
            pad = layer.padding
            kind, padding = ("valid", (0, 0, 0, 0)) if pad in ("valid", 0) else (
                ("same", (0, 0, 0, 0)) if pad == "same" else
                ("symmetric", (nw._pair(pad)[0], nw._pair(pad)[0], nw._pair(pad)[1], nw._pair(pad)[1])))
            p = replace(base, op="conv", k_h=kh, k_w=kw, out_c=layer.out_channels,
                        stride=nw._pair(layer.stride), dilation=nw._pair(layer.dilation), pad_kind=kind,
                        padding=padding, bias=layer.bias)
            ok = self.model.load(p, x=x, w=spec["w"], bias=spec["b"])
        else:
            kh, kw = nw._pair(layer.kernel)
            ph, pw = nw._pair(layer.padding)
            p = replace(base, op=layer.op, k_h=kh, k_w=kw, stride=nw._pair(layer.stride or layer.kernel),
                        dilation=(1, 1), pad_kind="symmetric", padding=(ph, ph, pw, pw))
            ok = self.model.load(p, x=x)
        if ok:
            self.path = None
            self.setWindowTitle(f"convviz — pipeline layer: {nw.describe_layer(layer)}")
            self.raise_()
            self.activateWindow()
        else:
            self.notify(f"Could not open the layer: {self.model.last_error}", error=True)
        return ok

    def _toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        if self.pinned is not None:
            self._unpin()
        self.renderer.show_frame(self.model.frame(expanded=self.expanded))
        self.renderer.show_receptive_field([])
        self.renderer.show_fed_outputs([])

    def _set_expanded(self, on: bool) -> None:
        self.expanded = bool(on)
        self.renderer.show_frame(self.model.frame(expanded=self.expanded))

    def _redraw_step(self, _: int) -> None:
        self.renderer.show_frame(self.model.frame(expanded=self.expanded))
        if self.pinned is None:
            self.renderer.show_receptive_field([])
            self.renderer.show_fed_outputs([])

    # ------------------------------------------------------------------ hover, pin, edit
    def _gather_shown(self) -> bool:
        """True while the gather view is on screen: its panels are not X, W and Y."""
        return self.model.frame().phase == "gather"

    def _hovered(self, panel: str, ch: int, i: int, j: int) -> None:
        if self.pinned is not None or self._gather_shown():
            return
        self._highlight({"dy": "output", "dx": "input"}.get(panel, panel), i, j)

    def _highlight(self, panel: str, i: int, j: int) -> None:
        g = self.model.trace.geometry
        if panel == "output":
            rows, cols = g.window(i, j)
            self.renderer.show_receptive_field([(int(r), int(c)) for r in rows for c in cols])
            self.renderer.show_fed_outputs([])
            self.status.setText(
                f"Output cell ({i}, {j}) reads padded input rows {int(rows[0])}–{int(rows[-1])}, "
                f"columns {int(cols[0])}–{int(cols[-1])}"
            )
        elif panel == "input":
            feeds = g.feeds(i, j)
            self.renderer.show_fed_outputs(
                [(oh, ow) for oh, ow, _, _ in feeds], labels=[f"w{ki},{kj}" for _, _, ki, kj in feeds]
            )
            self.renderer.show_receptive_field([])
            self.status.setText(f"Input cell ({i - g.rows.before}, {j - g.cols.before}) feeds "
                                f"{len(feeds)} output cell(s)")
        else:
            self.renderer.show_receptive_field([])
            self.renderer.show_fed_outputs([])

    def _clicked(self, panel: str, ch: int, i: int, j: int) -> None:
        if self._gather_shown():
            self.status.setText("The gather view shows dL/dY spread out and the flipped kernel; "
                                "switch it off to select or pin cells")
            return
        g = self.model.trace.geometry
        if panel in ("input", "dx"):
            r, c = i - g.rows.before, j - g.cols.before
            if 0 <= r < g.rows.size and 0 <= c < g.cols.size:
                self.selected = ("x", (ch, r, c))
                self.status.setText(f"Selected X[{ch},{r},{c}] for the gradient check (Ctrl+G)")
            return
        if panel in ("kernel", "dw") and self.model.params.is_conv:
            o, c = divmod(ch, self.model.params.in_c)
            self.selected = ("w", (o, c, *self._given_tap(i, j)))
            self.status.setText(f"Selected W{list(self.selected[1])} for the gradient check (Ctrl+G)")
            return
        if panel not in ("output", "dy"):
            return
        if self.pinned == (i, j):
            self._unpin()
            return
        self.pinned = (i, j)
        self._highlight("output", i, j)
        self.status.setText(self.status.text() + "  (pinned: click again or press Esc to release)")

    def _unpin(self) -> None:
        self.pinned = None
        self.renderer.show_receptive_field([])
        self.status.setText("")

    def _given_tap(self, i: int, j: int) -> tuple[int, int]:
        """Kernel cell on screen (flipped when ``flip_kernel``) to the weight as entered."""
        p = self.model.params
        return (p.k_h - 1 - i, p.k_w - 1 - j) if p.flip_kernel else (i, j)

    def check_gradient(self) -> None:
        """Compare the selected cell's analytic gradient with a centred finite difference."""
        m = self.model
        if m.params.mode == "forward":
            self.controls.check_result.setText("Switch the pass to Backward to check a gradient.")
            return
        wrt, index = self.selected
        if wrt == "w" and not m.params.is_conv:
            wrt, index = "x", (0, 0, 0)
        try:
            analytic, numeric = m.check_gradient(wrt, index)
        except (ValueError, IndexError) as exc:
            self.controls.check_result.setText(f"Cannot check: {exc}")
            return
        name = ("dL/dX" if wrt == "x" else "dL/dW") + str(list(index))
        text = (f"<b>{name}</b><br>analytic: {fmt(analytic)}<br>finite difference (ε = 1e−6): "
                f"{fmt(numeric, 10)}<br>difference: {abs(analytic - numeric):.2e}")
        left, right = m.one_sided_slopes(wrt, index)
        if abs(left - right) > 1e-4 * max(1.0, abs(left), abs(right)):
            text += (f"<br><i>The loss has a kink here (a tie in the pooling window, or an activation at "
                     f"exactly 0): its slope is {fmt(left, 6)} from the left and {fmt(right, 6)} from the "
                     f"right. The centred difference averages them; backpropagation takes one, as "
                     f"PyTorch does.</i>")
        self.controls.check_result.setText(text)

    def _edit_cell(self, panel: str, ch: int, i: int, j: int) -> None:
        m = self.model
        g = m.trace.geometry
        if self._gather_shown():
            self.status.setText("The gather view is computed from dL/dY; switch it off to edit values")
            return
        if panel == "dy" and m.params.has_activation:
            self.notify(f"This panel shows dL/dZ = dL/dY·{m.params.activation}′(Z); set the activation to "
                        "none to type dL/dY.")
            return
        if panel == "dy":
            old = float(m.run.dy[ch, i, j])
            value, ok = QInputDialog.getDouble(self, "Edit dL/dY", f"dL/dY [{ch}, {i}, {j}]", old,
                                               -1e6, 1e6, 4)
            if ok:
                m.set_upstream_value(ch, i, j, value)
            return
        if panel == "target":
            old = float(m.target[ch, i, j])
            value, ok = QInputDialog.getDouble(self, "Edit target", f"T [{ch}, {i}, {j}]", old, -1e6, 1e6, 4)
            if ok:
                m.set_target_value(ch, i, j, value)
            return
        if panel == "input":
            r, c = i - g.rows.before, j - g.cols.before
            if not (0 <= r < g.rows.size and 0 <= c < g.cols.size):
                self.status.setText("Padding cells follow the padding mode; edit a real input cell")
                return
            old = float(m.x[ch, r, c])
            value, ok = QInputDialog.getDouble(
                self, "Edit input", f"Input [{ch}, {r}, {c}]", old, -1e6, 1e6, 4
            )
            if ok:
                m.set_input_value(ch, r, c, value)
        elif panel == "kernel" and m.params.is_conv:
            o, c = divmod(ch, m.params.in_c)
            pi, pj = self._given_tap(i, j)
            old = float(m.w[o, c, pi, pj])
            value, ok = QInputDialog.getDouble(self, "Edit kernel", f"Weight [{o}, {c}, {pi}, {pj}]",
                                               old, -1e6, 1e6, 4)
            if ok:
                m.set_kernel_value(o, c, pi, pj, value)

    def show_problem(self, message: str) -> None:
        """Show an unexpected error in plain words (see ``gui.app.report_exception``)."""
        self.status.setText(message)
        self.status.setStyleSheet("color: #b00000; font-weight: bold")

    # ------------------------------------------------------------------ lifetime
    def _restore_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        with contextlib.suppress(TypeError, ValueError):  # a damaged entry keeps the default
            self.controller.set_speed(float(s.value("playback/speed", self.controller.speed)))
        self.act_expand.setChecked(str(s.value("view/expanded", "false")).lower() == "true")
        theme = str(s.value("view/theme", "light"))
        if theme in THEMES:
            self.set_theme(theme)
        with contextlib.suppress(TypeError, ValueError):
            self.renderer.set_theme(self.renderer.theme_name, zoom=float(s.value("view/zoom", 1.0)))

    def _save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("playback/speed", self.controller.speed)
        s.setValue("view/expanded", self.act_expand.isChecked())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self._save_settings()
        self.controller.stop()
        super().closeEvent(event)

