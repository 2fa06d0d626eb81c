"""2-D transposed convolution ("deconvolution", fractionally strided convolution) and its gradients.

Shapes are channels-first. ``x`` is ``(C_in, H, W)`` or ``(H, W)``; ``w`` is
``(C_in, C_out/groups, kh, kw)`` or ``(kh, kw)`` (PyTorch's layout: the
input channels first). Every input cell stamps ``x[c, i, j] * w[c]`` onto the
output, at rows ``i*sh - ph + p*dh`` and columns ``j*sw - pw + q*dw``:

    ``y[g*C_out/groups + o, i*sh - ph + p*dh, j*sw - pw + q*dw] += x[c, i, j] * w[c, o, p, q]``

for every input channel ``c`` of group ``g``. Stamps falling outside the output
(the ``padding`` crops the full result) are dropped. The output size on each axis is
``(H - 1)*s - 2*p + d*(k - 1) + output_padding + 1`` (``transposed_output_size``).

It is the adjoint of ``conv2d`` with the same stride, padding, dilation and
groups: the input gradient of ``conv2d`` is a transposed convolution, and the
input gradient of a transposed convolution is a ``conv2d``. The fast path uses
exactly that: the stamps land on the *full* grid (every row any stamp reaches),
which is then cropped by the padding. With stride 1 that is ``conv.input_grad``
(a correlation, im2col + BLAS); with a larger stride the stamps are added one
kernel tap at a time (a small matrix product per tap, added onto a strided
slice), which never holds every tap's products at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .conv import correlate, input_grad, kernel_grad
from .geometry import (
    AxisGeometry,
    Geometry,
    IntPair,
    as_int,
    as_pair,
    check_array,
    check_output_padding,
    transposed_output_size,
)
from .padding import check_grad_out

__all__ = [
    "TransposeSetup",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "prepare_conv_transpose",
]


@dataclass(frozen=True, eq=False)
class TransposeSetup:
    """A checked transposed-convolution problem in canonical 3-D/4-D form.

    Attributes
    ----------
    x : ndarray, shape (C_in, H, W)
    w : ndarray, shape (C_in, C_out/groups, kh, kw)
    bias : ndarray, shape (C_out,)
        Zeros when the caller gave none.
    has_bias : bool
    groups : int
    stride, padding, output_padding, dilation : tuple of int
        ``(h, w)`` each.
    grid : Geometry
        The convolution this one transposes, on the *full* grid: input size
        ``(H - 1)*s + d*(k - 1) + 1`` (every row a stamp reaches), no padding,
        ``H`` windows. Full row ``r`` is output row ``r - padding``.
    out_hw : tuple of int
        ``(H_out, W_out)``.
    x_2d, w_2d : bool
        The caller's forms.
    """

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray
    has_bias: bool
    groups: int
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    grid: Geometry
    out_hw: tuple[int, int]
    x_2d: bool
    w_2d: bool

    @property
    def out_2d(self) -> bool:
        """True when the caller gave 2-D ``x`` and ``w``: results are 2-D too."""
        return self.x_2d and self.w_2d

    @property
    def out_shape(self) -> tuple[int, int, int]:
        """``(C_out, H_out, W_out)``."""
        return (self.w.shape[1] * self.groups, *self.out_hw)

    def group_of(self, in_channel: int) -> int:
        """The group input channel ``in_channel`` belongs to."""
        return in_channel // (self.x.shape[0] // self.groups)

    def group_outputs(self, group: int) -> slice:
        """The output channels of ``group``, as a slice of the output's first axis."""
        n = self.w.shape[1]
        return slice(group * n, (group + 1) * n)


def _check_padding(padding: object) -> tuple[int, int]:
    """Transposed convolution padding: a number or an ``(h, w)`` pair, as in PyTorch."""
    if isinstance(padding, str) or (
        isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding)
    ):
        raise ValueError(
            f"a transposed convolution takes padding as one number or an (h, w) pair, got {padding!r}"
        )
    return as_pair(padding, "padding", minimum=0)


