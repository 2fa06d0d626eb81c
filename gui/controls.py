"""The parameter panel and the playback bar: thin views of a ``Lesson``.

The widgets only show the lesson (``refresh``, with signals blocked so nothing
echoes back); ``gui.controllers.lesson`` turns user actions into changes of
the lesson and puts a widget back to the lesson's value when a change is refused.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .models.choices import (
    ACTIVATIONS,
    BOUNDS,
    DEFAULT_SPEED,
    DRAWN_AS,
    DRAWN_AS_LABELS,
    GRANULARITIES,
    GRANULARITY_LABELS,
    KERNEL_PRESETS,
    MAX_SPEED,
    MIN_SPEED,
    MODE_LABELS,
    MODES,
    OP_LABELS,
    OPS,
    PAD_KINDS,
    PADDING_MODES,
    TRANSPOSE_VIEW_LABELS,
    TRANSPOSE_VIEWS,
    UPSTREAM_LABELS,
    UPSTREAMS,
    VALUE_KIND_LABELS,
)
from .models.lesson import Lesson
from .models.matrix import channel_room
from .models.transposed import transposed_padding

_COMPUTING = "Computing the new picture… the last one stays meanwhile"
_ERROR_STYLE = ("QLabel#error { color: #8b0000; background: #fde8e8; border: 1px solid #d62728;"
                " border-radius: 4px; padding: 6px; font-weight: bold; }")
_INFO_STYLE = ("QLabel#error { color: #0b3d66; background: #e6f0fa; border: 1px solid #4477aa;"
               " border-radius: 4px; padding: 6px; }")


@contextmanager
def signals_blocked(*widgets: QObject) -> Iterator[None]:
    """Block the widgets' signals for the duration (model-to-widget updates)."""
    old = [w.blockSignals(True) for w in widgets]
    try:
        yield
    finally:
        for w, b in zip(widgets, old, strict=True):
            w.blockSignals(b)


def show_value(spin: QSpinBox, v: int) -> None:
    """Show ``v`` in ``spin`` unless it shows exactly that already: Qt repaints a spin box at every
    ``setValue``, even of its own value, and a parameter change refreshes 17 of them (~1 ms)."""
    if spin.value() != v or spin.cleanText() != spin.textFromValue(v):
        spin.setValue(v)


def _whole_tail(formula: str) -> str:
    """``formula`` as HTML whose last step, "− 1) / s⌋ + 1" with the "= 5" after it, never wraps apart
    (a narrow panel used to leave "1" alone on a line)."""
    head, sep, tail = formula.rpartition(") / ")
    if not sep:
        return html.escape(formula)
    before = head.split(" ")
    lead, last = before[:-2], before[-2:]  # "− 1" before the ")" stays with it too
    words = tail.split(" ")
    keep = 5 if len(words) >= 5 and words[3] == "=" else 3  # "s⌋ + 1", and "= 5" when it follows
    glued = "&nbsp;".join(html.escape(w) for w in (*last[:-1], last[-1] + ")", "/", *words[:keep]))
    return " ".join([*map(html.escape, lead), glued, *map(html.escape, words[keep:])])


def _choice(name: str, labels: Mapping[str, str], tip: str) -> QComboBox:
    """A combo box named ``name`` offering ``labels``' texts, each carrying its key as data."""
    combo = QComboBox()
    combo.setObjectName(name)
    for value, label in labels.items():
        combo.addItem(label, value)
    combo.setToolTip(tip)
    return combo


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    s.setAccelerated(True)
    return s


