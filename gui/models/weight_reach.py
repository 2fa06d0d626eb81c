"""What one kernel weight touches: every input cell it multiplies, over all the steps.

That set is exactly what the weight's gradient sums over,
``dL/dW[o, c, p, q] = Σ_{oh, ow} dL/dZ[o, oh, ow] · X_padded[g·C/G + c, oh·s + p·d, ow·s + q·d]``,
so hovering a weight lights it, and in a backward lesson spells that sum out
with the real numbers (it equals the dL/dW cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import describe

from .lesson import Lesson
from .motion import product_text

#: Most terms the dL/dW line spells out before it elides the middle ones.
MAX_TERMS = 12


@dataclass(frozen=True)
class WeightReach:
    """The input cells one kernel weight multiplies, and (backward) its gradient as a sum.

    Attributes
    ----------
    weight : (int, int, int, int)
        ``(o, c, i, j)`` of the kernel as applied (``c`` within the group), as the dL/dW panel shows it.
    channel : int
        The input channel it reads.
    cells : tuple of (int, int)
        Padded input cells, in the order of the output cells (raster), one per output cell;
        a cell reached by several output cells (stride < dilation·… overlaps) is listed once.
    line : str
        ``dL/dW[o,c,p,q] = Σ dL/dZ·x = 1·2 + … = 7`` in a backward lesson, else "".
    total : float or None
        The sum that line ends with (the dL/dW cell), None in a forward lesson.
    """

    weight: tuple[int, int, int, int]
    channel: int
    cells: tuple[tuple[int, int], ...]
    line: str = ""
    total: float | None = None


def weight_reach(lesson: Lesson, o: int, c: int, i: int, j: int) -> WeightReach:
    """The input cells kernel cell ``(i, j)`` as drawn (of kernel ``o``, channel ``c`` within its group)
    multiplies at every output cell, and, backward, that cell's gradient.

    Parameters
    ----------
    lesson : Lesson
        A convolution lesson.
    o, c, i, j : int
        The kernel cell on the stage: output channel, channel within the group, row and column
        of the kernel as applied (flipped when ``flip_kernel``), which is how the dL/dW panel
        and the engine's ``grad_w`` index it too.
    """
    weight = (o, c, i, j)
    p = lesson.params
    g = lesson.trace.geometry
    rows = [int(g.rows.taps(oh)[i]) for oh in range(g.rows.out)]
    cols = [int(g.cols.taps(ow)[j]) for ow in range(g.cols.out)]
    channel = (o // (p.out_c // p.groups)) * p.group_in + c
    seen: dict[tuple[int, int], None] = {}
    for r in rows:
        for col in cols:
            seen.setdefault((r, col), None)
    cells = tuple(seen)
    run = lesson.run
    if p.mode == "forward" or run.dz is None or p.is_transpose:
        return WeightReach(weight, channel, cells)
    x = np.asarray(lesson.trace.x_padded)[channel]
    dz = run.dz[o]
    terms = [(float(dz[oh, ow]), float(x[r, col]))
             for oh, r in enumerate(rows) for ow, col in enumerate(cols)]
    total = float(sum(a * b for a, b in terms))
    shown = [product_text(a, b) for a, b in terms]
    if len(shown) > MAX_TERMS:
        shown = [*shown[: MAX_TERMS - 3], f"… ({len(shown) - MAX_TERMS + 1} more) …", *shown[-2:]]
    name = "dL/dZ" if p.has_activation else "dL/dY"
    line = (f"dL/dW[{','.join(map(str, weight))}] = Σ {name}·x over {len(terms)} output cells = "
            + " + ".join(shown) + f" = {describe.fmt(total)}")
    return WeightReach(weight, channel, cells, line, total)


def scatter_reach(lesson: Lesson, o: int, c: int, i: int, j: int) -> WeightReach:
    """A transposed convolution's weight ``W[o, c, i, j]`` (as entered, the scatter picture's kernel):
    the input cells whose stamp it lands inside the output, ``i_h·s − p_top + i·d`` within ``H_out``
    (and likewise columns). Each multiplies it once; coordinates are the unpadded input's."""
    p = lesson.params
    run = lesson.run
    assert run.scatter is not None
    h_out, w_out = np.asarray(run.scatter.output).shape[-2:]
    (sh, sw), (dh, dw) = p.stride, p.dilation
    rows = [r for r in range(p.in_h) if 0 <= r * sh - p.padding[0] + i * dh < h_out]
    cols = [q for q in range(p.in_w) if 0 <= q * sw - p.padding[2] + j * dw < w_out]
    channel = (o // (p.out_c // p.groups)) * p.group_in + c
    return WeightReach((o, c, i, j), channel, tuple((r, q) for r in rows for q in cols))
