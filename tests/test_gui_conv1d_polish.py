"""Issue 13 in the window: a hovered or pinned 1-D output position lights the same window on every
channel row its kernel reads (groups respected), on the tiles where those rows are drawn."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QSpinBox

from engine import network as nw
from gui.models.params import Params
from gui.pipeline_dialog import LayerDialog


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


def test_the_pipeline_add_menu_and_layer_dialog_know_causal_padding(pipeline, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    menu = pipeline.add.menu()
    menu.aboutToShow.emit()
    assert "causal convolution 1x2" not in [a.text() for a in menu.actions()]  # LeNet-5 reads a picture
    assert pipeline.model.set_network(nw.wavenet_stack())
    menu.aboutToShow.emit()
    names = [a.text() for a in menu.actions()]
    assert names[0] == "causal convolution 1x2" and "convolution 3x3" in names
    pipeline.layers.setCurrentRow(0)
    menu.actions()[0].trigger()
    layers = pipeline.model.network.layers
    assert len(layers) == 8 and layers[1] == nw.Conv(4, (1, 2), padding="causal")

    seen = {}

    def answer(dlg: LayerDialog) -> QDialog.DialogCode:
        seen["kind"] = dlg.fields["padding_kind"].currentText()  # type: ignore[union-attr]
        seen["padding"] = dlg.fields["padding"].value()  # type: ignore[union-attr]
        seen["dilation"] = dlg.fields["dilation"].value()  # type: ignore[union-attr]
        dlg.findChild(QSpinBox, "dilation").setValue(4)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(LayerDialog, "exec", answer)
    pipeline.layers.setCurrentRow(3)  # causal, dilation 2: 2 on the left
    pipeline.edit_layer()
    assert seen == {"kind": "causal", "padding": 2, "dilation": 2}
    edited = pipeline.model.network.layers[3]
    assert edited == nw.Conv(4, (1, 2), padding="causal", dilation=(1, 4))  # along the signal
