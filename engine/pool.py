"""2-D max, min and average pooling and their gradients, with PyTorch's rules.

``x`` is ``(C, H, W)`` or ``(H, W)``; each channel is pooled on its own.
Max pooling pads with -inf, min pooling with +inf and average pooling with
zeros. ``ceil_mode`` may add a last window that hangs past the padding; the
cells it hangs over ("overhang") are ignored by max/min and never counted in
an average's divisor, exactly as PyTorch does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .cancel import checkpoint
from .geometry import (
    AxisGeometry,
    Geometry,
    IntPair,
    Padding,
    as_pair,
    check_array,
    make_geometry,
    normalize_padding,
)
from .padding import check_grad_out, crop, pad, read_padded

__all__ = ["PoolOp", "PoolSetup", "pool2d", "pool2d_backward", "prepare_pool"]

PoolOp = Literal["max", "min", "avg"]
POOL_OPS: tuple[PoolOp, ...] = ("max", "min", "avg")
_FILL: dict[PoolOp, float] = {"max": -np.inf, "min": np.inf, "avg": 0.0}


@dataclass(frozen=True, eq=False)
class PoolSetup:
    """A checked pooling problem in canonical 3-D form.

    Attributes
    ----------
    x : ndarray, shape (C, H, W)
    op : {"max", "min", "avg"}
    geometry : Geometry
        Includes ``ceil_mode`` overhang in its extents.
    count_include_pad : bool
    x_2d : bool
    """

    x: np.ndarray
    op: PoolOp
    geometry: Geometry
    count_include_pad: bool
    x_2d: bool

    @property
    def fill(self) -> float:
        """The value padding holds: -inf (max), +inf (min) or 0 (avg)."""
        return _FILL[self.op]

    def padded_input(self) -> np.ndarray:
        """Input padded with ``fill`` up to the windows' extent, shape (C, extent_h, extent_w)."""
        return pad(self.x, self.geometry, "zeros", fill=self.fill)

    def divisors(self) -> np.ndarray:
        """Average pooling's divisor for every output cell, shape (H_out, W_out).

        Taps on real cells always count; taps on explicit padding count when
        ``count_include_pad``; taps on ceil-mode overhang never count.
        """
        counts = []
        for g in (self.geometry.rows, self.geometry.cols):
            kinds = g.kinds()
            taps = np.arange(g.out)[:, None] * g.stride + g.dilation * np.arange(g.kernel)[None, :]
            keep = kinds[taps] <= (1 if self.count_include_pad else 0)
            counts.append(keep.sum(axis=1))
        return counts[0][:, None] * counts[1][None, :]