class PairEditor(QWidget):
    """Two spin boxes (height, width) with a link toggle for square settings."""

    def __init__(self, lo: int, hi: int, tip: str, name: str) -> None:
        super().__init__()
        self.h = _spin(lo, hi, f"{tip} (height / rows)")
        self.w = _spin(lo, hi, f"{tip} (width / columns)")
        self.h.setObjectName(f"{name}_h")
        self.w.setObjectName(f"{name}_w")
        self.link = QToolButton()
        self.link.setText("=")
        self.link.setCheckable(True)
        self.link.setChecked(True)
        self.link.setToolTip("Linked (=): height and width change together; click to set them apart")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.h)
        lay.addWidget(QLabel("×"))
        lay.addWidget(self.w)
        lay.addWidget(self.link)

    def value(self) -> tuple[int, int]:
        """``(h, w)``."""
        return (self.h.value(), self.w.value())

    def set_value(self, v: tuple[int, int]) -> None:
        """Show ``v`` without emitting."""
        with signals_blocked(self.h, self.w):
            show_value(self.h, v[0])
            show_value(self.w, v[1])
        self.link.setChecked(v[0] == v[1] and self.link.isChecked())


class ControlPanel(QWidget):
    """Every parameter of the scenario, and the message line for refused input."""

    def __init__(self, model: Lesson, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        outer = QVBoxLayout(self)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(_ERROR_STYLE)
        self.error.setVisible(False)
        outer.addWidget(self.error)
        # Shown while a big change is worked out in the background; the picture stays meanwhile.
        self.busy = QWidget()
        self.busy.setObjectName("busy")
        busy_row = QHBoxLayout(self.busy)
        busy_row.setContentsMargins(0, 0, 0, 0)
        self.busy_label = QLabel(_COMPUTING)
        self.busy_label.setWordWrap(True)
        self.busy_label.setStyleSheet("color: #0b3d66;")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the change being computed and keep the picture on screen")
        busy_row.addWidget(self.busy_label, 1)
        busy_row.addWidget(self.cancel)
        keep = self.busy.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # showing it moves nothing: the stage is not laid out again
        self.busy.setSizePolicy(keep)
        self.busy.setVisible(False)
        outer.addWidget(self.busy)
        self.formula = QLabel("")
        self.formula.setObjectName("formula")
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula.setToolTip("Output size per axis: the general formula and the current numbers")
        self.formula.setMinimumWidth(10)
        outer.addWidget(self.formula)

        op_box = QGroupBox("Operation")
        f = QFormLayout(op_box)
        self.op = QComboBox()
        self.op.setObjectName("op")
        for op in OPS:
            self.op.addItem(OP_LABELS[op], op)
        self.op.setToolTip("The operation to animate")
        f.addRow("Operation", self.op)
        self.activation = QComboBox()
        self.activation.setObjectName("activation")
        self.activation.addItems(list(ACTIVATIONS))
        self.activation.setToolTip(
            "An activation after the convolution, shown as its own step; in the backward pass "
            "its derivative multiplies dL/dY"
        )
        f.addRow("Activation", self.activation)
        self.mode = QComboBox()
        self.mode.setObjectName("mode")
        for m in MODES:
            self.mode.addItem(MODE_LABELS[m], m)
        self.mode.setToolTip("Forward pass, backward pass (gradients), or one after the other")
        f.addRow("Pass", self.mode)
        self.upstream = QComboBox()
        self.upstream.setObjectName("upstream")
        for u in UPSTREAMS:
            self.upstream.addItem(UPSTREAM_LABELS[u], u)
        self.upstream.setToolTip(
            "The gradient arriving at the output, dL/dY: all ones (L = sum of outputs), random, "
            "from the loss ½Σ(Y−T)² against a target T, or typed (double-click a dL/dY cell)"
        )
        f.addRow("dL/dY", self.upstream)
        self.gather = QCheckBox("Gather view (transposed convolution)")
        self.gather.setObjectName("gather")
        self.gather.setToolTip(
            "Compute dL/dX by sliding the flipped kernel over dL/dY with zeros inserted: "
            "the same numbers as scattering, the link to transposed convolution"
        )
        f.addRow(self.gather)
        self.check = QPushButton("Check gradient")
        self.check.setObjectName("check")
        self.check.setToolTip(
            "Compare the analytic gradient of the selected cell (click an input or kernel cell) "
            "with a centred finite difference of the forward pass (Ctrl+G)"
        )
        f.addRow(self.check)
        self.check_result = QLabel("")
        self.check_result.setObjectName("check_result")
        self.check_result.setWordWrap(True)
        self.check_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Beside "Checking the gradient…" while a big check is worked out in the background.
        self.check_cancel = QPushButton("Cancel")
        self.check_cancel.setObjectName("check_cancel")
        self.check_cancel.setToolTip("Stop the gradient check being computed")
        self.check_cancel.setVisible(False)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_result, 1)
        check_row.addWidget(self.check_cancel)
        f.addRow(check_row)
        outer.addWidget(op_box)

        shape_box = QGroupBox("Shapes")
        f = QFormLayout(shape_box)
        self.input_size = PairEditor(*BOUNDS["in_h"], "Input size", "input")
        self.in_c = _spin(*BOUNDS["in_c"], "Input channels (1 gray, 3 RGB; more for feature maps)")
        self.in_c.setObjectName("in_c")
        self.kernel_size = PairEditor(*BOUNDS["k_h"], "Kernel / window size", "kernel")
        lo, hi = BOUNDS["out_c"]
        self.out_c = _spin(lo, hi, f"Output channels: the number of kernels ({lo}-{hi})")
        self.out_c.setObjectName("out_c")
        self._channel_tips = (self.in_c.toolTip(), self.out_c.toolTip())  # the matrix picture adds its bound
        f.addRow("Input H × W", self.input_size)
        f.addRow("Input channels", self.in_c)
        f.addRow("Kernel h × w", self.kernel_size)
        f.addRow("Kernels (out channels)", self.out_c)
        lo, hi = BOUNDS["groups"]
        self.groups = _spin(lo, hi, "Groups: split the channels; each kernel sees only its group's input "
                                    "channels (groups = input channels: depthwise)")
        self.groups.setObjectName("groups")
        f.addRow("Groups", self.groups)
        outer.addWidget(shape_box)

        slide_box = QGroupBox("Sliding")
        f = QFormLayout(slide_box)
        self.stride = PairEditor(*BOUNDS["stride"], "Stride: how far the window moves per step", "stride")
        self.dilation = PairEditor(*BOUNDS["dilation"], "Dilation: spacing between kernel taps (1 = no gaps)",
                                   "dilation")
        self.pad_kind = QComboBox()
        self.pad_kind.setObjectName("pad_kind")
        self.pad_kind.addItems(list(PAD_KINDS))
        self.pad_kind.setToolTip(
            "symmetric: same on both sides; asymmetric: top/bottom/left/right; "
            "valid: none; same: output as large as the input (stride 1)"
        )
        self.pad = [_spin(*BOUNDS["padding"], f"Padding {s}") for s in ("top", "bottom", "left", "right")]
        for s, name in zip(self.pad, ("pad_top", "pad_bottom", "pad_left", "pad_right"), strict=True):
            s.setObjectName(name)
        pad_row = QWidget()
        pl = QHBoxLayout(pad_row)
        pl.setContentsMargins(0, 0, 0, 0)
        for s in self.pad:
            pl.addWidget(s)
        self.padding_mode = QComboBox()
        self.padding_mode.setObjectName("padding_mode")
        self.padding_mode.addItems(list(PADDING_MODES))
        self.padding_mode.setToolTip(
            "What the padding holds: zeros, a mirror image, the edge, or a wrap-around"
        )
        f.addRow("Stride", self.stride)
        f.addRow("Dilation", self.dilation)
        f.addRow("Padding", self.pad_kind)
        self.pad_label = QLabel("top, bottom, left, right")
        f.addRow(self.pad_label, pad_row)
        f.addRow("Padding mode", self.padding_mode)
        self.output_padding = PairEditor(
            *BOUNDS["output_padding"],
            "Transposed convolution: extra rows/columns on the bottom/right (less than the stride or "
            "the dilation)", "output_padding")
        f.addRow("Output padding", self.output_padding)
        self.transpose_view = _choice(
            "transpose_view", TRANSPOSE_VIEW_LABELS,
            "Transposed convolution pictured as a stride-1 convolution over the input spread with zeros "
            "(gather), or as each input cell stamping its value times the kernel onto the output (scatter)")
        f.addRow("Picture", self.transpose_view)
        self.drawn_as = _choice(
            "drawn_as", DRAWN_AS_LABELS,
            "Convolution drawn as the kernel sliding over the input grid, or as the matrix C of y = C·x: "
            "the input unrolled into a vector, one row of C per kernel placement (backward: dX = Cᵀ·dY)")
        f.addRow("Drawn as", self.drawn_as)
        outer.addWidget(slide_box)

        opt_box = QGroupBox("Options")
        f = QFormLayout(opt_box)
        self.bias = QCheckBox("Add a bias")
        self.bias.setObjectName("bias")
        self.bias.setToolTip("Add one learnable bias per output channel")
        self.flip = QCheckBox("True convolution (flip the kernel)")
        self.flip.setObjectName("flip")
        self.flip.setToolTip(
            "Deep-learning 'convolution' is cross-correlation; tick to flip the kernel "
            "and get the mathematical convolution"
        )
        self.ceil = QCheckBox("ceil_mode")
        self.ceil.setObjectName("ceil")
        self.ceil.setToolTip("Pooling: round the output size up (the last window may hang over the edge)")
        self.cip = QCheckBox("count_include_pad")
        self.cip.setObjectName("cip")
        self.cip.setToolTip("Average pooling: count padding cells in the divisor")
        self.integers = QComboBox()
        self.integers.setObjectName("integers")
        for integers, label in VALUE_KIND_LABELS.items():
            self.integers.addItem(label, integers)
        self.integers.setToolTip("Random values as small integers or as decimals")
        self.preset = QComboBox()
        self.preset.setObjectName("preset")
        self.preset.addItems(list(KERNEL_PRESETS))
        self.preset.setToolTip("Kernel values: random or a classic filter")
        self.new_values = QPushButton("New values")
        self.new_values.setObjectName("new_values")
        self.new_values.setToolTip("Draw new random values (Ctrl+R); double-click a cell to edit it")
        for w in (self.bias, self.flip, self.ceil, self.cip):
            f.addRow(w)
        f.addRow("Values", self.integers)
        f.addRow("Kernel preset", self.preset)
        f.addRow(self.new_values)
        outer.addWidget(opt_box)

        outer.addStretch(1)
        # A long choice ("gather: a stride-1 convolution over …") must not widen the panel past its
        # scroll area: combos size to a short text and show the whole one when open (and as a tip).
        for combo in self.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)

        self.refresh()

    # ------------------------------------------------------------------ model -> widgets
    def refresh(self) -> None:
        """Show the model's parameters (signals blocked: nothing echoes back)."""
        p = self.model.params
        widgets = [self.op, self.activation, self.mode, self.upstream, self.gather, self.in_c, self.out_c,
                   self.pad_kind, self.padding_mode, self.bias, self.flip, self.ceil, self.cip, self.integers,
                   self.preset, self.transpose_view, self.drawn_as, self.groups, *self.pad]
        with signals_blocked(*widgets):
            self.op.setCurrentIndex(OPS.index(p.op))
            self.transpose_view.setCurrentIndex(TRANSPOSE_VIEWS.index(p.transpose_view))
            self.drawn_as.setCurrentIndex(DRAWN_AS.index(p.drawn_as))
            self.mode.setCurrentIndex(MODES.index(p.mode))
            self.activation.setCurrentText(p.activation)
            self.upstream.setCurrentIndex(UPSTREAMS.index(p.upstream))
            self.gather.setChecked(p.grad_view == "gather")
            show_value(self.in_c, p.in_c)
            show_value(self.out_c, p.out_c)
            show_value(self.groups, p.groups)
            self.pad_kind.setCurrentText(p.pad_kind)
            self.padding_mode.setCurrentText(p.padding_mode)
            self.bias.setChecked(p.bias)
            self.flip.setChecked(p.flip_kernel)
            self.ceil.setChecked(p.ceil_mode)
            self.cip.setChecked(p.count_include_pad)
            self.integers.setCurrentIndex(0 if p.integers else 1)
            self.preset.setCurrentText(p.preset)
            g = self.model.trace.geometry
            shown = (g.rows.before, g.rows.after, g.cols.before, g.cols.after)
            if p.is_transpose:  # its own padding p, not the gather picture's d·(k − 1) − p
                ph, pw = transposed_padding(p)
                shown = (ph, ph, pw, pw)
            for s, v in zip(self.pad, shown, strict=True):
                show_value(s, v)
        self.input_size.set_value((p.in_h, p.in_w))
        self.kernel_size.set_value((p.k_h, p.k_w))
        self.stride.set_value(p.stride)
        self.dilation.set_value(p.dilation)
        self.output_padding.set_value(p.output_padding)
        self.output_padding.setEnabled(p.is_transpose)
        self.transpose_view.setEnabled(p.is_transpose)
        self.drawn_as.setEnabled(p.is_conv)
        conv = p.is_conv
        backward = p.mode != "forward"
        self.upstream.setEnabled(backward)
        self.gather.setEnabled(backward and conv)
        self.check.setEnabled(backward)
        self.out_c.setEnabled(conv)
        self.groups.setEnabled(p.is_conv)
        self.activation.setEnabled(conv)
        self.bias.setEnabled(conv)
        self.flip.setEnabled(conv and not p.is_transpose and not p.is_1d)
        self.padding_mode.setEnabled(conv and not p.is_transpose)
        self.preset.setEnabled(conv)
        self.ceil.setEnabled(not conv)
        self.cip.setEnabled(p.op == "avg")
        for w in (self.kernel_size, self.stride, self.dilation, self.pad_kind, self.ceil):
            w.setEnabled(w.isEnabled() and not p.is_global)  # global pooling: the window is the map
        editable = p.pad_kind in ("symmetric", "asymmetric")
        for k, s in enumerate(self.pad):
            s.setEnabled(editable and not p.is_global and (p.pad_kind == "asymmetric" or k in (0, 2))
                         and not (p.is_1d and k < 2))  # a 1-D convolution pads the length only
        for pair in (self.input_size, self.kernel_size, self.stride, self.dilation):
            pair.h.setEnabled(not p.is_1d)  # a 1-D convolution has height 1
            pair.link.setEnabled(not p.is_1d)
        kinds = self.pad_kind.model()
        for kind, on in (("same", conv), ("causal", p.is_1d)):
            item = kinds.item(PAD_KINDS.index(kind))  # type: ignore[attr-defined]
            if item.isEnabled() != on:  # setting it again still repaints the combo and the panel
                item.setEnabled(on)
        room = channel_room(p, self.model.trace.out_shape[1:])
        for spin, base, more in zip((self.in_c, self.out_c), self._channel_tips, room, strict=True):
            spin.setToolTip(base + more)
        self.formula.setText(self._formula_html())

    def _formula_html(self) -> str:
        f = self.model.frame()
        rows = "".join(
            f"<p style='margin:4px 0'><b>{_whole_tail(gen)}</b><br>&nbsp;&nbsp;= {_whole_tail(filled)}</p>"
            for gen, filled in f.formulas
        )
        extra = ""
        if len(f.unreached_rows) or len(f.unreached_cols):
            parts = []
            if len(f.unreached_rows):
                parts.append("rows " + ", ".join(str(int(r)) for r in f.unreached_rows))
            if len(f.unreached_cols):
                parts.append("columns " + ", ".join(str(int(c)) for c in f.unreached_cols))
            extra += (f"<p style='color:#b00000'>Never reached by a window (hatched): "
                      f"{'; '.join(parts)}</p>")
        if f.parameter_line:
            label, _, rest = f.parameter_line.partition(": ")
            expr, _, total = rest.rpartition(" = ")
            extra += f"<p><b>{label}</b>: {expr} = <b>{total}</b></p>"
        return rows + extra

    def show_error(self, message: str) -> None:
        """Show a refused change's reason next to the controls (empty: hide)."""
        self.show_message(f"Not applied: {message}" if message else "", error=True)

    def show_busy(self, on: bool, what: str = "") -> None:
        """Show (or hide) that a change is being computed (or ``what`` is being done), with its Cancel."""
        self.busy_label.setText(what or _COMPUTING)
        self.busy.setVisible(on)

    def show_message(self, message: str, *, error: bool = True) -> None:
        """A message next to the controls: red for a problem, blue for information; empty hides it."""
        self.error.setText(message)
        self.error.setStyleSheet(_ERROR_STYLE if error else _INFO_STYLE)
        self.error.setVisible(bool(message))


