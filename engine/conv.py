"""2-D convolution (cross-correlation, as in every deep-learning framework) and its gradients.

Shapes are channels-first. ``x`` is ``(C_in, H, W)`` or ``(H, W)``; ``w`` is
``(C_out, C_in/groups, kh, kw)`` or ``(kh, kw)``. The fast path is im2col +
BLAS: a strided window view of the padded input is copied into an im2col
matrix a block of output rows at a time (small enough to stay in cache) and
each block goes through one matrix product (one per group, batched, when
``groups > 1``). With stride 1 the input gradient is the transposed
convolution, computed the same way.

The grid-level helpers ``correlate``, ``kernel_grad`` and ``input_grad`` work
on an already padded grid and a ``Geometry``; the transposed convolution
(``engine.transpose``) is built from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from .cancel import checkpoint
from .geometry import (
    Geometry,
    IntPair,
    Padding,
    PaddingMode,
    as_int,
    as_pair,
    check_array,
    check_padding_mode,
    make_geometry,
    normalize_padding,
)
from .padding import check_grad_out, fold, pad, read_padded, windows

__all__ = [
    "ConvSetup",
    "check_groups",
    "conv2d",
    "conv2d_backward",
    "correlate",
    "input_grad",
    "kernel_grad",
    "prepare_conv",
]


@dataclass(frozen=True, eq=False)
class ConvSetup:
    """A checked convolution problem in canonical 3-D/4-D form.

    Attributes
    ----------
    x : ndarray, shape (C_in, H, W)
    w : ndarray, shape (C_out, C_in/groups, kh, kw)
        The kernel as applied (already flipped when ``flip_kernel``).
    bias : ndarray, shape (C_out,)
        Zeros when the caller gave none.
    has_bias : bool
    geometry : Geometry
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
    flip_kernel : bool
    x_2d, w_2d : bool
        The caller's forms, to give results back in the same form.
    groups : int
        Input channels ``g*C_in/groups ...`` feed only output channels
        ``g*C_out/groups ...`` (group ``g``); 1 is the ordinary convolution.
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
    groups: int = 1

    def group_of(self, out_channel: int) -> int:
        """The group output channel ``out_channel`` belongs to."""
        return out_channel // (self.w.shape[0] // self.groups)

    def group_inputs(self, group: int) -> slice:
        """The input channels of ``group``, as a slice of ``x``'s first axis."""
        n = self.w.shape[1]
        return slice(group * n, (group + 1) * n)

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
    groups: int = 1,
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
    groups = check_groups(groups, x3.shape[0], w4.shape[0], w4.shape[1])
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
        groups=groups,
    )


def check_groups(groups: object, c_in: int, c_out: int, per_group: int) -> int:
    """Check ``groups`` against the channel counts, PyTorch's rules, in plain words.

    Parameters
    ----------
    groups : int
        The caller's value.
    c_in : int
        Input channels (of ``x``).
    c_out : int
        Output channels (kernels).
    per_group : int
        Input channels each kernel reads, ``w.shape[1]`` of a ``conv2d`` kernel.

    Returns
    -------
    int
        ``groups``, checked: at least 1, dividing ``c_in`` and ``c_out``, and
        ``c_in == groups * per_group``.
    """
    g = as_int(groups, "groups")
    if g < 1:
        raise ValueError(f"groups must be at least 1, got {g}")
    if g == 1:
        if per_group != c_in:
            raise ValueError(f"kernel w expects {per_group} input channel(s) but input x has {c_in}")
        return 1
    if c_in % g:
        raise ValueError(
            f"groups={g} must divide the input channels evenly: input x has {c_in} channel(s)"
        )
    if c_out % g:
        raise ValueError(
            f"groups={g} must divide the output channels evenly: kernel w has {c_out} kernel(s)"
        )
    if per_group != c_in // g:
        raise ValueError(
            f"kernel w expects {per_group} input channel(s) per group, but input x has {c_in} "
            f"channel(s) in {g} groups, {c_in // g} per group"
        )
    return g


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
        checkpoint()  # a block is at most _BLOCK_BYTES: a few ms of work between checks
        i1 = min(i0 + rows, Ho)
        block = buf[:, :, :, : i1 - i0]
        np.copyto(block, view[:, :, :, i0:i1])
        yield i0, i1, block.reshape(K, (i1 - i0) * Wo)


