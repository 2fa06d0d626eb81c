"""Backward traces keep running totals: any order of ``partial(i)`` calls equals a fresh computation."""

from __future__ import annotations

import mmap
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import trace as _trace


def _fresh_conv(t: engine.ConvBackwardTrace, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of steps 0..i from scratch: conv2d_backward's vectorised pass on the dy prefix."""
    dy = np.zeros(t.dy.shape)
    dy.reshape(-1)[: i + 1] = t.dy.reshape(-1)[: i + 1]
    return engine.conv.backward_padded(t.setup, dy, t.x_padded)


def _close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(b).max(initial=0.0))))


@st.composite
def _conv_case(draw: st.DrawFn) -> tuple[engine.ConvBackwardTrace, list[int]]:
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = draw(st.integers(1, 3))
    h, w = draw(st.integers(k, 6)), draw(st.integers(k, 6))
    pad = draw(st.integers(0, 2))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    if mode != "zeros":
        pad = min(pad, h - 1, w - 1)
    stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if dilation * (k - 1) + 1 > min(h, w) + 2 * pad:
        dilation = 1
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c_in, h, w))
    wt = rng.standard_normal((c_out, c_in // groups, k, k))
    s = engine.conv.prepare_conv(x, wt, None, stride=stride, padding=pad, dilation=dilation,
                                 padding_mode=mode, groups=groups)
    dy = rng.standard_normal((c_out, *s.geometry.out_shape))
    t = engine.trace_conv2d_backward(x, wt, dy, stride=stride, padding=pad, dilation=dilation,
                                     padding_mode=mode, groups=groups)
    n = len(t)
    moves = draw(st.lists(st.one_of(
        st.integers(-1, n - 1),                      # a random jump
        st.just("fwd"), st.just("back"),             # one step either way
    ), min_size=1, max_size=25))
    seq, at = [], -1
    for m in moves:
        at = m if isinstance(m, int) else min(n - 1, at + 1) if m == "fwd" else max(-1, at - 1)
        seq.append(at)
    return t, [*seq, n - 1]


@settings(max_examples=60, deadline=None)
@given(_conv_case())
def test_conv_backward_partial_equals_a_fresh_computation_in_any_order(case: tuple) -> None:
    t, seq = case
    for i in seq:
        g = t.partial(i)
        gxp, gw, gb = _fresh_conv(t, i)
        _close(g.grad_x_padded, gxp)
        _close(g.grad_w, gw)
        _close(g.grad_bias, gb)


def test_conv_backward_partial_end_equals_conv2d_backward_with_small_limit(monkeypatch: pytest.MonkeyPatch
                                                                          ) -> None:
    """Every step one at a time (checkpoints on the way, steps back through them) ends at conv2d_backward."""
    monkeypatch.setattr(_trace, "INCREMENTAL_MIN", 5)
    monkeypatch.setattr(_trace, "INCREMENTAL_LIMIT", 5)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 7, 6)), rng.standard_normal((3, 2, 3, 2))
    dy = rng.standard_normal((3, 7, 7))
    t = engine.trace_conv2d_backward(x, w, dy, padding=1, padding_mode="reflect")
    assert t._limit == 5
    for i in [*range(-1, len(t)), len(t) - 3, len(t) - 9, len(t) - 8, len(t) - 1]:
        g = t.partial(i)
        gxp, gw, gb = _fresh_conv(t, i)
        _close(g.grad_x_padded, gxp)
        _close(g.grad_w, gw)
    gx, gw, gb = engine.conv2d_backward(x, w, dy, padding=1, padding_mode="reflect")
    g = t.partial(len(t) - 1)
    _close(g.grad_x, gx)
    _close(g.grad_w, gw)
    _close(g.grad_bias, gb)


def test_conv_backward_partial_results_are_not_changed_by_later_calls() -> None:
    rng = np.random.default_rng(1)
    t = engine.trace_conv2d_backward(rng.standard_normal((2, 5, 5)), rng.standard_normal((2, 2, 3, 3)),
                                     rng.standard_normal((2, 3, 3)))
    first = t.partial(4)
    kept = (first.grad_x_padded.copy(), first.grad_w.copy())
    t.partial(10)
    t.partial(2)
    np.testing.assert_array_equal(first.grad_x_padded, kept[0])
    np.testing.assert_array_equal(first.grad_w, kept[1])


