"""Every backward pass against centred finite differences, adjoint identities and hand-worked ties.

The loss is ``L = sum(y * dy)`` for a fixed upstream gradient ``dy``, so
``dL/dx`` is exactly what the backward functions return.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from engine import conv2d, conv2d_backward, pool2d, pool2d_backward

EPS = 1e-6


def numeric_grad(f: Callable[[np.ndarray], float], a: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Centred finite differences of the scalar function ``f`` at ``a``."""
    a = np.array(a, dtype=float)
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[idx] += eps
        minus[idx] -= eps
        g[idx] = (f(plus) - f(minus)) / (2 * eps)
    return g


# --------------------------------------------------------------------------- convolution

CONV_CONFIGS = [
    pytest.param({"padding": 1}, id="pad1"),
    pytest.param({"padding": ((2, 0), (1, 2)), "stride": (2, 1)}, id="asym-stride"),
    pytest.param({"padding": (1, 2), "dilation": 2}, id="dilation2"),
    pytest.param({"padding": "same", "flip_kernel": True}, id="same-flip"),
    pytest.param({"padding": 2, "stride": 2, "dilation": (2, 1), "flip_kernel": True}, id="all"),
]
MODES = ["zeros", "reflect", "replicate", "circular"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONV_CONFIGS)
def test_conv2d_backward_finite_differences(mode: str, config: dict) -> None:
    """grad_x, grad_w and grad_bias match finite differences in every padding mode."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 5, 6))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    kw = {**config, "padding_mode": mode}
    dy = rng.standard_normal(conv2d(x, w, b, **kw).shape)
    gx, gw, gb = conv2d_backward(x, w, dy, bias=b, **kw)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: float((conv2d(a, w, b, **kw) * dy).sum()), x),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_grad(lambda a: float((conv2d(x, a, b, **kw) * dy).sum()), w),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gb, numeric_grad(lambda a: float((conv2d(x, w, a, **kw) * dy).sum()), b),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_backward_finite_differences_2d(mode: str) -> None:
    """2-D input and kernel with a scalar bias: gradients keep the 2-D form and match."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    w = rng.standard_normal((2, 3))
    b = np.float64(0.5)
    kw = {"padding": ((1, 0), (2, 1)), "stride": (1, 2), "padding_mode": mode}
    dy = rng.standard_normal(conv2d(x, w, b, **kw).shape)
    gx, gw, gb = conv2d_backward(x, w, dy, bias=b, **kw)
    assert gx.shape == x.shape
    assert gw.shape == w.shape
    np.testing.assert_allclose(gx, numeric_grad(lambda a: float((conv2d(a, w, b, **kw) * dy).sum()), x),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_grad(lambda a: float((conv2d(x, a, b, **kw) * dy).sum()), w),
                               rtol=1e-6, atol=1e-7)
    db = numeric_grad(lambda a: float((conv2d(x, w, a[0], **kw) * dy).sum()), np.array([b]))
    np.testing.assert_allclose(np.ravel(gb), db, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(4))
def test_conv2d_adjoint_identity(mode: str, seed: int) -> None:
    """<conv(x, w), dy> == <x, grad_x> == <w, grad_w> (the map is bilinear, padding linear)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 7, 6))
    w = rng.standard_normal((2, 3, 3, 3))
    kw = {"padding": ((1, 2), (2, 0)), "stride": (1 + seed % 2, 2), "dilation": (1, 1 + seed % 2),
          "padding_mode": mode, "flip_kernel": seed >= 2}
    y = conv2d(x, w, **kw)
    dy = rng.standard_normal(y.shape)
    gx, gw, _ = conv2d_backward(x, w, dy, **kw)
    lhs = float((y * dy).sum())
    assert lhs == pytest.approx(float((x * gx).sum()), rel=1e-10, abs=1e-10)
    assert lhs == pytest.approx(float((w * gw).sum()), rel=1e-10, abs=1e-10)


# --------------------------------------------------------------------------- pooling

POOL_CONFIGS = [
    pytest.param({"kernel_size": 2}, id="k2"),
    pytest.param({"kernel_size": 3, "stride": 1, "padding": 1}, id="k3-s1-p1"),
    pytest.param({"kernel_size": (3, 2), "stride": 2, "padding": (1, 1), "ceil_mode": True}, id="ceil"),
    pytest.param(
        {"kernel_size": 3, "stride": 2, "padding": ((1, 0), (0, 1)), "ceil_mode": True}, id="asym-ceil"
    ),
    pytest.param({"kernel_size": 2, "stride": 1, "dilation": 2, "padding": 1}, id="dilated"),
]


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("config", POOL_CONFIGS)
def test_avg_pool_backward_finite_differences(config: dict, count_include_pad: bool) -> None:
    """Average pooling's gradient matches finite differences (it is linear, so always)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 7, 6))
    kw = {**config, "op": "avg", "count_include_pad": count_include_pad}
    dy = rng.standard_normal(pool2d(x, **kw).shape)
    gx = pool2d_backward(x, dy, **kw)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: float((pool2d(a, **kw) * dy).sum()), x),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("config", POOL_CONFIGS)
