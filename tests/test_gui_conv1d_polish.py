"""Issue 13 in the window: a hovered or pinned 1-D output position lights the same window on every
channel row its kernel reads (groups respected), on the tiles where those rows are drawn."""

from __future__ import annotations

from gui.models.params import Params


def _lit_scene_cells(window) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    marks = window.renderer.hover_marks
    x0, y0, s = marks.pos().x(), marks.pos().y(), marks.scale()  # in the tiles' coordinates
    return [(round(x0 + c * s, 6), round(y0 + r * s, 6)) for r, c in marks.cells]


def _tile_cells(window, rows: tuple[int, ...], cols: tuple[int, ...]) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    tiles = window.renderer.visible_tiles("input")
    out = []
    for g in rows:
        (x0, y0), s = tiles[g].origin, tiles[g].scale
        out += [(round(x0 + c * s, 6), round(y0, 6)) for c in cols]
    return out


def test_hover_and_pin_light_every_channel_row_the_output_reads(window) -> None:  # type: ignore[no-untyped-def]
    m = window.model
    assert m.load(Params(op="conv1d", in_h=1, k_h=1, in_w=8, k_w=3, in_c=4, out_c=4, groups=2,
                         padding=(0, 0, 1, 1))), m.last_error
    stage = window.stage
    stage.hovered("output", 3, 0, 3)  # output channel 3: group 1 reads input rows 2 and 3
    assert sorted(_lit_scene_cells(window)) == sorted(_tile_cells(window, (2, 3), (3, 4, 5)))
    stage.hovered("output", 0, 0, 0)
    assert sorted(_lit_scene_cells(window)) == sorted(_tile_cells(window, (0, 1), (0, 1, 2)))
    stage.clicked("output", 2, 0, 6)  # pinned: still every row of the group, after a new layout too
    want = sorted(_tile_cells(window, (2, 3), (6, 7, 8)))
    assert sorted(_lit_scene_cells(window)) == want
    stage.set_expanded(not stage.expanded)
    assert sorted(_lit_scene_cells(window)) == sorted(_tile_cells(window, (2, 3), (6, 7, 8)))
