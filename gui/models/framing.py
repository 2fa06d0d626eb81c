"""Making Frames: what each step of a lesson shows, worked out once per lesson change and per step.

``build_frame(lesson, k)`` builds the frame of step ``k`` (the value types live in
``gui.models.frame``): the scenario-constant parts (input and kernel grids and their labels, the
finished output, levels, formulas) once per lesson change, then per step the engine's step, a few
strings and the gradients that change. Qt-free.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

import numpy as np

import engine
from engine import activations, describe

from . import transposed
from .choices import MAX_VALUE_GRID, OP_LABELS, UPSTREAM_SHORT, PanelName
from .motion import Motion, conv_motion
from .motion_pool import pool_motion
from .params import Params

if TYPE_CHECKING:
    from .lesson import Lesson, Run
from .frame import (
    PLACES,
    Cell,
    ColourRole,
    Flow,
    Frame,
    Grid,
    Mark,
    Panel,
    WindowStep,
    _blank_labels,
    _levels,
    _ro,
    _term,
    cell_label,
    cell_labels,
    signed_label,
)

__all__ = ["build_frame", "dx_shown", "group_channels", "group_words", "pool_rule", "pytorch_refusal"]


# ----------------------------------------------------------------------------- content memo
_Pairs = tuple[tuple[np.ndarray, np.ndarray], ...]
_STACKS: dict[tuple[bytes, bool, bytes], _Pairs] = {}
_KINDS: dict[bytes, np.ndarray] = {}


def _digest(a: np.ndarray | None) -> bytes:
    """A short fingerprint of an array's shape and values."""
    if a is None:
        return b""
    c = np.ascontiguousarray(a)
    person = str(c.shape).encode()[:16]
    return hashlib.blake2b(c.view(np.uint8).data, digest_size=16, person=person).digest()


def _interned_kinds(kinds: np.ndarray) -> np.ndarray:
    """An equal kinds array seen before (so painters keep their pictures), else this one."""
    key = _digest(kinds)
    seen = _KINDS.get(key)
    if seen is None:
        if len(_KINDS) > 32:
            _KINDS.clear()
        seen = _KINDS[key] = _ro(kinds.astype(np.int8))
    return seen


def _labelled(stack: np.ndarray, *, show: bool, kinds: np.ndarray | None = None) -> _Pairs:
    """``(values, labels)`` per channel of ``stack (n, h, w)``, overhang unlabelled, inserted zeros "·".

    Remembered by content: a new scenario with the same values (a stride
    change leaves input and kernel alone) gets the very same arrays, so a
    painter's cached pictures of them stay valid.
    """
    key = (_digest(stack), show, _digest(kinds))
    pairs = _STACKS.get(key)
    if pairs is None:
        blank = None if kinds is None else kinds >= 2
        labels = cell_labels(stack, blank=blank) if show else None  # the stack at once: 256 kernels too
        pairs = tuple(
            (_ro(np.asarray(a, dtype=float)),
             _dotted(labels[c], kinds) if labels is not None else _blank_labels(a.shape))
            for c, a in enumerate(stack)
        )
        if len(_STACKS) > 32:
            _STACKS.clear()
        _STACKS[key] = pairs
    return pairs


def _dotted(labels: np.ndarray, kinds: np.ndarray | None) -> np.ndarray:
    """``labels`` with "·" on inserted cells (kind 3): a zero put there, not a value that is zero."""
    if kinds is None or not (kinds == 3).any():
        return labels
    out = np.where(kinds == 3, INSERTED, labels)
    out.flags.writeable = False
    return out


#: The label of a cell that holds no value of its own (a zero inserted by the gather view).
INSERTED = "·"
#: The indexing convention, said once on the stage.
INDEX_NOTE = "indices count from 0, as in NumPy and PyTorch"


# ----------------------------------------------------------------------------- per scenario
T = TypeVar("T")


