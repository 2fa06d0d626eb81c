"""Batched layers for training: many samples per NumPy call instead of one.

Free functions on a leading batch axis ``B``, each the same sums as the
per-sample ``engine.conv`` / ``engine.pool`` functions (the tests hold them
against those), restricted to what training LeNet-like stacks needs:
convolution with stride 1, no dilation and zero padding; max and average
pooling whose stride is the window (no padding, floor mode).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "conv2d_batch",
    "conv2d_batch_backward",
    "pool2d_batch",
    "pool2d_batch_backward",
]


def _padded(x: np.ndarray, padding: int) -> np.ndarray:
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def conv2d_batch(x: np.ndarray, w: np.ndarray, b: np.ndarray, padding: int = 0) -> np.ndarray:
    """Cross-correlation of every sample, stride 1, zero padding.

    Parameters
    ----------
    x : ndarray, shape (B, C_in, H, W)
    w : ndarray, shape (C_out, C_in, kh, kw)
    b : ndarray, shape (C_out,)
    padding : int
        Zeros added on every side.

    Returns
    -------
    ndarray, shape (B, C_out, H + 2p − kh + 1, W + 2p − kw + 1)
        ``y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · xp[n, c, i + p, j + q]``.
    """
    cols = _im2col(_padded(x, padding), w.shape[2], w.shape[3])
    B, _, H, W = x.shape
    ho, wo = H + 2 * padding - w.shape[2] + 1, W + 2 * padding - w.shape[3] + 1
    y = (cols @ w.reshape(w.shape[0], -1).T + b).reshape(B, ho, wo, w.shape[0])
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2))


def conv2d_batch_backward(x: np.ndarray, w: np.ndarray, dy: np.ndarray, padding: int = 0,
                          input_grad: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of ``conv2d_batch``, summed over the batch for the kernel and bias.

    Parameters
    ----------
    x : ndarray, shape (B, C_in, H, W)
    w : ndarray, shape (C_out, C_in, kh, kw)
    dy : ndarray, shape (B, C_out, H_out, W_out)
    padding : int
    input_grad : bool
        False skips the input gradient (a first layer's, which training never uses).

    Returns
    -------
    gx : ndarray, shape (B, C_in, H, W), or None
        Each sample's own input gradient (the padding's share dropped).
    gw : ndarray, shape (C_out, C_in, kh, kw)
    gb : ndarray, shape (C_out,)
    """
    B, C, H, W = x.shape
    c_out, _, kh, kw = w.shape
    ho, wo = dy.shape[2:]
    dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, c_out)  # (B·Ho·Wo, C_out)
    gw = (dy2.T @ _im2col(_padded(x, padding), kh, kw)).reshape(w.shape)
    gb = dy.sum(axis=(0, 2, 3))
    if not input_grad:
        return None, gw, gb
    # Every output cell's gradient times the kernel, added back onto the window it read (col2im).
    gcols = (dy2 @ w.reshape(c_out, -1)).reshape(B, ho, wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    gxp = np.zeros((B, C, H + 2 * padding, W + 2 * padding))
    for p in range(kh):
        for q in range(kw):
            gxp[:, :, p:p + ho, q:q + wo] += gcols[:, :, p, q]
    return gxp[:, :, padding:padding + H, padding:padding + W].copy(), gw, gb


def _im2col(xp: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Every ``kh×kw`` window of ``xp (B, C, Hp, Wp)``: one row each of ``(B·Ho·Wo, C·kh·kw)``."""
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (B, C, Ho, Wo, kh, kw), a view
    B, C, ho, wo = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(B * ho * wo, C * kh * kw)


def _blocks(x: np.ndarray, k: int) -> np.ndarray:
    """Non-overlapping ``k×k`` windows: ``(B, C, H_out, W_out, k·k)``, window cells in raster order."""
    B, C, H, W = x.shape
    ho, wo = H // k, W // k
    v = x[:, :, : ho * k, : wo * k].reshape(B, C, ho, k, wo, k)
    return v.transpose(0, 1, 2, 4, 3, 5).reshape(B, C, ho, wo, k * k)


def _check_pool(op: str, k: int, x: np.ndarray) -> None:
    if op not in ("max", "avg"):
        raise ValueError(f"batched pooling is max or avg, got {op!r}")
    if k < 1 or x.shape[2] < k or x.shape[3] < k:
        raise ValueError(f"a {k}×{k} pooling window does not fit a {x.shape[2]}×{x.shape[3]} map")


def pool2d_batch(x: np.ndarray, k: int, op: str = "max") -> np.ndarray:
    """``k×k`` max or average pooling with stride ``k`` (no padding, floor mode).

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)
    k : int
    op : {"max", "avg"}

    Returns
    -------
    ndarray, shape (B, C, H // k, W // k)
    """
    _check_pool(op, k, x)
    blocks = _blocks(x, k)
    return blocks.max(axis=-1) if op == "max" else blocks.mean(axis=-1)


def pool2d_batch_backward(x: np.ndarray, dy: np.ndarray, k: int, op: str = "max") -> np.ndarray:
    """Gradient of ``pool2d_batch`` with respect to ``x``.

    Max sends a window's gradient to its first largest cell in raster order
    (as PyTorch and ``engine.pool`` do); average spreads it evenly. Cells no
    window covers (the floor mode's leftover rows and columns) get 0.

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)
    dy : ndarray, shape (B, C, H // k, W // k)
    k : int
    op : {"max", "avg"}

    Returns
    -------
    ndarray, shape (B, C, H, W)
    """
    _check_pool(op, k, x)
    B, C, H, W = x.shape
    ho, wo = H // k, W // k
    if op == "avg":
        share = np.broadcast_to(dy[..., None] / (k * k), (B, C, ho, wo, k * k))
    else:
        first = _blocks(x, k).argmax(axis=-1)
        share = (np.arange(k * k) == first[..., None]) * dy[..., None]
    g = np.zeros_like(x, dtype=float)
    g[:, :, : ho * k, : wo * k] = share.reshape(B, C, ho, wo, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(
        B, C, ho * k, wo * k)
    return g
