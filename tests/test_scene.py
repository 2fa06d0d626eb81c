"""The painter paints what the Frame says and decides nothing: its labels, titles, legends, marks,
highlights and layout come from the frame; its source reads no parameters and formats no number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from gui import export
from gui.models.frame import Frame, Highlight
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene import SceneRenderer, SceneView, grid

SCENE_DIR = Path(__file__).resolve().parents[1] / "gui" / "scene"


@pytest.fixture
def view(qapp) -> Iterator[SceneView]:  # type: ignore[no-untyped-def]
    v = export.offscreen_renderer((1400, 900))
    yield v
    v.hide()
    v.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def collisions() -> Lesson:
    """Decimal values where different numbers are written alike ("0", "1")."""
    x = np.array([[[0.001, 0.002, -0.003, 0.4], [1.004, 1.0, 0.5, 2.0], [2.0, 2.001, 0.0, -1.0]]])
    p = Params(in_h=3, in_w=4, integers=False, mode="both", bias=True)
    m = Lesson(p)
    assert m.load(p, x=x)
    return m


def painted_labels(item: grid.GridItem) -> np.ndarray:
    """The text the tile item draws in each cell, read back from its render data."""
    labels = np.full(item.grid.shape, "", dtype=object)
    for (s, _dark), (ii, jj) in item.render.groups.items():
        assert (labels[ii, jj] == "").all(), "a cell is drawn twice"
        labels[ii, jj] = s
    return labels


def check_shows(view: SceneView, f: Frame) -> None:
    assert view.frame is f
    for p in f.panels:
        tiles = view.visible_tiles(p.name)
        assert len(tiles) == len(p.grids)
        for tile, g in zip(tiles, p.grids, strict=True):
            assert tile.item.grid is g
            np.testing.assert_array_equal(painted_labels(tile.item), g.labels)
        assert view.titles[p.name].textItem.toPlainText() == p.title
        legend = view.legends[p.name]
        assert legend.isVisible() == (p.legend is not None)
        if p.legend is not None:
            assert legend.labels == p.legend
    shown = {p.name for p in f.panels}
    for name, t in view.titles.items():
        if name not in shown:
            assert t.textItem.toPlainText() == "" and not view.visible_tiles(name)
    assert view.caption.text == f.caption
    assert view.arith.text == f.arithmetic.replace("\n", "<br>")


def test_the_painter_draws_exactly_the_frames_labels(view, monkeypatch) -> None:
    m = collisions()
    drawn: set[str] = set()
    real = grid.glyph

    def record(s: str, *args: object) -> object:
        drawn.add(s)
        return real(s, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(grid, "glyph", record)
    for k in (0, 5, m.n_forward - 1, m.n_forward, m.n_steps - 1):
        f = m.frame(k)
        view.show_frame(f)
        check_shows(view, f)
        view.grab()
        for p in f.panels:
            front = p.grids[p.front]
            assert set(front.labels.ravel().tolist()) - {""} <= drawn, p.name
    # Different values written alike all keep their text (regression: one cell per text survived).
    view.show_frame(m.frame(0))
    inner = painted_labels(view.visible_tiles("input")[0].item)[1:4, 1:5]
    np.testing.assert_array_equal(inner, [["0", "0", "0", "0.4"], ["1", "1", "0.5", "2"],
                                          ["2", "2", "0", "\u22121"]])


@pytest.mark.parametrize("params", [
    Params(in_c=3, out_c=2, mode="backward", upstream="loss"),
    Params(op="max", k_h=2, k_w=2, stride=(2, 2), mode="both"),
    Params(mode="backward", grad_view="gather", stride=(2, 2)),
    Params(activation="relu", granularity="tap"),
], ids=["conv-backward", "max-both", "gather", "relu-tap"])
def test_titles_legends_caption_and_arithmetic_are_the_frames(view, params) -> None:
    m = Lesson(params)
    for expanded in (False, True):
        for k in (0, m.n_steps // 2, m.n_steps - 1):
            f = m.frame(k, expanded=expanded)
            view.show_frame(f)
            check_shows(view, f)
            assert view.expanded == expanded


def test_marks_and_flow_sit_where_the_frame_says(view) -> None:
    m = Lesson(Params(in_c=2, out_c=2, mode="both", granularity="tap"))
    for k in (0, 7, m.n_forward + 3):
        for expanded in (False, True):
            f = m.frame(k, expanded=expanded)
            view.show_frame(f)
            view.glide(1.0)
            for style in ("window", "cell", "tap"):
                marks, items = f.marks_of(style), view.marks.of(style)
                for mk, item in zip(marks, items, strict=False):
                    tile = view.visible_tiles(mk.panel)[mk.grid]  # (a short panel may be drawn larger)
                    (x0, y0), s = tile.origin, tile.scale
                    at = (x0 + s * mk.at[1], y0 + s * mk.at[0])
                    assert (item.pos().x(), item.pos().y()) == pytest.approx(at)
                    assert item.cells == [(float(r), float(c)) for r, c in mk.cells]
                    assert item.labels == list(mk.labels)
                assert all(not item.cells for item in items[len(marks):])
            assert view.marks.flow.isVisible() == bool(f.flows)
            if f.flows:
                fl = f.flows[0]
                tile = view.visible_tiles(fl.panel)[fl.grid]
                (x0, y0), s = tile.origin, tile.scale
                start = (x0 + s * fl.cell[1], y0 + s * fl.cell[0])
                assert view.marks.flow.start.toTuple() == pytest.approx(start)
                assert view.marks.flow.weights == list(fl.weights)


def test_highlights_light_the_front_tile(view) -> None:
    m = Lesson(Params(op="max", in_c=2, k_h=2, k_w=2, stride=(2, 2)))
    f = m.frame(12)  # channel 2: its tile is in front
    view.show_frame(f)
    front = view.front_tile("input")
    assert front is view.visible_tiles("input")[f.panel("input").front] and f.panel("input").front == 1
    view.show_highlight("receptive", Highlight("input", ((1, 2), (2, 3))))
    assert view.hover_marks.cells == [(1.0, 2.0), (2.0, 3.0)]
    assert view.hover_marks.pos().toTuple() == front.origin
    view.show_highlight("fed", Highlight("output", ((0, 1),), ("w1,1",)))
    assert view.hover_out.labels == ["w1,1"]
    # A new layout moves the highlight with its tile.
    view.show_frame(m.frame(12, expanded=True))
    assert view.hover_marks.pos().toTuple() == view.front_tile("input").origin
    view.show_highlight("receptive", None)
    assert view.hover_marks.cells == []
    view.show_receptive_field([(0, 0)])  # the old names still work
    assert view.hover_marks.cells == [(0.0, 0.0)]
    with pytest.raises(ValueError):
        view.show_highlight("nearby", None)  # type: ignore[arg-type]


def test_kernel_hits_report_the_output_channels_weights(view) -> None:
    m = Lesson(Params(in_c=3, out_c=2))
    f = m.frame(30)  # output channel 2
    assert f.step.out_channel == 1
    view.show_frame(f)
    at = view.cell_center("kernel", 0, 1, 2)  # the front tile of the stack: input channel 0
    assert view.pick(view.mapToScene(at.toPoint())) == ("kernel", 1 * 3 + 0, 1, 2)
    view.show_frame(m.frame(30, expanded=True))
    at = view.cell_center("kernel", 4, 0, 0)
    assert view.pick(view.mapToScene(at.toPoint())) == ("kernel", 4, 0, 0)


def test_the_view_has_no_expanded_setter_and_keeps_its_old_name() -> None:
    assert SceneRenderer is SceneView
    assert not hasattr(SceneView, "set_expanded")


def test_the_painter_source_decides_nothing() -> None:
    """No module of the painter reads the parameters, formats a number or looks at engine steps."""
    files = sorted(SCENE_DIR.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "theme.py", "colour.py", "grid.py", "marks.py",
                                       "layout.py", "view.py"}
    forbidden = [re.compile(p, re.MULTILINE) for p in (
        r"\.params\b", r"\bfmt(_cell)?\(", r"^\s*(from|import) engine", r"\.step\.", r"\bdescribe\b")]
    for path in files:
        text = path.read_text()
        for pattern in forbidden:
            assert not pattern.search(text), f"{path.name} matches {pattern.pattern}"
        assert len(text.splitlines()) <= 400, f"{path.name} is too long"
