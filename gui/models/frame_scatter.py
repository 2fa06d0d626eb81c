"""The scatter picture of a transposed convolution: one input cell stamps ``x·W`` onto the output.

Step ``k`` is input cell ``(c, i, j)``: its value times kernel ``W[:, c]`` lands on
output rows ``i·s − p + d·(0…k−1)`` (and likewise columns); overlapping stamps
add up, and each output cell's corner says how many taps have landed on it so far
(uneven counts are the checkerboard pattern). Qt-free; the painter reads the Frame.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from engine import describe

from .frame import MINUS, Frame, Mark, _levels, _ro, _term, cell_label, signed_label
from .framing import (
    _count_labels,
    _input_colour,
    _kernel_panel,
    _panel,
    _Scenario,
    _step_grids,
    _words,
    group_channels,
    kernel_size,
)
from .transposed import transposed_padding

if TYPE_CHECKING:
    from .lesson import Lesson

__all__ = ["scatter_frame"]

#: Most stamp taps written out in the arithmetic (the rest are summarised).
MAX_TERMS = 9


def scatter_frame(lesson: Lesson, s: _Scenario, k: int, expanded: bool) -> Frame:
    """The frame of stamp ``k`` (input cell ``k`` in channel-major raster order)."""
    heading, note = _words(lesson)
    p, r = s.params, lesson.run
    t = r.scatter
    assert t is not None
    step = t[k]
    c, i, j = step.in_channel, step.in_row, step.in_col
    x = np.asarray(t.x)
    w = lesson.w  # as entered: (out_c, in_c/groups, kh, kw); W[o, c'] is what channel c stamps onto o
    n_in = w.shape[1]
    cl = c % n_in  # channel c's tile within its group's kernels (c itself without groups)
    out = np.asarray(t.partial(k))
    hits = np.asarray(t.hits(k))
    full = np.asarray(t.output)
    o = step.out_channels[0]
    levels = s.memo("scatter levels", lambda: {"input": _levels(x), "kernel": _levels(np.asarray(w),
                                                                                       symmetric=True),
                                               "output": _levels(full)})
    show = s.show_values
    size = f"{p.in_c}×{p.in_h}×{p.in_w}" if p.in_c > 1 else f"{p.in_h}×{p.in_w}"
    inp = _panel("input", f"Input {size}", s.grids(("scatter", "input"), x, show=show),
                 levels["input"], _input_colour(p), front=c)
    label = f"Kernel W[{o}] of {p.out_c}:" if p.out_c > 1 else "Kernel W"
    title = f"{label} {kernel_size(p)} (as entered, not flipped)"
    if p.groups > 1:
        title += ", " + group_channels(p, o)
    kern = _kernel_panel(s, np.asarray(w), o, title, expanded=expanded, levels=levels["kernel"],
                         key="scatter kernel")
    if not expanded:
        kern = replace(kern, front=cl)
    co, ho, wo = full.shape
    shape = f"{co}×{ho}×{wo}" if co > 1 else f"{ho}×{wo}"
    corner = _count_labels(hits) if show else None
    outp = _panel("output", f"Output {shape} (corner: stamps landed so far)",
                  _step_grids(out, show=show, corner=corner), levels["output"], "output", front=o)
    # Marks: the input cell, the kernel tile it multiplies, the stamp's footprint on the output.
    inside = np.asarray(step.inside)
    rows, cols = np.asarray(step.rows), np.asarray(step.cols)
    stamp = np.asarray(step.stamp)
    taps = [(a, b) for a in range(rows.size) for b in range(cols.size) if inside[a, b]]
    marks = [Mark("cell", "input", c if expanded else 0, (i, j), ((0, 0),), ("×W",))]
    marks.append(Mark("cell", "kernel", (o * n_in + cl) if expanded else cl, (0, 0),
                      tuple((a, b) for a in range(p.k_h) for b in range(p.k_w))))
    if taps:
        r0 = min(int(rows[a]) for a, _ in taps)
        c0 = min(int(cols[b]) for _, b in taps)
        cells = tuple((int(rows[a]) - r0, int(cols[b]) - c0) for a, b in taps)
        span = (max(a for a, _ in cells) + 1, max(b for _, b in cells) + 1)
        grids = range(co) if expanded else [o]
        for g in grids:
            oo = g - step.out_channels[0]
            if not 0 <= oo < stamp.shape[0]:
                continue
            labels = tuple(signed_label(float(stamp[oo, a, b])) for a, b in taps)
            marks.append(Mark("window", "output", g, (r0, c0), cells, labels, None, span))
    # The arithmetic: the stamp's products on the front output channel.
    v = step.value
    pad = transposed_padding(p)
    terms = []
    for a, b in taps[:MAX_TERMS]:
        rr, cc = int(rows[a]), int(cols[b])
        terms.append(f"Y[{o},{rr},{cc}] += {_term(v)}{describe.TIMES}{_term(float(w[o, cl, a, b]))}"
                     f" = {describe.fmt(float(stamp[0, a, b]))} → {cell_label(float(out[o, rr, cc]))}")
    dropped = int(inside.size - inside.sum())
    ho, wo = full.shape[1:]
    in_rows = [int(r) for r in rows if 0 <= r < ho]
    in_cols = [int(q) for q in cols if 0 <= q < wo]
    where = (f"output rows {', '.join(map(str, in_rows))}, columns {', '.join(map(str, in_cols))}"
             if in_rows and in_cols else "no output cell")
    outs = step.out_channels
    kernels = ":" if p.groups == 1 else f"{outs[0]}–{outs[-1]}" if len(outs) > 1 else f"{outs[0]}"
    lines = [f"X[{c},{i},{j}] = {describe.fmt(v)} stamps {describe.fmt(v)}{describe.TIMES}W[{kernels}, {cl}] "
             f"onto {where} (row = {i}·{p.stride[0]} {MINUS} {pad[0]} + {p.dilation[0]}·tap)"]
    row_terms = ["   ".join(terms[n : n + 3]) for n in range(0, len(terms), 3)]
    lines += row_terms
    if len(taps) > MAX_TERMS:
        lines.append(f"… and {len(taps) - MAX_TERMS} more taps")
    if dropped:
        lines.append(f"{dropped} tap{'s' if dropped > 1 else ''} land outside the output (cropped by the "
                     "padding) and are dropped")
    cap = (f"{s.op_label} (scatter) — Step {k + 1} of {s.n_steps}: input channel {c}, cell ({i}, {j}) "
           "stamps its value times the kernel")
    empty = np.array([], dtype=int)
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="scatter", step=step, caption=cap,
        arithmetic="\n".join(lines), panels=(inp, kern, outp), marks=tuple(marks), formulas=s.formulas,
        parameter_line=s.parameter_line, param_count=s.param_count, unreached_rows=empty,
        unreached_cols=empty, x_padded=_ro(x), kinds=np.zeros(x.shape[1:], dtype=np.int8),
        kernel=np.asarray(w), output=_ro(out), output_full=full, done=int(out.size),
        levels=levels, offset=(0, 0), glide_key=(p, "scatter", expanded), expanded=expanded,
        show_values=show, heading=heading, note=note, facts=s.facts,
    )
