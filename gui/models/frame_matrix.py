"""The matrix picture of a convolution: ``y = C·x`` with the input unrolled (conv_arithmetic 4.1).

The stage holds three panels: the matrix ``C`` (``"matrix"``), the vector with one
entry per column of ``C`` drawn above it (``"across"``) and the vector with one entry
per row drawn to its right (``"down"``), so that every entry of ``C`` lines up with
the two vector entries it joins. ``C``'s taps read their weight; its structural zeros
(no tap there) read "·" and are dimmed.

========================  ======================  ===================  =============
picture                   across (C's columns)    down (C's rows)      a step lights
========================  ======================  ===================  =============
convolution               x                       y = C·x              row k
its backward              dL/dX = Cᵀ·dL/dY        dL/dY                row k
transposed convolution    y = Cᵀ·x                x                    column k
its backward              dL/dY                   dL/dX = C·dL/dY      column k
========================  ======================  ===================  =============

A step is one output cell, in channel-major raster order: row ``k`` of ``C`` for a
convolution, column ``k`` for a transposed one (row ``k`` of ``Cᵀ``). Qt-free.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

import engine
from engine import describe

from .choices import PanelName
from .frame import ColourRole, Frame, Grid, Mark, Panel, _levels, _ro, _term, cell_label, signed_label
from .framing import _input_colour, _labelled, _panel, _pending, _Scenario, _words
from .matrix import matrix_of, structure_of
from .transposed import forward_twin

if TYPE_CHECKING:
    from .lesson import Lesson

__all__ = ["matrix_frame", "matrix_parts"]

#: Products written out per line of the arithmetic.
TERMS_PER_LINE = 6
TIMES = describe.TIMES


def matrix_parts(lesson: Lesson, s: _Scenario) -> tuple[np.ndarray, np.ndarray]:
    """``(C, structure)`` of the lesson (built once per scenario): the matrix and where it has taps."""
    p, w = s.params, lesson.w
    return s.memo("matrix", lambda: (_ro(matrix_of(p, w)), _ro(structure_of(p, w))))


def _vector_panel(name: PanelName, title: str, grids: tuple[Grid, ...], levels: tuple[float, float],
                  colour: ColourRole) -> Panel:
    """A vector panel drawn at the matrix's cell size (never enlarged), without a colour bar."""
    return replace(_panel(name, title, grids, levels, colour, legend=False), enlarge=False)


def _grids(s: _Scenario, key: str, v: np.ndarray, across: bool) -> tuple[Grid, ...]:
    """A constant vector as one grid: a row (across) or a column (down)."""
    shaped = v.reshape(1, 1, -1) if across else v.reshape(1, -1, 1)
    return s.grids(("matrix", key), shaped, show=True)


def _running(v: np.ndarray, across: bool) -> tuple[Grid, ...]:
    """A vector that changes every step as one grid (NaN: nothing yet)."""
    a = v.reshape(1, -1) if across else v.reshape(-1, 1)
    (values, labels), = _labelled(a[None], show=True)
    return (Grid(values, labels),)


def _sum_lines(head: str, terms: list[str], total: str) -> str:
    """``head = t1 + t2 + … = total``, wrapped ``TERMS_PER_LINE`` terms a line."""
    if not terms:
        return f"{head} = 0 (no tap: every entry is a structural zero)"
    rows = [" + ".join(terms[n : n + TERMS_PER_LINE]) for n in range(0, len(terms), TERMS_PER_LINE)]
    rows[0] = f"{head} = {rows[0]}"
    rows[-1] += f" = {total}"
    return "\n   + ".join(rows)


def _cell_name(shape: tuple[int, ...], flat: int, name: str) -> str:
    """``X[c,i,j]`` of entry ``flat`` of a tensor of ``shape`` unrolled row by row."""
    c, i, j = np.unravel_index(flat, shape)
    return f"{name}[{c},{i},{j}]"


