"""A 1-D convolution's panel titles in every phase, read from its frames: in 1-D words (never the
height-1 problem's "2×1×11" or "1×3"), the signal called as forward calls it, the gradients named as
the 2-D backward frames name them."""

from __future__ import annotations

import re

import pytest

from gui.models import scenario
from gui.models.frame import Frame
from gui.models.lesson import Lesson
from gui.models.params import Params

#: The 2-D words of the height-1 problem: "Input 2×1×11", "Kernel W[1] of 2 1×3".
HEIGHT_ONE = re.compile(r"×1×|\b1×\d|^Input ")


def titles(f: Frame) -> dict[str, str]:
    return {p.name: p.title for p in f.panels}


def lesson(**changes: object) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv1d-stride2")), m.last_error
    assert m.set_params(**changes), m.last_error
    return m


@pytest.mark.parametrize("changes", [dict(mode="both", activation="relu"), dict(mode="both"),
                                     dict(mode="both", grad_view="gather"), dict(mode="backward")])
def test_no_1d_title_speaks_of_the_height_1_problem(changes: dict[str, object]) -> None:
    m = lesson(**changes)
    phases = set()
    for k in range(m.n_steps):
        f = m.frame(k)
        phases.add(f.phase)
        for name, title in titles(f).items():
            assert not HEIGHT_ONE.search(title), (f.phase, name, title)
    assert "forward" in phases or changes["mode"] == "backward"


def test_1d_backward_names_the_signal_and_the_gradients_as_2d_does() -> None:
    m = lesson(mode="both", activation="relu")
    act = next(m.frame(k) for k in range(m.n_steps) if m.frame(k).phase == "activation")
    assert titles(act) == {"input": "Signal X: 2 channels × length 11, padded 1",
                           "kernel": "Kernel W[1] of 2: 2 channels × length 3", "output": "Output after relu"}
    back = lesson(mode="backward").frame(3)
    flat = Lesson(Params(mode="backward")).frame(3)
    assert titles(back) == {**titles(flat), "input": "Signal X"}
    assert [titles(back)[n] for n in ("dx", "dw", "dy")] == ["dL/dX", "dL/dW", "dL/dY (ones)"]
    gather = lesson(mode="backward", grad_view="gather").frame(0)
    assert titles(gather)["output"] == "dL/dX (padded signal)"
