"""What the stage says about a transposed convolution (its formulas, facts and titles), its kernel in
PyTorch's layout, and its gradient check's loss.

The gather picture is conv_arithmetic's: the input spread with ``s − 1`` zeros
between cells (kind 3, "·"), padded by ``d·(k − 1) − p`` (plus ``output_padding``
on the bottom and right), and a stride-1 convolution with the flipped kernel
sliding over it. The scatter picture stamps ``x·W`` per input cell (see
``frame_scatter``). Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import engine
from engine import activations, describe
from engine.backprop import squared_error_loss

from .params import Params

__all__ = ["check_transposed", "entered_weight", "forward_twin", "loss_and_grad", "out_size", "spread_size",
           "spread_words", "torch_weight", "transposed_formulas", "transposed_padding"]

MINUS, TIMES = describe.MINUS, describe.TIMES


def transposed_padding(p: Params) -> tuple[int, int]:
    """The transposed convolution's padding ``(p_h, p_w)`` (one per axis, both sides alike)."""
    if p.pad_kind == "symmetric":
        return p.padding[0], p.padding[2]
    return 0, 0


def torch_weight(p: Params, w: np.ndarray) -> np.ndarray:
    """The kernel as entered in PyTorch's ``ConvTranspose2d`` (and the engine's) layout.

    As entered, a transposed convolution's kernel is ``(out_c, in_c/groups, kh, kw)``, like a
    convolution's: kernel ``o`` holds a tile per input channel of its group. PyTorch keeps
    ``(in_c, out_c/groups, kh, kw)``: ``W[g·n + c, o] = w[g·m + o, c]`` with ``n = in_c/groups``
    and ``m = out_c/groups`` (without groups, the first two axes swapped).

    Parameters
    ----------
    w : ndarray, shape (out_c, in_c/groups, kh, kw)

    Returns
    -------
    ndarray, shape (in_c, out_c/groups, kh, kw)
    """
    g = p.groups
    out_c, n, kh, kw = w.shape
    grouped = np.asarray(w).reshape(g, out_c // g, n, kh, kw).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(grouped.reshape(g * n, out_c // g, kh, kw))


def entered_weight(p: Params, wt: np.ndarray) -> np.ndarray:
    """``torch_weight``'s inverse: ``(in_c, out_c/groups, kh, kw)`` to ``(out_c, in_c/groups, kh, kw)``."""
    g = p.groups
    in_c, m, kh, kw = wt.shape
    grouped = np.asarray(wt).reshape(g, in_c // g, m, kh, kw).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(grouped.reshape(g * m, in_c // g, kh, kw))


def loss_and_grad(p: Params, x: np.ndarray, w: np.ndarray, bias: np.ndarray, dy: np.ndarray,
                  dz: np.ndarray, target: np.ndarray | None, wrt: str
                  ) -> tuple[Callable[[np.ndarray], float], np.ndarray, np.ndarray]:
    """The gradient check's loss of ``x`` (or of ``w`` as entered), its analytic gradient, and the point.

    With ``target`` the loss is ``½·Σ(y − t)²``, else ``Σ y·dy`` (its gradient with respect to
    ``y`` is ``dy``), ``y`` the transposed convolution's output after the activation; ``dz`` is
    what enters it, ``dy·f′(Z)``. The analytic gradient is ``engine.conv_transpose2d_backward``'s.

    Parameters
    ----------
    x : ndarray, shape (in_c, H, W)
    w : ndarray, shape (out_c, in_c/groups, kh, kw)
        As entered.
    bias : ndarray, shape (out_c,)
    dy, dz : ndarray, shape (out_c, H_out, W_out)
    wrt : {"x", "w"}
    """
    kw: dict[str, Any] = dict(stride=p.stride, padding=transposed_padding(p),
                              output_padding=p.output_padding, dilation=p.dilation, groups=p.groups)
    b = bias if p.bias else None
    activation = p.activation if p.has_activation else "none"

    def loss(x_: np.ndarray, w_: np.ndarray) -> float:
        y = activations.activate(activation, engine.conv_transpose2d(x_, torch_weight(p, w_), b, **kw))
        if target is not None:
            return squared_error_loss(y, target)[0]
        return float((y * dy).sum())

    gx, gwt, _ = engine.conv_transpose2d_backward(x, torch_weight(p, w), dz, **kw)
    if wrt == "w":
        return (lambda w_: loss(x, w_)), entered_weight(p, gwt), w
    return (lambda x_: loss(x_, w)), gx, x


def check_transposed(p: Params) -> None:
    """Refuse, in plain words, what PyTorch's ``ConvTranspose2d`` (and this picture) has no place for."""
    if not p.is_transpose:
        if p.output_padding != (0, 0):
            raise ValueError("output padding belongs to transposed convolution; set it to 0 first")
        return
    if p.pad_kind not in ("symmetric", "valid"):
        raise ValueError(f"transposed convolution takes one padding per axis, the same on both sides "
                         f"(PyTorch's ConvTranspose2d); choose symmetric or valid, not {p.pad_kind}")
    if p.padding_mode != "zeros":
        raise ValueError("transposed convolution pads with zeros only (PyTorch's ConvTranspose2d "
                         f"refuses padding_mode={p.padding_mode!r})")
    if p.flip_kernel:
        raise ValueError("transposed convolution already slides its kernel flipped in the gather "
                         "picture; untick 'True convolution (flip the kernel)'")
    if p.transpose_view == "scatter" and p.mode != "forward":
        raise ValueError("the scatter picture shows the forward pass only; the backward pass of a "
                         "transposed convolution is shown in the gather picture")


def spread_size(p: Params, axis: int) -> int:
    """Length of the gather picture's spread, padded input along one axis."""
    i, k, s, pad, d, op = _axis(p, axis)
    return (i - 1) * s + 1 + 2 * (d * (k - 1) - pad) + op


def _axis(p: Params, axis: int) -> tuple[int, int, int, int, int, int]:
    """``(i, k, s, p, d, output_padding)`` of one axis (0 rows, 1 columns)."""
    i = (p.in_h, p.in_w)[axis]
    k = (p.k_h, p.k_w)[axis]
    return i, k, p.stride[axis], transposed_padding(p)[axis], p.dilation[axis], p.output_padding[axis]


def out_size(p: Params, axis: int) -> int:
    """``o = (i − 1)·s − 2p + d·(k − 1) + output_padding + 1``."""
    i, k, s, pad, d, op = _axis(p, axis)
    return (i - 1) * s - 2 * pad + d * (k - 1) + op + 1


def transposed_formulas(p: Params) -> tuple[tuple[str, str], tuple[str, str]]:
    """The output-size formula per axis, general and with the numbers filled in."""
    out = []
    for axis, name in ((0, "H"), (1, "W")):
        i, k, s, pad, d, op = _axis(p, axis)
        general = (f"{name}_out = ({name} {MINUS} 1){TIMES}s {MINUS} 2p + d{TIMES}(k {MINUS} 1) "
                   f"+ output_padding + 1")
        filled = (f"({i} {MINUS} 1){TIMES}{s} {MINUS} 2{TIMES}{pad} + {d}{TIMES}({k} {MINUS} 1) "
                  f"+ {op} + 1 = {out_size(p, axis)}")
        out.append((general, filled))
    return out[0], out[1]


def _pair(a: int, b: int, sep: str = "×") -> str:
    return str(a) if a == b else f"{a}{sep}{b}"


def forward_twin(p: Params) -> str:
    """Which convolution this is the transpose of, with its shapes: the gradient of that
    convolution's input is this layer's output."""
    ho, wo = out_size(p, 0), out_size(p, 1)
    pad = transposed_padding(p)
    parts = [f"kernel {p.k_h}×{p.k_w}", f"stride {_pair(*p.stride)}", f"padding {_pair(*pad)}"]
    if p.dilation != (1, 1):
        parts.append(f"dilation {_pair(*p.dilation)}")
    chans = f", {p.out_c}→{p.in_c} channels" if (p.in_c, p.out_c) != (1, 1) else ""
    return (f"the transpose of the convolution {', '.join(parts)}{chans} that takes "
            f"{ho}×{wo} to {p.in_h}×{p.in_w}")


def spread_words(p: Params) -> str:
    """How the gather picture builds its input: zeros inserted, padding (or cropping) added."""
    words = []
    sh, sw = p.stride
    if (sh, sw) != (1, 1):
        words.append(f"s {MINUS} 1 = {_pair(sh - 1, sw - 1)} zero{'s' if max(sh, sw) > 2 else ''} "
                     "inserted between cells (·)")
    pads = []
    for axis in (0, 1):
        _, k, _, pad, d, _ = _axis(p, axis)
        pads.append(d * (k - 1) - pad)
    ph, pw = pads
    if ph == pw:
        amount = f"d{TIMES}(k {MINUS} 1) {MINUS} p = {ph}"
    else:
        amount = f"d{TIMES}(k {MINUS} 1) {MINUS} p = {ph} rows, {pw} columns"
    if min(ph, pw) < 0:
        words.append(f"cropped by {amount} (p > d{TIMES}(k {MINUS} 1))")
    else:
        words.append(f"padded by {amount}")
    op = p.output_padding
    if op != (0, 0):
        words.append(f"+ output_padding {_pair(*op)} on the bottom/right")
    return ", ".join(words)
