"""Hovering a kernel weight: the input cells it multiplies over all steps, and its gradient as that sum."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import describe
from gui.models import interaction
from gui.models.lesson import Lesson
from gui.models.params import Params

CASES = [
    Params(),
    Params(stride=(2, 2), in_h=7, in_w=6),
    Params(dilation=(2, 2), in_h=8, in_w=7, padding=(2, 2, 2, 2)),
    Params(stride=(2, 1), dilation=(1, 3), pad_kind="asymmetric", padding=(0, 2, 1, 0), in_h=7, in_w=9),
    Params(in_c=4, out_c=2, groups=2, k_h=2, k_w=3),
    Params(in_c=3, out_c=3, groups=3, flip_kernel=True, stride=(2, 2)),
    Params(padding_mode="reflect", k_h=2, k_w=2),
]


def naive_cells(p: Params, lesson: Lesson, o: int, c: int, i: int,
                j: int) -> tuple[int, set[tuple[int, int]]]:
    """Every padded input cell weight tap (i, j) (as applied) of kernel o, channel c in its group, meets:
    slide the window over every output cell by hand."""
    ho, wo = lesson.trace.out_shape[1:]
    per_group = p.out_c // p.groups
    channel = (o // per_group) * p.group_in + c
    cells = set()
    for oh in range(ho):
        for ow in range(wo):
            r = oh * p.stride[0] + i * p.dilation[0]
            col = ow * p.stride[1] + j * p.dilation[1]
            cells.add((r, col))
    return channel, cells


@pytest.mark.parametrize("p", CASES, ids=range(len(CASES)))
def test_a_weight_lights_every_input_cell_it_multiplies(p: Params) -> None:
    lesson = Lesson(p)
    for o in range(p.out_c):
        for c in range(p.group_in):
            for i in range(p.k_h):
                for j in range(p.k_w):
                    h = interaction.hover(lesson, "kernel", i, j, o * p.group_in + c)
                    channel, want = naive_cells(p, lesson, o, c, i, j)
                    assert h.receptive is not None and h.receptive.panel == "input"
                    assert set(h.receptive.cells) == want and len(h.receptive.cells) == len(want)
                    assert f"of channel {channel} " in h.status and h.line == ""


def test_the_lit_cells_are_the_ones_the_steps_multiply_by_that_weight() -> None:
    """The same set read off the engine's own steps: the window cell at that tap, step by step."""
    p = Params(stride=(2, 1), dilation=(1, 2), in_h=7, in_w=8, padding=(1, 1, 2, 2), pad_kind="asymmetric")
    lesson = Lesson(p)
    for i, j in ((0, 0), (1, 2), (2, 1)):
        seen = {(int(s.window.rows[i]), int(s.window.cols[j])) for s in lesson.trace}
        h = interaction.hover(lesson, "kernel", i, j, 0)
        assert h.receptive is not None and set(h.receptive.cells) == seen


BACKWARD = [
    Params(mode="backward", upstream="random", stride=(2, 2), in_h=6, in_w=6),
    Params(mode="backward", upstream="random", dilation=(2, 1), in_h=7, in_w=6, padding=(2, 2, 1, 1),
           integers=False, seed=4),
    Params(mode="both", upstream="loss", in_c=4, out_c=2, groups=2, k_h=2, k_w=2, activation="relu"),
    Params(mode="backward", upstream="random", flip_kernel=True, padding_mode="replicate"),
]


@pytest.mark.parametrize("p", BACKWARD, ids=range(len(BACKWARD)))
def test_backward_the_hover_spells_the_weight_gradient_and_it_equals_the_dw_cell(p: Params) -> None:
    torch = pytest.importorskip("torch")
    lesson = Lesson(p)
    grads = lesson.run.final()
    assert grads is not None
    # PyTorch's dL/dW of the same layer and upstream gradient (the oracle).
    x = torch.tensor(np.asarray(lesson.trace.x_padded)[None], dtype=torch.float64)
    w = torch.tensor(np.asarray(lesson.w), dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, w, stride=p.stride, dilation=p.dilation, groups=p.groups)
    y.backward(torch.tensor(np.asarray(lesson.run.dz)[None], dtype=torch.float64))
    dw = w.grad.numpy()
    for o in range(p.out_c):
        for c in range(p.group_in):
            for i in range(p.k_h):
                for j in range(p.k_w):
                    h = interaction.hover(lesson, "dw", i, j, o * p.group_in + c)
                    # The dL/dW cell under the mouse (the kernel as applied, flipped or not, indexes it).
                    cell = float(grads.grad_w[o, c, i, j])
                    assert cell == pytest.approx(dw[o, c, i, j], abs=1e-9)
                    assert h.line.startswith(f"dL/dW[{o},{c},{i},{j}] = Σ dL/d")
                    assert h.line.endswith(f" = {describe.fmt(cell)}")
                    # The terms are the real numbers: dL/dZ · x at every output cell, and they add up.
                    terms = h.line.split(" output cells = ", 1)[1].rsplit(" = ", 1)[0]
                    if "more" not in terms:
                        pairs = re.findall(r"\(?(−?[\d.e+−]+)\)?·\(?(−?[\d.e+−]+)\)?", terms)
                        total = sum(float(a.replace("−", "-")) * float(b.replace("−", "-")) for a, b in pairs)
                        assert total == pytest.approx(cell, rel=1e-5, abs=1e-5)
                        assert len(pairs) == int(np.prod(lesson.trace.out_shape[1:]))


def test_a_long_sum_is_cut_in_the_middle_and_still_ends_with_the_cell() -> None:
    lesson = Lesson(Params(mode="backward", upstream="random", in_h=12, in_w=12))
    h = interaction.hover(lesson, "kernel", 1, 1, 0)
    grads = lesson.run.final()
    assert grads is not None
    assert "… (133 more) …" in h.line and h.line.endswith(describe.fmt(float(grads.grad_w[0, 0, 1, 1])))


def test_hovering_a_weight_puts_its_sum_in_the_arithmetic_place(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.model.set_params(mode="backward")
    step_text = window.renderer.arith.text
    window.stage.hovered("kernel", 0, 1, 2)
    assert window.renderer.arith.text.startswith("dL/dW[0,0,1,2] = Σ dL/dY·x over 25 output cells")
    lit = window.renderer.hover_marks.cells
    assert len(lit) == 25
    window.stage.hovered("", 0, 0, 0)
    assert window.renderer.arith.text == step_text and not window.renderer.hover_marks.cells


def test_a_1d_weight_lights_the_positions_it_multiplies() -> None:
    p = Params(op="conv1d", in_h=1, in_w=9, k_h=1, k_w=3, stride=(1, 2), padding=(0, 0, 1, 1),
               mode="backward", upstream="random")
    lesson = Lesson(p)
    grads = lesson.run.final()
    assert grads is not None
    for j in range(3):
        h = interaction.hover(lesson, "kernel", 0, j, 0)
        assert h.receptive is not None
        want = {(int(s.window.rows[0]), int(s.window.cols[j])) for s in lesson.trace}
        assert set(h.receptive.cells) == want
        assert h.line.endswith(f" = {describe.fmt(float(grads.grad_w[0, 0, 0, j]))}")
