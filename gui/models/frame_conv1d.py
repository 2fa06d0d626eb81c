"""The 1-D convolution's frames: a signal drawn as rows, in 1-D words.

The lesson runs a 1-D convolution as ``engine.conv1d``'s height-1 problem, so
``framing`` builds its frames like a 2-D convolution's with the channels side
by side (``expanded``), one channel a row. ``conv1d_frame`` then says it in
1-D terms: the signal, kernel and output titles with lengths, the kernel of
the current output channel as ``C_in/groups`` rows (each under the input row
it multiplies), the one output-size formula
``L_out = ⌊(L + p_left + p_right − d·(k−1) − 1) / s⌋ + 1`` with its numbers,
the parameter count ``k·C_in/groups·C_out``, what causal padding and
dilation mean for the span an output reads, and indices without the row
(``X[c,t]``, "position t"). Qt-free.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import replace
from typing import TYPE_CHECKING

import engine
from engine import describe

from .frame import Frame, Panel
from .framing import INDEX_NOTE, group_channels, group_words
from .motion import relocate
from .params import Params

if TYPE_CHECKING:
    from .lesson import Lesson, Run

__all__ = ["conv1d_facts", "conv1d_formula", "conv1d_frame", "reach_words"]

#: ``X[c,0,t]`` → ``X[c,t]``: every row index of the height-1 problem is 0.
_INDEX = re.compile(r"\[(\d+),0,(\d+)\]")
#: "cell (0, t)" → "position t".
_CELL = re.compile(r"cell \(0, (\d+)\)")


def conv1d_formula(lesson: Lesson) -> tuple[str, str]:
    """The output-length formula, general and with the lesson's numbers filled in.

    Returns
    -------
    (general, filled) : tuple of str
        ``L_out = ⌊(L + p_left + p_right − d·(k−1) − 1) / s⌋ + 1`` and e.g.
        ``⌊(10 + 2 + 0 − 1·(3−1) − 1) / 1⌋ + 1 = 10``.
    """
    return describe.output_size_formula(lesson.run.fwd.geometry.cols, "L")


def reach_words(p: Params, left: int) -> str:
    """Which inputs output ``t`` reads, in words: "output t reads inputs t−2 … t (causal: never the
    future)", "… t−2, t, t+2 (dilation 2)", for stride 1; "… 2t−1 … 2t+1" for stride 2."""
    k, s, d = p.k_w, p.stride[1], p.dilation[1]
    m = describe.MINUS

    def at(q: int) -> str:
        off = q * d - left
        base = "t" if s == 1 else f"{s}t"
        return base if off == 0 else f"{base}{m}{-off}" if off < 0 else f"{base}+{off}"

    taps = [at(q) for q in range(k)]
    listed = ", ".join(taps) if d > 1 or k <= 3 else f"{taps[0]} … {taps[-1]}"
    text = f"output t reads inputs {listed}"
    if p.pad_kind == "causal":
        text += " (causal: never the future)"
    return text


def conv1d_facts(lesson: Lesson) -> tuple[str, ...]:
    """The statements on a 1-D convolution's stage (see ``Frame.facts``)."""
    p = lesson.params
    g = lesson.run.fwd.geometry.cols
    k, d = p.k_w, p.dilation[1]
    parts = [f"L_out = {conv1d_formula(lesson)[1]}", _parameter_line(p)]
    span = d * (k - 1) + 1
    m, times = describe.MINUS, describe.TIMES
    if p.pad_kind == "causal":
        parts.append(f"causal padding: d{times}(k{m}1) = {d}{times}({k}{m}1) = {g.before} on the left only")
    if d > 1 or p.pad_kind == "causal":
        parts.append(f"each output reads a span of d{times}(k{m}1) + 1 = {span} samples: "
                     + reach_words(p, g.before))
    if p.groups > 1:
        parts.append(group_words(p))
    never = g.unreached()
    if never.size:
        where = ", ".join(str(int(c)) for c in never)
        parts.append(f"never reached by a window (hatched): positions {where}")
    parts.append(INDEX_NOTE)
    return tuple(parts)


def _parameter_line(p: Params) -> str:
    biases = f" + {p.out_c} biases" if p.bias else ""
    count = engine.conv_param_count(p.group_in, p.out_c, 1, p.k_w, p.bias)
    return f"Parameters: {p.k_w}·{p.group_in}·{p.out_c} weights{biases} = {count}"


def _channels(n: int) -> str:
    return "1 channel" if n == 1 else f"{n} channels"


