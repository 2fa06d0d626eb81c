"""Stroke thickening (``engine.strokes``) and elastic distortion (``engine.augment.elastic``)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import augment
from engine.strokes import PEN_RADIUS, skeleton, thicken
from gui.models import digits
from tests.test_digits import FOUR, SEVEN, drawing


def test_a_thick_bar_thins_to_a_one_pixel_line_along_its_middle() -> None:
    bar = np.zeros((20, 30), bool)
    bar[8:13, 4:26] = True
    s = skeleton(bar)
    assert not (s & ~bar).any()  # thinning only removes ink
    assert s.any(axis=0)[8:22].all()  # the line still spans the bar (ends wear down a little)
    assert (s.sum(axis=0) <= 1).all()  # one pixel wide
    assert set(np.flatnonzero(s.any(axis=1))) == {10}  # along the middle row


def test_a_ring_thins_to_a_closed_loop() -> None:
    yy, xx = np.mgrid[0:31, 0:31]
    r = np.hypot(yy - 15, xx - 15)
    s = skeleton((r > 6) & (r < 10))
    assert s.sum() > 30  # a loop, not a point: thinning keeps the hole
    assert not s[15, 15] and s[15].sum() == 2  # the middle row crosses it twice


def test_a_hairline_is_drawn_as_wide_as_the_pen_and_a_broad_stroke_is_kept() -> None:
    line = np.zeros((32, 32))
    line[16, 5:27] = 1.0
    out = thicken(line)
    assert out[:, 16].sum() == pytest.approx(2 * PEN_RADIUS, abs=0.3)  # the pen's width across the line
    assert out[16, 5:27].min() == 1.0
    broad = np.zeros((32, 32))
    broad[10:22, 5:27] = 1.0
    np.testing.assert_array_equal(thicken(broad), broad)  # a stroke broader than the pen is unchanged
    assert not thicken(np.zeros((8, 8))).any()


def test_a_thin_pen_and_a_thick_pen_give_nearly_the_same_input() -> None:
    thin = digits.digit_input(drawing(SEVEN, width=4))
    thick = digits.digit_input(drawing(SEVEN, width=14))
    other = digits.digit_input(drawing(FOUR, width=14))
    assert np.abs(thin - thick).mean() < 0.06
    assert np.abs(other - thick).mean() > 2 * np.abs(thin - thick).mean()  # the tolerance tells digits apart


def test_the_elastic_field_is_smooth_seeded_and_about_the_stated_size() -> None:
    a = augment.elastic(np.random.default_rng(3))
    np.testing.assert_array_equal(a, augment.elastic(np.random.default_rng(3)))
    assert a.shape == (2, augment.CANVAS, augment.CANVAS)
    assert 0.3 * augment.WARP < a.std() < 2 * augment.WARP
    assert np.abs(np.diff(a, axis=-1)).max() < augment.WARP  # neighbours move nearly alike
