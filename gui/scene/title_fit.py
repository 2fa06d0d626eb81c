"""Titles that fit their room: on one line at the largest type that fits (down to a legible floor),
else wrapped at the spaces onto ``MAX_TITLE_LINES`` lines; what is still too wide is reported, so the
layout (``layout.margins_for``) gives it more room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QFont, QFontMetricsF, QTextDocument

from ..models.choices import PanelName
from .refit import fit_again
from .widgets import Title

if TYPE_CHECKING:
    from .layout import PanelPlace

TITLE_PT = 13  # titles' type at text zoom 1
MIN_TITLE_PT = 10  # a title never shrinks below this ...
TITLE_FLOOR = 0.8  # ... nor below this fraction of its size at the current zoom
ONE_LINE_SHARE = 0.85  # a title shrinks to this share of its size to stay on one line, before it wraps
MAX_TITLE_LINES = 2  # a title wraps onto at most this many lines before it shrinks
STRICT_EXTRA_PX = 24.0  # a formula or an aside kept whole may ask for this much more room (pixels)


def bold_font(size: int) -> QFont:
    """The titles' font at ``size`` points."""
    f = QFont()
    f.setPointSize(size)
    f.setBold(True)
    return f


def title_floor(base: int) -> int:
    """The smallest point size a title of ``base`` points may shrink to."""
    return max(MIN_TITLE_PT, round(base * TITLE_FLOOR))


def _lines(doc: QTextDocument, size: int) -> float:
    return doc.size().height() / max(QFontMetricsF(bold_font(size)).lineSpacing(), 1.0)


def broken_badly(t: Title | QTextDocument, strict: bool = True) -> bool:
    """Whether a wrapped title breaks a line anywhere but at a space between words: Qt also breaks
    after "/" and "-", which tears a name such as "dL/dY" into "dL/" and "dY"; and, ``strict``, beside
    "=", which tears a formula ("y =" over "C·x"), or inside parentheses, an aside ("(so" over "far)").
    A line of one word is a bad break too (``strict``): a short title such as "Target T" read "Target"
    over "T"."""
    doc = t if isinstance(t, QTextDocument) else t.textItem.document()
    block = doc.firstBlock()
    while block.isValid():
        layout, text = block.layout(), block.text()
        if strict and layout.lineCount() > 1 and any(
                " " not in text[(ln := layout.lineAt(i)).textStart():ln.textStart() + ln.textLength()].strip()
                for i in range(layout.lineCount())):
            return True
        for i in range(1, layout.lineCount()):
            start = layout.lineAt(i).textStart()
            before, after = text[:start].rstrip(), text[start:]
            if start > 0 and not text[start - 1].isspace():
                return True
            if strict and (before.endswith("=") or after.startswith("=")
                           or before.count("(") > before.count(")")):
                return True
        block = block.next()
    return False


def _wraps_well(doc: QTextDocument, width: float, size: int, strict: bool = True) -> bool:
    """Whether the title, wrapped to ``width``, keeps within it on at most ``MAX_TITLE_LINES`` lines
    broken only where ``broken_badly`` allows."""
    return (doc.idealWidth() <= width + 0.5 and _lines(doc, size) < MAX_TITLE_LINES + 0.5
            and not broken_badly(doc, strict))


def fit_title(t: Title, room_px: float, base: int) -> float:
    """Fit a title into ``room_px``: on one line at the largest size down to ``title_floor`` that fits,
    else wrapped at the spaces (never inside "dL/dY", never one word to a line, nor, while anything else
    fits, inside a formula or an aside: ``broken_badly``) onto at most ``MAX_TITLE_LINES``, shrinking
    (to ``title_floor``) only while that is too wide.

    Returns
    -------
    float
        Pixels the title is still too wide at the floor (0 when it fits): the layout then gives it
        that much more room.
    """
    doc = _DOC
    doc.setPlainText(t.textItem.toPlainText())
    short = _fit(doc, room_px, base)
    t.setFont(doc.defaultFont())  # the title takes the size and width found: one change of the scene item
    t.setTextWidth(doc.textWidth())
    return short


#: The document titles are measured in: measuring the scene's own text item moved it (and told the
#: scene) at every size and width tried.
_DOC = QTextDocument()


def _fit(doc: QTextDocument, room_px: float, base: int) -> float:
    """``fit_title``'s search on ``doc`` (the title's text): leaves its font and width as chosen."""
    floor = title_floor(base)
    doc.setTextWidth(-1)
    # One line first: a little smaller type before a broken title.
    for size in range(base, max(floor, round(base * ONE_LINE_SHARE)) - 1, -1):
        doc.setDefaultFont(bold_font(size))
        if doc.idealWidth() <= room_px:
            return 0.0
    # Under four words, any break leaves a word alone on a line: strictly, such a title never wraps.
    few = len(doc.toPlainText().split()) < 4
    for strict in (True, False):  # a formula or an aside is broken only when nothing else fits
        for size in range(base, floor - 1, -1):
            doc.setDefaultFont(bold_font(size))
            doc.setTextWidth(-1)
            if doc.idealWidth() <= room_px:
                return 0.0
            if strict and few:
                continue
            doc.setTextWidth(max(room_px, 1.0))
            if _wraps_well(doc, room_px, size, strict):
                return 0.0
        # At the floor: the narrowest width that keeps to MAX_TITLE_LINES lines; a formula and an
        # aside stay whole if that asks for a little more room only ("y = C·x" over a one-cell column).
        width = max(room_px, doc.idealWidth()) if strict and few else _narrowest(doc, room_px, floor, strict)
        if not strict or width - room_px <= STRICT_EXTRA_PX:
            break
    doc.setTextWidth(width)
    return max(0.0, width - room_px)


def _narrowest(doc: QTextDocument, room_px: float, size: int, strict: bool) -> float:
    """The narrowest width (at least ``room_px``) the title wraps well to at ``size`` points."""
    doc.setDefaultFont(bold_font(size))
    doc.setTextWidth(-1)
    lo, hi = max(room_px, 1.0), doc.idealWidth()
    for _ in range(12):
        mid = (lo + hi) / 2
        doc.setTextWidth(mid)
        if _wraps_well(doc, mid, size, strict):
            hi = mid
        else:
            lo = mid
    return hi


def fit_titles(titles: dict[PanelName, Title], placed: dict[PanelName, PanelPlace], per_cell: float,
               base: int, fitted: dict[PanelName, tuple[object, ...]]
               ) -> tuple[dict[PanelName, float], dict[PanelName, float]]:
    """Fit every shown title to its room (see ``fit_title``): the titles' heights, and how much each
    is still too wide, in pixels.

    A title is refitted only when its text, its room or ``base`` changed since ``fitted``
    recorded it.
    """
    heights: dict[PanelName, float] = {}
    short: dict[PanelName, float] = {}
    for panel, t in titles.items():
        text = t.textItem.toPlainText()
        if not text or panel not in placed:
            continue
        room = placed[panel].room * per_cell
        key = (text, round(room, 1), base)
        if fitted.get(panel, (None,))[:3] != key:
            fitted[panel] = (*key, fit_again(fit_title, bold_font, t, room, base))
        short[panel] = float(fitted[panel][3])  # type: ignore[arg-type]
        heights[panel] = t.textItem.boundingRect().height()
    return heights, short