def _titles(lesson: Lesson, o: int) -> dict[str, str]:
    """The forward titles in 1-D words: the signal's, the kernel's and the output's channels and lengths."""
    p = lesson.params
    g = lesson.run.fwd.geometry.cols
    pad = ""
    if p.pad_kind == "causal":
        pad = f", causal padding {g.before} on the left"
    elif g.before or g.after:
        pad = f", padded {g.before} left, {g.after} right" if g.before != g.after else f", padded {g.before}"
    if pad and p.padding_mode != "zeros":
        pad += f" ({p.padding_mode})"
    label = f"Kernel W[{o}] of {p.out_c}" if p.out_c > 1 else "Kernel"
    kernel = f"{label}: {_channels(p.group_in)} × length {p.k_w}"
    if p.dilation[1] > 1:
        kernel += f", dilation {p.dilation[1]}"
    if p.groups > 1:
        kernel += ", " + group_channels(p, o)
    return {
        "input": f"Signal X: {_channels(p.in_c)} × length {p.in_w}{pad}",
        "kernel": kernel,
        "output": f"Output Y: {_channels(p.out_c)} × length {g.out}",
    }


def _phase_titles(lesson: Lesson, frame: Frame, o: int) -> dict[str, str]:
    """The titles a 1-D frame changes, phase by phase: the forward ones with lengths (the activation
    keeps its "Output after …"); backward, the signal is "Signal X" as forward calls it, beside the
    gradients named as in 2-D (dL/dX, dL/dW, dL/dY); the gather view's dL/dX lies on the padded signal.
    Never the height-1 problem's 2-D words ("Input 2×1×11", "Kernel 1×3")."""
    if frame.phase in ("forward", "activation"):
        titles = _titles(lesson, o)
        if frame.phase == "activation":
            titles.pop("output")
        return titles
    if frame.phase == "backward":
        return {"input": "Signal X"}
    out = frame.panel("output")
    return {} if out is None else {"output": out.title.replace("padded grid", "padded signal")}


def _own_kernel(panel: Panel, n_in: int, o: int) -> Panel:
    """The kernel panel of every output channel (side by side), cut to output channel ``o``'s rows;
    every kernel's rows kept as its ``stacks`` (the stage view's boxes each carry their numbers)."""
    if len(panel.grids) <= n_in:
        return panel
    stacks = tuple(panel.grids[q:q + n_in] for q in range(0, len(panel.grids), n_in))
    return replace(panel, grids=stacks[o], columns=1, channel_base=o * n_in,
                   stacks=stacks if panel.name == "kernel" else ())


def conv1d_frame(lesson: Lesson, frame: Frame) -> Frame:
    """``frame`` (built with the channels side by side) in 1-D words and rows.

    Parameters
    ----------
    lesson : Lesson
        A 1-D convolution (``lesson.params.is_1d``).
    frame : Frame
        ``framing``'s frame of one of its steps, ``expanded=True``.
    """
    p = lesson.params
    n_in = p.group_in
    step = frame.step
    o = int(getattr(step, "out_channel", 0))
    titles = _phase_titles(lesson, frame, o)
    panels = []
    for panel in frame.panels:
        if panel.name in ("kernel", "dw") and frame.phase != "gather":
            panel = _own_kernel(panel, n_in, o)
        if panel.name in titles:
            panel = replace(panel, title=titles[panel.name])
        panels.append(replace(panel, columns=1))
    marks = tuple(
        replace(m, grid=m.grid - o * n_in) if m.panel == "kernel" and m.style == "tap" and m.grid >= n_in
        else m for m in frame.marks
    )
    formula, facts = _words(lesson)
    arithmetic = _in_1d(frame.arithmetic)
    return replace(
        frame, panels=tuple(panels), marks=marks, formulas=(formula,), parameter_line=facts[1],
        caption=_in_1d(frame.caption), arithmetic=arithmetic, facts=facts,
        motion=relocate(frame.motion, arithmetic),
    )


#: The formula and facts of each run (the same for all its steps), worked out once.
_WORDS: weakref.WeakKeyDictionary[Run, tuple[tuple[str, str], tuple[str, ...]]] = weakref.WeakKeyDictionary()


def _words(lesson: Lesson) -> tuple[tuple[str, str], tuple[str, ...]]:
    words = _WORDS.get(lesson.run)
    if words is None:
        words = _WORDS[lesson.run] = (conv1d_formula(lesson), conv1d_facts(lesson))
    return words


def _in_1d(text: str) -> str:
    """A caption or arithmetic of the height-1 problem in 1-D indices: ``X[c,t]``, "position t"."""
    return _CELL.sub(r"position \1", _INDEX.sub(r"[\1,\2]", text))
