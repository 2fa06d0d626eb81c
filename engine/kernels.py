"""Kernel presets and seeded example values, as plain NumPy arrays."""

from __future__ import annotations

from math import comb

import numpy as np

__all__ = ["KERNEL_PRESETS", "kernel_preset", "random_values"]

_FIXED_3X3: dict[str, np.ndarray] = {
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
}

#: Preset names, in menu order. The fixed ones are 3x3; the others take any size.
KERNEL_PRESETS: tuple[str, ...] = (
    "random", "identity", "box blur", "gaussian", "sharpen", "sobel x", "sobel y", "laplacian",
)


def kernel_preset(name: str, kh: int, kw: int, *, rng: np.random.Generator | None = None,
                  integers: bool = True) -> np.ndarray:
    """A 2-D kernel of a named kind.

    Parameters
    ----------
    name : str
        One of ``KERNEL_PRESETS``.
    kh, kw : int
        Wanted size. Sharpen, Sobel and Laplacian are 3x3 only.
    rng : numpy.random.Generator, optional
        For ``"random"``.
    integers : bool
        ``"random"`` gives integers in [-2, 2] (else floats in [-1, 1]).

    Returns
    -------
    ndarray, shape (kh, kw)
    """
    if name in _FIXED_3X3:
        if (kh, kw) != (3, 3):
            raise ValueError(f"the {name} kernel is 3x3; the kernel size is {kh}x{kw}")
        return _FIXED_3X3[name].copy()
    if name == "identity":
        k = np.zeros((kh, kw))
        k[kh // 2, kw // 2] = 1.0
        return k
    if name == "box blur":
        return np.full((kh, kw), 1.0 / (kh * kw))
    if name == "gaussian":
        # Binomial weights: the discrete Gaussian (1 2 1, 1 4 6 4 1, ...), normalised.
        rows = np.array([comb(kh - 1, i) for i in range(kh)], dtype=float)
        cols = np.array([comb(kw - 1, i) for i in range(kw)], dtype=float)
        k = np.outer(rows, cols)
        return k / k.sum()
    if name == "random":
        rng = rng if rng is not None else np.random.default_rng(0)
        if integers:
            return rng.integers(-2, 3, size=(kh, kw)).astype(float)
        return np.round(rng.uniform(-1, 1, size=(kh, kw)), 2)
    raise ValueError(f"unknown kernel preset {name!r}; choose one of {', '.join(KERNEL_PRESETS)}")


def random_values(shape: tuple[int, ...], seed: int, *, integers: bool = True) -> np.ndarray:
    """Seeded example input values: integers 0-9, or floats in [0, 1) with two decimals."""
    rng = np.random.default_rng(seed)
    if integers:
        return rng.integers(0, 10, size=shape).astype(float)
    return np.round(rng.uniform(0, 1, size=shape), 2)
