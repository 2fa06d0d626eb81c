"""The playback clock: which step is due and how far the glide between steps has come.

Pure arithmetic on times in seconds, with no timer of its own: the Qt shell
ticks it at the display rate and the tests tick it with a fake clock. A step
that comes due while the previous one is still being drawn is dropped (counted
in ``dropped``), never queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from psygnal import Signal

from .choices import DEFAULT_SPEED, MAX_SPEED, MIN_SPEED
from .motion import glide_ms

#: The speeds that + and − step through, steps per second.
SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
#: How long the highlight glides from one step to the next, at most (ms).
GLIDE_MS = 220.0
#: Below this many milliseconds a glide is not worth a frame: the highlight jumps.
MIN_GLIDE_MS = 17.0


@dataclass(frozen=True)
class Tick:
    """What one tick of the clock asks for.

    Attributes
    ----------
    glide : float
        Fraction 0..1 of the way from the previous step's highlight to the current one.
    advance : bool
        The next step is due: show it (and call ``stepped``).
    finished : bool
        Playback reached the last step and paused itself.
    idle : bool
        Nothing moves any more: the timer may stop.
    """

    glide: float
    advance: bool = False
    finished: bool = False
    idle: bool = False


class PlaybackClock:
    """Playing or paused, the speed, and the glide between steps.

    Signals
    -------
    playing_changed(bool)
    speed_changed(float)
    """

    playing_changed = Signal(bool)
    speed_changed = Signal(float)

    def __init__(self, speed: float = DEFAULT_SPEED) -> None:
        self._speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        self._playing = False
        self._last_step_t = 0.0
        self._glide_start = 0.0
        self._glide_ms = GLIDE_MS
        self.motion = False  # the glide in progress shows travelling products
        self.dropped = 0
        self.steps_played = 0

    @property
    def playing(self) -> bool:
        """True while playing."""
        return self._playing

    @property
    def speed(self) -> float:
        """Steps per second."""
        return self._speed

    def set_speed(self, v: float) -> None:
        """Set steps per second, clamped to ``MIN_SPEED``–``MAX_SPEED``."""
        v = min(max(float(v), MIN_SPEED), MAX_SPEED)
        if v != self._speed:
            self._speed = v
            self.speed_changed.emit(v)

    def faster(self) -> None:
        """The next speed up in ``SPEEDS``."""
        self.set_speed(next((s for s in SPEEDS if s > self._speed + 1e-9), MAX_SPEED))

    def slower(self) -> None:
        """The next speed down in ``SPEEDS``."""
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self._speed - 1e-9), MIN_SPEED))

    def play(self, now: float) -> None:
        """Start playing at time ``now`` (seconds); the first step is due ``1/speed`` later."""
        if self._playing:
            return
        self._playing = True
        self._last_step_t = now
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop playing (a glide in progress finishes)."""
        if self._playing:
            self._playing = False
            self.playing_changed.emit(False)

    def start_glide(self, now: float, pieces: int = 0) -> float:
        """A step was taken at ``now``: start gliding to it; return the fraction to show at once.

        While playing, a glide takes at most 80% of the time between steps, so the
        highlight rests on each step before the next; a glide shorter than a frame
        is a jump (1.0). With ``pieces`` travelling products the glide lasts long enough
        for each to fly (``motion.glide_ms``), or, when the steps come too fast for that,
        the motion is skipped (``motion`` False) and the step keeps its time.
        """
        interval_ms = 1000.0 / self._speed
        moving = glide_ms(pieces, interval_ms if self._playing else None)
        self.motion = moving > 0
        if self.motion:
            self._glide_ms = moving
        else:
            self._glide_ms = min(GLIDE_MS, 0.8 * interval_ms) if self._playing else GLIDE_MS
        self._glide_start = now
        return 1.0 if self._glide_ms < MIN_GLIDE_MS else 0.0

    def glide_fraction(self, now: float) -> float:
        """How far (0..1) the current glide has come at ``now``."""
        if self._glide_ms <= 0:
            return 1.0
        return min(max((now - self._glide_start) * 1000.0 / self._glide_ms, 0.0), 1.0)

    def tick(self, now: float, *, at_last_step: bool) -> Tick:
        """Advance the clock to ``now``.

        Parameters
        ----------
        now : float
            Seconds, from the same clock as ``play`` and ``start_glide``.
        at_last_step : bool
            The lesson shows its last step (playback then pauses instead of advancing).
        """
        glide = self.glide_fraction(now)
        if not self._playing:
            return Tick(glide, idle=glide >= 1.0)
        due = self._last_step_t + 1.0 / self._speed
        if now < due:
            return Tick(glide)
        if at_last_step:
            self.pause()
            return Tick(glide, finished=True, idle=glide >= 1.0)
        self.dropped += int((now - due) * self._speed)
        self._last_step_t = max(due, now - 1.0 / self._speed)
        self.steps_played += 1
        return Tick(glide, advance=True)