class _Scenario:
    """What stays the same across the steps of one scenario (built once per lesson change)."""

    def __init__(self, lesson: Lesson) -> None:
        p, r = lesson.params, lesson.run
        t = r.fwd
        g = t.geometry
        self.params = p
        self.n_steps = lesson.n_steps
        self.n_forward = lesson.n_forward
        self.op_label = OP_LABELS[p.op]
        self.kinds = _interned_kinds(np.maximum(g.rows.kinds()[:, None], g.cols.kinds()[None, :]))
        self.padded = bool((self.kinds != 0).any())
        self.x_padded = np.asarray(t.x_padded)
        self.offset = (int(g.rows.before), int(g.cols.before))
        self.unreached_rows = np.asarray(g.rows.unreached())
        self.unreached_cols = np.asarray(g.cols.unreached())
        self.show_values = max(p.in_h, p.in_w) <= MAX_VALUE_GRID
        ceil = p.ceil_mode and not p.is_conv
        self.formulas = (
            describe.output_size_formula(g.rows, "H", ceil_mode=ceil),
            describe.output_size_formula(g.cols, "W", ceil_mode=ceil),
        )
        if p.is_transpose and isinstance(t, engine.TransposeGatherTrace):
            # The gather picture: real cells, zeros inserted by the stride (3, "·"), padding (1).
            self.kinds = _interned_kinds(np.asarray(t.spread.kind))
            self.padded = bool((self.kinds != 0).any())
            self.formulas = transposed.transposed_formulas(p)
        self.overhang = bool((self.kinds == 2).any())
        self.padding = bool((self.kinds == 1).any())
        self.fprime: np.ndarray | None = None
        if isinstance(t, engine.ConvTrace):
            self.kernel: np.ndarray | None = np.asarray(t.setup.w)
            self.param_count: int | None = engine.conv_param_count(p.group_in, p.out_c, p.k_h, p.k_w,
                                                                   p.bias)
            biases = f" + {p.out_c} biases" if p.bias else ""
            self.parameter_line = (f"Parameters: {p.k_h}·{p.k_w}·{p.group_in}·{p.out_c} weights{biases} "
                                   f"= {self.param_count}")
            levels = {
                "input": _levels(self.x_padded),
                "kernel": _levels(self.kernel, symmetric=True),
                "output": _levels(np.asarray(t.output)),
            }
            if p.has_activation:
                self.fprime = activations.activation_grad(p.activation, np.asarray(t.output))
        else:
            self.kernel = None
            self.param_count = None
            self.parameter_line = ""
            divisors = np.unique(t.setup.divisors()) if p.pool_op == "avg" else np.array([])
            #: Average pooling's divisor when every window has the same one (else 0).
            self.divisor = int(divisors[0]) if divisors.size == 1 else 0
            real = self.x_padded[:, self.kinds == 0]
            levels = {"input": _levels(real), "kernel": (0.0, 1.0), "output": _levels(real)}
        if r.bwd is not None:
            final = r.final()
            assert final is not None
            levels["dx"] = _levels(dx_shown(lesson, final), symmetric=True)
            entering = r.dz if p.has_activation and r.dz is not None else r.dy
            assert entering is not None
            levels["dy"] = _levels(entering, symmetric=True)
            if final.grad_w is not None:
                levels["dw"] = _levels(final.grad_w, symmetric=True)
        self.levels: Mapping[str, tuple[float, float]] = MappingProxyType(levels)
        refused = pytorch_refusal(p)
        self.torch_note = refused + "; Copy as PyTorch does it by hand" if refused else ""
        self.facts = self._facts()
        self._memo: dict[Hashable, object] = {}

    def _facts(self) -> tuple[str, ...]:
        """The statements on the stage (see ``Frame.facts``)."""
        (_, fh), (_, fw) = self.formulas
        parts = [f"H_out = W_out = {fh}"] if fh == fw else [f"H_out = {fh}", f"W_out = {fw}"]
        if self.params.is_transpose:
            parts.append(transposed.forward_twin(self.params))
            parts.append("as a stride-1 convolution: the input " + transposed.spread_words(self.params))
        if self.parameter_line:
            parts.append(self.parameter_line)
        if self.params.groups > 1:
            parts.append(group_words(self.params))
        never = []
        if self.unreached_rows.size:
            never.append("rows " + ", ".join(str(int(r)) for r in self.unreached_rows))
        if self.unreached_cols.size:
            never.append("columns " + ", ".join(str(int(c)) for c in self.unreached_cols))
        if never:
            parts.append("never reached by a window (hatched): " + "; ".join(never))
        if self.torch_note:
            parts.append(self.torch_note)
        parts.append(INDEX_NOTE)
        return tuple(parts)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()`` once per scenario and key."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]  # type: ignore[return-value]

    def grids(self, key: Hashable, stack: np.ndarray, *, show: bool, kinds: np.ndarray | None = None,
              unreached: bool = False) -> tuple[Grid, ...]:
        """Grids of a stack ``(n, h, w)`` that does not change between steps (built once)."""

        def make() -> tuple[Grid, ...]:
            rows = tuple(int(i) + self.offset[0] for i in self.unreached_rows) if unreached else ()
            cols = tuple(int(j) + self.offset[1] for j in self.unreached_cols) if unreached else ()
            return tuple(Grid(v, lab, kinds, unreached_rows=rows, unreached_cols=cols)
                         for v, lab in _labelled(stack, show=show, kinds=kinds))

        return self.memo(("grids", key), make)


_SCENARIOS: weakref.WeakKeyDictionary[Run, _Scenario] = weakref.WeakKeyDictionary()


def _scenario(lesson: Lesson) -> _Scenario:
    s = _SCENARIOS.get(lesson.run)
    if s is None or s.params is not lesson.params:
        s = _SCENARIOS[lesson.run] = _Scenario(lesson)
    return s


def dx_shown(lesson: Lesson, grads: engine.Gradients) -> np.ndarray:
    """dL/dX on the padded grid as drawn: real cells hold the true (folded) gradient.

    With zero padding the padding's share is simply dropped, so the padded
    grid already is the answer inside. Reflect, replicate and circular
    padding hand their share back to the cell they copy: the real cells
    then show ``grad_x`` and the padding cells what they received.

    Returns
    -------
    ndarray, shape (C_in, Hp, Wp)
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


# ----------------------------------------------------------------------------- panels
def _panel(name: PanelName, title: str, grids: tuple[Grid, ...], levels: tuple[float, float],
           colour: ColourRole, *, legend: bool = True, front: int = 0, columns: int = 1,
           channel_base: int = 0) -> Panel:
    row, slot = PLACES[name]
    ends = (cell_label(levels[0]), cell_label(levels[1])) if legend else None
    return Panel(name, title, grids, levels, colour, ends, row, slot, front, columns, channel_base)


def _pending(grids: tuple[Grid, ...], done: int) -> tuple[Grid, ...]:
    """The same grids with the cells from raster index ``done`` on (channel-major) not computed yet."""
    out = []
    for c, g in enumerate(grids):
        n = g.values.size
        start = min(max(done - c * n, 0), n)
        pending = None if start == n else start
        out.append(g if g.pending_from == pending else replace(g, pending_from=pending))
    return tuple(out)


def _kernel_panel(s: _Scenario, kernel: np.ndarray, o: int, title: str, *, expanded: bool,
                  levels: tuple[float, float], key: str = "kernel") -> Panel:
    """A kernel ``(C_out, C_in, kh, kw)``: output channel ``o``'s stack, or every tile side by side."""
    n_in = kernel.shape[1]
    if expanded:
        grids = s.grids((key, "all"), kernel.reshape(-1, *kernel.shape[2:]), show=True)
        return _panel("kernel", title, grids, levels, "diverging", columns=n_in)
    stacks = tuple(s.grids((key, q), kernel[q], show=True) for q in range(kernel.shape[0]))
    panel = _panel("kernel", title, stacks[o], levels, "diverging", columns=n_in, channel_base=o * n_in)
    return replace(panel, stacks=stacks) if len(stacks) > 1 else panel


