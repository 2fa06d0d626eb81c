"""Convolution as a matrix (conv_arithmetic section 4.1): its rules and its matrix ``C``.

With the input unrolled row by row into a vector ``x`` (every channel, one after
the other), a convolution is ``y = C·x``: row ``k`` of ``C`` is output cell ``k``'s
kernel placement, holding the weights at the columns of the input cells its window
reads and zeros everywhere else. The backward pass is the same matrix transposed,
``dX = Cᵀ·dY``; a transposed convolution *is* ``y = Cᵀ·x``, with ``C`` the matrix of
the convolution it is the transpose of. Qt-free.
"""

from __future__ import annotations

import numpy as np

import engine

from .choices import MATRIX_COLS, MATRIX_ROWS
from .params import Params
from .transposed import out_size, torch_weight, transposed_padding

__all__ = ["channel_room", "check_matrix", "matrix_of", "matrix_shape", "structure_of"]


def matrix_shape(p: Params, out_hw: tuple[int, int]) -> tuple[int, int]:
    """``C``'s ``(rows, columns)`` for settings ``p`` whose output is ``out_hw`` a channel.

    A convolution's rows are its output cells and its columns its input cells; a
    transposed convolution's ``C`` is its forward twin's: rows are its input cells,
    columns its output cells.
    """
    n_in = p.in_c * p.in_h * p.in_w
    n_out = p.out_c * out_hw[0] * out_hw[1]
    return (n_in, n_out) if p.is_transpose else (n_out, n_in)


def check_matrix(p: Params, out_hw: tuple[int, int]) -> None:
    """Refuse, in plain words, settings the matrix picture cannot show (nothing for the grid)."""
    if p.drawn_as != "matrix":
        return
    if not p.is_conv:
        raise ValueError("the matrix picture shows convolution, a linear map y = C·x; pooling is drawn "
                         "as a grid only")
    if p.has_activation:
        raise ValueError("the matrix picture shows the convolution alone (y = C·x); set the activation "
                         "to none first")
    if p.mode == "forward" and p.granularity == "tap":
        raise ValueError("the matrix picture steps one row of C at a time; choose per-window steps")
    if p.mode != "forward" and p.grad_view == "gather":
        raise ValueError("the matrix picture shows the backward pass itself as dX = Cᵀ·dY; untick the "
                         "gather view first")
    if p.is_transpose and p.transpose_view == "scatter":
        raise ValueError("the matrix picture takes the place of the gather and scatter pictures; choose "
                         "the gather picture first")
    rows, cols = matrix_shape(p, out_hw)
    if rows > MATRIX_ROWS or cols > MATRIX_COLS:
        raise ValueError(
            f"the matrix C would be {rows}×{cols}; the matrix picture draws at most {MATRIX_ROWS} rows "
            f"and {MATRIX_COLS} columns, to stay legible (a 6×6 input with a 3×3 kernel: 16×36); "
            "use a smaller input or the grid picture")


def channel_room(p: Params, out_hw: tuple[int, int]) -> tuple[str, str]:
    """What the matrix picture adds to the input- and output-channel controls' tooltips: every channel
    is unrolled, so ``C``'s size bounds them; the most that fit with the other settings as they are.
    ``("", "")`` for the grid picture.

    Returns
    -------
    (inputs, outputs) : tuple of str
        E.g. " The matrix picture unrolls every input channel into x: C has C·H·W = 1·4·4 = 16
        columns, at most 36 here, so up to 2 input channels (else: the grid picture)."
    """
    if p.drawn_as != "matrix":
        return "", ""
    per_in, per_out = p.in_h * p.in_w, out_hw[0] * out_hw[1]
    (in_room, in_line), (out_room, out_line) = (
        ((MATRIX_ROWS, "rows"), (MATRIX_COLS, "columns")) if p.is_transpose
        else ((MATRIX_COLS, "columns"), (MATRIX_ROWS, "rows")))

    def said(n: int, per: int, room: int, line: str, what: str, vector: str) -> str:
        most = room // max(per, 1)
        return (f" The matrix picture unrolls every {what} channel into {vector}: C has {n}·{per} = "
                f"{n * per} {line} for them, at most {room}, so up to {most} {what} channel"
                f"{'' if most == 1 else 's'} here (more: the grid picture).")

    x, y = ("x", "y") if not p.is_transpose else ("x (C's rows)", "y (C's columns)")
    return (said(p.in_c, per_in, in_room, in_line, "input", x),
            said(p.out_c, per_out, out_room, out_line, "output", y))


def matrix_of(p: Params, w: np.ndarray) -> np.ndarray:
    """The matrix ``C`` of settings ``p`` with weights ``w`` as entered ``(out_c, in_c/groups, kh, kw)``.

    Returns
    -------
    ndarray, shape (rows, columns)
        Convolution: ``C @ x.ravel() == conv2d(x, w).ravel()`` (no bias). Transposed
        convolution: ``C.T @ x.ravel() == conv_transpose2d(x, torch_weight(p, w)).ravel()``.
    """
    if p.is_transpose:
        shape = (p.out_c, out_size(p, 0), out_size(p, 1))
        wt = torch_weight(p, np.asarray(w))  # the twin convolution's kernel: out_c → in_c channels
        return engine.conv_matrix(shape, wt, stride=p.stride, padding=transposed_padding(p),
                                  dilation=p.dilation, groups=p.groups)
    return engine.conv_matrix((p.in_c, p.in_h, p.in_w), w, stride=p.stride, padding=p.engine_padding(),
                              dilation=p.dilation, groups=p.groups, padding_mode=p.padding_mode,
                              flip_kernel=p.flip_kernel)


def structure_of(p: Params, w: np.ndarray) -> np.ndarray:
    """Where ``C`` has a kernel tap at all (True), whatever the weight's value: the entries of
    ``matrix_of(p, ones)``. A False entry is a structural zero."""
    return matrix_of(p, np.ones_like(np.asarray(w, dtype=float))) != 0