def _far_trace(monkeypatch: pytest.MonkeyPatch) -> engine.ConvBackwardTrace:
    """A trace whose incremental reach is 5 steps: a jump of more recomputes the prefix."""
    monkeypatch.setattr(_trace, "INCREMENTAL_MIN", 5)
    monkeypatch.setattr(_trace, "INCREMENTAL_LIMIT", 5)
    rng = np.random.default_rng(4)
    return engine.trace_conv2d_backward(rng.standard_normal((2, 6, 6)), rng.standard_normal((3, 2, 3, 3)),
                                        rng.standard_normal((3, 6, 6)), padding=1, padding_mode="circular")


def test_conv_backward_adopted_totals_give_the_partial_computed_directly(monkeypatch: pytest.MonkeyPatch
                                                                          ) -> None:
    """``totals_at`` (a worker's pure computation), ``adopt``, then ``partial``: as a direct partial."""
    t, direct = _far_trace(monkeypatch), _far_trace(monkeypatch)
    t.partial(3)
    assert t.reaches(7) and not t.reaches(60)
    totals = t.totals_at(60)
    assert not t.reaches(60)  # totals_at leaves the trace alone
    t.adopt(60, totals)
    assert t.reaches(60) and t.reaches(63) and not t.reaches(70) and not t.reaches(59)
    assert t.reaches(2)  # near the start: added from zero
    for i in (60, 62, 65, 61):  # the adopted step, then steps on from it
        g, d = t.partial(i), direct.partial(i)
        if i == 60:  # the same vectorised pass on the same prefix
            np.testing.assert_array_equal(g.grad_x_padded, d.grad_x_padded)
        _close(g.grad_x_padded, d.grad_x_padded)
        _close(g.grad_x, d.grad_x)
        _close(g.grad_w, d.grad_w)
        _close(g.grad_bias, d.grad_bias)
        np.testing.assert_array_equal(g.hits, d.hits)
    kept = t.partial(60).grad_x_padded.copy()
    t.partial(64)
    np.testing.assert_array_equal(t.partial(60).grad_x_padded, kept)  # the adopted totals are never written


def test_conv_backward_step_near_the_start_is_added_from_zero_after_a_far_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    t, direct = _far_trace(monkeypatch), _far_trace(monkeypatch)
    t.partial(80)
    calls: list[int] = []
    monkeypatch.setattr(t, "_recompute", lambda dy: calls.append(1))
    for i in (1, 3):
        _close(t.partial(i).grad_x_padded, direct.partial(i).grad_x_padded)
    assert not calls


def test_conv_backward_totals_at_stops_when_cancelled_and_adopt_checks_shapes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    t = _far_trace(monkeypatch)
    with engine.cancel.stop_when(lambda: True), pytest.raises(engine.cancel.Cancelled):
        t.totals_at(60)
    with pytest.raises(ValueError, match="shapes"):
        t.adopt(60, (np.zeros(3), np.zeros(3), np.zeros(3)))
    with pytest.raises(IndexError):
        t.totals_at(len(t))