def prepare_conv_transpose(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> TransposeSetup:
    """Check every argument of a transposed convolution and bring it to canonical form.

    Raises
    ------
    TypeError, ValueError
        With a message naming the parameter, its value and the rule broken.
    """
    xa = check_array(x, "input x", (2, 3))
    wa = check_array(w, "kernel w", (2, 4))
    x3 = xa[None] if xa.ndim == 2 else xa
    w4 = wa[None, None] if wa.ndim == 2 else wa
    if w4.shape[0] != x3.shape[0]:
        raise ValueError(
            f"a transposed convolution's kernel w has one block per input channel, (C_in, C_out/groups, "
            f"kh, kw): w has {w4.shape[0]} but input x has {x3.shape[0]} channel(s)"
        )
    groups = as_int(groups, "groups")
    if groups < 1:
        raise ValueError(f"groups must be at least 1, got {groups}")
    if x3.shape[0] % groups:
        raise ValueError(
            f"groups={groups} must divide the input channels evenly: input x has {x3.shape[0]} channel(s)"
        )
    c_out = w4.shape[1] * groups
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
    pad_p = _check_padding(padding)
    out_pad = as_pair(output_padding, "output_padding", minimum=0)
    kernel = (w4.shape[2], w4.shape[3])
    axes, out_hw = [], []
    for axis, n, k, s, p, op, d in zip(
        ("height", "width"), x3.shape[1:], kernel, stride_p, pad_p, out_pad, dilation_p, strict=True
    ):
        check_output_padding(op, s, d, axis)
        try:
            out_hw.append(transposed_output_size(n, k, s, p, op, d))
        except ValueError as exc:
            raise ValueError(f"{exc} (for the {axis})") from None
        full = (n - 1) * s + d * (k - 1) + 1
        axes.append(AxisGeometry(full, k, s, d, 0, 0, n))
    return TransposeSetup(
        x=x3,
        w=np.ascontiguousarray(w4),
        bias=b,
        has_bias=has_bias,
        groups=groups,
        stride=stride_p,
        padding=pad_p,
        output_padding=out_pad,
        dilation=dilation_p,
        grid=Geometry(axes[0], axes[1]),
        out_hw=(out_hw[0], out_hw[1]),
        x_2d=xa.ndim == 2,
        w_2d=wa.ndim == 2,
    )


def crop_full(full: np.ndarray, s: TransposeSetup) -> np.ndarray:
    """The output ``(C, H_out, W_out)`` cut from the full grid ``(C, full_h, full_w)``.

    Output row ``i`` is full row ``i + padding``; output rows past the full
    grid (``output_padding`` larger than ``padding``) are zero.
    """
    (ph, pw), (ho, wo) = s.padding, s.out_hw
    nh = max(0, min(ho, full.shape[1] - ph))
    nw = max(0, min(wo, full.shape[2] - pw))
    y = np.zeros((full.shape[0], ho, wo))
    y[:, :nh, :nw] = full[:, ph : ph + nh, pw : pw + nw]
    return y


def to_full(dy: np.ndarray, s: TransposeSetup) -> np.ndarray:
    """An output-shaped array ``(C, H_out, W_out)`` placed on the full grid (the adjoint of ``crop_full``)."""
    (ph, pw), (ho, wo) = s.padding, s.out_hw
    rows, cols = s.grid.rows.size, s.grid.cols.size
    nh = max(0, min(ho, rows - ph))
    nw = max(0, min(wo, cols - pw))
    full = np.zeros((dy.shape[0], rows, cols))
    full[:, ph : ph + nh, pw : pw + nw] = dy[:, :nh, :nw]
    return full


def stamp(w: np.ndarray, x: np.ndarray, grid: Geometry, groups: int = 1) -> np.ndarray:
    """Every input cell's stamp ``x[c, i, j] * w[c]`` added onto the full grid, one kernel tap at a time.

    The same numbers as ``conv.input_grad(w, x, grid, groups)`` for a strided
    ``grid``, without building all ``kh*kw`` taps' products first.

    Parameters
    ----------
    w : ndarray, shape (C_in, C_out/groups, kh, kw)
    x : ndarray, shape (C_in, H, W)
    grid : Geometry
        ``TransposeSetup.grid``.
    groups : int

    Returns
    -------
    ndarray, shape (C_out, full_h, full_w)
    """
    r, c = grid.rows, grid.cols
    c_in, per_group, kh, kw = w.shape
    H, W = x.shape[1:]
    c_out = per_group * groups
    # wt[p, q] maps input channels to output channels, group by group: (groups, C_out/groups, C_in/groups).
    wt = np.ascontiguousarray(w.reshape(groups, c_in // groups, per_group, kh, kw).transpose(3, 4, 0, 2, 1))
    xg = x.reshape(groups, c_in // groups, H * W)
    buf = np.empty((groups, per_group, H * W))
    full = np.zeros((c_out, r.extent, c.extent))
    h_end, w_end = r.stride * (H - 1) + 1, c.stride * (W - 1) + 1
    for p in range(kh):
        for q in range(kw):
            np.matmul(wt[p, q], xg, out=buf)
            rp, cq = p * r.dilation, q * c.dilation
            full[:, rp : rp + h_end : r.stride, cq : cq + w_end : c.stride] += buf.reshape(c_out, H, W)
    return full


def forward(s: TransposeSetup, x: np.ndarray | None = None) -> np.ndarray:
    """Output ``(C_out, H_out, W_out)`` of a prepared setup (for input ``x`` instead of ``s.x`` if given)."""
    xx = s.x if x is None else x
    strided = s.stride != (1, 1)
    full = stamp(s.w, xx, s.grid, s.groups) if strided else input_grad(s.w, xx, s.grid, s.groups)
    y = crop_full(full, s)
    if s.has_bias:
        y += s.bias[:, None, None]
    return y


def backward(s: TransposeSetup, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(gx (C_in, H, W), gw (C_in, C_out/groups, kh, kw), gb (C_out,))`` of a prepared setup."""
    dy_full = to_full(dy, s)
    gx = correlate(dy_full, s.w, s.grid, s.groups)
    gw = kernel_grad(dy_full, s.x, s.grid, s.groups)
    return gx, gw, dy.sum(axis=(1, 2))


def conv_transpose2d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W) or (H, W)
    w : array_like, shape (C_in, C_out/groups, kh, kw) or (kh, kw)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or (h, w)
        Stride spreads the stamps apart (``s - 1`` empty rows between input
        rows); dilation spreads each stamp's taps.
    padding : int or (h, w)
        Rows/columns cropped from each side of the full result.
    output_padding : int or (h, w)
        Extra rows/columns on the bottom/right, smaller than
        ``max(stride, dilation)``: it picks which input size of the matching
        ``conv2d`` the output has, when a stride rounds several to one.
    groups : int
        ``C_in`` and ``C_out`` split into ``groups`` groups; input channels of
        group ``g`` stamp only onto its output channels.

    Returns
    -------
    y : ndarray, shape (C_out, H_out, W_out), or (H_out, W_out) when ``x`` and ``w`` are 2-D
        ``H_out = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding_h + 1``, likewise ``W_out``.
    """
    s = prepare_conv_transpose(
        x, w, bias, stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, groups=groups,
    )
    y = forward(s)
    return y[0] if s.out_2d else y


def conv_transpose2d_backward(
    x: ArrayLike,
    w: ArrayLike,
    grad_out: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv_transpose2d`` with respect to its input, kernel and bias.

    The input gradient is ``conv2d(grad_out, w, stride, padding, dilation, groups)``
    (cut to ``x``'s size): the transposed convolution's adjoint.

    Parameters
    ----------
    x, w, stride, padding, output_padding, dilation, groups
        As for ``conv_transpose2d``.
    grad_out : array_like, shape of ``conv_transpose2d``'s output
        The upstream gradient dL/dy.
    bias : array_like, optional
        Accepted for symmetry; the gradients do not depend on it.

    Returns
    -------
    grad_x : ndarray, shape of ``x``
    grad_w : ndarray, shape of ``w``
    grad_bias : ndarray, shape (C_out,), or shape () when ``w`` is 2-D
    """
    s = prepare_conv_transpose(
        x, w, bias, stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, groups=groups,
    )
    dy = check_grad_out(s.out_shape, grad_out, s.out_2d)
    gx, gw, gb = backward(s, dy)
    return (
        gx[0] if s.x_2d else gx,
        gw[0, 0] if s.w_2d else gw,
        gb.reshape(()) if s.w_2d else gb,
    )
