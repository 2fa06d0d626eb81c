"""Regressions for problems found in review: each test fails on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QSpinBox

import engine
from engine import network as nw
from gui import export
from gui.mainwindow import MainWindow
from gui.models import resources, scenario
from gui.models.choices import MAX_STEPS
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.pipeline_dialog import LayerDialog


def _naive_fold(gxp: np.ndarray, top: int, left: int, h: int, w: int, mode: str) -> np.ndarray:
    """Fold a padded-grid gradient onto the input by explicit index arithmetic (replicate only)."""
    assert mode == "replicate"
    out = np.zeros((gxp.shape[0], h, w))
    for r in range(gxp.shape[1]):
        for c in range(gxp.shape[2]):
            out[:, min(max(r - top, 0), h - 1), min(max(c - left, 0), w - 1)] += gxp[:, r, c]
    return out


def test_dx_panel_shows_the_folded_gradient_with_replicate_padding(qapp) -> None:
    m = Lesson(Params(in_h=4, in_w=4, padding_mode="replicate", mode="backward", upstream="random"))
    m.set_step(m.n_steps - 1)
    f = m.frame()
    expected = _naive_fold(f.grads.grad_x_padded, 1, 1, 4, 4, "replicate")
    np.testing.assert_allclose(expected, engine.conv2d_backward(
        np.array(m.x), np.array(m.w), m.run.dy, padding=1, padding_mode="replicate")[0], atol=1e-12)
    np.testing.assert_allclose(f.dx_shown[:, 1:5, 1:5], expected, atol=1e-12)
    assert "folded onto X[" in f.arithmetic and "dropped" not in f.arithmetic


def test_activation_backward_shows_dz_and_the_true_target(window) -> None:
    m = window.model
    assert m.set_params(activation="relu", mode="backward", upstream="loss")
    m.set_step(m.n_steps - 1)
    f = m.frame()
    z = np.asarray(m.run.fwd.output)
    np.testing.assert_allclose(f.dz, m.run.dy * (z > 0))
    target = f.panel("target")
    assert target is not None
    np.testing.assert_allclose(target.grids[0].values, m.target[0])  # the target panel draws T itself
    assert target.grids[0].labels[0, 0] != ""  # values are drawn
    np.testing.assert_allclose(f.y_full - f.dy, m.target)
    assert window.renderer.visible_tiles("target")[0].item.grid is target.grids[0]
    assert f.panel("dy").title.startswith("dL/dZ")
    assert window.renderer.titles["dy"].textItem.toPlainText() == f.panel("dy").title


def test_the_dz_panel_is_not_edited_as_if_it_were_dy(window, monkeypatch) -> None:
    m = window.model
    assert m.set_params(activation="relu", mode="backward")
    asked: list[str] = []
    monkeypatch.setattr("gui.controllers.stage.QInputDialog.getDouble",
                        lambda *a, **k: asked.append("asked") or (5.0, True))
    before = np.array(m.run.dy)
    window.stage.edit_cell("dy", 0, 0, 0)
    assert asked == []
    np.testing.assert_array_equal(m.run.dy, before)
    assert "dL/dZ" in window.controls.error.text()


def test_gather_view_ignores_edits_instead_of_raising(window, monkeypatch) -> None:
    m = window.model
    assert m.set_params(out_c=2, mode="backward", grad_view="gather")
    monkeypatch.setattr("gui.controllers.stage.QInputDialog.getDouble", lambda *a, **k: (1.0, True))
    x_before = np.array(m.x)
    window.stage.edit_cell("input", 1, 2, 2)  # channel 1 of the spread dL/dY: no input channel 1
    window.stage.edit_cell("kernel", 6, 0, 0)
    np.testing.assert_array_equal(m.x, x_before)
    assert "gather" in window.status.text()


def test_gradient_check_explains_a_tie(window) -> None:
    m = window.model
    x = np.array([[[5.0, 5.0, 1.0, 2.0], [0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 0.0, 1.0],
                   [3.0, 0.0, 2.0, 2.0]]])
    assert m.load(Params(op="max", in_h=4, in_w=4, k_h=2, k_w=2, stride=(2, 2), padding=(0, 0, 0, 0),
                         mode="backward"), x=x)
    left, right = m.one_sided_slopes("x", (0, 0, 0))
    assert (left, right) == pytest.approx((0.0, 1.0), abs=1e-6)  # the first 5 wins only going up
    window.stage.selected = ("x", (0, 0, 0))
    window.stage.check_gradient()
    assert "kink" in window.controls.check_result.text()


def test_save_after_a_deck_asks_for_a_name(window, tmp_path: Path, monkeypatch) -> None:
    own = tmp_path / "own.json"
    assert window.files.save_to(own)
    before = own.read_text()
    assert window.files.open_path(resources.deck_path("conv-arithmetic"))
    window.files.deck_step(1)
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append("x") or "", ""))
    window.files.save()
    assert asked == ["x"]
    assert own.read_text() == before
    assert window.files.open_path(own)
    assert window.files.deck == [] and not window.act_next.isEnabled()


def test_a_huge_integer_is_refused_in_plain_words(tmp_path: Path) -> None:
    text = '{"format": "convviz-scenario", "version": 1, "params": {}, "step": ' + "9" * 5000 + "}"
    with pytest.raises(scenario.ScenarioError, match="not valid JSON"):
        scenario.loads(text)


def test_more_steps_than_a_timeline_holds_is_refused(qapp) -> None:
    m = Lesson()
    ok = m.set_params(in_h=512, in_w=512, in_c=16, k_h=15, k_w=15, out_c=3, granularity="tap",
                      padding=(7, 7, 7, 7))
    assert not ok
    assert "more than a timeline can hold" in m.last_error
    assert m.params == Params()
    assert MAX_STEPS < (512 * 512 * 3) * 16 * 15 * 15


def test_a_layer_with_too_many_channels_is_refused_not_half_loaded(window) -> None:
    x = np.zeros((32, 10, 10))
    ok = window.open_layer({"layer": nw.Conv(4, 3), "x": x, "w": np.zeros((4, 32, 3, 3)), "b": np.zeros(4)})
    assert not ok
    assert window.model.params.in_c == 1
    assert "16" in window.controls.error.text()


def test_typed_dy_that_no_longer_fits_is_labelled_ones(qapp) -> None:
    m = Lesson(Params(mode="backward"))
    assert m.set_upstream_value(0, 0, 0, 7.0)
    assert m.params.upstream == "custom"
    assert m.set_params(stride=(2, 2))  # the output shrinks: the typed grid no longer fits
    assert m.params.upstream == "ones"
    np.testing.assert_array_equal(m.run.dy, np.ones_like(m.run.dy))


def test_single_png_export_leaves_the_view_where_it_was(qapp, tmp_path: Path) -> None:
    m = Lesson()
    m.set_step(3)
    r = export.offscreen_renderer((320, 240))
    try:
        export.export(m, r, "png", tmp_path / "a.png", steps=range(10, 11))
        export.export(m, r, "svg", tmp_path / "a.svg", steps=range(12, 13))
    finally:
        r.close()
    assert m.step == 3


def test_layer_dialog_keeps_what_it_does_not_show(qtbot) -> None:
    layer = nw.Conv(6, (3, 5), padding="same", bias=False)
    dlg = LayerDialog(layer)
    qtbot.addWidget(dlg)
    assert dlg.result_layer() == layer
    dlg.findChild(QSpinBox, "out_channels").setValue(8)
    edited = dlg.result_layer()
    assert edited.out_channels == 8 and edited.kernel == (3, 5) and edited.padding == "same"
    assert edited.bias is False


def test_recent_files_menu_does_not_pile_up_actions(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QAction

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    for k in range(12):
        assert win.files.save_to(tmp_path / f"s{k}.json")
    owned = [a for a in win.findChildren(QAction) if a.parent() is win and a.text().endswith(".json")]
    assert owned == []
    assert len(win.files.recent_menu.actions()) == 8


def test_exports_and_saves_get_ordinary_permissions(qapp, tmp_path: Path) -> None:
    import os
    import stat

    m = Lesson()
    r = export.offscreen_renderer((320, 240))
    try:
        for fmt, name in (("png", "a.png"), ("svg", "a.svg"), ("gif", "a.gif")):
            export.export(m, r, fmt, tmp_path / name, steps=range(0, 2) if fmt == "gif" else None)
        export.export(m, r, "png", tmp_path / "frames", steps=range(0, 2))
    finally:
        r.close()
    scenario.save(tmp_path / "s.json", scenario.from_model(m))
    mask = os.umask(0)
    os.umask(mask)
    for name in ("a.png", "a.svg", "a.gif", "s.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "frames").stat().st_mode) == 0o777 & ~mask


def test_export_refuses_a_wrong_suffix_or_folder_before_drawing(qapp, tmp_path: Path) -> None:
    m = Lesson()
    drawn: list[int] = []
    r = export.offscreen_renderer((320, 240))
    try:
        with pytest.raises(export.ExportError, match=r"ends in \.jpg but the format is png"):
            export.export(m, r, "png", tmp_path / "a.jpg", progress=lambda i, n: drawn.append(i) or True)
        with pytest.raises(export.ExportError, match="does not exist"):
            export.export(m, r, "gif", tmp_path / "nope" / "a.gif",
                          progress=lambda i, n: drawn.append(i) or True)
    finally:
        r.close()
    assert drawn == []
    assert list(tmp_path.iterdir()) == []


def test_ctrl_equals_makes_the_text_larger(window, qtbot) -> None:
    from PySide6.QtCore import Qt

    before = window.renderer.zoom
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.renderer.zoom == pytest.approx(before + 0.25)


def test_pipeline_new_weights_button_draws_new_random_weights(qtbot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    from gui.pipeline import PipelineWindow

    win = PipelineWindow()
    qtbot.addWidget(win)
    before = [None if w is None else w[0].copy() for w in win.model.weights]
    qtbot.mouseClick(win.findChild(QPushButton, "new_weights"), Qt.MouseButton.LeftButton)
    after = win.model.weights
    assert any(b is not None and not np.array_equal(b, a[0]) for b, a in zip(before, after, strict=True))
    assert win.model.outputs[0] is not None and len(win.model.outputs) == len(win.model.network.layers) + 1