def test_max_min_pool_backward_finite_differences(config: dict, op: str) -> None:
    """Away from ties (distinct values, one apart) max/min gradients match finite differences."""
    rng = np.random.default_rng(5)
    x = rng.permutation(2 * 7 * 6).reshape(2, 7, 6).astype(float) - 40.0
    kw = {**config, "op": op}
    dy = rng.standard_normal(pool2d(x, **kw).shape)
    gx = pool2d_backward(x, dy, **kw)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: float((pool2d(a, **kw) * dy).sum()), x),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("op", "x", "winner"),
    [
        ("max", [[1.0, 1.0], [1.0, 1.0]], (0, 0)),
        ("min", [[1.0, 1.0], [1.0, 1.0]], (0, 0)),
        ("max", [[0.0, 5.0], [5.0, 1.0]], (0, 1)),
        ("min", [[3.0, 1.0], [1.0, 2.0]], (0, 1)),
        ("max", [[0.0, 0.0], [4.0, 4.0]], (1, 0)),
        ("min", [[2.0, 2.0], [-4.0, -4.0]], (1, 0)),
    ],
)
def test_tie_goes_to_first_in_raster_order(op: str, x: list, winner: tuple[int, int]) -> None:
    """In a window of tied extremes the first one (row by row, left to right) takes the gradient."""
    gx = pool2d_backward(np.array(x), np.array([[2.5]]), 2, op=op)
    expected = np.zeros((2, 2))
    expected[winner] = 2.5
    np.testing.assert_array_equal(gx, expected)


@pytest.mark.parametrize("op", ["max", "min"])
def test_ties_in_overlapping_windows_accumulate(op: str) -> None:
    """Constant input, 2x2 windows at stride 1: each window's top-left cell gets its gradient."""
    x = np.full((3, 4), 7.0)
    dy = np.arange(1.0, 7.0).reshape(2, 3)
    gx = pool2d_backward(x, dy, 2, op=op, stride=1)
    expected = np.zeros((3, 4))
    expected[:2, :3] = dy
    np.testing.assert_array_equal(gx, expected)


def test_shared_winner_accumulates() -> None:
    """A cell that wins two overlapping windows receives the sum of their gradients."""
    x = np.array([[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])
    gx = pool2d_backward(x, np.array([[1.0, 10.0]]), 2, op="max", stride=1)
    np.testing.assert_array_equal(gx, [[0.0, 11.0, 0.0], [0.0, 0.0, 0.0]])


def test_dilated_tie_goes_to_first_tap() -> None:
    """With dilation 2 the taps are (0,0), (0,2), (2,0), (2,2); on a tie (0,0) wins."""
    x = np.zeros((3, 3))
    x[1, 1] = 5.0  # not a tap: must not take anything
    gx = pool2d_backward(x, np.array([[1.0]]), 2, op="max", dilation=2)
    expected = np.zeros((3, 3))
    expected[0, 0] = 1.0
    np.testing.assert_array_equal(gx, expected)


X3 = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]])


def test_max_pool_backward_with_padding_hand_worked() -> None:
    """k=2, stride 2, padding 1 on 3x3: each window's winner is a real cell at the right place.

    Windows over the padded 5x5 grid: (0,0) sees only x[0,0]; (0,1) sees
    x[0,1:3]; (1,0) sees x[1:3,0]; (1,1) sees x[1:3,1:3].
    """
    dy = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(pool2d(X3, 2, op="max", padding=1), [[1.0, 3.0], [6.0, 9.0]])
    gx = pool2d_backward(X3, dy, 2, op="max", padding=1)
    np.testing.assert_array_equal(gx, [[1.0, 0.0, 2.0], [0.0, 4.0, 0.0], [3.0, 0.0, 0.0]])


def test_max_and_min_pool_backward_with_padding_k3() -> None:
    """k=3, stride 1, padding 1 on 3x3: every window holds the centre 9; minima worked by hand."""
    ones = np.ones((3, 3))
    gmax = pool2d_backward(X3, ones, 3, op="max", stride=1, padding=1)
    np.testing.assert_array_equal(gmax, [[0, 0, 0], [0, 9, 0], [0, 0, 0]])
    gmin = pool2d_backward(X3, ones, 3, op="min", stride=1, padding=1)
    np.testing.assert_array_equal(gmin, [[4, 2, 0], [2, 0, 1], [0, 0, 0]])


def test_max_pool_padding_is_minus_infinity() -> None:
    """On all-negative input padding never wins a max (it is -inf, not 0); min likewise +inf."""
    y = pool2d(-X3, 3, op="max", stride=1, padding=1)
    assert y[0, 0] == -1.0
    assert (y < 0).all()
    y = pool2d(X3, 3, op="min", stride=1, padding=1)
    assert y[2, 2] == 5.0
    assert (y > 0).all()
    gx = pool2d_backward(-X3, np.ones((3, 3)), 3, op="max", stride=1, padding=1)
    assert gx.sum() == 9.0
    assert gx[0, 0] == 4.0
