"""Pointing at the matrix picture: what hovering, clicking and double-clicking its cells mean.

An entry of ``C`` joins an input cell and an output cell; an entry of a vector is an input cell
(``x``, ``dL/dX``) or an output cell (``y``, ``dL/dY``): a convolution's input vector runs along
C's columns (``"across"``), a transposed convolution's along its rows (``"down"``). Qt-free;
``gui.models.interaction`` hands the matrix picture's cells here.
"""

from __future__ import annotations

import numpy as np

from engine import describe

from .choices import PanelName
from .frame import Highlight, _term, cell_label
from .frame_matrix import matrix_parts
from .framing import _scenario
from .interaction import NOTHING, Click, Edit, Hover, Selection, index_words
from .lesson import Lesson
from .matrix import matrix_of

__all__ = ["matrix_click", "matrix_edit", "matrix_hover"]

TIMES = describe.TIMES


def _cell_of(shape: tuple[int, ...], flat: int) -> str:
    """Entry ``flat`` of a ``(C, H, W)`` tensor unrolled row by row, named ``(c, i, j)`` (``(i, j)``
    with one channel)."""
    c, i, j = (int(v) for v in np.unravel_index(flat, shape))
    return f"({i}, {j})" if shape[0] == 1 else f"({c}, {i}, {j})"


def _sides(lesson: Lesson) -> tuple[PanelName, PanelName]:
    """The panels of the input cells and of the output cells."""
    return ("down", "across") if lesson.params.is_transpose else ("across", "down")


def _entry(panel: str, i: int, j: int) -> int:
    """The vector entry at cell ``(i, j)`` of a vector panel."""
    return j if panel == "across" else i


def matrix_hover(lesson: Lesson, panel: str, i: int, j: int, ch: int | None = None) -> Hover:
    """Hover in the matrix picture: an entry of C joins an input cell and an output cell; a vector entry
    lights the taps of its column (row) of C and the entries they join it to; a dL/dW cell (on its tile
    ``ch``) the entries of C its weight sits at, its gradient summed over them."""
    if panel == "dw":
        return _weight_hover(lesson, ch or 0, i, j)
    c_mat, structure = matrix_parts(lesson, _scenario(lesson))
    p = lesson.params
    transposed = p.is_transpose
    ins, outs = _sides(lesson)
    in_shape = (p.in_c, p.in_h, p.in_w)
    out_shape = tuple(int(n) for n in lesson.trace.out_shape)
    at = {"across": lambda k: (0, k), "down": lambda k: (k, 0)}
    if panel == "matrix":
        r, q = i, j
        t_in, t_out = (r, q) if transposed else (q, r)
        v = float(c_mat[r, q])
        words = (f"C[{r},{q}] = {cell_label(v)}: output cell {_cell_of(out_shape, t_out)} takes "
                 f"{cell_label(v)} × input cell {_cell_of(in_shape, t_in)}" if structure[r, q] else
                 f"C[{r},{q}] is a structural zero: output cell {_cell_of(out_shape, t_out)} does not read "
                 f"input cell {_cell_of(in_shape, t_in)}")
        return Hover(receptive=Highlight(ins, (at[ins](t_in),)), fed=Highlight(outs, (at[outs](t_out),)),
                     status=words)
    if panel not in ("across", "down"):
        return NOTHING
    k = _entry(panel, i, j)
    is_input = panel == ins
    # The input (output) cell's line of C: a row, or a column, by the picture.
    along_rows = is_input != transposed  # its entries run down a column of C
    line = structure[:, k] if along_rows else structure[k]
    others = [int(t) for t in np.flatnonzero(line)]
    entries = tuple((t, k) if along_rows else (k, t) for t in others)
    weights = tuple("×" + cell_label(float(c_mat[e])) for e in entries)
    other: PanelName = outs if is_input else ins
    n = len(others)
    if is_input:
        status = f"Input cell {_cell_of(in_shape, k)} feeds {n} output cell{'' if n == 1 else 's'}"
    else:
        status = f"Output cell {_cell_of(out_shape, k)} adds up {n} input cell{'' if n == 1 else 's'}"
    where = "column" if along_rows else "row"
    return Hover(receptive=Highlight("matrix", entries),
                 fed=Highlight(other, tuple(at[other](t) for t in others), weights),
                 status=f"{status}: the taps of {where} {k} of C")


