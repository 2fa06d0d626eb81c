"""1-D convolution (cross-correlation) and its gradients: a 2-D convolution of height 1.

Shapes are channels-first. ``x`` is ``(C_in, L)`` or ``(L,)``; ``w`` is
``(C_out, C_in/groups, k)`` or ``(k,)``. Arguments are checked and worded in
1-D terms, then the problem becomes ``conv2d``'s with ``H = 1``, ``kh = 1``:
the same fast path, the same traces. Padding is one number, ``(left, right)``,
``"valid"``, ``"same"`` or ``"causal"`` (``d*(k - 1)`` on the left only, so
output ``t`` sees inputs up to ``t`` and never the future). ``padding_mode``
fills the padding as ``torch.nn.Conv1d``'s does: zeros, reflect, replicate or
circular.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from . import conv as _conv
from .geometry import PaddingMode, as_int, check_array
from .padding import fold
from .trace import ConvBackwardTrace, ConvTrace, Granularity

__all__ = [
    "Padding1d",
    "conv1d",
    "conv1d_backward",
    "conv1d_padding",
    "prepare_conv1d",
    "trace_conv1d",
    "trace_conv1d_backward",
]

#: Every accepted 1-D padding form.
Padding1d: TypeAlias = int | tuple[int, int] | Literal["valid", "same", "causal"]


def _positive(value: object, name: str) -> int:
    v = as_int(value, name)
    if v < 1:
        raise ValueError(f"{name} must be at least 1, got {v}")
    return v


def conv1d_padding(padding: object, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Turn any accepted 1-D padding form into ``(left, right)``.

    Parameters
    ----------
    padding : int, (left, right), "valid", "same" or "causal"
        ``"same"`` keeps the output as long as the input (stride 1 only; the
        odd extra cell goes on the right, as in PyTorch). ``"causal"`` pads
        ``dilation*(kernel - 1)`` on the left and nothing on the right.
    kernel, stride, dilation : int

    Returns
    -------
    tuple of int
        ``(left, right)``, both ``>= 0``.
    """
    total = dilation * (kernel - 1)
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "causal":
            return (total, 0)
        if padding == "same":
            if stride != 1:
                raise ValueError(
                    f"padding 'same' needs stride 1, got stride {stride}: with a larger stride "
                    "no padding can keep the output as long as the input"
                )
            return (total // 2, total - total // 2)
        raise ValueError(
            f"padding must be a number, a (left, right) pair, 'valid', 'same' or 'causal', got {padding!r}"
        )
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(f"padding must be one number or a (left, right) pair, got {padding!r}")
        left, right = as_int(padding[0], "padding"), as_int(padding[1], "padding")
    else:
        left = right = as_int(padding, "padding")
    if left < 0 or right < 0:
        raise ValueError(f"padding cannot be negative, got ({left}, {right})")
    return (left, right)


def prepare_conv1d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int = 1,
    padding: Padding1d = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
) -> tuple[_conv.ConvSetup, bool]:
    """Check a 1-D convolution in 1-D words and return it as a height-1 ``ConvSetup``.

    Returns
    -------
    setup : ConvSetup
        ``x (C_in, 1, L)``, ``w (C_out, C_in/groups, 1, k)``, padding only on the columns.
    out_1d : bool
        True when the caller gave 1-D ``x`` and ``w``: results are 1-D too.

    Raises
    ------
    TypeError, ValueError
        With a message naming the parameter, its value and the rule broken.
    """
    xa = check_array(x, "input x", (1, 2))
    wa = check_array(w, "kernel w", (1, 3))
    s, d = _positive(stride, "stride"), _positive(dilation, "dilation")
    k, n = wa.shape[-1], xa.shape[-1]
    left, right = conv1d_padding(padding, k, s, d)
    span = d * (k - 1) + 1
    if span > n + left + right:
        raise ValueError(
            f"dilated kernel ({span}: kernel {k}, dilation {d}) is longer than the padded input "
            f"({n + left + right}: length {n} + padding {left} + {right})"
        )
    x3 = (xa[None] if xa.ndim == 1 else xa)[:, None, :]
    w4 = (wa[None, None] if wa.ndim == 1 else wa)[:, :, None, :]
    try:
        setup = _conv.prepare_conv(x3, w4, bias, stride=(1, s), padding=((0, 0), (left, right)),
                                   dilation=(1, d), groups=groups, padding_mode=padding_mode)
    except ValueError as exc:  # the padding mode's limits in 1-D words: a signal has samples, not columns
        raise ValueError(str(exc).replace("columns", "samples")) from None
    # The caller's forms, not the 3-D/4-D ones handed over.
    return replace(setup, x_2d=xa.ndim == 1, w_2d=wa.ndim == 1), xa.ndim == 1 and wa.ndim == 1


