"""2-D convolution (cross-correlation, as in every deep-learning framework) and its gradients.

Shapes are channels-first. ``x`` is ``(C_in, H, W)`` or ``(H, W)``; ``w`` is
``(C_out, C_in, kh, kw)`` or ``(kh, kw)``. The fast path is im2col + BLAS:
a strided window view of the padded input is copied into an im2col matrix a
block of output rows at a time (small enough to stay in cache) and each block
goes through one matrix product. With stride 1 the input gradient is the
transposed convolution, computed the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from .geometry import (
    Geometry,
    IntPair,
    Padding,
    PaddingMode,
    as_pair,
    check_array,
    check_padding_mode,
    make_geometry,
    normalize_padding,
)
from .padding import check_grad_out, fold, pad, read_padded, windows

__all__ = ["ConvSetup", "conv2d", "conv2d_backward", "prepare_conv"]


@dataclass(frozen=True, eq=False)
class ConvSetup:
    """A checked convolution problem in canonical 3-D/4-D form.

    Attributes
    ----------
    x : ndarray, shape (C_in, H, W)
    w : ndarray, shape (C_out, C_in, kh, kw)
        The kernel as applied (already flipped when ``flip_kernel``).
    bias : ndarray, shape (C_out,)
        Zeros when the caller gave none.
    has_bias : bool
    geometry : Geometry
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
    flip_kernel : bool
    x_2d, w_2d : bool
        The caller's forms, to give results back in the same form.
    """

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray
    has_bias: bool
    geometry: Geometry
    padding_mode: PaddingMode
    flip_kernel: bool
    x_2d: bool
    w_2d: bool

    @property
    def out_2d(self) -> bool:
        """True when the caller gave 2-D ``x`` and ``w``: results are 2-D too."""
        return self.x_2d and self.w_2d

    def padded_input(self) -> np.ndarray:
        """The input with its padding filled by ``padding_mode``, shape (C_in, Hp, Wp)."""
        return pad(self.x, self.geometry, self.padding_mode)


def prepare_conv(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    padding_mode: PaddingMode = "zeros",
    flip_kernel: bool = False,
) -> ConvSetup:
    """Check every argument of a convolution and bring it to canonical form.

    Raises
    ------
    TypeError, ValueError
        With a message naming the parameter, its value and the rule broken.
    """
    xa = check_array(x, "input x", (2, 3))
    wa = check_array(w, "kernel w", (2, 4))
    x3 = xa[None] if xa.ndim == 2 else xa
    w4 = wa[None, None] if wa.ndim == 2 else wa
    if w4.shape[1] != x3.shape[0]:
        raise ValueError(
            f"kernel w expects {w4.shape[1]} input channel(s) but input x has {x3.shape[0]}"
        )
    c_out = w4.shape[0]
    if bias is None:
        b = np.zeros(c_out)
        has_bias = False
    else:
        b = check_array(np.atleast_1d(np.asarray(bias)), "bias", (1,))
        if b.shape != (c_out,):
            raise ValueError(f"bias must have one value per output channel ({c_out}), got {b.shape[0]}")
        has_bias = True
    stride_p = as_pair(stride, "stride")
    dilation_p = as_pair(dilation, "dilation")
    kernel = (w4.shape[2], w4.shape[3])
    pad_p = normalize_padding(padding, kernel, dilation_p, stride_p)
    mode = check_padding_mode(padding_mode, pad_p, x3.shape[1:])
    geom = make_geometry(x3.shape[1:], kernel, stride_p, pad_p, dilation_p, mode=mode)
    if not isinstance(flip_kernel, (bool, np.bool_)):
        raise TypeError(f"flip_kernel must be True or False, got {flip_kernel!r}")
    if flip_kernel:
        w4 = w4[:, :, ::-1, ::-1]
    return ConvSetup(
        x=x3,
        w=np.ascontiguousarray(w4),
        bias=b,
        has_bias=has_bias,
        geometry=geom,
        padding_mode=mode,
        flip_kernel=bool(flip_kernel),
        x_2d=xa.ndim == 2,
        w_2d=wa.ndim == 2,
    )


#: Bytes of im2col matrix built at a time: small enough to stay in cache
#: between the copy that builds a block and the matrix product that reads it.
_BLOCK_BYTES = 1 << 19


def _im2col_blocks(win: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """The im2col matrix of ``win``, a block of output rows at a time.

    Parameters
    ----------
    win : ndarray, shape (C, H_out, W_out, kh, kw)
        A window view (see ``windows``).

    Yields
    ------
    i0, i1 : int
        The block's output rows ``i0:i1``.
    cols : ndarray, shape (C*kh*kw, (i1 - i0) * W_out)
        ``cols[(c, p, q), (i, j)] = win[c, i0 + i, j, p, q]``, rows in
        ``(c, p, q)`` order. One buffer, reused (overwritten) for each block.
    """
    C, Ho, Wo, kh, kw = win.shape
    K = C * kh * kw
    view = win.transpose(0, 3, 4, 1, 2)  # (C, kh, kw, H_out, W_out), still no copy
    rows = max(1, min(Ho, _BLOCK_BYTES // (8 * K * Wo)))
    buf = np.empty((C, kh, kw, rows, Wo))
    for i0 in range(0, Ho, rows):
        i1 = min(i0 + rows, Ho)
        block = buf[:, :, :, : i1 - i0]
        np.copyto(block, view[:, :, :, i0:i1])
        yield i0, i1, block.reshape(K, (i1 - i0) * Wo)


def _correlate(win: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """Contract windows with a flattened kernel: ``y[o, i, j] = sum_k w2[o, k] * win[(c, p, q) = k][i, j]``.

    Parameters
    ----------
    win : ndarray, shape (C, H_out, W_out, kh, kw)
    w2 : ndarray, shape (C_out, C*kh*kw)
        The kernel flattened in ``(c, p, q)`` order.

    Returns
    -------
    ndarray, shape (C_out, H_out, W_out)
    """
    _, Ho, Wo = win.shape[:3]
    y = np.empty((w2.shape[0], Ho, Wo))
    flat = y.reshape(w2.shape[0], Ho * Wo)  # a view: y is new and contiguous
    for i0, i1, cols in _im2col_blocks(win):
        np.matmul(w2, cols, out=flat[:, i0 * Wo : i1 * Wo])
    return y


def _kernel_grad(win: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Kernel gradient ``gw[o, (c, p, q)] = sum_{i, j} dy[o, i, j] * win[c, i, j, p, q]``.

    Parameters
    ----------
    win : ndarray, shape (C, H_out, W_out, kh, kw)
    dy : ndarray, shape (C_out, H_out, W_out)

    Returns
    -------
    ndarray, shape (C_out, C*kh*kw)
    """
    _, Ho, Wo, kh, kw = win.shape
    flat = np.ascontiguousarray(dy).reshape(dy.shape[0], Ho * Wo)
    gw = np.zeros((dy.shape[0], win.shape[0] * kh * kw))
    for i0, i1, cols in _im2col_blocks(win):
        gw += flat[:, i0 * Wo : i1 * Wo] @ cols.T
    return gw


