"""Motion that teaches: what travels where during the glide from one step to the next (Qt-free).

At a convolution step each product ``input·weight`` leaves its input cell and
flies into its place in the step's arithmetic line, one at a time; then the
sum leaves the line and drops into the output cell. The core decides all of
it (which cell, which text, which slot of the line and where that slot's text
starts); the painter only interpolates positions along the schedule below.

The schedule of one glide, with ``t`` running 0..1:

- ``0 .. WINDOW_SHARE``: the window glides to its new place (nothing travels yet);
- then ``n`` equal slices, one per travelling piece: piece ``k`` flies during
  slice ``k`` and stays in its slot afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import engine
from engine import describe

from .choices import MotionSetting, PanelName

__all__ = [
    "MIN_PIECE_MS",
    "MOTION_FPS",
    "PIECE_MS",
    "WINDOW_SHARE",
    "Moment",
    "Motion",
    "Travel",
    "conv_motion",
    "export_fractions",
    "export_per_step",
    "glide_ms",
    "moment",
    "motion_on",
    "product_text",
    "relocate",
]

#: Share of the glide the window takes to move before the first product leaves.
WINDOW_SHARE = 0.2
#: How long one piece flies when there is time (ms).
PIECE_MS = 180.0
#: The longest a whole glide with motion takes when stepping by hand (ms).
MAX_MOTION_MS = 2500.0
#: Below this many milliseconds per piece the motion is skipped (the window just glides):
#: at high playback rates the steps stay on time.
MIN_PIECE_MS = 30.0
#: Pictures per second of an exported animation while pieces travel.
MOTION_FPS = 50.0
#: Fewest in-between pictures per piece worth exporting (fewer: the export shows no motion).
MIN_EXPORT_PER_PIECE = 1.0

TravelKind = Literal["product", "value", "sum"]


@dataclass(frozen=True)
class Travel:
    """One piece of text that travels between a cell and the arithmetic line.

    Attributes
    ----------
    kind : {"product", "value", "sum"}
        A product (or a pooled value) flies from ``cell`` into the line; the sum (or the pooled result)
        flies from the line into ``cell``.
    panel : PanelName
        The panel of ``cell`` ("input" for a product, "output" for the sum).
    grid : int
        Index of the grid of ``panel`` that holds ``cell``.
    cell : (int, int)
        Grid coordinates (padded ones on the input).
    text : str
        Exactly the text that travels, as it reads in the arithmetic line ("2·(−1)", "−1.5").
    slot : int
        Which term of the line it is (0 the first product; the sum is slot ``n`` after ``n`` products).
    start : int
        Character offset of ``text`` in ``Frame.arithmetic``; the text ends at ``start + len(text)``.
    """

    kind: TravelKind
    panel: PanelName
    grid: int
    cell: tuple[int, int]
    text: str
    slot: int
    start: int

    @property
    def into_line(self) -> bool:
        """Whether it flies from its cell into the line (a product or a pooled value), not back out."""
        return self.kind != "sum"

    @property
    def end(self) -> int:
        """Character offset just past ``text`` in ``Frame.arithmetic``."""
        return self.start + len(self.text)


@dataclass(frozen=True)
class Motion:
    """Everything that travels during one glide, in order.

    Attributes
    ----------
    travels : tuple of Travel
        The products (in the order of the arithmetic line), then the sum, if the step finishes a cell.
    hidden_from : int
        Character offset in ``Frame.arithmetic`` from which the line is built up by the motion:
        text there is shown only once the piece it belongs to has arrived.
    """

    travels: tuple[Travel, ...]
    hidden_from: int

    @property
    def pieces(self) -> int:
        """How many pieces travel."""
        return len(self.travels)

    def shown_until(self, m: Moment, length: int) -> int:
        """Character offset up to which the arithmetic line (``length`` characters) reads at moment ``m``.

        Text from ``hidden_from`` on appears as the products arrive; once every product is in
        its place the whole line reads (the sum leaves from it).
        """
        arrived = [tr for k, tr in enumerate(self.travels)
                   if tr.into_line and (k < m.moving or (k == m.moving and m.flight >= 1.0))]
        products = sum(tr.into_line for tr in self.travels)
        if len(arrived) == products:
            return length
        return arrived[-1].end if arrived else self.hidden_from


@dataclass(frozen=True)
class Moment:
    """Where the motion is at one glide fraction.

    Attributes
    ----------
    window : float
        Fraction 0..1 of the window's own glide.
    moving : int
        Index of the piece in flight (``-1``: none yet; ``n``: all arrived).
    flight : float
        Fraction 0..1 of its flight.
    """

    window: float
    moving: int
    flight: float


def moment(t: float, n: int) -> Moment:
    """The schedule of a glide with ``n`` travelling pieces at fraction ``t`` (0..1) (see the module)."""
    t = min(max(float(t), 0.0), 1.0)
    if n <= 0:
        return Moment(t, 0, 1.0)
    if t >= 1.0:
        return Moment(1.0, n, 1.0)
    if t < WINDOW_SHARE:
        return Moment(t / WINDOW_SHARE, -1, 0.0)
    u = (t - WINDOW_SHARE) / (1.0 - WINDOW_SHARE) * n
    k = min(int(u), n - 1)
    return Moment(1.0, k, min(u - k, 1.0))


def glide_ms(pieces: int, interval_ms: float | None) -> float:
    """How long a glide with ``pieces`` travelling pieces takes, or 0 when motion is to be skipped.

    Parameters
    ----------
    pieces : int
    interval_ms : float or None
        Time between steps while playing (the glide takes at most 80% of it); None when stepping by hand.
    """
    if pieces <= 0:
        return 0.0
    want = min(PIECE_MS * pieces / (1.0 - WINDOW_SHARE), MAX_MOTION_MS)
    room = want if interval_ms is None else min(want, 0.8 * interval_ms)
    per_piece = room * (1.0 - WINDOW_SHARE) / pieces
    return room if per_piece >= MIN_PIECE_MS else 0.0


def export_fractions(pieces: int, fps: float) -> tuple[tuple[float, ...], int] | None:
    """The glide fractions an exported animation shows between two steps, or None (no motion).

    Parameters
    ----------
    pieces : int
        Pieces travelling at the step.
    fps : float
        Steps per second of the export.

    Returns
    -------
    (fractions, per_step) or None
        ``per_step`` pictures per step at ``fps * per_step`` pictures per second: the in-between
        ``fractions`` (0 < f < 1, 80% of the step's time) and then the finished picture repeated.
    """
    if pieces <= 0:
        return None
    per_step = max(1, round(MOTION_FPS / fps))
    moving = int(0.8 * per_step)
    if moving < MIN_EXPORT_PER_PIECE * pieces:
        return None
    return tuple((j + 1) / (moving + 1) for j in range(moving)), per_step


def export_per_step(setting: MotionSetting, fps: float) -> int:
    """Pictures per step of an exported animation at ``fps`` steps per second: 1 without motion
    (the setting is not "on", or the steps come too fast for in-between pictures)."""
    per_step = round(MOTION_FPS / fps) if setting == "on" else 1
    return per_step if per_step >= 3 else 1


def motion_on(setting: MotionSetting, presenting: bool) -> bool:
    """Whether products travel: "on", or "auto" in presenter mode."""
    return setting == "on" or (setting == "auto" and presenting)


# ----------------------------------------------------------------------------- what travels
def product_text(a: float, b: float) -> str:
    """``a·b`` as an arithmetic line writes a product: negative numbers in brackets ("2·(−1)")."""
    return f"{_term(a)}{describe.TIMES}{_term(b)}"


def _term(v: float) -> str:
    s = describe.fmt(v)
    return f"({s})" if v < 0 else s


def conv_motion(step: engine.ConvStep, arithmetic: str, *, grid_of: tuple[int, ...], out_grid: int,
                start: int = 0) -> Motion | None:
    """What travels at one convolution step whose multiply-adds ``arithmetic`` spells out.

    Parameters
    ----------
    step : engine.ConvStep
    arithmetic : str
        The frame's arithmetic (``describe.conv_arithmetic``'s text, maybe after a prefix).
    grid_of : tuple of int
        Input grid that shows each of the step's input channels (``step.inputs.shape[0]`` of them).
    out_grid : int
        Output grid of the cell being written.
    start : int
        Where the step's terms begin in ``arithmetic``.

    Returns
    -------
    Motion or None
        None when the line names no product (nothing to travel). A product the line leaves out
        ("… (12 more) …") does not travel; the sum travels when the step finishes its cell.
    """
    x, w = step.inputs.ravel(), step.weights.ravel()
    n = x.size if step.tap is None else int(engine_index(step.tap, step.weights.shape)) + 1
    first = 0 if step.tap is None else n - 1  # at tap granularity only the new product travels
    kh, kw = step.weights.shape[1:]
    win = step.window
    travels: list[Travel] = []
    at = start
    hidden = -1
    for k in describe.shown_terms(n):  # a product the line leaves out never travels (nor takes a
        text = product_text(float(x[k]), float(w[k]))  # later product's place with the same text)
        pos = arithmetic.find(text, at)
        if pos < 0:
            continue
        at = pos + len(text)
        if k < first:
            continue
        c, rem = divmod(k, kh * kw)
        i, j = divmod(rem, kw)
        hidden = pos if hidden < 0 else hidden
        travels.append(Travel("product", "input", grid_of[c], (int(win.rows[i]), int(win.cols[j])), text,
                              k, pos))
    if not travels:
        return None
    if step.complete:
        total = describe.fmt(step.total)
        pos = arithmetic.find(f"= {total}", at)
        if pos >= 0:
            travels.append(Travel("sum", "output", out_grid, (step.out_row, step.out_col), total, n, pos + 2))
    return Motion(tuple(travels), hidden)


def relocate(m: Motion | None, arithmetic: str) -> Motion | None:
    """``m`` for the same terms in a reworded ``arithmetic`` (indices written another way): each text is
    found again, in order; None when one is missing."""
    if m is None:
        return None
    travels, at = [], 0
    for t in m.travels:
        lead = "" if t.into_line else "= "
        pos = arithmetic.find(lead + t.text, at)
        if pos < 0:
            return None
        travels.append(replace(t, start=pos + len(lead)))
        at = pos + len(lead) + len(t.text)
    return Motion(tuple(travels), travels[0].start)


def engine_index(tap: tuple[int, int, int], shape: tuple[int, ...]) -> int:
    """Raster index of multiply-add ``tap = (c, p, q)`` in a window of ``shape = (C, kh, kw)``."""
    c, p, q = tap
    return (c * shape[1] + p) * shape[2] + q
