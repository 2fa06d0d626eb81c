"""When the stage is fitted again after its widget resizes: once per resize, and once for a burst of them.

A resize of the stage's widget resizes its view box too; each asked for a fit (two per resize, ~10-20 ms
each for a 16-channel 512×512 lesson). Presenter mode shows or hides four widgets round the stage, one by
one, each a resize. ``Refits`` keeps the box's fit from running inside the widget's own resize (which fits
after wrapping the captions for the new width) and, while held, keeps every fit for the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Refits"]


class Refits:
    """The stage's pending fits: ``refit`` (fit the stage to its box) and ``rewrap`` (wrap the captions
    for the widget's width, then fit), the view's own, run by ``resized`` and ``held``."""

    def __init__(self, refit: Callable[[], None], rewrap: Callable[[], None]) -> None:
        self.refit, self.rewrap = refit, rewrap
        self.depth = 0  # ``held`` nesting
        self.pending = False  # a resize came while held
        self.resizing = False

    def waits(self) -> bool:
        """Whether a fit asked now waits: held (it runs at the end), or inside the widget's resize."""
        if self.depth:
            self.pending = True
            return True
        return self.resizing

    def resized(self, resize: Callable[[], None]) -> None:
        """The widget's resize (``resize``: the base class's, which resizes the box), then one fit."""
        self.resizing = True
        try:
            resize()
        finally:
            self.resizing = False
        if not self.waits():
            self.rewrap()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Resizes meanwhile fit the stage once, at the end."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth and self.pending:
                self.pending = False
                self.rewrap()