def _pool_window_panel(s: _Scenario, title: str) -> Panel:
    """The pooling window's footprint: its taps coloured (an average's weight "1/9" in each), the
    gaps a dilation leaves between them empty and dimmed; the title says the rule."""
    p = s.params

    def make() -> tuple[Grid, ...]:
        (dh, dw) = (1, 1) if p.is_global else p.dilation
        kh, kw = (p.in_h, p.in_w) if p.is_global else (p.k_h, p.k_w)
        h, w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        kinds = np.full((h, w), 3, dtype=np.int8)
        kinds[::dh, ::dw] = 0
        values = np.where(kinds == 0, 1.0, np.nan)
        labels = np.full((h, w), "", dtype=object)
        if p.pool_op == "avg":
            labels[kinds == 0] = f"1/{s.divisor}" if s.divisor else "1/n"
        labels = labels.astype(str)
        labels.flags.writeable = False
        return (Grid(_ro(values), labels, _interned_kinds(kinds)),)

    return _panel("kernel", title, s.memo("pool window", make), (0.0, 1.0), "input", legend=False)


def group_words(p: Params) -> str:
    """What groups do, with the parameter counts side by side: "groups 3 (depthwise): each kernel
    sees 1 of the 3 input channels; a full convolution would have 81 weights"."""
    g, n = p.groups, p.group_in
    kind = " (depthwise)" if g == p.in_c else ""
    full = engine.conv_param_count(p.in_c, p.out_c, p.k_h, p.k_w, p.bias)
    mine = engine.conv_param_count(n, p.out_c, p.k_h, p.k_w, p.bias)
    return (f"groups {g}{kind}: each kernel sees {n} of the {p.in_c} input channels; "
            f"{mine} parameters here, {full} for the full convolution ({full // max(mine, 1)}× more)")


def group_channels(p: Params, o: int) -> str:
    """"group 1: channels 2–3" for the kernel of output channel ``o`` ("" without groups)."""
    if p.groups <= 1:
        return ""
    n = p.group_in
    g = o // (p.out_c // p.groups)
    chans = f"channel {g * n}" if n == 1 else f"channels {g * n}–{(g + 1) * n - 1}"
    return f"group {g}: {chans}"


def kernel_size(p: Params) -> str:
    """One kernel's shape as PyTorch lays it out: "3×3×3" (its input channels first), or "3×3" when it
    reads one channel."""
    return f"{p.group_in}×{p.k_h}×{p.k_w}" if p.group_in > 1 else f"{p.k_h}×{p.k_w}"


def pool_rule(p: Params, *, padding: bool) -> str:
    """What a pooling window computes, in words: "max of each 2×2 window", "mean of each 3×3
    window (padding counted)"."""
    what = {"max": "max", "min": "min", "avg": "mean"}[p.pool_op]
    if p.is_global:
        return f"{what} of the whole {p.in_h}×{p.in_w} map, one window per channel (global)"
    text = f"{what} of each {p.k_h}×{p.k_w} window"
    dh, dw = p.dilation
    if (dh, dw) != (1, 1):
        text += f", dilation {dh}" if dh == dw else f", dilation {dh}×{dw}"
    if p.op == "avg" and padding:
        text += " (padding counted)" if p.count_include_pad else " (padding not counted)"
    return text


def pytorch_refusal(p: Params) -> str:
    """What PyTorch's own pooling layers refuse in these settings ("" when nothing).

    ``MaxPool2d`` and ``AvgPool2d`` take one padding per axis, the same on both sides, and at
    most half the (undilated) kernel: ``2 * padding <= kernel_size``; ``AvgPool2d`` has no
    dilation. convviz shows these settings anyway (the stage says so); "Copy as PyTorch" then
    does by hand what the layer would refuse.
    """
    if p.is_conv or p.is_global:
        return ""
    if p.pad_kind == "asymmetric":
        t, b, left, r = p.padding
    elif p.pad_kind == "symmetric":
        t, b, left, r = p.padding[0], p.padding[0], p.padding[2], p.padding[2]
    else:
        t = b = left = r = 0
    layer = "AvgPool2d" if p.op == "avg" else "MaxPool2d"
    notes = []
    if (t, left) != (b, r):
        notes.append("pads both sides alike")
    big = [f"{pad} > {k}/2" for pad, k in ((max(t, b), p.k_h), (max(left, r), p.k_w)) if 2 * pad > k]
    if big:
        notes.append(f"refuses this padding (at most half the kernel: {', '.join(dict.fromkeys(big))})")
    if p.op == "avg" and p.dilation != (1, 1):
        notes.append("has no dilation")
    if not notes:
        return ""
    return f"PyTorch's {layer} " + " and ".join(notes)