def forward(s: ConvSetup) -> np.ndarray:
    """Convolution output ``(C_out, H_out, W_out)`` of a prepared setup."""
    y = _correlate(windows(read_padded(s), s.geometry), s.w.reshape(s.w.shape[0], -1))
    if s.has_bias:
        y += s.bias[:, None, None]
    return y


def backward_padded(s: ConvSetup, dy: np.ndarray, xp: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a prepared setup with the input gradient left on the padded grid.

    Parameters
    ----------
    s : ConvSetup
    dy : ndarray, shape (C_out, H_out, W_out)
    xp : ndarray, shape (C_in, Hp, Wp), optional
        ``s.padded_input()`` when the caller already has it (a trace keeps it).

    Returns
    -------
    gxp : ndarray, shape (C_in, Hp, Wp)
        Gradient reaching every padded position, padding included.
    gw : ndarray, shape (C_out, C_in, kh, kw)
        Gradient of the kernel as applied (flipped when ``flip_kernel``).
    gb : ndarray, shape (C_out,)
    """
    g = s.geometry
    r, c = g.rows, g.cols
    c_in = s.w.shape[1]
    gw = _kernel_grad(windows(read_padded(s) if xp is None else xp, g), dy).reshape(s.w.shape)
    gb = dy.sum(axis=(1, 2))
    if r.stride == 1 and c.stride == 1:
        # The input gradient is the transposed convolution: ``dy`` padded by the
        # kernel's span less one on every side, correlated with the kernel
        # flipped in space and with its channel axes swapped. Its output,
        # ``H_out + span - 1`` rows, is exactly the padded grid.
        dyp = np.pad(dy, ((0, 0), (r.span - 1, r.span - 1), (c.span - 1, c.span - 1)))
        win = sliding_window_view(dyp, (r.span, c.span), axis=(1, 2))[:, :, :, :: r.dilation, :: c.dilation]
        wt = s.w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(c_in, -1)
        return _correlate(win, wt), gw, gb
    # Strided: scatter every tap's share (col2im).
    cols = np.tensordot(s.w, dy, axes=([0], [0]))  # (C_in, kh, kw, H_out, W_out)
    return g.add_to_taps(np.zeros((c_in, r.extent, c.extent)), cols), gw, gb


def conv2d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    padding_mode: PaddingMode = "zeros",
    flip_kernel: bool = False,
) -> np.ndarray:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    ``y[o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * xp[c, i*sh + p*dh, j*sw + q*dw]``
    where ``xp`` is the padded input.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W) or (H, W)
    w : array_like, shape (C_out, C_in, kh, kw) or (kh, kw)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or (h, w)
    padding : int, (h, w), ((top, bottom), (left, right)), "valid" or "same"
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
    flip_kernel : bool
        Flip the kernel in both spatial axes first: the mathematical
        convolution rather than the cross-correlation deep learning uses.

    Returns
    -------
    y : ndarray, shape (C_out, H_out, W_out), or (H_out, W_out) when ``x`` and ``w`` are 2-D
    """
    s = prepare_conv(
        x, w, bias, stride=stride, padding=padding, dilation=dilation,
        padding_mode=padding_mode, flip_kernel=flip_kernel,
    )
    y = forward(s)
    return y[0] if s.out_2d else y


def conv2d_backward(
    x: ArrayLike,
    w: ArrayLike,
    grad_out: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    padding_mode: PaddingMode = "zeros",
    flip_kernel: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv2d`` with respect to its input, kernel and bias.

    Parameters
    ----------
    x, w : array_like
        As for ``conv2d``.
    grad_out : array_like, shape of ``conv2d``'s output
        The upstream gradient dL/dy.
    bias : array_like, optional
        Accepted for symmetry with ``conv2d``; the gradients do not depend on it.

    Returns
    -------
    grad_x : ndarray, shape of ``x``
        Padding cells' gradient is dropped (zeros) or folded onto the cell
        they copy (reflect, replicate, circular).
    grad_w : ndarray, shape of ``w``
        With respect to the kernel as the caller gave it (un-flipped).
    grad_bias : ndarray, shape (C_out,), or shape () when ``w`` is 2-D
        ``grad_out`` summed over each output channel.
    """
    s = prepare_conv(
        x, w, bias, stride=stride, padding=padding, dilation=dilation,
        padding_mode=padding_mode, flip_kernel=flip_kernel,
    )
    out_shape = (s.w.shape[0], *s.geometry.out_shape)
    dy = check_grad_out(out_shape, grad_out, s.out_2d)
    gxp, gw, gb = backward_padded(s, dy)
    gx = fold(gxp, s.geometry, s.padding_mode)
    if s.flip_kernel:
        gw = gw[:, :, ::-1, ::-1]
    gw = np.ascontiguousarray(gw)
    return (
        gx[0] if s.x_2d else gx,
        gw[0, 0] if s.w_2d else gw,
        gb.reshape(()) if s.w_2d else gb,
    )

