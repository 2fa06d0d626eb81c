"""1-D convolution against loops over a sequence, finite differences, causality and the adjoint identity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_engine_gradients import numeric_grad

from engine import conv1d, conv1d_backward, conv2d, trace_conv1d, trace_conv1d_backward
from engine.conv1d import conv1d_padding

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PADDINGS = [0, 1, 2, (2, 0), (0, 3), (1, 2), "valid", "same", "causal"]


# --------------------------------------------------------------------------- naive references


def naive_sides(padding: object, k: int, d: int) -> tuple[int, int]:
    """``(left, right)`` written out: causal puts all of d*(k-1) on the left, same splits it (extra right)."""
    total = d * (k - 1)
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (total, 0)
    if padding == "same":
        return (total // 2, total - total // 2)
    if isinstance(padding, int):
        return (padding, padding)
    return (int(padding[0]), int(padding[1]))  # type: ignore[index]


def naive_conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: int, stride: int,
                 sides: tuple[int, int], dilation: int) -> np.ndarray:
    """Loops over o, t, c, q on a zero-padded copy; ``x (C_in, L)``, ``w (C_out, C_in/groups, k)``."""
    C_in, L = x.shape
    C_out, per_group, k = w.shape
    xp = np.zeros((C_in, sides[0] + L + sides[1]))
    xp[:, sides[0] : sides[0] + L] = x
    L_out = (xp.shape[1] - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((C_out, L_out))
    for o in range(C_out):
        g = o // (C_out // groups)
        for t in range(L_out):
            acc = 0.0 if b is None else float(b[o])
            for c in range(per_group):
                for q in range(k):
                    acc += w[o, c, q] * xp[g * per_group + c, t * stride + q * dilation]
            y[o, t] = acc
    return y


def naive_conv1d_backward(x: np.ndarray, w: np.ndarray, dy: np.ndarray, groups: int, stride: int,
                          sides: tuple[int, int], dilation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every multiply-add's share of the gradients; padding's share dropped."""
    L = x.shape[1]
    C_out, per_group, k = w.shape
    gx, gw = np.zeros(x.shape), np.zeros(w.shape)
    for o in range(C_out):
        g = o // (C_out // groups)
        for t in range(dy.shape[1]):
            for c in range(per_group):
                for q in range(k):
                    pos = t * stride + q * dilation - sides[0]
                    if 0 <= pos < L:
                        gx[g * per_group + c, pos] += w[o, c, q] * dy[o, t]
                        gw[o, c, q] += x[g * per_group + c, pos] * dy[o, t]
    return gx, gw, dy.sum(axis=1)


@st.composite
def problems(draw: st.DrawFn) -> dict:
    """Random 1-D convolutions: groups, stride, dilation and every padding form."""
    groups = draw(st.integers(1, 3))
    per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, L = draw(st.integers(1, 4)), draw(st.integers(1, 9))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(PADDINGS))
    if padding == "same":
        stride = 1
    sides = naive_sides(padding, k, dilation)
    assume(dilation * (k - 1) + 1 <= L + sum(sides))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((groups * per_group, L)),
        "w": rng.standard_normal((groups * out_per_group, per_group, k)),
        "b": rng.standard_normal(groups * out_per_group) if draw(st.booleans()) else None,
        "kw": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
        "sides": sides, "rng": rng,
    }


@SETTINGS
@given(problems())
def test_conv1d_matches_naive_loops(p: dict) -> None:
    """conv1d and conv1d_backward equal the loops for every padding form, with groups."""
    kw = p["kw"]
    y = conv1d(p["x"], p["w"], p["b"], **kw)
    want = naive_conv1d(p["x"], p["w"], p["b"], kw["groups"], kw["stride"], p["sides"], kw["dilation"])
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    dy = p["rng"].standard_normal(y.shape)
    gx, gw, gb = conv1d_backward(p["x"], p["w"], dy, bias=p["b"], **kw)
    ex, ew, eb = naive_conv1d_backward(p["x"], p["w"], dy, kw["groups"], kw["stride"], p["sides"],
                                       kw["dilation"])
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, eb, rtol=1e-12, atol=1e-12)
    assert conv1d_padding(kw["padding"], p["w"].shape[-1], kw["stride"], kw["dilation"]) == p["sides"]


@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_causal_never_sees_the_future(k: int, dilation: int) -> None:
    """Causal padding: output t depends on inputs 0..t only, and the output is as long as the input."""
    rng = np.random.default_rng(k * 10 + dilation)
    x = rng.standard_normal((2, 12))
    w = rng.standard_normal((3, 2, k))
    y = conv1d(x, w, padding="causal", dilation=dilation)
    assert y.shape == (3, 12)
    for t in range(12):
        future = x.copy()
        future[:, t + 1 :] = rng.standard_normal(future[:, t + 1 :].shape)
        np.testing.assert_allclose(conv1d(future, w, padding="causal", dilation=dilation)[:, : t + 1],
                                   y[:, : t + 1], rtol=1e-13, atol=1e-13)
    # The last output reads x[-1], x[-1 - d], ... (its window ends on the present cell).
    want = sum(w[:, :, k - 1 - j] @ x[:, 11 - j * dilation] for j in range(k) if 11 - j * dilation >= 0)
    np.testing.assert_allclose(y[:, -1], want, rtol=1e-12)