class PlaybackBar(QWidget):
    """Transport buttons, the timeline slider, speed and granularity (wired by ``LessonController``)."""

    def __init__(self, model: Lesson, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        lay = QHBoxLayout(self)
        sp = QStyle.StandardPixmap
        self.first = self._button(sp.SP_MediaSkipBackward, "First step (Home)")
        self.back = self._button(sp.SP_MediaSeekBackward, "Step back (Left)")
        self.play = self._button(sp.SP_MediaPlay, "Play / pause (Space)")
        self.fwd = self._button(sp.SP_MediaSeekForward, "Step forward (Right)")
        self.last = self._button(sp.SP_MediaSkipForward, "Last step (End)")
        for b in (self.first, self.back, self.play, self.fwd, self.last):
            lay.addWidget(b)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timeline")
        self.slider.setToolTip("Timeline: drag to any step")
        lay.addWidget(self.slider, 1)
        self.label = QLabel()
        self.label.setMinimumWidth(110)
        lay.addWidget(self.label)
        self.speed = QDoubleSpinBox()
        self.speed.setObjectName("speed")
        self.speed.setRange(MIN_SPEED, MAX_SPEED)
        self.speed.setDecimals(2)
        self.speed.setSuffix(" steps/s")
        self.speed.setSingleStep(0.25)
        self.speed.setToolTip(f"Playback speed, {MIN_SPEED:g}-{MAX_SPEED:g} steps per second (+ / -)")
        self.speed.setValue(DEFAULT_SPEED)
        lay.addWidget(self.speed)
        self.granularity = QComboBox()
        self.granularity.setObjectName("granularity")
        for g in GRANULARITIES:
            self.granularity.addItem(GRANULARITY_LABELS[g], g)
        self.granularity.setToolTip("Convolution: one step per output cell, or per multiply-add")
        lay.addWidget(self.granularity)
        self.refresh()

    def show_playing(self, on: bool) -> None:
        """Show the play button as pause while playing."""
        icon = QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(self.style().standardIcon(icon))

    def _button(self, icon: QStyle.StandardPixmap, tip: str) -> QPushButton:
        b = QPushButton()
        b.setIcon(self.style().standardIcon(icon))
        b.setToolTip(tip)
        b.setFixedWidth(44)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    def refresh(self) -> None:
        """Show the model's step count, position and granularity."""
        p = self.model.params
        with signals_blocked(self.slider, self.granularity):
            self.slider.setRange(0, self.model.n_steps - 1)
            self.slider.setValue(self.model.step)
            self.granularity.setCurrentIndex(GRANULARITIES.index(p.granularity))
        self.granularity.setEnabled(p.is_conv and p.mode == "forward")
        self.granularity.setToolTip(
            "Convolution: one step per output cell, or per multiply-add"
            + ("" if p.mode == "forward" else " (the forward pass only)")
        )
        self._label()

    def show_step(self, k: int) -> None:
        """Move the timeline to step ``k`` (signals blocked)."""
        with signals_blocked(self.slider):
            self.slider.setValue(k)
        self._label()

    def show_speed(self, v: float) -> None:
        """Show speed ``v`` (signals blocked)."""
        with signals_blocked(self.speed):
            self.speed.setValue(v)

    def _label(self) -> None:
        self.label.setText(f"step {self.model.step + 1} / {self.model.n_steps}")
