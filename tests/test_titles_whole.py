"""Titles as painted: a name such as "dL/dY" is never torn across two lines (Qt breaks after "/"), and
a title kept whole still stays clear of every other title. Read back from the painted text's lines."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QGraphicsTextItem

from gui import export
from gui.models import scenario
from gui.models.lesson import Lesson
from gui.models.params import Params


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


def assert_whole(lines: list[str], title: str) -> None:
    """``lines`` carry all of ``title``, broken only at spaces, never beside "=" nor inside "(…)"."""
    assert "".join(lines) == title  # all of it, nothing cut
    for k, line in enumerate(lines[:-1]):
        before = "".join(lines[:k + 1]).rstrip()
        assert line.endswith(" "), lines  # broken at a space, never inside "dL/dY"
        assert not before.endswith("=") and not lines[k + 1].startswith("="), lines  # nor a formula
        assert before.count("(") == before.count(")"), lines  # nor an aside


@pytest.mark.parametrize("size", [(1920, 1080), (1400, 860)])
def test_matrix_forward_formula_titles_stay_whole(offscreen_renderers, size) -> None:
    """The 1-D matrix picture's y column is one cell wide: its title "y = C·x" read "y =" over "C·x"."""
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv1d-stride2")), m.last_error
    assert m.set_params(drawn_as="matrix"), m.last_error
    r = offscreen_renderers(size)
    export.draw(r, m, 2)
    f = m.frame(2)
    for p in f.panels:
        assert_whole(painted_lines(r.titles[p.name].textItem), p.title)
    assert painted_lines(r.titles["down"].textItem) == ["y = C·x"]


def matrix_backward(**changes: object) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-as-matrix")), m.last_error
    assert m.set_params(mode="backward", **changes), m.last_error
    return m


@pytest.mark.parametrize(("size", "changes"), [
    ((1024, 768), {}),  # "dL/dW = dL/" + "dY·Xcolᵀ (so far)" and "dL/" + "dY"
    ((1400, 860), {"in_h": 5, "in_w": 5, "k_h": 2, "k_w": 2}),  # the dL/dY column's title: "dL/" + "dY"
    ((1280, 720), {"in_h": 6, "in_w": 6}),
])
def test_matrix_backward_titles_break_only_at_spaces(offscreen_renderers, size, changes) -> None:
    m = matrix_backward(**changes)
    r = offscreen_renderers(size)
    export.draw(r, m, 1)
    shown = {name: t for name, t in r.titles.items() if t.isVisible() and t.textItem.toPlainText()}
    assert {"down", "dw", "matrix"} <= set(shown)
    for name, t in shown.items():
        assert_whole(painted_lines(t.textItem), m.frame(1).panel(name).title)
    assert painted_lines(shown["down"].textItem) == ["dL/dY"]
    rects = {name: t.sceneBoundingRect() for name, t in shown.items()}
    for name, rect in rects.items():
        for other, orect in rects.items():
            assert other == name or not rect.intersects(orect), (name, other)


@pytest.mark.parametrize(("name", "size"), [
    ("conv1d-stride2", (1400, 860)),  # the kernel box's title was cut: "Kernel W[0] of 2: 2 chan…"
    ("conv1d-stride2", (1280, 720)),
    ("rgb-volume", (1280, 720)),
    ("lenet5-c1", (1400, 860)),  # 32×32: the titles over and under the planes were clipped by the view
    ("lenet5-c1", (1920, 1080)),
])
def test_stage_titles_are_whole_and_clear_of_each_other(offscreen_renderers, name, size) -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    assert m.set_view("stage")
    r = offscreen_renderers(size)
    export.draw(r, m, 3)
    export.grab(r)  # painted: the stage notes each title as it painted it
    f = m.frame(3)
    shown = r.stage.title_rects
    assert set(shown) == {p.name for p in f.panels if p.name in r.stage.layout.planes}
    box = r.mapFromScene(r.view.sceneBoundingRect()).boundingRect().adjusted(-1, -1, 1, 1)  # what is shown
    for pname, (text, rect) in shown.items():
        assert text == f.panel(pname).title, (pname, text)  # whole, never "…"
        assert box.contains(rect.toAlignedRect()), (pname, rect, box)  # never clipped by the view
        for other, (_, orect) in shown.items():
            assert other == pname or not rect.intersects(orect), (pname, other)


def test_every_kernel_box_is_named_legibly_whatever_its_hue(offscreen_renderers) -> None:
    """Eight kernels take every kernel hue, yellow and orange too: each box's name "W[k]" is written
    in ink that stands out from the page (contrast 4.5:1 or more), never in its pale hue."""
    m = Lesson(Params(out_c=8))
    assert m.set_view("stage")
    r = offscreen_renderers((1920, 1080))
    export.draw(r, m, 0)
    img = export.rgb(export.grab(r)).astype(float) / 255.0
    lum = img @ np.array([0.2126, 0.7152, 0.0722])  # near enough to relative luminance for this test
    assert set(r.stage.index_rects) == set(range(8))
    for k, rect in r.stage.index_rects.items():
        x0, x1 = int(rect.left() + 0.4 * rect.width()), int(rect.right())  # the name, right of the swatch
        y0, y1 = int(rect.top()), int(rect.bottom())
        darkest = lum[y0:y1, x0:x1].min()
        page = np.median(lum[y0:y1, x0:x1])
        assert (page + 0.05) / (darkest + 0.05) >= 4.5, (k, darkest, page)
