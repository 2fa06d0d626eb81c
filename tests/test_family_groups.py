"""Issue 13, grouped convolution in the window: kernels per group, the window on the group's
channels only, parameter counts side by side, depthwise presets, Copy as PyTorch with groups=.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from gui.models import interaction, scenario
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pytorch import pytorch_code


def test_kernels_say_their_group_and_the_window_marks_only_its_channels() -> None:
    m = Lesson(Params(in_c=4, out_c=4, groups=2))
    assert not m.last_error, m.last_error
    assert m.w.shape == (4, 2, 3, 3)
    np.testing.assert_allclose(m.run.y, engine.conv2d(np.asarray(m.x), np.asarray(m.w), padding=1, groups=2))
    k = 2 * 25 + 7  # output channel 2: group 1, input channels 2–3
    f = m.frame(k, expanded=True)
    assert f.panels[1].title == "Kernel W[2] of 4: 2×3×3, group 1: channels 2–3"
    windows = f.marks_of("window")
    assert sorted(mk.grid for mk in windows) == [2, 3]
    weights = np.asarray(m.w)[2]
    assert windows[0].labels[0] == "×" + interaction.cell_label(float(weights[0, 0, 0]))
    stacked = m.frame(k)
    assert stacked.panels[0].front == 2 and stacked.marks_of("window")[0].grid == 2
    assert "Parameters: 3·3·2·4 weights = 72" in stacked.facts_line
    assert "groups 2: each kernel sees 2 of the 4 input channels; 72 parameters here, 144 for the full" \
        in stacked.facts_line


def test_groups_that_do_not_divide_are_refused_in_plain_words() -> None:
    m = Lesson(Params(in_c=4, out_c=4))
    assert not m.set_params(groups=3)
    assert "groups must divide the input channels (4) and the kernels (4), got 3" in m.last_error
    assert m.params.groups == 1
    assert m.set_params(groups=4) and m.w.shape == (4, 1, 3, 3)
    assert not m.set_params(op="max")  # pooling has no groups: said, not ignored
    assert "groups" in m.last_error


def test_backward_and_the_gradient_check_follow_the_groups() -> None:
    torch = pytest.importorskip("torch")
    m = Lesson(Params(in_c=2, out_c=4, groups=2, mode="backward", upstream="random"))
    assert not m.last_error, m.last_error
    final = m.run.final()
    assert final is not None and m.run.dy is not None
    x = torch.tensor(np.asarray(m.x)[None], requires_grad=True)
    w = torch.tensor(np.asarray(m.w), requires_grad=True)
    torch.nn.functional.conv2d(x, w, padding=1, groups=2).backward(torch.tensor(m.run.dy[None]))
    np.testing.assert_allclose(final.grad_x, x.grad[0].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(final.grad_w, w.grad.numpy(), rtol=1e-12, atol=1e-12)
    analytic, numeric = m.check_gradient("w", (3, 0, 1, 1))
    assert abs(analytic - numeric) < 1e-6
    f = m.frame(3 * 25 + 4, expanded=True)  # dY channel 3: group 1, input channel 1
    assert [mk.grid for mk in f.marks_of("window") if mk.panel == "dx"] == [1]


@pytest.mark.parametrize("name", ["depthwise", "separable-1-depthwise", "separable-2-pointwise"])
def test_depthwise_presets_and_their_copied_code(name: str) -> None:
    torch = pytest.importorskip("torch")
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    code = pytorch_code(m)
    if m.params.groups > 1:
        assert f"groups={m.params.groups}" in code
        assert "(depthwise)" in m.frame(0).facts_line
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor)
    np.testing.assert_allclose(y.detach().numpy(), m.run.y, rtol=1e-12, atol=1e-12)


def test_the_pointwise_step_reads_the_depthwise_steps_output() -> None:
    first, second = Lesson(), Lesson()
    assert scenario.apply(first, scenario.load_preset("separable-1-depthwise"))
    assert scenario.apply(second, scenario.load_preset("separable-2-pointwise"))
    np.testing.assert_allclose(second.x, first.run.y)
    assert first.frame(0).param_count == 27
    assert second.frame(0).param_count == 18


def test_groups_survive_a_file_round_trip() -> None:
    m = Lesson(Params(in_c=4, out_c=2, groups=2))
    s = scenario.loads(scenario.dumps(scenario.from_model(m)))
    assert s.params.groups == 2 and s.w is not None and s.w.shape == (2, 2, 3, 3)
    other = Lesson()
    assert scenario.apply(other, s), other.last_error
    np.testing.assert_array_equal(other.run.y, m.run.y)
