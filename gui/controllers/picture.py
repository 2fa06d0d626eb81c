"""Reads a picture into the lesson off the UI thread: the last picture stays, Cancel stops it, close joins.

``PictureLoader.open`` decides as the lesson's changes do: a small picture
into a small lesson is read and applied at once; a big one (many pixels in
its header, or a lesson whose traces cost more than ``BACKGROUND_COST`` once
it takes the picture's size) is decoded, area-averaged and worked out into
the lesson's first picture in a worker thread (a ``Latest``, as the
lesson's changes), then committed on the UI thread. Meanwhile the stage
keeps the last picture and stays interactive. A newer picture supersedes
a running one, ``cancel`` drops it, ``shutdown`` stops it and waits; the
decode itself stops within a chunk of the file (``gui.images`` reads
through a stoppable device), so waiting is short.

``BusyRow`` shares the panel's busy row and its Cancel between a big lesson
change and a picture being read: whichever starts last stops the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..controls import ControlPanel
from ..models.cancel import StopToken, checkpoint
from ..models.lesson import Lesson, Prepared
from .jump import JumpController
from .latest import Latest
from .lesson import BACKGROUND_COST, LessonController

#: A picture with more pixels than this (read from its header) is read in a worker thread.
BACKGROUND_PIXELS = 1_000_000


@dataclass(frozen=True)
class Loaded:
    """A picture read and worked out into the lesson in the worker, not applied yet."""

    shape: tuple[int, ...]
    prepared: Prepared


class PictureLoader(QObject):
    """Reads pictures into ``lesson`` and says what happened (``notify``, ``say``).

    Signals
    -------
    loading_changed(str)
        The name of the picture now being read in the background, or "" when none is.
    """

    loading_changed = Signal(str)

    def __init__(self, lesson: Lesson, *, notify: Callable[..., None], say: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson = lesson
        self._notify, self._say = notify, say
        self._latest = Latest(self._finished, self)
        #: The name of the picture being read in the background ("" when none is).
        self.loading = ""
        lesson.changed.connect(self._lesson_changed)

    @property
    def token(self) -> StopToken:
        """The running (or last) picture's stop token: ``token.checks`` is its progress."""
        return self._latest.token

    def open(self, path: str | Path, *, gray: bool = True, size: tuple[int, int] = (28, 28),
             unit: bool = True) -> bool:
        """Read ``path`` into the input (a picture being read is superseded).

        Returns
        -------
        bool
            True when the picture is in, or being read in the background;
            False when it was refused (the reason is shown, the input is unchanged).
        """
        from ..images import MAX_PIXELS, ImageError, picture_pixels, read_image

        self._drop()
        name = Path(path).name
        pixels = picture_pixels(path)  # from the header: a picture over the limit is refused at once
        if pixels > MAX_PIXELS or not self._big(pixels, gray, size):
            try:
                x = read_image(path, gray=gray, size=size, unit=unit)
            except ImageError as exc:
                return self._refused(f"{exc}. The input is unchanged")
            if not self.lesson.use_picture(x):
                return self._refused(self.lesson.last_error or "refused")
            return self._landed(name, x.shape)
        prepare = self.lesson.picture_preparer()

        def work() -> Loaded:
            x = read_image(path, gray=gray, size=size, unit=unit)
            checkpoint()
            return Loaded(x.shape, prepare(x))

        self._latest.start(work)
        self._set_loading(name)
        self._say(f"Loading {name}… (Cancel or Esc stops it; the last picture stays meanwhile)")
        return True

    def _big(self, pixels: int, gray: bool, size: tuple[int, int]) -> bool:
        """Whether reading ``pixels`` into a grid of ``size`` goes to the worker."""
        if pixels > BACKGROUND_PIXELS:
            return True
        try:
            p = self.lesson.params_with(in_c=1 if gray else 3, in_h=size[0], in_w=size[1])
        except TypeError:
            return False
        return Lesson.cost(p) > BACKGROUND_COST

    def cancel(self) -> None:
        """Stop the picture being read; the input is unchanged."""
        if self.loading:
            name = self.loading
            self._drop()
            self._say(f"Stopped loading {name}; the input is unchanged")

    def shutdown(self) -> None:
        """Stop any picture being read and wait for the worker thread to end (soon: it is stopped)."""
        self._set_loading("")
        self._latest.shutdown()

    def _lesson_changed(self) -> None:
        if self.loading:  # a newer change (a parameter, a file, a preset) supersedes the picture
            name = self.loading
            self._drop()
            self._say(f"Stopped loading {name}: a newer change came first")

    def _drop(self) -> None:
        self._latest.drop()  # its result is never used
        self._set_loading("")

    def _set_loading(self, name: str) -> None:
        if name != self.loading:
            self.loading = name
            self.loading_changed.emit(name)

    def _finished(self, result: object) -> None:
        name = self.loading
        self._set_loading("")
        if isinstance(result, Loaded):
            if result.prepared.refused:
                self._refused(result.prepared.refused)
            elif self.lesson.commit(result.prepared):
                self._landed(name, result.shape)
            else:  # the lesson changed meanwhile (that would have stopped the job: a safety net)
                self._refused("the lesson changed while it was read; read it again")
        elif isinstance(result, Exception):
            self._refused(f"{result}. The input is unchanged")

    def _refused(self, why: str) -> bool:
        self._notify(f"Could not use the picture: {why}", error=True)
        return False

    def _landed(self, name: str, shape: tuple[int, ...]) -> bool:
        self._notify("")
        self._say(f"Input: {name}, {'×'.join(str(n) for n in shape)}")
        return True


class BusyRow(QObject):
    """One busy row (and one Cancel) on ``panel`` for a big lesson change and a picture being read.

    The newer of the two stops the other: a parameter change supersedes a
    picture being read, a picture asked for supersedes a change being computed.
    """

    def __init__(self, panel: ControlPanel, changes: LessonController, pictures: PictureLoader,
                 parent: QObject | None = None, *, jumps: JumpController | None = None) -> None:
        super().__init__(parent)
        self.panel, self.changes, self.pictures, self.jumps = panel, changes, pictures, jumps
        panel.cancel.clicked.connect(pictures.cancel)
        changes.busy_changed.connect(self._change_busy)
        pictures.loading_changed.connect(self._picture_busy)
        if jumps is not None:  # a far step being worked out shares the row; Cancel stops it too
            panel.cancel.clicked.connect(jumps.cancel)
            jumps.jumping_changed.connect(lambda _: self._show())

    def cancel(self) -> bool:
        """Stop whichever runs (Esc); False when nothing did."""
        jumping = self.jumps is not None and self.jumps.jumping
        if not (self.changes.busy or self.pictures.loading or jumping):
            return False
        self.pictures.cancel()
        self.changes.cancel()
        if self.jumps is not None:
            self.jumps.cancel()
        return True

    def _change_busy(self, on: bool) -> None:
        if on:
            self.pictures.cancel()
        self._show()

    def _picture_busy(self, name: str) -> None:
        if name:
            self.changes.cancel()
        self._show()

    def _show(self) -> None:
        name = self.pictures.loading
        step = -1 if self.jumps is None else self.jumps.target
        what = (f"Loading {name}… the last picture stays meanwhile" if name
                else "" if self.changes.busy or step < 0
                else f"Computing step {step + 1}… the last picture stays meanwhile")
        self.panel.show_busy(self.changes.busy or bool(name) or step >= 0, what)


__all__ = ["BACKGROUND_PIXELS", "BusyRow", "Loaded", "PictureLoader"]
