"""The stage painter, split by job: theme, colour, grid tile, marks and legends, layout, view.

``SceneView`` paints a ``gui.models.frame.Frame`` and decides nothing; the same
view draws the window on screen and every exported frame.
"""

from .closing import close_view
from .colour import apply_lut, colourize, lut_bytes
from .theme import THEMES, colour_map
from .view import SceneView

#: The old name, for existing callers.
SceneRenderer = SceneView

__all__ = [
    "THEMES",
    "SceneRenderer",
    "SceneView",
    "apply_lut",
    "close_view",
    "colour_map",
    "colourize",
    "lut_bytes",
]
