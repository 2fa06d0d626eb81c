"""Issue 13, 1-D convolution in the window: a signal drawn as rows, causal and dilated padding,
the L_out formula with numbers, backward and the gradient check (engine.conv1d_backward),
hover in positions, files and presets, JSON frames and Copy as PyTorch (run with torch).

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import engine
from gui.models import frames_io, interaction, scenario
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pytorch import pytorch_code
from tests.test_export_json import assert_is_the_frame

ONE_D = Params(op="conv1d", in_h=1, k_h=1, in_w=10, k_w=3, padding=(0, 0, 1, 1))
#: (padding kind, (left, right) settings, stride, dilation, in_c, out_c, groups)
CONFIGS = [
    ("symmetric", (1, 1), 1, 1, 1, 1, 1),
    ("symmetric", (2, 2), 2, 1, 2, 3, 1),
    ("asymmetric", (3, 0), 1, 2, 1, 2, 1),
    ("asymmetric", (0, 2), 3, 1, 2, 2, 2),
    ("valid", (0, 0), 1, 3, 3, 3, 3),
    ("same", (0, 0), 1, 2, 2, 4, 2),
    ("causal", (0, 0), 1, 1, 1, 1, 1),
    ("causal", (0, 0), 1, 4, 2, 2, 1),
    ("causal", (0, 0), 2, 2, 4, 2, 2),
]


def lesson_for(kind: str, lr: tuple[int, int], s: int, d: int, c_in: int, c_out: int, g: int,
               **more: object) -> Lesson:
    p = replace(ONE_D, pad_kind=kind, padding=(0, 0, *lr), stride=(1, s), dilation=(1, d), in_c=c_in,
                out_c=c_out, groups=g, **more)  # type: ignore[arg-type]
    m = Lesson(p)
    assert not m.last_error, m.last_error
    return m


def engine_padding(kind: str, lr: tuple[int, int]) -> object:
    return {"symmetric": lr[0], "asymmetric": lr}.get(kind, kind)


@pytest.mark.parametrize("config", CONFIGS)
def test_forward_and_backward_are_the_engines_conv1d(config) -> None:
    kind, lr, s, d, c_in, c_out, g = config
    m = lesson_for(kind, lr, s, d, c_in, c_out, g, mode="backward", upstream="random", bias=True)
    x, w, b = np.asarray(m.x)[:, 0], np.asarray(m.w)[:, :, 0], m.bias_values
    kw = dict(stride=s, padding=engine_padding(kind, lr), dilation=d, groups=g)
    assert m.run.y is not None and m.run.dy is not None
    np.testing.assert_allclose(m.run.y[:, 0], engine.conv1d(x, w, b, **kw), rtol=1e-12, atol=1e-12)
    gx, gw, gb = engine.conv1d_backward(x, w, m.run.dy[:, 0], **kw)
    final = m.run.final()
    assert final is not None and final.grad_w is not None and final.grad_bias is not None
    np.testing.assert_allclose(final.grad_x[:, 0], gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(final.grad_w[:, :, 0], gw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(final.grad_bias, gb, rtol=1e-12, atol=1e-12)
    analytic, numeric = m.check_gradient("x", (c_in - 1, 0, 4))
    assert analytic == pytest.approx(float(gx[c_in - 1, 4]), abs=1e-12)
    assert abs(analytic - numeric) < 1e-5
    analytic, numeric = m.check_gradient("w", (c_out - 1, 0, 0, 2))
    assert analytic == pytest.approx(float(gw[c_out - 1, 0, 2]), abs=1e-12)
    assert abs(analytic - numeric) < 1e-5


@pytest.mark.parametrize("config", CONFIGS)
def test_copied_pytorch_code_prints_the_numbers_of_the_last_frame(config) -> None:
    torch = pytest.importorskip("torch")
    m = lesson_for(*config, bias=True, activation="tanh")
    code = pytorch_code(m)
    assert "torch.nn.Conv1d(" in code and "Conv2d" not in code
    if config[0] == "causal":
        assert "Causal padding" in code and "x_padded = F.pad(x, (" in code
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor) and tuple(y.shape) == (m.params.out_c, m.trace.geometry.cols.out)
    last = m.frame(m.n_steps - 1)
    shown = np.stack([grid.values[0] for grid in last.panel("output").grids])  # type: ignore[union-attr]
    np.testing.assert_allclose(y.detach().numpy(), shown, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("config", CONFIGS)
def test_torch_autograd_gives_the_backward_panels_numbers(config) -> None:
    torch = pytest.importorskip("torch")
    kind, lr, s, d, c_in, c_out, g = config
    m = lesson_for(kind, lr, s, d, c_in, c_out, g, mode="backward", upstream="random", bias=True)
    left, right = m.trace.geometry.cols.before, m.trace.geometry.cols.after
    x = torch.tensor(np.asarray(m.x)[None, :, 0], requires_grad=True)
    w = torch.tensor(np.asarray(m.w)[:, :, 0], requires_grad=True)
    b = torch.tensor(m.bias_values, requires_grad=True)
    y = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (left, right)), w, b, stride=s, dilation=d,
                                   groups=g)
    assert m.run.dy is not None
    y.backward(torch.tensor(m.run.dy[None, :, 0]))
    last = m.frame(m.n_steps - 1)
    panel = last.panel("dx")
    assert panel is not None
    dx = np.stack([grid.values[0] for grid in panel.grids])[:, left:left + m.params.in_w]  # the real cells
    np.testing.assert_allclose(dx, x.grad[0].numpy(), rtol=1e-12, atol=1e-12)
    final = m.run.final()
    assert final is not None and final.grad_w is not None and final.grad_bias is not None
    np.testing.assert_allclose(final.grad_w[:, :, 0], w.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(final.grad_bias, b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_torch_itself_agrees_with_causal_padding_done_by_hand() -> None:
    torch = pytest.importorskip("torch")
    m = lesson_for("causal", (0, 0), 1, 2, 2, 3, 1, bias=True)
    x = torch.tensor(np.asarray(m.x)[None, :, 0])
    w = torch.tensor(np.asarray(m.w)[:, :, 0])
    y = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (4, 0)), w, torch.tensor(m.bias_values),
                                   dilation=2)
    np.testing.assert_allclose(y[0].numpy(), np.asarray(m.run.y)[:, 0], rtol=1e-12, atol=1e-12)


def test_the_stage_draws_the_signal_as_rows_in_1d_words() -> None:
    m = lesson_for("causal", (0, 0), 1, 2, 2, 2, 1)
    f = m.frame(10 + 4)  # output channel 1, position 4
    assert f.caption == "Convolution 1-D — Step 15 of 20: output channel 1, position 4"
    assert f.expanded and all(p.columns == 1 for p in f.panels)  # one channel a row
    inp, kern, out = f.panels
    assert inp.title == "Signal X: 2 channels × length 10, causal padding 4 on the left"
    assert kern.title == "Kernel W[1] of 2: 2 channels × length 3, dilation 2"
    assert out.title == "Output Y: 2 channels × length 10"
    assert len(kern.grids) == 2 and kern.channel_base == 2  # W[1]'s two rows, one under each input row
    np.testing.assert_array_equal(kern.grids[1].values, np.asarray(m.w)[1, 1])
    assert [g.shape for g in inp.grids] == [(1, 14), (1, 14)]
    assert sorted(mk.grid for mk in f.marks_of("window")) == [0, 1]
    window = f.marks_of("window")[0]
    assert window.at == (0, 4) and window.cells == ((0, 0), (0, 2), (0, 4))  # t−4, t−2, t on the padded row
    assert f.formulas == (("L_out = ⌊(L + p_left + p_right − d·(k−1) − 1) / s⌋ + 1",
                           "⌊(10 + 4 + 0 − 2·(3−1) − 1) / 1⌋ + 1 = 10"),)
    assert f.facts[:4] == (
        "L_out = ⌊(10 + 4 + 0 − 2·(3−1) − 1) / 1⌋ + 1 = 10",
        "Parameters: 3·2·2 weights = 12",
        "causal padding: d·(k−1) = 2·(3−1) = 4 on the left only",
        "each output reads a span of d·(k−1) + 1 = 5 samples: output t reads inputs t−4, t−2, t "
        "(causal: never the future)",
    )
    assert "H_out" not in f.facts_line and "W_out" not in f.facts_line
    assert m.frame(14, expanded=False).expanded  # rows whatever the stack setting


def test_per_multiply_add_steps_mark_the_tap_on_the_kernel_row_shown() -> None:
    m = lesson_for("symmetric", (1, 1), 1, 1, 2, 2, 1, granularity="tap")
    per = 2 * 3
    f = m.frame(10 * per + 4)  # output channel 1, first position, tap 4: channel 1, kernel column 1
    taps = [mk for mk in f.marks_of("tap") if mk.panel == "kernel"]
    assert [(mk.grid, mk.at) for mk in taps] == [(1, (0, 1))]
    assert f.panel("kernel").channel_base == 2  # type: ignore[union-attr]


def test_backward_frames_speak_in_positions() -> None:
    m = lesson_for("causal", (0, 0), 1, 1, 1, 1, 1, mode="backward")
    f = m.frame(5)
    assert f.caption.endswith("dY channel 0, position 5")
    assert "dY[0,5] = 1 flows back" in f.arithmetic and "dX[0,3] +=" in f.arithmetic
    assert "[0,0," not in f.arithmetic
    gather = lesson_for("causal", (0, 0), 1, 1, 1, 1, 1, mode="backward", grad_view="gather")
    last = gather.frame(gather.n_steps - 1)
    assert "agree cell for cell" in last.arithmetic


def test_hover_names_positions_and_taps() -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv1d-dilated")), m.last_error
    h = interaction.hover(m, "output", 0, 0)
    assert h.receptive is not None and h.receptive.cells == ((0, 0), (0, 2), (0, 4))
    assert h.status == "Output position 0 reads input positions 0, 2 and 1 padding position"
    h = interaction.hover(m, "input", 0, 5)
    assert h.status == "Input position 3 feeds 3 outputs"
    assert h.fed is not None and h.fed.labels == ("w0", "w1", "w2")


def test_editing_a_sample_and_a_weight_changes_the_output() -> None:
    m = lesson_for("valid", (0, 0), 1, 1, 1, 1, 1)
    e = interaction.edit(m, "input", 0, 0, 4)
    assert isinstance(e, interaction.Edit) and e.label == "Input [0, 4]" and e.apply(100.0)
    assert m.x[0, 0, 4] == 100.0
    e = interaction.edit(m, "kernel", 0, 0, 2)
    assert isinstance(e, interaction.Edit) and e.label == "Weight [0, 0, 2]" and e.apply(1.0)
    assert interaction.click(m, "input", 0, 0, 3, None).status.startswith("Selected X[0,3] for")
    np.testing.assert_allclose(m.run.y[:, 0], engine.conv1d(np.asarray(m.x)[:, 0], np.asarray(m.w)[:, :, 0]))


def test_choosing_the_1d_operation_keeps_the_widths_and_makes_the_height_1() -> None:
    m = Lesson(Params(in_h=5, in_w=7, k_h=3, k_w=3, stride=(2, 1), padding=(1, 1, 1, 1)))
    assert m.set_params(op="conv1d"), m.last_error
    p = m.params
    assert (p.in_h, p.in_w, p.k_h, p.k_w, p.stride, p.padding[:2]) == (1, 7, 1, 3, (1, 1), (0, 0))
    assert m.x.shape == (1, 1, 7) and m.w.shape == (1, 1, 1, 3)
    assert m.set_params(in_h=4)  # the height stays 1 whatever is typed
    assert m.params.in_h == 1


def test_what_the_1d_operation_does_not_take_is_refused_in_words() -> None:
    m = Lesson()
    assert not m.set_params(pad_kind="causal")
    assert "causal padding belongs to the 1-D convolution" in m.last_error and m.params.op == "conv"
    assert not m.set_params(op="conv1d", flip_kernel=True)
    assert "cross-correlation here" in m.last_error and m.params.op == "conv"
    m = Lesson(ONE_D)
    assert not m.set_params(k_w=13)
    assert "longer than the padded input" in m.last_error
    assert not m.set_params(pad_kind="same", stride=(1, 2))
    assert "'same' needs stride 1" in m.last_error
    assert Lesson(replace(ONE_D, in_h=3)).params.in_h == 1  # built directly: height 1, as set_params makes it


@pytest.mark.parametrize("name", ["causal-conv1d", "conv1d-dilated", "conv1d-stride2"])
def test_presets_are_1d_listed_and_survive_a_round_trip(name: str) -> None:
    assert name in scenario.list_presets()
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    assert m.params.op == "conv1d"
    s = scenario.loads(scenario.dumps(scenario.from_model(m)))
    other = Lesson()
    assert scenario.apply(other, s), other.last_error
    assert other.params == m.params
    np.testing.assert_array_equal(other.run.y, m.run.y)


def test_the_causal_preset_reads_the_past_only() -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("causal-conv1d"))
    assert m.params.pad_kind == "causal" and m.trace.geometry.cols.before == 2
    # The kernel [0, 0, 1] copies the present sample: the output is the input, shifted by nothing.
    np.testing.assert_array_equal(m.run.y, m.x)


def test_an_old_file_with_the_causal_example_as_a_2d_convolution_still_opens() -> None:
    old = json.loads(scenario.dumps(scenario.Scenario(params=Params(
        op="conv", in_h=1, in_w=10, k_h=1, k_w=3, pad_kind="asymmetric", padding=(0, 0, 2, 0)))))
    s = scenario.from_dict(old)
    m = Lesson()
    assert scenario.apply(m, s), m.last_error
    assert m.params.op == "conv" and m.run.y is not None and m.run.y.shape == (1, 1, 10)


def test_json_frames_of_a_1d_lesson_are_its_frames() -> None:
    m = lesson_for("causal", (0, 0), 2, 1, 2, 2, 1, mode="both")
    doc = json.loads(json.dumps(frames_io.frames_to_json(m, range(m.n_steps)), allow_nan=False))
    for k in (0, 3, m.n_forward, m.n_steps - 1):
        assert_is_the_frame(doc["frames"][k], m.frame(k))
    assert doc["frames"][0]["formula"][0][0].startswith("L_out = ")


def test_the_sequences_deck_walks_the_three_1d_presets() -> None:
    from gui.models import resources

    title, scenarios = scenario.load_deck(resources.deck_path("sequences"))
    assert title == "Convolution over sequences: causal, dilated, strided"
    assert [s.params.op for s in scenarios] == ["conv1d"] * 3
    assert [s.params.pad_kind for s in scenarios] == ["causal", "same", "symmetric"]
