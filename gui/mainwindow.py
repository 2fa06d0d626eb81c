"""The main window: controls on the left, the scene and playback on the right, menus on top."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.describe import fmt

from .controller import PlaybackController
from .controls import ControlPanel, PlaybackBar
from .model import Params, SceneModel
from .scene import SceneRenderer


class MainWindow(QMainWindow):
    """The convviz window a lecturer uses in class."""

    def __init__(self, params: Params | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("convviz — convolution and pooling, step by step")
        self.settings = settings
        self.model = SceneModel(params, self)
        self.controller = PlaybackController(self.model, self)
        self.renderer = SceneRenderer(self)
        self.renderer.setObjectName("scene")
        self.controls = ControlPanel(self.model)
        self.playback = PlaybackBar(self.model, self.controller)
        self.pinned: tuple[int, int] | None = None
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
        self._action(file_menu, "&New values", "Ctrl+R", "Draw new random values", self.model.new_values)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, "Quit convviz", self.close)
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
        self.act_expand = self._action(
            view, "&Expand channels", "Ctrl+E", "Show every channel side by side instead of a stack",
            self.renderer.set_expanded, checkable=True,
        )
        self._action(view, "&Full screen", Qt.Key.Key_F11, "Full screen for the lecture hall",
                     self._toggle_fullscreen)
        self._action(view, "Clear pinned receptive field", Qt.Key.Key_Escape, "Unpin", self._unpin)

    def _hidden(self, text: str, key: object, slot: object) -> QAction:
        a = QAction(text, self)
        a.setShortcut(QKeySequence(key))
        a.triggered.connect(slot)
        return a

    def _toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        self.pinned = None
        self.renderer.show_frame(self.model.frame())
        self.renderer.show_receptive_field([])
        self.renderer.show_fed_outputs([])

    def _redraw_step(self, _: int) -> None:
        self.renderer.show_frame(self.model.frame())
        if self.pinned is None:
            self.renderer.show_receptive_field([])
            self.renderer.show_fed_outputs([])

    # ------------------------------------------------------------------ hover, pin, edit
    def _hovered(self, panel: str, ch: int, i: int, j: int) -> None:
        if self.pinned is not None:
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
        self.controls.check_result.setText(
            f"<b>{name}</b><br>analytic: {fmt(analytic)}<br>finite difference (ε = 1e−6): "
            f"{fmt(numeric, 10)}<br>difference: {abs(analytic - numeric):.2e}"
        )

    def _edit_cell(self, panel: str, ch: int, i: int, j: int) -> None:
        m = self.model
        g = m.trace.geometry
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

