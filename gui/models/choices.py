"""Every choice and bound of a lesson, in one place.

The controls, the scenario file format, the command line and the core all read
these: a new operation, padding kind or limit is added here and nowhere else.
Each choice is a ``Literal`` type (for the type checker) and a tuple of its
values in menu order (for widgets, files and ``argparse``), with plain-words
labels beside it.
"""

from __future__ import annotations

from typing import Literal, get_args

Op = Literal["conv", "conv1d", "conv_transpose", "max", "min", "avg", "global_avg", "global_max"]
#: "causal" (1-D convolution only): d·(k−1) on the left, nothing on the right.
PadKind = Literal["symmetric", "asymmetric", "valid", "same", "causal"]
PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
Mode = Literal["forward", "backward", "both"]
Upstream = Literal["ones", "random", "loss", "custom"]
GradView = Literal["scatter", "gather"]
#: How a transposed convolution is pictured: a stride-1 convolution over its spread input, or stamps.
TransposeView = Literal["gather", "scatter"]
#: How a convolution is drawn: the kernel sliding over a grid, or the matrix C of y = C·x (``matrix.py``).
DrawnAs = Literal["grid", "matrix"]
Granularity = Literal["window", "tap"]
#: Whether products travel from their cells into the arithmetic line between steps: in presenter
#: mode only ("auto"), always, or never.
MotionSetting = Literal["auto", "on", "off"]
Activation = Literal["none", "relu", "leaky_relu", "sigmoid", "tanh"]
KernelPreset = Literal[
    "random", "identity", "box blur", "gaussian", "sharpen", "sobel x", "sobel y", "laplacian",
]
Theme = Literal["light", "dark", "high-contrast", "colour-blind"]
#: How the stage draws a scenario: panels side by side, or conv_arithmetic's picture (input plane
#: below, output plane above, seen at an angle).
View = Literal["flat", "stage"]
#: What a frame shows: a forward step, the activation step, a backward (scatter) step, the gather view,
#: a transposed convolution's stamp (its scatter picture), or a step of the matrix picture (y = C·x).
Phase = Literal["forward", "activation", "backward", "gather", "scatter", "matrix"]
#: The panels of the stage.
PanelName = Literal["input", "kernel", "output", "target", "dx", "dw", "dy", "matrix", "across", "down"]
ExportFormat = Literal["png", "svg", "gif", "mp4", "json", "pdf"]

OPS: tuple[Op, ...] = get_args(Op)
#: The pooling operations (a pipeline's pooling layer offers these).
POOL_OPS: tuple[Op, ...] = ("max", "min", "avg")
PAD_KINDS: tuple[PadKind, ...] = get_args(PadKind)
#: A pipeline convolution's padding in its editor: a number of cells, or one of the names.
LAYER_PADDINGS: tuple[str, ...] = ("number", "same", "valid", "causal")
PADDING_MODES: tuple[PaddingMode, ...] = get_args(PaddingMode)
MODES: tuple[Mode, ...] = get_args(Mode)
UPSTREAMS: tuple[Upstream, ...] = get_args(Upstream)
GRAD_VIEWS: tuple[GradView, ...] = get_args(GradView)
TRANSPOSE_VIEWS: tuple[TransposeView, ...] = get_args(TransposeView)
DRAWN_AS: tuple[DrawnAs, ...] = get_args(DrawnAs)
GRANULARITIES: tuple[Granularity, ...] = get_args(Granularity)
MOTION_SETTINGS: tuple[MotionSetting, ...] = get_args(MotionSetting)
ACTIVATIONS: tuple[Activation, ...] = get_args(Activation)
KERNEL_PRESETS: tuple[KernelPreset, ...] = get_args(KernelPreset)
THEMES: tuple[Theme, ...] = get_args(Theme)
VIEWS: tuple[View, ...] = get_args(View)
PANELS: tuple[PanelName, ...] = get_args(PanelName)
#: The matrix picture's panels: C, the vector along its columns, the vector along its rows.
MATRIX_PANELS: tuple[PanelName, ...] = ("matrix", "across", "down")
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)

# The engine owns the names of its activations and kernel presets; the two lists must agree
# (tests/test_startup.py holds them together: importing the engine here would load NumPy before the
# command line is read and before the window's first paint).

