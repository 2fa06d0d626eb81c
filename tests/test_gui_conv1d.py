"""Issue 13 in the windows: the 1-D convolution chosen from the parameter panel and drawn as rows,
and the WaveNet-style stack in the pipeline window with its receptive field picked by a click."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageSequence
from PySide6.QtWidgets import QComboBox, QSpinBox

import engine
from gui import export
from tests.test_export_pictures import (  # noqa: F401 - the renderer fixture
    SIZE,
    model_for,
    pdf_pages,
    read_rgb,
    renderer,
    shrunk_difference,
    svg_as_picture,
)
from tests.test_gui_family import child
from tests.test_pipeline import click_cell  # the pipeline window fixture is in conftest


def test_the_1d_convolution_from_the_combo_with_causal_padding(window) -> None:
    m = window.model
    child(window, QSpinBox, "input_w").setValue(9)
    combo = child(window, QComboBox, "op")
    combo.setCurrentIndex(combo.findData("conv1d"))
    assert m.params.op == "conv1d" and m.params.in_h == 1 and m.params.in_w == 9, m.last_error
    height = child(window, QSpinBox, "input_h")
    assert height.value() == 1 and not height.isEnabled()  # a signal has height 1
    assert not child(window, QSpinBox, "pad_top").isEnabled()
    kinds = child(window, QComboBox, "pad_kind")
    kinds.setCurrentText("causal")
    assert m.params.pad_kind == "causal", m.last_error
    child(window, QSpinBox, "dilation_w").setValue(2)
    assert m.params.dilation == (1, 2), m.last_error
    x, w = np.asarray(m.x)[:, 0], np.asarray(m.w)[:, :, 0]
    np.testing.assert_allclose(m.run.y[:, 0], engine.conv1d(x, w, padding="causal", dilation=2))
    tiles = window.renderer.visible_tiles("input")
    assert [t.shape for t in tiles] == [(1, 13)]  # 9 samples and 4 causal padding on the left
    assert "L_out = ⌊(L + p_left + p_right − d·(k−1) − 1) / s⌋ + 1" in window.controls.formula.text().replace(
        "&nbsp;", " ")
    assert m.frame().panel("input").title == "Signal X: 1 channel × length 9, causal padding 4 on the left"
    # Back to a 2-D convolution: causal padding is the 1-D convolution's only, said and refused.
    combo.setCurrentIndex(combo.findData("conv"))
    assert m.params.op == "conv1d" and combo.currentData() == "conv1d"
    assert "causal padding belongs to the 1-D convolution" in window.controls.error.text()


def test_the_wavenet_stack_draws_one_stage_a_row_and_lights_a_sparse_field(pipeline, qtbot) -> None:
    combo = pipeline.preset
    combo.setCurrentIndex(combo.findText("WaveNet-style stack"))
    combo.activated.emit(combo.currentIndex())
    assert "1 + 1 + 2 + 4 + 8 = 16 samples" in pipeline.totals.text()
    view = pipeline.view
    tops = [box.sceneBoundingRect().top() for box in view.boxes]
    assert tops == sorted(tops) and len(set(tops)) == 8  # stages top to bottom
    # Channels as rows:
    assert [t[:2] for t in view.tiles[1]] == [(0.0, 0.0), (0.0, 2.0), (0.0, 4.0), (0.0, 6.0)]
    click_cell(qtbot, view, 7, 0, 0, 31)
    assert pipeline.field_label.text().startswith("Sample 31 of stage 7 reads input: samples 16–31 (16)")
    on_stage_5 = sorted(item.rect().left() + 0.5 for item, box in view.rf_items if box is view.boxes[5]
                        and item.rect().top() == -0.5)
    assert on_stage_5 == [23.0, 31.0]  # dilation 8 reads two samples, 8 apart: two outlines, not one


def test_every_picture_format_draws_the_1d_frames(renderer, tmp_path) -> None:  # noqa: F811
    m = model_for("conv1d-stride2", 4)
    r = renderer()
    png = read_rgb(export.export(m, r, "png", tmp_path / "a.png"))
    assert png.shape == (SIZE[1], SIZE[0], 3)
    mean, _ = shrunk_difference(svg_as_picture(export.export(m, r, "svg", tmp_path / "a.svg"), SIZE), png)
    assert mean < 10, mean  # the SVG, drawn by Qt's reader, is the PNG's picture
    pdf = export.export(m, r, "pdf", tmp_path / "a.pdf", steps=range(0, 3)).read_bytes()
    assert pdf_pages(pdf) == 3
    gif = export.export(m, r, "gif", tmp_path / "a.gif", steps=range(3, 6))
    pictures = [export.rgb(img) for img in export.frames(r, m, range(3, 6))]
    with Image.open(gif) as im:
        assert im.n_frames == 3
        for k, frame in enumerate(ImageSequence.Iterator(im)):
            assert np.abs(np.asarray(frame.convert("RGB")).astype(int) - pictures[k]).mean() < 3
    np.testing.assert_array_equal(pictures[1], png)  # step 4, as the PNG
