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

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

import engine
from engine import describe

from .choices import PanelName
from .frame import ColourRole, Frame, Grid, Mark, Panel, _levels, _ro, _term, cell_label, signed_label
from .frame_conv1d import conv1d_facts, conv1d_formula
from .framing import _input_colour, _labelled, _panel, _pending, _Scenario, _words
from .matrix import matrix_of, structure_of
from .matrix_dw import dw_line, dw_mark, dw_panel
from .params import Params
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


@dataclass(frozen=True)
class _Line:
    """The step's output cell and its line of C (a row, or a transposed convolution's column)."""

    idx: int
    taps: np.ndarray
    weights: np.ndarray
    out_cell: str
    name: str  # "row 5 of C" / "column 5 of C (row 5 of Cᵀ)"
    where: str  # "row" / "column"
    size: int  # entries in the line, taps and structural zeros


@dataclass(frozen=True)
class _Pass:
    """What one pass puts beside C: its two vector panels, words and the vector marks' labels."""

    moving: Panel
    fixed: Panel
    arithmetic: str
    caption: str
    labels: tuple[str, ...]
    output: np.ndarray
    done: int
    grads: engine.Gradients | None = None


def matrix_frame(lesson: Lesson, s: _Scenario, k: int) -> Frame:
    """The frame of step ``k`` of ``lesson`` in the matrix picture (``drawn_as == "matrix"``)."""
    heading, note = _words(lesson)
    p, r = s.params, lesson.run
    c_mat, structure = matrix_parts(lesson, s)
    n_rows, n_cols = c_mat.shape
    transposed = p.is_transpose
    y_full = np.asarray(r.fwd.output)
    kinds = s.memo(("matrix", "kinds"), lambda: _ro(np.where(structure, 0, 3).astype(np.int8)))
    c_grid = s.grids(("matrix", "C"), np.asarray(c_mat)[None], show=True, kinds=kinds)
    c_levels = s.memo(("matrix", "levels"), lambda: _levels(np.asarray(c_mat), symmetric=True))
    backward = k >= s.n_forward
    if backward:
        assert r.bwd is not None
        back = r.bwd[k - s.n_forward]
        assert isinstance(back, engine.ConvBackwardStep)  # the matrix picture is convolution's only
        step: engine.ConvStep | engine.ConvBackwardStep = back
    else:
        fwd = r.fwd[k]
        assert isinstance(fwd, engine.ConvStep)
        step = fwd
    line = _line(p, step, y_full.shape, c_mat, structure)
    shown = (_backward(lesson, s, k - s.n_forward, line) if backward else _forward(lesson, s, k, line))
    # What a row of C is, the facts line says ("one row per output cell, …"): the title stays short, so
    # it does not push the panels beside C away and shrink every cell below its numbers (1024x768).
    c_title = f"C {n_rows}×{n_cols}, · = structural zero"
    mat = _panel("matrix", c_title, c_grid, c_levels, "diverging")
    # Marks: C's lit row (column), the vector entries it joins, the output cell.
    idx, taps = line.idx, line.taps
    cells = tuple((int(t), 0) for t in taps) if transposed else tuple((0, int(t)) for t in taps)
    ins: PanelName = "down" if transposed else "across"
    outs: PanelName = "across" if transposed else "down"
    at = (0, idx) if transposed else (idx, 0)
    marks: tuple[Mark, ...] = (
        Mark("window", "matrix", 0, at, cells, (), None, (n_rows, 1) if transposed else (1, n_cols)),
        Mark("window", ins, 0, (0, 0), cells, shown.labels),
        Mark("cell", outs, 0, at, ((0, 0),)),
    )
    panels: tuple[Panel, ...] = (mat, shown.moving, shown.fixed)
    arithmetic = shown.arithmetic
    if isinstance(step, engine.ConvBackwardStep) and not transposed and shown.grads is not None \
            and shown.grads.grad_w is not None:  # dL/dW = dL/dY·Xcolᵀ beside dL/dY
        panels += (dw_panel(p, shown.grads, step.out_channel, s.levels["dw"]),)
        marks += (dw_mark(step),)
        arithmetic += "\n" + dw_line(step, idx, int(y_full[0].size))
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="matrix", step=step, caption=shown.caption,
        arithmetic=arithmetic, panels=panels, marks=marks,
        formulas=(conv1d_formula(lesson),) if p.is_1d else s.formulas, parameter_line=s.parameter_line,
        param_count=s.param_count,
        unreached_rows=s.unreached_rows, unreached_cols=s.unreached_cols, x_padded=s.x_padded,
        kinds=s.kinds, kernel=s.kernel, output=shown.output, output_full=y_full, done=shown.done,
        levels=s.levels, offset=s.offset, glide_key=(p, "matrix", backward), show_values=True,
        grads=shown.grads, dy=r.dy, dz=r.dz, y_full=y_full if backward else None, loss=r.loss,
        heading=heading, note=note,
        facts=s.memo(("matrix", "facts"), lambda: _facts(lesson, s, (n_rows, n_cols))),
    )


