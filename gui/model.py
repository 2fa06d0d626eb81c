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
from engine import describe, kernels

OPS: tuple[str, ...] = ("conv", "max", "min", "avg")
OP_LABELS: dict[str, str] = {
    "conv": "Convolution", "max": "Max pooling", "min": "Min pooling", "avg": "Average pooling",
}
PAD_KINDS: tuple[str, ...] = ("symmetric", "asymmetric", "valid", "same")
PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")
#: Largest input side that still shows numbers in its cells.
MAX_VALUE_GRID = 64


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
    extra: dict[str, Any] = field(default_factory=dict)


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


class SceneModel(QObject):
    """The state of one scenario; emits when it changes.

    Signals
    -------
    changed()
        Parameters or values changed: the trace was rebuilt.
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
        self._trace = self._build(p, self._x, self._w, self._b)
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
        """The engine trace of the current scenario."""
        return self._trace

    @property
    def x(self) -> np.ndarray:
        """Input values, shape (C_in, H, W) (read-only copy)."""
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
    def step(self) -> int:
        """Index of the step shown, ``0 <= step < n_steps``."""
        return self._step

    @property
    def n_steps(self) -> int:
        """Number of steps of the current trace."""
        return len(self._trace)

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
    def _build(p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Any:
        if p.op not in OPS:
            raise ValueError(f"unknown operation {p.op!r}")
        if p.is_conv:
            return engine.trace_conv2d(
                x, w, b if p.bias else None, stride=p.stride, padding=p.engine_padding(),
                dilation=p.dilation, padding_mode=p.padding_mode, flip_kernel=p.flip_kernel,
                granularity=p.granularity,  # type: ignore[arg-type]
            )
        padding = p.engine_padding()
        return engine.trace_pool2d(
            x, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=padding,
            dilation=p.dilation, ceil_mode=p.ceil_mode, count_include_pad=p.count_include_pad,
        )

    def _apply(self, p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> bool:
        """Try a new state; on success emit ``changed``, on failure ``error`` and keep the old."""
        try:
            trace = self._build(p, x, w, b)
        except (ValueError, TypeError) as exc:
            self.last_error = str(exc)
            self.error.emit(self.last_error)
            return False
        old_step = self._step
        self._params, self._x, self._w, self._b, self._trace = p, x, w, b, trace
        self._step = min(old_step, len(trace) - 1)
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
            self.error.emit(str(exc))
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
        return self._apply(p, x, w, b)

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

    def set_step(self, k: int) -> None:
        """Move to step ``k`` (clamped to the trace)."""
        k = max(0, min(int(k), len(self._trace) - 1))
        if k != self._step:
            self._step = k
            self.step_changed.emit(k)

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
        p, t = self._params, self._trace
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
        p, t = self._params, self._trace
        step = t[k]
        if p.is_conv:
            arith = describe.conv_arithmetic(step, show_bias=p.bias)
            where = f"output channel {step.out_channel + 1}"
        else:
            arith = describe.pool_arithmetic(step)
            where = f"channel {step.channel + 1}"
        cap = f"Step {k + 1} of {len(t)}: {where}, cell ({step.out_row}, {step.out_col})"
        return Frame(
            params=p, step_index=k, n_steps=len(t), step=step, output=t.partial(k),
            arithmetic=arith, caption=cap, **self._scenario(),
        )
