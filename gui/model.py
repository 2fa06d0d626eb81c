"""The scenario state: parameters, values and the step position, with no widgets.

``SceneModel`` owns the engine trace. Every change goes through a setter that
asks the engine first; a combination the engine rejects leaves the previous
state untouched and is reported through ``error`` in the engine's own words.
Views read ``frame()``, a plain snapshot of everything one picture shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

import engine
from engine import activations, backprop, describe, kernels

OPS: tuple[str, ...] = ("conv", "max", "min", "avg")
OP_LABELS: dict[str, str] = {
    "conv": "Convolution", "max": "Max pooling", "min": "Min pooling", "avg": "Average pooling",
}
PAD_KINDS: tuple[str, ...] = ("symmetric", "asymmetric", "valid", "same")
PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")
MODES: tuple[str, ...] = ("forward", "backward", "both")
MODE_LABELS: dict[str, str] = {
    "forward": "Forward", "backward": "Backward", "both": "Forward, then backward",
}
UPSTREAMS: tuple[str, ...] = ("ones", "random", "loss", "custom")
UPSTREAM_LABELS: dict[str, str] = {
    "ones": "all ones (L = ΣY)", "random": "random", "loss": "loss ½Σ(Y−T)²", "custom": "typed",
}
GRAD_VIEWS: tuple[str, ...] = ("scatter", "gather")
#: Largest input side that still shows numbers in its cells.
MAX_VALUE_GRID = 64
#: What the window can show: sides, channels, kernel sides, and steps on a timeline.
LIMITS: dict[str, tuple[int, int]] = {
    "in_h": (1, 512), "in_w": (1, 512), "in_c": (1, 16), "out_c": (1, 16), "k_h": (1, 15), "k_w": (1, 15),
}
MAX_STEPS = 2**31 - 1


@dataclass(frozen=True)
class Params:
    """Every setting of a scenario except the values themselves.

    ``padding`` is ``(top, bottom, left, right)``; with ``pad_kind ==
    "symmetric"`` only top and left are used (bottom = top, right = left).
    """

    op: str = "conv"
    in_h: int = 5
    in_w: int = 5
    in_c: int = 1
    k_h: int = 3
    k_w: int = 3
    out_c: int = 1
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    pad_kind: str = "symmetric"
    padding: tuple[int, int, int, int] = (1, 1, 1, 1)
    padding_mode: str = "zeros"
    bias: bool = False
    ceil_mode: bool = False
    count_include_pad: bool = True
    flip_kernel: bool = False
    granularity: str = "window"
    integers: bool = True
    seed: int = 0
    preset: str = "random"
    mode: str = "forward"
    upstream: str = "ones"
    grad_view: str = "scatter"
    activation: str = "none"
    picture: bool = False  # the input came from a picture: drawn in grey

    @property
    def has_activation(self) -> bool:
        """True when an activation follows the convolution (pooling takes none)."""
        return self.is_conv and self.activation != "none"

    @property
    def is_conv(self) -> bool:
        """True for convolution, False for the pooling operations."""
        return self.op == "conv"

    def engine_padding(self) -> object:
        """Padding in the engine's accepted forms."""
        t, b, left, r = self.padding
        if self.pad_kind in ("valid", "same"):
            return self.pad_kind
        if self.pad_kind == "symmetric":
            return (t, left)
        return ((t, b), (left, r))


