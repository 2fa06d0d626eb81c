"""Colouring a frame off the UI thread, for the stage that will show it.

A big change is worked out in a worker thread (``gui.controllers.lesson``);
its first frame's grids are coloured there too, as the stage would colour them
(``render_frame``, NumPy only), and handed to the stage's render cache on the
UI thread just before the frame is shown, so showing it colours nothing. While
the worker colours, the UI thread makes (hidden) the tiles the frame will need
(a 16-channel lesson has ~100), so showing it makes none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from ..models.frame import Frame
from .colour import render_frame
from .placing import reserve_tiles
from .theme import qcolor

if TYPE_CHECKING:
    from .view import SceneView

__all__ = ["Reserver", "colourer"]


class Reserver(QObject):
    """Lives in the UI thread, a child of the view: a worker asks it (``wanted``, panel name to number
    of tiles) for the tiles a frame about to be shown will need."""

    wanted = Signal(object)

    def __init__(self, view: SceneView) -> None:
        super().__init__(view)
        self.view = view
        self.wanted.connect(self._reserve, Qt.ConnectionType.QueuedConnection)

    def _reserve(self, counts: dict[str, int]) -> None:
        reserve_tiles(self.view, counts)


def colourer(view: SceneView) -> Callable[[Frame], Callable[[], None]]:
    """Made on the UI thread: a function a worker runs on a frame, colouring its grids in ``view``'s
    theme as it is now; it returns what hands them to ``view``'s cache (call that on the UI thread).
    Colours for a theme left meanwhile are simply not used: the frame is coloured again when shown."""
    e = qcolor(view.theme, "empty")
    theme, empty, cache = view.theme_name, (e.red(), e.green(), e.blue()), view._renders
    reserver = view.findChild(Reserver) or Reserver(view)

    def colour(f: Frame) -> Callable[[], None]:
        if f.view != "stage":
            reserver.wanted.emit({p.name: len(p.grids) for p in f.panels})
        entries = render_frame(f, theme, empty)
        return lambda: cache.adopt(entries)

    return colour
