"""Hovering a kernel weight of a multi-channel lesson lights the input cells on the tile of the channel
the weight reads (stacked or side by side, flat or stage view), not on the front channel's tile."""

from __future__ import annotations

import itertools

from gui.models import interaction
from gui.models.lesson import Lesson
from gui.models.params import Params

P = Params(in_c=3, out_c=2, in_h=5, in_w=5, k_h=3, k_w=3, stride=(2, 1), padding=(1, 1, 0, 0))


def _naive(p: Params, i: int, j: int) -> set[tuple[int, int]]:
    """Padded input cells kernel tap ``(i, j)`` meets at every output cell (a plain loop)."""
    h, w = p.in_h + p.padding[0] + p.padding[1], p.in_w + p.padding[2] + p.padding[3]
    (sh, sw), (dh, dw) = p.stride, p.dilation
    oh_n, ow_n = (h - dh * (p.k_h - 1) - 1) // sh + 1, (w - dw * (p.k_w - 1) - 1) // sw + 1
    return {(oh * sh + i * dh, ow * sw + j * dw) for oh in range(oh_n) for ow in range(ow_n)}


def test_a_weight_of_channel_c_lights_the_grid_of_channel_c() -> None:
    m = Lesson(P)
    for ch, i, j in itertools.product(range(P.out_c * P.in_c), range(P.k_h), range(P.k_w)):
        h = interaction.hover(m, "kernel", i, j, ch)
        assert h.receptive is not None
        c = ch % P.in_c
        assert h.receptive.grids == (c,), ch
        assert set(h.receptive.cells) == _naive(P, i, j)
        assert f"of channel {c} " in h.status


def test_one_channel_lights_the_front_grid() -> None:
    h = interaction.hover(Lesson(Params()), "kernel", 1, 1, 0)
    assert h.receptive is not None and h.receptive.grids == ()


def _lit(window) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    marks = window.renderer.hover_marks
    x0, y0, s = marks.pos().x(), marks.pos().y(), marks.scale()
    return sorted((round(x0 + c * s, 6), round(y0 + r * s, 6)) for r, c in marks.cells)


def _on_tile(window, g: int, cells: set[tuple[int, int]]) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    t = window.renderer.visible_tiles("input")[g]
    (x0, y0), s = t.origin, t.scale
    return sorted((round(x0 + c * s, 6), round(y0 + r * s, 6)) for r, c in cells)


def test_the_window_lights_the_tile_of_the_weights_channel(window) -> None:  # type: ignore[no-untyped-def]
    assert window.model.load(P), window.model.last_error
    stage = window.stage
    for expanded in (False, True):
        stage.set_expanded(expanded)
        for c in range(P.in_c):
            stage.hovered("kernel", c, 0, 2)  # output channel 0's weight of input channel c
            assert _lit(window) == _on_tile(window, c, _naive(P, 0, 2)), (expanded, c)
    front = window.renderer.visible_tiles("input")[0].origin
    assert window.renderer.visible_tiles("input")[2].origin != front  # the tiles differ: the test can tell


def test_the_stage_view_lights_the_plane_of_the_weights_channel(window) -> None:  # type: ignore[no-untyped-def]
    assert window.model.load(P), window.model.last_error
    window.model.set_view("stage")
    window.stage.hovered("kernel", 2, 0, 2)
    st = window.renderer.stage
    h = st.highlights["receptive"]
    assert h is not None and h.grids == (2,)
    assert st.plane("input", 2) is not st.plane("input")  # lit on channel 2's plane, not the front one
