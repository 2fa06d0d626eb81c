"""Issue 13, the 1-D convolution's loose ends: a lesson built directly with 2-D heights, reflect,
replicate and circular padding (held against torch), every channel row a window reads lit, 1-D
indices in every text that names a cell, and causal layers in the pipeline's dialog and menu.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import network as nw
from gui.models import interaction
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pipeline import PipelineState, apply_layer_edits, layer_fields, new_layers
from gui.models.pytorch import pytorch_code


def test_a_1d_lesson_built_with_2d_heights_is_made_height_1_as_set_params_does() -> None:
    p = Params(op="conv1d", in_h=5, k_h=3, in_w=12, k_w=3, stride=(2, 1), dilation=(2, 2),
               padding=(1, 1, 2, 0), pad_kind="asymmetric")
    built = Lesson(p)
    changed = Lesson(Params())
    assert changed.set_params(op="conv1d", in_h=5, k_h=3, in_w=12, k_w=3, stride=(2, 1), dilation=(2, 2),
                              padding=(1, 1, 2, 0), pad_kind="asymmetric")
    assert built.params == changed.params
    assert built.params.in_h == built.params.k_h == 1
    assert (built.params.in_w, built.params.k_w, built.params.dilation, built.params.padding) == (
        12, 3, (1, 2), (0, 0, 2, 0))
    assert built.x.shape == (1, 1, 12)
    assert built.frame().panels[0].title.startswith("Signal X: 1 channel × length 12, padded 2 left, 0 right")


def _backward_1d(**more: object) -> Lesson:
    p = Params(op="conv1d", in_h=1, k_h=1, in_w=8, k_w=3, in_c=2, out_c=2, padding=(0, 0, 1, 1),
               mode="backward", bias=True, **more)  # type: ignore[arg-type]
    return Lesson(p)


def test_the_gradient_check_of_a_1d_lesson_names_cells_in_1d_indices() -> None:
    m = _backward_1d()
    x_text = interaction.check_gradient_text(m, ("x", (1, 0, 4)))
    w_text = interaction.check_gradient_text(m, ("w", (1, 0, 0, 2)))
    assert x_text.startswith("<b>dL/dX[1, 4]</b>") and w_text.startswith("<b>dL/dW[1, 0, 2]</b>")
    assert "[1, 0, 4]" not in x_text and "[1, 0, 0, 2]" not in w_text
    two_d = Lesson(Params(mode="backward"))  # 2-D lessons keep their rows
    assert interaction.check_gradient_text(two_d, ("x", (0, 1, 2))).startswith("<b>dL/dX[0, 1, 2]</b>")


def test_selection_and_edit_texts_of_a_1d_lesson_name_no_row() -> None:
    m = _backward_1d(upstream="loss")
    assert interaction.click(m, "kernel", 3, 0, 1, None).status == (
        "Selected W[1, 1, 1] for the gradient check (Ctrl+G)")
    assert interaction.click(m, "input", 1, 0, 3, None).status.startswith("Selected X[1,2] for")
    labels = {panel: interaction.edit(m, panel, 1, 0, 5) for panel in ("dy", "target", "input")}
    assert {k: e.label for k, e in labels.items() if isinstance(e, interaction.Edit)} == {
        "dy": "dL/dY [1, 5]", "target": "T [1, 5]", "input": "Input [1, 4]"}
    assert interaction.click(Lesson(Params(mode="backward")), "kernel", 0, 1, 2, None).status.startswith(
        "Selected W[0, 0, 1, 2]")


def test_hovering_a_1d_padding_position_names_positions() -> None:
    zeros = _backward_1d()
    assert interaction.hover(zeros, "input", 0, 0).status == (
        "Padding position 0 of the padded signal holds 0; it feeds 1 output")
    reflect = _backward_1d(padding_mode="reflect")
    h = interaction.hover(reflect, "input", 0, 9)
    assert h.status == ("Padding position 9 of the padded signal copies input position 6 (reflect padding); "
                        "it feeds 1 output")
    assert h.source is not None and h.source.cells == ((0, 7),)
    forward = Lesson(Params(op="conv1d", in_h=1, k_h=1, in_w=8, k_w=3, in_c=2, padding=(0, 0, 1, 1),
                            padding_mode="reflect"))
    assert forward.frame().panel("input").title == "Signal X: 2 channels × length 8, padded 1 (reflect)"  # type: ignore[union-attr]
    causal = _mode_lesson("circular", "causal", (0, 0), 1, 2, 1, 1, 1)
    assert causal.frame().panel("input").title.endswith("causal padding 4 on the left (circular)")  # type: ignore[union-attr]
    assert "cell (" not in interaction.hover(reflect, "dx", 0, 0).status


#: (padding kind, (left, right), stride, dilation, in_c, out_c, groups) for the padding modes
MODE_CONFIGS = [
    ("symmetric", (2, 2), 1, 1, 2, 2, 1),
    ("asymmetric", (3, 1), 2, 1, 2, 4, 2),
    ("same", (0, 0), 1, 2, 1, 2, 1),
    ("causal", (0, 0), 1, 2, 2, 2, 2),
    ("causal", (0, 0), 2, 1, 1, 1, 1),
]
MODES = ["reflect", "replicate", "circular"]


def _mode_lesson(padding_mode: str, kind: str, lr: tuple[int, int], s: int, d: int, c_in: int, c_out: int,
                 g: int, **more: object) -> Lesson:
    p = Params(op="conv1d", in_h=1, k_h=1, in_w=9, k_w=3, pad_kind=kind, padding=(0, 0, *lr),  # type: ignore[arg-type]
               stride=(1, s), dilation=(1, d), in_c=c_in, out_c=c_out, groups=g, padding_mode=padding_mode,  # type: ignore[arg-type]
               integers=False, **more)  # type: ignore[arg-type]
    m = Lesson(p)
    assert not m.last_error, m.last_error
    return m


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", MODE_CONFIGS)
def test_padding_modes_forward_and_backward_are_torchs(mode: str, config: tuple) -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    m = _mode_lesson(mode, *config, mode="backward", upstream="random", bias=True)
    left, right = m.trace.geometry.cols.before, m.trace.geometry.cols.after
    x = torch.tensor(np.asarray(m.x)[:, 0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(np.asarray(m.w)[:, :, 0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(np.asarray(m.bias_values), dtype=torch.float64)
    _, _, s, d, _, _, g = config
    y = F.conv1d(F.pad(x, (left, right), mode=mode), w, b, stride=s, dilation=d, groups=g)
    np.testing.assert_allclose(m.run.y[:, 0], y.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert m.run.dy is not None
    y.backward(torch.tensor(np.asarray(m.run.dy)[:, 0]))
    gx, gw, _ = engine.conv1d_backward(np.asarray(m.x)[:, 0], np.asarray(m.w)[:, :, 0],
                                       np.asarray(m.run.dy)[:, 0], stride=s, padding=m.params.padding_1d(),
                                       dilation=d, groups=g, padding_mode=mode)  # type: ignore[arg-type]
    assert x.grad is not None and w.grad is not None
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-12, atol=1e-12)
    last = m.frame(m.n_steps - 1)  # the dL/dX panel as drawn, real samples only
    dx = np.stack([grid.values[0] for grid in last.panel("dx").grids])  # type: ignore[union-attr]
    np.testing.assert_allclose(dx[:, left:left + m.params.in_w], x.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_engine_conv1d_padding_mode_is_nn_conv1d_padding_mode(mode: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 11)), rng.normal(size=(4, 2, 3))
    for padding in (1, 2, "same"):
        conv = torch.nn.Conv1d(2, 4, 3, padding=padding, padding_mode=mode, bias=False, dtype=torch.float64)
        with torch.no_grad():
            conv.weight.copy_(torch.tensor(w))
        want = conv(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(engine.conv1d(x, w, padding=padding, padding_mode=mode), want,  # type: ignore[arg-type]
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", MODE_CONFIGS)
def test_copied_pytorch_code_pads_in_the_lessons_mode(mode: str, config: tuple) -> None:
    torch = pytest.importorskip("torch")
    m = _mode_lesson(mode, *config, bias=True)
    code = pytorch_code(m)
    assert f"padding_mode={mode!r}" in code or f"mode={mode!r})" in code
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor)
    last = m.frame(m.n_steps - 1)
    shown = np.stack([grid.values[0] for grid in last.panel("output").grids])  # type: ignore[union-attr]
    np.testing.assert_allclose(y.detach().numpy(), shown, rtol=1e-12, atol=1e-12)


def test_padding_modes_limits_are_refused_in_1d_words() -> None:
    m = Lesson(Params(op="conv1d", in_h=1, k_h=1, in_w=4, k_w=3, padding=(0, 0, 1, 1)))
    assert m.set_params(padding_mode="reflect"), m.last_error
    assert not m.set_params(pad_kind="causal", dilation=(1, 2))  # 4 on the left of 4 samples
    assert m.last_error == "reflect padding of 4 samples needs an input with more than 4 samples, got 4"
    assert m.params.padding_mode == "reflect" and m.params.pad_kind == "symmetric"
    with pytest.raises(ValueError, match="circular padding of 5 samples would wrap around more than once"):
        engine.conv1d(np.ones(4), np.ones(3), padding=5, padding_mode="circular")


def _grouped() -> Lesson:
    return Lesson(Params(op="conv1d", in_h=1, k_h=1, in_w=8, k_w=3, in_c=4, out_c=4, groups=2,
                         padding=(0, 0, 1, 1)))


def test_a_1d_receptive_field_lights_every_channel_row_of_its_group() -> None:
    m = _grouped()
    h = interaction.hover(m, "output", 0, 3, 3)  # output channel 3: group 1, input channels 2-3
    assert h.receptive is not None and h.receptive.grids == (2, 3)
    assert h.receptive.cells == ((0, 3), (0, 4), (0, 5))
    assert h.status == "Output position 3 reads input positions 2–4 of channels 2–3"
    assert interaction.hover(m, "output", 0, 3, 1).receptive.grids == (0, 1)  # type: ignore[union-attr]
    full = Lesson(Params(op="conv1d", in_h=1, k_h=1, in_w=8, k_w=3, in_c=3, padding=(0, 0, 1, 1)))
    assert interaction.receptive_field(full, 0, 0).receptive.grids == (0, 1, 2)  # type: ignore[union-attr]
    # An input row feeds the output rows of its group, each with the tap that multiplies it.
    fed = interaction.hover(m, "input", 0, 4, 1).fed
    assert fed is not None and fed.grids == (0, 1)
    assert dict(zip(fed.cells, fed.labels, strict=True)) == {(0, 2): "w2", (0, 3): "w1", (0, 4): "w0"}
    assert interaction.click(m, "output", 2, 0, 3, None).status.startswith(
        "Output position 3 reads input positions 2–4 of channels 2–3")


def test_the_layer_editor_shows_and_chooses_causal_padding() -> None:
    causal = nw.Conv(4, (1, 2), padding="causal", dilation=(1, 4))
    fields = {f.name: f for f in layer_fields(causal)}
    assert (fields["padding_kind"].value, fields["padding"].value) == ("causal", 4)  # d·(k − 1) = 4·1
    assert fields["padding_kind"].choices == ("number", "same", "valid", "causal")
    kernel, dilation = fields["kernel"], fields["dilation"]
    assert (kernel.label, kernel.value, dilation.value) == ("Kernel length", 2, 4)
    shown = {name: f.value for name, f in fields.items()}
    assert apply_layer_edits(causal, shown) is causal
    assert apply_layer_edits(causal, {**shown, "padding_kind": "number"}).padding == 4
    assert apply_layer_edits(causal, {**shown, "padding": 2}).padding == 2  # a number typed: that number
    assert apply_layer_edits(causal, {**shown, "kernel": 3}) == nw.Conv(4, (1, 3), padding="causal",
                                                                       dilation=(1, 4))  # along the signal
    plain = nw.Conv(4, (1, 3), padding=1)
    shown = {f.name: f.value for f in layer_fields(plain)}
    assert shown["padding_kind"] == "number"
    to_causal = {**shown, "padding_kind": "causal"}
    assert apply_layer_edits(plain, to_causal) == nw.Conv(4, (1, 3), padding="causal")
    state = PipelineState()
    assert state.set_network(nw.wavenet_stack())
    assert state.replace_layer(0, apply_layer_edits(plain, to_causal))
    assert state.outputs[1].shape == (4, 1, 32)  # causal keeps the length: 2 zeros on the left


def test_the_add_menu_offers_a_causal_convolution_for_a_signal() -> None:
    assert "causal convolution 1x2" in new_layers((1, 1, 32))
    assert next(iter(new_layers((1, 1, 32)))) == "causal convolution 1x2"
    assert "causal convolution 1x2" not in new_layers((1, 28, 28))
    state = PipelineState()
    assert state.set_network(nw.wavenet_stack())
    k = state.insert_layer(0, new_layers(state.network.input_shape)["causal convolution 1x2"])
    assert k is not None and state.problem is None
    layer = state.network.layers[k]
    assert isinstance(layer, nw.Conv) and layer.padding == "causal"
    assert state.outputs[k + 1].shape == (4, 1, 32)
