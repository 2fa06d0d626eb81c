"""Theme colours and colour maps as Qt/pyqtgraph objects, from ``gui.models.choices``."""

from __future__ import annotations

from functools import cache

import pyqtgraph as pg
from PySide6.QtGui import QColor

from ..models.choices import THEME_COLOUR_MAPS, THEME_COLOURS
from ..models.frame import ColourRole

#: Colours of each theme (hex): background, text, grid, empty, padding, window, output, hover, unreached.
THEMES = THEME_COLOURS


def check_theme(name: str) -> None:
    """Raise ``ValueError`` for a name that is not a theme."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")


def theme_colours(name: str) -> dict[str, str]:
    """A fresh copy of theme ``name``'s colours (``ValueError`` for an unknown name)."""
    check_theme(name)
    return dict(THEMES[name])  # type: ignore[index]


@cache
def colour_map(theme: str, role: ColourRole) -> pg.ColorMap:
    """The pyqtgraph colour map of ``role`` in ``theme`` (the "none" role maps like the output)."""
    check_theme(theme)
    names = THEME_COLOUR_MAPS[theme]  # type: ignore[index]
    key = "output" if role == "none" else role
    return pg.colormap.get(names[key])


def qcolor(theme: dict[str, str], key: str, alpha: int | None = None) -> QColor:
    """A theme colour as a ``QColor`` (with ``alpha`` when given)."""
    c = QColor(theme[key])
    if alpha is not None:
        c.setAlpha(alpha)
    return c
