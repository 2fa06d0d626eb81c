"""Backward traces keep running totals: any order of ``partial(i)`` calls equals a fresh computation."""

from __future__ import annotations

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