def matrix_frame(lesson: Lesson, s: _Scenario, k: int) -> Frame:
    """The frame of step ``k`` of ``lesson`` in the matrix picture (``drawn_as == "matrix"``)."""
    heading, note = _words(lesson)
    p, r = s.params, lesson.run
    c_mat, structure = matrix_parts(lesson, s)
    n_rows, n_cols = c_mat.shape
    transposed = p.is_transpose
    x = np.asarray(lesson.x)
    y_full = np.asarray(r.fwd.output)
    kinds = s.memo(("matrix", "kinds"), lambda: _ro(np.where(structure, 0, 3).astype(np.int8)))
    c_grid = s.grids(("matrix", "C"), np.asarray(c_mat)[None], show=True, kinds=kinds)
    c_levels = s.memo(("matrix", "levels"), lambda: _levels(np.asarray(c_mat), symmetric=True))
    backward = k >= s.n_forward
    ho, wo = y_full.shape[1:]
    if backward:
        assert r.bwd is not None and r.dz is not None
        kb = k - s.n_forward
        back = r.bwd[kb]
        assert isinstance(back, engine.ConvBackwardStep)  # the matrix picture is convolution's only
        step: engine.ConvStep | engine.ConvBackwardStep = back
    else:
        kb = k
        fwd = r.fwd[k]
        assert isinstance(fwd, engine.ConvStep)
        step = fwd
    o, i, j = step.out_channel, step.out_row, step.out_col
    idx = (o * ho + i) * wo + j  # C's row (convolution) or column (transposed) of this output cell
    lit = structure[:, idx] if transposed else structure[idx]
    taps = np.flatnonzero(lit)
    weights = c_mat[taps, idx] if transposed else c_mat[idx, taps]
    out_cell = f"output cell ({o}, {i}, {j})" if p.out_c > 1 else f"output cell ({i}, {j})"
    line = f"column {idx} of C (row {idx} of Cᵀ)" if transposed else f"row {idx} of C"
    where = "column" if transposed else "row"
    if not backward:
        done = kb + 1
        y_now = np.asarray(r.fwd.partial(kb))
        xv = x.ravel()
        moving = _pending(_grids(s, "y", y_full.ravel(), across=transposed), done)
        fixed = _grids(s, "x", xv, across=not transposed)
        y_title = "y = Cᵀ·x: the output, row by row" if transposed else "y = C·x"
        x_title = "x" if transposed else f"x: the input unrolled row by row ({xv.size} entries)"
        terms = [f"{_term(float(wt))}{TIMES}{_term(float(xv[t]))}"
                 for t, wt in zip(taps, weights, strict=True)]
        value = float(y_full.ravel()[idx])
        head = (f"y[{idx}] = Σᵢ C[i,{idx}]·x[i]" if transposed else f"y[{idx}] = Σⱼ C[{idx},j]·x[j]")
        if p.bias:
            terms.append(f"b[{o}] {_term(float(lesson.bias_values[o]))}")
        arith = _sum_lines(head, terms, describe.fmt(value))
        zeros = (n_rows if transposed else n_cols) - len(taps)
        plural = "" if len(taps) == 1 else "s"
        arith += (f"\n({out_cell}: {len(taps)} tap{plural}; the other {zeros} entries of the {where} are "
                  "structural zeros)")
        moving_panel = _vector_panel("across" if transposed else "down", y_title, moving, _levels(y_full),
                                     "output")
        fixed_panel = _vector_panel("down" if transposed else "across", x_title, fixed, _levels(x),
                                    _input_colour(p))
        mark_labels = tuple("×" + cell_label(float(wt)) for wt in weights)
        cap = f"{s.op_label} as a matrix — Step {k + 1} of {s.n_steps}: {line} times x gives {out_cell}"
        if p.mode == "both":
            cap = f"{s.op_label} as a matrix — Forward pass — Step {k + 1} of {s.n_steps}: {line} times x " \
                  f"gives {out_cell}"
        output, grads = _ro(y_now), None
    else:
        assert r.bwd is not None and r.dz is not None
        dz = r.dz.ravel()
        done = kb + 1
        c_dense = np.asarray(c_mat)
        dx_now = c_dense[:, :done] @ dz[:done] if transposed else c_dense[:done].T @ dz[:done]
        dx_full = s.memo(("matrix", "dx"), lambda: c_dense @ dz if transposed else c_dense.T @ dz)
        fixed = _grids(s, "dy", dz, across=transposed)
        moving = _running(dx_now, across=not transposed)
        g = float(dz[idx])
        x_title = "dL/dX = C·dL/dY (so far)" if transposed else "dL/dX = Cᵀ·dL/dY (so far)"
        moving_panel = _vector_panel("down" if transposed else "across", x_title, moving,
                                     _levels(dx_full, symmetric=True), "diverging")
        fixed_panel = _vector_panel("across" if transposed else "down", "dL/dY", fixed,
                                    _levels(dz, symmetric=True), "diverging")
        mark_labels = tuple(signed_label(g * float(wt)) for wt in weights)
        into = ", ".join(f"dX[{t}] += {_term(g)}{TIMES}{_term(float(wt))} → {cell_label(float(dx_now[t]))}"
                         for t, wt in zip(taps, weights, strict=True))
        arith = f"dY[{idx}] = {describe.fmt(g)} flows back along {where} {idx} of C:\n{into}"
        if kb == len(r.bwd) - 1 and not transposed:
            final = r.final()
            assert final is not None
            diff = float(np.abs(dx_now - np.asarray(final.grad_x).ravel()).max())
            arith += (f"\nCᵀ·dY agrees with the convolution's backward pass (largest difference "
                      f"{describe.fmt(diff)})")
        what = ("C·dL/dY (C itself: the convolution this one transposes)" if transposed
                else "Cᵀ·dL/dY (the same matrix, transposed)")
        cap = (f"{s.op_label} as a matrix — Backward pass, dL/dX = {what} — "
               f"step {k + 1} of {s.n_steps}: dY[{idx}] ({out_cell}) flows back along {line}")
        output, grads = y_full, r.bwd.partial(kb)
    c_title = (f"C {n_rows}×{n_cols}: one row per input cell (a kernel placement of the convolution it "
               "transposes), · = structural zero" if transposed else
               f"C {n_rows}×{n_cols}: one row per output cell (a kernel placement), · = structural zero")
    mat = _panel("matrix", c_title, c_grid, c_levels, "diverging")
    panels = (mat, moving_panel, fixed_panel)
    # Marks: C's lit row (column), the vector entries it joins, the output cell.
    cells = tuple((int(t), 0) for t in taps) if transposed else tuple((0, int(t)) for t in taps)
    line_span = (n_rows, 1) if transposed else (1, n_cols)
    at = (0, idx) if transposed else (idx, 0)
    vec: PanelName = "down" if transposed else "across"
    other: PanelName = "across" if transposed else "down"
    out_at = (0, idx) if transposed else (idx, 0)
    marks = (
        Mark("window", "matrix", 0, at, cells, (), None, line_span),
        Mark("window", vec, 0, (0, 0), cells, mark_labels),
        Mark("cell", other, 0, out_at, ((0, 0),)),
    )
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="matrix", step=step, caption=cap,
        arithmetic=arith, panels=panels, marks=marks, formulas=s.formulas, parameter_line=s.parameter_line,
        param_count=s.param_count, unreached_rows=s.unreached_rows, unreached_cols=s.unreached_cols,
        x_padded=s.x_padded, kinds=s.kinds, kernel=s.kernel, output=output, output_full=y_full,
        done=done if not backward else int(y_full.size), levels=s.levels, offset=s.offset,
        glide_key=(p, "matrix", backward), show_values=True, grads=grads, dy=r.dy, dz=r.dz,
        y_full=y_full if backward else None, loss=r.loss, heading=heading, note=note,
        facts=s.memo(("matrix", "facts"), lambda: _facts(s, (n_rows, n_cols))),
    )


def _facts(s: _Scenario, shape: tuple[int, int]) -> tuple[str, ...]:
    """What the stage says about the matrix, then the scenario's usual facts."""
    p = s.params
    rows, cols = shape
    if p.is_transpose:
        parts = [f"a transposed convolution is y = Cᵀ·x, with C ({rows}×{cols}) the matrix of "
                 + forward_twin(p).removeprefix("the transpose of ")]
    else:
        parts = [f"C is {rows}×{cols}: one row per output cell, one column per input cell; y = C·x is "
                 "the convolution, flattened row by row"]
    if p.mode != "forward":
        parts.append("backward: dL/dX = C·dL/dY, the convolution itself" if p.is_transpose
                     else "backward: dL/dX = Cᵀ·dL/dY, the same matrix transposed")
    if p.in_c > 1 or p.out_c > 1:
        parts.append("every channel unrolled: channel 0's cells row by row, then channel 1's, …")
    return (*parts, *s.facts)
