"""Playback: the controller owns the timers (stepping and the glide between steps)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from .models.lesson import Lesson

MIN_SPEED, MAX_SPEED = 0.25, 60.0
SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
GLIDE_MS = 220.0


class PlaybackController(QObject):
    """Plays, pauses and steps a ``Lesson``; drives the renderer's glide.

    One ``QTimer`` ticks at the display rate while anything moves. A step is
    due every ``1/speed`` seconds; the glide fraction between steps goes to
    ``glide`` (connected to the renderer). Playback asks for the next step only
    when the last one was drawn, so a slow frame is dropped, never queued.

    Signals
    -------
    playing_changed(bool)
    speed_changed(float)
    glide(float)
        Fraction 0..1 of the way from the previous step's highlight to the current one.
    """

    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    glide = Signal(float)

    def __init__(self, model: Lesson, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._speed = 2.0
        self._playing = False
        self.timer = QTimer(self)
        self.timer.setInterval(16)
        self.timer.timeout.connect(self._tick)
        self._last_step_t = 0.0
        self._glide_start = 0.0
        self._glide_ms = GLIDE_MS
        self.dropped = 0
        self.steps_played = 0

    # ------------------------------------------------------------------ state
    @property
    def playing(self) -> bool:
        """True while playing."""
        return self._playing

    @property
    def speed(self) -> float:
        """Steps per second."""
        return self._speed

    def set_speed(self, v: float) -> None:
        """Set steps per second, clamped to 0.25-60."""
        v = min(max(float(v), MIN_SPEED), MAX_SPEED)
        if v != self._speed:
            self._speed = v
            self.speed_changed.emit(v)

    def faster(self) -> None:
        """Next speed up in ``SPEEDS``."""
        self.set_speed(next((s for s in SPEEDS if s > self._speed + 1e-9), MAX_SPEED))

    def slower(self) -> None:
        """Next speed down in ``SPEEDS``."""
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self._speed - 1e-9), MIN_SPEED))

    # ------------------------------------------------------------------ transport
    def play(self) -> None:
        """Start playing; from the last step, start again at the first."""
        if self._playing:
            return
        if self.model.step >= self.model.n_steps - 1:
            self.model.set_step(0)
        self._playing = True
        self._last_step_t = time.perf_counter()
        self.timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop playing (the glide in progress finishes)."""
        if not self._playing:
            return
        self._playing = False
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        self.pause() if self._playing else self.play()

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
        before = self.model.step
        self.model.set_step(k)
        if self.model.step == before:
            return
        if animate:
            self._start_glide()
        else:
            self.glide.emit(1.0)

    def _start_glide(self) -> None:
        interval_ms = 1000.0 / self._speed
        self._glide_ms = min(GLIDE_MS, 0.8 * interval_ms) if self._playing else GLIDE_MS
        self._glide_start = time.perf_counter()
        if self._glide_ms < 17:
            self.glide.emit(1.0)
        else:
            self.glide.emit(0.0)
            if not self.timer.isActive():
                self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        frac = (now - self._glide_start) * 1000.0 / self._glide_ms if self._glide_ms else 1.0
        self.glide.emit(min(frac, 1.0))
        if self._playing:
            due = self._last_step_t + 1.0 / self._speed
            if now >= due:
                if self.model.step >= self.model.n_steps - 1:
                    self.pause()
                else:
                    late = int((now - due) * self._speed)
                    self.dropped += late
                    self._last_step_t = max(due, now - 1.0 / self._speed)
                    self.steps_played += 1
                    self.model.set_step(self.model.step + 1)
                    self._start_glide()
        elif frac >= 1.0:
            self.timer.stop()
