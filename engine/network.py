"""A small CNN as a list of layers: shapes, parameter counts, forward pass, receptive fields.

Layers are plain frozen dataclasses; ``infer_shapes`` walks them and says, at
the first layer that cannot work, why (``LayerError`` carries the index).
Nothing is trained: weights are seeded random numbers, or set by hand.

Shapes are ``(C, H, W)`` for maps and ``(N,)`` after ``Flatten`` or a
global pooling. ``Flatten`` reads in C-order (channel, then row, then
column): element ``c*H*W + h*W + w`` is ``x[c, h, w]``, as ``torch.flatten``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from . import activations
from .cancel import checkpoint
from .conv import conv2d
from .geometry import AxisGeometry, Geometry, make_geometry, normalize_padding
from .kernels import kernel_preset
from .pool import PoolOp, pool2d, prepare_pool

__all__ = [
    "Activation",
    "Conv",
    "Dense",
    "Flatten",
    "GlobalPool",
    "Layer",
    "LayerError",
    "Network",
    "Pool",
    "conv_padding",
    "lenet5",
    "separable_block",
    "tiny_vgg",
    "wavenet_stack",
]


@dataclass(frozen=True)
class Conv:
    """``out_channels`` kernels of ``kernel`` (square or (kh, kw)), with bias.

    ``filters`` is "random" (seeded) or a name from ``engine.kernels.KERNEL_PRESETS``:
    every kernel is then that hand-set filter, averaged over the input channels.
    ``padding`` is also ``((top, bottom), (left, right))`` or ``"causal"``: ``d·(k − 1)``
    before and nothing after on each axis, so on a ``1×L`` signal with a ``1×k`` kernel
    output ``t`` reads inputs up to ``t`` only (``engine.conv1d``'s causal padding).
    ``groups`` divides the input channels and the kernels, as in ``conv2d``
    (``groups = C``: depthwise).
    """

    out_channels: int
    kernel: int | tuple[int, int] = 3
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]] | Literal[
        "valid", "same", "causal"] = 0
    dilation: int | tuple[int, int] = 1
    bias: bool = True
    filters: str = "random"
    groups: int = 1
    kind: str = field(default="conv", init=False)


@dataclass(frozen=True)
class Activation:
    """An element-wise activation (``engine.activations``)."""

    name: str = "relu"
    kind: str = field(default="activation", init=False)


@dataclass(frozen=True)
class Pool:
    """Max, min or average pooling."""

    op: PoolOp = "max"
    kernel: int | tuple[int, int] = 2
    stride: int | tuple[int, int] | None = None
    padding: int | tuple[int, int] = 0
    kind: str = field(default="pool", init=False)


@dataclass(frozen=True)
class GlobalPool:
    """Max or average over each whole map: ``(C, H, W)`` becomes ``(C,)``."""

    op: str = "avg"
    kind: str = field(default="global_pool", init=False)


@dataclass(frozen=True)
class Flatten:
    """``(C, H, W)`` to ``(C*H*W,)`` in C-order."""

    kind: str = field(default="flatten", init=False)


@dataclass(frozen=True)
class Dense:
    """Fully connected: ``(N,)`` to ``(units,)``, with bias."""

    units: int
    kind: str = field(default="dense", init=False)


Layer = Conv | Activation | Pool | GlobalPool | Flatten | Dense


class LayerError(ValueError):
    """A layer that cannot take its input; ``index`` is its position (0-based)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"layer {index + 1}: {message}")
        self.index = index
        self.reason = message


def describe_layer(layer: Layer) -> str:
    """A short label, e.g. ``conv 6@5x5`` or ``max pool 2x2``."""
    if isinstance(layer, Conv):
        kh, kw = _pair(layer.kernel)
        extra = []
        if _pair(layer.stride) != (1, 1):
            extra.append(f"stride {_fmt_pair(layer.stride)}")
        if layer.padding not in (0, (0, 0), "valid"):
            pad = layer.padding if isinstance(layer.padding, str) else _fmt_padding(layer.padding)
            extra.append(f"pad {pad}")
        if _pair(layer.dilation) != (1, 1):
            extra.append(f"dil {_fmt_pair(layer.dilation)}")
        if layer.groups != 1:
            extra.append(f"groups {layer.groups}")
        if layer.filters != "random":
            extra.append(layer.filters)
        return f"conv {layer.out_channels}@{kh}x{kw}" + (f" ({', '.join(extra)})" if extra else "")
    if isinstance(layer, Activation):
        return layer.name
    if isinstance(layer, Pool):
        kh, kw = _pair(layer.kernel)
        s = "" if layer.stride is None else f", stride {_fmt_pair(layer.stride)}"
        return f"{layer.op} pool {kh}x{kw}{s}"
    if isinstance(layer, GlobalPool):
        return f"global {layer.op} pool"
    if isinstance(layer, Flatten):
        return "flatten"
    return f"dense {layer.units}"


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _fmt_pair(v: int | tuple[int, int]) -> str:
    a, b = _pair(v)
    return str(a) if a == b else f"{a}x{b}"


