"""The weight gradient in the matrix picture: ``dL/dW = dL/dY · Xcolᵀ``, the textbook matrix product.

``Xcol`` (im2col) holds one column per output cell: column ``k`` is the window row
``k`` of ``C`` reads, the padded input's values under each kernel tap (padding
included: a padding cell holds its value, zero or a copy). The weight gradient of
output channel ``o`` is then ``dL/dW[o] = Σ_k dL/dY[o, k] · Xcol[:, k]``: the
backward step of output cell ``k`` adds ``dY[k]`` times that column into
``dW[o]``. Drawn beside ``C`` as a kernel-shaped stack (output channel ``o``'s
input channels), filling up step by step; its values are the engine's own
running ``grad_w``. Convolution only: a transposed convolution's matrix picture
keeps its ``dL/dX = C·dL/dY``. Qt-free.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import engine
from engine import describe

from .frame import Mark, Panel, _term, cell_label, signed_label
from .framing import _panel, _step_grids
from .params import Params

__all__ = ["DW_SLOT", "dw_line", "dw_mark", "dw_panel", "dw_title"]

#: Where the dL/dW panel goes: row 1 (beside C), right of the dL/dY column.
DW_SLOT = 2
TIMES = describe.TIMES


def dw_title(p: Params, grads: engine.Gradients) -> str:
    """``dL/dW = dL/dY·Xcolᵀ (so far)``, with ``db`` as the grid picture's dL/dW title gives it."""
    title = "dL/dW = dL/dY·Xcolᵀ (so far)"
    if p.bias and grads.grad_bias is not None:
        title += ", db = " + ", ".join(cell_label(v) for v in grads.grad_bias.tolist())
    return title


def dw_panel(p: Params, grads: engine.Gradients, o: int, levels: tuple[float, float]) -> Panel:
    """Output channel ``o``'s weight gradient so far, one grid per input channel it reads.

    Parameters
    ----------
    p : Params
    grads : engine.Gradients
        The running gradients; ``grad_w`` of shape ``(C_out, C_in/groups, kh, kw)``.
    o : int
        The output channel of the step.
    levels : (float, float)
        The finished dL/dW's colour levels (the same at every step).
    """
    assert grads.grad_w is not None
    gw = np.asarray(grads.grad_w)
    n_in = gw.shape[1]
    panel = _panel("dw", dw_title(p, grads), _step_grids(gw[o], show=True), levels, "diverging",
                   columns=n_in, channel_base=o * n_in)
    return replace(panel, row=1, slot=DW_SLOT)


def dw_line(step: engine.ConvBackwardStep, idx: int, per_channel: int) -> str:
    """The step's share of dL/dW in words: ``dW[o] += dY[o,k]·Xcol[:,k] = g × (x, x, …)``, the column's
    values channel by channel (``;`` between channels).

    ``idx`` is the step's row of ``C`` (its output cell, every channel unrolled), ``per_channel`` the
    output cells of one channel: ``Xcol``'s column ``k = idx mod per_channel`` (one column per output
    position, shared by the output channels), ``dL/dY`` a ``C_out × per_channel`` matrix."""
    g, o = float(step.grad), step.out_channel
    k = idx % per_channel
    cols = "; ".join(", ".join(_term(float(v)) for v in ch.ravel().tolist()) for ch in step.inputs)
    return (f"dW[{o}] += dY[{o},{k}]{TIMES}Xcol[:,{k}] = {_term(g)} {TIMES} ({cols}): Xcol's column {k} "
            f"is what row {idx} of C reads")


def dw_mark(step: engine.ConvBackwardStep) -> Mark:
    """Every weight of the front input channel, each labelled with what it receives this step."""
    share = np.asarray(step.grad_weight)[0]
    kh, kw = share.shape
    cells = tuple((a, b) for a in range(kh) for b in range(kw))
    return Mark("window", "dw", 0, (0, 0), cells, tuple(signed_label(float(v)) for v in share.ravel()))