OP_LABELS: dict[Op, str] = {
    "conv": "Convolution", "conv1d": "Convolution 1-D", "conv_transpose": "Transposed convolution",
    "max": "Max pooling", "min": "Min pooling", "avg": "Average pooling",
    "global_avg": "Global average pooling", "global_max": "Global max pooling",
}
MODE_LABELS: dict[Mode, str] = {
    "forward": "Forward", "backward": "Backward", "both": "Forward, then backward",
}
UPSTREAM_LABELS: dict[Upstream, str] = {
    "ones": "all ones (L = ΣY)", "random": "random", "loss": "loss ½Σ(Y−T)²", "custom": "typed",
}
#: How the dL/dY panel's title names where the upstream gradient came from.
UPSTREAM_SHORT: dict[Upstream, str] = {"ones": "ones", "random": "random", "loss": "Y − T", "custom": "typed"}
EXPORT_FORMAT_LABELS: dict[ExportFormat, str] = {
    "png": "PNG picture (one step) or PNG sequence (several)",
    "svg": "SVG vector picture (current step)",
    "gif": "Animated GIF",
    "mp4": "MP4 video",
    "json": "JSON data: every frame's numbers and labels",
    "pdf": "PDF vector pages (one per step, for slides)",
}
TRANSPOSE_VIEW_LABELS: dict[TransposeView, str] = {
    "gather": "gather: a stride-1 convolution over the spread input",
    "scatter": "scatter: each input cell stamps x·W onto the output",
}
DRAWN_AS_LABELS: dict[DrawnAs, str] = {
    "grid": "grid: the kernel slides over the input",
    "matrix": "matrix: y = C·x, the input unrolled into a vector",
}
VIEW_LABELS: dict[View, str] = {
    "flat": "Flat: the panels side by side",
    "stage": "Stage: input plane below, output plane above",
}
GRANULARITY_LABELS: dict[Granularity, str] = {"window": "per window", "tap": "per multiply-add"}
MOTION_LABELS: dict[MotionSetting, str] = {
    "auto": "In presenter mode", "on": "Always (exports too)", "off": "Never",
}
VALUE_KIND_LABELS: dict[bool, str] = {True: "Integers", False: "Decimals"}
#: Kernel presets that are fixed 3×3 filters (choosing one sets the kernel to 3×3).
FIXED_3X3_PRESETS: tuple[KernelPreset, ...] = ("sharpen", "sobel x", "sobel y", "laplacian")

#: The choice each text setting of ``Params`` takes (files and the core check against these).
SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "op": OPS, "pad_kind": PAD_KINDS, "padding_mode": PADDING_MODES, "mode": MODES,
    "upstream": UPSTREAMS, "grad_view": GRAD_VIEWS, "granularity": GRANULARITIES, "preset": KERNEL_PRESETS,
    "activation": ACTIVATIONS, "transpose_view": TRANSPOSE_VIEWS, "view": VIEWS, "motion": MOTION_SETTINGS,
    "drawn_as": DRAWN_AS,
}
#: What each setting is called in a message ("input height must be between 1 and 512, got 600").
SETTING_LABELS: dict[str, str] = {
    "op": "the operation", "in_h": "input height", "in_w": "input width", "in_c": "input channels",
    "k_h": "kernel height", "k_w": "kernel width", "out_c": "output channels", "stride": "stride",
    "dilation": "dilation", "pad_kind": "the padding kind", "padding": "padding",
    "padding_mode": "the padding mode", "bias": "bias", "ceil_mode": "ceil mode",
    "count_include_pad": "count include pad", "flip_kernel": "flip kernel", "granularity": "the step size",
    "integers": "integers", "seed": "the seed", "preset": "the kernel preset", "mode": "the pass",
    "upstream": "dL/dY", "grad_view": "the gradient view", "activation": "the activation",
    "picture": "picture", "input": "the input", "kernel": "the kernel", "target": "the loss target",
    "step": "the step", "output_padding": "output padding", "transpose_view": "the transposed picture",
    "groups": "groups", "view": "the view", "motion": "products travel", "drawn_as": "the drawing",
}

