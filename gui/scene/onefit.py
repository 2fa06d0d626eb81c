"""One fit of the stage for a burst of resizes: presenter mode hides four widgets, zooms the text and goes
full screen, and each of those fitted the whole stage again (about seven fits in one turn, ~60 ms at
the largest setting); the last fit alone decides what is shown, so only it is made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .view import SceneView

__all__ = ["one_fit"]


@contextmanager
def one_fit(view: SceneView) -> Iterator[None]:
    """Hold the fits ``view`` is asked for inside the block; fit it once at its end if any was asked
    for (before anything is painted: the block runs within one turn of the event loop)."""
    if view.held is not None:  # held already by an outer block
        yield
        return
    view.held = []
    try:
        yield
    finally:
        asked, view.held = view.held, None
        if asked:
            view._refit()
