"""Products travel in the stage view too: each chip leaves its input cell's face on the lower plane
(where the stage painter's projection puts it), flies into its slot of the arithmetic line, and the
sum lands on the output cell's face on the upper plane; the window waits while they fly."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from gui.export import paint
from gui.models.lesson import Lesson
from gui.models.motion import WINDOW_SHARE
from gui.models.params import Params

CASES = {"conv": Params(bias=True, view="stage"),
         "stacked": Params(in_c=2, out_c=2, k_h=2, k_w=2, view="stage"),
         "max-pool": Params(op="max", padding=(0, 0, 0, 0), view="stage")}


def _at(offscreen_renderers, p: Params, piece: float):  # type: ignore[no-untyped-def]
    """A stage-view renderer gliding from step 3 to step 4, at ``piece`` pieces into the flight."""
    lesson = Lesson(p)
    r = offscreen_renderers((1280, 720))
    paint.draw(r, lesson, 3)
    f = lesson.frame(4)
    assert f.view == "stage" and f.motion is not None
    r.show_frame(f)
    r.settle()
    r.text.travel.set_enabled(True)
    r.text.travel.start(True)
    assert r.text.travel.active
    r.glide(WINDOW_SHARE + piece * (1 - WINDOW_SHARE) / f.motion.pieces)
    return r, f


def _face(r, panel: str, grid: int, cell: tuple[int, int]) -> QPointF:  # type: ignore[no-untyped-def]
    """Scene point of the centre of ``cell``'s face, from the stage painter's own plane."""
    plane = r.stage.plane(panel, grid)
    assert plane is not None
    return r.view.mapViewToScene(QPointF(*plane.centre(*cell)))


def _close(a: QPointF, b: QPointF) -> bool:
    return abs(a.x() - b.x()) < 0.5 and abs(a.y() - b.y()) < 0.5


@pytest.mark.parametrize("name", list(CASES))
def test_each_piece_leaves_its_face_on_the_lower_plane_for_its_slot(offscreen_renderers, name: str) -> None:  # type: ignore[no-untyped-def]
    r, f = _at(offscreen_renderers, CASES[name], 0.0)
    chip = r.text.travel.chip
    for k, tr in enumerate(f.motion.travels[:-1]):
        r.glide(WINDOW_SHARE + (k + 1e-6) * (1 - WINDOW_SHARE) / f.motion.pieces)  # piece k leaves
        assert chip.isVisible() and chip.text == tr.text
        assert _close(chip.pos(), _face(r, "input", tr.grid, tr.cell)), (k, tr)
        # The same point the view reports for that cell of that plane (widget coordinates).
        want = r.staging.cell_center("input", tr.grid, *tr.cell)
        got = r.mapFromScene(chip.pos())
        assert abs(got.x() - want.x()) <= 1 and abs(got.y() - want.y()) <= 1
    lower, upper = r.stage.plane("input"), r.stage.plane("output")
    assert lower is not None and upper is not None and lower.y0 > upper.y0  # input below, output above


def test_the_sum_lands_on_the_output_cells_face_on_the_upper_plane(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    r, f = _at(offscreen_renderers, CASES["conv"], 0.0)
    n = f.motion.pieces
    s = f.motion.travels[-1]
    assert s.kind == "sum"
    end = _face(r, "output", s.grid, s.cell)
    r.glide(WINDOW_SHARE + (n - 1) * (1 - WINDOW_SHARE) / n)  # the sum leaves the line...
    cover = r.text.travel.cover
    assert cover.isVisible() and cover.polygon().containsPoint(end, Qt.FillRule.OddEvenFill)
    assert _close(r.text.travel.chip.pos(), r.text.travel.slot_point(s))
    r.glide(WINDOW_SHARE + (n - 1e-9) * (1 - WINDOW_SHARE) / n)  # ...and lands on its face
    assert _close(r.text.travel.chip.pos(), end)
    r.glide(1.0)
    assert not cover.isVisible() and not r.text.travel.chip.isVisible()


def test_the_window_waits_while_the_products_fly(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    r, _ = _at(offscreen_renderers, CASES["conv"], 0.0)
    r.glide(WINDOW_SHARE / 2)
    assert r.stage.t == pytest.approx(0.5)
    r.glide(WINDOW_SHARE + 0.3)
    assert r.stage.t == 1.0


def _chip_fill_pixels(r) -> int:  # type: ignore[no-untyped-def]
    """How many pixels of the chip's fill colour the picture has round the chip's place."""
    chip = r.text.travel.chip
    box = r.mapFromScene(chip.mapToScene(chip.boundingRect()).boundingRect()).boundingRect()
    rgb = paint.rgb(paint.grab(r))[box.top():box.bottom(), box.left():box.right()]
    return int(np.all(rgb == (0xFF, 0xF4, 0xC2), axis=-1).sum())


def test_the_stage_picture_shows_the_chip_in_flight(offscreen_renderers) -> None:  # type: ignore[no-untyped-def]
    r, _ = _at(offscreen_renderers, CASES["conv"], 2.5)
    assert _chip_fill_pixels(r) > 100  # the chip is painted over the stage
    r.glide(1.0)
    r.settle()
    assert _chip_fill_pixels(r) == 0