def conv1d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int = 1,
    padding: Padding1d = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
) -> np.ndarray:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d`` (plus ``"causal"`` padding).

    ``y[o, t] = b[o] + sum_{c, q} w[o, c, q] * xp[g*C_in/groups + c, t*s + q*d]``
    where ``xp`` is the input padded by ``padding_mode`` and ``g`` the group of ``o``.

    Parameters
    ----------
    x : array_like, shape (C_in, L) or (L,)
    w : array_like, shape (C_out, C_in/groups, k) or (k,)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int
    padding : int, (left, right), "valid", "same" or "causal"
    groups : int
        As for ``conv2d``.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        What fills the padding, as ``torch.nn.Conv1d``'s ``padding_mode`` (reflect needs
        padding shorter than the signal; circular at most as long).

    Returns
    -------
    y : ndarray, shape (C_out, L_out), or (L_out,) when ``x`` and ``w`` are 1-D
        ``L_out = floor((L + left + right - d*(k - 1) - 1) / s) + 1``.
    """
    s, out_1d = prepare_conv1d(x, w, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                padding_mode=padding_mode)
    y = _conv.forward(s)[:, 0]
    return y[0] if out_1d else y


def conv1d_backward(
    x: ArrayLike,
    w: ArrayLike,
    grad_out: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    stride: int = 1,
    padding: Padding1d = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv1d`` with respect to its input, kernel and bias.

    Parameters
    ----------
    x, w, stride, padding, dilation, groups, padding_mode
        As for ``conv1d``. A padding copy's gradient is added into the sample it copies.
    grad_out : array_like, shape of ``conv1d``'s output
    bias : array_like, optional
        Accepted for symmetry; the gradients do not depend on it.

    Returns
    -------
    grad_x : ndarray, shape of ``x``
    grad_w : ndarray, shape of ``w``
    grad_bias : ndarray, shape (C_out,), or shape () when ``w`` is 1-D
    """
    s, out_1d = prepare_conv1d(x, w, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                padding_mode=padding_mode)
    dy = _check_grad_out_1d(s, grad_out, out_1d)
    gxp, gw, gb = _conv.backward_padded(s, dy)
    gx = fold(gxp, s.geometry, s.padding_mode)[:, 0]
    gw3 = np.ascontiguousarray(gw[:, :, 0])
    return (
        gx[0] if s.x_2d else gx,
        gw3[0, 0] if s.w_2d else gw3,
        gb.reshape(()) if s.w_2d else gb,
    )


def _check_grad_out_1d(s: _conv.ConvSetup, grad_out: ArrayLike, out_1d: bool) -> np.ndarray:
    """``grad_out`` in 1-D words, returned as ``(C_out, 1, L_out)``."""
    c_out, l_out = s.w.shape[0], s.geometry.cols.out
    dy = check_array(grad_out, "grad_out", (1,) if out_1d else (2,))
    expect = (l_out,) if out_1d else (c_out, l_out)
    if dy.shape != expect:
        raise ValueError(f"grad_out must have the output's shape {expect}, got {dy.shape}")
    return dy.reshape(c_out, 1, l_out)


def trace_conv1d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: int = 1,
    padding: Padding1d = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    granularity: Granularity = "window",
) -> ConvTrace:
    """Trace of ``conv1d``: a ``ConvTrace`` of the height-1 problem.

    Steps are ``ConvStep`` with ``out_row == 0``; ``window.rows == [0]``,
    ``window.cols`` are padded positions along the sequence (input cell
    ``t`` is position ``t + left``), and ``inputs``/``weights`` have shape
    ``(C_in/groups, 1, k)``. ``output`` and ``partial`` are ``(C_out, 1, L_out)``.
    """
    s, _ = prepare_conv1d(x, w, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                padding_mode=padding_mode)
    return ConvTrace(s, granularity)


def trace_conv1d_backward(
    x: ArrayLike,
    w: ArrayLike,
    grad_out: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    stride: int = 1,
    padding: Padding1d = 0,
    dilation: int = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
) -> ConvBackwardTrace:
    """Trace of ``conv1d_backward``: a ``ConvBackwardTrace`` of the height-1 problem.

    Shapes as in ``trace_conv1d``; ``grad_out`` is ``conv1d_backward``'s.
    """
    s, out_1d = prepare_conv1d(x, w, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                padding_mode=padding_mode)
    return ConvBackwardTrace(s, _check_grad_out_1d(s, grad_out, out_1d))
