"""Element-wise activations and their derivatives.

Each takes ``z`` of any shape and returns an array of the same shape.
The derivative at ``z`` is what backpropagation multiplies ``dL/dy`` by
(``relu``'s derivative at exactly 0 is taken as 0, as in PyTorch).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "activate", "activation_grad"]

#: Names in menu order; "none" is the identity.
ACTIVATIONS: tuple[str, ...] = ("none", "relu", "leaky_relu", "sigmoid", "tanh")
LEAKY_SLOPE = 0.01


def _check(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")


def activate(name: str, z: np.ndarray, *, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """``f(z)`` for activation ``name``.

    Parameters
    ----------
    name : {"none", "relu", "leaky_relu", "sigmoid", "tanh"}
    z : ndarray, any shape
    slope : float
        Leaky ReLU's slope for negative inputs.
    """
    _check(name)
    z = np.asarray(z, dtype=float)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "sigmoid":
        # Split by sign so that exp never overflows.
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if name == "tanh":
        return np.tanh(z)
    return z.copy()


def activation_grad(name: str, z: np.ndarray, *, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """``f'(z)``: the factor backpropagation applies to ``dL/dy``; same shape as ``z``."""
    _check(name)
    z = np.asarray(z, dtype=float)
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, slope)
    if name == "sigmoid":
        s = activate("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    return np.ones_like(z)
