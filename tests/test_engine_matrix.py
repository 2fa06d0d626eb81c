"""Convolution as a matrix: built entry by entry here, then its product and transpose against the engine."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_engine_reference import naive_out_size, naive_source

from engine import (
    MAX_MATRIX_ENTRIES,
    conv2d,
    conv2d_backward,
    conv_matrix,
    conv_transpose2d,
)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = ("zeros", "reflect", "replicate", "circular")


def naive_matrix(in_shape: tuple[int, int, int], w: np.ndarray, groups: int, stride: tuple[int, int],
                 pads: tuple[tuple[int, int], tuple[int, int]], dilation: tuple[int, int],
                 mode: str) -> np.ndarray:
    """Row per output cell, column per input cell: add each tap's weight at the input cell it reads."""
    C_in, H, W = in_shape
    C_out, per_group, kh, kw = w.shape
    Ho = naive_out_size(H, kh, stride[0], *pads[0], dilation[0], False)
    Wo = naive_out_size(W, kw, stride[1], *pads[1], dilation[1], False)
    src_r, src_c = naive_source(H, *pads[0], mode), naive_source(W, *pads[1], mode)
    m = np.zeros((C_out * Ho * Wo, C_in * H * W))
    for o in range(C_out):
        g = o // (C_out // groups)
        for i in range(Ho):
            for j in range(Wo):
                row = (o * Ho + i) * Wo + j
                for c in range(per_group):
                    for p in range(kh):
                        for q in range(kw):
                            r = src_r[i * stride[0] + p * dilation[0]]
                            col = src_c[j * stride[1] + q * dilation[1]]
                            if r is not None and col is not None:
                                m[row, ((g * per_group + c) * H + r) * W + col] += w[o, c, p, q]
    return m


@st.composite
def problems(draw: st.DrawFn) -> dict:
    """Small convolutions in every padding mode, with groups, stride and dilation."""
    groups = draw(st.integers(1, 2))
    per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(MODES))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    pads = ((p[0], p[0]), (p[1], p[1]))
    for n, k, d, pp in ((H, kh, dilation[0], p[0]), (W, kw, dilation[1], p[1])):
        assume(d * (k - 1) + 1 <= n + 2 * pp)
        assume(mode != "reflect" or pp < n)
        assume(mode != "circular" or pp <= n)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((groups * per_group, H, W)),
        "w": rng.standard_normal((groups * out_per_group, per_group, kh, kw)),
        "groups": groups, "stride": stride, "dilation": dilation, "pads": pads, "padding": p,
        "mode": mode, "rng": rng,
    }


@SETTINGS
@given(problems())
def test_conv_matrix_is_the_convolution(p: dict) -> None:
    """The matrix equals the entry-by-entry one; C @ x is conv2d, C.T @ dy its input gradient."""
    kw = {"padding": p["padding"], "dilation": p["dilation"], "groups": p["groups"],
          "padding_mode": p["mode"]}
    m = conv_matrix(p["x"].shape, p["w"], p["stride"], **kw)
    want = naive_matrix(p["x"].shape, p["w"], p["groups"], p["stride"], p["pads"], p["dilation"], p["mode"])
    np.testing.assert_allclose(m, want, rtol=1e-13, atol=1e-13)
    y = conv2d(p["x"], p["w"], stride=p["stride"], **kw)
    np.testing.assert_allclose(m @ p["x"].ravel(), y.ravel(), rtol=1e-12, atol=1e-12)
    dy = p["rng"].standard_normal(y.shape)
    gx, _, _ = conv2d_backward(p["x"], p["w"], dy, stride=p["stride"], **kw)
    np.testing.assert_allclose(m.T @ dy.ravel(), gx.ravel(), rtol=1e-12, atol=1e-12)
    if p["mode"] == "zeros":
        # The transpose is the transposed convolution, with the output_padding that restores H x W.
        H, W = p["x"].shape[1:]
        out_pad = tuple((n + 2 * pp - d * (k - 1) - 1) % s for n, pp, d, k, s in zip(
            (H, W), p["padding"], p["dilation"], p["w"].shape[2:], p["stride"], strict=True))
        back = conv_transpose2d(dy, p["w"], stride=p["stride"], padding=p["padding"], dilation=p["dilation"],
                                groups=p["groups"], output_padding=out_pad)
        np.testing.assert_allclose(m.T @ dy.ravel(), back.ravel(), rtol=1e-12, atol=1e-12)


