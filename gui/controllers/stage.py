"""The stage: shows the lesson's frames and turns pointing at cells into the core's interaction rules."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from ..models import interaction
from ..models.cancel import StopToken
from ..models.choices import VALUE_LIMIT
from ..models.interaction import Hover, Selection
from ..models.lesson import GradientCheck, Lesson
from ..scene import SceneRenderer
from .latest import Latest
from .lesson import BACKGROUND_COST

#: What the check's result says while a big check is worked out in a worker thread.
CHECKING = "<i>Checking the gradient…</i>"


class StageController(QObject):
    """Connects a ``Lesson`` to the painter: frames out, hover/click/double-click in.

    A gradient check of a small lesson is worked out at once; a big one
    (``Lesson.check_cost`` above ``BACKGROUND_COST``) in a worker thread, from a
    snapshot of the lesson, while ``CHECKING`` is shown. It is stopped (at its
    next check of its ``StopToken``) and its result dropped when the lesson
    changed meanwhile, a newer check superseded it, or ``cancel_check`` was called.

    Parameters
    ----------
    lesson : Lesson
    view : SceneRenderer
    say : callable
        ``say(text)`` shows one line in the status bar.
    check_result : callable
        ``check_result(html)`` shows the gradient check's result next to the controls.
    notify : callable
        ``notify(text)`` explains, next to the controls and in the status bar, why nothing happened.

    Signals
    -------
    checking_changed(bool)
        A check is being worked out in a worker thread (True) or no longer (False).
    """

    checking_changed = Signal(bool)

    def __init__(self, lesson: Lesson, view: SceneRenderer, *, say: Callable[[str], None],
                 check_result: Callable[[str], None], notify: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson, self.view = lesson, view
        self._say, self._check_result, self._notify = say, check_result, notify
        self.expanded = False
        self.pinned: tuple[int, int] | None = None
        self._pinned_tile = 0  # the tile (channel) of the pinned cell
        #: The cell the gradient check looks at.
        self.selected: Selection = ("x", (0, 0, 0))
        self._checks = Latest(self._checked, self)
        self._checks.running_changed.connect(self.checking_changed)
        lesson.changed.connect(self._changed)
        lesson.step_changed.connect(self._step_changed)
        view.cell_hovered.connect(self.hovered)
        view.cell_clicked.connect(self.clicked)
        view.cell_double_clicked.connect(self.edit_cell)

    # ------------------------------------------------------------------ frames
    def redraw(self) -> None:
        """Show the lesson's current frame."""
        self.view.show_frame(self.lesson.frame(expanded=self.expanded))

    def set_expanded(self, on: bool) -> None:
        """Every channel side by side (True) or stacked (False)."""
        if on != self.expanded:
            self.expanded = on
            self.redraw()
            if self.pinned is not None:
                self._show(interaction.receptive_field(self.lesson, *self.pinned, self._pinned_tile))

    def _changed(self) -> None:
        self._drop_check()  # a check of the lesson before the change would be stale
        self.pinned = None
        self.redraw()
        self._show(interaction.NOTHING)
        self._check_result("")  # a check of the lesson before the change would be stale

    def _step_changed(self, _: int) -> None:
        self.redraw()
        if self.pinned is None:
            self._show(interaction.NOTHING, say=False)

    def _show(self, h: Hover, *, say: bool = True) -> None:
        self.view.show_highlight("receptive", h.receptive)
        self.view.show_highlight("fed", h.fed)
        self.view.show_highlight("source", h.source)
        self.view.text.show_instead(h.line)
        if say:
            self._say(h.status)

    # ------------------------------------------------------------------ pointing
    def hovered(self, panel: str, ch: int, i: int, j: int) -> None:
        """The mouse is over cell ``(i, j)`` of ``panel`` ("" for none)."""
        if self.pinned is None and not interaction.gather_shown(self.lesson):
            self._show(interaction.hover(self.lesson, panel, i, j, ch))

    def clicked(self, panel: str, ch: int, i: int, j: int) -> None:
        """Select a cell for the gradient check, or pin (unpin) an output cell's receptive field."""
        c = interaction.click(self.lesson, panel, ch, i, j, self.pinned)
        if c.selection is not None:
            self.selected = c.selection
        if c.unpin:
            self.unpin()
            return
        if c.pin is not None:
            self.pinned, self._pinned_tile = c.pin, ch
            self._show(interaction.receptive_field(self.lesson, *c.pin, ch))
        if c.status:
            self._say(c.status)

    def unpin(self) -> None:
        """Release a pinned receptive field."""
        self.pinned = None
        self._show(interaction.NOTHING)

    def edit_cell(self, panel: str, ch: int, i: int, j: int) -> None:
        """Ask for a new value of the double-clicked cell, if it can be edited."""
        e = interaction.edit(self.lesson, panel, ch, i, j)
        if isinstance(e, str):
            if e:
                self._notify(e)
            return
        parent = self.view.window() if isinstance(self.view, QWidget) else None
        value, ok = QInputDialog.getDouble(parent, e.title, e.label, e.value, -VALUE_LIMIT, VALUE_LIMIT, 4)
        if ok:
            e.apply(value)

    # ------------------------------------------------------------------ gradient check
    @property
    def checking(self) -> bool:
        """A gradient check is being worked out in a worker thread."""
        return self._checks.running

    @property
    def token(self) -> StopToken:
        """The running (or last) check's stop token: ``token.checks`` is its progress."""
        return self._checks.token

    def check_gradient(self) -> None:
        """Compare the selected cell's analytic gradient with a centred finite difference."""
        self._drop_check()  # a newer request supersedes a running one
        work = interaction.gradient_check_job(self.lesson, self.selected)
        if isinstance(work, str):
            self._check_result(work)
        elif Lesson.check_cost(self.lesson.params) <= BACKGROUND_COST:
            self._check_result(interaction.check_text(work()))
        else:
            self._checks.start(work)
            self._check_result(CHECKING)

    def cancel_check(self) -> None:
        """Stop the check being worked out; its result is never shown."""
        if self.checking:
            self._drop_check()
            self._check_result("")

    def shutdown(self) -> None:
        """Stop any check being worked out and wait for the worker thread to end (soon: it is stopped)."""
        self._checks.shutdown()

    def _drop_check(self) -> None:
        self._checks.drop()  # its result is never shown

    def _checked(self, result: object) -> None:
        if isinstance(result, GradientCheck) and result.version != self.lesson.version:
            return  # stale (the label was cleared when the lesson changed)
        if isinstance(result, Exception):
            result = f"Cannot check: {result}"
        if isinstance(result, (GradientCheck, str)):
            self._check_result(interaction.check_text(result))
