"""Issue 13, global average and max pooling in the main window: one whole-map window per channel,
read back from the Frame without Qt; Copy as PyTorch against torch.

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


@pytest.mark.parametrize(("op", "rule", "engine_op"),
                         [("global_avg", "mean", "avg"), ("global_max", "max", "max")])
def test_one_whole_map_window_per_channel(op: str, rule: str, engine_op: str) -> None:
    m = Lesson(Params(op=op, in_c=3, in_h=4, in_w=5, k_h=2, k_w=2))  # type: ignore[arg-type]
    assert not m.last_error, m.last_error
    assert m.n_steps == 3
    x = np.asarray(m.x)
    np.testing.assert_allclose(m.run.y[:, 0, 0], engine.global_pool2d(x, op=engine_op))  # type: ignore[index]
    f = m.frame(1)
    assert f.caption.startswith("Global ") and "channel 1" in f.caption
    assert f.panels[1].title == f"{rule} of the whole 4×5 map, one window per channel (global)"
    assert f.panels[1].grids[0].shape == (4, 5)
    if op == "global_avg":
        assert set(f.panels[1].grids[0].labels.ravel().tolist()) == {"1/20"}
    window = f.marks_of("window")[0]
    assert window.grid == 1 and len(window.cells) == 20 and window.span == (4, 5)
    assert f.panel("output").grids[0].shape == (1, 1)  # type: ignore[union-attr]
    assert "refuses" not in f.facts_line and "pads both sides" not in f.facts_line


@pytest.mark.parametrize("op", ["global_avg", "global_max"])
def test_backward_and_the_gradient_check(op: str) -> None:
    p = Params(op=op, in_c=2, in_h=3, in_w=3, mode="both", upstream="random", integers=False)  # type: ignore[arg-type]
    m = Lesson(p)
    assert not m.last_error, m.last_error
    assert m.n_steps == 4
    final = m.run.final()
    assert final is not None and m.run.dy is not None
    expected = engine.global_pool2d_backward(np.asarray(m.x), m.run.dy[:, 0, 0], op=m.params.pool_op)
    np.testing.assert_allclose(final.grad_x, expected)
    analytic, numeric = m.check_gradient("x", (1, 2, 2))
    assert abs(analytic - numeric) < 1e-6
    assert "Backward pass" in m.frame(3).caption
    assert "rows 0–2" in interaction.hover(m, "output", 0, 0).status


@pytest.mark.parametrize("name", ["global-avg-pool", "global-max-pool"])
def test_presets_and_copy_as_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    code = pytorch_code(m)
    assert "AdaptiveAvgPool2d(1)" in code or "AdaptiveMaxPool2d(1)" in code
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor)
    np.testing.assert_allclose(y.numpy(), m.run.y, rtol=1e-12, atol=1e-12)


def test_the_causal_1d_preset_never_reads_the_future() -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("causal-conv1d")), m.last_error
    p = m.params
    assert (p.in_h, p.k_h, p.k_w, p.padding) == (1, 1, 3, (0, 0, 2, 0))
    x, w = np.asarray(m.x)[0, 0], np.asarray(m.w)[0, 0, 0]
    expected = engine.conv1d(x, w, padding="causal")
    np.testing.assert_allclose(m.run.y[0, 0], expected)  # type: ignore[index]
    for t in range(x.size):  # output t reads inputs t-2..t only
        cols = m.trace[t].window.cols - 2
        assert cols.max() == t
