"""The stage view's geometry, without Qt: a plane's points, its inverse and its affine map agree, and the
layout puts the output above the input and a box per kernel beside it."""

from __future__ import annotations

import numpy as np

from gui.models import scenario
from gui.models.lesson import Lesson
from gui.scene.projection import FORE, SHEAR, Plane, stage_layout


def test_a_cell_centre_maps_back_to_its_cell() -> None:
    plane = Plane(2.0, 3.0, 7, 9, 1.5)
    for i in range(7):
        for j in range(9):
            assert plane.cell_at(*plane.centre(i, j)) == (i, j)
    assert plane.cell_at(*plane.point(-0.1, 0.5)) is None and plane.cell_at(*plane.point(3, 9.1)) is None


def test_the_affine_map_is_the_point_map() -> None:
    plane = Plane(-1.0, 4.0, 5, 6, 2.0)
    m11, m12, m21, m22, dx, dy = plane.affine()
    for r, c in ((0, 0), (5, 6), (2.5, 1.25), (4, 0)):
        x, y = plane.point(r, c)
        assert np.isclose(m11 * c + m21 * r + dx, x) and np.isclose(m12 * c + m22 * r + dy, y)
    x, y, w, h = plane.bounds()
    assert np.isclose(h, FORE * 5 * 2.0) and np.isclose(w, 2.0 * (6 + SHEAR * 5))


def test_the_output_floats_above_the_input_and_each_kernel_has_a_box() -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("rgb-volume"))
    m.set_view("stage")
    lay = stage_layout(m.frame())
    lo, up = lay.planes["input"][0], lay.planes["output"][0]
    assert up.y0 + up.scale * FORE * up.rows < lo.y0  # the whole output plane is above the input
    assert len(lay.planes["input"]) == m.params.in_c and len(lay.planes["output"]) == m.params.out_c
    assert len(lay.boxes) == m.params.out_c
    assert all(b[0].bounds()[0] + b[0].bounds()[2] < lo.x0 for b in lay.boxes)  # beside, on the left