def _input_colour(p: Params) -> ColourRole:
    return "picture" if p.picture else "input"


# ----------------------------------------------------------------------------- marks
def _window_offsets(win: engine.Window) -> tuple[Cell, tuple[Cell, ...], tuple[int, int]]:
    """The window's top-left cell, its cells as offsets from there, and its extent."""
    r0, c0 = int(win.rows[0]), int(win.cols[0])
    cells = tuple((int(r) - r0, int(c) - c0) for r in win.rows for c in win.cols)
    span = (int(win.rows[-1]) - r0 + 1, int(win.cols[-1]) - c0 + 1)
    return (r0, c0), cells, span


def _window_marks(panel: Panel, step: WindowStep, *, expanded: bool, in_channel: int | None,
                  labels: Callable[[int], tuple[str, ...]], special: Cell | None) -> list[Mark]:
    """The window footprint on the grids of ``panel`` that show it.

    Stacked: on the front grid. Side by side: on every channel's grid, or on
    ``in_channel``'s only (pooling reads one channel).
    """
    at, cells, span = _window_offsets(step.window)
    group = getattr(step, "in_channels", None) if in_channel is None else None
    if group is not None and len(group) == len(panel.grids):
        group = None  # one group: every channel, as before
    if expanded:
        every = range(len(panel.grids)) if group is None else group
        channels = every if in_channel is None else [in_channel]
        pairs = [(c, c - (group.start if group is not None else 0)) for c in channels]
    else:
        pairs = [(panel.front, in_channel or 0)]
    return [Mark("window", panel.name, grid, at, cells, labels(c), special, span) for grid, c in pairs]


def _special(step: WindowStep) -> Cell | None:
    """Offset of the cell max/min pooling chose, if any."""
    chosen = getattr(step, "chosen", None)
    if chosen is None:
        return None
    win = step.window
    return (int(win.rows[chosen[0]]) - int(win.rows[0]), int(win.cols[chosen[1]]) - int(win.cols[0]))


def _first_channel(step: WindowStep, in_channel: int | None) -> int:
    """The input channel drawn in front: pooling's own channel, or the first of a convolution
    step's group (0 without groups)."""
    if in_channel is not None:
        return in_channel
    group = getattr(step, "in_channels", None)
    return group.start if group is not None else 0


def _travels(step: engine.ConvStep, arith: str, *, start: int = 0) -> Motion | None:
    """What travels at a convolution step: each channel's products leave that channel's input grid (in a
    stack, the slab behind the front one: the value the product uses, not the front channel's)."""
    first = _first_channel(step, None)
    grids = tuple(first + c for c in range(step.inputs.shape[0]))
    return conv_motion(step, arith, grid_of=grids, out_grid=step.out_channel, start=start)


def _no_labels(c: int) -> tuple[str, ...]:
    return ()


def _pool_text(text: str, step: engine.PoolStep | engine.PoolBackwardStep) -> str:
    """The engine's pooling text, plus what it leaves unsaid: an average never counts the
    ceil-mode overhang past the padding, nor sends it gradient."""
    n = int((step.window.kind == 2).sum())
    if step.op != "avg" or not n:
        return text
    cells = "cell" if n == 1 else "cells"
    if isinstance(step, engine.PoolStep):
        return text + f"   [{n} overhang {cells} past the input: never counted]"
    return text + f"\n({n} overhang {cells} past the input: not counted, no share)"


def _words(lesson: Lesson) -> tuple[str, str]:
    """The lecturer's title and note as the stage shows them."""
    return lesson.presentation.shown()


# ----------------------------------------------------------------------------- the builder
def build_frame(lesson: Lesson, k: int, *, expanded: bool = False) -> Frame:
    """The frame of step ``k`` of ``lesson``.

    Parameters
    ----------
    lesson : Lesson
    k : int
        ``0 <= k < lesson.n_steps``.
    expanded : bool
        Every channel side by side instead of stacked.
    """
    if lesson.params.drawn_as == "matrix":  # y = C·x, the 1-D convolution's input unrolled alike
        from .frame_matrix import matrix_frame

        return matrix_frame(lesson, _scenario(lesson), k)
    if lesson.params.is_1d:  # channels as rows, in 1-D words
        from .frame_conv1d import conv1d_frame

        return conv1d_frame(lesson, _build_frame(lesson, k, expanded=True))
    return _build_frame(lesson, k, expanded=expanded)


def _build_frame(lesson: Lesson, k: int, *, expanded: bool) -> Frame:
    s = _scenario(lesson)
    nf = s.n_forward
    scatter = lesson.run.scatter
    if scatter is not None and k < len(scatter):
        from .frame_scatter import scatter_frame

        return scatter_frame(lesson, s, k, expanded)
    if scatter is not None and k == len(scatter):
        return _activation_frame(lesson, s, k, expanded)
    if k >= nf:
        if lesson.params.grad_view == "gather" and lesson.run.gather is not None:
            return _gather_frame(lesson, s, k - nf, k, expanded)
        return _backward_frame(lesson, s, k - nf, k, expanded)
    if k == len(lesson.run.fwd):
        return _activation_frame(lesson, s, k, expanded)
    return _forward_frame(lesson, s, k, expanded)


