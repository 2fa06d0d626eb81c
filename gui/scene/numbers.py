"""When a cell carries its number: the one rule of the flat view, the stage view and presenter mode.

A number is drawn only where it fits its cell. The cell must be ``MIN_TEXT_CELL`` pixels wide at
least, and its number must fit across it at ``MIN_NUMBER_PX`` or more (``grid.number_px`` shrinks the
type to the cell's width for long labels: "−0.49" in a 20-pixel cell would need less than that floor).
Where it does not fit, the grid reads as a picture: hovering a cell or zooming in shows its value.
A tile's labels are judged together (by the longest), so a tile shows all its numbers or none.
"""

from __future__ import annotations

__all__ = ["MIN_NUMBER_PX", "MIN_TEXT_CELL", "NUMBER_WIDTH", "numbers_fit"]

#: Smallest type (pixels) a cell number is drawn in: a number that needs smaller type is not drawn.
MIN_NUMBER_PX = 7
#: Cells narrower than this (pixels) show no numbers: the grid reads as a picture.
MIN_TEXT_CELL = 16
#: Cell widths (per pixel of type) a label of ``n`` characters takes: ``n / NUMBER_WIDTH``
#: (``grid.number_px`` keeps the type at most ``NUMBER_WIDTH · px / n``).
NUMBER_WIDTH = 1.5


def numbers_fit(px: float, longest: int) -> bool:
    """Whether cells ``px`` pixels wide carry labels of up to ``longest`` characters (see the module)."""
    return px >= MIN_TEXT_CELL and px * NUMBER_WIDTH / max(longest, 2) >= MIN_NUMBER_PX
