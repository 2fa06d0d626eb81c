"""The "Motion: products travel" setting: its menu, and the painter and playback it drives."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from ..models.choices import MOTION_LABELS, MOTION_SETTINGS, MotionSetting
from ..models.lesson import Lesson
from ..models.motion import motion_on
from ..scene import SceneRenderer
from .playback import PlaybackController


class MotionController(QObject):
    """Keeps the painter's travelling products in step with the lesson's ``motion`` setting.

    The setting belongs to the scenario (saved in files and decks); "auto"
    shows the motion in presenter mode only, which ``presenting()`` tells.

    Parameters
    ----------
    lesson : Lesson
    view : SceneRenderer
    playback : PlaybackController
    presenting : callable
        ``presenting()``: whether the window is in presenter mode.
    """

    def __init__(self, lesson: Lesson, view: SceneRenderer, playback: PlaybackController, *,
                 presenting: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson, self.view, self.playback = lesson, view, playback
        self._presenting = presenting
        self.actions: dict[MotionSetting, QAction] = {}
        playback.pieces = lambda: view.text.travel.pieces
        playback.travel.connect(view.text.travel.start)
        lesson.changed.connect(self.refresh)
        self.refresh()

    def menu(self, parent: QMenu) -> QMenu:
        """A "Motion: products travel" submenu of ``parent`` with one choice per setting."""
        sub = parent.addMenu("&Motion: products travel")
        sub.setToolTipsVisible(True)
        group = QActionGroup(self)
        for value in MOTION_SETTINGS:
            a = QAction(MOTION_LABELS[value], self, checkable=True)
            a.setToolTip("Between steps each input×weight product flies into the arithmetic line, "
                         "then the sum into the output cell")
            a.triggered.connect(lambda _=False, v=value: self.set(v))
            group.addAction(a)
            sub.addAction(a)
            self.actions[value] = a
        self.refresh()
        return sub

    def set(self, value: MotionSetting) -> bool:
        """Choose the setting (saved with the scenario)."""
        return self.lesson.set_params(motion=value)

    def refresh(self) -> None:
        """Tell the painter whether products travel now; tick the setting's menu entry."""
        setting = self.lesson.params.motion
        self.view.text.travel.set_enabled(motion_on(setting, self._presenting()))
        if setting in self.actions:
            self.actions[setting].setChecked(True)
