"""Issue 13, transposed convolution in the window: the Frame's gather and scatter pictures, the
facts and formulas, backward, hover, presets and Copy as PyTorch, read back without Qt.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import engine
from gui.models import interaction, scenario
from gui.models.frame import signed_label
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pytorch import pytorch_code

T = "conv_transpose"

#: conv_arithmetic (Dumoulin & Visin), section 4: the transposed convolution's own input i', kernel,
#: stride, padding and output padding, and the output size the paper states (the direct
#: convolution's input size i).
FIGURES = {
    "transposed-no-padding": ((2, 3, 1, 0, 0), 4),  # fig. 4.1: i=4, k=3, s=1, p=0
    "transposed-arbitrary-padding": ((6, 4, 1, 2, 0), 5),  # fig. 4.2: i=5, k=4, s=1, p=2
    "transposed-half-padding": ((5, 3, 1, 1, 0), 5),  # fig. 4.3: i=5, k=3, s=1, p=1
    "transposed-full-padding": ((7, 3, 1, 2, 0), 5),  # fig. 4.4: i=5, k=3, s=1, p=2
    "transposed-no-padding-strides": ((2, 3, 2, 0, 0), 5),  # fig. 4.5: i=5, k=3, s=2, p=0
    "transposed-padding-strides": ((3, 3, 2, 1, 0), 5),  # fig. 4.6: i=5, k=3, s=2, p=1
    "transposed-padding-strides-odd": ((3, 3, 2, 1, 1), 6),  # fig. 4.7: i=6, k=3, s=2, p=1
}


def lesson(**kw: object) -> Lesson:
    m = Lesson(Params(op=T, **kw))  # type: ignore[arg-type]
    assert not m.last_error, m.last_error
    return m


def torch_transposed(m: Lesson) -> np.ndarray:
    torch = pytest.importorskip("torch")
    p = m.params
    pad = (p.padding[0], p.padding[2]) if p.pad_kind == "symmetric" else (0, 0)
    x = torch.tensor(np.asarray(m.x), dtype=torch.float64)[None]
    w = torch.tensor(np.asarray(m.w).transpose(1, 0, 2, 3).copy(), dtype=torch.float64)
    b = torch.tensor(m.bias_values, dtype=torch.float64) if p.bias else None
    y = torch.nn.functional.conv_transpose2d(x, w, b, stride=p.stride, padding=pad,
                                             output_padding=p.output_padding, dilation=p.dilation)
    return y[0].numpy()


# --------------------------------------------------------------------------- presets
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_conv_arithmetic_transposed_figures_have_the_papers_sizes_and_torchs_numbers(name: str) -> None:
    (i, k, s, p, op), o = FIGURES[name]
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    q = m.params
    assert (q.op, q.in_h, q.in_w, q.k_h, q.stride, q.padding[0], q.output_padding) == (
        T, i, i, k, (s, s), p, (op, op))
    assert m.run.y is not None and m.run.y.shape == (1, o, o)
    np.testing.assert_allclose(m.run.y, torch_transposed(m), rtol=1e-12, atol=1e-12)
    f = m.frame(0)
    assert f.caption.startswith("Transposed convolution")
    assert any(fact.startswith("the transpose of the convolution") and f"takes {o}×{o} to {i}×{i}" in fact
               for fact in f.facts)


@pytest.mark.parametrize(("name", "size", "out"), [("conv-arbitrary-padding", 5, 6),
                                                   ("conv-padding-strides-odd", 6, 3)])
def test_the_two_direct_figures_are_presets(name: str, size: int, out: int) -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    assert m.params.op == "conv" and m.params.in_h == size
    assert m.run.y is not None and m.run.y.shape == (1, out, out)


# --------------------------------------------------------------------------- the gather picture
def test_gather_picture_spreads_the_input_and_marks_inserted_zeros_apart_from_real_zeros() -> None:
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1))
    m.set_input_value(0, 1, 1, 0.0)  # a real zero: it must read "0", not "·"
    f = m.frame(0)
    grid = f.panels[0].grids[0]
    spread = m.trace.spread  # type: ignore[attr-defined]
    assert grid.shape == spread.values.shape[1:] == (8, 8)  # (3−1)·2 + 1 + 2·(2 − 1) + 1
    np.testing.assert_array_equal(f.kinds, spread.kind)
    assert set(grid.labels[spread.kind == 3].tolist()) == {"·"}
    assert grid.labels[3, 3] == "0" and spread.kind[3, 3] == 0  # input (1, 1) at 1 + 2·1
    assert "spread (· = inserted zero) and padded" in f.panels[0].title
    # The backward pass shows the same grid, and says so (it read "Input X").
    m.set_params(mode="backward")
    assert m.frame(0).panels[0].title == "Input X, spread (· = inserted zero) and padded"
    assert "flipped" in f.panels[1].title
    # The kernel slid is W turned 180°.
    np.testing.assert_array_equal(f.kernel[0, 0], np.asarray(m.w)[0, 0, ::-1, ::-1])
    facts = f.facts_line
    assert "the transpose of the convolution kernel 3×3, stride 2, padding 1 that takes 6×6 to 3×3" in facts
    assert "1 zero inserted between cells (·), padded by d·(k − 1) − p = 1" in facts
    assert "+ output_padding 1 on the bottom/right" in facts
    assert f.formulas[0] == ("H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1",
                             "(3 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 6")
    np.testing.assert_allclose(m.run.y, torch_transposed(m), rtol=1e-12, atol=1e-12)


def test_every_output_cell_is_one_window_over_the_spread_and_the_last_frame_is_the_output() -> None:
    m = lesson(in_h=2, in_w=3, k_h=2, k_w=3, stride=(2, 1), padding=(0, 0, 0, 0), in_c=2, out_c=2,
               dilation=(1, 2))
    t = m.trace
    assert m.n_steps == t.output.size
    last = m.frame(m.n_steps - 1)
    np.testing.assert_allclose(last.output, torch_transposed(m), rtol=1e-12, atol=1e-12)
    window = last.marks_of("window")[0]
    assert len(window.cells) == 2 * 3


def test_output_padding_is_refused_in_plain_words_when_not_below_stride_or_dilation() -> None:
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1))
    assert not m.set_params(output_padding=(2, 2))
    assert "output_padding" in m.last_error
    assert m.params.output_padding == (0, 0)


def test_settings_pytorchs_layer_lacks_are_refused_and_other_ops_drop_output_padding() -> None:
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1))
    assert not m.set_params(padding_mode="reflect") and "zeros" in m.last_error
    assert not m.set_params(pad_kind="asymmetric") and "symmetric" in m.last_error
    assert not m.set_params(flip_kernel=True)
    assert m.set_params(op="conv"), m.last_error
    assert m.params.output_padding == (0, 0)


# --------------------------------------------------------------------------- the scatter picture
def test_scatter_picture_stamps_each_input_cell_and_counts_the_overlaps() -> None:
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1),
               transpose_view="scatter")
    assert m.n_steps == 9
    x, w = np.asarray(m.x), np.asarray(m.w)
    f = m.frame(4)  # input cell (1, 1)
    assert f.phase == "scatter"
    assert "input channel 0, cell (1, 1) stamps" in f.caption
    stamp = f.marks_of("window")[0]
    assert stamp.panel == "output" and stamp.at == (1, 1)  # rows 1·2 − 1 + (0, 1, 2)
    assert stamp.labels[0] == signed_label(float(x[0, 1, 1] * w[0, 0, 0, 0]))
    out = f.panel("output")
    assert out is not None and out.grids[0].corner is not None
    expected_hits = m.run.scatter.hits(4)[0]  # type: ignore[union-attr]
    assert out.grids[0].corner[1, 1] == f"{expected_hits[1, 1]}×"
    assert f.panel("kernel") is not None and "not flipped" in f.panel("kernel").title  # type: ignore[union-attr]
    last = m.frame(8)
    np.testing.assert_allclose(last.output, torch_transposed(m), rtol=1e-12, atol=1e-12)


def test_scatter_arithmetic_names_only_cells_inside_the_output() -> None:
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), transpose_view="scatter")
    f = m.frame(0)  # input (0, 0): its stamp's first row and column fall in the cropped padding
    first = f.arithmetic.split("\n")[0]
    assert "onto output rows 0, 1, columns 0, 1" in first
    assert "2 taps land outside the output" not in f.arithmetic  # 5 of the 9 taps are dropped
    assert "5 taps land outside the output" in f.arithmetic
    assert not any(re.search(r"(?<![\w·)])[-−]\d", text) for text in (f.caption, first))


def test_scatter_picture_is_the_forward_pass_only() -> None:
    m = lesson(in_h=2, in_w=2, padding=(0, 0, 0, 0), transpose_view="scatter")
    assert not m.set_params(mode="backward")
    assert "gather picture" in m.last_error


# --------------------------------------------------------------------------- backward, hover
def test_backward_real_cells_of_the_spread_gradient_are_torchs_input_gradient() -> None:
    torch = pytest.importorskip("torch")
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1),
               mode="backward", upstream="random")
    final = m.run.final()
    assert final is not None and m.run.dy is not None
    spread = m.trace.spread  # type: ignore[attr-defined]
    gx = final.grad_x_padded[:, spread.kind == 0].reshape(1, 3, 3)
    x = torch.tensor(np.asarray(m.x)[None], requires_grad=True)
    w = torch.tensor(np.asarray(m.w).transpose(1, 0, 2, 3).copy(), requires_grad=True)
    y = torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    y.backward(torch.tensor(m.run.dy[None]))
    np.testing.assert_allclose(gx, x.grad[0].numpy(), rtol=1e-12, atol=1e-12)
    f = m.frame(m.n_steps - 1)
    assert "dL/dX on the spread input" in f.panel("dx").title  # type: ignore[union-attr]
    # dW of the flipped kernel, flipped back, is torch's weight gradient (channel axes swapped).
    gw = final.grad_w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-12, atol=1e-12)
    # The gradient check (Ctrl+G) covers it too: its analytic number is torch's.
    assert m.check_gradient("x", (0, 1, 2))[0] == pytest.approx(float(x.grad[0, 0, 1, 2]), abs=1e-12)
    assert "Cannot check" not in interaction.check_gradient_text(m, ("x", (0, 0, 0)))


def test_hover_names_real_input_cells_and_inserted_zeros() -> None:
    m = lesson(in_h=2, in_w=2, stride=(2, 2), padding=(0, 0, 0, 0))
    h = interaction.hover(m, "output", 0, 0)
    assert h.receptive is not None and len(h.receptive.cells) == 9
    assert "real input cells: (0, 0)" in h.status
    assert "inserted by the stride" in interaction.hover(m, "input", 2, 3).status
    assert interaction.hover(m, "input", 2, 2).status.startswith("Input cell (0, 0) feeds")
    assert interaction.padded_to_input(m, 4, 4) == (1, 1)
    assert interaction.padded_to_input(m, 3, 4) is None
    m.set_params(transpose_view="scatter")
    h = interaction.hover(m, "input", 1, 1)
    assert h.fed is not None and set(h.fed.cells) == {(r, c) for r in (2, 3, 4) for c in (2, 3, 4)}


def test_editing_the_flipped_kernel_shown_edits_the_weight_under_it() -> None:
    m = lesson(in_h=2, in_w=2, padding=(0, 0, 0, 0))
    e = interaction.edit(m, "kernel", 0, 0, 0)
    assert isinstance(e, interaction.Edit) and e.label == "Weight [0, 0, 2, 2]"
    assert e.apply(7.0)
    assert m.frame(0).kernel[0, 0, 0, 0] == 7.0  # type: ignore[index]


# --------------------------------------------------------------------------- files and PyTorch
def test_output_padding_and_the_picture_survive_a_file_round_trip() -> None:
    m = lesson(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1),
               transpose_view="scatter")
    s = scenario.loads(scenario.dumps(scenario.from_model(m)))
    assert s.params.output_padding == (1, 1) and s.params.transpose_view == "scatter"
    other = Lesson()
    assert scenario.apply(other, s), other.last_error
    np.testing.assert_array_equal(other.run.y, m.run.y)
    with pytest.raises(scenario.ScenarioError, match="transpose_view"):
        scenario.loads(scenario.dumps(s).replace('"transpose_view": "scatter"',
                                                 '"transpose_view": "sideways"'))


@pytest.mark.parametrize("kw", [
    dict(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1)),
    dict(in_h=2, in_w=3, in_c=2, out_c=3, k_h=2, k_w=3, stride=(2, 3), padding=(0, 0, 1, 1), bias=True,
         activation="relu"),
    dict(in_h=4, in_w=4, dilation=(2, 2), stride=(3, 3), output_padding=(2, 1), padding=(1, 1, 1, 1),
         integers=False),
])
def test_copy_as_pytorch_builds_conv_transpose2d_and_prints_the_stage_output(kw: dict[str, object]) -> None:
    torch = pytest.importorskip("torch")
    m = lesson(**kw)
    code = pytorch_code(m)
    assert "torch.nn.ConvTranspose2d(" in code and "output_padding=" in code
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor)
    np.testing.assert_allclose(y.detach().numpy(), m.run.y, rtol=1e-12, atol=1e-12)
    assert max(len(line) for line in code.splitlines()) <= 110


def test_engine_and_lesson_agree_on_the_output_size() -> None:
    m = lesson(in_h=4, in_w=5, k_h=3, k_w=2, stride=(2, 3), dilation=(2, 1), padding=(1, 1, 0, 0),
               output_padding=(1, 2))
    ho = engine.transposed_output_size(4, 3, 2, 1, 1, 2)
    assert m.run.y is not None and m.run.y.shape[1] == ho


@pytest.mark.parametrize("kw", [
    dict(op=T, in_h=3, in_w=2, stride=(2, 3), output_padding=(1, 2), padding=(1, 1, 0, 0)),
    dict(op=T, in_h=3, in_w=3, stride=(2, 2), mode="both", grad_view="gather", activation="relu"),
    dict(op=T, in_h=2, in_w=3, in_c=2, out_c=3, granularity="tap"),
    dict(op=T, in_h=3, in_w=3, transpose_view="scatter", in_c=2, activation="tanh"),
    dict(op="global_avg", in_c=3, mode="both"),
    dict(op="global_max", in_c=2, mode="backward"),
    dict(op="conv", in_c=4, out_c=2, groups=2, granularity="tap"),
    dict(op="conv", in_c=2, out_c=4, groups=2, mode="both", grad_view="gather"),
])
def test_the_validators_plan_counts_the_steps_the_lesson_builds(kw: dict[str, object]) -> None:
    from gui.models import validate

    p = Params(**kw)  # type: ignore[arg-type]
    plan = validate.plan(p)
    m = Lesson(p)
    assert (plan.n_forward, plan.n_steps) == (m.n_forward, m.n_steps)
    assert m.run.y is not None and plan.out_shape == m.run.y.shape


def test_a_transposed_output_beyond_the_bound_is_refused_before_anything_is_built() -> None:
    m = lesson(in_h=2, in_w=2, padding=(0, 0, 0, 0))
    assert not m.set_params(in_h=200, stride=(4, 4))
    assert "at most 544 a side" in m.last_error


def test_a_padded_stride_1_transposed_input_reads_padded() -> None:
    """Regression: with stride 1 the title read "Input 3×3 and padded"."""
    m = lesson(in_h=3, in_w=3, stride=(1, 1), padding=(0, 0, 0, 0))
    assert m.frame(0).panels[0].title == "Input 3×3, padded"
    m.set_params(mode="backward")
    assert m.frame(0).panels[0].title == "Input X, padded"