@st.composite
def _pool_case(draw: st.DrawFn) -> tuple[engine.PoolBackwardTrace, list[int]]:
    op = draw(st.sampled_from(["max", "min", "avg"]))
    k = draw(st.integers(1, 3))
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(k, 6)), draw(st.integers(k, 6))
    pad = draw(st.integers(0, k // 2))
    stride = draw(st.integers(1, 3))
    ceil = draw(st.booleans())
    cip = draw(st.booleans())
    ints = draw(st.booleans())  # integer values make ties for max/min
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.integers(-2, 3, (c, h, w)).astype(float) if ints else rng.standard_normal((c, h, w))
    kw = dict(op=op, stride=stride, padding=pad, ceil_mode=ceil, count_include_pad=cip)
    s = engine.pool.prepare_pool(x, k, **kw)
    dy = rng.standard_normal((c, *s.geometry.out_shape))
    t = engine.trace_pool2d_backward(x, dy, k, **kw)
    n = len(t)
    seq = draw(st.lists(st.integers(-1, n - 1), min_size=1, max_size=15))
    return t, [*seq, *range(max(-1, seq[-1] - 3), n), n - 1]


@settings(max_examples=60, deadline=None)
@given(_pool_case())
def test_pool_backward_partial_equals_a_fresh_computation_in_any_order(case: tuple) -> None:
    t, seq = case
    for i in seq:
        g = t.partial(i)
        dy = np.zeros(t.dy.shape)
        dy.reshape(-1)[: i + 1] = t.dy.reshape(-1)[: i + 1]
        _close(g.grad_x_padded, engine.pool.backward_padded(t.setup, dy))


def test_a_backward_step_with_zero_padding_hands_out_a_view_not_a_copy() -> None:
    """dL/dX of the real cells is the padded totals' inner part, read-only (a step copies the totals once)."""
    import engine

    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 7, 7)), rng.standard_normal((3, 2, 3, 3))
    tr = engine.trace_conv2d_backward(x, w, rng.standard_normal((3, 7, 7)), padding=1)
    g = tr.partial(20)
    assert np.shares_memory(g.grad_x, g.grad_x_padded) and not g.grad_x.flags.writeable
    np.testing.assert_array_equal(g.grad_x, g.grad_x_padded[:, 1:-1, 1:-1])
    assert tr.partial(21).grad_x is not g.grad_x
    np.testing.assert_array_equal(g.grad_x, g.grad_x_padded[:, 1:-1, 1:-1])  # never written again


# --------------------------------------------------------------------------- recycled totals buffers


