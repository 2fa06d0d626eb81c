"""The pipeline view's layout as a lecturer's screen shows it: titles apart, maps filling their boxes,
vectors legible (flatten a square block, a classifier's bars labelled with its digits and values).

Geometry is read back from the scene (titles', boxes' and texts' rectangles in
scene pixels) at the two screen sizes a lecture hall has, 1920×1080 and 1280×720.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from gui.pipeline import PipelineWindow
from gui.pipeline_layout import best_columns, classifier_range, label_pixels, tile_origins, wrap_rows

SIZES = [(1920, 1080), (1280, 720)]


def shown_at(qtbot, win: PipelineWindow, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    """Resize the window and wait until the view has laid itself out at the new size."""
    win.resize(width, height)
    view = win.view
    qtbot.waitUntil(lambda: abs(view.ci.geometry().width() - view.viewport().width()) < 1
                    and win.width() == width, timeout=3000)
    view.grab()  # painted as the screen shows it (texts place themselves when painted)


def picture_rect(view, stage: int) -> QRectF:  # type: ignore[no-untyped-def]
    """Scene rectangle covered by a stage's pictures (every map of it)."""
    rect = QRectF()
    for item in view.items[stage]:
        rect = rect.united(item.sceneBoundingRect())
    return rect


# ---------------------------------------------------------------------- arithmetic
def test_rows_are_the_fewest_that_fit_and_balanced() -> None:
    assert wrap_rows([100.0] * 5, 600) == [[0, 1, 2, 3, 4]]
    rows = wrap_rows([100.0] * 6, 400)  # 600 px of titles in 400: two rows of three, not four and two
    assert rows == [[0, 1, 2], [3, 4, 5]]
    assert wrap_rows([500.0, 50.0], 300) == [[0], [1]]  # a stage wider than the view alone
    assert wrap_rows([], 100) == []


def test_maps_in_a_tall_narrow_box_stack_into_one_column() -> None:
    assert best_columns(6, 28, 28, box_w=80, box_h=900) == 1
    assert best_columns(6, 28, 28, box_w=900, box_h=80) == 6
    assert best_columns(4, 10, 10, box_w=300, box_h=300) == 2
    assert tile_origins(3, 2, 4, 5) == [(0.0, 0.0, 4, 5), (6.0, 0.0, 4, 5), (0.0, 5.0, 4, 5)]


def test_a_classifier_range_leaves_its_labels_their_pixels() -> None:
    x0, x1 = classifier_range(-2.0, 6.0, box_px=200, left_px=20, right_px=60)
    per_px = (x1 - x0) / 200
    assert (-2.0 - x0) / per_px == pytest.approx(20)
    assert (x1 - 6.0) / per_px == pytest.approx(60)
    assert label_pixels(30) == 17 and label_pixels(12) == 9 and label_pixels(5) == 0


# ---------------------------------------------------------------------- in the window
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_two_stage_titles_overlap_and_none_is_cut(pipeline, qtbot, width: int, height: int) -> None:
    shown_at(qtbot, pipeline, width, height)
    view = pipeline.view
    assert len(view.labels) == 13
    rects = [label.sceneBoundingRect() for label in view.labels]
    for (a, ra), (b, rb) in itertools.combinations(enumerate(rects), 2):
        assert not ra.intersects(rb), f"titles {a} and {b} overlap at {width}×{height}"
    shown = QRectF(0, 0, view.viewport().width(), view.viewport().height())
    for k, (label, r) in enumerate(zip(view.labels, rects, strict=True)):
        assert shown.contains(r), f"title {k} is cut at {width}×{height}"
        assert label.item.boundingRect().width() <= r.width() + 1  # its whole text, not squeezed
    texts = [label.text for label in view.labels]
    assert texts[1] == "1. conv 6@5x5<br>6×28×28" and texts[7] == "7. flatten<br>400"


def test_feature_maps_use_the_height_of_a_1080p_screen(pipeline, qtbot) -> None:
    shown_at(qtbot, pipeline, 1920, 1080)
    view = pipeline.view
    for stage in (1, 2, 3, 4):  # C1, tanh, S2, C3: many maps each
        box = view.boxes[stage].sceneBoundingRect()
        maps = picture_rect(view, stage)
        assert maps.width() >= 0.85 * box.width() or maps.height() >= 0.85 * box.height()
        _x, _y, _h, w = view.tiles[stage][0]
        cell_px = view.items[stage][0].sceneBoundingRect().width() / w
        assert cell_px >= 2.5, f"stage {stage}: a cell is {cell_px:.1f} px"  # was about 1 px
    assert picture_rect(view, 1).height() >= 0.2 * view.viewport().height()


