"""Files of a lesson: open, save, recent files, lecture decks, pictures, export and the clipboard.

The file formats and their checks live in the core (``gui.models.scenario``);
this controller asks the user where (dialogs), hands the result to the lesson,
and says what happened in plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QProgressDialog, QWidget

from ..models import scenario
from ..models.lesson import Lesson
from ..scene import SceneRenderer
from .picture import PictureLoader
from .playback import PlaybackController

MAX_RECENT = 8


class DocumentController(QObject):
    """Opens and saves the lesson's files for the window ``parent``.

    Parameters
    ----------
    lesson : Lesson
    window : QWidget
        Parent of the dialogs; its title names the open scenario.
    stage : SceneRenderer
        The on-screen painter: exports are drawn at its size, theme and text size.
    playback : PlaybackController
        Paused while a deck moves on or an export runs.
    settings : QSettings or None
        Remembers recent files and the last export.
    notify : callable
        ``notify(text, error=False)`` says something next to the controls and in the status bar.
    say : callable
        ``say(text)`` one line in the status bar.
    expanded : callable
        ``expanded()``: whether the stage shows channels side by side (exports do the same).

    Signals
    -------
    theme_requested(str)
        A scenario brought its own theme.
    deck_changed(bool)
        A lecture deck is open (True) or not.
    """

    theme_requested = Signal(str)
    deck_changed = Signal(bool)

    def __init__(self, lesson: Lesson, window: QWidget, stage: SceneRenderer, playback: PlaybackController, *,
                 settings: QSettings | None, notify: Callable[..., None], say: Callable[[str], None],
                 expanded: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson, self.window, self.stage, self.playback = lesson, window, stage, playback
        self.settings = settings
        self._notify, self._say, self._expanded = notify, say, expanded
        self.path: Path | None = None  # the scenario file being edited, if any
        self.deck: list[scenario.Scenario] = []
        self.deck_title = ""
        self.deck_index = 0
        self.last_export = ""
        self.recent_menu: QMenu | None = None
        #: Reads pictures into the lesson; a big one in a worker thread (``shutdown`` when the window closes).
        self.pictures = PictureLoader(lesson, notify=notify, say=say, parent=self)

    # ------------------------------------------------------------------ opening
    def load_scenario(self, s: scenario.Scenario, *, origin: str) -> bool:
        """Show ``s``; on refusal the current scenario stays and the reason is shown."""
        if not scenario.apply(self.lesson, s):
            self._notify(f"Could not open {origin}: {self.lesson.last_error or 'refused'}", error=True)
            return False
        self.theme_requested.emit(s.theme)
        self.window.setWindowTitle(f"convviz — {s.title or origin}")
        self._say(f"Opened {origin}")
        return True

    def open_preset(self, name: str) -> bool:
        """Open a built-in preset."""
        try:
            s = scenario.load_preset(name)
        except scenario.ScenarioError as exc:
            self._notify(f"Could not open the preset: {exc}", error=True)
            return False
        ok = self.load_scenario(s, origin=f"preset {name}")
        if ok:
            self.path = None
            self.deck = []  # a preset of its own ends the deck, as a file does
            self.deck_changed.emit(False)
        return ok

    def open_path(self, path: str | Path) -> bool:
        """Open a scenario or a lecture deck file (the file's ``format`` says which)."""
        p = Path(path)
        name = scenario.shown_name(p)
        try:
            doc = scenario.read(p)
        except scenario.ScenarioError as exc:
            self._notify(f"Could not open {name}: {exc}. The current scenario is unchanged.", error=True)
            return False
        if isinstance(doc, scenario.Deck):
            scenes = list(doc.scenarios)
            ok = self.load_scenario(scenes[0], origin=f"{name} (1 of {len(scenes)})")
            if ok:
                self.deck, self.deck_title, self.deck_index = scenes, doc.title, 0
                self.path = None  # Save asks for a name: it never overwrites a deck's file
        else:
            ok = self.load_scenario(doc, origin=name)
            if ok:
                self.path = p
                self.deck = []  # a scenario of its own ends the deck
        self.deck_changed.emit(bool(self.deck))
        if ok:
            self._remember(p)
        return ok

    def open_dialog(self) -> None:
        """Ask for a file and open it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a scenario or lecture deck", "",
                                              "convviz files (*.json);;All files (*)")
        if path:
            self.open_path(path)

    def deck_step(self, delta: int) -> None:
        """Next (+1) or previous (−1) scenario of the lecture deck."""
        if not self.deck:
            self._say("No lecture deck is open (File ▸ Open a deck file)")
            return
        k = min(max(self.deck_index + delta, 0), len(self.deck) - 1)
        if k == self.deck_index:
            return
        self.playback.pause()
        origin = f"{self.deck_title or 'deck'} ({k + 1} of {len(self.deck)})"
        if self.load_scenario(self.deck[k], origin=origin):
            self.deck_index = k

    # ------------------------------------------------------------------ pictures
    def open_picture_dialog(self) -> None:
        """Ask which picture, how many channels, what grid size; then use it as the input."""
        from ..dialogs import ImageDialog  # here, not at start-up (like every dialog and export module)

        dlg = ImageDialog(self.window)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.open_picture(dlg.chosen_path(), gray=bool(dlg.channels.currentData()),
                          size=(dlg.h.value(), dlg.w.value()), unit=bool(dlg.unit.currentData()))

    def open_picture(self, path: str | Path, *, gray: bool = True, size: tuple[int, int] = (28, 28),
                     unit: bool = True) -> bool:
        """Read a picture into the input (a big one in the background: ``PictureLoader.open``); on a refused
        file the current input stays."""
        return self.pictures.open(path, gray=gray, size=size, unit=unit)

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        """Save to the current file, or ask where."""
        return self.save_to(self.path) if self.path is not None else self.save_as()

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Save scenario", str(self.path or "scenario.json"),
                                              "convviz scenarios (*.json)")
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Write the scenario to ``path`` (atomically); say so, or say why not."""
        s = scenario.from_model(self.lesson, theme=self.stage.theme_name,
                                title=self.window.windowTitle().removeprefix("convviz — "))
        try:
            scenario.save(path, s)
        except OSError as exc:
            self._notify(f"Could not save {scenario.shown_name(path)}: {exc.strerror or exc}. "
                         "Nothing was written.", error=True)
            return False
        self.path = path
        self._remember(path)
        self._notify("")
        self._say(f"Saved {path}")
        return True

    # ------------------------------------------------------------------ recent files
    def _remember(self, path: Path) -> None:
        if self.settings is None:
            return
        recent = [str(path.resolve())] + [p for p in self.recent() if p != str(path.resolve())]
        self.settings.setValue("files/recent", recent[:MAX_RECENT])
        self.update_recent_menu()

    def recent(self) -> list[str]:
        """Recently opened or saved files, newest first."""
        if self.settings is None:
            return []
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]  # type: ignore[union-attr]

    def update_recent_menu(self) -> None:
        """Fill File ▸ Open Recent."""
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        for p in self.recent():
            a = QAction(Path(p).name, menu)  # owned by the menu: clear() deletes it
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, q=p: self.open_path(q))
            menu.addAction(a)
        menu.setEnabled(bool(self.recent()))

    # ------------------------------------------------------------------ clipboard and export
    def copy_pytorch(self) -> None:
        """Put the equivalent PyTorch call on the clipboard."""
        from ..models.pytorch import pytorch_code

        code = pytorch_code(self.lesson)
        QGuiApplication.clipboard().setText(code)
        self._say(f"Copied {len(code.splitlines())} lines of PyTorch that print this output")

    def export_dialog(self) -> None:
        """Ask what to export, then export it with a progress dialog that can cancel."""
        from ..dialogs import ExportDialog

        dlg = ExportDialog(self.lesson.n_steps, self.lesson.step, self.window, self.last_export)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.run_export(dlg.fmt(), dlg.path.text().strip(), dlg.steps(), dlg.scale.value(),
                        dlg.fps.value(), dlg.loop.value())

    def run_export(self, fmt_key: str, path: str, steps: range, scale: float = 1.0, fps: float = 2.0,
                   loop: int = 0) -> bool:
        """Export from a copy of the lesson, drawn off screen at the stage's size, theme and text size.

        The class sees exactly what is exported, and the stage does not move while it is written.
        """
        if not path:
            self._notify("Export: choose where to save first.", error=True)
            return False
        from .. import export  # here, not at start-up: the window opens sooner without it
        from ..models.exportplan import estimate_text

        self.playback.pause()
        what = f"{len(steps):,} frames" if len(steps) > 1 else "one frame"
        progress = QProgressDialog(f"Exporting {what}…", "Cancel", 0, len(steps), self.window)
        progress.setWindowTitle("Export")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def tick(done: int, total: int) -> bool:
            progress.setValue(done)
            QGuiApplication.processEvents()
            return not progress.wasCanceled()

        def announce(frames: int, seconds: float) -> None:  # said once the first frame is timed
            progress.setLabelText(f"Exporting {estimate_text(frames, seconds)}…")

        painter = export.offscreen_renderer((self.stage.width(), self.stage.height()), self.stage.theme_name)
        painter.set_theme(self.stage.theme_name, zoom=self.stage.zoom)
        try:
            out = export.export(self.lesson, painter, fmt_key, path, steps=steps, scale=scale, fps=fps,
                                loop=loop, expanded=self._expanded(), progress=tick, announce=announce)
        except export.ExportCancelled:
            self._notify("Export cancelled; nothing was written.")
            return False
        except export.ExportError as exc:
            self._notify(f"Export failed: {exc}", error=True)
            return False
        finally:
            progress.close()
            progress.deleteLater()
            painter.close()
            painter.deleteLater()
        self.last_export = path
        self._notify("")
        self._say(f"Exported {out}")
        return True