def _weight_hover(lesson: Lesson, ch: int, a: int, b: int) -> Hover:
    """Weight ``W[o, c, a, b]`` (``ch = o·C_in/groups + c``) in C: every entry it sits at (row r: output
    cell r; column q: input cell q) and ``dL/dW = Σ dY[r]·x[q]`` over them (Xcol's entries, padding
    dropped or folded as C folds it), with the numbers."""
    p, w = lesson.params, np.asarray(lesson.w)
    o, c = divmod(ch, w.shape[1])
    if not (0 <= o < w.shape[0] and 0 <= a < w.shape[2] and 0 <= b < w.shape[3]):
        return NOTHING
    one = np.zeros_like(w, dtype=float)
    one[o, c, a, b] = 1.0
    times = matrix_of(p, one)  # how often the weight multiplies each entry's input cell
    entries = [(int(r), int(q)) for r, q in np.argwhere(times != 0)]
    dy, x = np.asarray(lesson.run.dz).ravel(), np.asarray(lesson.x).ravel()
    total = sum(float(times[r, q]) * float(dy[r]) * float(x[q]) for r, q in entries)
    name = f"dL/dW[{index_words((o, c, a, b), p.is_1d)}]"
    terms = [f"{'' if times[r, q] == 1 else cell_label(float(times[r, q])) + TIMES}"
             f"{_term(float(dy[r]))}{TIMES}{_term(float(x[q]))}" for r, q in entries]
    shown = " + ".join(terms[:8]) + (" + …" if len(terms) > 8 else "")
    n = len(entries)
    return Hover(receptive=Highlight("matrix", tuple(entries)),
                 fed=Highlight("down", tuple((r, 0) for r in sorted({r for r, _ in entries}))),
                 status=(f"W[{index_words((o, c, a, b), p.is_1d)}] sits at {n} "
                         f"entr{'y' if n == 1 else 'ies'} of C; {name} = Σ dY[row]·x[column] over them"),
                 line=f"{name} = {shown or '0'} = {cell_label(total)}")


def matrix_click(lesson: Lesson, panel: str, i: int, j: int) -> Click:
    """A click on an input entry (x, or dL/dX) selects that input cell for the gradient check."""
    ins, _ = _sides(lesson)
    if panel != ins:
        return Click()
    p = lesson.params
    c, r, q = (int(v) for v in np.unravel_index(_entry(panel, i, j), (p.in_c, p.in_h, p.in_w)))
    sel: Selection = ("x", (c, r, q))
    return Click(selection=sel, status=f"Selected X[{c},{r},{q}] for the gradient check (Ctrl+G)")


def matrix_edit(lesson: Lesson, panel: str, i: int, j: int) -> Edit | str:
    """A double-click: an entry of x edits that input cell, one of dL/dY that upstream gradient."""
    ins, outs = _sides(lesson)
    p = lesson.params
    backward = lesson.step >= lesson.n_forward
    if panel == "matrix":
        return "C's entries are the kernel's weights: edit them in the grid picture"
    k = _entry(panel, i, j)
    if panel == ins and not backward:
        c, r, q = (int(v) for v in np.unravel_index(k, (p.in_c, p.in_h, p.in_w)))
        return Edit("Edit input", f"Input [{c}, {r}, {q}]", float(lesson.x[c, r, q]),
                    lambda v: lesson.set_input_value(c, r, q, v))
    dy = lesson.run.dy
    if panel == outs and backward and dy is not None:
        o, r, q = (int(v) for v in np.unravel_index(k, dy.shape))
        return Edit("Edit dL/dY", f"dL/dY [{o}, {r}, {q}]", float(dy[o, r, q]),
                    lambda v: lesson.set_upstream_value(o, r, q, v))
    return ""
