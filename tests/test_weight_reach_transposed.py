"""Hovering a transposed convolution's kernel weight lights its reach: in the gather picture the
spread input cells it multiplies, whose real ones are exactly the input cells a naive loop over the
transposed convolution's definition finds for that weight; in the scatter picture those input cells."""

from __future__ import annotations

import itertools

import pytest

from gui.models import interaction
from gui.models.lesson import Lesson
from gui.models.params import Params

CASES = [
    dict(in_h=2, in_w=2, stride=(2, 2), padding=(0, 0, 0, 0)),
    dict(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1)),
    dict(in_h=3, in_w=4, stride=(2, 1), padding=(1, 1, 0, 0), dilation=(2, 1)),
    dict(in_c=2, out_c=2, in_h=3, in_w=3, stride=(1, 2), padding=(0, 0, 1, 1)),
]


def _naive_reach(p: Params, out_hw: tuple[int, int], ci: int, kp: int, kq: int) -> set[tuple[int, int, int]]:
    """Input cells ``(ci, ih, iw)`` weight ``W[ci, :, kp, kq]`` (as entered) multiplies: the ones whose
    product lands inside the output, ``oh = ih·s − pad + kp·d`` (PyTorch's ConvTranspose2d)."""
    (sh, sw), (dh, dw) = p.stride, p.dilation
    found = set()
    for ih, iw in itertools.product(range(p.in_h), range(p.in_w)):
        oh, ow = ih * sh - p.padding[0] + kp * dh, iw * sw - p.padding[2] + kq * dw
        if 0 <= oh < out_hw[0] and 0 <= ow < out_hw[1]:
            found.add((ci, ih, iw))
    return found


@pytest.mark.parametrize("kw", CASES, ids=range(len(CASES)))
def test_a_transposed_kernel_weight_lights_the_cells_it_multiplies(kw: dict) -> None:  # type: ignore[type-arg]
    m = Lesson(Params(op="conv_transpose", **kw))  # type: ignore[arg-type]
    p = m.params
    out_hw = m.frame(0).output_full.shape[-2:]
    tried = 0
    for ch, i, j in itertools.product(range(p.out_c * p.group_in), range(p.k_h), range(p.k_w)):
        h = interaction.hover(m, "kernel", i, j, ch)
        assert h.receptive is not None and h.receptive.panel == "input", (ch, i, j)
        o, c = divmod(ch, p.group_in)
        channel = (o // (p.out_c // p.groups)) * p.group_in + c
        real = {(channel, *rc) for r, col in h.receptive.cells
                if (rc := interaction._spread_source(m, r, col)) is not None}
        kp, kq = interaction.given_tap(m, i, j)  # the gather picture shows the kernel flipped
        assert real == _naive_reach(p, out_hw, channel, kp, kq), (ch, i, j)
        assert f"W[{o}, {c}, {kp}, {kq}]" in h.status  # as entered, as the kernel's title names it
        tried += 1
    assert tried == p.out_c * p.group_in * p.k_h * p.k_w


@pytest.mark.parametrize("kw", CASES, ids=range(len(CASES)))
def test_in_the_scatter_picture_a_weight_lights_the_input_cells_it_multiplies(kw: dict) -> None:  # type: ignore[type-arg]
    m = Lesson(Params(op="conv_transpose", transpose_view="scatter", **kw))  # type: ignore[arg-type]
    assert interaction.scatter_shown(m)
    p = m.params
    out_hw = m.frame(0).output_full.shape[-2:]
    for ch, i, j in itertools.product(range(p.out_c * p.group_in), range(p.k_h), range(p.k_w)):
        h = interaction.hover(m, "kernel", i, j, ch)
        assert h.receptive is not None and h.receptive.panel == "input", (ch, i, j)
        o, c = divmod(ch, p.group_in)
        channel = (o // (p.out_c // p.groups)) * p.group_in + c
        assert interaction.given_tap(m, i, j) == (i, j)  # as entered: not flipped
        assert {(channel, *rc) for rc in h.receptive.cells} == _naive_reach(p, out_hw, channel, i, j)
        assert h.receptive.grids == ((channel,) if p.in_c > 1 else ())
        assert f"W[{o}, {c}, {i}, {j}]" in h.status