def _fmt_padding(v: object) -> str:
    if isinstance(v, (tuple, list)) and all(isinstance(a, (tuple, list)) for a in v):
        (t, b), (left, r) = v
        return f"{t},{b} {left},{r}" if (t, b) != (0, 0) else f"{left},{r}"
    return _fmt_pair(v)  # type: ignore[arg-type]


def conv_padding(layer: Conv) -> tuple[tuple[int, int], tuple[int, int]]:
    """A convolution layer's padding as ``((top, bottom), (left, right))``; ``"causal"`` is
    ``d·(k − 1)`` before and none after on each axis."""
    k, s, d = _pair(layer.kernel), _pair(layer.stride), _pair(layer.dilation)
    if layer.padding == "causal":
        return ((d[0] * (k[0] - 1), 0), (d[1] * (k[1] - 1), 0))
    return normalize_padding(layer.padding, k, d, s)


def _spatial(layer: Layer, shape: tuple[int, ...]) -> Geometry:
    """Geometry of a conv/pool layer on input ``shape (C, H, W)``."""
    _, h, w = shape
    if isinstance(layer, Conv):
        k = _pair(layer.kernel)
        s, d = _pair(layer.stride), _pair(layer.dilation)
        return make_geometry((h, w), k, s, conv_padding(layer), d)
    assert isinstance(layer, Pool)
    k = _pair(layer.kernel)
    s = k if layer.stride is None else _pair(layer.stride)
    pad = normalize_padding(layer.padding, k, (1, 1), s)
    return make_geometry((h, w), k, s, pad, (1, 1))


def param_count(layer: Layer, shape: tuple[int, ...]) -> int:
    """Learnable parameters of ``layer`` on input ``shape``."""
    if isinstance(layer, Conv):
        kh, kw = _pair(layer.kernel)
        per_group = shape[0] // max(layer.groups, 1)
        return layer.out_channels * per_group * kh * kw + (layer.out_channels if layer.bias else 0)
    if isinstance(layer, Dense):
        return layer.units * shape[0] + layer.units
    return 0


def output_shape(layer: Layer, shape: tuple[int, ...], index: int = 0) -> tuple[int, ...]:
    """Shape after ``layer`` (raises ``LayerError`` with the reason)."""
    spatial = len(shape) == 3
    if isinstance(layer, (Conv, Pool, GlobalPool, Flatten)) and not spatial:
        raise LayerError(index, f"{describe_layer(layer)} needs a C×H×W map, but gets a vector of "
                                f"{shape[0]} (put it before the flatten)")
    if isinstance(layer, Dense):
        if spatial:
            raise LayerError(index, f"dense needs a vector; flatten the {'×'.join(map(str, shape))} "
                                    "map first")
        if layer.units < 1:
            raise LayerError(index, f"dense needs at least 1 unit, got {layer.units}")
        return (layer.units,)
    if isinstance(layer, Activation):
        if layer.name not in activations.ACTIVATIONS:
            raise LayerError(index, f"unknown activation {layer.name!r}")
        return shape
    if isinstance(layer, Flatten):
        return (int(np.prod(shape)),)
    if isinstance(layer, GlobalPool):
        if layer.op not in ("max", "avg"):
            raise LayerError(index, f"global pooling is max or avg, got {layer.op!r}")
        return (shape[0],)
    if isinstance(layer, Conv) and layer.out_channels < 1:
        raise LayerError(index, f"a convolution needs at least 1 kernel, got {layer.out_channels}")
    if isinstance(layer, Conv) and (layer.groups < 1 or shape[0] % layer.groups
                                    or layer.out_channels % layer.groups):
        raise LayerError(index, f"groups must divide the input channels ({shape[0]}) and the kernels "
                                f"({layer.out_channels}), got {layer.groups}")
    if isinstance(layer, Conv) and layer.filters != "random":
        try:
            kernel_preset(layer.filters, *_pair(layer.kernel))
        except ValueError as exc:
            raise LayerError(index, str(exc)) from None
    try:
        if isinstance(layer, Pool):
            # The pooling's own checks too (op, padding at most half the window, no all-padding window).
            prepare_pool(np.zeros((1, *shape[1:])), layer.kernel, op=layer.op, stride=layer.stride,
                         padding=layer.padding)
        g = _spatial(layer, shape)
    except (ValueError, TypeError) as exc:
        raise LayerError(index, f"{describe_layer(layer)} cannot slide over a "
                                f"{shape[1]}×{shape[2]} map: {exc}") from None
    c = layer.out_channels if isinstance(layer, Conv) else shape[0]
    return (c, *g.out_shape)