def _spread_words(s: _Scenario) -> str:
    """How a transposed convolution's input grid differs from its input: spread, padded, or neither."""
    parts = ["spread (· = inserted zero)"] * (s.params.stride != (1, 1)) + ["padded"] * bool(s.padding)
    return ", " + " and ".join(parts) if parts else ""


def _titles(s: _Scenario, o: int, out_shape: tuple[int, ...]) -> tuple[str, str, str]:
    """Forward titles: the input's and kernel's sizes, the output's shape."""
    p = s.params
    pad = {(True, True): " + padding + overhang", (True, False): " + padding",
           (False, True): " + overhang", (False, False): ""}[(s.padding, s.overhang)]
    size = f"{p.in_c}×{p.in_h}×{p.in_w}" if p.in_c > 1 else f"{p.in_h}×{p.in_w}"
    if p.is_transpose:
        pad = _spread_words(s)
        label = f"Kernel W[{o}] of {p.out_c}:" if p.out_c > 1 else "Kernel"
        kernel = f"{label} {kernel_size(p)}, flipped (turned 180°)"
        if p.groups > 1:
            kernel += ", " + group_channels(p, o)
    elif p.is_conv:
        flip = " (flipped)" if p.flip_kernel else ""
        label = f"Kernel W[{o}] of {p.out_c}{flip}:" if p.out_c > 1 else f"Kernel{flip}"
        kernel = f"{label} {kernel_size(p)}"
        if p.groups > 1:
            kernel += ", " + group_channels(p, o)
    else:
        kernel = pool_rule(p, padding=s.padding)
    co, ho, wo = out_shape
    out = f"Output {co}×{ho}×{wo}" if co > 1 else f"Output {ho}×{wo}"
    return f"Input {size}{pad}", kernel, out


@dataclass(frozen=True)
class _Stage:
    """What the three forward panels show (one of forward, activation, gather)."""

    key: str
    x_padded: np.ndarray
    kinds: np.ndarray
    kernel: np.ndarray | None
    out_full: np.ndarray
    titles: tuple[str, str, str]
    levels: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    colours: tuple[ColourRole, ColourRole]
    unreached: bool = True
    #: Kinds of the output grid's cells (the gather view's dL/dX on the padded or spread grid: its
    #: padding and inserted cells dimmed as on the input), or None.
    out_kinds: np.ndarray | None = None


def _stage(s: _Scenario, st: _Stage, step: WindowStep, o: int, in_channel: int | None, done: int,
           expanded: bool, *, taps: bool) -> tuple[tuple[Panel, ...], list[Mark]]:
    """Input, kernel and output panels of a forward-style step, and its window, cell and tap marks."""
    inp = _panel("input", st.titles[0],
                 s.grids((st.key, "input"), st.x_padded, show=s.show_values, kinds=st.kinds,
                         unreached=st.unreached),
                 st.levels[0], st.colours[0], front=_first_channel(step, in_channel))
    if st.kernel is not None:
        kern = _kernel_panel(s, st.kernel, o, st.titles[1], expanded=expanded, levels=st.levels[1],
                             key=st.key + " kernel")
    else:
        kern = _pool_window_panel(s, st.titles[1])
    full = s.grids((st.key, "output"), st.out_full, show=s.show_values)
    if st.out_kinds is not None:  # dimmed and hatched, each keeping the number it received
        kinds = st.out_kinds
        full = s.memo((st.key, "output kinds"), lambda: tuple(replace(g, kinds=kinds) for g in full))
    out = _panel("output", st.titles[2], _pending(full, done), st.levels[2], st.colours[1], front=o)
    marks: list[Mark] = []
    if isinstance(step, engine.ConvStep):
        weights = step.weights

        def times(c: int) -> tuple[str, ...]:
            return tuple("×" + cell_label(v) for v in weights[c].ravel().tolist())

        marks += _window_marks(inp, step, expanded=expanded, in_channel=None, labels=times, special=None)
    else:
        marks += _window_marks(inp, step, expanded=expanded, in_channel=in_channel, labels=_no_labels,
                               special=_special(step))
    sigma: tuple[str, ...] = ()
    tap_marks: list[Mark] = []
    if taps and isinstance(step, engine.ConvStep) and step.tap is not None:
        c, i, j = step.tap
        n_in = st.kernel.shape[1] if st.kernel is not None else 1
        win = step.window
        tap_marks.append(Mark("tap", "kernel", (o * n_in + c) if expanded else c, (i, j), ((0, 0),)))
        first = _first_channel(step, None)
        tap_marks.append(Mark("tap", "input", first + c if expanded else first,
                              (int(win.rows[i]), int(win.cols[j])),
                              ((0, 0),)))
        sigma = ("Σ " + cell_label(step.value),)
    marks.append(Mark("cell", "output", o, (step.out_row, step.out_col), ((0, 0),), sigma))
    return (inp, kern, out), marks + tap_marks


def _forward_stage(s: _Scenario, key: str, out_full: np.ndarray, out_title: str | None, o: int) -> _Stage:
    """The input, the kernel of output channel ``o`` and ``out_full``, with the forward titles and levels."""
    t_in, t_kernel, t_out = _titles(s, o, out_full.shape)
    lv = s.levels
    return _Stage(key, s.x_padded, s.kinds, s.kernel, out_full, (t_in, t_kernel, out_title or t_out),
                  (lv["input"], lv["kernel"], lv["output"]), (_input_colour(s.params), "output"))


