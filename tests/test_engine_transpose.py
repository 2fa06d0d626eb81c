"""Transposed convolution against loops from its definition, finite differences and the adjoint identity.

The reference stamps every input cell: ``x[c, i, j] * w[c, o, p, q]`` lands on
output cell ``(g*C_out/groups + o, i*s - pad + p*d, j*s - pad + q*d)`` when that
cell exists. Nothing here uses ``conv2d`` to compute an expected value, except
the adjoint tests, whose point is the relation between the two.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_gradients import numeric_grad

from engine import (
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    conv_transpose2d_backward,
    output_size,
    transposed_output_size,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Pair = tuple[int, int]


# --------------------------------------------------------------------------- naive references


def naive_transposed_size(n: int, k: int, s: int, p: int, op: int, d: int) -> int:
    """Output length by walking the stamps: one past the last full-grid row any stamp reaches, plus
    ``output_padding``, less the padding cropped from each side."""
    last = 0
    for i in range(n):
        for t in range(k):
            last = max(last, i * s + t * d)
    return last + 1 + op - 2 * p


def naive_conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: int, stride: Pair,
                         pad: Pair, out_pad: Pair, dilation: Pair) -> np.ndarray:
    """Stamp every input cell onto the output; ``x (C_in, H, W)``, ``w (C_in, C_out/groups, kh, kw)``."""
    C_in, H, W = x.shape
    _, per_group, kh, kw = w.shape
    Ho = naive_transposed_size(H, kh, stride[0], pad[0], out_pad[0], dilation[0])
    Wo = naive_transposed_size(W, kw, stride[1], pad[1], out_pad[1], dilation[1])
    y = np.zeros((per_group * groups, Ho, Wo))
    if b is not None:
        y += np.reshape(b, (-1, 1, 1))
    in_per_group = C_in // groups
    for c in range(C_in):
        g = c // in_per_group
        for i in range(H):
            for j in range(W):
                for o in range(per_group):
                    for p in range(kh):
                        for q in range(kw):
                            r = i * stride[0] - pad[0] + p * dilation[0]
                            col = j * stride[1] - pad[1] + q * dilation[1]
                            if 0 <= r < Ho and 0 <= col < Wo:
                                y[g * per_group + o, r, col] += x[c, i, j] * w[c, o, p, q]
    return y


def naive_conv_transpose_backward(x: np.ndarray, w: np.ndarray, dy: np.ndarray, groups: int, stride: Pair,
                                  pad: Pair, dilation: Pair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients by visiting every stamp tap that landed and adding its share."""
    C_in, H, W = x.shape
    _, per_group, kh, kw = w.shape
    _, Ho, Wo = dy.shape
    gx, gw = np.zeros(x.shape), np.zeros(w.shape)
    in_per_group = C_in // groups
    for c in range(C_in):
        g = c // in_per_group
        for i in range(H):
            for j in range(W):
                for o in range(per_group):
                    for p in range(kh):
                        for q in range(kw):
                            r = i * stride[0] - pad[0] + p * dilation[0]
                            col = j * stride[1] - pad[1] + q * dilation[1]
                            if 0 <= r < Ho and 0 <= col < Wo:
                                d = dy[g * per_group + o, r, col]
                                gx[c, i, j] += w[c, o, p, q] * d
                                gw[c, o, p, q] += x[c, i, j] * d
    return gx, gw, dy.sum(axis=(1, 2))


@st.composite
def transposed_problems(draw: st.DrawFn) -> dict:
    """Random transposed convolutions: groups, stride, padding, output_padding < max(stride, dilation)."""
    groups = draw(st.integers(1, 3))
    in_per_group, per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    pad = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    sizes = [naive_transposed_size(n, k, s, p, op, d)
             for n, k, s, p, op, d in zip((H, W), (kh, kw), stride, pad, out_pad, dilation, strict=True)]
    pad = tuple(p if n >= 1 else 0 for p, n in zip(pad, sizes, strict=True))  # keep the output non-empty
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    C_in = groups * in_per_group
    return {
        "x": rng.standard_normal((C_in, H, W)),
        "w": rng.standard_normal((C_in, per_group, kh, kw)),
        "b": rng.standard_normal(groups * per_group) if draw(st.booleans()) else None,
        "groups": groups, "stride": stride, "padding": pad, "output_padding": out_pad, "dilation": dilation,
        "rng": rng,
    }


