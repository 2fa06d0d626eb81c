"""Random sequences of every public call of the core, with right and wrong arguments (no Qt).

Each step calls one method of a ``Lesson`` with arguments drawn from the
valid ranges, from another setting's range, or from a bag of wrong things
(inf, nan, text, None, huge and negative numbers, NumPy booleans, lists). After
every call:

* nothing escapes: a change is accepted (True) or refused (False), never raised;
* a refusal emits exactly one ``error`` with a plain message and changes nothing;
* an acceptance leaves a state that saves and opens again identically;
* a query (``frame``, the gradient check) changes nothing and raises, if at
  all, a ``ValueError`` in plain words.

``OUTCOMES`` counts what happened, per call, for a longer run by hand:
``CONVVIZ_FUZZ_EXAMPLES=10000 pytest tests/test_core_fuzz.py``.
"""

from __future__ import annotations

import collections
import math
import os
from dataclasses import fields

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gui.models import scenario, validate
from gui.models.choices import BOUNDS, SETTING_CHOICES
from gui.models.lesson import Lesson
from gui.models.params import Params

OUTCOMES: collections.Counter[tuple[str, str]] = collections.Counter()

WILD = st.sampled_from([
    math.inf, -math.inf, math.nan, "abc", "", None, 10**30, -(10**30), 2**63, 10**400, np.True_, np.False_,
    True, False, -1, 0, 3.5, 1e300, -1e-300, [1, 2], (1,), (), np.int64(3), np.float64(2.0), b"x", {"a": 1},
    np.array([1, 2]), "conv", "zeros", (2, 2), (1, 1, 1, 1),
])


def pair(hi: int, lo: int = 1) -> st.SearchStrategy[tuple[int, int]]:
    side = st.integers(lo, 3) | st.just(hi)
    return st.tuples(side, side)


#: Values each setting takes, kept cheap to build (the largest shapes are tested in test_files.py).
VALID: dict[str, st.SearchStrategy[object]] = {
    "in_h": st.integers(1, 9) | st.just(BOUNDS["in_h"][1]),
    "in_w": st.integers(1, 9) | st.just(BOUNDS["in_w"][1]),
    "in_c": st.integers(1, 3), "out_c": st.integers(1, 3),
    "k_h": st.integers(1, 4) | st.just(BOUNDS["k_h"][1]),
    "k_w": st.integers(1, 4) | st.just(BOUNDS["k_w"][1]),
    "stride": pair(BOUNDS["stride"][1]), "dilation": pair(BOUNDS["dilation"][1]),
    "padding": st.tuples(*[st.integers(0, 2) | st.just(BOUNDS["padding"][1])] * 4),
    "seed": st.integers(0, 5) | st.just(BOUNDS["seed"][1]),
    "output_padding": pair(BOUNDS["output_padding"][1], 0), "groups": st.integers(1, 3),
    **{name: st.sampled_from(choices) for name, choices in SETTING_CHOICES.items()},
    **{f.name: st.booleans() for f in fields(Params) if isinstance(f.default, bool)},
}
NAMES = sorted(VALID)
assert set(NAMES) == {f.name for f in fields(Params)}


@st.composite
def setting_value(draw: st.DrawFn, name: str) -> object:
    """A value for ``name``: its own range mostly, another setting's, or something wrong."""
    kind = draw(st.integers(0, 9))
    if kind < 6:
        return draw(VALID[name])
    if kind < 8:
        return draw(WILD)
    return draw(VALID[draw(st.sampled_from(NAMES))])


@st.composite
def changes(draw: st.DrawFn) -> dict[str, object]:
    names = draw(st.lists(st.sampled_from([*NAMES, "bogus"]), min_size=1, max_size=3, unique=True))
    return {n: draw(setting_value(n if n != "bogus" else "seed")) for n in names}


SMALL = st.integers(0, 2)
INDEX = st.one_of(SMALL, SMALL, SMALL, st.integers(-2, 9), WILD)  # mostly inside small grids
NUMBER = st.one_of(st.floats(-1e6, 1e6), st.integers(-5, 5), st.floats(-2e6, 2e6), st.floats(), WILD)


@st.composite
def grid(draw: st.DrawFn) -> object:
    """An array of a small shape (often the right one, by chance), or something wrong."""
    if draw(st.integers(0, 4)) == 0:
        return draw(WILD)
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=4)))
    return draw(st.sampled_from([np.ones, np.zeros]))(shape) * draw(st.floats(-10, 10) | st.just(math.nan))


