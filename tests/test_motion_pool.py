"""Pooling steps have motion: each value under the window travels from its own cell into the line
("max(…)" or the average), then the result into the output cell; checked against the numbers."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import describe
from gui.models.lesson import Lesson
from gui.models.params import Params

CASES = [
    Params(op="max", padding=(0, 0, 0, 0)),
    Params(op="max", padding=(1, 1, 1, 1), stride=(2, 2), integers=False, seed=4),
    Params(op="min", dilation=(2, 2), in_h=7, in_w=7),
    Params(op="avg", padding=(1, 1, 1, 1), count_include_pad=False, seed=2),
    Params(op="avg", padding=(1, 1, 1, 1), stride=(2, 2), ceil_mode=True, in_h=6, in_w=6),
    Params(op="avg", integers=False, in_c=2, seed=7),
]


def _number(text: str) -> float:
    """A term of the line read back as a number ("[4]", "(−1.5)", "−∞")."""
    t = text.strip("[]()").replace("−", "-").replace("∞", "inf")
    return float(t)


@pytest.mark.parametrize("p", CASES, ids=range(len(CASES)))
def test_every_pooled_value_travels_from_its_cell_and_the_result_into_the_output(p: Params) -> None:
    lesson = Lesson(p)
    assert lesson.n_forward > 1
    for k in range(lesson.n_forward):
        f = lesson.frame(k)
        step = f.step
        assert isinstance(step, engine.PoolStep) and f.motion is not None, k
        *values, result = f.motion.travels
        assert all(t.kind == "value" for t in values) and result.kind == "sum"
        assert [t.slot for t in values] == list(range(len(values)))
        assert f.motion.hidden_from == values[0].start
        nums = []
        for t in values:
            assert f.arithmetic[t.start:t.end] == t.text
            assert (t.panel, t.grid) == ("input", step.channel)
            # The cell it leaves holds the number it carries (padding: −∞/+∞ or 0).
            assert describe.fmt(float(f.x_padded[step.channel, t.cell[0], t.cell[1]])) == t.text.strip("[]()")
            nums.append(_number(t.text))
        starts = [t.start for t in values]
        assert starts == sorted(starts)
        # The travelled values alone give the result, computed naively.
        naive = {"max": max, "min": min}.get(step.op)
        want = naive(nums) if naive else sum(nums) / step.divisor
        assert float(step.result) == pytest.approx(want)
        out = (step.out_row, step.out_col)
        assert (result.panel, result.grid, result.cell) == ("output", step.channel, out)
        assert f.arithmetic[result.start:result.end] == result.text == describe.fmt(step.result)
        assert float(f.output[step.channel, step.out_row, step.out_col]) == pytest.approx(step.result)
        if step.chosen is not None:  # the winner travels in its brackets
            assert sum(t.text.startswith("[") for t in values) == 1


def test_a_pooling_window_over_the_overhang_sends_no_value_from_outside() -> None:
    lesson = Lesson(Params(op="max", stride=(2, 2), ceil_mode=True, padding=(0, 0, 0, 0), in_h=6, in_w=6))
    f = lesson.frame(lesson.n_forward - 1)
    assert f.motion is not None
    kinds = np.asarray(f.kinds)
    for t in f.motion.travels[:-1]:
        r, c = t.cell
        assert 0 <= r < kinds.shape[0] and 0 <= c < kinds.shape[1] and kinds[r, c] != 2