def _kwargs(p: dict) -> dict:
    return {k: p[k] for k in ("stride", "padding", "output_padding", "dilation", "groups")}


@SETTINGS
@given(transposed_problems())
def test_conv_transpose_matches_naive_stamps(p: dict) -> None:
    """Forward and backward equal the stamping loops, with groups, dilation and output_padding."""
    y = conv_transpose2d(p["x"], p["w"], p["b"], **_kwargs(p))
    want = naive_conv_transpose(p["x"], p["w"], p["b"], p["groups"], p["stride"], p["padding"],
                                p["output_padding"], p["dilation"])
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    dy = p["rng"].standard_normal(y.shape)
    gx, gw, gb = conv_transpose2d_backward(p["x"], p["w"], dy, bias=p["b"], **_kwargs(p))
    ex, ew, eb = naive_conv_transpose_backward(p["x"], p["w"], dy, p["groups"], p["stride"], p["padding"],
                                               p["dilation"])
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, eb, rtol=1e-12, atol=1e-12)


def test_transposed_output_size_formula() -> None:
    """The closed form equals the walked stamps; and it undoes output_size (output_padding picks the size)."""
    for n in range(1, 7):
        for k in range(1, 5):
            for s in range(1, 4):
                for d in range(1, 3):
                    for p in range(0, 3):
                        for op in range(max(s, d)):
                            want = naive_transposed_size(n, k, s, p, op, d)
                            if want < 1:
                                with pytest.raises(ValueError, match="output would be empty"):
                                    transposed_output_size(n, k, s, p, op, d)
                                continue
                            got = transposed_output_size(n, k, s, p, op, d)
                            assert got == want
                            if op < s:  # every such size convolves back to n
                                assert output_size(got, k, s, p, d) == n


# --------------------------------------------------------------------------- the adjoint of conv2d


