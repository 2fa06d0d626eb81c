"""The type of the stage view's numbers: how large on a slanted cell face, and whether they fit at all.

A face is as wide as a flat cell but shorter (``projection.FORE``) and slanted; its numbers stay
upright, so the widest must fit inside the parallelogram (``slanted_ink``). A plane whose numbers
would not fit at the smallest type is drawn without them, as the flat view does (``numbers``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from PySide6.QtGui import QFont, QFontMetricsF

from .colour import TileRender
from .grid import number_px
from .numbers import MIN_NUMBER_PX, numbers_fit
from .projection import FORE, SHEAR

__all__ = ["FACE_FIT", "TYPE_GAIN", "TypeFit", "face_number_px", "face_numbers_fit", "face_type_px",
           "ink_at", "slanted_ink", "type_fit", "widest_labels"]

#: A face is shorter than a flat cell of its width (``projection.FORE``) but as wide: its numbers take
#: the type of a flat cell this much wider (while they fit across), so the stage's cells read at least
#: as large as the flat view's.
TYPE_GAIN = 1.2
#: The share of a face's width its widest number may take, the face's slant counted: a number stays
#: inside its parallelogram and clear of its neighbours' ("−22−18" ran together).
FACE_FIT = 0.9
#: How far a face's sides lean (pixels across per pixel up).
SLANT = SHEAR / FORE


def face_number_px(px: float, longest: int, zoom: float, ink: float = 0.0,
                   widest: tuple[str, ...] = ()) -> int:
    """Type size (pixels) of a number on a cell face ``px`` pixels wide: the flat view's rule
    (``grid.number_px``) for a cell ``TYPE_GAIN`` times wider, as long as ``longest`` characters still
    fit across the face; never less than the flat rule for the same width, unless the widest number
    (``ink``: see ``slanted_ink``; ``widest``: those labels, measured again at the small sizes, where
    hinting makes digits wider) would then take more than ``FACE_FIT`` of the slanted face."""
    flat = number_px(px, longest, zoom)
    size = max(flat, min(number_px(px * TYPE_GAIN, longest, zoom), int(px * 1.5 / max(longest, 2))))
    if ink > 0:
        size = min(size, max(MIN_NUMBER_PX, int(FACE_FIT * px / ink)))
    while widest and size > MIN_NUMBER_PX and ink_at(widest, size) * size > FACE_FIT * px:
        size -= 1
    return size


def _slanted(fm: QFontMetricsF, s: str) -> float:
    r = fm.tightBoundingRect(s)
    return max(r.width() + SLANT * r.height(), r.height() / FORE)


def slanted_ink(labels: frozenset[str]) -> float:
    """How much of a slanted face (its width, pixels per pixel of type) the largest of ``labels``
    needs: across, its ink's width plus the lean of the face's sides over its ink's height (an
    upright box inside a parallelogram); up, its ink's height over the face's (``FORE`` of its
    width)."""
    return _measured(labels)[0]


def widest_labels(labels: frozenset[str]) -> tuple[str, ...]:
    """The few labels that need the most of a face (``slanted_ink``), widest first."""
    return _measured(labels)[1]


@lru_cache(maxsize=512)
def _measured(labels: frozenset[str]) -> tuple[float, tuple[str, ...]]:
    font = QFont()
    font.setPixelSize(100)
    fm = QFontMetricsF(font)
    inks = sorted(((_slanted(fm, s) / 100.0, s) for s in labels if s), reverse=True)
    return (inks[0][0] if inks else 0.0), tuple(s for _, s in inks[:4])


@lru_cache(maxsize=4096)
def ink_at(labels: tuple[str, ...], size: int) -> float:
    """``slanted_ink`` of ``labels`` at ``size`` pixels (per pixel of type)."""
    font = QFont()
    font.setPixelSize(size)
    fm = QFontMetricsF(font)
    return max((_slanted(fm, s) for s in labels if s), default=0.0) / size


#: What a plane's numbers are sized for: the most characters of a label, ``slanted_ink`` and the
#: widest labels (``widest_labels``).
TypeFit = tuple[int, float, tuple[str, ...]]


def type_fit(renders: Iterable[TileRender]) -> TypeFit:
    """The ``TypeFit`` of every label of ``renders`` (the planes of one panel, or every kernel's box:
    one type size for them all)."""
    rs = list(renders)
    labels = frozenset(s for r in rs for s, _ in r.groups)
    return max((r.longest for r in rs), default=1), slanted_ink(labels), widest_labels(labels)


def face_numbers_fit(px: float, fit: TypeFit, zoom: float) -> bool:
    """Whether faces ``px`` pixels wide carry numbers sized for ``fit``: as a flat cell of that width
    would (``numbers.numbers_fit``), and the widest inside its slanted face (``FACE_FIT``) at its type
    (``face_number_px``, ``MIN_NUMBER_PX`` at least); else the plane reads as a picture
    ("−0.49−0.59−1.7" ran together on LeNet-5's C1)."""
    longest, ink, widest = fit
    size = face_number_px(px, longest, zoom, ink, widest)
    return numbers_fit(px, longest) and (not widest or ink_at(widest, size) * size <= FACE_FIT * px)


def face_type_px(px: float, render: TileRender, zoom: float, fit: TypeFit | None = None) -> int:
    """Type size (pixels) of numbers on faces ``px`` pixels wide (``face_number_px``), sized for
    ``fit`` (default: ``render``'s own labels)."""
    longest, ink, widest = fit if fit is not None else type_fit((render,))
    return face_number_px(px, longest, zoom, ink, widest)