def _line(p: Params, step: engine.ConvStep | engine.ConvBackwardStep, out_shape: tuple[int, ...],
          c_mat: np.ndarray, structure: np.ndarray) -> _Line:
    """The step's output cell, as C's row (convolution) or column (transposed) ``idx``, and its taps."""
    _, ho, wo = out_shape
    o, i, j = step.out_channel, step.out_row, step.out_col
    idx = (o * ho + i) * wo + j
    if p.is_transpose:
        taps = np.flatnonzero(structure[:, idx])
        weights = np.asarray(c_mat)[taps, idx]
        name, where, size = f"column {idx} of C (row {idx} of Cᵀ)", "column", structure.shape[0]
    else:
        taps = np.flatnonzero(structure[idx])
        weights = np.asarray(c_mat)[idx, taps]
        name, where, size = f"row {idx} of C", "row", structure.shape[1]
    if p.is_1d:
        out_cell = f"output channel {o}, position {j}" if p.out_c > 1 else f"output position {j}"
    else:
        out_cell = f"output cell ({o}, {i}, {j})" if p.out_c > 1 else f"output cell ({i}, {j})"
    return _Line(idx, taps, weights, out_cell, name, where, size)


def _forward(lesson: Lesson, s: _Scenario, k: int, line: _Line) -> _Pass:
    """y = C·x (a transposed convolution: y = Cᵀ·x) up to step ``k``."""
    p, t = s.params, lesson.run.fwd
    transposed = p.is_transpose
    x = np.asarray(lesson.x)
    xv = x.ravel()
    y_full = np.asarray(t.output)
    idx, taps = line.idx, line.taps
    moving = _pending(_grids(s, "y", y_full.ravel(), across=transposed), k + 1)
    fixed = _grids(s, "x", xv, across=not transposed)
    y_title = "y = Cᵀ·x: the output, row by row" if transposed else "y = C·x"
    x_title = "x" if transposed else f"x: the input unrolled row by row ({xv.size} entries)"
    terms = [f"{_term(float(wt))}{TIMES}{_term(float(xv[q]))}"
             for q, wt in zip(taps, line.weights, strict=True)]
    head = f"y[{idx}] = Σᵢ C[i,{idx}]·x[i]" if transposed else f"y[{idx}] = Σⱼ C[{idx},j]·x[j]"
    if p.bias:
        o = idx // (y_full.size // p.out_c)
        terms.append(f"b[{o}] {_term(float(lesson.bias_values[o]))}")
    arith = _sum_lines(head, terms, describe.fmt(float(y_full.ravel()[idx])))
    n = len(taps)
    return _Pass(moving=_vector_panel("across" if transposed else "down", y_title, moving, _levels(y_full),
                                      "output"),
                 fixed=_vector_panel("down" if transposed else "across", x_title, fixed, _levels(x),
                                     _input_colour(p)),
                 arithmetic=arith + f"\n({line.out_cell}: {n} tap{'' if n == 1 else 's'}; the other "
                                    f"{line.size - n} entries of the {line.where} are structural zeros)",
                 caption=(f"{s.op_label} as a matrix — {'Forward pass — ' if p.mode == 'both' else ''}Step "
                          f"{k + 1} of {s.n_steps}: {line.name} times x gives {line.out_cell}"),
                 labels=tuple("×" + cell_label(float(wt)) for wt in line.weights),
                 output=_ro(np.asarray(t.partial(k))), done=k + 1)


