"""The text around the stage: the lecturer's heading, the caption, the facts line and the arithmetic.

Heading and caption run across the top. The facts and the arithmetic go under
the stage, or, when the stage is tall and narrow for the screen (the backward
pass on a 16:9 projector), into a column on its right, so the grids get the
height and their numbers stay large. Every label wraps to its room; an empty
one takes none.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QGraphicsWidget, QSizePolicy

from ..models.frame import Frame
from .travel import TravelLayer
from .widgets import Box, Label, LayoutView

SIDE_MIN = 380.0  # the narrowest column (pixels) worth moving the text into ...
SIDE_SHARE = 0.42  # ... and the widest, as a share of the stage's width
_NONE = 16777215  # Qt's "no maximum"
FACT_SEP = "   ·   "  # between the facts on one line under the stage
FACT_BREAK = "<br>"  # between them in the column beside it


def set_wrapped(widget: LayoutView, label: Label, html: str, size: float, *,
                max_height: float | None = None, width: float | None = None) -> None:
    """Set a label's text wrapped to ``width`` (default: the widget's width), so it never widens the
    scene; with ``max_height`` (a share of the widget's height) the type shrinks, down to 8 pt, until
    the text takes at most that much. An empty label takes no room at all."""
    avail = max(160.0, (widget.width() - 40.0) if width is None else width)
    while True:
        label.item.setTextWidth(-1)
        label.setText(html, size=f"{size:.0f}pt")
        if label.item.boundingRect().width() > avail:
            label.item.setTextWidth(avail)
            label.updateMin()
        height = label.item.boundingRect().height()
        too_tall = max_height is not None and height > max_height * widget.height()
        if not too_tall or size <= 8:
            break
        size -= 1
    label.setMaximumHeight(0 if not html else _NONE)
    if not html:
        label.setMinimumHeight(0)
    # Keep the layout inside the viewport: a grown label shrinks the view, never the reverse.
    widget.ci.setGeometry(QRectF(0, 0, widget.viewport().width(), widget.viewport().height()))
    label.resizeEvent(None)  # LabelItem centres its text only when resized


class TextRows:
    """The four labels of a stage widget (rows 0, 1 and 3, 4 around the view in row 2), where the
    facts and arithmetic go: "bottom" or "side", and the products that fly into the arithmetic
    (``travel``, from the cells of ``box`` in the widget's ``theme``)."""

    def __init__(self, widget: LayoutView, colour: str, *, box: Box, theme: dict[str, str]) -> None:
        self.widget = widget
        ci = widget.ci
        self.heading = widget.addLabel("", row=0, col=0, colspan=2, size="16pt", color=colour)
        self.caption = widget.addLabel("", row=1, col=0, colspan=2, size="14pt", color=colour)
        self.side = ci.addLayout(row=2, col=1)
        self.side.setContentsMargins(16, 0, 0, 0)
        spacer = QGraphicsWidget()  # under the side text: it keeps to the top
        spacer.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.side.addItem(spacer, row=2, col=0)
        self.facts = widget.addLabel("", row=3, col=0, size="12pt", color=colour)
        self.arith = widget.addLabel("", row=4, col=0, size="15pt", color=colour)
        #: Products flying from the cells of ``box`` (the stage's view box) into the arithmetic line.
        self.travel = TravelLayer(box, self.arith, theme)
        for label in self.labels:  # text never dictates the scene's width
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.mode = "bottom"
        self._under = 0.0  # the height the facts and arithmetic took under the stage
        self.side_width = 0.0
        self._set_side_width(0.0)
        self.pt = {"heading": 16.0, "caption": 14.0, "facts": 12.0, "arith": 15.0}
        self._shown: dict[str, tuple[str, float, str]] = {}
        self._facts: list[str] = []
        self._arith = self._instead = ""  # the step's arithmetic, and what is shown in its place ("": none)

    @property
    def labels(self) -> tuple[Label, ...]:
        """Heading, caption, facts, arithmetic."""
        return (self.heading, self.caption, self.facts, self.arith)

    def set_style(self, colour: str, zoom: float) -> None:
        """Text colour and zoom (sizes in points at zoom 1: heading 16, caption 14, facts 12, arithmetic 15,
        the last two growing less)."""
        for label in self.labels:
            label.opts["color"] = colour
        self.pt = {"heading": 16 * zoom, "caption": 14 * zoom, "facts": 12 * min(zoom, 1.6),
                   "arith": 15 * min(zoom, 1.25)}
        self._shown.clear()

    def show(self, heading: str, caption: str, facts: Sequence[str], arith: str) -> None:
        """Set the texts (HTML); the facts go on one line under the stage, one per line beside it.
        Labels whose text, size and room are unchanged are left alone."""
        self._arith, self._instead = arith, ""
        self._put(heading, caption, facts, arith)

    def show_instead(self, text: str) -> None:
        """Show ``text`` where the step's arithmetic goes (a hovered weight's gradient sum) until "" gives the
        step's back; products in flight land (the line they fly to is covered)."""
        html = html_escape(text).replace("\n", "<br>")
        if html != self._instead:
            self._instead = html
            self._put(self.heading.text, self.caption.text, self._facts, html or self._arith)
            self.travel.start(False)

    def _put(self, heading: str, caption: str, facts: Sequence[str], arith: str) -> None:
        self._facts = list(facts)
        joined = (FACT_BREAK if self.mode == "side" else FACT_SEP).join(self._facts)
        for name, label, html in (("heading", self.heading, heading), ("caption", self.caption, caption),
                                  ("facts", self.facts, joined), ("arith", self.arith, arith)):
            side = self.mode == "side" and name in ("facts", "arith")
            width = self.side_width - 24 if side else None
            key = (html, self.pt[name], f"{self.mode}:{self.widget.width()}")
            if self._shown.get(name) == key:
                continue
            self._shown[name] = key
            if name == "arith":
                set_wrapped(self.widget, label, html, self.pt[name], max_height=0.75 if side else 0.3,
                            width=width)
            elif name == "facts":
                set_wrapped(self.widget, label, html, self.pt[name], max_height=0.4 if side else 0.12,
                            width=width)
            else:  # heading and caption: a line or two, never most of the screen
                set_wrapped(self.widget, label, html, self.pt[name], max_height=0.13)

    def refresh(self) -> None:
        """Wrap every label again (the widget changed size)."""
        self._shown.clear()
        self._put(self.heading.text, self.caption.text, self._facts, self.arith.text)

    def arrange(self, stage_w: float, stage_h: float, grows: bool = False) -> bool:
        """Put the facts and arithmetic beside a stage of ``stage_w × stage_h`` scene units when the
        stage is drawn larger that way than with the text underneath; True when that changed. A stage
        that ``grows`` into the room beside it (``layout.grown_scales``) uses the width the text would
        take there: it keeps the text under it unless beside is clearly (5%) better."""
        vw, vh = self.widget.viewport().width() - 24.0, self.widget.viewport().height() - 16.0
        top = sum(label.item.boundingRect().height() for label in (self.heading, self.caption)
                  if label.text)
        if stage_w <= 0 or stage_h <= 0 or vh - top < 50:
            return False
        if self.mode == "bottom":
            self._under = sum(label.item.boundingRect().height() + 6 for label in (self.facts, self.arith)
                              if label.text)
        under = self._under_at(vw) if grows and self.mode == "side" else self._under
        beside = min(max(vw - stage_w * (vh - top) / stage_h, SIDE_MIN), SIDE_SHARE * vw)
        scale_under = min(vw / stage_w, (vh - top - under) / stage_h)
        scale_beside = min((vw - beside) / stage_w, (vh - top) / stage_h)
        lead = (1.05 if grows else 0.95) if self.mode == "side" else 1.1  # reluctance to flip back and forth
        mode = "side" if scale_beside > lead * scale_under else "bottom"
        width = beside if mode == "side" else 0.0
        if mode == self.mode and abs(width - self.side_width) < 8:
            return False
        if mode != self.mode:
            for row, label in ((3, self.facts), (4, self.arith)):
                owner = self.side if self.mode == "side" else self.widget.ci
                owner.removeItem(label)
                if mode == "side":
                    self.side.addItem(label, row=row - 3, col=0)
                else:
                    self.widget.ci.addItem(label, row=row, col=0)
        self.mode = mode
        self._set_side_width(width)
        self.refresh()
        return True

    def _under_at(self, vw: float) -> float:
        """The height the facts and arithmetic, now beside the stage, would take under it (wrapped as
        ``set_wrapped`` would wrap them there), not the height they took when last under it, perhaps
        in a narrower window."""
        wh = self.widget.height()
        return (_wrapped_height(self.facts, FACT_SEP.join(self._facts), self.pt["facts"], vw, 0.12 * wh)
                + _wrapped_height(self.arith, self.arith.text, self.pt["arith"], vw, 0.3 * wh))

    def _set_side_width(self, width: float) -> None:
        self.side_width = width
        self.side.setMinimumWidth(width)
        self.side.setMaximumWidth(width)
        self.side.setVisible(width > 0)

    def show_frame(self, f: Frame) -> None:
        """The words of frame ``f``: the lecturer's heading and note, the caption, the facts and the
        arithmetic (its lines kept)."""
        heading = f"<b>{html_escape(f.heading)}</b>" if f.heading else ""
        if f.note:
            heading += (" — " if heading else "") + html_escape(f.note)
        self.show(heading, html_escape(f.caption), [html_escape(x) for x in f.facts],
                  html_escape(f.arithmetic).replace("\n", "<br>"))


def _wrapped_height(label: Label, html: str, size: float, vw: float, most: float) -> float:
    """The height (and a gap) ``set_wrapped`` would give ``label`` showing ``html`` across a widget
    ``vw + 24`` pixels wide, at most ``most`` pixels high (0 for no text)."""
    if not html:
        return 0.0
    doc = QTextDocument()
    doc.setDefaultFont(label.item.font())
    while True:
        doc.setHtml(f"<span style='font-size: {size:.0f}pt'>{html}</span>")
        doc.setTextWidth(-1)
        if doc.idealWidth() > max(160.0, vw - 16.0):
            doc.setTextWidth(max(160.0, vw - 16.0))
        if doc.size().height() <= most or size <= 8:
            return doc.size().height() + 6
        size -= 1


def html_escape(s: str) -> str:
    """``s`` safe inside a label's rich text."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
