"""The gradient of one output of a network with respect to its input (a saliency map).

``input_gradient`` runs the chain rule backwards through a ``Network``'s
layers, each with the engine's own backward pass: ``conv2d_backward``,
``pool2d_backward``, ``global_pool2d_backward``, ``activation_grad``, a
reshape for flatten and ``wᵀ·dy`` for dense. It needs the forward pass's
outputs (``Network.forward``), so nothing is computed twice.
"""

from __future__ import annotations

import numpy as np

from . import activations
from . import network as nw
from .conv import conv2d_backward
from .global_pool import global_pool2d_backward
from .pool import pool2d_backward

__all__ = ["input_gradient", "output_gradient"]


def input_gradient(net: nw.Network, weights: list[tuple[np.ndarray, np.ndarray] | None],
                   outputs: list[np.ndarray], grad_out: np.ndarray) -> np.ndarray:
    """``dL/dx`` for an upstream gradient ``grad_out = dL/dy`` of the network's last output.

    Parameters
    ----------
    net : Network
    weights : list
        Per layer ``(w, b)`` or None, as ``Network.init_weights``.
    outputs : list of ndarray
        ``net.forward(x, weights)``: the input first, then every layer's output.
    grad_out : ndarray, shape of ``outputs[-1]``

    Returns
    -------
    ndarray, shape ``net.input_shape``
    """
    if len(outputs) != len(net.layers) + 1:
        raise ValueError(f"expected {len(net.layers) + 1} stage outputs, got {len(outputs)}")
    g = np.asarray(grad_out, dtype=float)
    if g.shape != outputs[-1].shape:
        raise ValueError(f"grad_out has shape {g.shape}, the last output has {outputs[-1].shape}")
    for k in range(len(net.layers) - 1, -1, -1):
        layer, a = net.layers[k], outputs[k]
        if isinstance(layer, nw.Conv):
            w, _b = weights[k]  # type: ignore[misc]
            g, _, _ = conv2d_backward(a, w, g, stride=layer.stride, padding=layer.padding,
                                      dilation=layer.dilation)
        elif isinstance(layer, nw.Activation):
            g = g * activations.activation_grad(layer.name, a)
        elif isinstance(layer, nw.Pool):
            g = pool2d_backward(a, g, layer.kernel, op=layer.op, stride=layer.stride, padding=layer.padding)
        elif isinstance(layer, nw.GlobalPool):
            g = global_pool2d_backward(a, g, op=layer.op)  # type: ignore[arg-type]
        elif isinstance(layer, nw.Flatten):
            g = g.reshape(a.shape)
        else:
            w, _b = weights[k]  # type: ignore[misc]
            g = w.T @ g
    return g


def output_gradient(net: nw.Network, weights: list[tuple[np.ndarray, np.ndarray] | None],
                    outputs: list[np.ndarray], unit: int) -> np.ndarray:
    """``d outputs[-1][unit] / dx``: how each input cell moves one output (a class score).

    Parameters
    ----------
    unit : int
        Index into the last output, which must be a vector ``(N,)``.

    Returns
    -------
    ndarray, shape ``net.input_shape``
    """
    last = outputs[-1]
    if last.ndim != 1 or not 0 <= unit < last.size:
        raise ValueError(f"unit {unit} is not an element of the network's output of shape {last.shape}")
    seed = np.zeros_like(last)
    seed[unit] = 1.0
    return input_gradient(net, weights, outputs, seed)