def _correlate(win: np.ndarray, w2: np.ndarray, groups: int = 1) -> np.ndarray:
    """Contract windows with a flattened kernel: ``y[o, i, j] = sum_k w2[o, k] * win[(c, p, q) = k][i, j]``.

    Parameters
    ----------
    win : ndarray, shape (C, H_out, W_out, kh, kw)
    w2 : ndarray, shape (C_out, C/groups*kh*kw)
        The kernel flattened in ``(c, p, q)`` order.
    groups : int
        Output channels of group ``g`` only read the input channels of group
        ``g`` (``k`` then runs over that group's ``(c, p, q)``).

    Returns
    -------
    ndarray, shape (C_out, H_out, W_out)
    """
    _, Ho, Wo = win.shape[:3]
    y = np.empty((w2.shape[0], Ho, Wo))
    flat = y.reshape(w2.shape[0], Ho * Wo)  # a view: y is new and contiguous
    if groups == 1:
        for i0, i1, cols in _im2col_blocks(win):
            np.matmul(w2, cols, out=flat[:, i0 * Wo : i1 * Wo])
        return y
    # im2col rows are in (c, p, q) order, so each group's rows are one contiguous block.
    wg = w2.reshape(groups, w2.shape[0] // groups, w2.shape[1])
    yg = flat.reshape(groups, w2.shape[0] // groups, Ho * Wo)
    for i0, i1, cols in _im2col_blocks(win):
        np.matmul(wg, cols.reshape(groups, w2.shape[1], cols.shape[1]), out=yg[:, :, i0 * Wo : i1 * Wo])
    return y


def _kernel_grad(win: np.ndarray, dy: np.ndarray, groups: int = 1) -> np.ndarray:
    """Kernel gradient ``gw[o, (c, p, q)] = sum_{i, j} dy[o, i, j] * win[c, i, j, p, q]``.

    Parameters
    ----------
    win : ndarray, shape (C, H_out, W_out, kh, kw)
    dy : ndarray, shape (C_out, H_out, W_out)
    groups : int
        ``c`` runs over the input channels of ``o``'s group only.

    Returns
    -------
    ndarray, shape (C_out, C/groups*kh*kw)
    """
    _, Ho, Wo, kh, kw = win.shape
    flat = np.ascontiguousarray(dy).reshape(dy.shape[0], Ho * Wo)
    K = win.shape[0] * kh * kw // groups
    gw = np.zeros((dy.shape[0], K))
    if groups == 1:
        for i0, i1, cols in _im2col_blocks(win):
            gw += flat[:, i0 * Wo : i1 * Wo] @ cols.T
        return gw
    gwg = gw.reshape(groups, dy.shape[0] // groups, K)
    dyg = flat.reshape(groups, dy.shape[0] // groups, Ho * Wo)
    for i0, i1, cols in _im2col_blocks(win):
        gwg += np.matmul(dyg[:, :, i0 * Wo : i1 * Wo], cols.reshape(groups, K, -1).transpose(0, 2, 1))
    return gw


def correlate(xp: np.ndarray, w: np.ndarray, geom: Geometry, groups: int = 1) -> np.ndarray:
    """Grouped cross-correlation of a padded grid: every window of ``geom`` against every kernel.

    Parameters
    ----------
    xp : ndarray, shape (C_in, extent_h, extent_w)
        The padded input (read only).
    w : ndarray, shape (C_out, C_in/groups, kh, kw)
    geom : Geometry
    groups : int

    Returns
    -------
    ndarray, shape (C_out, H_out, W_out)
        ``y[o, i, j] = sum_{c, p, q} w[o, c, p, q] * xp[g*C_in/groups + c, i*sh + p*dh, j*sw + q*dw]``
        with ``g`` the group of ``o``; no bias.
    """
    return _correlate(windows(xp, geom), w.reshape(w.shape[0], -1), groups)


def kernel_grad(xp: np.ndarray, dy: np.ndarray, geom: Geometry, groups: int = 1) -> np.ndarray:
    """Gradient of ``correlate`` with respect to its kernel.

    Parameters
    ----------
    xp : ndarray, shape (C_in, extent_h, extent_w)
    dy : ndarray, shape (C_out, H_out, W_out)
    geom : Geometry
    groups : int

    Returns
    -------
    ndarray, shape (C_out, C_in/groups, kh, kw)
    """
    gw = _kernel_grad(windows(xp, geom), dy, groups)
    return gw.reshape(dy.shape[0], xp.shape[0] // groups, geom.rows.kernel, geom.cols.kernel)


def input_grad(w: np.ndarray, dy: np.ndarray, geom: Geometry, groups: int = 1) -> np.ndarray:
    """Gradient of ``correlate`` with respect to its (padded) input: the transposed convolution.

    Parameters
    ----------
    w : ndarray, shape (C_out, C_in/groups, kh, kw)
    dy : ndarray, shape (C_out, H_out, W_out)
    geom : Geometry
        Stride 1 needs ``extent == H_out + span - 1`` on each axis (true of
        every convolution geometry, which has no ceil-mode overhang).
    groups : int

    Returns
    -------
    ndarray, shape (C_in, extent_h, extent_w)
        Gradient reaching every padded position, padding included.
    """
    r, c = geom.rows, geom.cols
    c_out, per_group, kh, kw = w.shape
    c_in = per_group * groups
    if r.stride == 1 and c.stride == 1:
        # ``dy`` padded by the kernel's span less one on every side, correlated
        # with the kernel flipped in space and with its channel axes swapped
        # (within each group). Its output, ``H_out + span - 1`` rows, is
        # exactly the padded grid.
        checkpoint()
        dyp = np.pad(dy, ((0, 0), (r.span - 1, r.span - 1), (c.span - 1, c.span - 1)))
        win = sliding_window_view(dyp, (r.span, c.span), axis=(1, 2))[:, :, :, :: r.dilation, :: c.dilation]
        if groups == 1:
            wt = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(c_in, -1)
        else:
            wg = w.reshape(groups, c_out // groups, per_group, kh, kw)[..., ::-1, ::-1]
            wt = wg.transpose(0, 2, 1, 3, 4).reshape(c_in, -1)
        return _correlate(win, wt, groups)
    # Strided: scatter every tap's share (col2im).
    if groups == 1:
        cols = np.tensordot(w, dy, axes=([0], [0]))  # (C_in, kh, kw, H_out, W_out)
    else:
        cols = np.einsum(
            "gocpq,goij->gcpqij",
            w.reshape(groups, c_out // groups, per_group, kh, kw),
            dy.reshape(groups, c_out // groups, *dy.shape[1:]),
        ).reshape(c_in, kh, kw, *dy.shape[1:])
    return geom.add_to_taps(np.zeros((c_in, r.extent, c.extent)), cols)


def forward(s: ConvSetup) -> np.ndarray:
    """Convolution output ``(C_out, H_out, W_out)`` of a prepared setup."""
    y = correlate(read_padded(s), s.w, s.geometry, s.groups)
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
    gw : ndarray, shape (C_out, C_in/groups, kh, kw)
        Gradient of the kernel as applied (flipped when ``flip_kernel``).
    gb : ndarray, shape (C_out,)
    """
    g = s.geometry
    gw = kernel_grad(read_padded(s) if xp is None else xp, dy, g, s.groups)
    gb = dy.sum(axis=(1, 2))
    checkpoint()
    return input_grad(s.w, dy, g, s.groups), gw, gb


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
    groups: int = 1,
) -> np.ndarray:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    ``y[o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * xp[g*C_in/groups + c, i*sh + p*dh, j*sw + q*dw]``
    where ``xp`` is the padded input and ``g = o // (C_out/groups)`` the group of ``o``.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W) or (H, W)
    w : array_like, shape (C_out, C_in/groups, kh, kw) or (kh, kw)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or (h, w)
    padding : int, (h, w), ((top, bottom), (left, right)), "valid" or "same"
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
    flip_kernel : bool
        Flip the kernel in both spatial axes first: the mathematical
        convolution rather than the cross-correlation deep learning uses.
    groups : int
        Split the input and output channels into ``groups`` groups; group
        ``g``'s kernels read only group ``g``'s input channels.
        ``groups == C_in`` (with ``C_out`` a multiple of it) is the depthwise
        convolution. ``C_in`` and ``C_out`` must both be divisible by it.

    Returns
    -------
    y : ndarray, shape (C_out, H_out, W_out), or (H_out, W_out) when ``x`` and ``w`` are 2-D
    """
    s = prepare_conv(
        x, w, bias, stride=stride, padding=padding, dilation=dilation,
        padding_mode=padding_mode, flip_kernel=flip_kernel, groups=groups,
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
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv2d`` with respect to its input, kernel and bias.

    Parameters
    ----------
    x, w, stride, padding, dilation, padding_mode, flip_kernel, groups
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
        padding_mode=padding_mode, flip_kernel=flip_kernel, groups=groups,
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