def _backward(lesson: Lesson, s: _Scenario, kb: int, line: _Line) -> _Pass:
    """dL/dX = Cᵀ·dL/dY (a transposed convolution: C·dL/dY) up to backward step ``kb``."""
    p, r = s.params, lesson.run
    assert r.bwd is not None and r.dz is not None
    transposed = p.is_transpose
    c_dense = np.asarray(matrix_parts(lesson, s)[0])
    dz = r.dz.ravel()
    done = kb + 1
    dx_now = c_dense[:, :done] @ dz[:done] if transposed else c_dense[:done].T @ dz[:done]
    dx_full = s.memo(("matrix", "dx"), lambda: c_dense @ dz if transposed else c_dense.T @ dz)
    idx = line.idx
    g = float(dz[idx])
    into = ", ".join(f"dX[{q}] += {_term(g)}{TIMES}{_term(float(wt))} → {cell_label(float(dx_now[q]))}"
                     for q, wt in zip(line.taps, line.weights, strict=True))
    arith = f"dY[{idx}] = {describe.fmt(g)} flows back along {line.where} {idx} of C:\n{into}"
    if r.loss is not None:
        arith = describe.loss_text(r.loss) + "\n" + arith
    if kb == len(r.bwd) - 1 and not transposed:
        final = r.final()
        assert final is not None
        diff = float(np.abs(dx_now - np.asarray(final.grad_x).ravel()).max())
        arith += (f"\nCᵀ·dY agrees with the convolution's backward pass (largest difference "
                  f"{describe.fmt(diff)})")
    what = ("C·dL/dY (C itself: the convolution this one transposes)" if transposed
            else "Cᵀ·dL/dY (the same matrix, transposed)")
    x_title = "dL/dX = C·dL/dY (so far)" if transposed else "dL/dX = Cᵀ·dL/dY (so far)"
    dx_levels = _levels(dx_full, symmetric=True)
    return _Pass(moving=_vector_panel("down" if transposed else "across", x_title,
                                      _running(dx_now, across=not transposed), dx_levels, "diverging"),
                 fixed=_vector_panel("across" if transposed else "down", "dL/dY",
                                     _grids(s, "dy", dz, across=transposed), _levels(dz, symmetric=True),
                                     "diverging"),
                 arithmetic=arith,
                 caption=(f"{s.op_label} as a matrix — Backward pass, dL/dX = {what} — step "
                          f"{s.n_forward + kb + 1} of {s.n_steps}: dY[{idx}] ({line.out_cell}) flows back "
                          f"along {line.name}"),
                 labels=tuple(signed_label(g * float(wt)) for wt in line.weights),
                 output=np.asarray(r.fwd.output), done=int(np.asarray(r.fwd.output).size),
                 grads=r.bwd.partial(kb))


def _facts(lesson: Lesson, s: _Scenario, shape: tuple[int, int]) -> tuple[str, ...]:
    """What the stage says about the matrix, then the scenario's usual facts (a transposed
    convolution's twin said once, its gather picture's spread input left out; a 1-D convolution's
    in 1-D words)."""
    p = s.params
    rows, cols = shape
    usual = conv1d_facts(lesson) if p.is_1d else s.facts
    if p.is_transpose:
        twin = forward_twin(p)
        parts = [f"a transposed convolution is y = Cᵀ·x, with C ({rows}×{cols}) the matrix of "
                 + twin.removeprefix("the transpose of ")
                 + "; C has one row per input cell (a kernel placement of the convolution it transposes)"]
        usual = tuple(f for f in usual if f != twin and not f.startswith("as a stride-1 convolution"))
    else:
        parts = [f"C is {rows}×{cols}: one row per output cell, one column per input cell; y = C·x is "
                 "the convolution, flattened row by row"]
    if p.mode != "forward":
        parts.append("backward: dL/dX = C·dL/dY, the convolution itself" if p.is_transpose
                     else "backward: dL/dX = Cᵀ·dL/dY, the same matrix transposed; dL/dW = dL/dY·Xcolᵀ, "
                          "Xcol's column k the input values row k of C reads")
    if p.in_c > 1 or p.out_c > 1:
        parts.append("every channel unrolled: channel 0's cells row by row, then channel 1's, …")
    return (*parts, *usual)