def _forward_frame(lesson: Lesson, s: _Scenario, k: int, expanded: bool) -> Frame:
    heading, note = _words(lesson)
    p, t = s.params, lesson.run.fwd
    step = t[k]
    z = np.asarray(t.output)
    if isinstance(step, engine.ConvStep):
        arith = describe.conv_arithmetic(step, show_bias=p.bias)
        o, in_channel, where = step.out_channel, None, f"output channel {step.out_channel}"
    else:
        assert isinstance(step, engine.PoolStep)
        arith = _pool_text(describe.pool_arithmetic(step), step)
        o, in_channel, where = step.channel, step.channel, f"channel {step.channel}"
    cap = f"Step {k + 1} of {s.n_steps}: {where}, cell ({step.out_row}, {step.out_col})"
    if p.mode == "both":
        cap = "Forward pass — " + cap
    if isinstance(t, engine.ConvTrace) and t.granularity == "tap":
        done = (k + 1) // t.taps_per_window  # output cells finished so far
    else:
        done = k + 1
    panels, marks = _stage(s, _forward_stage(s, "forward", z, None, o), step, o, in_channel, done, expanded,
                           taps=True)
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="forward", step=step,
        caption=f"{s.op_label} — {cap}", arithmetic=arith, panels=panels, marks=tuple(marks),
        formulas=s.formulas, parameter_line=s.parameter_line, param_count=s.param_count,
        unreached_rows=s.unreached_rows, unreached_cols=s.unreached_cols, x_padded=s.x_padded,
        kinds=s.kinds, kernel=s.kernel, output=_ro(t.partial(k)), output_full=z, done=done,
        levels=s.levels, offset=s.offset, glide_key=(p, "forward", expanded), expanded=expanded,
        show_values=s.show_values,
        heading=heading, note=note, facts=s.facts,
        motion=_travels(step, arith) if isinstance(step, engine.ConvStep) else pool_motion(step, arith),
    )


def _activation_frame(lesson: Lesson, s: _Scenario, k: int, expanded: bool) -> Frame:
    """The step after the last window: the activation applied to every output cell at once."""
    heading, note = _words(lesson)
    p, r = s.params, lesson.run
    t = r.fwd
    step = t[len(t) - 1]
    assert isinstance(step, engine.ConvStep) and r.y is not None
    z, y = np.asarray(t.output), r.y
    cap = f"Step {k + 1} of {s.n_steps}: the activation, {p.activation}, on every output cell"
    if p.mode == "both":
        cap = "Forward pass — " + cap
    zeroing = p.activation in ("relu", "leaky_relu")
    changed = _ro(z < 0) if zeroing else _ro(np.ones(z.shape, bool))
    o = step.out_channel
    stage = _forward_stage(s, "activation", y, f"Output after {p.activation}", o)
    panels, _ = _stage(s, stage, step, o, None, int(y.size), expanded, taps=False)
    cells = tuple((int(i), int(j)) for i, j in np.argwhere(changed[o]))
    marks = (Mark("changed", "output", o, (0, 0), cells),) if zeroing else ()
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="activation", step=step,
        caption=f"{s.op_label} — {cap}", arithmetic=describe.activation_text(p.activation, z, y),
        panels=panels, marks=marks, formulas=s.formulas, parameter_line=s.parameter_line,
        param_count=s.param_count, unreached_rows=s.unreached_rows, unreached_cols=s.unreached_cols,
        x_padded=s.x_padded, kinds=s.kinds, kernel=s.kernel, output=y, output_full=y, done=int(y.size),
        levels=s.levels, offset=s.offset, glide_key=(p, "activation", expanded), expanded=expanded,
        show_values=s.show_values,
        changed=changed,
        heading=heading, note=note, facts=s.facts,
    )


def _conv_backward_text(s: _Scenario, lesson: Lesson, step: engine.ConvBackwardStep,
                        grads: engine.Gradients, shown: np.ndarray) -> str:
    """The arithmetic of one backward convolution step, naming dL/dZ when an activation follows
    and leaving the bias out when there is none."""
    p, r = s.params, lesson.run
    o, i, j, g = step.out_channel, step.out_row, step.out_col, step.grad
    assert grads.grad_bias is not None
    text = describe.conv_backward_arithmetic(step, shown, s.offset, float(grads.grad_bias[o]))
    lines = text.split("\n")
    if s.fprime is not None and r.dy is not None:
        head = (f"dZ[{o},{i},{j}] = dY{describe.TIMES}{p.activation}′(Z) = "
                f"{_term(float(r.dy[o, i, j]))}{describe.TIMES}{_term(float(s.fprime[o, i, j]))} = "
                f"{describe.fmt(g)} flows back:")
    else:
        head = f"dY[{o},{i},{j}] = {describe.fmt(g)} flows back:"
    head += (f"  dX(window) += {_term(g)}{describe.TIMES}W[{o}]; "
             f"dW[{o}] += {_term(g)}{describe.TIMES}X(window)")
    if p.bias:
        head += f"; db[{o}] += {_term(g)} → {describe.fmt(float(grads.grad_bias[o]))}"
    return "\n".join([head, *lines[1:]])


def _count_labels(hits: np.ndarray) -> np.ndarray:
    """"2×" where two windows reached a cell, "" where none did (read-only, shape of ``hits``)."""
    uniq, inverse = np.unique(hits, return_inverse=True)
    names = np.array([f"{n}×" if n else "" for n in uniq.tolist()])
    labels = names[inverse.ravel()].reshape(hits.shape)
    labels.flags.writeable = False
    return labels


