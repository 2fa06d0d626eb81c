"""The output-size formula beside the controls wraps between terms, never leaving its last step apart.

Regression: in the default 1400×860 window the panel broke "… / s⌋ + 1" before the final "1", which then
stood alone on a line; the numbers line did the same with "= 5".
"""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from gui.controls import _whole_tail


def lines_at(html: str, width: float, font: object) -> list[str]:
    """The lines ``html`` breaks into at ``width`` pixels in ``font``, as Qt lays a word-wrapped label out."""
    doc = QTextDocument()
    doc.setDefaultFont(font)  # type: ignore[arg-type]
    doc.setHtml(html)
    doc.setTextWidth(width)
    doc.size()  # lays the text out
    out = []
    block = doc.begin()
    while block.isValid():
        lay, text = block.layout(), block.text()
        for i in range(lay.lineCount()):
            line = lay.lineAt(i)
            out.append(text[line.textStart(): line.textStart() + line.textLength()].strip())
        block = block.next()
    return [s.replace("\u00a0", " ") for s in out if s]


def test_the_formula_keeps_its_last_step_whole_at_every_panel_width(window) -> None:
    window.resize(1400, 860)
    label = window.controls.formula
    html = label.text()
    whole = [s.replace("\u00a0", " ") for s in lines_at(html, 10_000, label.font())]
    assert any(s.startswith("H_out = ⌊(H + p_top + p_bottom") and s.endswith("/ s⌋ + 1") for s in whole)
    for width in range(200, 420, 7):  # the panel's widths from a narrow window to a wide one
        for line in lines_at(html, width, label.font()):
            assert line not in {"1", "+ 1", "1 = 5"}, (width, line)
            assert not line.startswith(("+ 1", "1 ", "1)", "/ ", "= 5")), (width, line)


def test_the_tail_glue_keeps_the_text() -> None:
    f = "⌊(5 + 1 + 1 − 1·(3−1) − 1) / 2⌋ + 1 = 3 (the last window would start in the trailing padding)"
    assert _whole_tail(f).replace("&nbsp;", " ") == f
    assert _whole_tail("H_out = ⌊(H − 1) / s⌋ + 1").replace("&nbsp;", " ") == "H_out = ⌊(H − 1) / s⌋ + 1"
