"""Motion at a pooling step: each value under the window travels into the line, then the result (Qt-free).

The line is ``describe.pool_arithmetic``'s: ``max(3, 1, [4], 1) = 4`` (the winner in brackets, the
overhang left out) or ``(3 + 1 + 4 + 1) / 4 = 2.25`` (only the counted taps). Each term travels
exactly as it reads there, from its own cell of the (padded) input; the result drops into the
output cell. The schedule is ``gui.models.motion``'s.
"""

from __future__ import annotations

import engine
from engine import describe

from .motion import Motion, Travel

__all__ = ["pool_motion"]


def pool_motion(step: engine.PoolStep, arithmetic: str) -> Motion | None:
    """What travels at one pooling step whose line ``arithmetic`` starts with ``describe.pool_arithmetic``.

    Parameters
    ----------
    step : engine.PoolStep
        Its ``values`` (kh, kw) are under ``step.window``; grid ``step.channel`` shows both the input
        and the output channel.
    arithmetic : str
        The frame's arithmetic line.

    Returns
    -------
    Motion or None
        None when the line does not read as expected (nothing travels then).
    """
    vals, kind = step.values.ravel(), step.window.kind.ravel()
    kw = step.values.shape[1]
    if step.chosen is not None:  # max or min: every tap but the overhang, the winner in brackets
        chosen = step.chosen[0] * kw + step.chosen[1]
        taps = [k for k in range(vals.size) if kind[k] != 2]
        texts = [f"[{describe.fmt(vals[k])}]" if k == chosen else describe.fmt(vals[k]) for k in taps]
        at, sep = len(step.op) + 1, ", "
    else:  # average: the counted taps, negative ones in brackets
        counted = step.counted.ravel()
        taps = [k for k in range(vals.size) if counted[k]]
        texts = [describe.fmt(vals[k]) if vals[k] >= 0 else f"({describe.fmt(vals[k])})" for k in taps]
        at, sep = 1, " + "
    win = step.window
    travels: list[Travel] = []
    for slot, (k, text) in enumerate(zip(taps, texts, strict=True)):
        if arithmetic[at:at + len(text)] != text:
            return None
        i, j = divmod(k, kw)
        travels.append(Travel("value", "input", step.channel, (int(win.rows[i]), int(win.cols[j])), text,
                              slot, at))
        at += len(text) + len(sep)
    if not travels:
        return None
    total = describe.fmt(step.result)
    pos = arithmetic.find(f"= {total}", travels[-1].end)
    if pos >= 0:
        travels.append(Travel("sum", "output", step.channel, (step.out_row, step.out_col), total,
                              len(taps), pos + 2))
    return Motion(tuple(travels), travels[0].start)
