"""The lesson state: settings, values and the step position, with events and no Qt.

``Lesson`` owns the engine traces. Every change goes through a method that first
checks its arguments' types and ranges with ``validate`` (the same check the
scenario files use, against the bounds in ``choices``), works out the output
size and the number of steps before anything is allocated, then asks the
engine. A refused change leaves the previous state untouched, whole, returns
False and is reported through ``error`` in plain words: no argument makes a
setter raise. Queries (``frame``, ``check_gradient``, ``one_sided_slopes``)
change nothing and raise ``ValueError`` in plain words for an argument they
cannot answer. Views subscribe to the psygnal events and read ``frame()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from psygnal import Signal, SignalInstance

import engine
from engine import activations, backprop, kernels
from engine.backprop import GatherView
from engine.cancel import checkpoint

from . import transposed, validate
from .choices import BOUNDS, MODES, OPS, OUTPUT_LIMIT, UPSTREAMS, VALUE_LIMIT
from .params import Params
from .presentation import Presentation
from .transposed import check_transposed, torch_weight, transposed_padding
from .validate import InvalidError

if TYPE_CHECKING:
    from .frame import Frame

ForwardTrace = engine.ConvTrace | engine.PoolTrace
BackwardTrace = engine.ConvBackwardTrace | engine.PoolBackwardTrace
#: A gradient check's loss as a function of the checked array, its analytic gradient, and the point.
_LossAt = tuple[Callable[[np.ndarray], float], np.ndarray, np.ndarray]
_LossWork = Callable[[], _LossAt]


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
    scatter : engine.TransposeScatterTrace or None
        Transposed convolution in the scatter picture: its forward steps (one stamp per input
        cell); ``fwd`` is then the gather trace with the same output.
    y : ndarray
        The layer's output after the activation (``fwd.output`` when none).
    dz : ndarray or None
        ``dy · f'(Z)``: the gradient that enters the convolution (``dy`` when
        there is no activation).
    """

    fwd: ForwardTrace
    bwd: BackwardTrace | None = None
    dy: np.ndarray | None = None
    loss: float | None = None
    gather: GatherView | None = None
    y: np.ndarray | None = None
    dz: np.ndarray | None = None
    scatter: engine.TransposeScatterTrace | None = None
    _final: engine.Gradients | None = None
    _gather_check: tuple[bool, float] | None = None

    def final(self) -> engine.Gradients | None:
        """The backward trace's gradients after its last step (computed once), or None."""
        if self._final is None and self.bwd is not None:
            self._final = self.bwd.partial(len(self.bwd) - 1)
        return self._final

    def known_final(self) -> engine.Gradients | None:
        """``final()`` when it was computed already (it never computes it here), else None."""
        return self._final

    def gather_check(self) -> tuple[bool, float] | None:
        """Whether the gather route's whole ``dL/dX_padded`` agrees with the backward trace's
        (``allclose`` at 1e-12, every cell finite), and their largest difference; computed once.

        None without a gather view. Any thread may call it once ``known_final()`` is set.
        """
        if self._gather_check is None and self.gather is not None and self.bwd is not None:
            final = self.final()
            assert final is not None
            out, want = self.gather.trace.output, final.grad_x_padded
            agree = bool(np.isfinite(out).all() and np.allclose(out, want, rtol=1e-12, atol=1e-12))
            self._gather_check = agree, float(np.abs(out - want).max())
        return self._gather_check


@dataclass(frozen=True, eq=False)
class Prepared:
    """A change worked out by ``Lesson.prepare`` and not applied yet.

    Attributes
    ----------
    base : int
        The lesson's ``version`` it was worked out from; ``commit`` refuses it
        once the lesson has changed since.
    refused : str
        Why the change is refused (plain words), or empty when it can be applied.
    """

    base: int
    refused: str
    _state: Lesson | None = None

    @property
    def frame(self) -> Frame | None:
        """The first picture of the change (worked out with it), or None when it is refused."""
        return None if self._state is None else self._state.frame()


