"""What an export covers and how it reports (Qt-free): bounds, steps, progress and an estimate.

The command line, the export dialog and every writer read these, so a bound
or a default is decided once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .outfiles import ExportCancelled, ExportError

__all__ = [
    "MAX_FPS",
    "MAX_LOOP",
    "MIN_FPS",
    "Announce",
    "Progress",
    "Ticker",
    "default_steps",
    "estimate_text",
    "is_long",
    "parse_steps",
]

#: Frame rate bounds (frames per second) and the GIF loop count's bound (0 = forever).
MIN_FPS, MAX_FPS = 0.1, 60.0
MAX_LOOP = 0xFFFF
#: Formats that default to the lesson's current step (the others to every step).
ONE_STEP_FORMATS = ("png", "svg", "pdf")
#: progress(done, total) -> keep going?
Progress = Callable[[int, int], bool]
#: announce(frames, estimated seconds): said once the first frame has been timed.
Announce = Callable[[int, float], None]


def parse_steps(text: str | None, n_steps: int) -> range:
    """``"START:STOP"`` (0-based, STOP exclusive, either may be empty) as a range within the trace.

    Raises
    ------
    ExportError
        For text that is not of that form or an empty range.
    """
    if not text:
        return range(n_steps)
    parts = text.split(":")
    if len(parts) != 2:
        raise ExportError(f"steps must look like START:STOP (e.g. 0:10), got {text!r}")
    try:
        start = int(parts[0]) if parts[0].strip() else 0
        stop = int(parts[1]) if parts[1].strip() else n_steps
    except ValueError:
        raise ExportError(f"steps must be whole numbers, as in 0:10; got {text!r}") from None
    start, stop = max(0, start), min(n_steps, stop)
    if start >= stop:
        raise ExportError(f"steps {text} select no step: this animation has steps 0 to {n_steps - 1}")
    return range(start, stop)


def default_steps(step: int, n_steps: int, fmt: str) -> range:
    """Step ``step`` alone for PNG, SVG and PDF; every step for GIF, MP4 and JSON."""
    return range(step, step + 1) if fmt in ONE_STEP_FORMATS else range(n_steps)


class Ticker:
    """Counts frames for ``progress``; after the first, estimates the whole export for ``announce``.

    Calling it with the number of frames done raises ``ExportCancelled`` when
    ``progress`` returns False (and lets anything ``progress`` raises, such as
    an interrupt, through). Writers call it between frames, in their own code,
    never from inside a Qt call; before the first frame as often as they like
    (a GIF's palette is worked out first): the estimate times the first frame
    from the last call with 0.
    """

    def __init__(self, total: int, progress: Progress | None, announce: Announce | None = None) -> None:
        self.total, self.progress, self.announce = total, progress, announce
        self._t0: float | None = None

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if self._t0 is None or done == 0:
            self._t0 = now
        elif done == 1 and self.announce is not None and self.total > 1:
            self.announce(self.total, (now - self._t0) * self.total)
        if self.progress is not None and not self.progress(done, self.total):
            raise ExportCancelled()


#: An export this long is announced with its length and an estimate before it runs on.
LONG_EXPORT_FRAMES, LONG_EXPORT_SECONDS = 100, 10.0


def is_long(frames: int, seconds: float) -> bool:
    """Whether an export of ``frames`` frames taking about ``seconds`` deserves a warning."""
    return frames >= LONG_EXPORT_FRAMES or seconds >= LONG_EXPORT_SECONDS


def estimate_text(frames: int, seconds: float) -> str:
    """"3,000 frames, about 2 min 30 s"."""
    s = max(1, round(seconds))
    if s < 60:
        took = f"{s} s"
    elif s < 3600:
        took = f"{s // 60} min" + (f" {s % 60} s" if s < 600 and s % 60 else "")
    else:
        took = f"{s // 3600} h {s % 3600 // 60} min"
    return f"{frames:,} frames, about {took}"
