"""What pointing at the stage means: hover, pin, select, edit and check a gradient.

Everything here is interaction logic that is not painting: padded-to-input
coordinates, the kernel-flip mapping, receptive fields and the outputs an input
cell feeds, which cells may be edited and how, and the wording of the gradient
check. The Qt shell turns a mouse event into a call here and shows what comes
back (``Highlight`` values for the painter, texts for the status bar).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine import TransposeGatherTrace
from engine.describe import fmt
from engine.geometry import AxisGeometry

from .choices import PanelName
from .frame import Highlight, cell_label
from .lesson import GradientCheck, Lesson
from .weight_reach import scatter_reach, weight_reach

#: The gradient check looks at an input cell ``("x", (c, i, j))`` or a weight ``("w", (o, c, i, j))``.
Selection = tuple[Literal["x", "w"], tuple[int, ...]]
#: Panels whose cells stand for an output cell (Y) or an input cell (X) when hovered.
_AS_OUTPUT = {"output": "output", "dy": "output"}
_AS_INPUT = {"input": "input", "dx": "input"}


@dataclass(frozen=True)
class Hover:
    """What to light and say for the cell under the mouse (or a pinned one).

    Attributes
    ----------
    receptive : Highlight or None
        Input cells an output cell reads.
    fed : Highlight or None
        Output cells an input cell feeds, labelled with the kernel tap that multiplies it.
    source : Highlight or None
        The real cell a reflect, replicate or circular padding cell copies (on the hovered panel).
    status : str
        One line for the status bar ("" for none). Cells are named 0-based: real input cells by
        their place in X, padding cells by their place in the padded grid (no negative indices).
    line : str
        Shown where the step's arithmetic goes while the cell is hovered ("" keeps the step's):
        a weight's gradient as the sum it is, with the real numbers.
    """

    receptive: Highlight | None = None
    fed: Highlight | None = None
    status: str = ""
    source: Highlight | None = None
    line: str = ""


NOTHING = Hover()


@dataclass(frozen=True)
class Edit:
    """A cell the user may type a value into.

    Attributes
    ----------
    title : str
        The dialog's title ("Edit input").
    label : str
        Which value ("Input [0, 1, 2]").
    value : float
        The value now.
    apply : callable
        ``apply(v) -> bool``: set the value (False when the lesson refused it).
    """

    title: str
    label: str
    value: float
    apply: Callable[[float], bool]


def gather_shown(lesson: Lesson) -> bool:
    """True while the gather view is on the stage: its panels are not X, W and Y."""
    return lesson.frame().phase == "gather"


def scatter_shown(lesson: Lesson) -> bool:
    """True while a transposed convolution's scatter picture is on the stage (input unpadded)."""
    return lesson.frame().phase == "scatter"


def _spread_source(lesson: Lesson, i: int, j: int) -> tuple[int, int] | None:
    """A transposed convolution's input cell at spread cell ``(i, j)``; None on an inserted zero or
    padding."""
    trace = lesson.trace
    if not isinstance(trace, TransposeGatherTrace):
        return None
    sr, sc = trace.spread.source_rows, trace.spread.source_cols
    if 0 <= i < sr.size and 0 <= j < sc.size and sr[i] >= 0 and sc[j] >= 0:
        return int(sr[i]), int(sc[j])
    return None


def padded_to_input(lesson: Lesson, i: int, j: int) -> tuple[int, int] | None:
    """The input cell ``(r, c)`` under padded cell ``(i, j)``, or None on padding.

    A transposed convolution's input is drawn spread (gather picture: inserted zeros and
    padding are no input cell) or as it is (scatter picture)."""
    if lesson.params.is_transpose:
        if scatter_shown(lesson):
            return i, j
        return _spread_source(lesson, i, j)
    g = lesson.trace.geometry
    r, c = i - g.rows.before, j - g.cols.before
    if 0 <= r < g.rows.size and 0 <= c < g.cols.size:
        return r, c
    return None


def given_tap(lesson: Lesson, i: int, j: int) -> tuple[int, int]:
    """Kernel cell on the stage (flipped when ``flip_kernel``, and in a transposed convolution's
    gather picture) to the weight as entered."""
    p = lesson.params
    flipped = p.flip_kernel or (p.is_transpose and not scatter_shown(lesson))
    return (p.k_h - 1 - i, p.k_w - 1 - j) if flipped else (i, j)