# ----------------------------------------------------------------------------- bounds
#: Inclusive bounds of every whole-number setting (spin boxes, files and the core read these).
BOUNDS: dict[str, tuple[int, int]] = {
    "in_h": (1, 512), "in_w": (1, 512), "in_c": (1, 16), "out_c": (1, 16), "k_h": (1, 15), "k_w": (1, 15),
    "stride": (1, 16), "dilation": (1, 8), "padding": (0, 16), "output_padding": (0, 15), "groups": (1, 16),
    "seed": (0, 2**31 - 1),
}
#: The shape bounds the core checks before it builds anything.
SHAPE_LIMITS: tuple[str, ...] = ("in_h", "in_w", "in_c", "out_c", "k_h", "k_w")
#: Padding also follows PyTorch's rules relative to the window and the input (the engine states them,
#: ``gui.models.validate`` asks it before anything is built): pooling pads by at most half the dilated
#: window; ``reflect`` padding is smaller than the input, ``circular`` at most its size.
#: Largest size of an input value, weight, bias, typed dL/dY or loss target cell (the edit dialog's range).
VALUE_LIMIT = 1e6
#: Largest size of a computed output-shaped value (dL/dY, the loss target): a convolution output is
#: at most ``in_c·k_h·k_w·VALUE_LIMIT² + VALUE_LIMIT`` in size, and ``dL/dY = Y − T`` twice that.
OUTPUT_LIMIT = 2 * (BOUNDS["in_c"][1] * BOUNDS["k_h"][1] * BOUNDS["k_w"][1] * VALUE_LIMIT**2 + VALUE_LIMIT)
#: Longest scenario or deck title, in characters.
MAX_TITLE = 1000
#: Most scenarios one lecture deck holds.
MAX_DECK_ENTRIES = 100
#: Largest input side that still shows numbers in its cells.
MAX_VALUE_GRID = 64
#: Most rows and columns the matrix picture draws (a 6×6 input with a 3×3 kernel: 16×36).
MATRIX_ROWS, MATRIX_COLS = 25, 36
#: Most steps a timeline can hold (a Qt slider's range).
MAX_STEPS = 2**31 - 1
#: Playback speed bounds, steps per second.
MIN_SPEED, MAX_SPEED = 0.25, 60.0
DEFAULT_SPEED = 2.0
#: Text zoom bounds (captions and titles).
MIN_ZOOM, MAX_ZOOM = 0.5, 3.0
#: Export scale bounds.
MIN_SCALE, MAX_SCALE = 1, 4

# ----------------------------------------------------------------------------- themes
#: Colours of each theme (hex), read by every painter (the stage, the pipeline, exports).
THEME_COLOURS: dict[Theme, dict[str, str]] = {
    "light": {
        "background": "#ffffff", "text": "#1a1a1a", "grid": "#4d4d4d", "empty": "#ececec",
        "padding": "#9a9a9a", "window": "#ff7f0e", "output": "#d62728", "hover": "#17becf",
        "unreached": "#d62728",
    },
    "dark": {
        "background": "#1e1f22", "text": "#f0f0f0", "grid": "#bdbdbd", "empty": "#34363a",
        "padding": "#8a8a8a", "window": "#ffb000", "output": "#ff5c5c", "hover": "#4dd8ff",
        "unreached": "#ff5c5c",
    },
    # For projectors that wash colours out: pure black and white, saturated highlights.
    "high-contrast": {
        "background": "#000000", "text": "#ffffff", "grid": "#ffffff", "empty": "#262626",
        "padding": "#c0c0c0", "window": "#ffff00", "output": "#ff3df5", "hover": "#00ffff",
        "unreached": "#ff4040",
    },
    # Okabe-Ito highlight colours, told apart with any common colour-vision deficiency.
    "colour-blind": {
        "background": "#ffffff", "text": "#000000", "grid": "#404040", "empty": "#eeeeee",
        "padding": "#8c8c8c", "window": "#e69f00", "output": "#0072b2", "hover": "#009e73",
        "unreached": "#d55e00",
    },
}
#: Colour maps (pyqtgraph names) per theme: sequential for values, diverging (centred on zero) for
#: signed ones, grey for pictures.
THEME_COLOUR_MAPS: dict[Theme, dict[str, str]] = {
    "light": {"input": "cividis", "output": "viridis", "diverging": "CET-CBD1", "picture": "CET-L1"},
    "dark": {"input": "cividis", "output": "viridis", "diverging": "CET-CBD1", "picture": "CET-L1"},
    "high-contrast": {"input": "CET-L1", "output": "CET-L1", "diverging": "CET-CBD1", "picture": "CET-L1"},
    "colour-blind": {"input": "cividis", "output": "CET-CBL2", "diverging": "CET-CBD1", "picture": "CET-L1"},
}