@st.composite
def conv_problems(draw: st.DrawFn) -> dict:
    """A grouped convolution and the output_padding that makes its transpose come back to its input size."""
    groups = draw(st.integers(1, 3))
    C_in, C_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    spans = [d * (kk - 1) + 1 for kk, d in zip(k, dilation, strict=True)]
    H = draw(st.integers(max(1, spans[0] - 2 * pad[0]), 7))
    W = draw(st.integers(max(1, spans[1] - 2 * pad[1]), 7))
    out_pad = tuple((n + 2 * p - sp) % s for n, p, sp, s in zip((H, W), pad, spans, stride, strict=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"x": rng.standard_normal((C_in, H, W)), "w": rng.standard_normal((C_out, C_in // groups, *k)),
            "stride": stride, "padding": pad, "dilation": dilation, "groups": groups,
            "output_padding": out_pad, "rng": rng}


@SETTINGS
@given(conv_problems())
def test_adjoint_identity_with_conv2d(p: dict) -> None:
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: conv2d's input gradient is the transposed one."""
    conv_kw = {k: p[k] for k in ("stride", "padding", "dilation", "groups")}
    y_shape = conv2d(p["x"], p["w"], **conv_kw).shape
    y = p["rng"].standard_normal(y_shape)
    back = conv_transpose2d(y, p["w"], output_padding=p["output_padding"], **conv_kw)
    assert back.shape == p["x"].shape
    lhs = float((conv2d(p["x"], p["w"], **conv_kw) * y).sum())
    assert lhs == pytest.approx(float((p["x"] * back).sum()), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(conv2d_backward(p["x"], p["w"], y, **conv_kw)[0], back, rtol=1e-12, atol=1e-12)
    # And the transposed convolution's input gradient is conv2d.
    gy, _, _ = conv_transpose2d_backward(y, p["w"], p["x"], output_padding=p["output_padding"], **conv_kw)
    np.testing.assert_allclose(gy, conv2d(p["x"], p["w"], **conv_kw), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- gradients and edge cases

FD_CONFIGS = [
    pytest.param({"stride": 2, "padding": 1, "output_padding": 1}, id="s2-p1-op1"),
    pytest.param({"stride": (1, 3), "padding": (0, 2), "dilation": (2, 1), "output_padding": (1, 2)},
                 id="dilation-op"),
    pytest.param({"stride": 1, "dilation": 3, "output_padding": 2}, id="op-from-dilation"),
    pytest.param({"stride": 3, "padding": 2, "groups": 2}, id="groups"),
    pytest.param({"stride": 2, "groups": 4}, id="depthwise"),
]


@pytest.mark.parametrize("config", FD_CONFIGS)
def test_conv_transpose_backward_finite_differences(config: dict) -> None:
    """grad_x, grad_w and grad_bias match centred finite differences."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 4))
    per_group = 2 if config.get("groups", 1) == 4 else 3
    w = rng.standard_normal((4, per_group, 3, 2))
    b = rng.standard_normal(per_group * config.get("groups", 1))
    dy = rng.standard_normal(conv_transpose2d(x, w, b, **config).shape)
    gx, gw, gb = conv_transpose2d_backward(x, w, dy, bias=b, **config)

    def loss(xx: np.ndarray, ww: np.ndarray, bb: np.ndarray) -> float:
        return float((conv_transpose2d(xx, ww, bb, **config) * dy).sum())

    np.testing.assert_allclose(gx, numeric_grad(lambda a: loss(a, w, b), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_grad(lambda a: loss(x, a, b), w), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gb, numeric_grad(lambda a: loss(x, w, a), b), rtol=1e-6, atol=1e-7)


def test_output_padding_past_every_stamp_is_bias_only() -> None:
    """Stride 1, dilation 2, output_padding 1, no padding: no stamp reaches the extra last row/column."""
    x = np.arange(1.0, 7.0).reshape(2, 3)
    w = np.ones((2, 2))
    y = conv_transpose2d(x, w, 0.5, dilation=2, output_padding=1)
    assert y.shape == (2 + 2 + 1, 3 + 2 + 1)
    np.testing.assert_array_equal(y[-1], 0.5)
    np.testing.assert_array_equal(y[:, -1], 0.5)
    np.testing.assert_allclose(y, naive_conv_transpose(x[None], w[None, None], np.array([0.5]), 1, (1, 1),
                                                       (0, 0), (1, 1), (2, 2))[0])


def test_stride_two_kernel_two_hand_worked() -> None:
    """k=2, s=2: every input cell becomes its own 2x2 block, x[i, j] * w (no overlap)."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 10.0], [100.0, 1000.0]])
    want = np.kron(x, w)
    np.testing.assert_array_equal(conv_transpose2d(x, w, stride=2), want)
    # Cropping one row/column from every side, then adding one back on the bottom/right.
    np.testing.assert_array_equal(conv_transpose2d(x, w, stride=2, padding=1, output_padding=1), want[1:, 1:])


def test_single_channel_forms() -> None:
    """2-D x and w give a 2-D output and gradients, grad_bias of shape (); mixed forms stay 3-D."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((2, 3))
    y = conv_transpose2d(x, w, 1.5, stride=2, padding=1)
    assert y.shape == (transposed_output_size(3, 2, 2, 1), transposed_output_size(4, 3, 2, 1))
    gx, gw, gb = conv_transpose2d_backward(x, w, np.ones(y.shape), stride=2, padding=1)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == ()
    y3 = conv_transpose2d(x, w[None, None], stride=2, padding=1)
    np.testing.assert_allclose(y3[0], y - 1.5)
    assert conv_transpose2d(x[None], w, stride=2, padding=1).shape == (1, *y.shape)


def test_depthwise_is_per_channel() -> None:
    """groups == C_in: each input channel stamps only onto its own output channels."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((3, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    y = conv_transpose2d(x, w, stride=2, padding=1, groups=3)
    for c in range(3):
        for o in range(2):
            np.testing.assert_allclose(y[2 * c + o], conv_transpose2d(x[c], w[c, o], stride=2, padding=1),
                                       rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------- errors

XT = np.ones((4, 3, 3))
WT = np.ones((4, 2, 3, 3))


@pytest.mark.parametrize(
    ("x", "w", "kwargs", "exc", "match"),
    [
        pytest.param(XT, WT, {"output_padding": 2, "stride": 2}, ValueError,
                     r"output_padding must be smaller than the stride or the dilation, got 2 with stride 2 "
                     r"and dilation 1 \(for the height\)", id="op-too-big"),
        pytest.param(XT, WT, {"output_padding": (0, 1)}, ValueError,
                     r"output_padding must be smaller .* got 1 with stride 1 and dilation 1 "
                     r"\(for the width\)",
                     id="op-stride1"),
        pytest.param(XT, WT, {"output_padding": -1}, ValueError, r"output_padding must be at least 0, got -1",
                     id="op-neg"),
        pytest.param(XT, WT, {"output_padding": 0.5}, TypeError, r"output_padding must be a whole number",
                     id="op-float"),
        pytest.param(XT, WT, {"padding": 3}, ValueError,
                     r"the transposed convolution's output would be empty \(-1\).*\(for the height\)",
                     id="empty"),
        pytest.param(XT, WT, {"padding": "same"}, ValueError,
                     r"a transposed convolution takes padding as one number or an \(h, w\) pair, got 'same'",
                     id="pad-same"),
        pytest.param(XT, WT, {"padding": ((1, 0), (0, 1))}, ValueError, r"takes padding as one number",
                     id="pad-sides"),
        pytest.param(XT, WT, {"padding": -1}, ValueError, r"padding must be at least 0, got -1",
                     id="pad-neg"),
        pytest.param(XT, WT, {"stride": 0}, ValueError, r"stride must be at least 1, got 0", id="stride-0"),
        pytest.param(XT, WT, {"dilation": (1, 0)}, ValueError,
                     r"dilation must be at least 1, got 0 \(for the width\)", id="dilation-0"),
        pytest.param(XT, np.ones((3, 2, 3, 3)), {}, ValueError,
                     r"kernel w has one block per input channel, \(C_in, C_out/groups, kh, kw\): w has 3 but "
                     r"input x has 4 channel\(s\)", id="channels"),
        pytest.param(XT, WT, {"groups": 3}, ValueError,
                     r"groups=3 must divide the input channels evenly: input x has 4 channel\(s\)",
                     id="groups"),
        pytest.param(XT, WT, {"groups": 0}, ValueError, r"groups must be at least 1, got 0", id="groups-0"),
        pytest.param(XT, np.ones((4, 3)), {}, ValueError,
                     r"kernel w has one block per input channel.*w has 1 but input x has 4", id="w-2d-x-3d"),
        pytest.param(np.ones(4), WT, {}, ValueError, r"input x must be 2-D or 3-D, got 1-D", id="x-1d"),
        pytest.param(XT, np.full((4, 2, 3, 3), np.nan), {}, ValueError, r"kernel w must hold finite numbers",
                     id="w-nan"),
    ],
)
def test_conv_transpose_bad_arguments(
    x: np.ndarray, w: np.ndarray, kwargs: dict, exc: type, match: str
) -> None:
    """conv_transpose2d and its backward refuse the arguments in plain words."""
    with pytest.raises(exc, match=match):
        conv_transpose2d(x, w, **kwargs)
    with pytest.raises(exc, match=match):
        conv_transpose2d_backward(x, w, np.ones((8, 5, 5)), **kwargs)


def test_conv_transpose_bias_and_grad_out_checked() -> None:
    """Bias length and the upstream gradient's shape are named in the message."""
    with pytest.raises(ValueError, match=r"bias must have one value per output channel \(4\), got 2"):
        conv_transpose2d(XT, WT, np.ones(2), groups=2)
    with pytest.raises(ValueError, match=r"output's shape \(2, 5, 5\), got \(2, 5, 6\)"):
        conv_transpose2d_backward(XT, WT, np.ones((2, 5, 6)))
    with pytest.raises(ValueError, match=r"grad_out must be 2-D"):
        conv_transpose2d_backward(np.ones((3, 3)), np.ones((2, 2)), np.ones((1, 4, 4)))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((3, 2, 2, 0, 2), r"output_padding must be smaller than the stride or the dilation, got 2"),
        ((1, 1, 1, 1), r"output would be empty \(-1\)"),
        ((0, 3), r"size must be at least 1, got 0"),
        ((3, 3, 1, -1), r"padding cannot be negative, got -1"),
    ],
)
def test_transposed_output_size_bad_arguments(args: tuple, match: str) -> None:
    """transposed_output_size names what is wrong."""
    with pytest.raises(ValueError, match=match):
        transposed_output_size(*args)