@dataclass(frozen=True)
class GradientCheck:
    """One gradient check's numbers (``Lesson.gradient_check_job``), a value any thread can hand over.

    Attributes
    ----------
    wrt : {"x", "w"}
    index : tuple of int
    analytic, numeric : float
        Backpropagation's gradient and the centred finite difference.
    left, right : float
        The one-sided slopes (``Lesson.one_sided_slopes``).
    version : int
        The lesson's ``version`` the check was of.
    one_d : bool
        The lesson is a 1-D convolution: ``index``'s row (always 0) is not said.
    """

    wrt: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    left: float
    right: float
    version: int
    one_d: bool = False


def _one_sided(f: Callable[[np.ndarray], float], at: np.ndarray, idx: tuple[int, ...],
               e: float) -> tuple[float, float]:
    base = np.array(at, dtype=float)
    lo, hi = base.copy(), base.copy()
    lo[idx] -= e
    hi[idx] += e
    f0 = float(f(base))
    return (f0 - float(f(lo))) / e, (float(f(hi)) - f0) / e


class Lesson:
    """The state of one lesson (a scenario); emits when it changes.

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

    def __init__(self, params: Params | None = None) -> None:
        """A lesson with ``params`` (the defaults if None); values are drawn from its seed.

        A 1-D convolution's height settings are put at their only values (height 1, no stride,
        dilation or padding along it), as ``set_params`` puts them; its widths stay.

        Raises
        ------
        ValueError
            In plain words, when ``params`` is not a state the lesson accepts
            (a constructor cannot return False; ``load`` can).
        """
        # 1-D: every height setting at its only value, as ``set_params`` does (the widths stay).
        p = validate.checked(params if params is not None else Params()).with_height_1()
        validate.plan(p)
        self._params = p
        self._x = self._new_input(p)
        self._w = self._new_kernel(p)
        self._b = self._new_bias(p)
        self._dy_custom: np.ndarray | None = None
        self._target: np.ndarray | None = None
        self._run = self._build(p, self._x, self._w, self._b)
        self._step = 0
        self._frame_cache: dict[tuple[int, bool], Frame] = {}
        self._presentation = Presentation()
        self.last_error = ""
        self._version = 0

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
    def presentation(self) -> Presentation:
        """The lecturer's own title and note, shown on stage (empty unless a scenario brought them)."""
        return self._presentation

    def set_presentation(self, title: str = "", note: str = "") -> None:
        """Show the lecturer's ``title`` and ``note`` on stage (emits ``changed`` when they change)."""
        p = Presentation(str(title), str(note))
        if p != self._presentation:
            self._presentation = p
            self._frame_cache = {}
            self.changed.emit()

    @property
    def typed_upstream(self) -> np.ndarray | None:
        """The typed dL/dY the lesson holds (used when ``upstream == "custom"``), or None."""
        return None if self._dy_custom is None else self._dy_custom.copy()

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
        n = len(r.scatter) if r.scatter is not None else len(r.fwd)
        forward = 0 if p.mode == "backward" else n + int(p.has_activation)
        backward = 0 if p.mode == "forward" else len(Lesson._backward_of(p, r))
        return forward, backward

    @staticmethod
    def _backward_of(p: Params, r: Run) -> BackwardTrace | engine.ConvTrace:
        if p.grad_view == "gather" and r.gather is not None:
            return r.gather.trace
        if r.bwd is None:
            raise ValueError("the forward pass has no backward steps")
        return r.bwd

    # ------------------------------------------------------------------ building
    @staticmethod
    def _new_input(p: Params) -> np.ndarray:
        return kernels.random_values((p.in_c, p.in_h, p.in_w), p.seed, integers=p.integers)

    @staticmethod
    def _new_kernel(p: Params) -> np.ndarray:
        p.check_groups()
        rng = np.random.default_rng(p.seed + 1)
        w = np.empty((p.out_c, p.group_in, p.k_h, p.k_w))
        for o in range(p.out_c):
            for c in range(p.group_in):
                w[o, c] = kernels.kernel_preset(p.preset, p.k_h, p.k_w, rng=rng, integers=p.integers)
        return w

    @staticmethod
    def _new_bias(p: Params) -> np.ndarray:
        rng = np.random.default_rng(p.seed + 2)
        if p.integers:
            return rng.integers(-2, 3, size=p.out_c).astype(float)
        return np.round(rng.uniform(-1, 1, size=p.out_c), 2)

    @staticmethod
    def _forward(p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> ForwardTrace:
        if p.op not in OPS:
            raise ValueError(f"unknown operation {p.op!r}")
        if p.is_transpose:
            return Lesson._forward_transpose(p, x, w, b)
        if p.is_1d:  # the engine's 1-D convolution: a height-1 trace, indices as in the 2-D one
            return engine.trace_conv1d(
                x[:, 0], w[:, :, 0], b if p.bias else None, stride=p.stride[1], padding=p.padding_1d(),
                dilation=p.dilation[1], groups=p.groups, padding_mode=p.padding_mode,
                granularity=p.granularity if p.mode == "forward" else "window",
            )
        if p.is_global:  # one window per channel: the whole map (kernel, stride and padding unused)
            return engine.trace_global_pool2d(x, op=p.pool_op)
        if p.is_conv:
            return engine.trace_conv2d(
                x, w, b if p.bias else None, stride=p.stride, padding=p.engine_padding(),
                dilation=p.dilation, padding_mode=p.padding_mode, flip_kernel=p.flip_kernel,
                granularity=p.granularity if p.mode == "forward" else "window", groups=p.groups,
            )
        return engine.trace_pool2d(
            x, (p.k_h, p.k_w), op=p.pool_op, stride=p.stride, padding=p.engine_padding(),
            dilation=p.dilation, ceil_mode=p.ceil_mode, count_include_pad=p.count_include_pad,
        )

    @staticmethod
    def _transpose_args(p: Params, w: np.ndarray) -> tuple[np.ndarray, dict[str, object]]:
        """The engine's kernel and keywords for a transposed convolution. The kernel is kept as
        entered, ``(out_c, in_c/groups, kh, kw)``; the engine (and PyTorch's ``ConvTranspose2d``) take
        it as ``(in_c, out_c/groups, kh, kw)`` (``transposed.torch_weight``)."""
        check_transposed(p)
        pad = transposed_padding(p)
        return torch_weight(p, w), dict(stride=p.stride, padding=pad, output_padding=p.output_padding,
                                        dilation=p.dilation, groups=p.groups)

    @staticmethod
    def _forward_transpose(p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> engine.ConvTrace:
        """Transposed convolution's gather trace (a stride-1 convolution over the spread input)."""
        wt, kw = Lesson._transpose_args(p, w)
        return engine.trace_conv_transpose2d(
            x, wt, b if p.bias else None, granularity=p.granularity if p.mode == "forward" else "window",
            **kw,  # type: ignore[arg-type]
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
        p.check_groups()
        p.check_1d()
        check_transposed(p)
        fwd = self._forward(p, x, w, b)
        z = np.asarray(fwd.output)
        if p.activation not in activations.ACTIVATIONS:
            raise ValueError(f"unknown activation {p.activation!r}")
        y = activations.activate(p.activation, z) if p.has_activation else z
        checkpoint()  # between the passes: a cancel is heard (engine.cancel)
        scatter = None
        if p.is_transpose and p.transpose_view == "scatter":
            wt, kw = self._transpose_args(p, w)
            scatter = engine.trace_conv_transpose2d_scatter(x, wt, b if p.bias else None,
                                                            **kw)  # type: ignore[arg-type]
        if p.mode == "forward":
            return Run(fwd, y=y, scatter=scatter)
        if p.mode not in MODES:
            raise ValueError(f"unknown mode {p.mode!r}")
        dy, loss = self._upstream(p, y)
        dz = dy * activations.activation_grad(p.activation, z) if p.has_activation else dy
        checkpoint()
        if isinstance(fwd, engine.ConvTrace):
            bwd: BackwardTrace = engine.ConvBackwardTrace(fwd.setup, dz)
            checkpoint()
            gather = backprop.gather_input_grad(fwd.setup, dz)
        else:
            bwd = engine.PoolBackwardTrace(fwd.setup, dz)
            gather = None
        return Run(fwd, bwd, dy, loss, gather, y, dz)

    def _refuse(self, message: str) -> bool:
        """Say why a change was refused (``error``, ``last_error``); the state is untouched."""
        self.last_error = message or "that change was refused"
        self.error.emit(self.last_error)
        return False

    def _apply(self, p: Params, x: np.ndarray, w: np.ndarray, b: np.ndarray, *,
               planned: bool = False) -> bool:
        """Try a new state (``p`` checked; ``planned``: ``validate.plan(p)`` passed): emit ``changed``, or
        ``error`` and keep the old one."""
        saved = (self._target, self._dy_custom)
        try:
            if not planned:
                validate.plan(p)  # the step count before any trace is built
            run = self._build(p, x, w, b)
        except (ValueError, TypeError) as exc:
            self._target, self._dy_custom = saved
            return self._refuse(str(exc))
        if p.upstream == "custom" and run.dy is not None and (
            self._dy_custom is None or self._dy_custom.shape != run.dy.shape
        ):
            p = replace(p, upstream="ones")  # the typed values no longer fit: say what is used
        old_step = self._step
        self._params, self._x, self._w, self._b, self._run = p, x, w, b, run
        self._step = min(old_step, self.n_steps - 1)
        self._frame_cache = {}
        self._version += 1
        if self.last_error:
            self.last_error = ""
            self.error.emit("")
        self.changed.emit()
        if self._step != old_step:
            self.step_changed.emit(self._step)
        return True

    # ------------------------------------------------------------------ setters
    def set_params(self, **changes: object) -> bool:
        """Change some parameters; values follow where their shape changed.

        Returns
        -------
        bool
            False when the engine refused the combination (``error`` emitted,
            state unchanged).
        """
        if set(changes) == {"view"}:
            return self.set_view(changes["view"])
        old = self._params
        try:
            p = validate.params_with(old, changes).with_height_1()  # 1-D: the widths carry over
            if not p.is_transpose and p.output_padding != (0, 0):  # only a transposed convolution has one
                p = replace(p, output_padding=(0, 0))
            validate.plan(p)  # sizes and steps, before any value is drawn
        except InvalidError as exc:
            return self._refuse(str(exc))
        if p.motion != old.motion and replace(p, motion=old.motion) == old:
            return self._restyle(p)
        x, w, b = self._x, self._w, self._b
        try:
            if (p.in_c, p.in_h, p.in_w, p.integers, p.seed) != (old.in_c, old.in_h, old.in_w,
                                                                 old.integers, old.seed):
                x = self._new_input(p)
            if (p.out_c, p.in_c, p.k_h, p.k_w, p.preset, p.integers, p.seed, p.groups) != (
                old.out_c, old.in_c, old.k_h, old.k_w, old.preset, old.integers, old.seed, old.groups
            ):
                w = self._new_kernel(p)
            if (p.out_c, p.integers, p.seed) != (old.out_c, old.integers, old.seed):
                b = self._new_bias(p)
        except ValueError as exc:
            return self._refuse(str(exc))
        old_target = self._target
        if (p.seed, p.integers) != (old.seed, old.integers):
            self._target = None  # new values: a new target to go with them
        if p.picture and x is not self._x:  # random values replaced the picture
            p = replace(p, picture=False)
        if not self._apply(p, x, w, b, planned=True):  # planned above, before the values were drawn
            self._target = old_target
            return False
        return True

    def set_view(self, view: object) -> bool:
        """Draw the scenario flat or as the stage view (``Params.view``): the values, the traces and the
        step stay; only the frames change (their ``params.view`` says which painter draws them).

        Returns
        -------
        bool
            False, with ``error`` emitted and nothing changed, for a name that is not a view.
        """
        try:
            v = validate.setting("view", view)
        except InvalidError as exc:
            return self._refuse(str(exc))
        if v == self._params.view:
            return True
        return self._restyle(replace(self._params, view=v))

    def _restyle(self, p: Params) -> bool:
        """Take settings that change how steps are shown, not what they compute (the view, the motion):
        the run stays, the frames are made again."""
        self._params = p
        self._frame_cache = {}
        self._version += 1
        self.changed.emit()
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
            Typed dL/dY, used when ``params.upstream == "custom"`` (kept for later otherwise).
        target : ndarray, shape of the output, optional
            The loss target (used when ``params.upstream == "loss"``).
        step : int
            Clamped to the new sequence.

        Returns
        -------
        bool
            False (with ``error`` emitted, nothing changed) when a setting, a
            value, a shape or the engine refuses it.
        """
        try:
            p = validate.checked(params)
            shape = validate.plan(p).out_shape  # sizes and steps, before anything is allocated
            k = validate.whole_number(step, "step")
            xa = self._new_input(p) if x is None else validate.values(
                "input", x, (p.in_c, p.in_h, p.in_w))
            wa = self._new_kernel(p) if w is None else validate.values(
                "kernel", w, (p.out_c, p.group_in, p.k_h, p.k_w))
            ba = self._new_bias(p) if bias is None else validate.values("bias", bias, (p.out_c,))
            ua = None if upstream is None else validate.values("upstream", upstream, shape,
                                                               limit=OUTPUT_LIMIT)
            ta = None if target is None else validate.values("target", target, shape, limit=OUTPUT_LIMIT)
        except ValueError as exc:  # InvalidError, or a fixed kernel preset of the wrong size
            return self._refuse(str(exc))
        saved = (self._target, self._dy_custom)
        self._target, self._dy_custom = ta, ua
        old_step, old_presentation = self._step, self._presentation
        self._step = max(0, k)
        self._presentation = Presentation()  # a new scenario: the old one's words no longer apply
        if not self._apply(p, xa, wa, ba):
            self._target, self._dy_custom = saved
            self._step, self._presentation = old_step, old_presentation
            return False
        return True

    def use_picture(self, x: np.ndarray) -> bool:
        """Make ``x (C, H, W)``, read from a picture, the input; the grid takes its size.

        The kernel stays when the channel count does; otherwise new kernels are drawn
        for the new channels. Values are decimals from then on (a picture is not integers).
        """
        shape = getattr(x, "shape", None)
        try:
            if isinstance(shape, tuple) and len(shape) == 3:  # refuse a huge picture before copying it
                validate.params_with(self._params, {"in_c": shape[0], "in_h": shape[1], "in_w": shape[2]})
            xa = validate.values("input", x, None, ndim=3)
            p = validate.params_with(self._params, {"in_c": xa.shape[0], "in_h": xa.shape[1],
                                                    "in_w": xa.shape[2], "picture": True, "integers": False})
        except InvalidError as exc:
            size = " × ".join(str(n) for n in shape) if isinstance(shape, tuple) else ""
            return self._refuse(f"the picture{' is ' + size if size else ''}: {exc}")
        same_kernel = p.in_c == self._params.in_c
        return self.load(p, x=xa, w=self._w if same_kernel else None, bias=self._b, step=0)

    def new_values(self) -> bool:
        """Draw new random input (and random kernel) values with the next seed (after the last, the first)."""
        lo, hi = BOUNDS["seed"]
        seed = self._params.seed + 1
        return self.set_params(seed=seed if seed <= hi else lo)

    def _edit(self, field: str, a: np.ndarray, index: tuple[object, ...], value: object,
              limit: float = VALUE_LIMIT) -> np.ndarray:
        """A copy of ``a`` with one cell set (index and value checked first)."""
        idx = validate.cell(field, index, a.shape)
        v = validate.number(value, "the value", limit)
        out = a.copy()
        out[idx] = v
        return out

    def set_input_value(self, c: int, i: int, j: int, value: float) -> bool:
        """Edit one input cell ``(c, i, j)`` (unpadded coordinates)."""
        try:
            x = self._edit("input", self._x, (c, i, j), value)
        except InvalidError as exc:
            return self._refuse(str(exc))
        return self._apply(self._params, x, self._w, self._b)

    def set_kernel_value(self, o: int, c: int, i: int, j: int, value: float) -> bool:
        """Edit one kernel weight ``w[o, c, i, j]`` (as entered, before any flip)."""
        try:
            w = self._edit("kernel", self._w, (o, c, i, j), value)
        except InvalidError as exc:
            return self._refuse(str(exc))
        return self._apply(self._params, self._x, w, self._b)

    def set_bias_value(self, o: int, value: float) -> bool:
        """Edit the bias of output channel ``o``."""
        try:
            b = self._edit("bias", self._b, (o,), value)
        except InvalidError as exc:
            return self._refuse(str(exc))
        return self._apply(self._params, self._x, self._w, b)

    def set_upstream_value(self, o: int, i: int, j: int, value: float) -> bool:
        """Type one cell of dL/dY; the upstream gradient becomes "custom"."""
        if self._run.dy is None:
            return self._refuse("dL/dY exists in the backward pass only: choose Pass ▸ Backward first")
        try:
            dy = self._edit("upstream", self._run.dy, (o, i, j), value)
        except InvalidError as exc:
            return self._refuse(str(exc))
        saved = self._dy_custom
        self._dy_custom = dy
        if not self._apply(replace(self._params, upstream="custom"), self._x, self._w, self._b):
            self._dy_custom = saved
            return False
        return True

    def set_target_value(self, o: int, i: int, j: int, value: float) -> bool:
        """Edit one cell of the loss target ``T`` (loss mode)."""
        if self._target is None or self._params.upstream != "loss" or self._run.dy is None:
            return self._refuse("the loss target exists when dL/dY comes from the loss ½Σ(Y−T)² only: "
                                "choose it under dL/dY first")
        try:
            target = self._edit("target", self._target, (o, i, j), value)
        except InvalidError as exc:
            return self._refuse(str(exc))
        saved = self._target
        self._target = target
        if not self._apply(self._params, self._x, self._w, self._b):
            self._target = saved
            return False
        return True

    def set_step(self, k: int) -> bool:
        """Move to step ``k`` (clamped to the sequence).

        Returns
        -------
        bool
            False (``error`` emitted, the step stays) when ``k`` is not a whole number.
        """
        try:
            k = validate.whole_number(k, "step")
        except InvalidError as exc:
            return self._refuse(str(exc))
        k = max(0, min(k, self.n_steps - 1))
        if k != self._step:
            self._step = k
            self.step_changed.emit(k)
        return True

    # ------------------------------------------------------------------ gradient check
    def _loss_and_grad(self, wrt: str) -> _LossWork:
        """The loss as a function of ``x`` or ``w`` (as entered), its analytic gradient, and the point.

        In two halves: the lesson is read (and the request checked, ``ValueError``) now; the returned
        function does the work and reads nothing of the lesson's, so it may run on any thread.
        """
        r, p, x, w = self._run, self._params, self._x, self._w
        if r.dy is None or r.dz is None:
            raise ValueError("the gradient check needs the backward mode")
        dy, dz = r.dy, r.dz
        target = self._target if p.upstream == "loss" else None
        if p.is_transpose:
            b = self._b
            return lambda: transposed.loss_and_grad(p, x, w, b, dy, dz, target, wrt)
        fwd = r.fwd
        if isinstance(fwd, engine.ConvTrace):
            setup = fwd.setup

            def conv() -> _LossAt:
                of_x, of_w = backprop.conv_loss(setup, dy, target,
                                                activation=p.activation if p.has_activation else "none")
                if p.is_1d:  # the engine's 1-D gradients, back in the lesson's (C, 1, L) form
                    gx1, gw1, _ = engine.conv1d_backward(
                        x[:, 0], w[:, :, 0], dz[:, 0], stride=p.stride[1], padding=p.padding_1d(),
                        dilation=p.dilation[1], groups=p.groups, padding_mode=p.padding_mode,
                    )
                    gx, gw = gx1[:, None], gw1[:, :, None]
                else:
                    gx, gw, _ = engine.conv2d_backward(
                        x, w, dz, stride=p.stride, padding=p.engine_padding(), dilation=p.dilation,
                        padding_mode=p.padding_mode, flip_kernel=p.flip_kernel, groups=p.groups,
                    )
                if wrt == "w":
                    def of_given(w: np.ndarray) -> float:
                        return of_w(w[:, :, ::-1, ::-1] if p.flip_kernel else w)

                    return of_given, gw, w
                return of_x, gx, x

            return conv
        if wrt != "x":
            raise ValueError("pooling has no weights: check an input cell")
        pool_setup = fwd.setup

        def pool() -> _LossAt:
            of_x = backprop.pool_loss(pool_setup, dy, target)
            if p.is_global:
                return of_x, engine.global_pool2d_backward(x, dy[:, 0, 0], op=p.pool_op), x
            gx = engine.pool2d_backward(
                x, dy, (p.k_h, p.k_w), op=p.pool_op, stride=p.stride, padding=p.engine_padding(),
                dilation=p.dilation, ceil_mode=p.ceil_mode, count_include_pad=p.count_include_pad,
            )
            return of_x, gx, x

        return pool

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
        work, idx, e = self._checked_point(wrt, index, eps)
        f, grad, at = work()
        return float(grad[idx]), backprop.numeric_gradient(f, at, idx, e)

    def one_sided_slopes(self, wrt: str, index: tuple[int, ...], eps: float = 1e-6) -> tuple[float, float]:
        """``(f(a) − f(a − ε)) / ε`` and ``(f(a + ε) − f(a)) / ε`` at one cell.

        They differ where the loss has a kink there (a tie in max pooling,
        ReLU at exactly 0): the centred difference then averages two slopes
        and the analytic gradient picks one of them, as PyTorch does.
        """
        work, idx, e = self._checked_point(wrt, index, eps)
        f, _, at = work()
        return _one_sided(f, at, idx, e)

    def gradient_check_job(self, wrt: str, index: tuple[int, ...],
                           eps: float = 1e-6) -> Callable[[], GradientCheck]:
        """``check_gradient`` and ``one_sided_slopes`` together, in two halves.

        Call this on the thread that owns the lesson: it checks the request
        (``ValueError`` in plain words) and takes references to what the check
        reads (arrays a change replaces, never writes in place). The returned
        function does the work, reads nothing of the lesson's, and may run on a
        worker thread while the lesson changes; its result is exactly what the
        two queries would give now.
        """
        work, idx, e = self._checked_point(wrt, index, eps)
        version, one_d = self._version, self._params.is_1d

        def job() -> GradientCheck:
            f, grad, at = work()
            left, right = _one_sided(f, at, idx, e)
            return GradientCheck(str(wrt), idx, float(grad[idx]), backprop.numeric_gradient(f, at, idx, e),
                                 left, right, version, one_d)

        return job

    def _checked_point(self, wrt: object, index: object,
                       eps: object) -> tuple[_LossWork, tuple[int, ...], float]:
        """Check a gradient check's arguments (``ValueError`` in plain words), then ``_loss_and_grad``."""
        if not isinstance(wrt, str) or wrt not in ("x", "w"):
            raise InvalidError("", "the gradient check is of an input cell ('x') or a weight ('w'), "
                                   f"got {validate.show(wrt)}")
        e = validate.number(eps, "the step ε", 1.0)
        if e <= 0:
            raise InvalidError("", f"the step ε must be more than 0, got {validate.show(eps)}")
        what = "input" if wrt == "x" else "kernel"
        idx = validate.cell(what, index, (self._x if wrt == "x" else self._w).shape)
        return self._loss_and_grad(str(wrt)), idx, e

    # ------------------------------------------------------------------ prepare, then commit
    @property
    def version(self) -> int:
        """Counts the changes applied so far (a prepared change remembers the one it started from)."""
        return self._version

    @staticmethod
    def cost(p: Params) -> int:
        """About how many multiply-adds building ``p``'s traces takes (a backward mode does three passes)."""
        per_cell = (p.in_c * p.k_h * p.k_w) if p.is_conv else p.k_h * p.k_w
        passes = 1 if p.mode == "forward" else 3
        spread = p.stride[0] * p.stride[1] if p.op == "conv_transpose" else 1  # its output outgrows the input
        return int(passes * spread * p.out_c * p.in_h * p.in_w * per_cell)  # else the input's size bounds it

    @staticmethod
    def check_cost(p: Params) -> int:
        """About how many multiply-adds a gradient check of ``p`` takes (a backward, five forwards)."""
        return Lesson.cost(p) * 7 // 3

    def params_with(self, **changes: object) -> Params:
        """The settings ``changes`` would make (raises TypeError for an unknown name)."""
        return replace(self._params, **changes)  # type: ignore[arg-type]

    def prepare(self, **changes: object) -> Prepared:
        """Work out ``set_params(**changes)`` without applying it: no events, no state touched.

        Safe to call from a worker thread while the lesson is read elsewhere:
        it works on a private copy that shares only arrays no setter writes in
        place. ``commit`` applies the result.
        """
        return self.preparer(**changes)()

    def preparer(self, **changes: object) -> Callable[[], Prepared]:
        """``prepare`` in two halves: the state is read now, the work runs when the result is called.

        Call this on the thread that owns the lesson and run the returned
        function anywhere (a worker thread): it reads nothing of the lesson's
        that a later change could replace.
        """
        apply = self._shadow_applier()
        return lambda: apply(lambda shadow: shadow.set_params(**changes))

    def picture_preparer(self) -> Callable[[np.ndarray], Prepared]:
        """``use_picture`` worked out without applying it, as ``preparer`` does for ``set_params``.

        Call this on the thread that owns the lesson; call the returned function
        with the picture ``x (C, H, W)`` anywhere (a worker thread that has just
        read it); ``commit`` applies the result.
        """
        apply = self._shadow_applier()
        return lambda x: apply(lambda shadow: shadow.use_picture(x))

    def _shadow_applier(self) -> Callable[[Callable[[Lesson], bool]], Prepared]:
        """A private copy of the lesson's state now; the returned function applies a change to it later."""
        base = self._version
        shadow = Lesson.__new__(Lesson)  # fresh signals: nothing listens to the copy
        shadow.__dict__.update({k: v for k, v in self.__dict__.items() if not isinstance(v, SignalInstance)})
        shadow._frame_cache = {}
        shadow.last_error = ""

        def work(change: Callable[[Lesson], bool]) -> Prepared:
            if not change(shadow):
                return Prepared(base, shadow.last_error or "refused")
            checkpoint()
            shadow.frame()  # the first picture (and the gradients it reads) are worked out here too
            return Prepared(base, "", shadow)

        return work

    def commit(self, prepared: Prepared) -> bool:
        """Apply a prepared change atomically, with the events ``set_params`` would emit.

        Returns
        -------
        bool
            False, with nothing changed, when the change is stale (the lesson
            changed since it was prepared: no event) or refused (``error``).
        """
        if prepared.base != self._version:
            return False
        if prepared.refused or prepared._state is None:
            self.last_error = prepared.refused
            self.error.emit(self.last_error)
            return False
        new = prepared._state
        old_step = self._step
        self._params, self._x, self._w, self._b, self._run = new._params, new._x, new._w, new._b, new._run
        self._target, self._dy_custom = new._target, new._dy_custom
        self._step = min(old_step, self.n_steps - 1)
        self._frame_cache = new._frame_cache if self._step == new._step else {}
        self._version += 1
        if self.last_error:
            self.last_error = ""
            self.error.emit("")
        self.changed.emit()
        if self._step != old_step:
            self.step_changed.emit(self._step)
        return True

    # ------------------------------------------------------------------ copies and frames
    def copy(self) -> Lesson:
        """An independent lesson in the same state (export draws from one; no events are shared)."""
        other = Lesson.__new__(Lesson)
        other._params = self._params
        other._x, other._w, other._b = self._x.copy(), self._w.copy(), self._b.copy()
        other._dy_custom = None if self._dy_custom is None else self._dy_custom.copy()
        other._target = None if self._target is None else self._target.copy()
        # Traces keep caches that grow as steps are read: a copy gets traces of its own.
        other._run = other._build(other._params, other._x, other._w, other._b)
        other._step = self._step
        other._presentation = self._presentation
        other._frame_cache = {}
        other.last_error = ""
        other._version = 0
        return other

    def frame(self, step: int | None = None, *, expanded: bool = False) -> Frame:
        """What the picture of step ``step`` (default: the current one, else clamped) shows (cached).

        Raises
        ------
        ValueError
            In plain words, when ``step`` is not a whole number or ``expanded`` not true or false.
        """
        from .framing import build_frame

        k = self._step if step is None else max(0, min(validate.whole_number(step, "step"), self.n_steps - 1))
        if not isinstance(expanded, (bool, np.bool_)):
            raise InvalidError("", f"expanded must be true or false, got {validate.show(expanded)}")
        key = (k, bool(expanded))
        f = self._frame_cache.get(key)
        if f is None:
            if len(self._frame_cache) > 8:
                self._frame_cache.clear()
            stage = self._params.view == "stage"  # channels stay slabs: expanded, they are drawn apart
            f = build_frame(self, k, expanded=bool(expanded) and not stage)
            if stage and expanded and f.view == "stage":
                f = replace(f, spread=True, glide_key=(f.glide_key, "spread"))
            self._frame_cache[key] = f
        return f

