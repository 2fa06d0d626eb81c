"""Global pooling against loops over each map, ties in raster order, finite differences and its traces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_gradients import numeric_grad

from engine import (
    global_pool2d,
    global_pool2d_backward,
    pool2d,
    pool2d_backward,
    trace_global_pool2d,
    trace_global_pool2d_backward,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPS = ["avg", "max", "min"]


def naive_global(x3: np.ndarray, op: str) -> tuple[np.ndarray, list[tuple[int, int] | None]]:
    """Per channel: the mean (sum / count) or the first extreme in raster order, and where it is."""
    C, H, W = x3.shape
    y, where = np.zeros(C), []
    for c in range(C):
        if op == "avg":
            total = 0.0
            for r in range(H):
                for q in range(W):
                    total += x3[c, r, q]
            y[c] = total / (H * W)
            where.append(None)
            continue
        best = (0, 0)
        for r in range(H):
            for q in range(W):
                v, bv = x3[c, r, q], x3[c, best[0], best[1]]
                if (op == "max" and v > bv) or (op == "min" and v < bv):
                    best = (r, q)
        y[c] = x3[c, best[0], best[1]]
        where.append(best)
    return y, where


def naive_global_backward(x3: np.ndarray, dy: np.ndarray, op: str) -> np.ndarray:
    """Average: an equal share to every cell; max/min: all of it to the first extreme cell."""
    C, H, W = x3.shape
    gx = np.zeros(x3.shape)
    _, where = naive_global(x3, op)
    for c in range(C):
        if op == "avg":
            for r in range(H):
                for q in range(W):
                    gx[c, r, q] += dy[c] / (H * W)
        else:
            r, q = where[c]  # type: ignore[misc]
            gx[c, r, q] += dy[c]
    return gx


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 7), st.integers(1, 7), st.sampled_from(OPS),
       st.integers(0, 2**32 - 1))
def test_global_pool_matches_naive_loops(C: int, H: int, W: int, op: str, seed: int) -> None:
    """Forward and backward equal the loops on small integer maps (so ties are common)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(C, H, W)).astype(float)
    dy = rng.standard_normal(C)
    want, _ = naive_global(x, op)
    np.testing.assert_allclose(global_pool2d(x, op), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(global_pool2d_backward(x, dy, op), naive_global_backward(x, dy, op),
                               rtol=1e-12, atol=1e-12)
    # The same as a pooling whose one window is the whole map.
    np.testing.assert_allclose(pool2d(x, (H, W), op=op)[:, 0, 0], want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pool2d_backward(x, dy[:, None, None], (H, W), op=op),
                               global_pool2d_backward(x, dy, op), rtol=1e-12, atol=1e-12)


def test_ties_go_to_the_first_cell_in_raster_order() -> None:
    """A constant map: max and min both send everything to cell (0, 0); avg shares it evenly."""
    x = np.full((2, 3, 3), 4.0)
    x[1, 2, 0] = 9.0
    g = global_pool2d_backward(x, np.array([1.0, 2.0]), "max")
    assert g[0, 0, 0] == 1.0 and g[1, 2, 0] == 2.0 and np.count_nonzero(g) == 2
    g = global_pool2d_backward(x, np.array([1.0, 2.0]), "min")
    assert g[0, 0, 0] == 1.0 and g[1, 0, 0] == 2.0 and np.count_nonzero(g) == 2
    np.testing.assert_allclose(global_pool2d_backward(x, np.array([9.0, 18.0]), "avg"),
                               np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))]))


@pytest.mark.parametrize("op", OPS)
def test_global_pool_finite_differences(op: str) -> None:
    """Away from ties (distinct values) every gradient matches centred differences."""
    rng = np.random.default_rng(1)
    x = rng.permutation(3 * 4 * 5).reshape(3, 4, 5).astype(float) / 7.0
    dy = rng.standard_normal(3)
    np.testing.assert_allclose(global_pool2d_backward(x, dy, op),
                               numeric_grad(lambda a: float(global_pool2d(a, op) @ dy), x),
                               rtol=1e-6, atol=1e-7)


def test_single_channel_form() -> None:
    """A 2-D map pools to shape (); its gradient accepts a number and comes back 2-D."""
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    y = global_pool2d(x, "max")
    assert y.shape == () and float(y) == 5.0
    assert float(global_pool2d(x, "avg")) == 3.5
    np.testing.assert_array_equal(global_pool2d_backward(x, 2.0, "max"), [[0.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(global_pool2d_backward(x, np.array(4.0), "avg"), np.ones((2, 2)))


@pytest.mark.parametrize("op", OPS)
def test_global_pool_traces(op: str) -> None:
    """One step per channel over the whole map; backward steps send the gradient where the loops do."""
    rng = np.random.default_rng(2)
    x = rng.integers(-2, 3, size=(3, 4, 5)).astype(float)
    dy = rng.standard_normal(3)
    want, where = naive_global(x, op)
    tr = trace_global_pool2d(x, op)
    assert len(tr) == 3
    assert tr.out_shape == (3, 1, 1)
    for c in range(3):
        s = tr[c]
        assert (s.channel, s.out_row, s.out_col) == (c, 0, 0)
        np.testing.assert_array_equal(s.values, x[c])
        np.testing.assert_array_equal(s.window.rows, np.arange(4))
        np.testing.assert_array_equal(s.window.cols, np.arange(5))
        assert s.result == pytest.approx(want[c], abs=1e-12)
        assert s.chosen == where[c]
        assert s.divisor == (20 if op == "avg" else None)
    np.testing.assert_allclose(tr.partial(2)[:, 0, 0], want, rtol=1e-12)
    assert np.isnan(tr.partial(0)[1:]).all()
    btr = trace_global_pool2d_backward(x, dy, op)
    expected = naive_global_backward(x, dy, op)
    acc = np.zeros(x.shape)
    for c in range(3):
        s = btr[c]
        assert s.grad == dy[c]
        acc[c] += s.grad_input
    np.testing.assert_allclose(acc, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(btr.partial(2).grad_x, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(btr.partial(0).grad_x[1:], 0.0)


@pytest.mark.parametrize(
    ("x", "op", "grad", "exc", "match"),
    [
        pytest.param(np.ones((2, 3, 3)), "sum", np.ones(2), ValueError,
                     r"op must be one of max, min, avg; got 'sum'", id="op"),
        pytest.param(np.ones(4), "avg", np.ones(1), ValueError, r"input x must be 2-D or 3-D, got 1-D",
                     id="x-1d"),
        pytest.param(np.full((2, 2), np.nan), "max", np.ones(1), ValueError,
                     r"input x must hold finite numbers", id="x-nan"),
        pytest.param(np.ones((2, 3, 3)), "avg", np.ones(3), ValueError,
                     r"grad_out must be one value per channel \(2\), got shape \(3,\)", id="grad-len"),
        pytest.param(np.ones((3, 3)), "max", np.ones(2), ValueError,
                     r"grad_out must be one number, got shape \(2,\)", id="grad-2d"),
    ],
)
def test_global_pool_bad_arguments(x: np.ndarray, op: str, grad: np.ndarray, exc: type, match: str) -> None:
    """Bad arguments are refused in plain words by the functions and the traces alike."""
    calls = [lambda: global_pool2d_backward(x, grad, op), lambda: trace_global_pool2d_backward(x, grad, op)]
    if "grad_out" not in match:
        calls += [lambda: global_pool2d(x, op), lambda: trace_global_pool2d(x, op)]
    for call in calls:
        with pytest.raises(exc, match=match):
            call()
