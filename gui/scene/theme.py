"""Theme colours as Qt objects and colour maps as lookup tables, from ``gui.models.choices``.

The colour maps are pyqtgraph's (the names in ``THEME_COLOUR_MAPS``), read from the tables in
``resources/colourmaps/luts.json`` so that the stage never imports pyqtgraph.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import numpy as np
from PySide6.QtGui import QColor

from ..models.choices import THEME_COLOUR_MAPS, THEME_COLOURS
from ..models.frame import ColourRole
from ..models.resources import colour_maps_text


@dataclass(frozen=True, eq=False)
class ColourMap:
    """A named colour map as 256 RGBA bytes.

    Attributes
    ----------
    name : str
        pyqtgraph's name for it ("viridis", "CET-L1", ...).
    lut : ndarray of uint8, shape (256, 4)
        Colour of values 0, 1/255, ..., 1 (opaque).
    """

    name: str
    lut: np.ndarray


@cache
def _tables() -> dict[str, str]:
    return dict(json.loads(colour_maps_text())["maps"])


@cache
def load_colour_map(name: str) -> ColourMap:
    """The colour map ``name`` from the shipped tables (``KeyError`` for one not shipped)."""
    rgb = np.frombuffer(bytes.fromhex(_tables()[name]), np.uint8).reshape(256, 3)
    lut = np.full((256, 4), 255, np.uint8)
    lut[:, :3] = rgb
    lut.setflags(write=False)
    return ColourMap(name, lut)

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
def colour_map(theme: str, role: ColourRole) -> ColourMap:
    """The colour map of ``role`` in ``theme`` (the "none" role maps like the output)."""
    check_theme(theme)
    names = THEME_COLOUR_MAPS[theme]  # type: ignore[index]
    key = "output" if role == "none" else role
    return load_colour_map(names[key])


def qcolor(theme: dict[str, str], key: str, alpha: int | None = None) -> QColor:
    """A theme colour as a ``QColor`` (with ``alpha`` when given)."""
    c = QColor(theme[key])
    if alpha is not None:
        c.setAlpha(alpha)
    return c