def _step_grids(stack: np.ndarray, *, show: bool, kinds: np.ndarray | None = None,
                corner: np.ndarray | None = None) -> tuple[Grid, ...]:
    """Grids of a stack ``(n, h, w)`` that changes every step."""
    blank = None if kinds is None else kinds == 2
    labels = cell_labels(stack, blank=blank) if show else None  # formatted for the stack at once
    return tuple(
        Grid(_ro(a), labels[c] if labels is not None else _blank_labels(a.shape), kinds,
             corner=None if corner is None else corner[c])
        for c, a in enumerate(stack)
    )


def _backward_frame(lesson: Lesson, s: _Scenario, kb: int, k: int, expanded: bool) -> Frame:
    heading, note = _words(lesson)
    p, r = s.params, lesson.run
    assert r.bwd is not None and r.y is not None and r.dy is not None
    step = r.bwd[kb]
    grads = r.bwd.partial(kb)
    shown = dx_shown(lesson, grads)
    lv = s.levels
    if isinstance(step, engine.ConvBackwardStep):
        o, in_channel = step.out_channel, None
        arith = _conv_backward_text(s, lesson, step, grads, shown)
        where = f"{'dZ' if p.has_activation else 'dY'} channel {o}"
        amounts = step.grad_input[0]
    else:
        assert isinstance(step, engine.PoolBackwardStep)
        o = in_channel = step.channel
        arith = _pool_text(describe.pool_backward_arithmetic(step, grads.grad_x_padded, s.offset), step)
        where = f"dY channel {o}"
        amounts = step.grad_input
    if r.loss is not None:
        arith = describe.loss_text(r.loss) + "\n" + arith
    cap = (f"{s.op_label} — Backward pass — step {k + 1} of {s.n_steps}: {where}, "
           f"cell ({step.out_row}, {step.out_col})")
    show = s.show_values
    front_in = _first_channel(step, in_channel)
    # Row 0: the forward tensors.
    in_title = "Input X" + (_spread_words(s) if p.is_transpose else "")
    inp = _panel("input", in_title, s.grids(("forward", "input"), s.x_padded, show=show, kinds=s.kinds,
                                             unreached=True),
                 lv["input"], _input_colour(p), front=front_in)
    index = f"[{o}]" if p.out_c > 1 and not expanded else ""  # the kernel this step reads, of several
    which = f"{index} of {p.out_c}" if index else ""
    if s.kernel is not None:
        kern = _kernel_panel(s, s.kernel, o, f"Kernel W{which}, flipped (as the gather picture slides it)"
                             if p.is_transpose else f"Kernel W{which}", expanded=expanded,
                             levels=lv["kernel"], key="forward kernel")
    else:
        kern = _pool_window_panel(s, pool_rule(p, padding=s.padding))
    out = _panel("output", "Output Y", s.grids(("backward", "y"), r.y, show=show), lv["output"], "output",
                 front=o)
    panels = [inp, kern, out]
    if r.loss is not None:
        target = s.grids(("backward", "target"), r.y - r.dy, show=show)
        panels.append(_panel("target", "Target T", target, lv["output"], "output", front=o))
    # Row 1: the gradients, under the tensors they belong to.
    corner = _count_labels(np.asarray(grads.hits)) if show else None
    dx_title = "dL/dX on the spread input (inserted · and padding cells drop theirs)" if p.is_transpose \
        else "dL/dX"
    dx = _panel("dx", dx_title, _step_grids(shown, show=show, kinds=s.kinds, corner=corner), lv["dx"],
                "diverging", front=front_in)
    panels.append(dx)
    if grads.grad_w is not None:
        gw = grads.grad_w
        n_in = gw.shape[1]
        title = f"dL/dW{index} (flipped, like W above)" if p.is_transpose else f"dL/dW{index}"
        if p.bias and grads.grad_bias is not None:  # the bias of the kernel shown, or of all of them
            db = grads.grad_bias.tolist()
            db_text = cell_label(db[o]) if index else ", ".join(map(cell_label, db))
            title += f", db{index} = {db_text}"
        if expanded:
            panels.append(_panel("dw", title, _step_grids(gw.reshape(-1, *gw.shape[2:]), show=True),
                                 lv["dw"], "diverging", columns=n_in))
        else:
            panels.append(_panel("dw", title, _step_grids(gw[o], show=True), lv["dw"], "diverging",
                                 columns=n_in, channel_base=o * n_in))
    if p.has_activation and r.dz is not None:
        entering, title = r.dz, f"dL/dZ = dL/dY ⊙ {p.activation}′(Z)"
    else:
        entering, title = r.dy, f"dL/dY ({UPSTREAM_SHORT[p.upstream]})"
    dyp = _panel("dy", title, s.grids(("backward", "dy"), entering, show=show), lv["dy"], "diverging",
                 front=o)
    panels.append(dyp)
    # Marks: the window on X and on dL/dX (with what each cell receives), the cell on Y and dL/dY.
    special = _special(step)
    grad_input = step.grad_input

    def received(c: int) -> tuple[str, ...]:
        a = grad_input[c] if isinstance(step, engine.ConvBackwardStep) else grad_input
        pooled = in_channel is not None  # pooling: only the cells that receive something
        return tuple("" if (v == 0 and pooled) else signed_label(v) for v in a.ravel().tolist())

    marks = [
        *_window_marks(inp, step, expanded=expanded, in_channel=in_channel, labels=_no_labels,
                       special=special),
        *_window_marks(dx, step, expanded=expanded, in_channel=in_channel, labels=received,
                       special=special),
        Mark("cell", "output", o, (step.out_row, step.out_col), ((0, 0),)),
        Mark("cell", "dy", o, (step.out_row, step.out_col), ((0, 0),)),
    ]
    at, cells, _ = _window_offsets(step.window)
    flat = [float(v) for v in np.ravel(amounts)]
    top = max((abs(v) for v in flat), default=0.0) or 1.0
    flow = Flow("dy", o, (step.out_row, step.out_col), "dx", dx.front,
                tuple((at[0] + a, at[1] + b) for a, b in cells), tuple(v / top for v in flat))
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="backward", step=step, caption=cap,
        arithmetic=arith, panels=tuple(panels), marks=tuple(marks), flows=(flow,), formulas=s.formulas,
        parameter_line=s.parameter_line, param_count=s.param_count, unreached_rows=s.unreached_rows,
        unreached_cols=s.unreached_cols, x_padded=s.x_padded, kinds=s.kinds, kernel=s.kernel,
        output=r.y, output_full=r.y, done=int(r.y.size), levels=lv, offset=s.offset,
        glide_key=(p, "backward", expanded), expanded=expanded, show_values=s.show_values,
        grads=grads, dy=r.dy, dz=r.dz, dx_shown=_ro(shown), y_full=r.y, loss=r.loss,
        heading=heading, note=note, facts=s.facts,
    )