@dataclass(frozen=True)
class Network:
    """An input shape and a stack of layers.

    Attributes
    ----------
    input_shape : tuple of int
        ``(C, H, W)``.
    layers : tuple of Layer
    """

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]

    def shapes(self) -> list[tuple[int, ...]]:
        """Input shape then each layer's output shape; raises ``LayerError`` at the first bad layer."""
        out = [tuple(self.input_shape)]
        for k, layer in enumerate(self.layers):
            out.append(output_shape(layer, out[-1], k))
        return out

    def check(self) -> LayerError | None:
        """The first problem, or None when every layer works."""
        try:
            self.shapes()
        except LayerError as exc:
            return exc
        return None

    def param_counts(self) -> list[int]:
        """Parameters per layer (the stack must be valid)."""
        shapes = self.shapes()
        return [param_count(layer, shapes[k]) for k, layer in enumerate(self.layers)]

    def init_weights(self, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Seeded random weights (He-style scale) and zero biases per layer; None for layers without.

        Returns
        -------
        list
            For conv: ``(w (C_out, C_in/groups, kh, kw), b (C_out,))``; for dense:
            ``(w (units, N), b (units,))``; else None.
        """
        rng = np.random.default_rng(seed)
        shapes = self.shapes()
        out: list[tuple[np.ndarray, np.ndarray] | None] = []
        for k, layer in enumerate(self.layers):
            if isinstance(layer, Conv):
                kh, kw = _pair(layer.kernel)
                c_in = shapes[k][0] // layer.groups  # each kernel sees its group's channels
                fan_in = c_in * kh * kw
                w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(layer.out_channels, c_in, kh, kw))
                if layer.filters != "random":
                    w = np.broadcast_to(kernel_preset(layer.filters, kh, kw) / c_in, w.shape).copy()
                out.append((w, np.zeros(layer.out_channels)))
            elif isinstance(layer, Dense):
                w = rng.normal(0.0, np.sqrt(2.0 / shapes[k][0]), size=(layer.units, shapes[k][0]))
                out.append((w, np.zeros(layer.units)))
            else:
                out.append(None)
        return out

    def forward(self, x: np.ndarray, weights: list[tuple[np.ndarray, np.ndarray] | None]) -> list[np.ndarray]:
        """Every layer's output for input ``x (C, H, W)``: a list, input first.

        Parameters
        ----------
        x : ndarray, shape ``input_shape``
        weights : list
            From ``init_weights`` (or the same structure with hand-set filters).
        """
        x = np.asarray(x, dtype=float)
        if x.shape != tuple(self.input_shape):
            raise ValueError(f"input has shape {x.shape}, the network expects {tuple(self.input_shape)}")
        outs = [x]
        for k, layer in enumerate(self.layers):
            checkpoint()
            a = outs[-1]
            if isinstance(layer, Conv):
                w, b = weights[k]  # type: ignore[misc]
                a = conv2d(a, w, b if layer.bias else None, stride=layer.stride, padding=conv_padding(layer),
                           dilation=layer.dilation, groups=layer.groups)
            elif isinstance(layer, Activation):
                a = activations.activate(layer.name, a)
            elif isinstance(layer, Pool):
                a = pool2d(a, layer.kernel, op=layer.op, stride=layer.stride, padding=layer.padding)
            elif isinstance(layer, GlobalPool):
                a = a.max(axis=(1, 2)) if layer.op == "max" else a.mean(axis=(1, 2))
            elif isinstance(layer, Flatten):
                a = a.reshape(-1)
            else:
                w, b = weights[k]  # type: ignore[misc]
                a = w @ a + b
            outs.append(a)
        return outs

    def receptive_field(self, layer: int, cell: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The cells that cell ``(row, col)`` of layer ``layer``'s output depends on, in every earlier map.

        Parameters
        ----------
        layer : int
            0-based index into ``layers``; its output must be a map.
        cell : (row, col)

        Returns
        -------
        list of (rows, cols)
            For the input (first) and each layer output up to ``layer``:
            sorted unique row and column indices (the field is a product of the
            two, since every layer here acts on rows and columns separately).
            Padding is left out.
        """
        shapes = self.shapes()
        if len(shapes[layer + 1]) != 3:
            raise ValueError(f"layer {layer + 1} outputs a vector: its cells see the whole input")
        rows, cols = np.array([cell[0]]), np.array([cell[1]])
        fields: list[tuple[np.ndarray, np.ndarray]] = [(rows, cols)]
        for k in range(layer, -1, -1):
            lay = self.layers[k]
            if isinstance(lay, (Conv, Pool)):
                g = _spatial(lay, shapes[k])
                rows = _back(g.rows, rows)
                cols = _back(g.cols, cols)
            fields.append((rows, cols))
        return fields[::-1]


def _back(g: AxisGeometry, idx: np.ndarray) -> np.ndarray:
    """Input indices (unpadded) that outputs ``idx`` read along one axis."""
    taps = (idx[:, None] * g.stride + g.dilation * np.arange(g.kernel)[None, :]).ravel() - g.before
    taps = taps[(taps >= 0) & (taps < g.size)]
    return np.unique(taps)


def lenet5() -> Network:
    """LeNet-5 shapes: 32x32 → 6@28x28 → 6@14x14 → 16@10x10 → 16@5x5 → 120 → 84 → 10.

    With full C3 connections and biases: 61,706 parameters. Sub-sampling is
    average pooling and activations are tanh, as in the 1998 paper's spirit.
    """
    return Network((1, 32, 32), (
        Conv(6, 5), Activation("tanh"), Pool("avg", 2),
        Conv(16, 5), Activation("tanh"), Pool("avg", 2),
        Flatten(), Dense(120), Activation("tanh"), Dense(84), Activation("tanh"), Dense(10),
    ))


def tiny_vgg(size: int = 32, channels: int = 3) -> Network:
    """A tiny VGG-like stack: two blocks of two 3x3 convs with ReLU and 2x2 max pooling, then dense."""
    return Network((channels, size, size), (
        Conv(8, 3, padding=1), Activation("relu"), Conv(8, 3, padding=1), Activation("relu"), Pool("max", 2),
        Conv(16, 3, padding=1), Activation("relu"), Conv(16, 3, padding=1), Activation("relu"),
        Pool("max", 2), Flatten(), Dense(10),
    ))


def wavenet_stack(length: int = 32, channels: int = 4) -> Network:
    """A WaveNet-style dilated causal stack on a ``1×length`` signal: kernel 2, dilations 1, 2, 4, 8.

    Each convolution pads ``d·(k − 1)`` on the left only (``"causal"``), so the
    signal keeps its length and output ``t`` reads inputs up to ``t`` only. The
    receptive field doubles with each layer: ``1 + 1 + 2 + 4 + 8 = 16`` samples.
    """
    def causal(c: int, d: int) -> Conv:
        return Conv(c, (1, 2), padding="causal", dilation=(1, d))

    return Network((1, 1, length), (
        causal(channels, 1), Activation("tanh"), causal(channels, 2), Activation("tanh"),
        causal(channels, 4), Activation("tanh"), causal(1, 8),
    ))


def separable_block(size: int = 16, channels: int = 3, out_channels: int = 8) -> Network:
    """A depthwise-separable convolution: depthwise 3×3 (``groups = channels``), then pointwise 1×1.

    The same output shape as one full 3×3 convolution from ``channels`` to
    ``out_channels`` with a fraction of its parameters.
    """
    return Network((channels, size, size), (
        Conv(channels, 3, padding=1, groups=channels), Conv(out_channels, 1), Activation("relu"),
    ))
