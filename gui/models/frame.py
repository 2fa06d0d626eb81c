"""The Frame: everything one picture of the stage shows, decided once, as data.

``gui.models.framing.build_frame(lesson, k)`` makes the frame of step ``k``. A frame names every
panel with its exact title, every cell with its value and the exact label
painted in it, every highlight with its labels, the caption, the arithmetic,
the formulas, the colour levels and the legends. Painters and exports read it
and interpret nothing; tests read it instead of pixels.

What stays the same across the steps of one scenario (the input and kernel
grids and their labels, the finished output, levels, formulas) is built once
per lesson change and shared by the frames of its steps, so a step costs the
engine's step, a few strings and the gradients that change.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

import engine
from engine import describe
from engine.cancel import checkpoint

from .choices import PanelName, Phase, View
from .motion import Motion
from .params import Params

if TYPE_CHECKING:
    pass

__all__ = [
    "Cell",
    "ColourRole",
    "Flow",
    "Frame",
    "Grid",
    "Highlight",
    "Mark",
    "MarkStyle",
    "Panel",
    "Step",
    "cell_label",
    "cell_labels",
    "signed_label",
]

#: The engine step a frame shows.
#: A step that reads one window of its input.
WindowStep = engine.ConvStep | engine.PoolStep | engine.ConvBackwardStep | engine.PoolBackwardStep
Step = WindowStep | engine.TransposeScatterStep
#: Which colour map a panel's values go through: the input's, the output's, the diverging one
#: (centred on zero), grey (an input that came from a picture), or none (every cell empty).
ColourRole = Literal["input", "output", "diverging", "picture", "none"]
#: How a mark is drawn: the sliding window, the cell being written, one multiply-add, or a cell
#: the activation changed.
MarkStyle = Literal["window", "cell", "tap", "changed"]
#: A cell as ``(row, column)``.
Cell = tuple[int, int]

MINUS = describe.MINUS
#: Between the items of ``Frame.facts``.
FACT_SEP = "   ·   "
_EMPTY_INTS: tuple[int, ...] = ()

#: Where each panel goes: (row, slot). Row 0 holds the tensors, row 1 their gradients, each
#: under its tensor (dL/dX under X, dL/dW under W, dL/dY under Y); the target sits right of Y.
PLACES: dict[PanelName, tuple[int, int]] = {
    "input": (0, 0), "kernel": (0, 1), "output": (0, 2), "target": (0, 3),
    "dx": (1, 0), "dw": (1, 1), "dy": (1, 2),
    # The matrix picture: the vector along C's columns above it, the one along its rows to its right.
    "across": (0, 0), "matrix": (1, 0), "down": (1, 1),
}


# ----------------------------------------------------------------------------- the value types
@dataclass(frozen=True, eq=False)
class Grid:
    """One tile: a 2-D grid of cells with the exact text painted in each.

    Attributes
    ----------
    values : ndarray of float, shape (h, w)
        What the cells are coloured by. NaN: nothing to show (an empty cell);
        ±inf: the padding of max/min pooling (drawn empty, labelled ±∞).
    labels : ndarray of str, shape (h, w)
        The text painted in each cell; "" paints none.
    kinds : ndarray of int8, shape (h, w), or None
        0 real, 1 padding, 2 ceil-mode overhang, 3 a cell that holds no data of its
        own and is drawn dimmed: a zero inserted between dL/dY values in the
        gather view, or a gap between a dilated pooling window's taps.
    pending_from : int or None
        Cells from this raster index on are covered as "not computed yet".
    corner : ndarray of str, shape (h, w), or None
        Small text in each cell's corner (how many windows reached a dL/dX cell).
    unreached_rows, unreached_cols : tuple of int
        Rows and columns of this grid that no window reaches (hatched).
    """

    values: np.ndarray
    labels: np.ndarray
    kinds: np.ndarray | None = None
    pending_from: int | None = None
    corner: np.ndarray | None = None
    unreached_rows: tuple[int, ...] = _EMPTY_INTS
    unreached_cols: tuple[int, ...] = _EMPTY_INTS

    @property
    def shape(self) -> tuple[int, int]:
        """``(h, w)``."""
        h, w = self.values.shape
        return int(h), int(w)


@dataclass(frozen=True, eq=False)
class Panel:
    """One panel of the stage: a titled stack of grids with one colour scale.

    Attributes
    ----------
    name : PanelName
    title : str
        Exactly the text painted above the panel.
    grids : tuple of Grid
        The stack (one grid per channel), all of one shape.
    front : int
        Index of the grid drawn in front of the stack.
    columns : int
        Grids per row when the channels are laid out side by side (``Frame.expanded``).
    levels : (float, float)
        Values mapped to the two ends of the colour map.
    colour : ColourRole
    legend : (str, str) or None
        Labels of the colour bar's two ends; None draws no colour bar.
    row, slot : int
        Where the panel goes: row 0 tensors, row 1 gradients; slot 0 under
        the input, 1 the kernel, 2 the output, 3 right of the output.
    channel_base : int
        Channel number of grid 0, reported when a cell is hit (a kernel stack
        of output channel ``o`` starts at ``o * C_in``).
    enlarge : bool
        Whether the panel may be drawn with larger cells when it is much narrower than the
        widest (False: a vector that must line up cell for cell with the matrix beside it).
    stacks : tuple of tuple of Grid
        A stacked kernel panel of several kernels: every kernel's stack, output channel ``o``'s
        grids at index ``o`` (``grids`` is ``stacks[front kernel]``), so the stage view's boxes
        each carry their own numbers; () otherwise.
    """

    name: PanelName
    title: str
    grids: tuple[Grid, ...]
    levels: tuple[float, float]
    colour: ColourRole
    legend: tuple[str, str] | None
    row: int
    slot: int
    front: int = 0
    columns: int = 1
    channel_base: int = 0
    enlarge: bool = True
    stacks: tuple[tuple[Grid, ...], ...] = ()


@dataclass(frozen=True, eq=False)
class Mark:
    """Outlined cells on one grid: a window footprint, a cell, a tap, changed cells.

    The cells are offsets from ``at``; moving ``at`` moves the whole pattern
    (what glides between steps).

    Attributes
    ----------
    style : MarkStyle
    panel : PanelName
    grid : int
        Index of the grid in ``panel.grids``.
    at : Cell
        Grid cell of offset (0, 0).
    cells : tuple of Cell
        Offsets of the marked cells (dilation gaps included).
    labels : tuple of str
        Small text per cell, in the order of ``cells`` ("×2", "+0.5"); may be empty.
    special : Cell or None
        Offset of the cell max/min pooling chose (circled).
    span : (int, int) or None
        Rows and columns of a dashed outline from offset (0, 0) (the window's extent).
    """

    style: MarkStyle
    panel: PanelName
    grid: int
    at: Cell
    cells: tuple[Cell, ...]
    labels: tuple[str, ...] = ()
    special: Cell | None = None
    span: tuple[int, int] | None = None


@dataclass(frozen=True, eq=False)
class Flow:
    """Lines from one cell to the cells it sends gradient to.

    Attributes
    ----------
    panel, grid : PanelName, int
        Where the lines start ...
    cell : Cell
        ... and from which cell.
    to_panel, to_grid : PanelName, int
    to_cells : tuple of Cell
    weights : tuple of float
        Signed amount sent to each cell relative to the largest (|w| <= 1):
        the line's thickness and, by sign, its colour; 0 draws no line.
    """

    panel: PanelName
    grid: int
    cell: Cell
    to_panel: PanelName
    to_grid: int
    to_cells: tuple[Cell, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Highlight:
    """Cells lit on the front grid of a panel, or on several of its grids (hover or pin), computed
    by the core.

    Attributes
    ----------
    panel : PanelName
    cells : tuple of Cell
        Grid coordinates on the front tile (padded coordinates for the input).
    labels : tuple of str
        Small text per cell (e.g. "w0,1"); may be empty.
    grids : tuple of int
        Indices in ``panel.grids`` to light the same cells (and labels) on, e.g. every channel row
        a 1-D window reads; empty: the front grid only.
    """

    panel: PanelName
    cells: tuple[Cell, ...]
    labels: tuple[str, ...] = ()
    grids: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class Frame:
    """Everything one picture shows (plain data, no Qt).

    What is painted
    ---------------
    caption : str
        The line above the stage, with the operation ("Convolution — Step 8 of 25: …").
        Channels and cells count from 0; steps are counted from 1.
    heading, note : str
        The lecturer's own title and short note for the scenario, above the caption ("" for none).
    facts : tuple of str
        Short statements painted on the stage beside or under the panels (one line, or one
        each): the output size with its numbers, the parameter count, the never-reached rows
        and columns, what PyTorch refuses, and the indexing convention (said once here).
        ``facts_line`` joins them.
    arithmetic : str
        The step's arithmetic under the stage (lines split by ``\\n``).
    panels : tuple of Panel
    marks : tuple of Mark
    flows : tuple of Flow
    expanded : bool
        Channels side by side (True) or stacked (False).
    spread : bool
        The stage view's answer to *Expand channels*: every channel slab drawn apart from the next,
        each with its numbers (the planes keep their stacked frames' content).
    glide_key : hashable
        Frames with equal keys let their window and cell marks glide from one to the next.

    Shown beside the stage
    ----------------------
    formulas : tuple of (str, str)
        Output-size formulas, general and filled in.
    parameter_line : str
        "Parameters: 3·3·1·1 weights = 9" ("" for pooling).
    param_count : int or None
    unreached_rows, unreached_cols : ndarray of int
        Input rows/columns (unpadded indices) no window reaches.

    The numbers behind it (for other views, exports and tests)
    ----------------------------------------------------------
    params : Params
    step_index, n_steps : int
    phase : Phase
    step : Step
        The engine step shown (the last forward step in the activation phase).
    x_padded : ndarray, shape (C_in, Hp, Wp)
        Input with padding (the spread dL/dZ in the gather view).
    kinds : ndarray of int8, shape (Hp, Wp)
    kernel : ndarray, shape (C_out, C_in, kh, kw) or None
        As applied (flipped when ``flip_kernel``; flipped and swapped in the gather view).
    output : ndarray, shape (C_out, H_out, W_out)
        NaN where not computed yet.
    output_full : ndarray
        The finished output the output panel shows, ``done`` cells of it computed.
    done : int
        Output cells already written, in channel-major raster order.
    levels : mapping of str to (float, float)
    offset : (int, int)
        Padded coordinate of input cell (0, 0): ``(top, left)``.
    show_values : bool
        Whether the cells of the input, output and gradient grids carry numbers
        (inputs up to ``MAX_VALUE_GRID`` a side); kernels always do.
    grads : engine.Gradients or None
    dy, dz : ndarray or None
        The upstream gradient dL/dY and what enters the convolution, ``dy·f′(Z)``.
    dx_shown : ndarray, shape (C_in, Hp, Wp) or None
        dL/dX as drawn (real cells hold the folded gradient).
    y_full : ndarray or None
    loss : float or None
    changed : ndarray of bool or None
        The activation phase: output cells the activation changed.
    motion : Motion or None
        What travels between the cells and the arithmetic line during the glide to this step
        (products into the line, the sum into the output cell); None: nothing travels.
    """

    params: Params
    step_index: int
    n_steps: int
    phase: Phase
    step: Step
    caption: str
    arithmetic: str
    panels: tuple[Panel, ...]
    marks: tuple[Mark, ...]
    formulas: tuple[tuple[str, str], ...]
    parameter_line: str
    param_count: int | None
    unreached_rows: np.ndarray
    unreached_cols: np.ndarray
    x_padded: np.ndarray
    kinds: np.ndarray
    kernel: np.ndarray | None
    output: np.ndarray
    output_full: np.ndarray
    done: int
    levels: Mapping[str, tuple[float, float]]
    offset: tuple[int, int]
    glide_key: Hashable
    show_values: bool = True
    expanded: bool = False
    spread: bool = False
    flows: tuple[Flow, ...] = ()
    grads: engine.Gradients | None = None
    dy: np.ndarray | None = None
    dz: np.ndarray | None = None
    dx_shown: np.ndarray | None = None
    y_full: np.ndarray | None = None
    loss: float | None = None
    changed: np.ndarray | None = None
    heading: str = ""
    note: str = ""
    facts: tuple[str, ...] = ()
    motion: Motion | None = None

    @property
    def view(self) -> View:
        """How the frame is drawn: "flat" (panels side by side) or "stage" (planes at an angle), as the
        scenario says (``Params.view``); the matrix picture has its own layout and is always flat."""
        return "flat" if self.phase == "matrix" else self.params.view

    @property
    def banded(self) -> bool:
        """Whether the panels go one under another, each band as wide as the stage, rather than side
        by side: a one-row picture (no gradients) whose grids are all one row high (a 1-D lesson's
        forward pass), where the cells can then be far larger. The backward picture keeps its two
        rows: six bands would draw its cells smaller than they are now."""
        return (bool(self.panels) and all(p.row == 0 for p in self.panels)
                and all(g.shape[0] == 1 for p in self.panels for g in p.grids))

    @property
    def facts_line(self) -> str:
        """The facts as one line, separated by ``FACT_SEP``."""
        return FACT_SEP.join(self.facts)

    def panel(self, name: PanelName) -> Panel | None:
        """The panel called ``name``, or None when this frame has none."""
        return next((p for p in self.panels if p.name == name), None)

    def marks_of(self, style: MarkStyle) -> tuple[Mark, ...]:
        """The marks of one style, in order."""
        return tuple(m for m in self.marks if m.style == style)


# ----------------------------------------------------------------------------- labels
def cell_label(v: float) -> str:
    """The text of one cell: ``engine.describe.fmt_cell``, except that a value rounding to zero
    reads "0", never "−0"."""
    s = describe.fmt_cell(v)
    return "0" if s == MINUS + "0" else s


def signed_label(v: float) -> str:
    """``cell_label`` with an explicit "+" on what is not negative ("+0.5", "−2", "+0")."""
    s = cell_label(v)
    return s if s.startswith(MINUS) else "+" + s


_LABEL_MEMO: dict[float, str] = {}


def cell_labels(values: np.ndarray, *, blank: np.ndarray | None = None) -> np.ndarray:
    """The label of every cell, formatted once per distinct value.

    Parameters
    ----------
    values : ndarray of float, any shape
    blank : ndarray of bool, broadcastable to ``values``, optional
        Cells that get no label.

    Returns
    -------
    ndarray of str, shape of ``values`` (read-only)
        ``cell_label(v)`` for every value that is not NaN (±inf reads ±∞); "" elsewhere.
    """
    a = np.asarray(values, dtype=float)
    flat = a.ravel()
    has = ~np.isnan(flat)
    if blank is not None:
        has &= ~np.broadcast_to(blank, a.shape).ravel()
    if not has.any():  # nothing labelled (or no cells)
        return _blank_labels(a.shape)
    every = bool(has.all())
    uniq, inverse = np.unique(flat if every else flat[has], return_inverse=True)
    memo = _LABEL_MEMO
    if len(memo) > 100_000:
        memo.clear()
    names = []
    for v in uniq.tolist():
        s = memo.get(v)
        if s is None:
            s = memo[v] = cell_label(v)
        names.append(s)
    table = np.array(names)  # str, as wide as the longest label: the labels are picked from it
    if every:
        labels = table[inverse.ravel()]
    else:
        labels = np.full(flat.shape, "", dtype=table.dtype)
        labels[has] = table[inverse.ravel()]
    labels = labels.reshape(a.shape)
    labels.flags.writeable = False
    return labels


def _blank_labels(shape: tuple[int, ...]) -> np.ndarray:
    labels = np.full(shape, "", dtype="<U1")
    labels.flags.writeable = False
    return labels


def _term(v: float) -> str:
    """A number inside a product: negative ones in brackets."""
    s = describe.fmt(v)
    return f"({s})" if v < 0 else s


def _levels(a: np.ndarray, *, symmetric: bool = False) -> tuple[float, float]:
    checkpoint()  # a frame of the largest lesson reads several big arrays: a cancel is heard between them
    lo, hi = (float(a.min()), float(a.max())) if a.size else (np.nan, np.nan)
    if not (np.isfinite(lo) and np.isfinite(hi)):  # rare: look past the infinities and NaNs
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


def _ro(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v
