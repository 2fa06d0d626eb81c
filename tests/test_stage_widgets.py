"""The stage's plain-Qt frame (gui/scene/widgets.py): a box fits its view rectangle centred with the aspect
kept, titles keep their pixel size at any scale, labels keep their style, clicks are reported whole."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from gui.scene.widgets import LayoutView, Title


@pytest.fixture
def stage(qtbot):  # type: ignore[no-untyped-def]
    view = LayoutView()
    qtbot.addWidget(view)
    box = view.addViewBox(row=0, col=0)
    view.ci.setContentsMargins(0, 0, 0, 0)
    view.resize(400, 200)
    view.show()
    qtbot.waitUntil(lambda: box.width() > 300)
    return view, box


def test_a_box_shows_its_rectangle_centred_and_as_large_as_fits(stage) -> None:  # type: ignore[no-untyped-def]
    _, box = stage
    box.setRange(QRectF(0, 0, 10, 10))
    s = box.height() / 10  # the rectangle is square, the box wide: the height decides
    assert box.viewPixelSize() == pytest.approx((1 / s, 1 / s))
    centre = box.mapViewToScene(QPointF(5, 5))
    assert centre.x() == pytest.approx(box.sceneBoundingRect().center().x())
    assert centre.y() == pytest.approx(box.sceneBoundingRect().center().y())
    back = box.mapSceneToView(box.mapViewToScene(QPointF(2.5, 7.0)))
    assert (back.x(), back.y()) == pytest.approx((2.5, 7.0))
    box.setRange(QRectF(0, 0, 40, 1))  # wide now: the width decides
    assert box.viewPixelSize()[0] == pytest.approx(40 / box.width())


def test_a_title_keeps_its_pixel_size_and_sits_on_its_point(stage) -> None:  # type: ignore[no-untyped-def]
    _, box = stage
    t = Title("#000000", anchor=(0, 1))
    box.addItem(t)
    t.setText("Output 5×5")
    t.setPos(2, 3)
    box.setRange(QRectF(0, 0, 10, 10))
    small = t.sceneBoundingRect()
    box.setRange(QRectF(0, 0, 5, 5))  # twice the zoom
    big = t.sceneBoundingRect()
    assert (big.width(), big.height()) == pytest.approx((small.width(), small.height()))
    corner = box.mapViewToScene(QPointF(2, 3))  # anchor (0, 1): the text's bottom-left corner
    assert (big.left(), big.bottom()) == pytest.approx((corner.x(), corner.y()))


def test_a_label_keeps_its_style_for_later_texts(stage) -> None:  # type: ignore[no-untyped-def]
    view, _ = stage
    label = view.addLabel("", row=1, col=0, size="14pt", color="#123456")
    label.setText("a <b>caption</b>")
    assert label.text == "a <b>caption</b>" and label.opts["size"] == "14pt"
    assert label.item.toPlainText() == "a caption"
    assert "color:#123456" in label.item.toHtml().lower()
    assert label.minimumHeight() > 0


def test_clicks_and_double_clicks_are_reported_on_release(stage, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, _ = stage
    got: list[tuple[float, float, bool]] = []
    view.scene().sigMouseClicked.connect(lambda ev: got.append((ev.scenePos().x(), ev.scenePos().y(),
                                                                ev.double())))
    vp, left = view.viewport(), Qt.MouseButton.LeftButton
    pos = vp.rect().center()
    qtbot.mouseClick(vp, left, pos=pos)
    qtbot.mouseDClick(vp, left, pos=pos)
    qtbot.mouseRelease(vp, left, pos=pos)
    assert [d for *_, d in got] == [False, True]
    assert got[0][:2] == pytest.approx((pos.x(), pos.y()))