def prepare_pool(
    x: ArrayLike,
    kernel_size: IntPair,
    *,
    op: PoolOp = "max",
    stride: IntPair | None = None,
    padding: Padding = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> PoolSetup:
    """Check every argument of a pooling and bring it to canonical form.

    Raises
    ------
    TypeError, ValueError
        With a message naming the parameter, its value and the rule broken.
    """
    if op not in POOL_OPS:
        raise ValueError(f"op must be one of {', '.join(POOL_OPS)}; got {op!r}")
    xa = check_array(x, "input x", (2, 3))
    x3 = xa[None] if xa.ndim == 2 else xa
    kernel = as_pair(kernel_size, "kernel_size")
    stride_p = kernel if stride is None else as_pair(stride, "stride")
    dilation_p = as_pair(dilation, "dilation")
    if padding == "same":
        raise ValueError("padding 'same' is for convolution; pooling takes a number or a pair")
    pad_p = normalize_padding(padding, kernel, dilation_p, stride_p)
    for name, k, d, sides in zip(("rows", "columns"), kernel, dilation_p, pad_p, strict=True):
        span = d * (k - 1) + 1
        if max(sides) > span // 2:
            raise ValueError(
                f"pooling padding of {max(sides)} {name} is more than half the window "
                f"({span} {name}): a window could then cover only padding"
            )
    for name, flag in (("ceil_mode", ceil_mode), ("count_include_pad", count_include_pad)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    geom = make_geometry(
        x3.shape[1:], kernel, stride_p, pad_p, dilation_p, ceil_mode=bool(ceil_mode)
    )
    for name, g in (("row", geom.rows), ("column", geom.cols)):
        taps = np.arange(g.out)[:, None] * g.stride + g.dilation * np.arange(g.kernel)[None, :]
        only_padding = np.flatnonzero(~(g.kinds()[taps] == 0).any(axis=1))
        if only_padding.size:
            o = int(only_padding[0])
            raise ValueError(
                f"pooling window {o} along the {name}s covers only padding "
                f"(kernel {g.kernel}, dilation {g.dilation}, input {g.size} {name}s): "
                "use less padding or dilation"
            )
    return PoolSetup(x3, op, geom, bool(count_include_pad), xa.ndim == 2)


def _taps(g: Geometry) -> list[tuple[slice, slice, slice]]:
    """Every kernel tap in raster order, as the index of the padded cells it reads for all windows.

    Returns
    -------
    list of tuple of slice
        For tap ``(p, q)``, ``xp[index]`` is the ``(C, H_out, W_out)`` grid
        ``xp[:, i*sh + p*dh, j*sw + q*dw]``.
    """
    r, c = g.rows, g.cols
    h_end = r.stride * (r.out - 1) + 1
    w_end = c.stride * (c.out - 1) + 1
    return [
        (
            slice(None),
            slice(p * r.dilation, p * r.dilation + h_end, r.stride),
            slice(q * c.dilation, q * c.dilation + w_end, c.stride),
        )
        for p in range(r.kernel)
        for q in range(c.kernel)
    ]


#: Bytes of one band of column-reduced rows in ``_reduce``: it stays in cache
#: between the column passes that write it and the row passes that read it.
_BAND_BYTES = 1 << 19


def _reduce(xp: np.ndarray, g: Geometry, ufunc: np.ufunc) -> np.ndarray:
    """Reduce every window of a padded input with a binary ufunc (add, maximum or minimum).

    Separable, a band of output rows at a time: along the columns first (one
    pass per kernel column), then along the rows (one pass per kernel row).

    Parameters
    ----------
    xp : ndarray, shape (C, extent_h, extent_w)
        Read only.
    g : Geometry
    ufunc : numpy.ufunc

    Returns
    -------
    ndarray, shape (C, H_out, W_out)
        A new array.
    """
    r, c = g.rows, g.cols
    C = xp.shape[0]
    w_end = c.stride * (c.out - 1) + 1
    y = np.empty((C, r.out, c.out))
    rows = max(1, _BAND_BYTES // (8 * C * c.out * r.stride))
    band_buf = np.empty((C, (rows - 1) * r.stride + r.span, c.out))
    for i0 in range(0, r.out, rows):
        checkpoint()
        i1 = min(i0 + rows, r.out)
        top, bottom = i0 * r.stride, (i1 - 1) * r.stride + r.span
        band = xp[:, top:bottom]
        across = band_buf[:, : bottom - top]  # (C, rows of the band, W_out)
        if c.kernel == 1:
            np.copyto(across, band[:, :, 0:w_end : c.stride])
        for q in range(1, c.kernel):
            cq = q * c.dilation
            first = band[:, :, 0:w_end : c.stride] if q == 1 else across
            ufunc(first, band[:, :, cq : cq + w_end : c.stride], out=across)
        out = y[:, i0:i1]
        h_end = r.stride * (i1 - i0 - 1) + 1
        if r.kernel == 1:
            np.copyto(out, across[:, 0:h_end : r.stride])
        for p in range(1, r.kernel):
            rp = p * r.dilation
            first = across[:, 0:h_end : r.stride] if p == 1 else out
            ufunc(first, across[:, rp : rp + h_end : r.stride], out=out)
    return y


def forward(s: PoolSetup) -> np.ndarray:
    """Pooled output ``(C, H_out, W_out)`` of a prepared setup."""
    xp = read_padded(s)
    if s.op == "avg":
        y = _reduce(xp, s.geometry, np.add)
        y /= s.divisors()
        return y
    return _reduce(xp, s.geometry, np.maximum if s.op == "max" else np.minimum)


def backward_padded(s: PoolSetup, dy: np.ndarray) -> np.ndarray:
    """Gradient on the padded grid ``(C, extent_h, extent_w)`` from ``dy (C, H_out, W_out)``.

    Parameters
    ----------
    s : PoolSetup
    dy : ndarray, shape (C, H_out, W_out)

    Returns
    -------
    ndarray, shape (C, extent_h, extent_w)
    """
    g: Geometry = s.geometry
    r, c = g.rows, g.cols
    C = s.x.shape[0]
    if s.op == "avg":
        share = dy / s.divisors()
        if r.stride == 1 and c.stride == 1:
            # Every padded cell gathers the shares of the windows over it: a window
            # sum of the shares padded by the span less one, read with stride 1.
            spread = Geometry(
                AxisGeometry(r.out, r.kernel, 1, r.dilation, r.span - 1, r.span - 1, r.extent),
                AxisGeometry(c.out, c.kernel, 1, c.dilation, c.span - 1, c.span - 1, c.extent),
            )
            pad_h, pad_w = (r.span - 1, r.span - 1), (c.span - 1, c.span - 1)
            gp = _reduce(np.pad(share, ((0, 0), pad_h, pad_w)), spread, np.add)
        else:
            gp = g.add_to_taps(np.zeros((C, r.extent, c.extent)), share)
        if not s.count_include_pad or r.extent > r.padded or c.extent > c.padded:
            # Taps that were not counted in the divisor do not receive gradient either.
            keep = _counted_mask(s)
            gp *= keep
        return gp
    xp = read_padded(s)
    best = _reduce(xp, g, np.maximum if s.op == "max" else np.minimum)
    # Each window's gradient goes to its first extreme tap in raster order:
    # walk the taps in that order, and mark windows already served as done.
    done = np.zeros(best.shape, dtype=bool)
    hit = np.empty(best.shape, dtype=bool)
    share = np.empty(best.shape)
    gp = np.zeros((C, r.extent, c.extent))
    disjoint = r.stride >= r.span and c.stride >= c.span  # no cell is in two windows
    taps = _taps(g)
    for t, idx in enumerate(taps):
        checkpoint()
        np.equal(xp[idx], best, out=hit)
        if t:
            np.greater(hit, done, out=hit)  # hit and not done
        if t < len(taps) - 1:
            np.logical_or(done, hit, out=done)
        if disjoint:
            np.multiply(dy, hit, out=gp[idx])
        else:
            np.multiply(dy, hit, out=share)
            gp[idx] += share
    if disjoint:
        gp += 0.0  # -0.0 (a negative gradient times a miss) becomes 0.0, as when adding up
    return gp


def _counted_mask(s: PoolSetup) -> np.ndarray:
    """1.0 where a padded position counts in an average, else 0.0; shape (extent_h, extent_w)."""
    limit = 1 if s.count_include_pad else 0
    kr = (s.geometry.rows.kinds() <= limit).astype(float)
    kc = (s.geometry.cols.kinds() <= limit).astype(float)
    return kr[:, None] * kc[None, :]


def pool2d(
    x: ArrayLike,
    kernel_size: IntPair,
    *,
    op: PoolOp = "max",
    stride: IntPair | None = None,
    padding: Padding = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Max, min or average pooling, as ``torch.nn.functional.max_pool2d`` / ``avg_pool2d``.

    Parameters
    ----------
    x : array_like, shape (C, H, W) or (H, W)
    kernel_size : int or (kh, kw)
    op : {"max", "min", "avg"}
        Min pooling is ``-max_pool(-x)``.
    stride : int or (h, w), optional
        Defaults to ``kernel_size``.
    padding : int, (h, w) or ((top, bottom), (left, right))
        At most half the (dilated) window on every side.
    dilation : int or (h, w)
    ceil_mode : bool
        Round the output size up; the last window must still start inside
        the input or the leading padding.
    count_include_pad : bool
        Average only: whether padding cells count in the divisor.

    Returns
    -------
    y : ndarray, shape (C, H_out, W_out), or (H_out, W_out) for 2-D ``x``
    """
    s = prepare_pool(
        x, kernel_size, op=op, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    y = forward(s)
    return y[0] if s.x_2d else y


def pool2d_backward(
    x: ArrayLike,
    grad_out: ArrayLike,
    kernel_size: IntPair,
    *,
    op: PoolOp = "max",
    stride: IntPair | None = None,
    padding: Padding = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of ``pool2d`` with respect to its input.

    Max and min send each window's gradient to the **first** extreme cell in
    raster order (row by row, left to right) when several cells tie, as
    PyTorch's CPU kernels do; overlapping windows add up. Average spreads it
    evenly over the cells counted in the divisor.

    Parameters
    ----------
    x : array_like, shape (C, H, W) or (H, W)
    grad_out : array_like, shape of ``pool2d``'s output
    kernel_size, op, stride, padding, dilation, ceil_mode, count_include_pad
        As for ``pool2d``.

    Returns
    -------
    grad_x : ndarray, shape of ``x``
    """
    s = prepare_pool(
        x, kernel_size, op=op, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    out_shape = (s.x.shape[0], *s.geometry.out_shape)
    dy = check_grad_out(out_shape, grad_out, s.x_2d)
    gx = crop(backward_padded(s, dy), s.geometry)
    return gx[0] if s.x_2d else np.ascontiguousarray(gx)