def test_conv_matrix_small_hand_worked() -> None:
    """A 1x3 kernel on a 1x4 row, valid: the matrix is the kernel sliding along a band."""
    m = conv_matrix((1, 4), np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(m, [[1, 2, 3, 0], [0, 1, 2, 3]])
    m = conv_matrix((1, 4), np.array([[1.0, 2.0, 3.0]]), padding=(0, 1))
    np.testing.assert_array_equal(m, [[2, 3, 0, 0], [1, 2, 3, 0], [0, 1, 2, 3], [0, 0, 1, 2]])
    flipped = conv_matrix((1, 4), np.array([[1.0, 2.0, 3.0]]), flip_kernel=True)
    np.testing.assert_array_equal(flipped, [[3, 2, 1, 0], [0, 3, 2, 1]])


def test_conv_matrix_forms_and_the_documented_example() -> None:
    """(H, W) and (C_in, H, W) shapes; a 16x16 input with a 3x3 kernel is 196 x 256."""
    w = np.ones((3, 3))
    assert conv_matrix((16, 16), w).shape == (196, 256)
    assert conv_matrix([1, 16, 16], w).shape == (196, 256)
    assert conv_matrix((2, 5, 5), np.ones((4, 2, 3, 3)), padding=1).shape == (100, 50)


def test_conv_matrix_size_limit() -> None:
    """Up to MAX_MATRIX_ENTRIES entries it builds; one row or column more and it refuses, early."""
    assert MAX_MATRIX_ENTRIES == 100_000
    assert conv_matrix((1, 316), np.ones((1, 1))).shape == (316, 316)  # 99,856 entries
    with pytest.raises(ValueError, match=r"would be 317 x 317 = 100,489 entries, more than the 100,000"):
        conv_matrix((1, 317), np.ones((1, 1)))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"more than the 100,000 conv_matrix builds"):
            conv_matrix((3, 4096, 4096), np.ones((3, 3)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.parametrize(
    ("in_shape", "w", "kwargs", "exc", "match"),
    [
        pytest.param((5,), np.ones((3, 3)), {}, ValueError,
                     r"in_shape must be \(H, W\) or \(C_in, H, W\), got \(5,\)", id="1d"),
        pytest.param("5x5", np.ones((3, 3)), {}, ValueError, r"in_shape must be", id="str"),
        pytest.param((0, 5), np.ones((3, 3)), {}, ValueError,
                     r"in_shape must be positive on every axis, got \(0, 5\)", id="zero"),
        pytest.param((5.0, 5), np.ones((3, 3)), {}, TypeError, r"in_shape must be a whole number, got 5\.0",
                     id="float"),
        pytest.param((2, 5, 5), np.ones((3, 3)), {}, ValueError,
                     r"kernel w expects 1 input channel\(s\) but input x has 2", id="channels"),
        pytest.param((5, 5), np.ones((3, 3)), {"stride": 0}, ValueError, r"stride must be at least 1",
                     id="stride"),
        pytest.param((5, 5), np.ones((7, 7)), {}, ValueError, r"dilated kernel \(7 rows", id="too-big"),
    ],
)
def test_conv_matrix_bad_arguments(
    in_shape: object, w: np.ndarray, kwargs: dict, exc: type, match: str
) -> None:
    """Bad shapes and arguments are refused in conv2d's words."""
    with pytest.raises(exc, match=match):
        conv_matrix(in_shape, w, **kwargs)  # type: ignore[arg-type]
