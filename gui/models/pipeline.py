"""The pipeline state: a small CNN, its input and every stage's output, with events and no Qt.

``PipelineState`` holds the network (``engine.network``), the input picture,
seeded weights and every layer's output, recomputed by the engine whenever
something changes. A stack with a layer that cannot take its input is kept and
flagged (``problem``: the first impossible layer; the stages before it are
still computed), so a lecturer can fix it. A change that cannot be checked or
computed at all (an input that is not a ``(C, H, W)`` grid, something that is
not a layer, a stack too large to hold in memory) is refused whole: the state
stays as it was and ``error`` says why in plain words.

Everything the pipeline window writes is decided here as text or data: the
stack's rows, the totals, the stage titles, the receptive-field report, the
flatten reading order and the layer dialog's fields. The window only paints.

The weights are LeNet-5's trained ones (``gui.models.digits``) for as many
leading layers as match the trained network, or seeded random ones
(``weights_kind``: ``"trained"`` or ``"random"``). A drawing becomes the input
through the training preprocessing (``set_drawing``); the class scores become
probabilities and a saliency map (``prediction``, ``saliency``).

``lesson_spec_for_layer`` turns one conv or pool layer of a network, with its
input maps (and weights), into the settings and values of a lesson, so the
main window can step through that layer alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import numpy as np
from psygnal import Signal

from engine import network as nw
from engine.geometry import normalize_padding
from engine.image import area_resize, to_gray

from . import digits
from .choices import ACTIVATIONS, BOUNDS, KERNEL_PRESETS, LAYER_PADDINGS, POOL_OPS, Op
from .flatten import step_text
from .params import Params
from .pipeline_job import PipelineJob, PipelineResult, forward_cost
from .pipeline_notes import (
    field_text_1d,
    full_conv_params,
    is_signal_stack,
    receptive_growth,
    receptive_text,
    runs,
    separable_notes,
    signal,
)
from .prediction import Kernels, Prediction, Saliency, kernels, predict, saliency
from .weights import WEIGHTS_KINDS, WeightsKind, weights_text

__all__ = [
    "MAX_PARAMETERS",
    "MAX_VALUES",
    "NEW_LAYERS",
    "PRESETS",
    "SIGNAL_LAYERS",
    "FieldTrace",
    "FlattenStep",
    "LayerField",
    "LayerLesson",
    "LayerRow",
    "PipelineJob",
    "PipelineResult",
    "PipelineState",
    "SampleLoader",
    "apply_layer_edits",
    "checkerboard",
    "is_signal_stack",
    "layer_fields",
    "lesson_spec_for_layer",
    "new_layers",
    "runs",
]

#: Whole networks to start from, by menu name.
PRESETS: dict[str, Callable[[], nw.Network]] = {
    "LeNet-5": nw.lenet5, "tiny VGG": nw.tiny_vgg, "WaveNet-style stack": nw.wavenet_stack,
    "depthwise-separable": nw.separable_block,
}

#: Layers the "Add" menu offers, by menu name.
NEW_LAYERS: dict[str, nw.Layer] = {
    "convolution 3x3": nw.Conv(8, 3, padding=1), "ReLU": nw.Activation("relu"),
    "leaky ReLU": nw.Activation("leaky_relu"), "sigmoid": nw.Activation("sigmoid"),
    "tanh": nw.Activation("tanh"), "max pool 2x2": nw.Pool("max", 2), "min pool 2x2": nw.Pool("min", 2),
    "avg pool 2x2": nw.Pool("avg", 2), "global max pool": nw.GlobalPool("max"),
    "global avg pool": nw.GlobalPool("avg"), "flatten": nw.Flatten(), "dense 10": nw.Dense(10),
}
#: Layers the "Add" menu offers first when the input is a signal ``(C, 1, L)``.
SIGNAL_LAYERS: dict[str, nw.Layer] = {"causal convolution 1x2": nw.Conv(4, (1, 2), padding="causal")}


def new_layers(input_shape: Sequence[int]) -> dict[str, nw.Layer]:
    """The "Add" menu's layers for a network with input ``(C, H, W)``: ``SIGNAL_LAYERS`` first when
    ``H == 1`` (a signal), then ``NEW_LAYERS``."""
    signal_input = len(input_shape) == 3 and input_shape[1] == 1
    return {**SIGNAL_LAYERS, **NEW_LAYERS} if signal_input else dict(NEW_LAYERS)

#: Most learnable parameters a stack may have (40 MB of weights); a larger one is refused.
MAX_PARAMETERS = 5_000_000
#: Most values all stages together may hold (160 MB); a larger stack is refused.
MAX_VALUES = 20_000_000

#: ``load_sample(name, channels, height, width)`` -> a picture ``(channels, height, width)``, values 0-1.
#: It raises ``ValueError`` (with a message for the user) when the picture cannot be read.
SampleLoader = Callable[[str, int, int, int], np.ndarray]

_LAYER_TYPES = (nw.Conv, nw.Activation, nw.Pool, nw.GlobalPool, nw.Flatten, nw.Dense)
_POOL_OPS: tuple[str, ...] = POOL_OPS


def _times(shape: Sequence[int]) -> str:
    return "×".join(map(str, shape))


def checkerboard(channels: int, height: int, width: int, squares: int = 8) -> np.ndarray:
    """A checkerboard of ``squares`` a side, values 0 and 1, shape ``(channels, height, width)``.

    The input when no picture reader is given (the core reads no image files).
    """
    rows = (np.arange(height) * squares // height)[:, None]
    cols = (np.arange(width) * squares // width)[None, :]
    board = ((rows + cols) % 2 == 0).astype(float)
    return np.repeat(board[None], channels, axis=0)


# ----------------------------------------------------------------------------- plain values for the view
@dataclass(frozen=True)
class LayerRow:
    """One row of the stack list.

    Attributes
    ----------
    text : str
        E.g. ``"4. conv 16@5x5 → 16×10×10 · 2,416 params"``.
    status : {"ok", "problem", "after"}
        A working layer, the first impossible one, or one after it.
    tip : str
        The reason, for the problem row; else empty.
    """

    text: str
    status: Literal["ok", "problem", "after"]
    tip: str = ""


@dataclass(frozen=True, eq=False)
class FieldTrace:
    """The receptive field of one cell, in every stage up to its own.

    Attributes
    ----------
    stage, row, col : int
        The clicked cell (stage 0 is the input).
    fields : list of (rows, cols)
        Sorted input rows and columns it reads, for stages ``0..stage`` (padding left out).
    sizes : list of (int, int)
        ``(len(rows), len(cols))`` per stage.
    text : str
        The report, e.g. ``"Cell (4, 6) of stage 4: its receptive field is input: 14×14; …"``.
    """

    stage: int
    row: int
    col: int
    fields: list[tuple[np.ndarray, np.ndarray]]
    sizes: list[tuple[int, int]]
    text: str


@dataclass(frozen=True)
class FlattenStep:
    """Element ``k`` of a flatten: which cell of the volume it reads, and the arithmetic.

    Attributes
    ----------
    stage : int
        The stage whose maps flatten reads (the flatten layer's index: its input).
    k : int
        Position in the vector, ``0 <= k < C·H·W``.
    cell : (c, h, w)
        ``k = c·H·W + h·W + w``.
    text : str
        What element ``k`` reads, its value and the index formula with its numbers
        (``flatten.step_text``).
    n : int
        Elements in the vector, ``C·H·W``.
    """

    stage: int
    k: int
    cell: tuple[int, int, int]
    text: str
    n: int = 0


@dataclass(frozen=True)
class LayerField:
    """One setting of a layer as an editor shows it.

    ``choices`` is empty for a whole number in ``lo..hi``; otherwise ``value``
    is one of ``choices``.
    """

    name: str
    label: str
    value: int | str
    lo: int = 0
    hi: int = 0
    choices: tuple[str, ...] = ()
    tip: str = ""


def layer_fields(layer: nw.Layer) -> list[LayerField]:
    """The settings of ``layer`` an editor offers, with their bounds or choices.

    A rectangular kernel, stride or dilation shows its height; a signal's
    kernel (height 1, ``(1, k)``) its length, and edits stay along the length.
    A convolution's padding shows as its kind (``"number"``, ``"same"``, ``"valid"`` or
    ``"causal"``) and the cells it pads: the top (a per-side padding's too), for
    causal padding ``d·(k − 1)`` on the left. ``apply_layer_edits`` changes only
    the settings the user actually changed, so what is not shown survives.
    """
    if isinstance(layer, nw.Conv):
        kind = layer.padding if isinstance(layer.padding, str) else "number"
        a = int(_along_signal(layer))
        return [
            LayerField("out_channels", "Kernels", layer.out_channels, 1, 64),
            LayerField("kernel", "Kernel length" if a else "Kernel size", nw._pair(layer.kernel)[a], 1, 15),
            LayerField("stride", "Stride", nw._pair(layer.stride)[a], 1, 8),
            LayerField("padding", "Padding", _shown_padding(layer), 0, 8),
            LayerField("padding_kind", "Padding kind", kind, choices=LAYER_PADDINGS,
                       tip="a number of cells on every side, 'same', 'valid', or 'causal': d·(k − 1) before "
                           "and none after, so a signal's output t never reads an input after t"),
            LayerField("dilation", "Dilation", nw._pair(layer.dilation)[a], 1, 8),
            LayerField("filters", "Filters", layer.filters, choices=KERNEL_PRESETS,
                       tip="random (seeded) weights, or every kernel a hand-set filter (Sobel, Gaussian, …)"),
            LayerField("groups", "Groups", layer.groups, 1, 64,
                       tip="groups divide the input channels and the kernels; the input channels: depthwise"),
        ]
    if isinstance(layer, nw.Activation):
        return [LayerField("name", "Activation", layer.name, choices=ACTIVATIONS[1:])]
    if isinstance(layer, nw.Pool):
        stride = layer.stride if layer.stride is not None else layer.kernel
        return [
            LayerField("op", "Pooling", layer.op, choices=_POOL_OPS),
            LayerField("kernel", "Window", nw._pair(layer.kernel)[0], 1, 8),
            LayerField("stride", "Stride", nw._pair(stride)[0], 1, 8),
        ]
    if isinstance(layer, nw.GlobalPool):
        return [LayerField("op", "Pooling", layer.op, choices=("max", "avg"))]
    if isinstance(layer, nw.Dense):
        return [LayerField("units", "Units", layer.units, 1, 1024)]
    return []


def apply_layer_edits(layer: nw.Layer, values: dict[str, int | str]) -> nw.Layer:
    """``layer`` with the settings in ``values`` that differ from what ``layer_fields`` showed.

    Settings left as shown stay as they were, so a rectangular kernel, ``"same"``
    padding or ``bias=False`` survive an OK without edits.
    """
    shown = {f.name: f.value for f in layer_fields(layer)}
    changes: dict[str, Any] = {name: v for name, v in values.items() if name in shown and v != shown[name]}
    kind = changes.pop("padding_kind", None)
    if kind is not None and kind != "number":  # a name chosen: the number is what it works out
        changes["padding"] = kind
    elif kind is not None or "padding" in changes:  # "number" chosen, or a number typed: that number
        changes["padding"] = int(values.get("padding", shown["padding"]))
    if isinstance(layer, nw.Conv) and _along_signal(layer):  # a signal's layer stays one: (1, v)
        changes.update({k: (1, int(v)) for k, v in changes.items() if k in ("kernel", "stride", "dilation")})
    return replace(layer, **changes) if changes else layer


def _along_signal(layer: nw.Conv) -> bool:
    """True for a signal's convolution: kernel ``(1, k)`` with ``k > 1``, its settings along the length."""
    kh, kw = nw._pair(layer.kernel)
    return kh == 1 and kw > 1


def _shown_padding(layer: nw.Conv) -> int:
    """The cells a convolution layer pads, as its editor shows them: the left for causal padding
    (a signal pads along its length), else the top; 0 where it cannot be worked out."""
    try:
        (top, _), (left, _) = nw.conv_padding(layer)
    except ValueError:
        return 0
    return left if layer.padding == "causal" else top


# ----------------------------------------------------------------------------- one layer as a lesson
@dataclass(frozen=True, eq=False)
class LayerLesson:
    """The settings and values that show one pipeline layer as a lesson.

    Attributes
    ----------
    params : Params
    x : ndarray, shape (in_c, in_h, in_w)
    w : ndarray, shape (out_c, in_c, k_h, k_w) or None
        None for pooling, or when no weights were given (the lesson draws its own).
    bias : ndarray, shape (out_c,) or None
    """

    params: Params
    x: np.ndarray
    w: np.ndarray | None = None
    bias: np.ndarray | None = None


#: A layer's padding kind in the lesson (``"causal"`` for a causal layer over a signal).
_LayerPadKind = Literal["symmetric", "asymmetric", "valid", "same", "causal"]


def _lesson_padding(padding: object, kernel: tuple[int, int], dilation: tuple[int, int],
                    stride: tuple[int, int]) -> tuple[_LayerPadKind, tuple[int, int, int, int]]:
    """A layer's padding as ``(pad_kind, (top, bottom, left, right))``."""
    if padding in ("valid", "same"):
        return padding, (0, 0, 0, 0)
    if padding == "causal":
        (t, b), (left, r) = ((dilation[0] * (kernel[0] - 1), 0), (dilation[1] * (kernel[1] - 1), 0))
        return ("causal" if kernel[0] == 1 else "asymmetric"), (t, b, left, r)
    (t, b), (left, r) = normalize_padding(padding, kernel, dilation, stride)
    if (t, b, left, r) == (0, 0, 0, 0):
        return "valid", (0, 0, 0, 0)
    return ("symmetric" if (t, left) == (b, r) else "asymmetric"), (t, b, left, r)


def lesson_spec_for_layer(layer: nw.Layer, x: np.ndarray, w: np.ndarray | None = None,
                          b: np.ndarray | None = None, base: Params | None = None) -> LayerLesson:
    """Settings and values that make a lesson compute exactly what ``layer`` computes on ``x``.

    Parameters
    ----------
    layer : engine.network.Conv or engine.network.Pool
    x : ndarray, shape (C, H, W)
        The layer's input maps.
    w : ndarray, shape (out_channels, C, kh, kw), optional
        A convolution's weights (from ``Network.init_weights``).
    b : ndarray, shape (out_channels,), optional
        Its biases.
    base : Params, optional
        Settings to start from (the viewing choices, e.g. per-window or
        per-tap steps, are kept). Everything that changes the result is set
        from the layer: the shapes, kernel, stride, dilation, padding, bias;
        zero padding, no kernel flip, no ceil mode, padding counted in
        averages (as the engine's network computes); decimal values, forward
        mode, no activation.

    Returns
    -------
    LayerLesson

    Raises
    ------
    ValueError
        ``x`` is not ``(C, H, W)``, or the layer is not a convolution or pooling.
    """
    if not isinstance(layer, (nw.Conv, nw.Pool)):
        raise ValueError(f"only a convolution or a pooling layer can be opened as a lesson, not "
                         f"{nw.describe_layer(layer)}")
    xa = np.array(x, dtype=float)
    if xa.ndim != 3:
        raise ValueError(f"a layer's input must be C×H×W maps, got shape {xa.shape}")
    c, h, wd = xa.shape
    p = replace(base or Params(), in_c=c, in_h=h, in_w=wd, integers=False, picture=False, seed=0,
                mode="forward", upstream="ones", grad_view="scatter", activation="none",
                padding_mode="zeros", flip_kernel=False, ceil_mode=False, count_include_pad=True)
    if isinstance(layer, nw.Conv):
        k, s, d = nw._pair(layer.kernel), nw._pair(layer.stride), nw._pair(layer.dilation)
        kind, padding = _lesson_padding(layer.padding, k, d, s)
        preset = layer.filters if layer.filters in KERNEL_PRESETS else "random"
        one_d = h == 1 and k[0] == 1  # a signal: the 1-D convolution, causal padding by name
        p = replace(p, op="conv1d" if one_d else "conv", k_h=k[0], k_w=k[1], out_c=layer.out_channels,
                    stride=s, dilation=d, pad_kind=kind, padding=padding, bias=layer.bias, preset=preset,
                    groups=layer.groups)
        return LayerLesson(p, xa, None if w is None else np.array(w, dtype=float),
                           None if b is None else np.array(b, dtype=float))
    if layer.op not in _POOL_OPS:
        raise ValueError(f"pooling is {', '.join(_POOL_OPS)}; got {layer.op!r}")
    k = nw._pair(layer.kernel)
    s = nw._pair(layer.stride if layer.stride is not None else layer.kernel)
    kind, padding = _lesson_padding(layer.padding, k, (1, 1), s)
    p = replace(p, op=cast(Op, layer.op), k_h=k[0], k_w=k[1], stride=s, dilation=(1, 1), pad_kind=kind,
                padding=padding)
    return LayerLesson(p, xa)


# ----------------------------------------------------------------------------- the state
class PipelineState:
    """Network, input and every stage's output; emits after each recomputation.

    Parameters
    ----------
    network : engine.network.Network, optional
        LeNet-5 by default.
    x : ndarray, shape network.input_shape, optional
        The input; by default the sample ``sample`` (through ``load_sample``)
        or, without a loader, a checkerboard.
    load_sample : SampleLoader, optional
        Reads a sample picture (the Qt shell passes one; the core reads no image files).
    sample : str
        The sample to start from.
    seed : int
        Seed of the random weights.
    weights : {"trained", "random"}
        The trained LeNet-5's weights for the layers that match it (the rest
        random), or seeded random weights throughout.

    Signals
    -------
    Attributes
    ----------
    runner : callable or None
        ``runner(job) -> bool``: the Qt shell's hook for a big change. True when it
        took the ``PipelineJob`` to a worker (it then hands the ``PipelineResult``
        to ``finish`` on this thread): meanwhile the state stays as it was, a
        newer change builds on the pending one and supersedes it, and ``cancel``
        drops it. False, or no runner: the change is computed at once.

    Signals
    -------
    changed()
        The network, input or weights changed: every output was recomputed.
    error(str)
        A change was refused (nothing changed); the message is plain words.
        An empty string clears it.
    """

    changed = Signal()
    error = Signal(str)

    def __init__(self, network: nw.Network | None = None, x: np.ndarray | None = None, *,
                 load_sample: SampleLoader | None = None, sample: str = "digit", seed: int = 0,
                 weights: WeightsKind = "trained") -> None:
        if weights not in WEIGHTS_KINDS:
            raise ValueError(f"weights are {' or '.join(WEIGHTS_KINDS)}, got {weights!r}")
        self.load_sample = load_sample
        self.runner: Callable[[PipelineJob], bool] | None = None
        self._pending: PipelineJob | None = None
        self._kind: WeightsKind = weights
        self._trained_layers = 0
        self._weights_key: tuple[object, ...] | None = None  # what the weights were drawn for
        self.last_error = ""
        net = network if network is not None else nw.lenet5()
        c, h, w = net.input_shape
        unread = ""
        if x is None:
            x = checkerboard(c, h, w)
            if load_sample is not None:
                try:
                    x = load_sample(sample, c, h, w)
                except ValueError as exc:  # start from the checkerboard, and say why
                    unread = str(exc)
        self._seed = seed
        self._sample = sample  # the picture a picture network starts from after a signal network
        self._network = net
        self._x = np.zeros(net.input_shape)
        self._outputs: list[np.ndarray] = []
        self._weights: list[tuple[np.ndarray, np.ndarray] | None] = []
        self._problem: nw.LayerError | None = None
        if not self._apply(net, np.array(x, dtype=float), seed):
            raise ValueError(self.last_error)
        self.last_error = unread

    # ------------------------------------------------------------------ read access
    @property
    def network(self) -> nw.Network:
        """The stack (possibly with an impossible layer; see ``problem``)."""
        return self._network

    @property
    def x(self) -> np.ndarray:
        """The input picture ``(C, H, W)`` (read-only view)."""
        v = self._x.view()
        v.flags.writeable = False
        return v

    @property
    def outputs(self) -> list[np.ndarray]:
        """Stage 0 is the input; stage ``k + 1`` is layer ``k``'s output. Stops before a problem.

        The arrays are the state's own: read them, do not write into them.
        """
        return list(self._outputs)

    @property
    def weights(self) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Per computed layer: ``(w, b)`` for conv and dense, else None (the state's own arrays)."""
        return list(self._weights)

    @property
    def problem(self) -> nw.LayerError | None:
        """The first layer that cannot take its input, or None."""
        return self._problem

    @property
    def seed(self) -> int:
        """Seed of the current random weights."""
        return self._seed

    @property
    def weights_kind(self) -> WeightsKind:
        """``"trained"`` or ``"random"``: the choice (see ``trained_layers`` for what it gave)."""
        return self._kind

    @property
    def trained_layers(self) -> int:
        """How many leading layers run with trained weights (0 with random weights or another stack)."""
        return self._trained_layers

    @property
    def pending(self) -> PipelineJob | None:
        """The change a worker is computing (``runner``), or None."""
        return self._pending

    def _next(self) -> tuple[nw.Network, np.ndarray, int, WeightsKind]:
        """Network, input, seed and weights a new change builds on: the pending change's, else the state's."""
        j = self._pending
        if j is None:
            return self._network, self._x, self._seed, self._kind
        return j.network, j.x, j.seed, j.kind

    # ------------------------------------------------------------------ changes
    def set_layers(self, layers: Sequence[nw.Layer]) -> bool:
        """Replace the stack (an impossible stack is kept and flagged, not refused)."""
        net, x, seed, _ = self._next()
        return self._apply(replace(net, layers=tuple(layers)), x, seed)

    def set_network(self, net: nw.Network) -> bool:
        """A whole network; the input picture is converted and resized to its input shape."""
        _, x, seed, _ = self._next()
        if (net.input_shape[1] == 1) != (x.shape[1] == 1):  # a signal for a signal network, else
            try:                                                  # the sample (not a squashed picture)
                c, h, w = self._check_input_shape(tuple(net.input_shape))
            except (ValueError, TypeError) as exc:
                return self._refuse(str(exc))
            return self._apply(net, signal(c, w) if h == 1 else self._picture(c, h, w), seed)
        try:
            x = self._fit_input(x, tuple(net.input_shape))
        except (ValueError, TypeError) as exc:
            return self._refuse(str(exc))
        return self._apply(net, x, seed)

    def _fit_input(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Picture ``x (C, H, W)`` converted to ``shape``'s channels and resized to its size."""
        c, h, w = self._check_input_shape(shape)
        if x.shape[0] != c:
            x = to_gray(x) if c == 1 else np.repeat(x[:1], c, axis=0)
        if x.shape[1:] != (h, w):
            x = area_resize(x, h, w)
        return x

    def set_input(self, x: np.ndarray) -> bool:
        """A new input picture ``(C, H, W)``; the network's input shape follows it."""
        try:
            xa = np.array(x, dtype=float)
            shape = self._check_input_shape(xa.shape)
        except (ValueError, TypeError) as exc:
            return self._refuse(str(exc))
        net, _, seed, _ = self._next()
        return self._apply(replace(net, input_shape=shape), xa, seed)

    def _picture(self, c: int, h: int, w: int) -> np.ndarray:
        """The last sample picture at ``(c, h, w)``, or a checkerboard when none can be read."""
        if self.load_sample is not None:
            try:
                return self.load_sample(self._sample, c, h, w)
            except ValueError:
                pass
        return checkerboard(c, h, w)

    def use_sample(self, name: str) -> bool:
        """The sample picture ``name`` as the input, at the network's input size."""
        if self.load_sample is None:
            return self._refuse(f"there is no picture reader here to load the sample {name!r}")
        c, h, w = self._next()[0].input_shape
        try:
            x = self.load_sample(name, c, h, w)
        except ValueError as exc:
            return self._refuse(str(exc))
        if not self.set_input(x):
            return False
        self._sample = name
        return True

    def new_weights(self) -> bool:
        """Draw new random weights (hand-set filters stay); trained weights give way to them."""
        net, x, seed, _ = self._next()
        return self._apply(net, x, seed + 1, "random")

    def set_weights_kind(self, kind: str) -> bool:
        """Use the trained weights (where the stack matches LeNet-5) or seeded random ones."""
        if kind not in WEIGHTS_KINDS:
            return self._refuse(f"weights are {' or '.join(WEIGHTS_KINDS)}, not {kind!r}")
        net, x, seed, _ = self._next()
        return self._apply(net, x, seed, kind)

    def set_drawing(self, picture: np.ndarray) -> bool:
        """A drawn or photographed digit ``(H, W)`` as the input, prepared as the training digits were.

        ``gui.models.digits.digit_input`` crops, scales and centres it into
        1×32×32; it is then repeated over the channels and resized to the
        network's input shape (the network keeps its shape).
        """
        try:
            pic = np.asarray(picture, dtype=float)
            if pic.ndim != 2 or pic.size == 0 or not np.isfinite(pic).all():
                raise ValueError(f"a drawing is a 2-D grid of finite numbers, got shape {pic.shape}")
            net, _, seed, _ = self._next()
            if net.input_shape[1] == 1:
                raise ValueError("this network reads a signal (height 1), not a picture: choose a network "
                                 "with a picture input to draw on the canvas")
            x = self._fit_input(digits.digit_input(pic), tuple(net.input_shape))
        except (ValueError, TypeError) as exc:
            return self._refuse(str(exc))
        return self._apply(net, x, seed)

    # ------------------------------------------------------------------ stack editing by position
    def insert_layer(self, after: int, layer: nw.Layer) -> int | None:
        """Insert ``layer`` after position ``after`` (−1 or out of range: at the end).

        Returns the new layer's position, or None when refused.
        """
        layers = list(self._next()[0].layers)
        k = after + 1 if 0 <= after < len(layers) else len(layers)
        layers.insert(k, layer)
        return k if self.set_layers(layers) else None

    def remove_layer(self, k: int) -> int | None:
        """Remove layer ``k``; returns the position to select next (−1 when the stack is empty)."""
        layers = list(self._next()[0].layers)
        if not 0 <= k < len(layers):
            return None
        del layers[k]
        return min(k, len(layers) - 1) if self.set_layers(layers) else None

    def move_layer(self, k: int, delta: int) -> int | None:
        """Move layer ``k`` up (−1) or down (+1); returns its new position, None when it cannot move."""
        layers = list(self._next()[0].layers)
        j = k + delta
        if not (0 <= k < len(layers) and 0 <= j < len(layers)):
            return None
        layers[k], layers[j] = layers[j], layers[k]
        return j if self.set_layers(layers) else None

    def replace_layer(self, k: int, layer: nw.Layer) -> bool:
        """Put ``layer`` in place of layer ``k``."""
        layers = list(self._next()[0].layers)
        if not 0 <= k < len(layers):
            return self._refuse(f"there is no layer {k + 1}; the stack has {len(layers)}")
        if layer == layers[k]:
            return True
        layers[k] = layer
        return self.set_layers(layers)

    # ------------------------------------------------------------------ applying a change
    @staticmethod
    def _check_input_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise ValueError(f"the input must be a C×H×W picture, got shape {shape}")
        for name, v in zip(("in_c", "in_h", "in_w"), shape, strict=True):
            lo, hi = BOUNDS[name]
            if not lo <= v <= hi:
                what = {"in_c": "channels", "in_h": "height", "in_w": "width"}[name]
                raise ValueError(f"the input {what} must be from {lo} to {hi}, got {v}")
        return (int(shape[0]), int(shape[1]), int(shape[2]))

    def _refuse(self, message: str) -> bool:
        self.last_error = message
        self.error.emit(message)
        return False

    def _apply(self, net: nw.Network, x: np.ndarray, seed: int, kind: WeightsKind | None = None) -> bool:
        """Check a new state, compute it (at once or in ``runner``'s worker), commit it, or refuse it.

        ``kind`` (the weights) defaults to the pending change's, else the state's.
        """
        kind = self._next()[3] if kind is None else kind
        try:
            self._check_input_shape(tuple(net.input_shape))
            if x.shape != tuple(net.input_shape):
                raise ValueError(f"the input has shape {x.shape}, the network expects {net.input_shape}")
            if not np.isfinite(x).all():
                raise ValueError("the input has values that are not finite numbers")
            for k, layer in enumerate(net.layers):
                if not isinstance(layer, _LAYER_TYPES):
                    raise TypeError(f"layer {k + 1} is a {type(layer).__name__}, not a network layer")
            problem = net.check()
            good = net if problem is None else replace(net, layers=net.layers[: problem.index])
            shapes = good.shapes()
            n_params = sum(nw.param_count(layer, shapes[k]) for k, layer in enumerate(good.layers))
            if n_params > MAX_PARAMETERS:
                raise ValueError(f"that stack has {n_params:,} parameters; the pipeline holds at most "
                                 f"{MAX_PARAMETERS:,} (use fewer units or a smaller map before the dense)")
            n_values = sum(int(np.prod(s)) for s in shapes)
            if n_values > MAX_VALUES:
                raise ValueError(f"its feature maps would hold {n_values:,} values; the pipeline holds at "
                                 f"most {MAX_VALUES:,} (use fewer kernels or a smaller input)")
            key = (good, seed, kind)
            same = key == self._weights_key  # a new input only (a drawing): the same weights
            job = PipelineJob(net, x, seed, kind, problem, good, forward_cost(good),
                              (self._weights, self._trained_layers) if same else None)
        except (ValueError, TypeError) as exc:
            return self._refuse(str(exc))
        if self.runner is not None and self.runner(job):
            self._pending = job  # the worker's result comes back through ``finish``
            return True
        self._pending = None  # computed at once: it supersedes a pending change
        return self._commit(job.run())

    def finish(self, result: PipelineResult) -> bool:
        """Apply a change computed by ``runner``'s worker, with the events a change computed at once emits.

        Returns
        -------
        bool
            False, with nothing changed and no event, when the change is no
            longer the pending one (superseded or cancelled); False with
            ``error`` when it was refused.
        """
        if result.job is not self._pending:
            return False
        self._pending = None
        return self._commit(result)

    def cancel(self) -> bool:
        """Drop the pending change (its worker's owner stops it); the state stays as it is.

        Returns
        -------
        bool
            There was a pending change.
        """
        had, self._pending = self._pending is not None, None
        return had

    def _commit(self, result: PipelineResult) -> bool:
        if result.refused:
            return self._refuse(result.refused)
        job = result.job
        self._network, self._x, self._seed, self._kind = job.network, job.x, job.seed, job.kind
        self._problem, self._weights, self._outputs = job.problem, result.weights, result.outputs
        self._trained_layers, self._weights_key = result.n_trained, (job.computed, job.seed, job.kind)
        if self.last_error:
            self.last_error = ""
            self.error.emit("")
        self.changed.emit()
        return True

    # ------------------------------------------------------------------ derived numbers
    def shapes(self) -> list[tuple[int, ...] | None]:
        """Shape of every stage (None from the impossible layer on)."""
        out: list[tuple[int, ...] | None] = [o.shape for o in self._outputs]
        return out + [None] * (len(self._network.layers) + 1 - len(out))

    def param_counts(self) -> list[int | None]:
        """Parameters per layer (None where the stack is impossible)."""
        shapes = self.shapes()
        return [nw.param_count(layer, s) if (s := shapes[k]) is not None and shapes[k + 1] is not None
                else None for k, layer in enumerate(self._network.layers)]

    def total_params(self) -> int:
        """Parameters of the layers that work."""
        return sum(n for n in self.param_counts() if n is not None)

    def receptive_field(self, stage: int, row: int, col: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Rows and columns that cell ``(row, col)`` of ``stage`` reads, in stages ``0..stage``.

        Only the layers up to ``stage`` are traced, so a computed stage of an
        impossible stack can be traced too.
        """
        if stage == 0:
            return [(np.array([row]), np.array([col]))]
        upto = replace(self._network, layers=self._network.layers[:stage])
        return upto.receptive_field(stage - 1, (row, col))

    # ------------------------------------------------------------------ text for the view
    def layer_rows(self) -> list[LayerRow]:
        """Every layer's row: its name, output shape and parameters, or why it cannot work."""
        shapes, counts, problem = self.shapes(), self.param_counts(), self._problem
        rows = []
        for k, layer in enumerate(self._network.layers):
            name = f"{k + 1}. {nw.describe_layer(layer)}"
            shape = shapes[k + 1]
            if problem is not None and k == problem.index:
                rows.append(LayerRow(f"{name}  ✗ {problem.reason}", "problem", problem.reason))
            elif shape is None:
                rows.append(LayerRow(f"{name}  (after the problem)", "after"))
            else:
                n = counts[k]
                params = f" · {n:,} params" if n else ""
                if isinstance(layer, nw.Conv) and layer.groups > 1 and (s := shapes[k]) is not None:
                    params += f" (full convolution: {full_conv_params(layer, s[0]):,})"
                rows.append(LayerRow(f"{name} → {_times(shape)}{params}", "ok"))
        return rows

    def totals_text(self) -> str:
        """E.g. ``"Input 1×32×32 · 12 layers · 61,706 parameters in all"``."""
        text = (f"Input {_times(self._network.input_shape)} · {len(self._network.layers)} layers · "
                f"{self.total_params():,} parameters in all")
        more = [receptive_text(self._network), *separable_notes(self._network, self.shapes())]
        return " · ".join([text, *(m for m in more if m)])

    def weights_text(self) -> str:
        """Where the weights come from, in words, e.g. ``"Random weights (seed 0)"``."""
        return weights_text(self._kind, self._trained_layers, len(self._network.layers), self._seed)

    def prediction(self) -> Prediction | None:
        """The class probabilities of the last stage, when every layer works and it is a short vector."""
        if self._problem is not None or not self._network.layers:
            return None
        trained = self._trained_layers == len(self._network.layers) and digits.is_trained()
        return predict(self._outputs[-1], "LeNet-5" if trained else "the network")

    def first_kernels(self) -> Kernels | None:
        """The first layer's kernels, when it is a working convolution (C1 in LeNet-5)."""
        layers = self._network.layers
        if not layers or not isinstance(layers[0], nw.Conv) or len(self._outputs) < 2:
            return None
        wb = self._weights[0]
        assert wb is not None
        return kernels(0, wb[0], self._trained_layers > 0 and digits.is_trained())

    def saliency(self, target: int | None = None) -> Saliency | None:
        """The gradient of class score ``target`` (the winner by default) with respect to the input.

        None when there is no prediction, or ``target`` is not a class.
        """
        p = self.prediction()
        if p is None:
            return None
        t = p.winner if target is None else target
        if not 0 <= t < p.scores.size:
            return None
        return saliency(self._network, self._weights, self._outputs, t)

    def message_text(self) -> str:
        """Why the stack is impossible, or empty."""
        return "" if self._problem is None else f"Impossible stack: {self._problem}"

    def stage_titles(self) -> list[str]:
        """A title per computed stage (lines joined by ``\\n``): the input, then each layer and its shape."""
        shapes = self.shapes()
        first = shapes[0]
        assert first is not None
        titles = [f"input {_times(first)}"]
        for k, layer in enumerate(self._network.layers):
            shape = shapes[k + 1]
            if shape is not None:
                titles.append(f"{k + 1}. {nw.describe_layer(layer)}\n{_times(shape)}")
        return titles

    def trace_field(self, stage: int, row: int, col: int) -> FieldTrace | None:
        """The receptive field of cell ``(row, col)`` of ``stage``; None for a vector stage or no cell."""
        if not 0 <= stage < len(self._outputs):
            return None
        shape = self._outputs[stage].shape
        if len(shape) != 3 or not (0 <= row < shape[1] and 0 <= col < shape[2]):
            return None
        fields = self.receptive_field(stage, row, col)
        sizes = [(len(r), len(c)) for r, c in fields]
        parts = [f"{'input' if k == 0 else f'after layer {k}'}: {h}×{w}" for k, (h, w) in enumerate(sizes)]
        text = f"Cell ({row}, {col}) of stage {stage}: its receptive field is " + "; ".join(parts)
        if receptive_growth(replace(self._network, layers=self._network.layers[:stage])) is not None:
            text = field_text_1d(stage, col, fields)  # a signal: samples, not cells
        return FieldTrace(stage, row, col, fields, sizes, text)

    def flatten_layer(self) -> int | None:
        """Position of the first flatten layer, or None."""
        layers = self._network.layers
        return next((k for k, layer in enumerate(layers) if isinstance(layer, nw.Flatten)), None)

    def can_flatten(self) -> bool:
        """True when the stack has a flatten and every layer works (the animation has a volume to read)."""
        return self.flatten_layer() is not None and self._problem is None

    def flatten_step(self, k: int) -> FlattenStep | None:
        """Element ``k`` (wrapping round) of the flatten's output: ``k = c·H·W + h·W + w``.

        None when there is no flatten to read, or the stack is impossible.
        """
        stage = self.flatten_layer()
        if stage is None or self._problem is not None:
            return None
        c, h, w = self._outputs[stage].shape
        k %= c * h * w
        ci, rem = divmod(k, h * w)
        hi, wi = divmod(rem, w)
        text = step_text(k, (ci, hi, wi), (c, h, w), float(self._outputs[stage][ci, hi, wi]))
        return FlattenStep(stage, k, (ci, hi, wi), text, c * h * w)

    # ------------------------------------------------------------------ hand-off
    def can_open(self, k: int) -> bool:
        """True when layer ``k`` is a working convolution or pooling (the main window can show it)."""
        layers = self._network.layers
        return (0 <= k < len(layers) and isinstance(layers[k], (nw.Conv, nw.Pool))
                and k + 1 < len(self._outputs) and self._outputs[k].ndim == 3)

    def open_spec(self, k: int) -> dict[str, object] | None:
        """Layer ``k`` with its input maps and weights: ``{"layer", "x", "w", "b"}`` (None if it cannot open).

        ``w`` and ``b`` are None for pooling. ``lesson_spec_for_layer`` turns it into a lesson.
        """
        if not self.can_open(k):
            return None
        wb = self._weights[k]
        w, b = (None, None) if wb is None else wb
        return {"layer": self._network.layers[k], "x": self._outputs[k], "w": w, "b": b}
