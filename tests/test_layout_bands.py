"""1-D lessons lay their rows out in bands, one under another, with cells as large as the stage allows."""

from __future__ import annotations

from itertools import pairwise

import pytest

from gui.models.params import Params
from gui.scene.layout import place

#: Pixels per cell of the signal on main before the bands (rows side by side in one band), step 1.
BEFORE_PX = {("causal-conv1d", 1280): 26.1, ("causal-conv1d", 1920): 48.7,
             ("conv1d-dilated", 1280): 19.3, ("conv1d-dilated", 1920): 39.4}
#: How much larger the cells must be now: twice at 1920×1080; at 1280×720 the stage's height (the
#: heading's three lines, the facts) caps the gain.
GAIN = {1280: 1.4, 1920: 2.0}


def _cell_px(window) -> float:  # type: ignore[no-untyped-def]
    tile = window.renderer.visible_tiles("input")[0]
    return float(tile.item.sceneBoundingRect().width() / tile.shape[1])


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _assert_bands_apart(window) -> None:  # type: ignore[no-untyped-def]
    placed = window.renderer._placed
    boxes = sorted(((pl.rect[0], pl.rect[1] - pl.lift, pl.rect[2], pl.bottom + 1.0 - pl.rect[1] + pl.lift)
                    for pl in placed.values()), key=lambda r: r[1])  # tiles and colour bar
    for a, b in pairwise(boxes):
        assert not _overlap(a, b), (a, b)
        assert b[1] >= a[1] + a[3] - 1e-6  # each band under the one before


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("preset", ["causal-conv1d", "conv1d-dilated"])
def test_a_1d_lesson_draws_its_cells_larger_in_bands(window, qtbot, width, height, preset) -> None:  # type: ignore[no-untyped-def]
    window.resize(width, height)
    assert window.files.open_preset(preset)
    want = GAIN[width] * BEFORE_PX[(preset, width)]
    qtbot.waitUntil(lambda: _cell_px(window) >= want, timeout=3000)
    _assert_bands_apart(window)


def test_multi_channel_bands_fit_without_overlap_and_backward_keeps_two_rows(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    m = window.model
    assert window.files.open_preset("conv1d-stride2")
    f = m.frame()
    assert f.banded and len(f.panels) == 3
    qtbot.waitUntil(lambda: set(window.renderer._placed) == {p.name for p in f.panels}, timeout=3000)
    _assert_bands_apart(window)
    assert len(window.renderer.visible_tiles("input")) == m.params.in_c == 2  # a row per channel
    assert m.set_params(mode="backward"), m.last_error
    b = m.frame()
    assert not b.banded
    placed = place(b)
    assert {placed[n].rect[1] for n in ("input", "kernel", "output")} == {0.0}  # tensors side by side


def test_2d_frames_keep_their_side_by_side_layout() -> None:
    from gui.models.lesson import Lesson

    f = Lesson(Params(in_h=5, in_w=5, k_h=3, k_w=3)).frame()
    assert not f.banded
    placed = place(f)
    assert {placed[n].rect[1] for n in ("input", "kernel", "output")} == {0.0}  # one row, left to right
    assert placed["input"].rect[0] < placed["kernel"].rect[0] < placed["output"].rect[0]
