"""2-D max, min and average pooling and their gradients, with PyTorch's rules.

``x`` is ``(C, H, W)`` or ``(H, W)``; each channel is pooled on its own.
Max pooling pads with -inf, min pooling with +inf and average pooling with
zeros. ``ceil_mode`` may add a last window that hangs past the padding; the
cells it hangs over ("overhang") are ignored by max/min and never counted in
an average's divisor, exactly as PyTorch does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .conv import check_grad_out, pad, windows
from .geometry import Geometry, as_pair, check_array, make_geometry, normalize_padding

__all__ = ["PoolSetup", "pool2d", "pool2d_backward", "prepare_pool"]

POOL_OPS: tuple[str, ...] = ("max", "min", "avg")
_FILL = {"max": -np.inf, "min": np.inf, "avg": 0.0}


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
    op: str
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
    x: object,
    kernel_size: object,
    *,
    op: str = "max",
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
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
        kinds = g.kinds()
        for o in range(g.out):
            if not (kinds[g.taps(o)] == 0).any():
                raise ValueError(
                    f"pooling window {o} along the {name}s covers only padding "
                    f"(kernel {g.kernel}, dilation {g.dilation}, input {g.size} {name}s): "
                    "use less padding or dilation"
                )
    return PoolSetup(x3, op, geom, bool(count_include_pad), xa.ndim == 2)


def _winner(s: PoolSetup, win: np.ndarray) -> np.ndarray:
    """Flat tap index (raster order) of the first max/min of every window, shape (C, H_out, W_out)."""
    flat = win.reshape(*win.shape[:3], -1)
    return flat.argmax(axis=-1) if s.op == "max" else flat.argmin(axis=-1)


def forward(s: PoolSetup) -> np.ndarray:
    """Pooled output ``(C, H_out, W_out)`` of a prepared setup."""
    win = windows(s.padded_input(), s.geometry)
    if s.op == "avg":
        return win.sum(axis=(3, 4)) / s.divisors()
    return win.max(axis=(3, 4)) if s.op == "max" else win.min(axis=(3, 4))


def backward_padded(s: PoolSetup, dy: np.ndarray) -> np.ndarray:
    """Gradient on the padded grid ``(C, extent_h, extent_w)`` from ``dy (C, H_out, W_out)``."""
    g: Geometry = s.geometry
    r, c = g.rows, g.cols
    C = s.x.shape[0]
    if s.op == "avg":
        share = dy / s.divisors()
        gp = np.zeros((C, r.extent, c.extent))
        h_end = r.stride * (r.out - 1) + 1
        w_end = c.stride * (c.out - 1) + 1
        for i in range(r.kernel):
            for j in range(c.kernel):
                ri, cj = i * r.dilation, j * c.dilation
                gp[:, ri : ri + h_end : r.stride, cj : cj + w_end : c.stride] += share
        if not s.count_include_pad or r.extent > r.padded or c.extent > c.padded:
            # Taps that were not counted in the divisor do not receive gradient either.
            keep = _counted_mask(s)
            gp *= keep
        return gp
    k = _winner(s, windows(s.padded_input(), g))
    ki, kj = np.divmod(k, c.kernel)
    rows = np.arange(r.out)[None, :, None] * r.stride + ki * r.dilation
    cols = np.arange(c.out)[None, None, :] * c.stride + kj * c.dilation
    flat = (np.arange(C)[:, None, None] * r.extent + rows) * c.extent + cols
    gp = np.bincount(flat.ravel(), weights=dy.ravel(), minlength=C * r.extent * c.extent)
    return gp.reshape(C, r.extent, c.extent)


def _counted_mask(s: PoolSetup) -> np.ndarray:
    """1.0 where a padded position counts in an average, else 0.0; shape (extent_h, extent_w)."""
    limit = 1 if s.count_include_pad else 0
    kr = (s.geometry.rows.kinds() <= limit).astype(float)
    kc = (s.geometry.cols.kinds() <= limit).astype(float)
    return kr[:, None] * kc[None, :]


def crop(gp: np.ndarray, g: Geometry) -> np.ndarray:
    """The real-input part ``(C, H, W)`` of a padded-grid array."""
    r, c = g.rows, g.cols
    return gp[:, r.before : r.before + r.size, c.before : c.before + c.size]


def pool2d(
    x: object,
    kernel_size: object,
    *,
    op: str = "max",
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
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
    x: object,
    grad_out: object,
    kernel_size: object,
    *,
    op: str = "max",
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
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
