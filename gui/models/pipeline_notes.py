"""What the pipeline says about a stack beyond its shapes: 1-D receptive fields and parameter savings.

* A stack over a ``1×L`` signal (every window one row high): how many input
  samples one output sample reads, with the growth of each layer,
  ``1 + Σ d·(k − 1)·(product of the strides before)``: a WaveNet-style stack
  with kernel 2 and dilations 1, 2, 4, 8 reads ``1 + 1 + 2 + 4 + 8 = 16``.
* A grouped convolution's parameters against the full convolution's, and a
  depthwise-separable pair (depthwise ``groups = C``, then pointwise 1×1)
  against the one full convolution with the same input and output shapes.

Qt-free; ``PipelineState`` puts these in its rows and totals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine import network as nw

__all__ = ["field_text_1d", "full_conv_params", "is_signal_stack", "receptive_growth", "runs",
           "separable_notes", "signal"]


def signal(channels: int, length: int) -> np.ndarray:
    """A default input signal: two sines (periods 16 and 5 samples) between 0 and 1.

    Returns
    -------
    ndarray, shape (channels, 1, length)
    """
    t = np.arange(length)
    row = 0.5 + 0.3 * np.sin(2 * np.pi * t / 16) + 0.2 * np.sin(2 * np.pi * t / 5)
    return np.repeat(np.round(row, 3)[None, None], channels, axis=0)


def is_signal_stack(outputs: Sequence[np.ndarray]) -> bool:
    """True when every stage is a signal ``(C, 1, L)``: the view draws one stage a row."""
    return bool(outputs) and all(a.ndim == 3 and a.shape[1] == 1 for a in outputs)


def runs(idx: np.ndarray) -> list[tuple[int, int]]:
    """Sorted indices as ``[start, stop)`` runs of neighbours: ``[16, 17, 19]`` → ``[(16, 18), (19, 20)]``
    (a dilated layer's receptive field has gaps)."""
    a = np.asarray(idx, dtype=int)
    if a.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(a) != 1) + 1
    return [(int(r[0]), int(r[-1]) + 1) for r in np.split(a, breaks)]


def _one_row(net: nw.Network) -> bool:
    """True when the input is one row and every window is one row high (a 1-D stack)."""
    if net.input_shape[1] != 1:
        return False
    for layer in net.layers:
        if isinstance(layer, (nw.Conv, nw.Pool)) and nw._pair(layer.kernel)[0] != 1:
            return False
        if isinstance(layer, (nw.Flatten, nw.Dense, nw.GlobalPool)):
            return False
    return True


def receptive_growth(net: nw.Network) -> list[int] | None:
    """Samples each layer adds to one output sample's receptive field (0 for activations), or None
    when the stack is not a 1-D one. The field is ``1 + sum``."""
    if not _one_row(net) or net.check() is not None:
        return None
    jump, growth = 1, []
    for layer in net.layers:
        if isinstance(layer, nw.Conv):
            k, d, s = nw._pair(layer.kernel)[1], nw._pair(layer.dilation)[1], nw._pair(layer.stride)[1]
        elif isinstance(layer, nw.Pool):
            k, d = nw._pair(layer.kernel)[1], 1
            s = nw._pair(layer.stride if layer.stride is not None else layer.kernel)[1]
        else:
            growth.append(0)
            continue
        growth.append(d * (k - 1) * jump)
        jump *= s
    return growth


def receptive_text(net: nw.Network) -> str:
    """"receptive field of one output sample: 1 + 1 + 2 + 4 + 8 = 16 samples" ("" unless 1-D)."""
    growth = receptive_growth(net)
    if growth is None:
        return ""
    terms = [str(g) for g in growth if g]
    return (f"receptive field of one output sample: {' + '.join(['1', *terms])} = {1 + sum(growth)} samples"
            if terms else "")


def field_text_1d(stage: int, col: int, fields: Sequence[tuple[np.ndarray, np.ndarray]]) -> str:
    """The receptive field of sample ``col`` of ``stage`` in samples: "Sample 31 of stage 7 reads
    input: samples 16–31 (16); after layer 1: 8 samples in 17–31; …" (a dilated layer reads a
    sparse set)."""
    def span(cols: np.ndarray) -> str:
        lo, hi = int(cols[0]), int(cols[-1])
        if hi == lo:
            return f"sample {lo}"
        if len(cols) == hi - lo + 1:
            return f"samples {lo}–{hi} ({len(cols)})"
        return f"{len(cols)} samples in {lo}–{hi}"

    parts = [f"{'input' if k == 0 else f'after layer {k}'}: {span(c)}" for k, (_, c) in enumerate(fields)]
    return f"Sample {col} of stage {stage} reads " + "; ".join(parts)


def full_conv_params(layer: nw.Conv, c_in: int) -> int:
    """Parameters of the same convolution without groups (every kernel sees every input channel)."""
    kh, kw = nw._pair(layer.kernel)
    return layer.out_channels * c_in * kh * kw + (layer.out_channels if layer.bias else 0)


def separable_notes(net: nw.Network, shapes: Sequence[tuple[int, ...] | None]) -> list[str]:
    """For every depthwise convolution (``groups = C_in``) followed by a pointwise one (1×1, the next
    convolution, activations between): both parameter counts against one full convolution's."""
    notes = []
    layers = net.layers
    for k, layer in enumerate(layers):
        shape = shapes[k]
        if not isinstance(layer, nw.Conv) or shape is None or layer.groups <= 1 or layer.groups != shape[0]:
            continue
        nxt = next((j for j in range(k + 1, len(layers)) if not isinstance(layers[j], nw.Activation)), None)
        if nxt is None or shapes[nxt] is None or shapes[nxt + 1] is None:
            continue
        point = layers[nxt]
        if not isinstance(point, nw.Conv) or nw._pair(point.kernel) != (1, 1) or point.groups != 1:
            continue
        c_in = shape[0]
        dw, pw = nw.param_count(layer, shape), nw.param_count(point, shapes[nxt])  # type: ignore[arg-type]
        kh, kw = nw._pair(layer.kernel)
        full = nw.param_count(nw.Conv(point.out_channels, layer.kernel, bias=point.bias), shape)
        notes.append(f"depthwise-separable (layers {k + 1}–{nxt + 1}): {dw:,} + {pw:,} = {dw + pw:,} "
                     f"parameters; one full {kh}×{kw} convolution {c_in}→{point.out_channels}: {full:,} "
                     f"({full / (dw + pw):.1f}× more)")
    return notes
