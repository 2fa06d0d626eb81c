"""Colouring a frame off the UI thread, for the stage that will show it.

A big change is worked out in a worker thread (``gui.controllers.lesson``);
its first frame's grids are coloured there too, as the stage would colour them
(``render_frame``, NumPy only), and handed to the stage's render cache on the
UI thread just before the frame is shown, so showing it colours nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..models.frame import Frame
from .colour import render_frame
from .theme import qcolor

if TYPE_CHECKING:
    from .view import SceneView

__all__ = ["colourer"]


def colourer(view: SceneView) -> Callable[[Frame], Callable[[], None]]:
    """Made on the UI thread: a function a worker runs on a frame, colouring its grids in ``view``'s
    theme as it is now; it returns what hands them to ``view``'s cache (call that on the UI thread).
    Colours for a theme left meanwhile are simply not used: the frame is coloured again when shown."""
    e = qcolor(view.theme, "empty")
    theme, empty, cache = view.theme_name, (e.red(), e.green(), e.blue()), view._renders

    def colour(f: Frame) -> Callable[[], None]:
        entries = render_frame(f, theme, empty)
        return lambda: cache.adopt(entries)

    return colour