def state(m: Lesson) -> tuple[object, ...]:
    return (m.params, m.step, m.n_steps, m.x.tobytes(), m.w.tobytes(), m.bias_values.tobytes(),
            None if m.target is None else m.target.tobytes(),
            None if m.typed_upstream is None else m.typed_upstream.tobytes(),
            None if m.run.dy is None else np.asarray(m.run.dy).tobytes())


def fitting(m: Lesson, a: np.ndarray | None) -> bytes | None:
    """``a`` as the lesson uses it: an array that no longer fits the output is as good as none."""
    return None if a is None or a.shape != tuple(m.trace.out_shape) else a.tobytes()


def saved_state(m: Lesson) -> tuple[object, ...]:
    s = state(m)
    return (*s[:6], fitting(m, m.target), fitting(m, m.typed_upstream), s[8])


class LessonCalls(RuleBasedStateMachine):
    """A lesson and the calls a user, a widget or a script could make on it."""

    def __init__(self) -> None:
        super().__init__()
        self.m = Lesson()
        self.events: list[tuple[object, ...]] = []
        self.m.changed.connect(lambda: self.events.append(("changed",)))
        self.m.step_changed.connect(lambda k: self.events.append(("step", k)))
        self.m.error.connect(lambda e: self.events.append(("error", e)))

    def change(self, name: str, call) -> None:  # type: ignore[no-untyped-def]
        m = self.m
        before = state(m)
        self.events.clear()
        result = call()
        assert result is True or result is False, f"{name} returned {result!r}"
        if result is False:
            OUTCOMES[name, "refused"] += 1
            assert self.events == [("error", m.last_error)], self.events
            assert m.last_error and "\n" not in m.last_error and len(m.last_error) < 400, m.last_error
            assert state(m) == before, f"{name} was refused but changed the lesson"
            return
        OUTCOMES[name, "accepted"] += 1
        assert ("error", "") not in self.events or not m.last_error
        text = scenario.dumps(scenario.from_model(m))
        assert len(text.encode()) <= scenario.MAX_FILE_BYTES
        other = Lesson()
        assert scenario.apply(other, scenario.loads(text)), other.last_error
        assert saved_state(other) == saved_state(m), f"{name}: the saved state came back different"

    def query(self, name: str, call) -> None:  # type: ignore[no-untyped-def]
        before = state(self.m)
        self.events.clear()
        try:
            call()
            OUTCOMES[name, "answered"] += 1
        except ValueError as exc:  # a query says why it cannot answer, in words
            OUTCOMES[name, "refused"] += 1
            assert str(exc) and "\n" not in str(exc)
        assert self.events == [] and state(self.m) == before

    # ---------------------------------------------------------------- changes
    @rule(c=changes())
    def set_params(self, c: dict[str, object]) -> None:
        self.change("set_params", lambda: self.m.set_params(**c))

    def cell(self, data: st.DataObject, shape: tuple[int, ...] | None, n: int) -> tuple[object, ...]:
        """A cell of ``shape`` mostly, else ``n`` indices of any kind."""
        if shape is not None and data.draw(st.integers(0, 9)) < 7:
            return tuple(data.draw(st.integers(0, k - 1)) for k in shape)
        return tuple(data.draw(INDEX) for _ in range(n))

    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.m.trace.out_shape)

    @rule(data=st.data(), value=NUMBER)
    def set_input_value(self, data: st.DataObject, value: object) -> None:
        idx = self.cell(data, self.m.x.shape, 3)
        self.change("set_input_value", lambda: self.m.set_input_value(*idx, value))  # type: ignore[arg-type]

    @rule(data=st.data(), value=NUMBER)
    def set_kernel_value(self, data: st.DataObject, value: object) -> None:
        idx = self.cell(data, self.m.w.shape, 4)
        self.change("set_kernel_value", lambda: self.m.set_kernel_value(*idx, value))  # type: ignore[arg-type]

    @rule(data=st.data(), value=NUMBER)
    def set_bias_value(self, data: st.DataObject, value: object) -> None:
        idx = self.cell(data, self.m.bias_values.shape, 1)
        self.change("set_bias_value", lambda: self.m.set_bias_value(*idx, value))  # type: ignore[arg-type]

    @rule(data=st.data(), value=NUMBER)
    def set_upstream_value(self, data: st.DataObject, value: object) -> None:
        idx = self.cell(data, self.output_shape(), 3)
        self.change("set_upstream_value", lambda: self.m.set_upstream_value(*idx, value))  # type: ignore

    @rule(data=st.data(), value=NUMBER)
    def set_target_value(self, data: st.DataObject, value: object) -> None:
        idx = self.cell(data, self.output_shape(), 3)
        self.change("set_target_value", lambda: self.m.set_target_value(*idx, value))  # type: ignore

    @rule(mode=st.sampled_from(["backward", "both"]), upstream=st.sampled_from(SETTING_CHOICES["upstream"]))
    def go_backward(self, mode: str, upstream: str) -> None:
        self.change("set_params", lambda: self.m.set_params(mode=mode, upstream=upstream))

    @rule(k=st.integers(-10, 400) | st.integers() | WILD)
    def set_step(self, k: object) -> None:
        self.change("set_step", lambda: self.m.set_step(k))  # type: ignore[arg-type]

    @rule(data=st.data(), kw=st.dictionaries(st.sampled_from(NAMES), st.none(), max_size=4).flatmap(
        lambda d: st.fixed_dictionaries({n: setting_value(n) for n in d})),
        names=st.lists(st.sampled_from(["x", "w", "bias", "upstream", "target"]), max_size=3, unique=True),
        step=st.integers(-3, 50) | WILD, whole=st.integers(0, 9))
    def load(self, data: st.DataObject, kw: dict[str, object], names: list[str], step: object,
             whole: int) -> None:
        p = Params(**kw) if whole else "not params"  # type: ignore[arg-type]
        shapes: dict[str, tuple[int, ...]] = {}
        try:
            q = validate.checked(p)  # type: ignore[arg-type]
            out = validate.plan(q).out_shape
            shapes = {"x": (q.in_c, q.in_h, q.in_w), "w": (q.out_c, q.in_c, q.k_h, q.k_w), "bias": (q.out_c,),
                      "upstream": out, "target": out}
        except ValueError:
            pass
        arrays = {n: data.draw(st.floats(-9, 9).map(lambda v, s=shapes[n]: np.full(s, v)))
                  if n in shapes and data.draw(st.booleans()) else data.draw(grid()) for n in names}
        self.change("load", lambda: self.m.load(p, step=step, **arrays))  # type: ignore[arg-type]

    @rule(x=grid() | st.tuples(st.integers(0, 3), st.integers(0, 8), st.integers(0, 8)).map(np.ones)
          | st.just(np.ones((1, 600, 3))))
    def use_picture(self, x: object) -> None:
        self.change("use_picture", lambda: self.m.use_picture(x))  # type: ignore[arg-type]

    @rule()
    def new_values(self) -> None:
        self.change("new_values", self.m.new_values)

    # ---------------------------------------------------------------- queries
    @rule(k=st.none() | st.integers(-5, 400) | WILD, expanded=st.booleans() | WILD)
    def frame(self, k: object, expanded: object) -> None:
        self.query("frame", lambda: self.m.frame(k, expanded=expanded))  # type: ignore[arg-type]

    @rule(data=st.data(), wrt=st.one_of(st.sampled_from(["x", "w"]), st.sampled_from(["x", "w"]), WILD),
          eps=st.one_of(st.just(1e-6), st.just(1e-6), WILD))
    def check_gradient(self, data: st.DataObject, wrt: object, eps: object) -> None:
        of_w = isinstance(wrt, str) and wrt == "w"
        idx: object = self.cell(data, self.m.w.shape if of_w else self.m.x.shape, 3)
        if data.draw(st.integers(0, 9)) == 0:
            idx = data.draw(WILD)
        self.query("check_gradient", lambda: self.m.check_gradient(wrt, idx, eps))  # type: ignore[arg-type]
        self.query("one_sided_slopes", lambda: self.m.one_sided_slopes(wrt, idx, eps))  # type: ignore[arg-type]

    @invariant()
    def copies_draw_the_same(self) -> None:
        if OUTCOMES["copy", "made"] % 7 == 0:
            c = self.m.copy()
            assert state(c) == state(self.m)
        OUTCOMES["copy", "made"] += 1


LessonCalls.TestCase.settings = settings(
    max_examples=int(os.environ.get("CONVVIZ_FUZZ_EXAMPLES", "50")), stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
TestLessonCalls = LessonCalls.TestCase