def test_causal_hand_worked() -> None:
    """A running sum of two: y[t] = x[t-1] + x[t], with x[-1] = 0."""
    np.testing.assert_array_equal(conv1d(np.arange(5.0), np.ones(2), padding="causal"), [0, 1, 3, 5, 7])
    np.testing.assert_array_equal(conv1d(np.arange(5.0), np.ones(2), padding="same"), [1, 3, 5, 7, 4])


def test_conv1d_is_conv2d_of_height_one() -> None:
    """conv1d equals conv2d on (C, 1, L) with a (C_out, C_in/g, 1, k) kernel."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 15)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    y = conv1d(x, w, b, stride=2, padding=(2, 1), dilation=2, groups=2)
    y2 = conv2d(x[:, None], w[:, :, None], b, stride=(1, 2), padding=((0, 0), (2, 1)), dilation=(1, 2),
                groups=2)
    np.testing.assert_array_equal(y, y2[:, 0])


def test_forms() -> None:
    """(L,) with (k,) gives (L_out,) and grad_bias of shape (); any 2-D/3-D form gives (C_out, L_out)."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(8), rng.standard_normal(3)
    y = conv1d(x, w, 0.5, padding=1)
    assert y.shape == (8,)
    gx, gw, gb = conv1d_backward(x, w, np.ones(8), padding=1)
    assert (gx.shape, gw.shape, gb.shape) == ((8,), (3,), ())
    np.testing.assert_allclose(conv1d(x[None], w, padding=1), (y - 0.5)[None], rtol=1e-14)
    assert conv1d(x, w[None, None], padding=1).shape == (1, 8)
    assert conv1d(x, rng.standard_normal((4, 1, 3))).shape == (4, 6)
    gx, gw, gb = conv1d_backward(x[None], w, np.ones((1, 6)))
    assert (gx.shape, gw.shape, gb.shape) == ((1, 8), (3,), ())


