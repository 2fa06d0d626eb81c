"""The core's own API (no Qt): every public call checks its arguments first, in the same words files use.

A refused call leaves the lesson as it was, returns False and emits ``error``
with a plain message; sizes and step counts are checked before anything is
allocated, so an absurd request is refused at once.
"""

from __future__ import annotations

import math
import re
import time
import tracemalloc
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.models import validate
from gui.models.choices import BOUNDS, MAX_STEPS, SETTING_CHOICES, VALUE_LIMIT
from gui.models.lesson import Lesson
from gui.models.params import Params


class Events:
    """What a lesson emits, in order."""

    def __init__(self, m: Lesson) -> None:
        self.seen: list[tuple[object, ...]] = []
        m.changed.connect(lambda: self.seen.append(("changed",)))
        m.step_changed.connect(lambda k: self.seen.append(("step", k)))
        m.error.connect(lambda e: self.seen.append(("error", e)))

    def take(self) -> list[tuple[object, ...]]:
        out, self.seen = self.seen, []
        return out


def state(m: Lesson) -> tuple:
    """Everything a lesson holds that a user can see or get back."""
    return (m.params, m.step, m.n_steps, m.x.tobytes(), m.w.tobytes(), m.bias_values.tobytes(),
            None if m.target is None else m.target.tobytes(),
            None if m.typed_upstream is None else m.typed_upstream.tobytes(),
            None if m.run.dy is None else np.asarray(m.run.dy).tobytes())


def assert_refused(m: Lesson, call, *words: str) -> str:  # type: ignore[no-untyped-def]
    """``call(m)`` returns False, emits one plain error (and nothing else), and changes nothing."""
    before = state(m)
    ev = Events(m)
    assert call(m) is False
    seen = ev.take()
    assert len(seen) == 1 and seen[0][0] == "error", seen
    message = str(seen[0][1])
    assert message and message == m.last_error
    assert "\n" not in message and "Traceback" not in message
    for w in words:
        assert w in message, message
    assert state(m) == before
    return message


# --------------------------------------------------------------------------- settings
WRONG_SETTINGS = [
    ({"k_h": math.inf}, "kernel height must be a whole number"),
    ({"k_h": 3.0}, "whole number"),
    ({"seed": "abc"}, "the seed must be a whole number"),
    ({"seed": -1}, "between 0 and"),
    ({"in_h": 10**7}, "input height must be between 1 and 512, got 10000000"),
    ({"in_w": 0}, "between 1 and 512"),
    ({"in_c": np.True_}, "whole number"),
    ({"out_c": None}, "whole number"),
    ({"stride": (10**30, 1)}, "stride must hold whole numbers from 1 to 16"),
    ({"stride": 2}, "list of 2 whole numbers"),
    ({"dilation": (1, 1, 1)}, "list of 2"),
    ({"padding": (5000,) * 4}, "padding must hold whole numbers from 0 to 16"),
    ({"padding": (1, 1, 1, -1)}, "from 0 to 16"),
    ({"pad_kind": "bogus"}, "the padding kind must be one of symmetric"),
    ({"op": None}, "must be text"),
    ({"bias": math.nan}, "bias must be true or false, got nan"),
    ({"bias": 1}, "true or false"),
    ({"granularity": None}, "must be text"),
    ({"no_such_setting": 1}, "'no_such_setting' is not a setting convviz knows"),
    ({"seed": 10**5000}, "a number with thousands of digits"),
    ({"title": "x" * 10_000}, "is not a setting"),
]


@pytest.mark.parametrize(("changes", "words"), WRONG_SETTINGS,
                         ids=[validate.show(c, 30) for c, _ in WRONG_SETTINGS])
def test_a_wrong_setting_is_refused_in_words_and_changes_nothing(changes, words) -> None:
    m = Lesson()
    m.set_step(4)
    message = assert_refused(m, lambda m: m.set_params(**changes), words)
    assert len(message) < 200


def test_numpy_scalars_are_taken_as_plain_values_a_file_can_hold() -> None:
    m = Lesson()
    assert m.set_params(in_h=np.int64(6), stride=[np.int32(2), 1], bias=np.True_, op=np.str_("max"),
                        padding=np.array([1, 1, 0, 0]).tolist())
    p = m.params
    assert (p.in_h, p.stride, p.bias, p.op, p.padding) == (6, (2, 1), True, "max", (1, 1, 0, 0))
    assert type(p.in_h) is int and type(p.stride[0]) is int and type(p.bias) is bool and type(p.op) is str


