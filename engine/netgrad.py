"""Backpropagation through a whole ``Network``: one sample at a time, or a batch at once.

``network_backward`` chains the engine's per-layer gradients
(``conv2d_backward``, ``pool2d_backward``, ``activation_grad``) from a
gradient of the last output back to the input: what the app shows (e.g. a
class score's gradient with respect to the input picture). ``forward_batch``
and ``backward_batch`` compute the same on a leading batch axis with
``engine.batch``, for training. Weights are in ``Network.init_weights``
layout: ``(w, b)`` per conv and dense layer, None elsewhere.
"""

from __future__ import annotations

import numpy as np

from . import activations
from .batch import conv2d_batch, conv2d_batch_backward, pool2d_batch, pool2d_batch_backward
from .conv import conv2d_backward
from .global_pool import global_pool2d_backward
from .network import Activation, Conv, Flatten, GlobalPool, Layer, Network, Pool, conv_padding
from .pool import pool2d_backward

__all__ = [
    "Grads",
    "backward_batch",
    "check_batchable",
    "forward_batch",
    "network_backward",
    "softmax_cross_entropy",
]

Weights = list[tuple[np.ndarray, np.ndarray] | None]
#: Per layer: ``(dL/dw, dL/db)`` for conv and dense layers, None for the others.
Grads = list[tuple[np.ndarray, np.ndarray] | None]


def network_backward(net: Network, weights: Weights, outs: list[np.ndarray], grad_out: np.ndarray
                     ) -> tuple[Grads, np.ndarray]:
    """Gradients of every weight and of the input, from ``dL/d(last output)``.

    Parameters
    ----------
    net : Network
    weights : list
        ``init_weights`` layout.
    outs : list of ndarray
        ``net.forward(x, weights)``: the input then every layer's output.
    grad_out : ndarray, shape of ``outs[-1]``

    Returns
    -------
    grads : list
        Per layer ``(gw, gb)`` shaped as that layer's ``(w, b)``, or None.
    grad_x : ndarray, shape ``net.input_shape``
    """
    g = np.asarray(grad_out, dtype=float)
    grads: Grads = [None] * len(net.layers)
    for k in range(len(net.layers) - 1, -1, -1):
        layer, a = net.layers[k], outs[k]
        if isinstance(layer, Conv):
            w, _ = weights[k]  # type: ignore[misc]
            g, gw, gb = conv2d_backward(a, w, g, stride=layer.stride, padding=conv_padding(layer),
                                        dilation=layer.dilation, groups=layer.groups)
            grads[k] = (gw, gb if layer.bias else np.zeros_like(gb))
        elif isinstance(layer, Activation):
            g = g * activations.activation_grad(layer.name, a)
        elif isinstance(layer, Pool):
            g = pool2d_backward(a, g, layer.kernel, op=layer.op, stride=layer.stride, padding=layer.padding)
        elif isinstance(layer, GlobalPool):
            g = global_pool2d_backward(a, g, op="max" if layer.op == "max" else "avg")
        elif isinstance(layer, Flatten):
            g = g.reshape(a.shape)
        else:
            w, _ = weights[k]  # type: ignore[misc]
            grads[k] = (np.outer(g, a), g.copy())
            g = w.T @ g
    return grads, g


def _pool_size(layer: Pool) -> int | None:
    """The window side of a square pooling whose stride is its window and has no padding, else None."""
    k = layer.kernel if isinstance(layer.kernel, int) else (
        layer.kernel[0] if layer.kernel[0] == layer.kernel[1] else None)
    stride_ok = layer.stride is None or layer.stride in (k, (k, k))
    if k is None or not stride_ok or layer.padding not in (0, (0, 0)) or layer.op == "min":
        return None
    return int(k)


def _conv_padding(layer: Conv) -> int | None:
    """The zero padding of a stride-1, undilated conv with the same padding on every side, else None."""
    if layer.stride not in (1, (1, 1)) or layer.dilation not in (1, (1, 1)):
        return None
    try:
        (top, bottom), (left, right) = conv_padding(layer)
    except ValueError:  # "same" that cannot be even
        return None
    return top if top == bottom == left == right else None