@pytest.mark.parametrize("padding", ["causal", "same", (3, 1), 2])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv1d_backward_finite_differences(padding: object, groups: int) -> None:
    """grad_x, grad_w, grad_bias against centred differences."""
    rng = np.random.default_rng(groups)
    x, w, b = rng.standard_normal((2, 9)), rng.standard_normal((4, 2 // groups, 3)), rng.standard_normal(4)
    kw = {"padding": padding, "dilation": 2, "groups": groups, "stride": 1 if padding == "same" else 2}
    dy = rng.standard_normal(conv1d(x, w, b, **kw).shape)
    gx, gw, gb = conv1d_backward(x, w, dy, bias=b, **kw)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: float((conv1d(a, w, b, **kw) * dy).sum()), x),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_grad(lambda a: float((conv1d(x, a, b, **kw) * dy).sum()), w),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gb, numeric_grad(lambda a: float((conv1d(x, w, a, **kw) * dy).sum()), b),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_conv1d_adjoint_identity(seed: int) -> None:
    """<conv1d(x), dy> == <x, grad_x> == <w, grad_w>."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((3, 20)), rng.standard_normal((3, 1, 4))
    kw = {"padding": ["causal", 2, (0, 3)][seed], "stride": 1 + seed, "dilation": 1 + seed % 2, "groups": 3}
    y = conv1d(x, w, **kw)
    dy = rng.standard_normal(y.shape)
    gx, gw, _ = conv1d_backward(x, w, dy, **kw)
    assert float((y * dy).sum()) == pytest.approx(float((x * gx).sum()), rel=1e-10)
    assert float((y * dy).sum()) == pytest.approx(float((w * gw).sum()), rel=1e-10)


# --------------------------------------------------------------------------- traces


def test_conv1d_trace_steps() -> None:
    """A height-1 ConvTrace: windows on row 0, columns at the padded positions, totals rebuild the output."""
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 7)), rng.standard_normal((4, 1, 3)), rng.standard_normal(4)
    kw = {"padding": "causal", "dilation": 2, "groups": 2}
    want = naive_conv1d(x, w, b, 2, 1, (4, 0), 2)
    tr = trace_conv1d(x, w, b, **kw)
    assert len(tr) == want.size
    assert tr.out_shape == (4, 1, 7)
    xp = np.pad(x, ((0, 0), (4, 0)))
    for k in range(len(tr)):
        s = tr[k]
        o, t = divmod(k, 7)
        assert (s.out_channel, s.out_row, s.out_col, s.group) == (o, 0, t, o // 2)
        np.testing.assert_array_equal(s.window.rows, [0])
        np.testing.assert_array_equal(s.window.cols, t + 2 * np.arange(3))
        np.testing.assert_array_equal(s.window.kind[0], np.where(t + 2 * np.arange(3) < 4, 1, 0))
        np.testing.assert_array_equal(s.inputs[:, 0], xp[[o // 2]][:, t + 2 * np.arange(3)])
        assert s.total == pytest.approx(want[o, t], abs=1e-12)
    np.testing.assert_allclose(tr.partial(len(tr) - 1)[:, 0], want, rtol=1e-12, atol=1e-12)


def test_conv1d_backward_trace() -> None:
    """The backward trace's partial sums end at conv1d_backward's gradients (height-1 shapes)."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(9), rng.standard_normal(3)
    dy = rng.standard_normal(5)
    tr = trace_conv1d_backward(x, w, dy, stride=2, padding=1)
    gx, gw, gb = conv1d_backward(x, w, dy, stride=2, padding=1)
    assert len(tr) == 5
    full = tr.partial(4)
    np.testing.assert_allclose(full.grad_x[0, 0], gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full.grad_w[0, 0, 0], gw, rtol=1e-12, atol=1e-12)
    assert float(full.grad_bias[0]) == pytest.approx(float(gb))
    assert tr[2].grad == dy[2]


# --------------------------------------------------------------------------- errors

X1 = np.ones((2, 6))
W1 = np.ones((3, 2, 3))


@pytest.mark.parametrize(
    ("x", "w", "kwargs", "exc", "match"),
    [
        pytest.param(X1, W1, {"padding": "full"}, ValueError,
                     r"padding must be a number, a \(left, right\) pair, 'valid', 'same' or 'causal', "
                     r"got 'full'",
                     id="pad-word"),
        pytest.param(X1, W1, {"padding": "same", "stride": 2}, ValueError,
                     r"padding 'same' needs stride 1, got stride 2", id="same-stride"),
        pytest.param(X1, W1, {"padding": -1}, ValueError, r"padding cannot be negative, got \(-1, -1\)",
                     id="pad-neg"),
        pytest.param(X1, W1, {"padding": (1, 2, 3)}, ValueError,
                     r"padding must be one number or a \(left, right\) pair", id="pad-3"),
        pytest.param(X1, W1, {"padding": 1.5}, TypeError, r"padding must be a whole number, got 1\.5",
                     id="pad-float"),
        pytest.param(X1, W1, {"stride": 0}, ValueError, r"stride must be at least 1, got 0", id="stride-0"),
        pytest.param(X1, W1, {"stride": (1, 2)}, TypeError, r"stride must be a whole number, got \(1, 2\)",
                     id="stride-pair"),
        pytest.param(X1, W1, {"dilation": 0}, ValueError, r"dilation must be at least 1, got 0", id="dil-0"),
        pytest.param(X1, W1, {"dilation": 3}, ValueError,
                     r"dilated kernel \(7: kernel 3, dilation 3\) is longer than the padded input "
                     r"\(6: length 6 \+ padding 0 \+ 0\)", id="too-long"),
        pytest.param(X1, np.ones((3, 1, 3)), {}, ValueError,
                     r"kernel w expects 1 input channel\(s\) but input x has 2", id="channels"),
        pytest.param(X1, W1, {"groups": 2}, ValueError,
                     r"groups=2 must divide the output channels evenly: kernel w has 3", id="groups"),
        pytest.param(np.ones((1, 2, 6)), W1, {}, ValueError, r"input x must be 1-D or 2-D, got 3-D",
                     id="x-3d"),
        pytest.param(X1, np.ones((3, 3)), {}, ValueError, r"kernel w must be 1-D or 3-D, got 2-D",
                     id="w-2d"),
        pytest.param(X1, W1, {"padding": "causal", "dilation": 3}, None, None, id="causal-fits"),
    ],
)
def test_conv1d_bad_arguments(x: np.ndarray, w: np.ndarray, kwargs: dict, exc: type | None,
                              match: str | None) -> None:
    """conv1d, its backward and traces refuse in 1-D words (causal padding makes a long kernel fit)."""
    if exc is None:
        assert conv1d(x, w, **kwargs).shape == (3, 6)
        return
    dy = np.ones((3, 4))
    for call in (lambda: conv1d(x, w, **kwargs), lambda: conv1d_backward(x, w, dy, **kwargs),
                 lambda: trace_conv1d(x, w, **kwargs), lambda: trace_conv1d_backward(x, w, dy, **kwargs)):
        with pytest.raises(exc, match=match):
            call()


def test_conv1d_grad_out_checked() -> None:
    """grad_out must have the output's 1-D/2-D shape."""
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(3, 4\), got \(3, 5\)"):
        conv1d_backward(X1, W1, np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"grad_out must be 1-D"):
        conv1d_backward(np.ones(6), np.ones(3), np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(4,\), got \(6,\)"):
        trace_conv1d_backward(np.ones(6), np.ones(3), np.ones(6))