@pytest.fixture(params=["heap", "mapped"])
def pages(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Totals in ordinary arrays, then each in an anonymous mapping of its own (as big ones are)."""
    if request.param == "mapped":
        monkeypatch.setattr(_trace, "SMALL_PAGES_FROM", 0)
    return str(request.param)


def _small_trace(padding_mode: str = "zeros") -> engine.ConvBackwardTrace:
    """36 steps (within the incremental reach, so every partial adds windows in step order from zero)."""
    rng = np.random.default_rng(7)
    return engine.trace_conv2d_backward(rng.standard_normal((2, 5, 5)), rng.standard_normal((4, 2, 3, 3)),
                                        rng.standard_normal((4, 3, 3)), stride=2, padding=1,
                                        padding_mode=padding_mode)


def _no_recycling(t: engine.ConvBackwardTrace) -> engine.ConvBackwardTrace:
    """``t`` with every totals copy in a new array (as before the buffers were recycled)."""
    t._buffers._recycled = lambda shape, dtype: None  # type: ignore[method-assign]
    return t


def _same(a: engine.Gradients, b: engine.Gradients) -> None:
    for name in ("grad_x", "grad_x_padded", "grad_w", "grad_bias"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_stepping_with_recycled_buffers_gives_exactly_a_fresh_traces_partials(mode: str, pages: str) -> None:
    """Forward, back, jumps, with nothing held between calls (so buffers are recycled): bit for bit
    what a fresh trace gives for that step, and never changed afterwards."""
    t = _small_trace(mode)
    n = len(t)
    assert n <= t._limit
    seq = [*range(-1, n), *range(n - 1, -2, -1), 5, 12, 0, n - 1, 3, 3, 9, -1, 14]
    kept = []
    for i in seq:
        g = t.partial(i)
        _same(g, _small_trace(mode).partial(i))
        kept.append((i, g.grad_x_padded.copy(), g.grad_w.copy()))
        del g
    for i, gxp, gw in kept:  # the copies taken above still match: the trace gives the same again
        np.testing.assert_array_equal(t.partial(i).grad_x_padded, gxp)
        np.testing.assert_array_equal(t.partial(i).grad_w, gw)


def test_far_moves_through_checkpoints_give_exactly_what_a_trace_without_recycling_gives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reach 5: steps, far jumps (recomputed prefixes), steps back through checkpoints; half the
    results held, half dropped. Every partial equals, bit for bit, the same calls on a trace that
    never recycles, and every held one keeps its values."""
    t, ref = _far_trace(monkeypatch), _no_recycling(_far_trace(monkeypatch))
    n = len(t)
    seq = [*range(-1, 30), 29, 28, 24, 23, 60, 61, 62, 70, 66, 65, 64, 63, 59, 58, n - 1, n - 2, 2, 1, 40,
           41, 42, 43, 44, 45, 46, 47]
    held: list[tuple[engine.Gradients, np.ndarray, np.ndarray, np.ndarray]] = []
    for k, i in enumerate(seq):
        g, r = t.partial(i), ref.partial(i)
        _same(g, r)
        _close(g.grad_x_padded, _fresh_conv(t, i)[0])
        if k % 2:
            held.append((g, g.grad_x.copy(), g.grad_x_padded.copy(), g.grad_w.copy()))
        del g, r
    for g, gx, gxp, gw in held:
        np.testing.assert_array_equal(g.grad_x, gx)
        np.testing.assert_array_equal(g.grad_x_padded, gxp)
        np.testing.assert_array_equal(g.grad_w, gw)


def _held_arrays_keep_their_values(t: engine.ConvBackwardTrace) -> None:
    """Hold one array of a step's gradients (a crop view, the padded totals, dW, db), drop the rest,
    step on many times: the held array still holds that step's values."""
    picks = ("grad_x", "grad_x_padded", "grad_w", "grad_bias")
    held = []
    for i, name in enumerate(picks):
        a = getattr(t.partial(i), name)  # the Gradients itself is dropped at once
        held.append((a, a.copy()))
    for i in [*range(4, len(t)), *range(len(t) - 1, 3, -1), *range(4, len(t))]:
        t.partial(i)
    for (a, values), name in zip(held, picks, strict=True):
        np.testing.assert_array_equal(a, values, err_msg=f"a held {name} was written again")


def test_an_array_handed_out_and_still_held_is_never_recycled(pages: str) -> None:
    _held_arrays_keep_their_values(_small_trace())


def test_a_recycler_without_the_holder_check_would_overwrite_a_held_array(pages: str) -> None:
    """The test above has teeth: recycling any owned array the trace itself no longer uses breaks it."""
    t = _small_trace()
    buffers = t._buffers

    def naive(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        in_use = {id(a) for tot in [t._totals_now, *t._checkpoints.values()] if tot for a in tot}
        free = [a for a in buffers._owned if a.shape == shape and a.dtype == dtype and id(a) not in in_use]
        return free[0] if free else None

    buffers._recycled = naive  # type: ignore[method-assign]
    with pytest.raises(AssertionError, match="written again"):
        _held_arrays_keep_their_values(t)


def test_a_released_totals_buffer_is_written_again_and_few_are_kept(pages: str) -> None:
    t = _small_trace()
    g = t.partial(3)
    mapped = isinstance(g.grad_x_padded.base.base, mmap.mmap)
    assert mapped == (pages == "mapped")  # each view's base is the owned array, not the mapping
    old = weakref.ref(g.grad_x_padded.base)  # the trace's own array behind the read-only view
    assert not g.grad_x_padded.flags.writeable and not g.grad_x.flags.writeable
    assert g.grad_x_padded.base.flags.writeable  # the trace owns it and may write it once released
    for i in (4, 5):  # held: never the new totals
        assert t.partial(i).grad_x_padded.base is not old()
    del g
    news = [t.partial(i).grad_x_padded.base for i in (6, 7)]
    assert any(b is old() for b in news)  # released: written again (without recycling it would be gone)
    del news
    # Many held at once, then all released: only a few arrays stay alive.
    held = [t.partial(i) for i in range(len(t))]
    refs = [weakref.ref(g.grad_x_padded.base) for g in held]
    del held
    t.partial(0)
    assert sum(r() is not None for r in refs) <= _trace.BUFFERS
