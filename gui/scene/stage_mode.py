"""The stage view inside the ``SceneView``: the flat items hidden, the stage item shown and fitted.

``SceneView`` draws a frame flat or, when ``Frame.view == "stage"``, hands it
here: the tiles, titles, legends and marks of the flat view are hidden, the
``StageItem`` takes the frame and the view box is fitted to it (the text
rows around it placed first). Hit-testing and cell centres then come from the
stage's planes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF

from ..models.choices import PANELS, PanelName
from ..models.frame import Frame
from .projection import TITLE_ROOM
from .stage import StageItem
from .stage_titles import title_room_px

if TYPE_CHECKING:
    from .view import SceneView

__all__ = ["StageMode"]


class StageMode:
    """The stage view of one ``SceneView``: its item and what showing a frame in it takes (it shares the
    view's fitting state: ``_range``, ``_per_cell``, ``_fitting``)."""

    def __init__(self, view: SceneView, theme: dict[str, str], theme_name: str) -> None:
        self.view = view
        self.item = StageItem(theme, theme_name)
        self.item.setZValue(10)
        self.item.setVisible(False)
        view.view.addItem(self.item)

    @property
    def on(self) -> bool:
        """Whether the stage item is what the view shows."""
        return self.item.isVisible()

    def show(self, f: Frame, prev: Frame | None) -> None:
        """Draw ``f``: the flat items hidden (when coming from the flat view), the stage fitted when its
        extent changed."""
        v, st = self.view, self.item
        if not st.isVisible():
            for name in PANELS:
                for t in v.tiles[name]:
                    t.item.show(False)
                v.titles[name].setText("")
                v.legends[name].setVisible(False)
            v.marks.hide()
            st.setVisible(True)
        same = prev is not None and prev.glide_key == f.glide_key and prev.view == "stage"
        old = st.boundingRect()
        st.zoom = v.zoom
        st.highlights = dict(v.marks.highlights)
        st.set_frame(f, same)
        v.text.show_frame(f)
        if st.boundingRect() != old or v._range != old:
            self.fit()

    def set_theme(self, name: str, zoom: float) -> None:
        """Take theme ``name`` (the colours are shared with the view) and text zoom ``zoom``."""
        recolour = name != self.item.theme_name  # a text zoom alone keeps every colour
        self.item.theme_name, self.item.zoom = name, zoom
        self.item.forget(colours=recolour)

    def leave(self) -> None:
        """Back to the flat view: the stage item hidden."""
        self.item.setVisible(False)

    def fit(self) -> None:
        """Fit the view box to the stage (the text around it placed first), with room in pixels for the
        titles over the upper plane and under the lower one: the stage keeps ``TITLE_ROOM`` cells for
        them, too little once its cells are small (a 32×32 input)."""
        v = self.view
        rect = self.item.boundingRect()
        if rect.isEmpty() or v._fitting:
            return
        v._fitting = True
        try:
            v.text.arrange(rect.width(), rect.height())
            v._range = rect
            shown = rect
            for _ in range(3):  # the room grows as the stage shrinks: a few rounds settle it
                v.view.setRange(shown, padding=0)
                units = max(v.view.viewPixelSize())  # scene units per pixel
                extra = max(0.0, title_room_px(v.zoom) * units - TITLE_ROOM)
                shown = rect.adjusted(0.0, -extra, 0.0, extra)
            v.view.setRange(shown, padding=0)
            px_w = v.view.viewPixelSize()[0]
            v._per_cell = 1.0 / px_w if px_w > 0 else None
        finally:
            v._fitting = False

    def pick(self, scene_pos: QPointF) -> tuple[PanelName, int, int, int] | None:
        """The panel, channel and cell under a scene position, or None."""
        at = self.view.view.mapSceneToView(scene_pos)
        return self.item.pick(at.x(), at.y())

    def cell_center(self, panel: PanelName, k: int, i: int, j: int) -> QPointF:
        """Widget coordinates of the centre of cell ``(i, j)`` of plane ``k`` of ``panel``."""
        plane = self.item.plane(panel, k)
        if plane is None:
            raise ValueError(f"the stage view draws no {panel} plane {k}")
        sp = self.view.view.mapViewToScene(QPointF(*plane.centre(i, j)))
        return QPointF(self.view.mapFromScene(sp))