@dataclass(frozen=True, eq=False)
class Frame:
    """Everything one picture shows, for the renderer (plain data, no Qt).

    Attributes
    ----------
    params : Params
    step_index, n_steps : int
    step : engine.ConvStep or engine.PoolStep
    x_padded : ndarray, shape (C_in, Hp, Wp)
        Input with padding (and ceil-mode overhang) in the values drawn.
    kinds : ndarray of int8, shape (Hp, Wp)
        0 real, 1 padding, 2 overhang.
    kernel : ndarray, shape (C_out, C_in, kh, kw) or None
        The kernel as applied (flipped when ``flip_kernel``); None for pooling.
    kernel_given : ndarray or None
        The kernel as the user entered it.
    output : ndarray, shape (C_out, H_out, W_out)
        NaN where not computed yet.
    levels : dict of str to (float, float)
        Fixed colour levels of "input", "kernel" and "output".
    arithmetic : str
    caption : str
    formulas : list of (str, str)
    unreached_rows, unreached_cols : ndarray of int
        Input rows/columns (unpadded indices) no window reaches.
    offset : (int, int)
        Padded coordinate of input cell (0, 0): ``(top, left)``.
    show_values : bool
    param_count : int or None
    phase : {"forward", "backward", "gather"}
    titles : dict of str to str
        Panel titles that replace the defaults (the gather view).
    diverging : frozenset of str
        Panels drawn with the diverging map centred on zero.
    grads : engine.Gradients or None
        Backward: the gradients accumulated so far.
    dy : ndarray, shape (C_out, H_out, W_out) or None
        Backward: the upstream gradient dL/dY.
    dz : ndarray or None
        Backward: what enters the convolution, ``dy·f'(Z)`` (``dy`` with no activation).
    dx_shown : ndarray, shape (C_in, Hp, Wp) or None
        Backward: dL/dX as drawn (real cells folded, see ``SceneModel._dx_shown``).
    y_full : ndarray or None
        Backward: the full forward output.
    loss : float or None
    output_full : ndarray or None
        The finished output (the same array for every step of a scenario).
    done : int
        Output cells already written, in channel-major raster order: the
        renderer shows ``output_full`` for those and empty cells after.
    changed : ndarray of bool or None
        The activation step: output cells the activation changed (zeroed by ReLU).
    """

    params: Params
    step_index: int
    n_steps: int
    step: Any
    x_padded: np.ndarray
    kinds: np.ndarray
    kernel: np.ndarray | None
    kernel_given: np.ndarray | None
    output: np.ndarray
    levels: dict[str, tuple[float, float]]
    arithmetic: str
    caption: str
    formulas: list[tuple[str, str]]
    unreached_rows: np.ndarray
    unreached_cols: np.ndarray
    offset: tuple[int, int]
    show_values: bool
    param_count: int | None = None
    phase: str = "forward"
    titles: dict[str, str] = field(default_factory=dict)
    diverging: frozenset[str] = frozenset()
    grads: Any = None
    dy: np.ndarray | None = None
    y_full: np.ndarray | None = None
    loss: float | None = None
    output_full: np.ndarray | None = None
    done: int = 0
    changed: np.ndarray | None = None
    dz: np.ndarray | None = None
    dx_shown: np.ndarray | None = None