def index_words(index: tuple[int, ...], one_d: bool) -> str:
    """A cell's index as said: ``"0, 2, 3"``; in a 1-D lesson without the row, which is always 0
    (``X[c, t]``, ``W[o, c, q]``, ``dL/dY[o, t]``): ``"0, 3"``."""
    return ", ".join(str(int(v)) for v in (index[:-2] + index[-1:] if one_d else index))


def _span(g: AxisGeometry, taps: np.ndarray, word: str) -> str:
    """The input rows (or columns) a window's taps read, 0-based, and how many padding ones.

    "rows 0–2", "rows 0, 2, 4" (dilated), "row 0 and 1 padding row", "only padding rows".
    """
    real = [int(t) - g.before for t in taps if g.before <= t < g.before + g.size]
    pads = len(taps) - len(real)
    if not real:
        return f"only padding {word}s"
    if len(real) == 1:
        text = f"{word} {real[0]}"
    elif real == list(range(real[0], real[-1] + 1)):
        text = f"{word}s {real[0]}–{real[-1]}"
    else:
        text = f"{word}s " + ", ".join(str(r) for r in real)
    if pads:
        text += f" and {pads} padding {word}{'s' if pads > 1 else ''}"
    return text


def _rows_1d(lesson: Lesson, ch: int | None, of_output: bool) -> tuple[int, ...]:
    """A 1-D lesson's channel rows of the other panel that channel ``ch`` meets, groups respected:
    the input rows output channel ``ch`` reads (``of_output``), or the output rows input channel
    ``ch`` feeds. ``ch`` None: the output channel of the step on the stage."""
    p = lesson.params
    per_out = max(p.out_c // max(p.groups, 1), 1)
    if ch is None:
        ch, of_output = int(getattr(lesson.frame().step, "out_channel", 0)), True
    group = ch // per_out if of_output else ch // p.group_in
    first, n = (group * p.group_in, p.group_in) if of_output else (group * per_out, per_out)
    return tuple(range(first, first + n))


def _channels_said(rows: tuple[int, ...]) -> str:
    return f"channel {rows[0]}" if len(rows) == 1 else f"channels {rows[0]}–{rows[-1]}"


def receptive_field(lesson: Lesson, i: int, j: int, ch: int | None = None) -> Hover:
    """The padded input cells output cell ``(i, j)`` reads; in a 1-D lesson on every channel row
    output channel ``ch`` reads (None: the channel of the step on the stage)."""
    g = lesson.trace.geometry
    rows, cols = g.window(i, j)
    cells = tuple((int(r), int(c)) for r in rows for c in cols)
    if lesson.params.is_1d:  # a signal: positions, no rows; every channel row of the group
        lit = _rows_1d(lesson, ch, True)
        where = f" of {_channels_said(lit)}" if lesson.params.in_c > 1 else ""
        return Hover(receptive=Highlight("input", cells, grids=lit),
                     status=f"Output position {j} reads input {_span(g.cols, cols, 'position')}{where}")
    return Hover(
        receptive=Highlight("input", cells),
        status=(f"Output cell ({i}, {j}) reads input {_span(g.rows, rows, 'row')}; "
                f"{_span(g.cols, cols, 'column')}"),
    )


def fed_outputs(lesson: Lesson, i: int, j: int, panel: str = "input", ch: int | None = None) -> Hover:
    """The output cells padded input cell ``(i, j)`` feeds, each with its kernel tap; on a padding
    cell also what it holds, and the real cell it copies (lit) in reflect, replicate and circular
    padding. In a 1-D lesson the output rows input channel ``ch`` feeds are lit, and the copied
    sample on row ``ch``."""
    g = lesson.trace.geometry
    feeds = g.feeds(i, j)
    fed = Highlight("output", tuple((oh, ow) for oh, ow, _, _ in feeds),
                    tuple(f"w{ki},{kj}" for _, _, ki, kj in feeds))
    one_d = lesson.params.is_1d  # a signal: positions, no rows, and taps w0, w1, … along it
    n = f"{len(feeds)} output{'' if one_d else ' cell'}{'' if len(feeds) == 1 else 's'}"
    if one_d:
        fed = Highlight("output", fed.cells, tuple(f"w{kj}" for _, _, _, kj in feeds),
                        grids=() if ch is None else _rows_1d(lesson, ch, False))
    r, c = i - g.rows.before, j - g.cols.before
    if 0 <= r < g.rows.size and 0 <= c < g.cols.size:
        return Hover(fed=fed, status=f"Input position {c} feeds {n}" if one_d
                     else f"Input cell ({r}, {c}) feeds {n}")
    src_r, src_c = g.rows.sources(), g.cols.sources()
    sr = int(src_r[i]) if i < src_r.size else -2
    sc = int(src_c[j]) if j < src_c.size else -2
    grad = panel == "dx"
    padded = f"position {j} of the padded signal" if one_d else f"cell ({i}, {j}) of the padded grid"
    if sr == -2 or sc == -2:
        what = "Overhang " + padded.replace(" of the", " of dL/dX's" if grad else " of the", 1)
        return Hover(fed=fed, status=f"{what} lies past the padding (ceil_mode); it feeds {n}")
    place = f"Padding {padded}"
    if sr >= 0 and sc >= 0:
        mode = lesson.params.padding_mode
        lit: PanelName = "dx" if grad else "input"
        source = Highlight(lit, ((sr + g.rows.before, sc + g.cols.before),),
                           grids=(ch,) if one_d and ch is not None else ())
        copied = f"input position {sc}" if one_d else f"input cell ({sr}, {sc})"
        if grad:
            status = (f"{place} ({mode} padding) copies {copied}: the gradient it "
                      f"receives is added to dL/dX there; it feeds {n}")
        else:
            status = f"{place} copies {copied} ({mode} padding); it feeds {n}"
        return Hover(fed=fed, source=source, status=status)
    if grad:
        return Hover(fed=fed, status=f"{place} receives gradient and drops it (it copies no input cell)")
    held = cell_label(float(lesson.frame().x_padded[0, i, j]))
    return Hover(fed=fed, status=f"{place} holds {held}; it feeds {n}")


def _transposed_hover(lesson: Lesson, panel: str, i: int, j: int) -> Hover:
    """Hover in a transposed convolution: what an output cell gathers, where an input cell stamps."""
    scatter = lesson.run.scatter
    if scatter is not None and scatter_shown(lesson):
        s = scatter.setup
        (sh, sw), (ph, pw), (dh, dw) = s.stride, s.padding, s.dilation
        kh, kw = s.w.shape[2:]
        ho, wo = s.out_hw
        if panel in _AS_INPUT:
            cells = tuple((i * sh - ph + dh * a, j * sw - pw + dw * b) for a in range(kh) for b in range(kw))
            inside = tuple((r, c) for r, c in cells if 0 <= r < ho and 0 <= c < wo)
            return Hover(fed=Highlight("output", inside),
                         status=f"Input cell ({i}, {j}) stamps x·W onto {len(inside)} output cell"
                                f"{'' if len(inside) == 1 else 's'}")
        if panel in _AS_OUTPUT:
            h, w = scatter.x.shape[1:]
            srcs = tuple((a, b) for a in range(h) for b in range(w)
                         if any(a * sh - ph + dh * t == i for t in range(kh))
                         and any(b * sw - pw + dw * t == j for t in range(kw)))
            return Hover(receptive=Highlight("input", srcs),
                         status=f"Output cell ({i}, {j}) adds the stamps of {len(srcs)} input cell"
                                f"{'' if len(srcs) == 1 else 's'}")
        return NOTHING
    g = lesson.trace.geometry
    if panel in _AS_OUTPUT:
        rows, cols = g.window(i, j)
        cells = tuple((int(r), int(c)) for r in rows for c in cols)
        real = [rc for r in rows for c in cols if (rc := _spread_source(lesson, int(r), int(c))) is not None]
        named = ", ".join(f"({a}, {b})" for a, b in real) or "none: only inserted zeros and padding"
        return Hover(receptive=Highlight("input", cells),
                     status=f"Output cell ({i}, {j}) reads {len(cells)} spread cells; real input cells: "
                            f"{named}")
    if panel in _AS_INPUT:
        feeds = g.feeds(i, j)
        fed = Highlight("output", tuple((oh, ow) for oh, ow, _, _ in feeds),
                        tuple(f"w{ki},{kj}" for _, _, ki, kj in feeds))
        rc = _spread_source(lesson, i, j)
        if rc is not None:
            what = f"Input cell ({rc[0]}, {rc[1]})"
        else:
            kind = "padding" if lesson.frame().kinds[i, j] == 1 else "inserted by the stride"
            what = f"Spread cell ({i}, {j}) holds a zero that is no input value ({kind}); it"
        n = len(feeds)
        return Hover(fed=fed, status=f"{what} feeds {n} output cell{'' if n == 1 else 's'}")
    return NOTHING


def weight_hover(lesson: Lesson, ch: int, i: int, j: int) -> Hover:
    """Kernel (or dL/dW) cell ``(i, j)`` of stack ``ch = o·C_in/groups + c``: the input cells the weight
    multiplies over all the steps (what its gradient sums over), and backward, that sum."""
    p = lesson.params
    o, c = divmod(ch, p.group_in)
    weight = (o, c, *given_tap(lesson, i, j))
    scatter = scatter_shown(lesson)  # a transposed convolution's kernel as entered, over the input
    reach = scatter_reach(lesson, o, c, i, j) if scatter else weight_reach(lesson, o, c, i, j)
    n = len(reach.cells)
    what = f"{n} input cell{'' if n == 1 else 's'}"
    if p.is_transpose and not scatter:  # the gather picture: the spread input, with its inserted zeros
        real = sum(_spread_source(lesson, r, col) is not None for r, col in reach.cells)
        what = f"{n} spread cells ({real} real input value{'' if real == 1 else 's'})"
    status = reach.line or (f"W{list(weight)} multiplies {what} of channel "
                            f"{reach.channel} over all the steps: its gradient sums over exactly these")
    # Several input channels: light the grid of the channel the weight reads, not the front one.
    grids = (reach.channel,) if p.in_c > 1 else ()
    return Hover(receptive=Highlight("input", reach.cells, grids=grids), status=status, line=reach.line)


def hover(lesson: Lesson, panel: str, i: int, j: int, ch: int | None = None) -> Hover:
    """What hovering cell ``(i, j)`` of ``panel`` (on its tile ``ch``, when known) lights (nothing in
    the gather view)."""
    if not panel or gather_shown(lesson):
        return NOTHING
    if lesson.params.drawn_as == "matrix":
        from .matrix_pointing import matrix_hover

        return matrix_hover(lesson, panel, i, j, ch)
    if panel in ("kernel", "dw") and lesson.params.is_conv:
        return weight_hover(lesson, ch or 0, i, j)
    if lesson.params.is_transpose:
        return _transposed_hover(lesson, panel, i, j)
    if panel in _AS_OUTPUT:
        return receptive_field(lesson, i, j, ch)
    if panel in _AS_INPUT:
        return fed_outputs(lesson, i, j, panel, ch)
    return NOTHING


@dataclass(frozen=True)
class Click:
    """What a click did.

    Attributes
    ----------
    selection : Selection or None
        The new cell for the gradient check (None: unchanged).
    pin : tuple of int or None
        The output cell to pin; ``unpin`` says to release the pin.
    status : str
    """

    selection: Selection | None = None
    pin: tuple[int, int] | None = None
    unpin: bool = False
    status: str = ""


def click(lesson: Lesson, panel: str, ch: int, i: int, j: int, pinned: tuple[int, int] | None) -> Click:
    """A click on cell ``(i, j)`` of tile ``ch`` of ``panel``: select for the check, or pin."""
    if lesson.params.drawn_as == "matrix":
        from .matrix_pointing import matrix_click

        return matrix_click(lesson, panel, i, j)
    if gather_shown(lesson):
        return Click(status="The gather view shows dL/dY spread out and the flipped kernel; "
                            "switch it off to select or pin cells")
    p = lesson.params
    if panel in _AS_INPUT:
        rc = padded_to_input(lesson, i, j)
        if rc is None:
            return Click()
        sel: Selection = ("x", (ch, *rc))
        at = f"{ch},{rc[1]}" if p.is_1d else f"{ch},{rc[0]},{rc[1]}"
        status = f"Selected X[{at}] for the gradient check (Ctrl+G)"
        return Click(selection=sel, status=status)
    if panel in ("kernel", "dw") and p.is_conv:
        o, c = divmod(ch, p.group_in)
        sel = ("w", (o, c, *given_tap(lesson, i, j)))
        return Click(selection=sel,
                     status=f"Selected W[{index_words(sel[1], p.is_1d)}] for the gradient check (Ctrl+G)")
    if panel not in _AS_OUTPUT:
        return Click()
    if pinned == (i, j):
        return Click(unpin=True)
    rf = receptive_field(lesson, i, j, ch if p.is_1d else None)
    return Click(pin=(i, j), status=rf.status + "  (pinned: click again or press Esc to release)")


def edit(lesson: Lesson, panel: str, ch: int, i: int, j: int) -> Edit | str:
    """The value a double-click on a cell lets the user type, or why it cannot be edited ("" for silence)."""
    p = lesson.params
    if p.drawn_as == "matrix":
        from .matrix_pointing import matrix_edit

        return matrix_edit(lesson, panel, i, j)
    if gather_shown(lesson):
        return "The gather view is computed from dL/dY; switch it off to edit values"
    if panel == "dy" and p.has_activation:
        return (f"This panel shows dL/dZ = dL/dY·{p.activation}′(Z); set the activation to none "
                "to type dL/dY.")
    run = lesson.run
    if panel == "dy" and run.dy is not None:
        at = index_words((ch, i, j), p.is_1d)
        return Edit("Edit dL/dY", f"dL/dY [{at}]", float(run.dy[ch, i, j]),
                    lambda v: lesson.set_upstream_value(ch, i, j, v))
    target = lesson.target
    if panel == "target" and target is not None:
        return Edit("Edit target", f"T [{index_words((ch, i, j), p.is_1d)}]", float(target[ch, i, j]),
                    lambda v: lesson.set_target_value(ch, i, j, v))
    if panel == "input":
        rc = padded_to_input(lesson, i, j)
        if rc is None:
            return "Padding cells follow the padding mode; edit a real input cell"
        r, c = rc
        return Edit("Edit input", f"Input [{index_words((ch, r, c), p.is_1d)}]", float(lesson.x[ch, r, c]),
                    lambda v: lesson.set_input_value(ch, r, c, v))
    if panel == "kernel" and p.is_conv:
        o, c = divmod(ch, p.group_in)
        pi, pj = given_tap(lesson, i, j)
        at = index_words((o, c, pi, pj), p.is_1d)
        return Edit("Edit kernel", f"Weight [{at}]", float(lesson.w[o, c, pi, pj]),
                    lambda v: lesson.set_kernel_value(o, c, pi, pj, v))
    return ""


def gradient_check_job(lesson: Lesson, selected: Selection) -> Callable[[], GradientCheck | str] | str:
    """The gradient check of the selected cell as work to run (any thread), or at once what to say instead.

    The request is checked now, on the lesson's thread (a weight picked in a
    pooling lesson checks input cell ``(0, 0, 0)``); the work returns the numbers, or
    what went wrong in plain words; ``check_text`` words either.
    """
    if lesson.params.mode == "forward":
        return "Switch the pass to Backward to check a gradient."
    wrt, index = selected
    if wrt == "w" and not lesson.params.is_conv:
        wrt, index = "x", (0, 0, 0)
    try:
        work = lesson.gradient_check_job(wrt, index)
    except (ValueError, IndexError) as exc:
        return f"Cannot check: {exc}"

    def run() -> GradientCheck | str:
        try:
            return work()
        except (ValueError, IndexError) as exc:
            return f"Cannot check: {exc}"

    return run


def check_text(check: GradientCheck | str) -> str:
    """A gradient check's result as rich text for the controls (a string is said as it is)."""
    if isinstance(check, str):
        return check
    analytic, numeric, left, right = check.analytic, check.numeric, check.left, check.right
    name = f"{'dL/dX' if check.wrt == 'x' else 'dL/dW'}[{index_words(check.index, check.one_d)}]"
    text = (f"<b>{name}</b><br>analytic: {fmt(analytic)}<br>finite difference (ε = 1e−6): "
            f"{fmt(numeric, 10)}<br>difference: {abs(analytic - numeric):.2e}")
    if abs(left - right) > 1e-4 * max(1.0, abs(left), abs(right)):
        text += (f"<br><i>The loss has a kink here (a tie in the pooling window, or an activation at "
                 f"exactly 0): its slope is {fmt(left, 6)} from the left and {fmt(right, 6)} from the "
                 f"right. The centred difference averages them; backpropagation takes one, as "
                 f"PyTorch does.</i>")
    return text


def check_gradient_text(lesson: Lesson, selected: Selection) -> str:
    """The gradient check of the selected cell, worked out now, as rich text for the controls."""
    job = gradient_check_job(lesson, selected)
    return check_text(job if isinstance(job, str) else job())
