"""Backpropagation helpers: the gather (transposed-convolution) view, losses, gradient checks.

The input gradient of a convolution can be computed two ways:

* **scatter** — every output-gradient cell ``dy[o, i, j]`` adds ``dy · w[o]``
  into its receptive field (``trace_conv2d_backward`` animates this);
* **gather** — every padded-input cell collects what reaches it: a stride-1
  cross-correlation of ``dy`` with zeros inserted between its cells
  (``stride − 1`` of them), padded by ``dilation·(k−1)``, with the kernel
  flipped in both spatial axes and its channel axes swapped. That is the
  transposed convolution.

Both give the same numbers; ``gather_input_grad`` returns the pieces of the
second so the app can show them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from . import activations
from . import conv as _conv
from . import pool as _pool
from .cancel import checkpoint
from .padding import fold
from .trace import ConvTrace

LossFn = Callable[[np.ndarray], float]

__all__ = ["GatherView", "gather_input_grad", "numeric_gradient", "squared_error_loss"]


@dataclass(frozen=True, eq=False)
class GatherView:
    """The transposed-convolution route to ``dL/dX``.

    Attributes
    ----------
    dy_spread : ndarray, shape (C_out, Hp + dh·(kh−1), Wp + dw·(kw−1))
        ``dy`` with ``stride − 1`` zeros between cells, padded by
        ``dilation·(k−1)`` before and enough after to cover the padded input.
    kernel : ndarray, shape (C_in, C_out/groups, kh, kw)
        ``w`` flipped in both spatial axes, channel axes swapped (within each
        group: the gather is a grouped convolution with the same ``groups``).
    dilation : tuple of int
    grad_x_padded : ndarray, shape (C_in, Hp, Wp)
        The gathered gradient on the padded grid.
    grad_x : ndarray, shape (C_in, H, W)
        After dropping (zeros) or folding back (other modes) the padding's share.
    trace : ConvTrace
        One step per padded-input cell: the window over ``dy_spread`` that it gathers.
    """

    dy_spread: np.ndarray
    kernel: np.ndarray
    dilation: tuple[int, int]
    grad_x_padded: np.ndarray
    grad_x: np.ndarray
    trace: ConvTrace


def gather_input_grad(setup: _conv.ConvSetup, dy: np.ndarray) -> GatherView:
    """``dL/dX`` of a prepared convolution by the gather (transposed convolution) route.

    Parameters
    ----------
    setup : ConvSetup
        From ``engine.conv.prepare_conv``.
    dy : ndarray, shape (C_out, H_out, W_out)

    Returns
    -------
    GatherView
    """
    g = setup.geometry
    r, c = g.rows, g.cols
    c_out = dy.shape[0]
    lh, lw = (r.out - 1) * r.stride + 1, (c.out - 1) * c.stride + 1
    spread = np.zeros((c_out, lh, lw))
    spread[:, :: r.stride, :: c.stride] = dy
    ph, pw = r.dilation * (r.kernel - 1), c.dilation * (c.kernel - 1)
    checkpoint()
    spread = np.pad(spread, ((0, 0), (ph, r.extent - lh), (pw, c.extent - lw)))
    checkpoint()
    G = setup.groups
    c_out, per_group, kh, kw = setup.w.shape
    grouped = setup.w.reshape(G, c_out // G, per_group, kh, kw)[..., ::-1, ::-1]
    kernel = np.ascontiguousarray(grouped.transpose(0, 2, 1, 3, 4).reshape(G * per_group, c_out // G, kh, kw))
    inner = _conv.prepare_conv(spread, kernel, dilation=(r.dilation, c.dilation), groups=G)
    trace = ConvTrace(inner)
    gxp = np.asarray(trace.output)
    checkpoint()
    return GatherView(
        dy_spread=spread, kernel=kernel, dilation=(r.dilation, c.dilation),
        grad_x_padded=gxp, grad_x=fold(gxp, g, setup.padding_mode), trace=trace,
    )


def squared_error_loss(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """``L = ½·Σ(y − t)²`` and its gradient ``dL/dy = y − t``.

    Parameters
    ----------
    y, target : ndarray, same shape

    Returns
    -------
    (loss, dy) : (float, ndarray of y's shape)
    """
    if y.shape != target.shape:
        raise ValueError(f"target must have the output's shape {y.shape}, got {target.shape}")
    d = y - target
    return 0.5 * float((d * d).sum()), d


def numeric_gradient(f: LossFn, a: np.ndarray, index: tuple[int, ...], eps: float = 1e-6) -> float:
    """Centred finite difference ``(f(a + ε·e) − f(a − ε·e)) / 2ε`` at one index.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``a`` to a float.
    a : ndarray
        Not modified.
    index : tuple of int
    eps : float
    """
    plus, minus = np.array(a, dtype=float), np.array(a, dtype=float)
    plus[index] += eps
    minus[index] -= eps
    return (float(f(plus)) - float(f(minus))) / (2 * eps)


def conv_loss(
    setup: _conv.ConvSetup, dy: np.ndarray | None, target: np.ndarray | None, *,
    activation: str = "none",
) -> tuple[LossFn, LossFn]:
    """Loss functions of the input and of the kernel for a gradient check.

    With ``target``: ``½·Σ(y − t)²``; otherwise ``Σ y·dy`` (whose gradient
    with respect to ``y`` is ``dy``), where ``y`` is the convolution's output
    after ``activation``.

    Returns
    -------
    (loss_of_x, loss_of_w) : two callables taking ``x (C_in, H, W)`` / ``w (C_out, C_in, kh, kw)``
        ``w`` is the kernel as applied (already flipped when ``flip_kernel``).
    """
    def loss(z: np.ndarray) -> float:
        y = activations.activate(activation, z)
        if target is not None:
            return squared_error_loss(y, target)[0]
        return float((y * dy).sum())

    def of_x(x: np.ndarray) -> float:
        return loss(_conv.forward(replace(setup, x=x)))

    def of_w(w: np.ndarray) -> float:
        return loss(_conv.forward(replace(setup, w=w)))

    return of_x, of_w


def pool_loss(setup: _pool.PoolSetup, dy: np.ndarray | None, target: np.ndarray | None) -> LossFn:
    """Loss function of the input for a pooling gradient check (see ``conv_loss``)."""
    def of_x(x: np.ndarray) -> float:
        y = _pool.forward(replace(setup, x=x))
        if target is not None:
            return squared_error_loss(y, target)[0]
        return float((y * dy).sum())

    return of_x
