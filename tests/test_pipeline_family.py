"""Issue 13 in the pipeline: a WaveNet-style dilated causal stack over a 1×32 signal (its receptive
field of 16 samples, traced through the stack, each layer the engine's conv1d), and a
depthwise-separable block with its parameters against one full convolution's.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import network as nw
from gui.models.lesson import Lesson
from gui.models.pipeline import PRESETS, PipelineState, lesson_spec_for_layer


def wavenet() -> PipelineState:
    s = PipelineState()
    assert s.set_network(PRESETS["WaveNet-style stack"]()), s.last_error
    return s


def test_every_causal_layer_of_the_stack_is_the_engines_conv1d() -> None:
    s = wavenet()
    assert s.x.shape == (1, 1, 32) and np.ptp(s.x) > 0.5  # a signal, not a squashed picture
    outs, weights = s.outputs, s.weights
    convs = [k for k, layer in enumerate(s.network.layers) if isinstance(layer, nw.Conv)]
    assert [nw._pair(s.network.layers[k].dilation)[1] for k in convs] == [1, 2, 4, 8]  # type: ignore[union-attr]
    for k in convs:
        w, b = weights[k]  # type: ignore[misc]
        d = nw._pair(s.network.layers[k].dilation)[1]  # type: ignore[union-attr]
        y = engine.conv1d(outs[k][:, 0], w[:, :, 0], b, padding="causal", dilation=d)
        np.testing.assert_allclose(outs[k + 1][:, 0], y, rtol=1e-12, atol=1e-12)
    assert outs[-1].shape == (1, 1, 32)


def test_the_stack_is_causal_a_change_in_the_future_changes_no_earlier_output() -> None:
    s = wavenet()
    before = s.outputs[-1].copy()
    x = np.array(s.x)
    x[0, 0, 20] += 1.0
    assert s.set_input(x)
    after = s.outputs[-1]
    np.testing.assert_array_equal(after[0, 0, :20], before[0, 0, :20])
    assert not np.allclose(after[0, 0, 20:36], before[0, 0, 20:36])


def test_the_receptive_field_doubles_and_is_said_in_samples() -> None:
    s = wavenet()
    assert "receptive field of one output sample: 1 + 1 + 2 + 4 + 8 = 16 samples" in s.totals_text()
    t = s.trace_field(7, 0, 31)
    assert t is not None
    assert [len(c) for _, c in t.fields] == [16, 8, 8, 4, 4, 2, 2, 1]
    np.testing.assert_array_equal(t.fields[0][1], np.arange(16, 32))
    np.testing.assert_array_equal(t.fields[5][1], [23, 31])
    assert t.text.startswith("Sample 31 of stage 7 reads input: samples 16–31 (16); "
                             "after layer 1: 8 samples in 17–31;")
    early = s.trace_field(7, 0, 5)
    assert early is not None and list(early.fields[0][1]) == [0, 1, 2, 3, 4, 5]  # the padding is no input
    assert "receptive field" not in PipelineState().totals_text()  # LeNet-5 is no 1-D stack


def test_a_causal_layer_opens_as_a_causal_1d_convolution_with_the_same_numbers() -> None:
    s = wavenet()
    spec = s.open_spec(4)  # dilation 4
    assert spec is not None
    ls = lesson_spec_for_layer(spec["layer"], spec["x"], spec["w"], spec["b"])  # type: ignore[arg-type]
    p = ls.params
    assert (p.op, p.pad_kind, p.k_w, p.dilation, p.in_h) == ("conv1d", "causal", 2, (1, 4), 1)
    m = Lesson()
    assert m.load(p, x=ls.x, w=ls.w, bias=ls.bias), m.last_error
    np.testing.assert_allclose(m.run.y, s.outputs[5], rtol=1e-12, atol=1e-12)
    assert "causal padding: d·(k−1) = 4·(2−1) = 4 on the left only" in m.frame(0).facts


def test_depthwise_separable_parameters_against_the_full_convolution() -> None:
    s = PipelineState()
    assert s.set_network(PRESETS["depthwise-separable"]()), s.last_error
    rows = [r.text for r in s.layer_rows()]
    assert rows[0] == "1. conv 3@3x3 (pad 1, groups 3) → 3×16×16 · 30 params (full convolution: 84)"
    assert rows[1] == "2. conv 8@1x1 → 8×16×16 · 32 params"
    assert ("depthwise-separable (layers 1–2): 30 + 32 = 62 parameters; one full 3×3 convolution 3→8: 224 "
            "(3.6× more)") in s.totals_text()
    w, b = s.weights[0]  # type: ignore[misc]
    assert w.shape == (3, 1, 3, 3)
    np.testing.assert_allclose(s.outputs[1], engine.conv2d(np.asarray(s.x), w, b, padding=1, groups=3),
                               rtol=1e-12, atol=1e-12)
    spec = s.open_spec(0)
    assert spec is not None
    ls = lesson_spec_for_layer(spec["layer"], spec["x"], spec["w"], spec["b"])  # type: ignore[arg-type]
    assert ls.params.groups == 3
    m = Lesson()
    assert m.load(ls.params, x=ls.x, w=ls.w, bias=ls.bias), m.last_error
    np.testing.assert_allclose(m.run.y, s.outputs[1], rtol=1e-12, atol=1e-12)


def test_groups_that_do_not_divide_flag_the_layer() -> None:
    s = PipelineState()
    assert s.set_network(PRESETS["depthwise-separable"]())
    assert s.replace_layer(0, nw.Conv(3, 3, padding=1, groups=2))
    assert s.problem is not None and s.problem.index == 0
    assert "groups must divide the input channels (3) and the kernels (3), got 2" in str(s.problem)


def test_the_separable_block_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    s = PipelineState()
    assert s.set_network(PRESETS["depthwise-separable"]())
    (w1, b1), (w2, b2) = s.weights[0], s.weights[1]  # type: ignore[misc]
    x = torch.tensor(np.asarray(s.x)[None])
    y = torch.nn.functional.conv2d(x, torch.tensor(w1), torch.tensor(b1), padding=1, groups=3)
    y = torch.relu(torch.nn.functional.conv2d(y, torch.tensor(w2), torch.tensor(b2)))
    np.testing.assert_allclose(y[0].numpy(), s.outputs[-1], rtol=1e-12, atol=1e-12)


def test_back_from_the_signal_network_to_a_picture_network_the_sample_returns() -> None:
    def loader(name: str, c: int, h: int, w: int) -> np.ndarray:
        return np.full((c, h, w), 0.25 if name == "digit" else 0.75)

    s = PipelineState(load_sample=loader)
    assert s.use_sample("other")
    assert s.set_network(PRESETS["WaveNet-style stack"]())
    assert s.x.shape == (1, 1, 32) and np.ptp(s.x) > 0.5
    assert s.set_network(PRESETS["LeNet-5"]())
    np.testing.assert_array_equal(s.x, np.full((1, 32, 32), 0.75))