def test_a_params_value_given_whole_is_checked_like_single_settings() -> None:
    m = Lesson()
    assert_refused(m, lambda m: m.load(Params(in_h=10**7)), "input height must be between 1 and 512")
    assert_refused(m, lambda m: m.load(Params(pad_kind="bogus")), "padding kind")  # type: ignore[arg-type]
    assert_refused(m, lambda m: m.load("conv"), "must be a Params value")  # type: ignore[arg-type]
    assert_refused(m, lambda m: m.load(Params(), step="3"), "step must be a whole number")
    with pytest.raises(ValueError, match="input channels must be between 1 and 16"):
        Lesson(Params(in_c=17))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"in_h": 512, "in_w": 512, "in_c": 16, "out_c": 16, "k_h": 15, "k_w": 15, "granularity": "tap",
          "padding": (7, 7, 7, 7)}, "more than a timeline can hold"),
        ({"in_h": 10**7}, "between 1 and 512"),
        ({"padding": (5000,) * 4}, "from 0 to 16"),
        ({"stride": (10**30, 1)}, "from 1 to 16"),
    ],
    ids=["14-billion-steps", "in_h-1e7", "padding-5000", "stride-1e30"],
)
def test_huge_requests_are_refused_at_once_without_allocating(changes, words) -> None:
    m = Lesson()
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        ok = m.set_params(**changes)
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not ok and words in m.last_error
    assert m.params == Params()
    assert elapsed < 0.05, f"{elapsed * 1e3:.1f} ms"  # was 2.4 s (in_h) and 11.7 s (the steps)
    assert peak < 1_000_000, f"{peak:,} bytes"  # was 760 MB (in_h) and 3.2 GB (padding)


def test_the_step_count_is_refused_before_any_trace_is_built(monkeypatch) -> None:
    m = Lesson()

    def no_building(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a trace was built")

    monkeypatch.setattr(Lesson, "_build", no_building)
    monkeypatch.setattr(Lesson, "_new_input", no_building)
    assert not m.set_params(in_h=512, in_w=512, in_c=16, out_c=16, k_h=15, k_w=15, granularity="tap")
    assert "that makes 14,400,000,000 steps, more than a timeline can hold" in m.last_error  # issue 10 #11


# --------------------------------------------------------------------------- values and cells
def test_a_cell_outside_the_grid_is_refused_in_words() -> None:
    m = Lesson()  # one channel, 5×5
    assert_refused(m, lambda m: m.set_input_value(1, 0, 0, 2.0), "the input has no cell (1, 0, 0)",
                   "1 × 5 × 5")
    assert_refused(m, lambda m: m.set_input_value(0, -1, 0, 2.0), "no cell (0, -1, 0)")  # no wrapping
    assert_refused(m, lambda m: m.set_input_value(0, 0, 2.5, 2.0), "3 whole numbers")
    assert_refused(m, lambda m: m.set_input_value(0, np.True_, 0, 2.0), "whole numbers")
    assert_refused(m, lambda m: m.set_kernel_value(0, 0, 3, 0, 1.0), "the kernel has no cell")
    assert_refused(m, lambda m: m.set_bias_value(1, 1.0), "bias has no cell (1,)")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "2", None, True, np.False_, 10**400,
                                   VALUE_LIMIT * 1.5, [1.0]])
def test_a_typed_value_must_be_a_finite_number_in_range(value) -> None:
    m = Lesson(Params(mode="backward", upstream="loss"))
    for call in (lambda m: m.set_input_value(0, 0, 0, value), lambda m: m.set_kernel_value(0, 0, 0, 0, value),
                 lambda m: m.set_bias_value(0, value), lambda m: m.set_upstream_value(0, 0, 0, value),
                 lambda m: m.set_target_value(0, 0, 0, value)):
        assert_refused(m, call, "the value must be a number from -1,000,000 to 1,000,000")


def test_numbers_of_any_numpy_type_are_typed_values() -> None:
    m = Lesson()
    assert m.set_input_value(np.int64(0), np.int32(1), 2, np.float32(0.5))
    assert m.set_input_value(0, 1, 3, np.int16(-4))
    assert m.x[0, 1, 2] == 0.5 and m.x[0, 1, 3] == -4.0


def test_gradients_that_do_not_exist_are_refused_in_words_not_silently() -> None:
    m = Lesson()  # forward only: no dL/dY, no target
    assert_refused(m, lambda m: m.set_upstream_value(0, 0, 0, 1.0), "dL/dY exists in the backward pass only")
    assert_refused(m, lambda m: m.set_target_value(0, 0, 0, 1.0), "the loss target exists when")
    assert m.set_params(mode="backward", upstream="loss")
    assert_refused(m, lambda m: m.set_target_value(0, 9, 0, 1.0), "the loss target has no cell (0, 9, 0)")
    assert m.set_target_value(0, 4, 4, 3.0) and m.target[0, 4, 4] == 3.0
    assert m.set_params(upstream="ones")  # the target is kept for later, but not edited meanwhile
    assert_refused(m, lambda m: m.set_target_value(0, 0, 0, 1.0), "the loss target exists when")


