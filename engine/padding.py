"""The padded grid shared by convolution and pooling: fill it, slide windows over it, fold it back.

Everything here works on channels-first arrays ``(C, H, W)`` and a checked
``Geometry``. The padded grid is ``(C, extent_h, extent_w)``: the explicit
padding on every side plus, in ``ceil_mode``, the overhang the last window
reaches past it. Operation modules (``conv``, ``pool``) import from here and
never from each other.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from .cancel import checkpoint
from .geometry import Geometry, PaddingMode, check_array, source_index

__all__ = ["PaddedProblem", "check_grad_out", "crop", "fold", "pad", "read_padded", "windows"]


class PaddedProblem(Protocol):
    """What ``read_padded`` needs of a checked problem (``ConvSetup`` or ``PoolSetup``)."""

    @property
    def x(self) -> np.ndarray:
        """The input, shape (C, H, W)."""
        ...

    @property
    def geometry(self) -> Geometry:
        """The windows' geometry."""
        ...

    def padded_input(self) -> np.ndarray:
        """The input with its padding filled, shape (C, extent_h, extent_w)."""
        ...


def pad(x: np.ndarray, geom: Geometry, mode: PaddingMode = "zeros", fill: float = 0.0) -> np.ndarray:
    """Pad ``x (C, H, W)`` to ``(C, extent_h, extent_w)``.

    ``mode`` fills the explicit padding (``zeros`` uses ``fill``);
    positions past it (ceil-mode overhang) always get ``fill``.

    Parameters
    ----------
    x : ndarray, shape (C, H, W)
    geom : Geometry
    mode : {"zeros", "reflect", "replicate", "circular"}
    fill : float
        The constant of ``zeros`` padding and of the overhang.

    Returns
    -------
    ndarray, shape (C, extent_h, extent_w)
        A new array.
    """
    checkpoint()  # a copy of the whole input: a cancel is heard before it
    r, c = geom.rows, geom.cols
    if mode == "zeros":
        return np.pad(
            x,
            ((0, 0), (r.before, r.extent - r.before - r.size), (c.before, c.extent - c.before - c.size)),
            constant_values=fill,
        )
    src_r = source_index(r.size, r.before, r.after, mode)
    src_c = source_index(c.size, c.before, c.after, mode)
    xp = x[:, src_r][:, :, src_c]
    if r.extent > r.padded or c.extent > c.padded:
        xp = np.pad(
            xp, ((0, 0), (0, r.extent - r.padded), (0, c.extent - c.padded)), constant_values=fill
        )
    return xp


def read_padded(s: PaddedProblem) -> np.ndarray:
    """``s.padded_input()``, or ``s.x`` itself when there is nothing to pad: read it, never write it.

    Parameters
    ----------
    s : ConvSetup or PoolSetup

    Returns
    -------
    ndarray, shape (C, extent_h, extent_w)
        May be the caller's input array (no copy).
    """
    r, c = s.geometry.rows, s.geometry.cols
    if r.extent == r.size and c.extent == c.size:
        return s.x
    return s.padded_input()


def windows(xp: np.ndarray, geom: Geometry) -> np.ndarray:
    """Read-only view of every window of a padded input.

    Parameters
    ----------
    xp : ndarray, shape (C, Hp, Wp)
        The padded input (see ``pad``).
    geom : Geometry

    Returns
    -------
    ndarray, shape (C, H_out, W_out, kh, kw)
        ``v[c, i, j, p, q] = xp[c, i*sh + p*dh, j*sw + q*dw]``; a strided view, never write to it.
    """
    r, c = geom.rows, geom.cols
    v = sliding_window_view(xp, (r.span, c.span), axis=(1, 2))
    return v[:, :: r.stride, :: c.stride, :: r.dilation, :: c.dilation][:, : r.out, : c.out]


def fold(gp: np.ndarray, geom: Geometry, mode: PaddingMode) -> np.ndarray:
    """Gradient on the padded grid ``(C, Hp', Wp')`` back onto the input ``(C, H, W)``.

    Constant padding and overhang drop their gradient; reflected, replicated
    and wrapped padding cells add theirs to the cell they copy.

    Parameters
    ----------
    gp : ndarray, shape (C, extent_h, extent_w)
        Not modified.
    geom : Geometry
    mode : {"zeros", "reflect", "replicate", "circular"}

    Returns
    -------
    ndarray, shape (C, H, W)
        A new array.
    """
    out = gp
    for axis, g in ((1, geom.rows), (2, geom.cols)):
        idx: list[slice | int] = [slice(None)] * 3
        idx[axis] = slice(g.before, g.before + g.size)
        inner = out[tuple(idx)]
        if mode != "zeros":
            src = g.sources()
            inner = inner.copy()
            for p in np.flatnonzero(src[: g.padded] >= 0):
                if g.before <= p < g.before + g.size:
                    continue
                dst: list[slice | int] = [slice(None)] * 3
                dst[axis] = int(src[p])
                sel: list[slice | int] = [slice(None)] * 3
                sel[axis] = int(p)
                inner[tuple(dst)] += out[tuple(sel)]
        out = inner
    return out if out.base is None else out.copy()


def crop(gp: np.ndarray, g: Geometry) -> np.ndarray:
    """The real-input part of a padded-grid array, padding and overhang dropped.

    Parameters
    ----------
    gp : ndarray, shape (C, extent_h, extent_w)
    g : Geometry

    Returns
    -------
    ndarray, shape (C, H, W)
        A view of ``gp``.
    """
    r, c = g.rows, g.cols
    return gp[:, r.before : r.before + r.size, c.before : c.before + c.size]


def check_grad_out(s_out_shape: tuple[int, ...], grad_out: ArrayLike, out_2d: bool) -> np.ndarray:
    """Check ``grad_out`` has the output's shape; return it 3-D.

    Parameters
    ----------
    s_out_shape : tuple of int
        The output's canonical shape ``(C, H_out, W_out)``.
    grad_out : array_like, shape (C, H_out, W_out), or (H_out, W_out) when ``out_2d``
    out_2d : bool
        Whether the caller's output is 2-D.

    Returns
    -------
    ndarray, shape (C, H_out, W_out)

    Raises
    ------
    TypeError, ValueError
        With a message naming ``grad_out``, the shape expected and the shape given.
    """
    dy = check_array(grad_out, "grad_out", (2,) if out_2d else (3,))
    expect = s_out_shape[1:] if out_2d else s_out_shape
    if dy.shape != tuple(expect):
        raise ValueError(f"grad_out must have the output's shape {tuple(expect)}, got {dy.shape}")
    return dy[None] if out_2d else dy
