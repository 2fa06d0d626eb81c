"""A title fitted to a room it had before takes the type size and width it took then.

A presenter switch fits the stage at a few sizes, most of them twice (the view box and the view are
resized in turn), and each fit measures every title at a few sizes and widths; a title's fit depends only
on its text, its room and its base size, so a fit seen before is looked up (the same result, the
measuring skipped: about half of a repeated fit).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFont

from .widgets import Title

__all__ = ["fit_again"]

#: (text, room in pixels, base size) -> (type size, text width, how much still too wide).
_FITS: dict[tuple[str, float, int], tuple[int, float, float]] = {}


def fit_again(fit: Callable[[Title, float, int], float], font: Callable[[int], QFont], t: Title,
              room_px: float, base: int) -> float:
    """``fit(t, room_px, base)`` (``layout.fit_title``), or the type size (``font(size)``) and width it
    chose for this text, room and base before; how much the title is still too wide (pixels)."""
    key = (t.textItem.toPlainText(), room_px, base)
    if key not in _FITS:
        if len(_FITS) > 512:
            _FITS.clear()
        short = fit(t, room_px, base)
        _FITS[key] = (t.textItem.font().pointSize(), t.textItem.textWidth(), short)
    size, width, short = _FITS[key]
    t.setFont(font(size))
    t.setTextWidth(width)
    return short