def test_values_given_whole_are_checked_like_typed_ones() -> None:
    m = Lesson()
    assert_refused(m, lambda m: m.load(Params(), x=np.zeros((1, 5, 4))), "the input has shape (1, 5, 4)")
    assert_refused(m, lambda m: m.load(Params(), x=np.full((1, 5, 5), np.nan)), "not a finite number")
    assert_refused(m, lambda m: m.load(Params(), w=[[[["a"] * 3] * 3]]),
                   "the kernel must be a grid of numbers")
    assert_refused(m, lambda m: m.load(Params(), bias=np.array([True])), "grid of numbers")
    assert_refused(m, lambda m: m.load(Params(), x=np.full((1, 5, 5), 2e6)), "at most 1,000,000")
    assert_refused(m, lambda m: m.load(Params(mode="backward"), target=np.ones((1, 2, 2))),
                   "the loss target has shape (1, 2, 2) but the settings need (1, 5, 5)")
    assert_refused(m, lambda m: m.use_picture(np.zeros((1, 600, 5))), "picture", "between 1 and 512, got 600")
    assert_refused(m, lambda m: m.use_picture(np.zeros((5, 5))), "picture", "3 axes")
    assert_refused(m, lambda m: m.use_picture("digit.png"), "picture", "grid of numbers")


def test_steps_and_frames_take_whole_numbers_only() -> None:
    m = Lesson()
    for k in ("abc", None, 2.5, math.inf, np.True_):
        assert_refused(m, lambda m, k=k: m.set_step(k), "the step must be a whole number")
    assert m.set_step(10**30) is True and m.step == m.n_steps - 1  # clamped, as a slider is
    assert m.set_step(-(10**30)) is True and m.step == 0
    for bad in ("abc", math.nan, 1.5):
        with pytest.raises(ValueError, match="step must be a whole number"):
            m.frame(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expanded must be true or false"):
        m.frame(expanded="yes")  # type: ignore[arg-type]
    assert m.frame(10**30).step_index == m.n_steps - 1


def test_a_gradient_check_of_a_cell_that_is_not_there_says_so() -> None:
    m = Lesson(Params(mode="backward"))
    before = state(m)
    for wrt, index, words in (("x", (0, 5, 0), "the input has no cell (0, 5, 0)"),
                              ("w", (0, 0, 0), "4 whole numbers"),
                              ("y", (0, 0, 0), "an input cell ('x') or a weight ('w')"),
                              (["x"], (0, 0, 0), "an input cell"),
                              ("x", (0, -1, 0), "no cell (0, -1, 0)")):
        with pytest.raises(ValueError, match=re.escape(words)):
            m.check_gradient(wrt, index)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            m.one_sided_slopes(wrt, index)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ε"):
        m.check_gradient("x", (0, 0, 0), eps=math.nan)
    assert state(m) == before


def test_new_values_after_the_last_seed_start_again_from_the_first() -> None:
    m = Lesson(Params(seed=BOUNDS["seed"][1]))
    assert m.new_values() and m.params.seed == 0


# --------------------------------------------------------------------------- one table of choices
def test_every_setting_is_checked_from_the_table_of_choices_and_bounds() -> None:
    for f in fields(Params):
        default = getattr(Params(), f.name)
        if isinstance(default, bool):
            continue
        if isinstance(default, str):
            assert f.name in SETTING_CHOICES, f.name
            assert default in SETTING_CHOICES[f.name]
        else:
            assert f.name in BOUNDS, f.name


@settings(max_examples=150, deadline=None)
@given(
    op=st.sampled_from(["conv", "max", "min", "avg"]), size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), pad=st.tuples(*[st.integers(0, 2)] * 4),
    kind=st.sampled_from(SETTING_CHOICES["pad_kind"]), mode=st.sampled_from(SETTING_CHOICES["mode"]),
    granularity=st.sampled_from(["window", "tap"]), view=st.sampled_from(["scatter", "gather"]),
    activation=st.sampled_from(SETTING_CHOICES["activation"]), ceil=st.booleans(),
    channels=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_the_plan_counts_exactly_the_steps_and_shape_the_lesson_builds(
        op, size, kernel, stride, dilation, pad, kind, mode, granularity, view, activation, ceil,
        channels) -> None:
    p = Params(op=op, in_h=size[0], in_w=size[1], k_h=kernel[0], k_w=kernel[1], stride=stride,
               dilation=dilation, pad_kind=kind, padding=pad, mode=mode, granularity=granularity,
               grad_view=view, activation=activation, ceil_mode=ceil, in_c=channels[0], out_c=channels[1])
    m = Lesson()
    try:
        plan = validate.plan(p)
    except validate.InvalidError as exc:
        assert_refused(m, lambda m: m.load(p), str(exc))
        return
    assert m.load(p), m.last_error
    assert (plan.n_forward, plan.n_steps) == (m.n_forward, m.n_steps)
    assert plan.out_shape == tuple(m.trace.out_shape)
    assert plan.n_steps <= MAX_STEPS