def test_a_clicked_cell_is_found_after_the_maps_were_retiled(pipeline, qtbot) -> None:
    shown_at(qtbot, pipeline, 1920, 1080)
    shown_at(qtbot, pipeline, 1280, 720)
    view = pipeline.view
    x0, y0, _h, _w = view.tiles[1][5]
    pos = view.mapFromScene(view.boxes[1].mapViewToScene(QPointF(x0 + 3, y0 + 7)))
    with qtbot.waitSignal(view.cell_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [1, 5, 7, 3]
    assert view.rf_items  # the field is outlined on the tiles where they are now


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_flatten_is_a_square_block(pipeline, qtbot, width: int, height: int) -> None:
    shown_at(qtbot, pipeline, width, height)
    view = pipeline.view
    block = picture_rect(view, 7)
    assert block.width() == pytest.approx(block.height(), rel=0.05)
    assert block.width() >= 60  # not a strip: 20×20 cells of at least 3 px
    image = np.asarray(view.items[7][0].image)
    assert image.shape[:2] == (20, 20)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_classifier_bars_read_0_to_9_with_their_values(pipeline, qtbot, width: int, height: int) -> None:
    shown_at(qtbot, pipeline, width, height)
    view = pipeline.view
    scores = pipeline.model.outputs[-1]
    texts = view.class_texts[12]
    assert [d.textItem.toPlainText() for d, _v in texts] == [str(i) for i in range(10)]
    assert [v.textItem.toPlainText() for _d, v in texts] == [f"{s:+.2f}" for s in scores]
    bars = view.items[12][0].sceneBoundingRect()
    box = view.boxes[12].sceneBoundingRect()
    digits = [d.sceneBoundingRect() for d, _v in texts]
    values = [v.sceneBoundingRect() for _d, v in texts]
    assert all(d.isVisible() and v.isVisible() for d, v in texts)
    for d, v in zip(digits, values, strict=True):
        assert box.left() - 1 <= d.left() and d.right() <= bars.left() + 1  # digit left of every bar
        assert bars.right() - 1 <= v.left() and v.right() <= box.right() + 1  # value right of every bar
    for column in (digits, values):
        for upper, lower in itertools.pairwise(column):
            assert upper.bottom() <= lower.top() + 1  # one line per class, none on another
    pipeline.use_sample("checkerboard")  # a new input: the values follow
    qtbot.waitUntil(lambda: [v.textItem.toPlainText() for _d, v in view.class_texts[12]]
                    == [f"{s:+.2f}" for s in pipeline.model.outputs[-1]], timeout=3000)


def test_dense_stages_have_a_zero_line_and_hidden_layers_no_class_labels(pipeline, qtbot) -> None:
    shown_at(qtbot, pipeline, 1920, 1080)
    view = pipeline.view
    for stage in (8, 9, 10, 11, 12):
        lines = [i for i in view.boxes[stage].addedItems if isinstance(i, pg.InfiniteLine)]
        assert [line.value() for line in lines] == [0]
    assert set(view.class_texts) == {12}  # 120 and 84 units are not classes


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_digit_panel_fits_the_window_without_overlaps(pipeline, qtbot, width: int, height: int) -> None:
    shown_at(qtbot, pipeline, width, height)
    panel = pipeline.digits
    parts = [panel.headline, panel.canvas, panel.bars, panel.kernels_title, panel.kernels, panel.target,
             panel.saliency, panel.saliency_title]

    def laid_out() -> None:  # the panel settles once its layout has run at the new size
        rects = [w.geometry() if w.parent() is panel else w.geometry().translated(w.parentWidget().pos())
                 for w in parts]
        for (a, ra), (b, rb) in itertools.combinations(zip(parts, rects, strict=True), 2):
            assert not ra.intersects(rb), f"{a.objectName()} overlaps {b.objectName()} at {width}×{height}"
        assert all(panel.rect().contains(r) for r in rects)

    qtbot.waitUntil(laid_out, timeout=2000)
    assert panel.bars.height() >= max(140, min(0.2 * panel.height(), 220)) - 1  # ten lines of 14 px or more


def test_the_stack_and_the_field_text_are_written_large_and_whole(pipeline, qtbot) -> None:
    shown_at(qtbot, pipeline, 1920, 1080)
    lst = pipeline.layers
    metrics = lst.fontMetrics()
    assert lst.count() == 12
    for k in range(lst.count()):
        item = lst.item(k)
        rect = lst.visualItemRect(item)
        assert rect.height() >= 16, "a layer's row is too small to read from the back"
        assert metrics.horizontalAdvance(item.text()) <= lst.viewport().width()  # LeNet-5's rows fit
    assert pipeline.field_label.fontInfo().pixelSize() >= 16
    pipeline.preset.setCurrentText("tiny VGG")
    pipeline.preset.activated.emit(pipeline.preset.currentIndex())
    qtbot.waitUntil(lambda: lst.item(0) is not None and "8@3x3" in lst.item(0).text(), timeout=3000)
    width = lst.viewport().width()
    long_rows = [lst.item(k) for k in range(lst.count())
                 if metrics.horizontalAdvance(lst.item(k).text()) > width]
    assert long_rows  # "6. conv 16@3x3 (pad 1) → 16×16×16 · 1,168 params" is wider than the list
    for item in long_rows:  # wrapped onto two lines, its parameter count in view
        assert lst.visualItemRect(item).height() >= 2 * metrics.lineSpacing() - 1
    assert lst.horizontalScrollBar().maximum() == 0


def test_a_new_window_builds_its_stages_once_at_the_width_it_shows(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the first Ctrl+L built the stages in a 100-pixel view, then again once shown; now once,
    and the picture is the one a build at the shown width draws."""
    from gui.pipeline_view import PipelineView

    widths: list[float] = []
    real = PipelineView._build
    monkeypatch.setattr(PipelineView, "_build",
                        lambda self, *a: widths.append(self._width()) or real(self, *a))
    win = PipelineWindow()
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    view = win.view
    qtbot.waitUntil(lambda: abs(view.ci.geometry().width() - view.viewport().width()) < 1, timeout=3000)
    assert widths == [view.viewport().width()]
    once = view.grab().toImage()
    real(view, *view._shown)  # built again, now that it is shown: what the first show used to end with
    view._fit()
    assert len(widths) == 1 and view.grab().toImage() == once
