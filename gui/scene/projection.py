"""The stage view's geometry: grids as planes seen at an angle, and where each plane of a frame goes.

conv_arithmetic draws a convolution as two planes in space: the input lying
below, the output floating above, the kernel's footprint on the input joined to
the output cell by lines. Here a plane is drawn in an oblique projection: a
grid's columns run left to right, its rows recede *up* the screen and to the
right (row 0 is the far edge), foreshortened to ``FORE`` of a cell, so every
cell is a parallelogram one cell wide. Channels are slabs stacked a little
higher each (``SLAB_RISE``).

Everything here is plain arithmetic on scene units (one unit = one cell of a
plane at scale 1, y pointing down); ``gui.scene.stage`` paints it. The layout
(``stage_layout``) reads only the shapes and the channel counts of a frame's
panels; what the frame shows is decided by the frame.

Grid coordinates: ``(r, c)`` with cell ``(i, j)`` covering ``i <= r <= i + 1``
and ``j <= c <= j + 1``; fractional coordinates are allowed (a gliding mark).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..models.choices import PanelName
from ..models.frame import Frame, Panel

__all__ = [
    "FORE", "SHEAR", "SPREAD_GAP", "Plane", "StageLayout", "lower_upper", "slab_rise", "stage_layout",
]

#: How far (cells) a plane's far rows shift right per row: the plane leans back to the right.
SHEAR = 0.42
#: Height of a cell on screen as a share of its width (the planes seen from above, at an angle).
FORE = 0.56
#: How far each channel slab behind the front one rises (cells, up) and moves right.
SLAB_RISE, SLAB_SHIFT = 0.42, 0.18
#: Spread apart (*Expand channels*): the gap (cells) between one slab's far edge and the next's near edge.
SPREAD_GAP = 0.45
#: Gap between the lower plane's far edge (top of its slabs) and the upper plane's near edge (cells).
LIFT = 2.0
#: Room for a title over a plane (cells of the lower plane's scale).
TITLE_ROOM = 0.9
#: Gap between the kernel boxes and the lower plane, and between two boxes (cells).
BOX_GAP, BOX_SPACING = 2.2, 1.6
#: A kernel box is drawn at least this share of the lower plane's width (its numbers stay legible) ...
BOX_SHARE = 0.3
#: ... and at most this many cells of the lower plane wide per kernel cell.
BOX_MAX_SCALE = 1.6


Point = tuple[float, float]


@dataclass(frozen=True)
class Plane:
    """One grid drawn flat in space: ``rows`` × ``cols`` cells of ``scale`` units; ``x0`` is the left
    end of its near edge (the outer corner of cell (rows-1, 0)), ``y0`` the height of its far edge."""

    x0: float
    y0: float
    rows: int
    cols: int
    scale: float = 1.0

    def point(self, r: float, c: float) -> Point:
        """Scene point of grid coordinate ``(r, c)``: rows recede up and right, columns run right."""
        s = self.scale
        return (self.x0 + s * (c + SHEAR * (self.rows - r)), self.y0 + s * FORE * r)

    def quad(self, r: float, c: float, h: float = 1.0, w: float = 1.0) -> tuple[Point, Point, Point, Point]:
        """Corners of the block of ``h`` × ``w`` cells from ``(r, c)``: far-left, far-right, near-right,
        near-left (clockwise on screen)."""
        return (self.point(r, c), self.point(r, c + w), self.point(r + h, c + w), self.point(r + h, c))

    def centre(self, r: float, c: float) -> Point:
        """Scene point of the centre of cell ``(r, c)``."""
        return self.point(r + 0.5, c + 0.5)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The cell under scene point ``(x, y)``, or None outside the plane."""
        s = self.scale
        r = (y - self.y0) / (s * FORE)
        c = (x - self.x0) / s - SHEAR * (self.rows - r)
        if not (0.0 <= r < self.rows and 0.0 <= c < self.cols):
            return None
        return int(r), int(c)

    def affine(self) -> tuple[float, float, float, float, float, float]:
        """``(m11, m12, m21, m22, dx, dy)`` of the map from grid ``(x=c, y=r)`` to the scene
        (``QTransform``'s argument order)."""
        s = self.scale
        return (s, 0.0, -s * SHEAR, s * FORE, self.x0 + s * SHEAR * self.rows, self.y0)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x, y, w, h)`` of the plane on screen."""
        s = self.scale
        return (self.x0, self.y0, s * (self.cols + SHEAR * self.rows), s * FORE * self.rows)

    def moved(self, dx: float, dy: float) -> Plane:
        """The same plane shifted by ``(dx, dy)``."""
        return replace(self, x0=self.x0 + dx, y0=self.y0 + dy)


@dataclass(frozen=True)
class StageLayout:
    """Where every plane of a stage-view frame goes.

    Attributes
    ----------
    lower, upper : PanelName
        The panel lying below (what the window reads) and the one floating above (what it writes).
    planes : dict of PanelName to tuple of Plane
        One plane per grid of each panel shown (a kernel panel: its front kernel's grids).
    boxes : tuple of tuple of Plane
        The kernel boxes beside the lower plane: one slab stack per kernel (output channel).
    side : tuple of PanelName
        The panels drawn as boxes (the kernel, and dL/dW in the backward pass).
    bounds : (x, y, w, h)
        Everything, titles included.
    """

    lower: PanelName
    upper: PanelName
    planes: dict[PanelName, tuple[Plane, ...]]
    boxes: tuple[tuple[Plane, ...], ...]
    side: tuple[PanelName, ...]
    bounds: tuple[float, float, float, float]


def lower_upper(f: Frame) -> tuple[PanelName, PanelName]:
    """The panel drawn below and the one drawn above: the input and the output, or in the backward
    pass the gradients (dL/dX below, dL/dY above: the gradient flows down)."""
    if f.phase == "backward" and f.panel("dx") is not None and f.panel("dy") is not None:
        return "dx", "dy"
    return "input", "output"


def slab_rise(panel: Panel, spread: bool) -> float:
    """How far (cells at scale 1) each slab rises above the one in front: a little, stacked; clear of
    it (its depth and a gap), spread apart."""
    return FORE * panel.grids[0].shape[0] + SPREAD_GAP if spread else SLAB_RISE


def _stack(panel: Panel, x0: float, y0: float, scale: float, spread: bool = False,
           down: bool = False) -> tuple[Plane, ...]:
    """The slabs of ``panel``: the front grid at ``(x0, y0)``, the others rising behind it in order
    (``down``: sinking under it, so the front one is the top of the stack)."""
    h, w = panel.grids[0].shape
    base = Plane(x0, y0, h, w, scale)
    step = -slab_rise(panel, spread) if down else slab_rise(panel, spread)
    out = []
    rank = 0
    for k in range(len(panel.grids)):
        if k == panel.front:
            out.append(base)
            continue
        rank += 1
        out.append(base.moved(SLAB_SHIFT * rank * scale, -step * rank * scale))
    return tuple(out)


def _rise(panel: Panel, scale: float, spread: bool = False) -> float:
    """How far the slabs behind the front one rise above it."""
    return slab_rise(panel, spread) * (len(panel.grids) - 1) * scale


def stage_layout(f: Frame) -> StageLayout:
    """Place the planes of frame ``f``: the kernel boxes on the left, the lower plane right of them,
    the upper plane above it, centred on it."""
    lower, upper = lower_upper(f)
    lo, up = f.panel(lower), f.panel(upper)
    assert lo is not None and up is not None, "a stage-view frame has an input and an output"
    side: tuple[PanelName, ...] = tuple(n for n in ("kernel", "dw") if f.panel(n) is not None)
    hl, wl = lo.grids[0].shape
    hu, wu = up.grids[0].shape
    lower_w = wl + SHEAR * hl
    upper_w = wu + SHEAR * hu
    spread = f.spread
    rise_u = _rise(up, 1.0, spread)
    # Top to bottom: title, the upper plane's slabs and the plane, the lift, the lower slabs and plane.
    up_top = TITLE_ROOM + rise_u
    up_bottom = up_top + FORE * hu
    # Spread apart, the lower panel's front slab is the top one (the lines to the upper plane then
    # cross no other slab's numbers) and the others sink under it.
    lo_top = up_bottom + LIFT + (0.0 if spread else _rise(lo, 1.0))
    lo_bottom = lo_top + FORE * hl + (_rise(lo, 1.0, spread) if spread else 0.0)
    height = lo_bottom + TITLE_ROOM
    # The kernel boxes: one per kernel (the frame's kernel array has them all), in a column.
    n_kernels = 1 if f.kernel is None or lower != "input" else int(f.kernel.shape[0])
    boxes: list[tuple[Plane, ...]] = []
    box_w = 0.0
    columns = []
    for name in side:
        panel = f.panel(name)
        assert panel is not None
        kh, kw = panel.grids[0].shape
        n = n_kernels if name == "kernel" else 1
        each = FORE * kh + _rise(panel, 1.0, spread) + BOX_SPACING
        scale = min(max(1.0, BOX_SHARE * max(wl, wu) / kw), BOX_MAX_SCALE * max(1.0, wl / 8),
                    max(0.2, (height - TITLE_ROOM) / max(n * each, 1e-9)))
        columns.append((name, panel, n, scale, kw + SHEAR * kh))
    x = 0.0
    planes: dict[PanelName, tuple[Plane, ...]] = {}
    for name, panel, n, scale, width in columns:
        kh = panel.grids[0].shape[0]
        rise = _rise(panel, scale, spread)
        each = (FORE * kh) * scale + rise + BOX_SPACING * scale
        y = max(TITLE_ROOM, (height - n * each) / 2 + BOX_SPACING * scale)
        stacks = []
        for _ in range(n):  # spread apart, channel by channel down the box as on the lower plane
            stacks.append(_stack(panel, x, y if spread else y + rise, scale, spread, down=spread))
            y += each
        if name == "kernel":
            boxes = stacks
            front = min(max(_output_channel(f), 0), n - 1)
            planes[name] = stacks[front]
        else:
            planes[name] = stacks[0]
        x += width * scale + BOX_GAP
        box_w = x
    lx = box_w + (max(0.0, (upper_w - lower_w) / 2))
    planes[lower] = _stack(lo, lx, lo_top, 1.0, spread, down=spread)
    ux = lx + (lower_w - upper_w) / 2
    planes[upper] = _stack(up, ux, up_top, 1.0, spread)
    right = max(lx + lower_w + SLAB_SHIFT * (len(lo.grids) - 1),
                ux + upper_w + SLAB_SHIFT * (len(up.grids) - 1))
    return StageLayout(lower, upper, planes, tuple(boxes), side, (-0.5, 0.0, right + 1.0, height))


def _output_channel(f: Frame) -> int:
    """The output channel (kernel) the frame's step works on: the output panel's front grid."""
    out = f.panel("output")
    return 0 if out is None else out.front
