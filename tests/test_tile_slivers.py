"""Issue 12: a tile behind a stack's front tile is drawn only where it shows (a sliver along its top and right
edges, ``scene.tilepics``); the stage's pixels are those of every tile drawn whole, after each action that
makes new pictures (a new size, presenter type, a theme switch, expanding and collapsing, a step)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gui import export
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene import SceneView, placing, tilepics
from gui.scene.tilepics import outside

Action = Callable[[SceneView, Lesson], None]


def stage(view: SceneView, scale: float = 1.0, turns: int = 3) -> np.ndarray:
    """The stage's pixels once the layout has settled (``turns`` of the event loop)."""
    for _ in range(turns):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    img = export.grab(view, scale).convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4).copy()


def holes(view: SceneView) -> int:
    """Tiles whose pictures have a hole at the size shown."""
    n = 0
    for tiles in view.tiles.values():
        for t in tiles:
            it = t.item
            if it.isVisible() and it.render is not None and it.cover is not None:
                px = float(it.deviceTransform(view.viewportTransform()).m11())
                n += it._hole(it.render, px, 1.0) is not None
    return n


def run(params: Params, actions: list[Action], size: tuple[int, int],
        scale: float) -> Iterator[tuple[np.ndarray, int]]:
    """The stage's pixels (and tiles with a hole) after each of ``actions``."""
    view = export.offscreen_renderer(size)
    try:
        m = Lesson(params)
        for act in actions:
            act(view, m)
            yield stage(view, scale), holes(view)
    finally:
        view.hide()
        view.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def step(k: float, expanded: bool = False) -> Action:
    return lambda v, m: v.show_frame(m.frame(int(k * (m.n_steps - 1)), expanded=expanded))


ACTIONS: list[Action] = [
    step(0.3),  # cells still to be computed: blank pictures behind the front tile too
    step(0.75),
    lambda v, m: v.set_theme(v.theme_name, zoom=1.6),  # presenter type
    lambda v, m: v.resize(900, 640),
    lambda v, m: v.set_theme("dark"),
    lambda v, m: v.set_theme("high-contrast", zoom=1.0),
    step(0.75, expanded=True),
    step(0.75),
    lambda v, m: v.set_theme("light"),
    step(0.76),
]


@pytest.mark.parametrize(("params", "size", "scale"), [
    (Params(in_c=4, out_c=3, in_h=24, in_w=24, mode="backward"), (1400, 900), 1.0),  # cells mapped by NumPy
    (Params(in_c=3, out_c=3, in_h=7, in_w=7, padding=(1, 1, 1, 1), mode="backward"), (1400, 900), 1.0),
    (Params(in_c=5, out_c=2, in_h=150, in_w=150, k_h=5, k_w=5, mode="backward"), (1200, 800), 1.0),
    (Params(in_c=3, out_c=2, in_h=20, in_w=20, op="max", k_h=3, k_w=3, stride=(2, 2), ceil_mode=True),
     (1000, 700), 2.0),  # exported at twice the points: whole pictures (the widget's pixels are not these)
], ids=["24x24", "7x7-padded", "150x150", "pool-scale-2"])
def test_slivers_paint_the_stage_as_whole_tiles_do(qapp, monkeypatch, params: Params, size: tuple[int, int],  # type: ignore[no-untyped-def]
                                                   scale: float) -> None:
    new = list(run(params, ACTIONS, size, scale))
    monkeypatch.setattr(placing, "covering", lambda places, grids, renders: [None] * len(places))
    old = list(run(params, ACTIONS, size, scale))
    assert (sum(n for _, n in new) > 0) == (scale == 1.0) and all(n == 0 for _, n in old)  # holes made
    for k, ((a, _), (b, _)) in enumerate(zip(new, old, strict=True)):
        assert a.shape == b.shape
        assert (a != b).sum() == 0, f"action {k}: {(a != b).sum()} pixels differ"


