"""Global pooling: one window per channel, covering the whole map.

``x`` is ``(C, H, W)`` or ``(H, W)``; the result is ``(C,)``, or shape ``()``
for a 2-D input: ``torch.nn.functional.adaptive_avg_pool2d(x, 1)`` /
``adaptive_max_pool2d(x, 1)`` with the two unit axes dropped. The gradient of
the average spreads ``dy[c] / (H*W)`` over the map; the maximum's goes to the
first maximal cell in raster order (row by row, left to right) on ties, as
PyTorch's CPU kernels do. Min pooling (the first minimal cell) is offered too,
as in ``pool2d``.

The traces are ``pool2d``'s with a window the size of the map: one step per
channel, ``out_shape (C, 1, 1)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import pool as _pool
from .geometry import check_array
from .trace import PoolBackwardTrace, PoolTrace

__all__ = [
    "global_pool2d",
    "global_pool2d_backward",
    "trace_global_pool2d",
    "trace_global_pool2d_backward",
]


def _check(x: ArrayLike, op: object) -> tuple[np.ndarray, bool]:
    if op not in _pool.POOL_OPS:
        raise ValueError(f"op must be one of {', '.join(_pool.POOL_OPS)}; got {op!r}")
    xa = check_array(x, "input x", (2, 3))
    return (xa[None] if xa.ndim == 2 else xa), xa.ndim == 2


def _check_grad_out(grad_out: ArrayLike, C: int, x_2d: bool) -> np.ndarray:
    """``grad_out`` as a ``(C,)`` array: one value per channel (one number for a 2-D input)."""
    dy = check_array(np.atleast_1d(np.asarray(grad_out)), "grad_out", (1,))
    if dy.shape != (C,):
        want = "one number" if x_2d else f"one value per channel ({C})"
        raise ValueError(f"grad_out must be {want}, got shape {np.shape(grad_out)}")
    return dy


def _first_extreme(flat: np.ndarray, op: _pool.PoolOp) -> np.ndarray:
    """Index of the first max (min) of each row of ``flat (C, H*W)``, shape (C,)."""
    return flat.argmax(axis=1) if op == "max" else flat.argmin(axis=1)


def global_pool2d(x: ArrayLike, op: _pool.PoolOp = "avg") -> np.ndarray:
    """Average, max or min over each whole channel.

    Parameters
    ----------
    x : array_like, shape (C, H, W) or (H, W)
    op : {"avg", "max", "min"}

    Returns
    -------
    y : ndarray, shape (C,), or shape () when ``x`` is 2-D
    """
    x3, x_2d = _check(x, op)
    flat = x3.reshape(x3.shape[0], -1)
    y = flat.mean(axis=1) if op == "avg" else flat[np.arange(flat.shape[0]), _first_extreme(flat, op)]
    return y.reshape(()) if x_2d else y


def global_pool2d_backward(x: ArrayLike, grad_out: ArrayLike, op: _pool.PoolOp = "avg") -> np.ndarray:
    """Gradient of ``global_pool2d`` with respect to its input.

    Parameters
    ----------
    x : array_like, shape (C, H, W) or (H, W)
    grad_out : array_like, shape (C,), or a number / shape () or (1,) when ``x`` is 2-D
    op : {"avg", "max", "min"}

    Returns
    -------
    grad_x : ndarray, shape of ``x``
        Average: ``grad_out[c] / (H*W)`` everywhere in channel ``c``. Max/min:
        ``grad_out[c]`` on the first extreme cell in raster order, zero elsewhere.
    """
    x3, x_2d = _check(x, op)
    C = x3.shape[0]
    dy = _check_grad_out(grad_out, C, x_2d)
    flat = x3.reshape(C, -1)
    if op == "avg":
        gx = np.broadcast_to((dy / flat.shape[1])[:, None], flat.shape).copy()
    else:
        gx = np.zeros(flat.shape)
        gx[np.arange(C), _first_extreme(flat, op)] = dy
    gx = gx.reshape(x3.shape)
    return gx[0] if x_2d else gx


def _setup(x: ArrayLike, op: _pool.PoolOp) -> _pool.PoolSetup:
    x3, _ = _check(x, op)
    return _pool.prepare_pool(x, x3.shape[1:], op=op)


def trace_global_pool2d(x: ArrayLike, op: _pool.PoolOp = "avg") -> PoolTrace:
    """Trace of ``global_pool2d``: a ``PoolTrace`` whose one window per channel covers the map.

    Step ``c`` is channel ``c`` (``out_row == out_col == 0``); its ``values``
    are the whole map ``(H, W)``, ``chosen`` the first extreme cell (max/min)
    and ``divisor`` ``H*W`` (avg). ``output`` and ``partial`` are ``(C, 1, 1)``.
    """
    return PoolTrace(_setup(x, op))


def trace_global_pool2d_backward(
    x: ArrayLike, grad_out: ArrayLike, op: _pool.PoolOp = "avg"
) -> PoolBackwardTrace:
    """Trace of ``global_pool2d_backward``: a ``PoolBackwardTrace``, one step per channel.

    ``grad_out`` is ``global_pool2d_backward``'s: shape ``(C,)`` (a number for 2-D ``x``).
    """
    s = _setup(x, op)
    C = s.x.shape[0]
    dy = _check_grad_out(grad_out, C, s.x_2d)
    return PoolBackwardTrace(s, dy.reshape(C, 1, 1))
