"""The Frame: everything one picture of the stage shows, decided once, as data.

``build_frame(lesson, k)`` makes the frame of step ``k``; painters and exports
read it and interpret nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import engine
from engine import describe

from .choices import MAX_VALUE_GRID
from .params import Params

if TYPE_CHECKING:
    from .lesson import Lesson


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



def _scenario(lesson: Lesson) -> dict[str, Any]:
    """Parts of a frame that only change with the scenario (computed once per change)."""
    p, t = lesson.params, lesson.run.fwd
    g = t.geometry
    kinds = np.maximum(g.rows.kinds()[:, None], g.cols.kinds()[None, :]).astype(np.int8)
    xp = np.asarray(t.x_padded)
    if p.is_conv:
        kernel, given = np.asarray(t.setup.w), lesson.w.copy()
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
    r = lesson.run
    if r.bwd is not None:
        final = r.final()
        levels["dx"] = _levels(_dx_shown(lesson, final), symmetric=True)
        levels["dy"] = _levels(r.dz if p.has_activation else r.dy, symmetric=True)
        if final.grad_w is not None:
            levels["dw"] = _levels(final.grad_w, symmetric=True)
    ceil = p.ceil_mode and not p.is_conv
    return {
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

def build_frame(lesson: Lesson, k: int, *, expanded: bool = False) -> Frame:
    nf = lesson.n_forward
    if k >= nf:
        if lesson.params.grad_view == "gather" and lesson.run.gather is not None:
            return _gather_frame(lesson, k - nf, k)
        return _backward_frame(lesson, k - nf, k)
    if k == len(lesson.run.fwd):
        return _activation_frame(lesson, k)
    p, t = lesson.params, lesson.run.fwd
    step = t[k]
    if p.is_conv:
        arith = describe.conv_arithmetic(step, show_bias=p.bias)
        where = f"output channel {step.out_channel + 1}"
    else:
        arith = describe.pool_arithmetic(step)
        where = f"channel {step.channel + 1}"
    cap = f"Step {k + 1} of {lesson.n_steps}: {where}, cell ({step.out_row}, {step.out_col})"
    if p.mode == "both":
        cap = "Forward pass — " + cap
    done = (k + 1) // t.taps_per_window if p.is_conv and t.granularity == "tap" else k + 1
    return Frame(
        params=p, step_index=k, n_steps=lesson.n_steps, step=step, output=t.partial(k),
        arithmetic=arith, caption=cap, output_full=np.asarray(t.output), done=done,
        **_scenario(lesson),
    )

def _activation_frame(lesson: Lesson, k: int) -> Frame:
    """The step after the last window: the activation applied to every output cell at once."""
    p, r = lesson.params, lesson.run
    t = r.fwd
    z = np.asarray(t.output)
    cap = f"Step {k + 1} of {lesson.n_steps}: the activation, {p.activation}, on every output cell"
    if p.mode == "both":
        cap = "Forward pass — " + cap
    changed = (z < 0) if p.activation in ("relu", "leaky_relu") else np.ones(z.shape, bool)
    return Frame(
        params=p, step_index=k, n_steps=lesson.n_steps, step=t[len(t) - 1], output=r.y,
        arithmetic=describe.activation_text(p.activation, z, r.y), caption=cap, output_full=r.y,
        done=int(r.y.size), phase="activation", changed=changed,
        titles={"output": f"Output after {p.activation}"}, **_scenario(lesson),
    )

def _dx_shown(lesson: Lesson, grads: engine.Gradients) -> np.ndarray:
    """dL/dX on the padded grid as drawn: real cells hold the true (folded) gradient.

    With zero padding the padding's share is simply dropped, so the padded
    grid already is the answer inside. Reflect, replicate and circular
    padding hand their share back to the cell they copy: the real cells
    then show ``grad_x`` and the padding cells what they received.
    """
    gxp = grads.grad_x_padded
    if not lesson.params.is_conv or lesson.params.padding_mode == "zeros":
        return gxp
    g = lesson.run.fwd.geometry
    shown = np.array(gxp)
    shown[:, g.rows.before : g.rows.before + g.rows.size, g.cols.before : g.cols.before + g.cols.size] = (
        grads.grad_x
    )
    return shown

def _backward_frame(lesson: Lesson, kb: int, k: int) -> Frame:
    p, r = lesson.params, lesson.run
    step = r.bwd[kb]
    grads = r.bwd.partial(kb)
    sc = _scenario(lesson)
    dx_shown = _dx_shown(lesson, grads)
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
    cap = (f"Backward pass — step {k + 1} of {lesson.n_steps}: {where}, "
           f"cell ({step.out_row}, {step.out_col})")
    return Frame(
        params=p, step_index=k, n_steps=lesson.n_steps, step=step, output=r.y,
        arithmetic=arith, caption=cap, phase="backward", grads=grads, dy=r.dy, dz=r.dz,
        dx_shown=dx_shown, y_full=r.y, loss=r.loss, output_full=r.y, done=int(r.y.size),
        titles={"dy": f"dL/dZ = dL/dY·{p.activation}′(Z)"} if p.has_activation else {},
        diverging=frozenset({"dx", "dw", "dy"}), **sc,
    )

def _gather_frame(lesson: Lesson, kg: int, k: int) -> Frame:
    """The gather view: a forward correlation of the spread dY with the flipped kernel."""
    p, r = lesson.params, lesson.run
    gv = r.gather
    t = gv.trace
    step = t[kg]
    sc = _scenario(lesson)
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
    cap = (f"Backward pass, gather view (transposed convolution) — step {k + 1} of {lesson.n_steps}: "
           f"dX cell ({step.out_row}, {step.out_col}) of channel {step.out_channel + 1}")
    lv = _levels(gv.grad_x_padded, symmetric=True)
    levels = {"input": _levels(spread, symmetric=True), "kernel": _levels(gv.kernel, symmetric=True),
              "output": lv}
    empty = np.array([], dtype=int)
    return Frame(
        params=p, step_index=k, n_steps=lesson.n_steps, step=step, x_padded=spread, kinds=kinds,
        kernel=gv.kernel, kernel_given=None, output=out, levels=levels, arithmetic=arith,
        caption=cap, formulas=sc["formulas"], unreached_rows=empty, unreached_cols=empty,
        offset=(0, 0), show_values=sc["show_values"], param_count=sc["param_count"], phase="gather",
        titles={"input": f"dL/d{'Z' if p.has_activation else 'Y'} spread: zeros between, padded",
                "kernel": "W flipped, channels swapped", "output": "dL/dX (padded grid)"},
        diverging=frozenset({"input", "kernel", "output"}), dy=r.dy, dz=r.dz, loss=r.loss,
        output_full=np.asarray(t.output), done=kg + 1,
    )


@dataclass(frozen=True)
class Highlight:
    """Cells lit over a panel while the mouse is over (or pinned to) a cell.

    Attributes
    ----------
    panel : str
        The panel the cells belong to ("input", "output", ...).
    cells : tuple of (int, int)
        Grid coordinates on the panel's front tile (padded coordinates for the input).
    labels : tuple of str
        One label per cell (e.g. the kernel tap "w0,1"), or empty for none.
    """

    panel: str
    cells: tuple[tuple[int, int], ...]
    labels: tuple[str, ...] = ()