def test_a_hole_without_a_margin_would_show(qapp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The comparison above can fail: holes past the edges of the tile over them leave pixels of neither."""
    params, size = Params(in_c=4, out_c=3, in_h=24, in_w=24, mode="backward"), (1400, 900)
    monkeypatch.setattr(tilepics, "HOLE_MARGIN", -tilepics.HOLE_GRID - 2)
    new = [a for a, _ in run(params, ACTIONS[:2], size, 1.0)]
    monkeypatch.setattr(placing, "covering", lambda places, grids, renders: [None] * len(places))
    old = [a for a, _ in run(params, ACTIONS[:2], size, 1.0)]
    assert any((a != b).any() for a, b in zip(new, old, strict=True))


def test_outside_a_hole_is_every_other_pixel_once() -> None:
    rect = (0, 0, 40, 30)
    for hole in [(5, 6, 20, 25), (-3, 4, 50, 10), (0, 0, 40, 30), (41, 0, 50, 5), None]:
        seen = np.zeros((30, 40), int)
        for x0, y0, x1, y1 in outside(rect, hole):
            seen[int(y0):int(y1), int(x0):int(x1)] += 1
        inside = np.zeros((30, 40), bool)
        if hole is not None:
            inside[max(hole[1], 0):hole[3], max(hole[0], 0):hole[2]] = True
        assert (seen[inside] == 0).all() and (seen[~inside] == 1).all()


@pytest.mark.parametrize("dpr", [1.0, 2.0, 1.5])
@pytest.mark.parametrize("px", [0.7, 2.5])
def test_a_stack_painted_on_any_device_ratio_is_the_same_with_slivers(qapp, dpr: float, px: float) -> None:  # type: ignore[no-untyped-def]
    """A three-deep stack in a scene of its own, rendered into pictures of device ratio ``dpr`` at ``px``
    points a cell, the back tiles with and without their slivers; pending cells in the middle one."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QGraphicsScene

    from gui.models.frame import Grid
    from gui.scene.colour import RenderCache
    from gui.scene.grid import GridItem
    from gui.scene.theme import colour_map, theme_colours

    rng = np.random.default_rng(11)
    shape, shift = (400, 300), 0.35
    grids = [Grid(rng.normal(size=shape), np.full(shape, "", "<U1"), pending_from=p)
             for p in (None, 40_000, None)]
    cmap = colour_map("light", "input")
    renders = [RenderCache().get(g, (-2.0, 2.0), cmap, (236, 236, 236)) for g in grids]

    def picture(slivers: bool) -> np.ndarray:
        scene = QGraphicsScene()
        items = []
        for depth, (g, d) in enumerate(zip(grids, renders, strict=True)):
            item = GridItem(theme_colours("light"))
            origin = (0.5 + 0.37 + depth * shift, 0.5 + 2 * shift - depth * shift)
            item.set_tile(g, d, origin, depth == 0, 1.0, (-shift, shift) if slivers and depth else None)
            item.setZValue(-depth)
            scene.addItem(item)
            items.append(item)
        w, h = 305 * px, 404 * px
        img = QImage(round(w * dpr), round(h * dpr), QImage.Format.Format_RGB32)
        img.setDevicePixelRatio(dpr)
        img.fill(0xFFFFFFFF)
        q = QPainter(img)
        scene.render(q, QRectF(0, 0, w, h), QRectF(0, 0, 305, 404))
        q.end()
        assert (items[1]._hole(renders[1], px, dpr) is not None) == (slivers and dpr == round(dpr))
        return np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4).copy()

    a, b = picture(True), picture(False)
    assert (a != b).sum() == 0


def test_a_live_window_makes_its_pictures_over_a_few_turns_and_settles_on_the_same_stage(  # type: ignore[no-untyped-def]
        qapp, monkeypatch) -> None:
    """Issue 12: a live window makes at most ``TURN_BUDGET`` of tile pictures a turn (a tile not made yet
    shows its last picture, scaled); turn after turn it settles on the stage made in one go, after a new
    lesson, a theme switch and a new size alike."""
    monkeypatch.setattr(tilepics, "TURN_BUDGET", 3.0)
    monkeypatch.setattr(tilepics.TURN, "left", 3.0)
    params = Params(in_c=4, out_c=3, in_h=30, in_w=30, mode="backward")
    m = Lesson(params)
    acts: list[Action] = [step(0.6), lambda v, m: v.set_theme("dark"), lambda v, m: v.resize(1000, 700)]
    whole = [a for a, _ in run(params, acts, (1400, 900), 1.0)]
    view = export.offscreen_renderer((1400, 900))
    view.progressive = True
    try:
        for k, act in enumerate(acts):
            act(view, m)
            first = stage(view, turns=0)  # the first paint, in this turn
            assert tilepics.TURN.waiting, "all in one turn: the budget did nothing"
            for _ in range(60):  # each a turn: the zero timer ends the last one, tiles waiting paint again
                QApplication.processEvents()
                if not tilepics.TURN.busy:
                    break
            assert not tilepics.TURN.busy, "never settles"
            assert (first != whole[k]).any() and (stage(view) == whole[k]).all(), f"action {k}"
    finally:
        view.hide()
        view.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_title_fitted_again_to_a_room_it_had_takes_the_same_size_and_width(qapp) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: a presenter switch fits the stage at a few sizes, most twice; a title's fit is looked up
    for a text, room and size seen before, and leaves the title as measuring it again does."""
    from gui.scene import layout, refit
    from gui.scene.widgets import Title

    calls: list[float] = []

    def fit(t: Title, room: float, base: int) -> float:
        calls.append(room)
        return layout.fit_title(t, room, base)

    a, b = Title(), Title()
    for t in (a, b):
        t.setText("dL/dW[1] = X ⋆ dL/dY[1] (so far), db[1] = 4195")
    for room in (90.0, 140.5, 90.0, 400.0, 140.5):
        short = refit.fit_again(fit, layout.bold_font, a, room, 13)
        assert short == layout.fit_title(b, room, 13)  # measured afresh
        assert a.textItem.font().pointSize() == b.textItem.font().pointSize()
        assert a.textItem.textWidth() == b.textItem.textWidth()
        assert a.textItem.boundingRect() == b.textItem.boundingRect()
    assert calls == [90.0, 140.5, 400.0]