def _gather_parts(lesson: Lesson, s: _Scenario) -> tuple[np.ndarray, Mapping[str, tuple[float, float]]]:
    """The gather view's grid kinds (real dL/dY cells, inserted zeros, padding) and levels.

    The ring the transposed convolution pads with is padding (kind 1); every other zero of the
    spread was inserted between (or after) the dL/dY values (kind 3), and reads "·".
    """
    gv = lesson.run.gather
    assert gv is not None
    g = lesson.run.fwd.geometry
    spread = gv.dy_spread
    ph, pw = g.rows.dilation * (g.rows.kernel - 1), g.cols.dilation * (g.cols.kernel - 1)
    hs, ws = spread.shape[1:]
    kinds = np.ones((hs, ws), dtype=np.int8)
    kinds[ph : hs - ph, pw : ws - pw] = 3
    kinds[ph : ph + (g.rows.out - 1) * g.rows.stride + 1 : g.rows.stride,
          pw : pw + (g.cols.out - 1) * g.cols.stride + 1 : g.cols.stride] = 0
    levels = {"input": _levels(spread, symmetric=True), "kernel": _levels(gv.kernel, symmetric=True),
              "output": _levels(gv.grad_x_padded, symmetric=True)}
    return _interned_kinds(kinds), MappingProxyType(levels)


def _gather_frame(lesson: Lesson, s: _Scenario, kg: int, k: int, expanded: bool) -> Frame:
    """The gather view: a forward correlation of the spread dY with the flipped kernel."""
    heading, note = _words(lesson)
    p, r = s.params, lesson.run
    gv = r.gather
    assert gv is not None
    t = gv.trace
    step = t[kg]
    kinds, levels = s.memo("gather", lambda: _gather_parts(lesson, s))
    spread = np.asarray(gv.dy_spread)
    out = t.partial(kg)
    arith = describe.conv_arithmetic(step, show_bias=False)
    arith = f"dX_padded[{step.out_channel},{step.out_row},{step.out_col}] = " + arith
    motion = _travels(step, arith, start=arith.index(" = ") + 3)
    if kg == len(t) - 1:  # every cell gathered: the output as a whole against the scatter's
        check = r.gather_check()
        assert check is not None
        agree, diff = check
        arith += (f"\nGather and scatter agree cell for cell (largest difference {describe.fmt(diff)})"
                  if agree else f"\nGather and scatter differ by up to {describe.fmt(diff)}")
    cap = (f"{s.op_label} — Backward pass, gather view (transposed convolution) — step {k + 1} of "
           f"{s.n_steps}: channel {step.out_channel}, dX_padded cell ({step.out_row}, {step.out_col})")
    o = step.out_channel
    stage = _Stage(
        "gather", spread, kinds, np.asarray(gv.kernel), np.asarray(t.output),
        (f"dL/d{'Z' if p.has_activation else 'Y'} spread (· = inserted zero), padded",
         "W flipped, channels swapped", "dL/dX (padded grid)"),
        (levels["input"], levels["kernel"], levels["output"]), ("diverging", "diverging"), unreached=False,
        out_kinds=s.kinds if s.kinds.shape == t.output.shape[1:] else None,
    )
    panels, marks = _stage(s, stage, step, o, None, kg + 1, expanded, taps=False)
    empty = np.array([], dtype=int)
    return Frame(
        params=p, step_index=k, n_steps=s.n_steps, phase="gather", step=step, caption=cap,
        arithmetic=arith, panels=panels, marks=tuple(marks), formulas=s.formulas,
        parameter_line=s.parameter_line, param_count=s.param_count, unreached_rows=empty,
        unreached_cols=empty, x_padded=spread, kinds=kinds, kernel=np.asarray(gv.kernel), output=_ro(out),
        output_full=np.asarray(t.output), done=kg + 1, levels=levels, offset=(0, 0),
        glide_key=(p, "gather", expanded), expanded=expanded, show_values=s.show_values,
        dy=r.dy, dz=r.dz, loss=r.loss,
        heading=heading, note=note, facts=s.facts, motion=motion,
    )

