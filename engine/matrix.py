"""Convolution as a matrix: the linear map ``x -> conv2d(x, w)`` written out densely.

Row ``(o, i, j)`` of the matrix (C-order over the output ``(C_out, H_out, W_out)``)
holds output cell ``(o, i, j)``'s weights at the columns of the input cells
``(c, r, q)`` (C-order over ``(C_in, H, W)``) its window reads, so

    ``conv_matrix(x.shape, w, ...) @ x.ravel() == conv2d(x, w, ...).ravel()``

(no bias: the map is linear). Padding cells hold no column of their own:
zero padding drops their weight, and reflect/replicate/circular padding adds
it onto the column of the cell they copy. The transpose is the backward map:
``C.T @ dy.ravel()`` is ``conv2d_backward``'s ``grad_x``, i.e. the transposed
convolution ``conv_transpose2d(dy, w, stride, padding, dilation, groups,
output_padding=(H + 2*p - d*(k - 1) - 1) % s)`` for symmetric zero padding.

The matrix is dense, so ``conv_matrix`` refuses anything larger than
``MAX_MATRIX_ENTRIES`` (100,000) entries, e.g. a 16x16 input to a 14x14
output is 256 x 196 = 50,176 entries.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .conv import prepare_conv
from .geometry import IntPair, Padding, PaddingMode, as_int

__all__ = ["MAX_MATRIX_ENTRIES", "conv_matrix"]

#: The largest matrix ``conv_matrix`` builds: output size x input size.
MAX_MATRIX_ENTRIES = 100_000


def _in_shape(in_shape: object) -> tuple[int, ...]:
    if not isinstance(in_shape, (tuple, list)) or len(in_shape) not in (2, 3):
        raise ValueError(f"in_shape must be (H, W) or (C_in, H, W), got {in_shape!r}")
    shape = tuple(as_int(n, "in_shape") for n in in_shape)
    if min(shape) < 1:
        raise ValueError(f"in_shape must be positive on every axis, got {shape}")
    return shape


def _refuse(rows: int, cols: int) -> None:
    raise ValueError(
        f"the convolution matrix would be {rows:,} x {cols:,} = {rows * cols:,} entries, more than the "
        f"{MAX_MATRIX_ENTRIES:,} conv_matrix builds: use a smaller input (e.g. 16x16 with one channel)"
    )


def conv_matrix(
    in_shape: tuple[int, ...],
    w: ArrayLike,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    *,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip_kernel: bool = False,
) -> np.ndarray:
    """The dense matrix ``C`` of ``conv2d``, with ``C @ x.ravel() == conv2d(x, w).ravel()``.

    Parameters
    ----------
    in_shape : (H, W) or (C_in, H, W)
        The input's shape (``(H, W)`` needs a 2-D or single-channel kernel).
    w : array_like, shape (C_out, C_in/groups, kh, kw) or (kh, kw)
    stride, padding, dilation, groups, padding_mode, flip_kernel
        As for ``conv2d``.

    Returns
    -------
    C : ndarray, shape (C_out*H_out*W_out, C_in*H*W)
        Rows in C-order over the output, columns in C-order over the input.

    Raises
    ------
    ValueError
        When the matrix would have more than ``MAX_MATRIX_ENTRIES`` entries,
        or for any argument ``conv2d`` would refuse.
    """
    shape = _in_shape(in_shape)
    n_in = int(np.prod(shape))
    if n_in > MAX_MATRIX_ENTRIES:  # every output has at least one row: refuse before allocating
        _refuse(1, n_in)
    s = prepare_conv(
        np.zeros(shape), w, stride=stride, padding=padding, dilation=dilation,
        padding_mode=padding_mode, flip_kernel=flip_kernel, groups=groups,
    )
    g = s.geometry
    _, H, W = s.x.shape
    C_out, per_group, kh, kw = s.w.shape
    Ho, Wo = g.out_shape
    n_out = C_out * Ho * Wo
    if n_out * n_in > MAX_MATRIX_ENTRIES:
        _refuse(n_out, n_in)
    # Input row/column every tap of every window reads (-1: constant padding).
    src_r = g.rows.sources()[np.arange(Ho)[:, None] * g.rows.stride + g.rows.dilation * np.arange(kh)]
    src_c = g.cols.sources()[np.arange(Wo)[:, None] * g.cols.stride + g.cols.dilation * np.arange(kw)]
    o, i, j, c, p, q = np.ix_(
        np.arange(C_out), np.arange(Ho), np.arange(Wo), np.arange(per_group), np.arange(kh), np.arange(kw)
    )
    sr, sc = src_r[i, p], src_c[j, q]  # (1, Ho, 1, 1, kh, 1), (1, 1, Wo, 1, 1, kw)
    channel = (o // (C_out // s.groups)) * per_group + c
    shape6 = (C_out, Ho, Wo, per_group, kh, kw)
    row = np.broadcast_to((o * Ho + i) * Wo + j, shape6)
    col = np.broadcast_to((channel * H + sr) * W + sc, shape6)
    real = np.broadcast_to((sr >= 0) & (sc >= 0), shape6)
    values = np.broadcast_to(s.w[:, None, None], shape6)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (row[real], col[real]), values[real])
    return m