def _levels(a: np.ndarray, *, symmetric: bool = False) -> tuple[float, float]:
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return (0.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    if symmetric:
        m = max(abs(lo), abs(hi), 1e-12)
        return (-m, m)
    if hi - lo < 1e-12:
        return (lo - 1.0, hi + 1.0)
    return (lo, hi)


@dataclass(eq=False)
class Run:
    """The engine's answer for one scenario: forward trace and, in backward modes, the rest.

    Attributes
    ----------
    fwd : engine.ConvTrace or engine.PoolTrace
    bwd : engine.ConvBackwardTrace or engine.PoolBackwardTrace or None
    dy : ndarray, shape (C_out, H_out, W_out) or None
    loss : float or None
    gather : backprop.GatherView or None
        Convolution in backward modes: the transposed-convolution route.
    y : ndarray
        The layer's output after the activation (``fwd.output`` when none).
    dz : ndarray or None
        ``dy · f'(Z)``: the gradient that enters the convolution (``dy`` when
        there is no activation).
    """

    fwd: Any
    bwd: Any = None
    dy: np.ndarray | None = None
    loss: float | None = None
    gather: Any = None
    y: Any = None
    dz: np.ndarray | None = None
    _final: Any = None

    def final(self) -> Any:
        """The backward trace's gradients after its last step (computed once), or None."""
        if self._final is None and self.bwd is not None:
            self._final = self.bwd.partial(len(self.bwd) - 1)
        return self._final


class SceneModel(QObject):
    """The state of one scenario; emits when it changes.

    Signals
    -------
    changed()
        Parameters or values changed: the traces were rebuilt.
    step_changed(int)
        The step position moved.
    error(str)
        A requested change was refused; the message is plain words. An empty
        string means the last error is cleared.
    """

    changed = Signal()
    step_changed = Signal(int)
    error = Signal(str)

    def __init__(self, params: Params | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        p = params or Params()
        self._params = p
        self._x = self._new_input(p)
        self._w = self._new_kernel(p)
        self._b = self._new_bias(p)
        self._dy_custom: np.ndarray | None = None
        self._target: np.ndarray | None = None
        self._run = self._build(p, self._x, self._w, self._b)
        self._step = 0
        self._frame_cache: tuple[int, Frame] | None = None
        self._scenario_cache: dict[str, Any] | None = None
        self.last_error = ""

    # ------------------------------------------------------------------ read access
    @property
    def params(self) -> Params:
        """The current (valid) parameters."""
        return self._params

    @property
    def trace(self) -> engine.ConvTrace | engine.PoolTrace:
        """The forward trace of the current scenario."""
        return self._run.fwd

    @property
    def run(self) -> Run:
        """Forward and backward traces, upstream gradient and loss."""
        return self._run

    @property
    def x(self) -> np.ndarray:
        """Input values, shape (C_in, H, W) (read-only view)."""
        v = self._x.view()
        v.flags.writeable = False
        return v

    @property
    def w(self) -> np.ndarray:
        """Kernel values as entered, shape (C_out, C_in, kh, kw) (read-only view)."""
        v = self._w.view()
        v.flags.writeable = False
        return v

    @property
    def bias_values(self) -> np.ndarray:
        """Bias per output channel, shape (C_out,)."""
        return self._b.copy()

    @property
    def target(self) -> np.ndarray | None:
        """The loss target ``T`` (shape of the output) in "loss" mode, else None."""
        return None if self._target is None else self._target.copy()

    @property
    def step(self) -> int:
        """Index of the step shown, ``0 <= step < n_steps``."""
        return self._step

    @property
    def n_forward(self) -> int:
        """Forward steps in the current sequence (0 in backward mode)."""
        return self._count(self._params, self._run)[0]

    @property
    def n_steps(self) -> int:
        """Number of steps in the current sequence."""
        return sum(self._count(self._params, self._run))

    @staticmethod
    def _count(p: Params, r: Run) -> tuple[int, int]:
        """(forward steps, backward steps) of a sequence."""
        forward = 0 if p.mode == "backward" else len(r.fwd) + int(p.has_activation)
        backward = 0 if p.mode == "forward" else len(SceneModel._backward_of(p, r))
        return forward, backward

    @staticmethod
    def _backward_of(p: Params, r: Run) -> Any:
        return r.gather.trace if p.grad_view == "gather" and r.gather is not None else r.bwd

    # ------------------------------------------------------------------ building
    @staticmethod
    def _new_input(p: Params) -> np.ndarray:
        return kernels.random_values((p.in_c, p.in_h, p.in_w), p.seed, integers=p.integers)

    @staticmethod
    def _new_kernel(p: Params) -> np.ndarray:
        rng = np.random.default_rng(p.seed + 1)
        w = np.empty((p.out_c, p.in_c, p.k_h, p.k_w))
        for o in range(p.out_c):
            for c in range(p.in_c):
                w[o, c] = kernels.kernel_preset(p.preset, p.k_h, p.k_w, rng=rng, integers=p.integers)
        return w

    @staticmethod
    def _new_bias(p: Params) -> np.ndarray:
        rng = np.random.default_rng(p.seed + 2)
        if p.integers:
            return rng.integers(-2, 3, size=p.out_c).astype(float)
        return np.round(rng.uniform(-1, 1, size=p.out_c), 2)

    @staticmethod
    def _forward(p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Any:
        if p.op not in OPS:
            raise ValueError(f"unknown operation {p.op!r}")
        if p.is_conv:
            return engine.trace_conv2d(
                x, w, b if p.bias else None, stride=p.stride, padding=p.engine_padding(),
                dilation=p.dilation, padding_mode=p.padding_mode, flip_kernel=p.flip_kernel,
                granularity=p.granularity if p.mode == "forward" else "window",  # type: ignore[arg-type]
            )
        return engine.trace_pool2d(
            x, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=p.engine_padding(),
            dilation=p.dilation, ceil_mode=p.ceil_mode, count_include_pad=p.count_include_pad,
        )

    def _upstream(self, p: Params, y: np.ndarray) -> tuple[np.ndarray, float | None]:
        """The upstream gradient for output ``y`` and, in loss mode, the loss."""
        if p.upstream not in UPSTREAMS:
            raise ValueError(f"unknown upstream gradient {p.upstream!r}")
        if p.upstream == "loss":
            if self._target is None or self._target.shape != y.shape:
                self._target = kernels.random_values(y.shape, p.seed + 3, integers=p.integers)
                if p.integers:
                    self._target = np.round(self._target * np.abs(y).max() / 9.0)
            loss, dy = backprop.squared_error_loss(y, self._target)
            return dy, loss
        if p.upstream == "custom" and self._dy_custom is not None and self._dy_custom.shape == y.shape:
            return self._dy_custom.copy(), None
        if p.upstream == "random":
            rng = np.random.default_rng(p.seed + 4)
            if p.integers:
                return rng.integers(-2, 3, size=y.shape).astype(float), None
            return np.round(rng.uniform(-1, 1, size=y.shape), 2), None
        return np.ones(y.shape), None

    def _build(self, p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Run:
        fwd = self._forward(p, x, w, b)
        z = np.asarray(fwd.output)
        if p.activation not in activations.ACTIVATIONS:
            raise ValueError(f"unknown activation {p.activation!r}")
        y = activations.activate(p.activation, z) if p.has_activation else z
        if p.mode == "forward":
            return Run(fwd, y=y)
        if p.mode not in MODES:
            raise ValueError(f"unknown mode {p.mode!r}")
        dy, loss = self._upstream(p, y)
        dz = dy * activations.activation_grad(p.activation, z) if p.has_activation else dy
        if p.is_conv:
            bwd = engine.ConvBackwardTrace(fwd.setup, dz)
            gather = backprop.gather_input_grad(fwd.setup, dz)
        else:
            bwd = engine.PoolBackwardTrace(fwd.setup, dz)
            gather = None
        return Run(fwd, bwd, dy, loss, gather, y, dz)

    def _apply(self, p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> bool:
        """Try a new state; on success emit ``changed``, on failure ``error`` and keep the old."""
        saved = (self._target, self._dy_custom)
        try:
            for name, (lo, hi) in LIMITS.items():
                v = getattr(p, name)
                if not lo <= v <= hi:
                    raise ValueError(f"{name.replace('_', ' ')} must be from {lo} to {hi} here, got {v}")
            run = self._build(p, x, w, b)
            n = sum(self._count(p, run))
            if n > MAX_STEPS:
                raise ValueError(f"that makes {n:,} steps, more than a timeline can hold; use per-window "
                                 "steps or a smaller input")
        except (ValueError, TypeError) as exc:
            self._target, self._dy_custom = saved
            self.last_error = str(exc)
            self.error.emit(self.last_error)
            return False
        if p.upstream == "custom" and run.dy is not None and (
            self._dy_custom is None or self._dy_custom.shape != run.dy.shape
        ):
            p = replace(p, upstream="ones")  # the typed values no longer fit: say what is used
        old_step = self._step
        self._params, self._x, self._w, self._b, self._run = p, x, w, b, run
        self._step = min(old_step, self.n_steps - 1)
        self._frame_cache = None
        self._scenario_cache = None
        if self.last_error:
            self.last_error = ""
            self.error.emit("")
        self.changed.emit()
        if self._step != old_step:
            self.step_changed.emit(self._step)
        return True

    # ------------------------------------------------------------------ setters
    def set_params(self, **changes: Any) -> bool:
        """Change some parameters; values follow where their shape changed.

        Returns
        -------
        bool
            False when the engine refused the combination (``error`` emitted,
            state unchanged).
        """
        old = self._params
        try:
            p = replace(old, **changes)
        except TypeError as exc:
            self.last_error = str(exc)
            self.error.emit(self.last_error)
            return False
        x, w, b = self._x, self._w, self._b
        try:
            if (p.in_c, p.in_h, p.in_w, p.integers, p.seed) != (old.in_c, old.in_h, old.in_w,
                                                                 old.integers, old.seed):
                x = self._new_input(p)
            if (p.out_c, p.in_c, p.k_h, p.k_w, p.preset, p.integers, p.seed) != (
                old.out_c, old.in_c, old.k_h, old.k_w, old.preset, old.integers, old.seed
            ):
                w = self._new_kernel(p)
            if (p.out_c, p.integers, p.seed) != (old.out_c, old.integers, old.seed):
                b = self._new_bias(p)
        except ValueError as exc:
            self.last_error = str(exc)
            self.error.emit(self.last_error)
            return False
        old_target = self._target
        if (p.seed, p.integers) != (old.seed, old.integers):
            self._target = None  # new values: a new target to go with them
        if p.picture and x is not self._x:  # random values replaced the picture
            p = replace(p, picture=False)
        if not self._apply(p, x, w, b):
            self._target = old_target
            return False
        return True

    def load(self, params: Params, *, x: np.ndarray | None = None, w: np.ndarray | None = None,
             bias: np.ndarray | None = None, upstream: np.ndarray | None = None,
             target: np.ndarray | None = None, step: int = 0) -> bool:
        """Replace the whole scenario at once; values not given are drawn from ``params.seed``.

        Parameters
        ----------
        params : Params
        x : ndarray, shape (in_c, in_h, in_w), optional
        w : ndarray, shape (out_c, in_c, k_h, k_w), optional
        bias : ndarray, shape (out_c,), optional
        upstream : ndarray, shape of the output, optional
            Used when ``params.upstream == "custom"``.
        target : ndarray, shape of the output, optional
            The loss target (``params.upstream == "loss"``).
        step : int
            Clamped to the new sequence.

        Returns
        -------
        bool
            False (with ``error`` emitted, nothing changed) when the engine or a
            shape check refuses it.
        """
        try:
            xa = self._new_input(params) if x is None else np.array(x, dtype=float)
            wa = self._new_kernel(params) if w is None else np.array(w, dtype=float)
            ba = self._new_bias(params) if bias is None else np.array(bias, dtype=float)
            for name, a, shape in (
                ("input", xa, (params.in_c, params.in_h, params.in_w)),
                ("kernel", wa, (params.out_c, params.in_c, params.k_h, params.k_w)),
                ("bias", ba, (params.out_c,)),
            ):
                if a.shape != shape:
                    raise ValueError(f"{name} values have shape {a.shape} but the settings need {shape}")
        except (ValueError, TypeError) as exc:
            self.last_error = str(exc)
            self.error.emit(self.last_error)
            return False
        saved = (self._target, self._dy_custom)
        self._target = None if target is None else np.array(target, dtype=float)
        self._dy_custom = None if upstream is None else np.array(upstream, dtype=float)
        old_step = self._step
        self._step = max(0, int(step))
        if not self._apply(params, xa, wa, ba):
            self._target, self._dy_custom = saved
            self._step = old_step
            return False
        return True

    def new_values(self) -> bool:
        """Draw new random input (and random kernel) values with the next seed."""
        return self.set_params(seed=self._params.seed + 1)

    def set_input_value(self, c: int, i: int, j: int, value: float) -> bool:
        """Edit one input cell ``(c, i, j)`` (unpadded coordinates)."""
        x = self._x.copy()
        x[c, i, j] = value
        return self._apply(self._params, x, self._w, self._b)

    def set_kernel_value(self, o: int, c: int, i: int, j: int, value: float) -> bool:
        """Edit one kernel weight ``w[o, c, i, j]`` (as entered, before any flip)."""
        w = self._w.copy()
        w[o, c, i, j] = value
        return self._apply(self._params, self._x, w, self._b)

    def set_bias_value(self, o: int, value: float) -> bool:
        """Edit the bias of output channel ``o``."""
        b = self._b.copy()
        b[o] = value
        return self._apply(self._params, self._x, self._w, b)

    def set_upstream_value(self, o: int, i: int, j: int, value: float) -> bool:
        """Type one cell of dL/dY; the upstream gradient becomes "custom"."""
        if self._run.dy is None:
            return False
        dy = self._run.dy.copy()
        dy[o, i, j] = value
        saved = self._dy_custom
        self._dy_custom = dy
        if not self._apply(replace(self._params, upstream="custom"), self._x, self._w, self._b):
            self._dy_custom = saved
            return False
        return True

    def set_target_value(self, o: int, i: int, j: int, value: float) -> bool:
        """Edit one cell of the loss target ``T`` (loss mode)."""
        if self._target is None:
            return False
        saved = self._target
        self._target = self._target.copy()
        self._target[o, i, j] = value
        if not self._apply(self._params, self._x, self._w, self._b):
            self._target = saved
            return False
        return True

    def set_step(self, k: int) -> None:
        """Move to step ``k`` (clamped to the sequence)."""
        k = max(0, min(int(k), self.n_steps - 1))
        if k != self._step:
            self._step = k
            self.step_changed.emit(k)

    # ------------------------------------------------------------------ gradient check
    def _loss_and_grad(self, wrt: str) -> tuple[Any, np.ndarray, np.ndarray]:
        """The loss as a function of ``x`` or ``w`` (as entered), its analytic gradient, and the point."""
        r, p = self._run, self._params
        if r.dy is None:
            raise ValueError("the gradient check needs the backward mode")
        target = self._target if p.upstream == "loss" else None
        if p.is_conv:
            of_x, of_w = backprop.conv_loss(r.fwd.setup, r.dy, target,
                                            activation=p.activation if p.has_activation else "none")
            gx, gw, _ = engine.conv2d_backward(
                self._x, self._w, r.dz, stride=p.stride, padding=p.engine_padding(),
                dilation=p.dilation, padding_mode=p.padding_mode, flip_kernel=p.flip_kernel,
            )
            if wrt == "w":
                def of_given(w: np.ndarray) -> float:
                    return of_w(w[:, :, ::-1, ::-1] if p.flip_kernel else w)

                return of_given, gw, self._w
            return of_x, gx, self._x
        if wrt != "x":
            raise ValueError("pooling has no weights: check an input cell")
        of_x = backprop.pool_loss(r.fwd.setup, r.dy, target)
        gx = engine.pool2d_backward(
            self._x, r.dy, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=p.engine_padding(),
            dilation=p.dilation, ceil_mode=p.ceil_mode, count_include_pad=p.count_include_pad,
        )
        return of_x, gx, self._x

    def check_gradient(self, wrt: str, index: tuple[int, ...], eps: float = 1e-6) -> tuple[float, float]:
        """Analytic gradient and its centred finite-difference estimate at one cell.

        Parameters
        ----------
        wrt : {"x", "w"}
            Input cell ``(c, i, j)`` or kernel weight ``(o, c, i, j)`` (as entered).
        index : tuple of int
        eps : float

        Returns
        -------
        (analytic, numeric) : tuple of float
        """
        f, grad, at = self._loss_and_grad(wrt)
        return float(grad[index]), backprop.numeric_gradient(f, at, index, eps)

    def one_sided_slopes(self, wrt: str, index: tuple[int, ...], eps: float = 1e-6) -> tuple[float, float]:
        """``(f(a) − f(a − ε)) / ε`` and ``(f(a + ε) − f(a)) / ε`` at one cell.

        They differ where the loss has a kink there (a tie in max pooling,
        ReLU at exactly 0): the centred difference then averages two slopes
        and the analytic gradient picks one of them, as PyTorch does.
        """
        f, _, at = self._loss_and_grad(wrt)
        base = np.array(at, dtype=float)
        lo, hi = base.copy(), base.copy()
        lo[index] -= eps
        hi[index] += eps
        f0 = float(f(base))
        return (f0 - float(f(lo))) / eps, (float(f(hi)) - f0) / eps

    # ------------------------------------------------------------------ snapshot
    def frame(self) -> Frame:
        """A snapshot of the current step for the renderer (cached per step)."""
        if self._frame_cache is not None and self._frame_cache[0] == self._step:
            return self._frame_cache[1]
        f = self._make_frame(self._step)
        self._frame_cache = (self._step, f)
        return f

    def _scenario(self) -> dict[str, Any]:
        """Parts of a frame that only change with the scenario (computed once per change)."""
        if self._scenario_cache is not None:
            return self._scenario_cache
        p, t = self._params, self._run.fwd
        g = t.geometry
        kinds = np.maximum(g.rows.kinds()[:, None], g.cols.kinds()[None, :]).astype(np.int8)
        xp = np.asarray(t.x_padded)
        if p.is_conv:
            kernel, given = np.asarray(t.setup.w), self._w.copy()
            count = engine.conv_param_count(p.in_c, p.out_c, p.k_h, p.k_w, p.bias)
            levels = {
                "input": _levels(xp),
                "kernel": _levels(kernel, symmetric=True),
                "output": _levels(np.asarray(t.output)),
            }
        else:
            kernel = given = None
            count = None
            real = xp[:, kinds == 0]
            levels = {"input": _levels(real), "kernel": (0.0, 1.0), "output": _levels(real)}
        r = self._run
        if r.bwd is not None:
            final = r.final()
            levels["dx"] = _levels(self._dx_shown(final), symmetric=True)
            levels["dy"] = _levels(r.dz if p.has_activation else r.dy, symmetric=True)
            if final.grad_w is not None:
                levels["dw"] = _levels(final.grad_w, symmetric=True)
        ceil = p.ceil_mode and not p.is_conv
        self._scenario_cache = {
            "kinds": kinds, "x_padded": xp, "kernel": kernel, "kernel_given": given,
            "param_count": count, "levels": levels,
            "formulas": [
                describe.output_size_formula(g.rows, "H", ceil_mode=ceil),
                describe.output_size_formula(g.cols, "W", ceil_mode=ceil),
            ],
            "unreached_rows": g.rows.unreached(), "unreached_cols": g.cols.unreached(),
            "offset": (g.rows.before, g.cols.before),
            "show_values": max(p.in_h, p.in_w) <= MAX_VALUE_GRID,
        }
        return self._scenario_cache

    def _make_frame(self, k: int) -> Frame:
        nf = self.n_forward
        if k >= nf:
            if self._params.grad_view == "gather" and self._run.gather is not None:
                return self._gather_frame(k - nf, k)
            return self._backward_frame(k - nf, k)
        if k == len(self._run.fwd):
            return self._activation_frame(k)
        p, t = self._params, self._run.fwd
        step = t[k]
        if p.is_conv:
            arith = describe.conv_arithmetic(step, show_bias=p.bias)
            where = f"output channel {step.out_channel + 1}"
        else:
            arith = describe.pool_arithmetic(step)
            where = f"channel {step.channel + 1}"
        cap = f"Step {k + 1} of {self.n_steps}: {where}, cell ({step.out_row}, {step.out_col})"
        if p.mode == "both":
            cap = "Forward pass — " + cap
        done = (k + 1) // t.taps_per_window if p.is_conv and t.granularity == "tap" else k + 1
        return Frame(
            params=p, step_index=k, n_steps=self.n_steps, step=step, output=t.partial(k),
            arithmetic=arith, caption=cap, output_full=np.asarray(t.output), done=done,
            **self._scenario(),
        )

    def _activation_frame(self, k: int) -> Frame:
        """The step after the last window: the activation applied to every output cell at once."""
        p, r = self._params, self._run
        t = r.fwd
        z = np.asarray(t.output)
        cap = f"Step {k + 1} of {self.n_steps}: the activation, {p.activation}, on every output cell"
        if p.mode == "both":
            cap = "Forward pass — " + cap
        changed = (z < 0) if p.activation in ("relu", "leaky_relu") else np.ones(z.shape, bool)
        return Frame(
            params=p, step_index=k, n_steps=self.n_steps, step=t[len(t) - 1], output=r.y,
            arithmetic=describe.activation_text(p.activation, z, r.y), caption=cap, output_full=r.y,
            done=int(r.y.size), phase="activation", changed=changed,
            titles={"output": f"Output after {p.activation}"}, **self._scenario(),
        )

    def _dx_shown(self, grads: Any) -> np.ndarray:
        """dL/dX on the padded grid as drawn: real cells hold the true (folded) gradient.

        With zero padding the padding's share is simply dropped, so the padded
        grid already is the answer inside. Reflect, replicate and circular
        padding hand their share back to the cell they copy: the real cells
        then show ``grad_x`` and the padding cells what they received.
        """
        gxp = grads.grad_x_padded
        if not self._params.is_conv or self._params.padding_mode == "zeros":
            return gxp
        g = self._run.fwd.geometry
        shown = np.array(gxp)
        shown[:, g.rows.before : g.rows.before + g.rows.size, g.cols.before : g.cols.before + g.cols.size] = (
            grads.grad_x
        )
        return shown

    def _backward_frame(self, kb: int, k: int) -> Frame:
        p, r = self._params, self._run
        step = r.bwd[kb]
        grads = r.bwd.partial(kb)
        sc = self._scenario()
        dx_shown = self._dx_shown(grads)
        if p.is_conv:
            arith = describe.conv_backward_arithmetic(
                step, dx_shown, sc["offset"], float(grads.grad_bias[step.out_channel])
            )
            where = f"dY channel {step.out_channel + 1}"
        else:
            arith = describe.pool_backward_arithmetic(step, grads.grad_x_padded, sc["offset"])
            where = f"dY channel {step.channel + 1}"
        if r.loss is not None:
            arith = describe.loss_text(r.loss) + "\n" + arith
        cap = (f"Backward pass — step {k + 1} of {self.n_steps}: {where}, "
               f"cell ({step.out_row}, {step.out_col})")
        return Frame(
            params=p, step_index=k, n_steps=self.n_steps, step=step, output=r.y,
            arithmetic=arith, caption=cap, phase="backward", grads=grads, dy=r.dy, dz=r.dz,
            dx_shown=dx_shown, y_full=r.y, loss=r.loss, output_full=r.y, done=int(r.y.size),
            titles={"dy": f"dL/dZ = dL/dY·{p.activation}′(Z)"} if p.has_activation else {},
            diverging=frozenset({"dx", "dw", "dy"}), **sc,
        )

    def _gather_frame(self, kg: int, k: int) -> Frame:
        """The gather view: a forward correlation of the spread dY with the flipped kernel."""
        p, r = self._params, self._run
        gv = r.gather
        t = gv.trace
        step = t[kg]
        sc = self._scenario()
        spread = gv.dy_spread
        g = r.fwd.geometry
        # Cells of the spread grid that hold a real dY value (the rest are inserted zeros or padding).
        kinds = np.ones(spread.shape[1:], dtype=np.int8)
        ph, pw = g.rows.dilation * (g.rows.kernel - 1), g.cols.dilation * (g.cols.kernel - 1)
        kinds[ph : ph + (g.rows.out - 1) * g.rows.stride + 1 : g.rows.stride,
              pw : pw + (g.cols.out - 1) * g.cols.stride + 1 : g.cols.stride] = 0
        out = t.partial(kg)
        done = np.isfinite(out).all() and np.allclose(out, r.final().grad_x_padded, rtol=1e-12, atol=1e-12)
        arith = describe.conv_arithmetic(step, show_bias=False)
        arith = f"dX_padded[{step.out_channel},{step.out_row},{step.out_col}] = " + arith
        if kg == len(t) - 1:
            diff = float(np.abs(out - r.final().grad_x_padded).max())
            arith += (f"\nGather and scatter agree cell for cell (largest difference {describe.fmt(diff)})"
                      if done else f"\nGather and scatter differ by up to {describe.fmt(diff)}")
        cap = (f"Backward pass, gather view (transposed convolution) — step {k + 1} of {self.n_steps}: "
               f"dX cell ({step.out_row}, {step.out_col}) of channel {step.out_channel + 1}")
        lv = _levels(gv.grad_x_padded, symmetric=True)
        levels = {"input": _levels(spread, symmetric=True), "kernel": _levels(gv.kernel, symmetric=True),
                  "output": lv}
        empty = np.array([], dtype=int)
        return Frame(
            params=p, step_index=k, n_steps=self.n_steps, step=step, x_padded=spread, kinds=kinds,
            kernel=gv.kernel, kernel_given=None, output=out, levels=levels, arithmetic=arith,
            caption=cap, formulas=sc["formulas"], unreached_rows=empty, unreached_cols=empty,
            offset=(0, 0), show_values=sc["show_values"], param_count=sc["param_count"], phase="gather",
            titles={"input": f"dL/d{'Z' if p.has_activation else 'Y'} spread: zeros between, padded",
                    "kernel": "W flipped, channels swapped", "output": "dL/dX (padded grid)"},
            diverging=frozenset({"input", "kernel", "output"}), dy=r.dy, dz=r.dz, loss=r.loss,
            output_full=np.asarray(t.output), done=kg + 1,
        )
