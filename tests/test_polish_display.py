"""Display defects a lecturer would notice, read back from what is painted: titles on one line,
numbers only where they fit their cells, the room the views take, lines clear of the numbers."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QGraphicsTextItem


def painted_lines(item: QGraphicsTextItem) -> list[str]:
    """The lines a title's text is laid out on, as painted."""
    out = []
    block = item.document().firstBlock()
    while block.isValid():
        layout = block.layout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            out.append(block.text()[line.textStart():line.textStart() + line.textLength()])
        block = block.next()
    return out


def settle(qtbot, window, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """``window`` resized to ``size`` (or its minimum size, if larger: 1043 px wide) and laid out."""
    window.resize(*size)
    want = (max(size[0], window.minimumSizeHint().width()), max(size[1], window.minimumSizeHint().height()))
    qtbot.waitUntil(lambda: (window.width(), window.height()) == want, timeout=2000)
    for _ in range(3):
        QApplication.processEvents()


@pytest.mark.parametrize(("size", "step"), [((1400, 860), 12), ((1920, 1080), 12), ((1024, 768), 17)])
def test_backward_titles_stay_on_one_line(window, qtbot, size, step) -> None:  # type: ignore[no-untyped-def]
    """"Target T" read "Target" over "T" in the default window; "Kernel W", "Output Y" too at 1024x768:
    a short title takes a smaller type, or more room, never two lines."""
    assert window.files.open_preset("backprop-conv"), window.status.text()
    window.model.set_step(step)
    settle(qtbot, window, size)
    f = window.model.frame(step)
    titles = window.renderer.titles
    shown = {p.name: painted_lines(titles[p.name].textItem) for p in f.panels}
    assert "target" in shown
    assert all(lines == [f.panel(name).title] for name, lines in shown.items()), shown
    rects = {n: titles[n].sceneBoundingRect() for n in shown}
    for name, rect in rects.items():  # and a title kept on one line runs into no other
        assert all(o == name or not rect.intersects(r) for o, r in rects.items()), name
