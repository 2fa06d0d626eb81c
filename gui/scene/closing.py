"""Closing a view safely (the stage painter and the pipeline window's pyqtgraph views both use it)."""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsView

__all__ = ["close_view"]


def close_view(view: QGraphicsView) -> bool:
    """pyqtgraph's ``GraphicsView.close`` without its ``setViewport(None)`` (no pyqtgraph needed).

    Swapping the viewport out of a view that was shown off-screen
    (``WA_DontShowOnScreen``, as export does) crashes Qt; the rest of the
    clean-up (clearing the scene, marking the view closed) is kept.
    """
    view.centralWidget = None  # type: ignore[attr-defined]
    view.scene().clear()
    view.currentItem = None  # type: ignore[attr-defined]
    view.sceneObj = None  # type: ignore[attr-defined]
    view.closed = True  # type: ignore[attr-defined]
    return QGraphicsView.close(view)
