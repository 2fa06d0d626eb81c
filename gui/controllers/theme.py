"""A theme switch: a big lesson's grids are coloured in a worker while the stage keeps its picture.

Looking up the colours of every grid of the largest lesson (16 channels of 512×512 in several panels)
takes ~30-100 ms; on the UI thread that was one frozen turn. Here a frame with more than
``BACKGROUND_CELLS`` cells is coloured in the new theme by a worker (``render_frame``, NumPy only); the
stage shows the old theme until the colours land, then switches in one go (``SceneView.set_theme`` with
them: it colours nothing). A newer switch drops an older one; smaller frames switch at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..models.frame import Frame
from ..scene import SceneRenderer
from ..scene.colour import render_frame
from ..scene.theme import qcolor, theme_colours
from .latest import Latest

__all__ = ["BACKGROUND_CELLS", "ThemeSwitch"]

#: A frame with more grid cells than this is coloured in a worker on a theme switch (~10 ms of lookups).
BACKGROUND_CELLS = 1_000_000


def frame_cells(f: Frame) -> int:
    """Cells of every grid of ``f``."""
    return sum(g.values.size for p in f.panels for g in p.grids)


class ThemeSwitch(QObject):
    """Switches ``view``'s theme, colouring a big frame's grids in a worker first.

    Signals
    -------
    busy_changed(bool)
        A switch started colouring in the worker (True) or landed, was dropped or failed (False).
    """

    busy_changed = Signal(bool)

    def __init__(self, view: SceneRenderer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self._name = ""
        self._jobs = Latest(self._landed, self)
        self._jobs.running_changed.connect(self.busy_changed)

    @property
    def busy(self) -> bool:
        """A switch is being coloured in the worker."""
        return self._jobs.running

    @property
    def name(self) -> str:
        """The theme asked for last (the one being coloured, else the view's)."""
        return self._name if self.busy else self.view.theme_name

    def switch(self, name: str) -> None:
        """Show theme ``name``: at once for a small frame, else once a worker has coloured it."""
        self._jobs.drop()
        f = self.view.frame
        small = f is None or f.view == "stage" or frame_cells(f) <= BACKGROUND_CELLS
        if name == self.view.theme_name or small:
            self.view.set_theme(name)
            return
        e = qcolor(theme_colours(name), "empty")
        empty = (e.red(), e.green(), e.blue())
        self._name = name
        self._jobs.start(lambda: render_frame(f, name, empty))

    def _landed(self, result: object) -> None:
        # Colours for the frame asked about (a step meanwhile: the new frame's are looked up as usual).
        self.view.set_theme(self._name, renders=None if isinstance(result, Exception) else result)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        """Drop any switch and wait for the worker to end (the window closing)."""
        self._jobs.shutdown()
