"""Playback: a ``QTimer`` ticks the core's ``PlaybackClock`` and moves the lesson's step."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..models.choices import MAX_SPEED, MIN_SPEED
from ..models.clock import SPEEDS, PlaybackClock
from ..models.lesson import Lesson

__all__ = ["MAX_SPEED", "MIN_SPEED", "SPEEDS", "PlaybackController"]


class PlaybackController(QObject):
    """Plays, pauses and steps a ``Lesson``; drives the painter's glide.

    One ``QTimer`` ticks at the display rate while anything moves; the
    ``PlaybackClock`` decides which step is due and the glide fraction, which
    goes to ``glide`` (connected to the painter). Playback asks for the next
    step only when the last one was drawn, so a slow frame is dropped, never queued.

    Signals
    -------
    playing_changed(bool)
    speed_changed(float)
    glide(float)
        Fraction 0..1 of the way from the previous step's highlight to the current one.
    travel(bool)
        A glide begins, with travelling products (True) or without: sent before its first ``glide``.

    Attributes
    ----------
    pieces : callable
        ``pieces()``: how many products travel in the glide to the step shown (0: no motion).
    far : callable
        ``far(k)``, asked before a move to step ``k`` (not playback's steps, which stay synchronous):
        True when it took the move over (a far jump worked out in a worker; the step moves when it lands).
    """

    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    glide = Signal(float)
    travel = Signal(bool)

    def __init__(self, model: Lesson, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.clock = PlaybackClock()
        self.clock.playing_changed.connect(self.playing_changed.emit)
        self.clock.speed_changed.connect(self.speed_changed.emit)
        self.timer = QTimer(self)
        self.timer.setInterval(16)
        self.timer.timeout.connect(self._tick)
        self.pieces: Callable[[], int] = lambda: 0
        self.far: Callable[[int], bool] = lambda k: False

    # ------------------------------------------------------------------ state
    @property
    def playing(self) -> bool:
        """True while playing."""
        return self.clock.playing

    @property
    def speed(self) -> float:
        """Steps per second."""
        return self.clock.speed

    @property
    def dropped(self) -> int:
        """Steps skipped because a frame came late."""
        return self.clock.dropped

    @property
    def steps_played(self) -> int:
        """Steps advanced by playback."""
        return self.clock.steps_played

    def set_speed(self, v: float) -> None:
        """Set steps per second, clamped to 0.25-60."""
        self.clock.set_speed(v)

    def faster(self) -> None:
        """Next speed up in ``SPEEDS``."""
        self.clock.faster()

    def slower(self) -> None:
        """Next speed down in ``SPEEDS``."""
        self.clock.slower()

    # ------------------------------------------------------------------ transport
    def play(self) -> None:
        """Start playing; from the last step, start again at the first."""
        if self.clock.playing:
            return
        if self.model.step >= self.model.n_steps - 1:
            self.model.set_step(0)
        self.clock.play(time.perf_counter())
        self.timer.start()

    def pause(self) -> None:
        """Stop playing (the glide in progress finishes)."""
        self.clock.pause()

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        self.pause() if self.clock.playing else self.play()

    def stop(self) -> None:
        """Pause and stop every timer (used on close)."""
        self.pause()
        self.timer.stop()
        self.glide.emit(1.0)

    def step_by(self, n: int) -> None:
        """Move ``n`` steps (negative: back), with a glide."""
        self.go_to(self.model.step + n, animate=True)

    def first(self) -> None:
        """Go to the first step."""
        self.go_to(0, animate=False)

    def last(self) -> None:
        """Go to the last step."""
        self.pause()
        self.go_to(self.model.n_steps - 1, animate=False)

    def go_to(self, k: int, *, animate: bool = False) -> None:
        """Move to step ``k``; glide there when ``animate``."""
        if self.far(k):
            return
        before = self.model.step
        self.model.set_step(k)
        if self.model.step == before:
            return
        if animate:
            self._start_glide()
        else:
            self.glide.emit(1.0)

    def _start_glide(self) -> None:
        t = self.clock.start_glide(time.perf_counter(), self.pieces())
        self.travel.emit(self.clock.motion)
        self.glide.emit(t)
        if t < 1.0 and not self.timer.isActive():
            self.timer.start()

    def _tick(self) -> None:
        m = self.model
        tick = self.clock.tick(time.perf_counter(), at_last_step=m.step >= m.n_steps - 1)
        self.glide.emit(tick.glide)
        if tick.advance:
            m.set_step(m.step + 1)
            self._start_glide()
        elif tick.idle:
            self.timer.stop()
