"""Closing a pyqtgraph view safely (the stage painter and the pipeline window both use it)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsView

__all__ = ["close_view"]


def close_view(view: pg.GraphicsView) -> bool:
    """pyqtgraph's ``GraphicsView.close`` without its ``setViewport(None)``.

    Swapping the viewport out of a view that was shown off-screen
    (``WA_DontShowOnScreen``, as export does) crashes Qt; the rest of the
    clean-up (clearing the scene, marking the view closed) is kept.
    """
    view.centralWidget = None
    view.scene().clear()
    view.currentItem = None
    view.sceneObj = None
    view.closed = True
    return QGraphicsView.close(view)
