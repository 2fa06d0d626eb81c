"""Issue 13, the rest of transposed convolution: the gather view's dL/dX dimmed where the forward
picture dims, the gradient check (Ctrl+G), and groups (kernels titled with their group, Copy as
PyTorch passing ``groups=``).

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from gui.models import interaction
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pytorch import pytorch_code
from gui.models.transposed import entered_weight, torch_weight

T = "conv_transpose"


def lesson(**kw: object) -> Lesson:
    m = Lesson(Params(**kw))  # type: ignore[arg-type]
    assert not m.last_error, m.last_error
    return m


# --------------------------------------------------------------------------- the gather view's dL/dX
def test_the_gather_views_spread_gradient_dims_inserted_and_padding_cells_as_the_forward_picture() -> None:
    m = lesson(op=T, in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), mode="backward",
               grad_view="gather", upstream="random")
    forward_kinds = lesson(op=T, in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1)).frame(0) \
        .panel("input").grids[0].kinds  # type: ignore[union-attr]
    assert forward_kinds is not None and (forward_kinds == 3).any() and (forward_kinds == 1).any()
    for k in (0, m.n_steps - 1):
        f = m.frame(k)
        assert f.phase == "gather"
        g = f.panel("output").grids[0]  # type: ignore[union-attr]
        np.testing.assert_array_equal(g.kinds, forward_kinds)
    # Each cell keeps the number it received: dimmed, not blanked nor "·".
    last = m.frame(m.n_steps - 1).panel("output").grids[0]  # type: ignore[union-attr]
    assert "·" not in last.labels and "" not in last.labels
    # A convolution's gather view hatches its padding ring the same way.
    c = lesson(mode="backward", grad_view="gather").frame(0).panel("output").grids[0]  # type: ignore[union-attr]
    assert c.kinds is not None and c.kinds[0, 0] == 1 and c.kinds[1, 1] == 0


# --------------------------------------------------------------------------- the gradient check
CHECKED = [
    dict(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1)),
    dict(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1), upstream="loss"),
    dict(in_h=2, in_w=3, dilation=(2, 1), in_c=2, out_c=3, bias=True, upstream="random", integers=False),
    dict(in_h=3, in_w=3, in_c=4, out_c=2, groups=2, stride=(2, 1), activation="tanh", upstream="random",
         integers=False),
    dict(in_h=2, in_w=2, k_h=2, k_w=3, pad_kind="valid", padding=(0, 0, 0, 0), transpose_view="gather"),
]


@pytest.mark.parametrize("kw", CHECKED)
def test_the_gradient_check_of_a_transposed_convolution_agrees_with_finite_differences(
        kw: dict[str, object]) -> None:
    m = lesson(op=T, mode="backward", **kw)
    rng = np.random.default_rng(0)
    for wrt, shape in (("x", m.x.shape), ("w", m.w.shape)):
        for _ in range(4):
            idx = tuple(int(rng.integers(n)) for n in shape)
            analytic, numeric = m.check_gradient(wrt, idx)
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-6), (wrt, idx)
    # Through the window's words (Ctrl+G): numbers, never a refusal.
    job = interaction.gradient_check_job(m, ("w", (0, 0, 0, 0)))
    assert not isinstance(job, str)
    text = interaction.check_text(job())
    assert "Cannot check" not in text and "dL/dW[0, 0, 0, 0]" in text


def test_the_gradient_checks_analytic_numbers_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    m = lesson(op=T, mode="backward", in_h=3, in_w=3, in_c=4, out_c=2, groups=2, stride=(2, 2),
               padding=(1, 1, 1, 1), output_padding=(1, 1), upstream="random", bias=True)
    p = m.params
    x = torch.tensor(np.asarray(m.x))[None].requires_grad_(True)
    wt = torch.tensor(torch_weight(p, np.asarray(m.w))).requires_grad_(True)
    y = torch.nn.functional.conv_transpose2d(x, wt, torch.tensor(m.bias_values), stride=2, padding=1,
                                             output_padding=1, groups=2)
    y.backward(torch.tensor(np.asarray(m.run.dy))[None])
    gw = entered_weight(p, wt.grad.numpy())  # type: ignore[union-attr]
    for idx in [(0, 0, 0, 0), (1, 1, 2, 1), (0, 1, 1, 2)]:
        assert m.check_gradient("w", idx)[0] == pytest.approx(float(gw[idx]), abs=1e-9)
    for idx in [(0, 0, 0), (3, 2, 1), (2, 1, 1)]:
        assert m.check_gradient("x", idx)[0] == pytest.approx(float(x.grad[0][idx]), abs=1e-9)  # type: ignore[index]


def test_a_kernel_cell_clicked_in_the_gather_picture_checks_that_weight_as_entered() -> None:
    m = lesson(op=T, mode="backward", in_h=2, in_w=2, stride=(2, 2), padding=(0, 0, 0, 0))
    sel = interaction.click(m, "kernel", 0, 0, 0, None).selection  # the flipped kernel's top-left
    assert sel == ("w", (0, 0, 2, 2))


# --------------------------------------------------------------------------- groups
def test_groups_in_a_transposed_convolution_match_torch_and_title_the_kernels() -> None:
    m = lesson(op=T, in_h=3, in_w=3, in_c=4, out_c=6, groups=2, stride=(2, 2), padding=(1, 1, 1, 1))
    p = m.params
    assert m.w.shape == (6, 2, 3, 3)  # as entered: each kernel a tile per input channel of its group
    expected = engine.conv_transpose2d(m.x, torch_weight(p, np.asarray(m.w)), stride=2, padding=1, groups=2)
    np.testing.assert_allclose(m.run.y, expected, atol=1e-12)
    titles = [m.frame(k).panel("kernel").title for k in (0, m.n_forward - 1)]  # type: ignore[union-attr]
    assert "W[0] of 6" in titles[0] and titles[0].endswith("group 0: channels 0–1")
    assert "W[5] of 6" in titles[1] and titles[1].endswith("group 1: channels 2–3")
    assert "groups 2: each kernel sees 2 of the 4 input channels" in m.frame(0).facts_line
    # Kernel o stamps only from its group's channels: the window covers channels 2–3 for o = 5.
    step = m.trace[m.n_forward - 1]
    assert list(step.in_channels) == [2, 3]
    # The scatter picture's stamps read the same kernels, titled alike.
    s = lesson(op=T, in_h=3, in_w=3, in_c=4, out_c=6, groups=2, transpose_view="scatter")
    last = s.frame(s.n_steps - 1)
    np.testing.assert_allclose(last.output, s.run.y, atol=1e-12)
    assert last.panel("kernel").title.endswith("group 1: channels 2–3")  # type: ignore[union-attr]
    assert "stamps" in last.arithmetic and "W[3–5, 1]" in last.arithmetic


def test_groups_that_do_not_divide_are_refused_in_words() -> None:
    m = lesson(op=T, in_c=4, out_c=6)
    assert not m.set_params(groups=4)
    assert "groups must divide the input channels (4) and the kernels (6), got 4" in m.last_error
    assert m.params.groups == 1


def test_copy_as_pytorch_passes_groups_and_prints_the_stages_output() -> None:
    torch = pytest.importorskip("torch")
    m = lesson(op=T, in_h=3, in_w=3, in_c=4, out_c=2, groups=2, stride=(2, 2), padding=(1, 1, 1, 1),
               output_padding=(1, 1), bias=True)
    code = pytorch_code(m)
    assert "groups=2" in code and "ConvTranspose2d" in code
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor)
    np.testing.assert_allclose(y.detach().numpy().reshape(m.run.y.shape), m.run.y, rtol=1e-12, atol=1e-12)


def test_the_matrix_picture_of_a_grouped_transposed_convolution_is_torchs() -> None:
    torch = pytest.importorskip("torch")
    m = lesson(op=T, drawn_as="matrix", in_h=2, in_w=1, in_c=2, out_c=2, groups=2, stride=(2, 2),
               padding=(0, 0, 0, 0))
    y = torch.nn.functional.conv_transpose2d(torch.tensor(np.asarray(m.x))[None],
                                             torch.tensor(torch_weight(m.params, np.asarray(m.w))), stride=2,
                                             groups=2)
    last = m.frame(m.n_steps - 1).panel("across").grids[0]  # type: ignore[union-attr]
    np.testing.assert_allclose(last.values.ravel(), y.numpy().ravel(), atol=1e-12)