def _unbatchable(layer: Layer) -> bool:
    if isinstance(layer, Conv):
        return _conv_padding(layer) is None or layer.groups != 1
    if isinstance(layer, Pool):
        return _pool_size(layer) is None
    return isinstance(layer, GlobalPool)


def check_batchable(net: Network) -> None:
    """Raise ``ValueError`` naming the first layer the batched path cannot run."""
    for k, layer in enumerate(net.layers):
        if _unbatchable(layer):
            raise ValueError(f"layer {k + 1} cannot be batched: the batched path runs stride-1 convs with "
                             "even zero padding and square poolings whose stride is their window")


def forward_batch(net: Network, weights: Weights, x: np.ndarray) -> list[np.ndarray]:
    """``net.forward`` for a batch: the input then every layer's output, each with a leading ``B``.

    Parameters
    ----------
    x : ndarray, shape (B, *net.input_shape)
    """
    check_batchable(net)
    outs = [np.asarray(x, dtype=float)]
    for k, layer in enumerate(net.layers):
        a = outs[-1]
        if isinstance(layer, Conv):
            w, b = weights[k]  # type: ignore[misc]
            a = conv2d_batch(a, w, b if layer.bias else np.zeros_like(b), _conv_padding(layer) or 0)
        elif isinstance(layer, Activation):
            a = activations.activate(layer.name, a)
        elif isinstance(layer, Pool):
            a = pool2d_batch(a, _pool_size(layer) or 1, layer.op)
        elif isinstance(layer, Flatten):
            a = a.reshape(a.shape[0], -1)
        else:
            w, b = weights[k]  # type: ignore[misc]
            a = a @ w.T + b
        outs.append(a)
    return outs


def backward_batch(net: Network, weights: Weights, outs: list[np.ndarray], grad_out: np.ndarray,
                   input_grad: bool = True) -> tuple[Grads, np.ndarray | None]:
    """``network_backward`` for a batch: weight gradients summed over it, input gradients per sample.

    Parameters
    ----------
    outs : list of ndarray
        From ``forward_batch``.
    grad_out : ndarray, shape of ``outs[-1]`` (B, …)
    input_grad : bool
        False stops at the first layer's weights (training needs no input gradient).

    Returns
    -------
    grads : list
        Per layer ``(gw, gb)`` (sums over the batch) or None.
    grad_x : ndarray, shape (B, *net.input_shape), or None without ``input_grad``
    """
    g = np.asarray(grad_out, dtype=float)
    grads: Grads = [None] * len(net.layers)
    for k in range(len(net.layers) - 1, -1, -1):
        layer, a = net.layers[k], outs[k]
        if isinstance(layer, Conv):
            w, _ = weights[k]  # type: ignore[misc]
            gx, gw, gb = conv2d_batch_backward(a, w, g, _conv_padding(layer) or 0, input_grad or k > 0)
            grads[k] = (gw, gb if layer.bias else np.zeros_like(gb))
            if gx is None:
                return grads, None
            g = gx
        elif isinstance(layer, Activation):
            g = g * activations.activation_grad(layer.name, a)
        elif isinstance(layer, Pool):
            g = pool2d_batch_backward(a, g, _pool_size(layer) or 1, layer.op)
        elif isinstance(layer, Flatten):
            g = g.reshape(a.shape)
        else:
            w, _ = weights[k]  # type: ignore[misc]
            grads[k] = (g.T @ a, g.sum(axis=0))
            g = g @ w
    return grads, g


def softmax_cross_entropy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(scores) against integer labels, and its gradient.

    Parameters
    ----------
    scores : ndarray, shape (B, K)
    labels : ndarray of int, shape (B,)

    Returns
    -------
    (loss, dscores) : (float, ndarray of shape (B, K))
        As ``torch.nn.functional.cross_entropy`` (mean reduction).
    """
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    B = scores.shape[0]
    loss = -float(logp[np.arange(B), labels].mean())
    d = np.exp(logp)
    d[np.arange(B), labels] -= 1.0
    return loss, d / B
