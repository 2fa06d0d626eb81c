"""The Lesson on its own (no Qt): step position across changes, refused changes, the frame."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from gui.models.choices import OP_LABELS
from gui.models.lesson import Lesson
from gui.models.params import Params
from tests.noqt import NO_QT as QT_ABSENT


class Events:
    """Everything a lesson emits, in order: ("changed",), ("step", k), ("error", message)."""

    def __init__(self, m: Lesson) -> None:
        self.seen: list[tuple[object, ...]] = []
        m.changed.connect(lambda: self.seen.append(("changed",)))
        m.step_changed.connect(lambda k: self.seen.append(("step", k)))
        m.error.connect(lambda e: self.seen.append(("error", e)))

    def take(self) -> list[tuple[object, ...]]:
        out, self.seen = self.seen, []
        return out

def test_the_core_runs_with_qt_absent() -> None:
    """The engine and every module of gui.models import, and a lesson works, where Qt cannot be imported."""
    import pkgutil
    import subprocess
    import sys

    import gui.models

    names = sorted(f"gui.models.{m.name}" for m in pkgutil.iter_modules(gui.models.__path__))
    code = QT_ABSENT + (
        "import importlib, engine\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "from gui.models.lesson import Lesson\n"
        "m = Lesson(); assert m.set_params(mode='both', bias=True); m.set_step(30)\n"
        "f = m.frame(); assert f.caption\n"
        "print('ok', len(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok")
    assert len(names) >= 8  # choices, clock, frame, interaction, lesson, params, pipeline, pytorch, ...


def snapshot(m: Lesson) -> tuple:
    return (m.params, m.trace, m.step, m.x.copy(), m.w.copy(), m.bias_values)


def assert_same_state(m: Lesson, before: tuple) -> None:
    params, trace, step, x, w, b = before
    assert m.params == params
    assert m.trace is trace
    assert m.step == step
    np.testing.assert_array_equal(m.x, x)
    np.testing.assert_array_equal(m.w, w)
    np.testing.assert_array_equal(m.bias_values, b)


def test_default_model_matches_the_engine() -> None:
    m = Lesson()
    p = m.params
    assert p == Params()
    expected = engine.conv2d(np.array(m.x), np.array(m.w), stride=1, padding=1)
    np.testing.assert_allclose(m.trace.output, expected)
    assert m.n_steps == expected[0].size == 25
    assert m.step == 0


def test_param_change_keeps_the_step_where_it_still_exists() -> None:
    m = Lesson()
    ev = Events(m)
    m.set_step(7)
    assert ev.take() == [("step", 7)]
    # Max pooling over the same geometry: same number of steps, so step 7 stays.
    assert m.set_params(op="max") is True
    assert ev.take() == [("changed",)]
    assert m.n_steps == 25
    assert m.step == 7
    assert m.frame().step_index == 7
    assert m.frame().step.out_row == 1 and m.frame().step.out_col == 2


def test_param_change_clamps_a_step_that_no_longer_exists() -> None:
    m = Lesson()
    m.set_step(20)
    ev = Events(m)
    assert m.set_params(stride=(2, 2)) is True
    assert m.n_steps == 9
    assert m.step == 8
    assert ev.take() == [("changed",), ("step", 8)]
    # Back to stride 1: step 8 exists again and is kept.
    m.set_params(stride=(1, 1))
    assert ev.take() == [("changed",)]
    assert (m.n_steps, m.step) == (25, 8)


def test_set_step_clamps_to_the_trace() -> None:
    m = Lesson()
    m.set_step(10_000)
    assert m.step == m.n_steps - 1
    m.set_step(-5)
    assert m.step == 0
    ev = Events(m)
    m.set_step(0)
    assert ev.take() == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"k_h": 9, "k_w": 9}, "larger than"),
        ({"pad_kind": "valid", "k_h": 7, "k_w": 7}, "larger than"),
        ({"pad_kind": "same", "stride": (2, 2)}, "needs stride 1"),
        ({"op": "max", "padding": (3, 3, 3, 3)}, "padding"),
    ],
)
def test_refused_change_reports_the_engine_words_and_keeps_the_state(changes, words) -> None:
    m = Lesson()
    m.set_step(4)
    before = snapshot(m)
    ev = Events(m)
    assert m.set_params(**changes) is False
    seen = ev.take()
    assert [e[0] for e in seen] == ["error"]  # nothing changed, nothing moved
    message = seen[0][1]
    assert words in message
    assert m.last_error == message
    assert_same_state(m, before)
    # The engine says the same thing in the same words.
    p = Params(**changes)
    x, w = np.array(m.x), np.ones((1, 1, p.k_h, p.k_w))
    with pytest.raises(ValueError) as info:
        if p.is_conv:
            engine.trace_conv2d(x, w, stride=p.stride, padding=p.engine_padding(), dilation=p.dilation)
        else:
            engine.trace_pool2d(x, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=p.engine_padding(),
                                dilation=p.dilation)
    assert str(info.value) == message


def test_valid_change_after_a_refusal_clears_the_error() -> None:
    m = Lesson()
    m.set_params(k_h=9, k_w=9)
    assert m.last_error
    ev = Events(m)
    assert m.set_params(k_h=5, k_w=5) is True
    assert ("error", "") in ev.take()
    assert m.last_error == ""
    assert m.trace.out_shape[1:] == (3, 3)


def test_editing_values_rebuilds_the_trace() -> None:
    m = Lesson()
    ev = Events(m)
    assert m.set_input_value(0, 2, 2, 100.0)
    assert ev.take() == [("changed",)]
    assert m.x[0, 2, 2] == 100.0
    np.testing.assert_allclose(m.trace.output, engine.conv2d(np.array(m.x), np.array(m.w), padding=1))
    assert m.set_kernel_value(0, 0, 1, 1, -3.0)
    assert ev.take() == [("changed",)]
    np.testing.assert_allclose(m.trace.output, engine.conv2d(np.array(m.x), np.array(m.w), padding=1))


def test_values_are_read_only_views() -> None:
    m = Lesson()
    with pytest.raises(ValueError):
        m.x[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        m.w[0, 0, 0, 0] = 1.0


@pytest.mark.parametrize(("op", "marker"), [("conv", "\u00b7"), ("max", "max("), ("min", "min("),
                                            ("avg", "/ ")])
def test_frame_arithmetic_names_the_operation(op, marker) -> None:
    m = Lesson(Params(op=op))
    assert marker in m.frame().arithmetic
    # The caption painted above the stage names the operation first.
    assert m.frame().caption.startswith(f"{OP_LABELS[op]} — Step 1 of 25")


@settings(max_examples=60, deadline=None)
@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    start=st.integers(0, 200),
)
def test_any_conv_geometry_is_applied_or_refused_whole(size, kernel, stride, dilation, pad, start) -> None:
    m = Lesson()
    m.set_step(start)
    before = snapshot(m)
    errors: list[str] = []
    m.error.connect(errors.append)
    try:
        expected = tuple(
            engine.output_size(n, k, s, p, d)
            for n, k, s, p, d in zip(size, kernel, stride, pad, dilation, strict=True)
        )
    except ValueError:
        expected = None
    ok = m.set_params(in_h=size[0], in_w=size[1], k_h=kernel[0], k_w=kernel[1], stride=stride,
                      dilation=dilation, padding=(pad[0], pad[0], pad[1], pad[1]))
    if expected is None:
        assert ok is False
        assert errors and errors[-1]
        assert_same_state(m, before)
    else:
        assert ok is True
        assert m.trace.out_shape[1:] == expected
        assert m.n_steps == expected[0] * expected[1]
        assert m.step == min(before[2], m.n_steps - 1)
        assert m.x.shape == (1, *size)


def test_refused_change_keeps_the_loss_target() -> None:
    m = Lesson(Params(mode="backward", upstream="loss"))
    target = m.target
    assert target is not None
    assert m.set_params(seed=5, k_h=9, k_w=9) is False
    assert m.last_error
    assert m.params.seed == 0
    assert m.target is not None
    np.testing.assert_array_equal(m.target, target)


def test_error_from_an_unknown_setting_is_cleared_by_the_next_valid_change() -> None:
    m = Lesson()
    messages: list[str] = []
    m.error.connect(messages.append)
    assert m.set_params(no_such_setting=1) is False
    assert messages and messages[-1]
    assert m.set_params(stride=(2, 2)) is True
    assert messages[-1] == ""


def test_a_change_plans_its_steps_once_and_builds_one_frame(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: new values are planned once (before they are drawn), not again when applied; the change
    emits ``changed`` once, and the picture asked for after it is built once."""
    from gui.models import framing, validate

    m = Lesson(Params(in_h=32, in_w=32))
    plans: list[Params] = []
    real_plan = validate.plan
    monkeypatch.setattr(validate, "plan", lambda p: plans.append(p) or real_plan(p))
    built: list[int] = []
    real_build = framing.build_frame
    monkeypatch.setattr(framing, "build_frame", lambda *a, **k: built.append(1) or real_build(*a, **k))
    changes: list[int] = []
    m.changed.connect(lambda: changes.append(1))
    before = m.frame().panel("output").grids[0].values.copy()
    built.clear()
    assert m.set_params(seed=5)
    assert len(plans) == 1 and plans[0] == m.params and changes == [1]
    for _ in range(3):
        m.frame()
    assert built == [1]
    assert not np.array_equal(m.frame().panel("output").grids[0].values, before)
    small = Lesson(Params(in_h=5, in_w=5, pad_kind="valid"))
    assert not small.set_params(k_h=7, k_w=7)  # refused by its plan, as before
    assert small.params.k_h == 3 and small.last_error
