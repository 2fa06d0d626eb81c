"""Grouped convolution (``groups``): naive loops, finite differences, the adjoint identity, traces, errors.

The reference here is a loop over every multiply-add with the group rule
written out: output channel ``o`` of group ``o // (C_out/groups)`` reads input
channels ``g*C_in/groups ... (g+1)*C_in/groups - 1`` only.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_engine_gradients import numeric_grad
from test_engine_reference import naive_out_size, naive_pad, naive_source

from engine import conv2d, conv2d_backward, trace_conv2d, trace_conv2d_backward
from engine.backprop import gather_input_grad
from engine.conv import prepare_conv
from engine.describe import conv_backward_arithmetic

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Pads = tuple[tuple[int, int], tuple[int, int]]
MODES = ("zeros", "reflect", "replicate", "circular")


# --------------------------------------------------------------------------- naive references


def naive_grouped_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: int,
                       stride: tuple[int, int], pads: Pads, dilation: tuple[int, int],
                       mode: str = "zeros") -> np.ndarray:
    """Grouped cross-correlation by loops over o, oh, ow, c, i, j.

    ``x (C_in, H, W)``, ``w (C_out, C_in/groups, kh, kw)``; returns ``(C_out, H_out, W_out)``.
    """
    C_out, per_group, kh, kw = w.shape
    _, H, W = x.shape
    xp = naive_pad(x, pads, mode)
    Ho = naive_out_size(H, kh, stride[0], *pads[0], dilation[0], False)
    Wo = naive_out_size(W, kw, stride[1], *pads[1], dilation[1], False)
    y = np.zeros((C_out, Ho, Wo))
    out_per_group = C_out // groups
    for o in range(C_out):
        g = o // out_per_group
        for oh in range(Ho):
            for ow in range(Wo):
                acc = 0.0 if b is None else float(b[o])
                for c in range(per_group):
                    for i in range(kh):
                        for j in range(kw):
                            acc += w[o, c, i, j] * xp[g * per_group + c, oh * stride[0] + i * dilation[0],
                                                      ow * stride[1] + j * dilation[1]]
                y[o, oh, ow] = acc
    return y


def naive_grouped_conv_backward(x: np.ndarray, w: np.ndarray, dy: np.ndarray, groups: int,
                                stride: tuple[int, int], pads: Pads, dilation: tuple[int, int],
                                mode: str = "zeros") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients by adding every multiply-add's share; padding's share folded back by ``naive_source``."""
    C_out, per_group, kh, kw = w.shape
    _, H, W = x.shape
    xp = naive_pad(x, pads, mode)
    gxp = np.zeros_like(xp)
    gw = np.zeros(w.shape)
    out_per_group = C_out // groups
    for o in range(C_out):
        g = o // out_per_group
        for oh in range(dy.shape[1]):
            for ow in range(dy.shape[2]):
                d = dy[o, oh, ow]
                for c in range(per_group):
                    for i in range(kh):
                        for j in range(kw):
                            r, q = oh * stride[0] + i * dilation[0], ow * stride[1] + j * dilation[1]
                            gxp[g * per_group + c, r, q] += w[o, c, i, j] * d
                            gw[o, c, i, j] += xp[g * per_group + c, r, q] * d
    gx = np.zeros(x.shape)
    src_r, src_c = naive_source(H, *pads[0], mode), naive_source(W, *pads[1], mode)
    for r, sr in enumerate(src_r):
        for q, sc in enumerate(src_c):
            if sr is not None and sc is not None:
                gx[:, sr, sc] += gxp[:, r, q]
    return gx, gw, dy.sum(axis=(1, 2))


# --------------------------------------------------------------------------- against the loops


@st.composite
def grouped_problems(draw: st.DrawFn) -> dict:
    """Random grouped convolutions, depthwise (groups == C_in) included, in every padding mode."""
    groups = draw(st.integers(1, 4))
    per_group = draw(st.integers(1, 2))
    out_per_group = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(MODES))
    pads = (
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
    )
    for n, k, d, (a, b) in ((H, kh, dilation[0], pads[0]), (W, kw, dilation[1], pads[1])):
        assume(d * (k - 1) + 1 <= n + a + b)
        assume(mode != "reflect" or max(a, b) < n)
        assume(mode != "circular" or max(a, b) <= n)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    C_in, C_out = groups * per_group, groups * out_per_group
    return {
        "x": rng.standard_normal((C_in, H, W)),
        "w": rng.standard_normal((C_out, per_group, kh, kw)),
        "b": rng.standard_normal(C_out) if draw(st.booleans()) else None,
        "groups": groups, "stride": stride, "dilation": dilation, "pads": pads, "mode": mode, "rng": rng,
    }


@SETTINGS
@given(grouped_problems())
def test_grouped_conv_matches_naive_loops(p: dict) -> None:
    """conv2d and conv2d_backward with groups equal the loops, in every padding mode."""
    kw = {"stride": p["stride"], "padding": p["pads"], "dilation": p["dilation"], "padding_mode": p["mode"],
          "groups": p["groups"]}
    y = conv2d(p["x"], p["w"], p["b"], **kw)
    want = naive_grouped_conv(p["x"], p["w"], p["b"], p["groups"], p["stride"], p["pads"], p["dilation"],
                              p["mode"])
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    dy = p["rng"].standard_normal(y.shape)
    gx, gw, gb = conv2d_backward(p["x"], p["w"], dy, bias=p["b"], **kw)
    ex, ew, eb = naive_grouped_conv_backward(p["x"], p["w"], dy, p["groups"], p["stride"], p["pads"],
                                             p["dilation"], p["mode"])
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, eb, rtol=1e-12, atol=1e-12)


def test_groups_equal_separate_convolutions() -> None:
    """groups=g is g independent convolutions on channel slices, stacked."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 7, 8))
    w = rng.standard_normal((9, 2, 3, 3))
    b = rng.standard_normal(9)
    y = conv2d(x, w, b, padding=1, stride=2, groups=3)
    parts = [conv2d(x[2 * g : 2 * g + 2], w[3 * g : 3 * g + 3], b[3 * g : 3 * g + 3], padding=1, stride=2)
             for g in range(3)]
    np.testing.assert_allclose(y, np.concatenate(parts), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_is_per_channel(multiplier: int) -> None:
    """groups == C_in: each output channel is one 2-D convolution of its own input channel."""
    rng = np.random.default_rng(multiplier)
    x = rng.standard_normal((4, 9, 9))
    w = rng.standard_normal((4 * multiplier, 1, 3, 3))
    y = conv2d(x, w, padding="same", groups=4)
    for o in range(4 * multiplier):
        np.testing.assert_allclose(y[o], conv2d(x[o // multiplier], w[o, 0], padding="same"), rtol=1e-13,
                                   atol=1e-13)


def test_groups_one_is_unchanged() -> None:
    """groups=1 (the default) gives bit-for-bit what conv2d gave before groups existed."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 10, 11)), rng.standard_normal((4, 3, 3, 3))
    for kw in ({"padding": 1}, {"stride": 2, "padding": 2}):
        np.testing.assert_array_equal(conv2d(x, w, **kw), conv2d(x, w, groups=1, **kw))
        dy = rng.standard_normal(conv2d(x, w, **kw).shape)
        before, after = conv2d_backward(x, w, dy, **kw), conv2d_backward(x, w, dy, groups=1, **kw)
        for a, b in zip(before, after, strict=True):
            np.testing.assert_array_equal(a, b)


def test_grouped_medium_size_blocks() -> None:
    """A 6x40x50 input with depthwise and 3-group kernels: several im2col blocks, against the loops' rule."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 40, 50))
    for groups, w in ((6, rng.standard_normal((6, 1, 3, 3))), (3, rng.standard_normal((6, 2, 3, 3)))):
        for stride in (1, 2):
            y = conv2d(x, w, padding=1, stride=stride, groups=groups)
            per = 6 // groups
            parts = [conv2d(x[g * per : (g + 1) * per], w[g * (6 // groups) : (g + 1) * (6 // groups)],
                            padding=1, stride=stride) for g in range(groups)]
            np.testing.assert_allclose(y, np.concatenate(parts), rtol=1e-12, atol=1e-12)
            dy = rng.standard_normal(y.shape)
            gx, gw, _ = conv2d_backward(x, w, dy, padding=1, stride=stride, groups=groups)
            assert float((y * dy).sum()) == pytest.approx(float((x * gx).sum()), rel=1e-10)
            assert float((y * dy).sum()) == pytest.approx(float((w * gw).sum()), rel=1e-10)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("groups", "w_shape"), [(2, (4, 2, 2, 3)), (4, (4, 1, 3, 3)), (4, (8, 1, 2, 2))])
def test_grouped_backward_finite_differences(mode: str, groups: int, w_shape: tuple[int, ...]) -> None:
    """grad_x, grad_w and grad_bias of a grouped (and depthwise) convolution match centred differences."""
    rng = np.random.default_rng(groups)
    x = rng.standard_normal((4, 5, 6))
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    kw = {"padding": ((1, 0), (2, 1)), "stride": (1, 2), "dilation": (2, 1), "padding_mode": mode,
          "groups": groups}
    dy = rng.standard_normal(conv2d(x, w, b, **kw).shape)
    gx, gw, gb = conv2d_backward(x, w, dy, bias=b, **kw)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: float((conv2d(a, w, b, **kw) * dy).sum()), x),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_grad(lambda a: float((conv2d(x, a, b, **kw) * dy).sum()), w),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gb, numeric_grad(lambda a: float((conv2d(x, w, a, **kw) * dy).sum()), b),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_grouped_adjoint_identity(seed: int) -> None:
    """<conv(x), dy> == <x, grad_x> == <w, grad_w> with groups."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 7, 6))
    w = rng.standard_normal((9, 2, 3, 2))
    kw = {"padding": 1, "stride": (1 + seed % 2, 2), "dilation": (1, 1 + seed % 2), "groups": 3}
    y = conv2d(x, w, **kw)
    dy = rng.standard_normal(y.shape)
    gx, gw, _ = conv2d_backward(x, w, dy, **kw)
    lhs = float((y * dy).sum())
    assert lhs == pytest.approx(float((x * gx).sum()), rel=1e-10, abs=1e-10)
    assert lhs == pytest.approx(float((w * gw).sum()), rel=1e-10, abs=1e-10)


# --------------------------------------------------------------------------- traces


GROUP_CASES = [
    pytest.param((4, 5, 6), (6, 2, 2, 3), 2, {"padding": 1, "stride": (2, 1)}, id="g2"),
    pytest.param((3, 5, 5), (3, 1, 3, 3), 3, {"padding": 1, "padding_mode": "reflect"}, id="depthwise"),
    pytest.param((2, 4, 6), (4, 1, 2, 2), 2, {"dilation": 2, "padding": ((1, 0), (0, 2))}, id="depth-mult2"),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "groups", "kwargs"), GROUP_CASES)
def test_grouped_trace_steps_know_their_group(
    x_shape: tuple, w_shape: tuple, groups: int, kwargs: dict
) -> None:
    """Each step reads only its group's input channels; the steps rebuild the naive output."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    tr = trace_conv2d(x, w, b, groups=groups, **kwargs)
    setup = prepare_conv(x, w, b, groups=groups, **kwargs)
    g = setup.geometry
    pads = ((g.rows.before, g.rows.after), (g.cols.before, g.cols.after))
    mode = kwargs.get("padding_mode", "zeros")
    expected = naive_grouped_conv(x, w, b, groups, (g.rows.stride, g.cols.stride), pads,
                                  (g.rows.dilation, g.cols.dilation), mode)
    xp = naive_pad(x, pads, mode)
    per_group, out_per_group = w_shape[1], w_shape[0] // groups
    rebuilt = np.full(expected.shape, np.nan)
    for s in tr:
        assert s.group == s.out_channel // out_per_group
        assert list(s.in_channels) == list(range(s.group * per_group, (s.group + 1) * per_group))
        assert s.inputs.shape == (per_group, *w_shape[2:])
        np.testing.assert_array_equal(
            s.inputs, xp[list(s.in_channels)][:, s.window.rows[:, None], s.window.cols[None, :]]
        )
        np.testing.assert_array_equal(s.weights, w[s.out_channel])
        rebuilt[s.out_channel, s.out_row, s.out_col] = s.total
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-12, atol=1e-12)
    tap = trace_conv2d(x, w, b, groups=groups, granularity="tap", **kwargs)
    assert len(tap) == expected.size * per_group * w_shape[2] * w_shape[3]
    assert tap[-1].complete and tap[-1].group == groups - 1
    assert tap[-1].total == pytest.approx(expected[-1, -1, -1], abs=1e-12)


@pytest.mark.parametrize(("x_shape", "w_shape", "groups", "kwargs"), GROUP_CASES)
def test_grouped_backward_trace_rebuilds_gradients_and_hits(x_shape: tuple, w_shape: tuple, groups: int,
                                                            kwargs: dict) -> None:
    """Steps' shares added onto their group's channels give the gradients; hits count per channel."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y = conv2d(x, w, groups=groups, **kwargs)
    dy = rng.standard_normal(y.shape)
    tr = trace_conv2d_backward(x, w, dy, groups=groups, **kwargs)
    gx, gw, gb = conv2d_backward(x, w, dy, groups=groups, **kwargs)
    xp_shape = tr.x_padded.shape
    gxp = np.zeros(xp_shape)
    hits = np.zeros(xp_shape, dtype=int)
    sw = np.zeros(w.shape)
    n = len(tr)
    for k, s in enumerate(tr):
        chans = np.array(list(s.in_channels))
        idx = (chans[:, None, None], s.window.rows[None, :, None], s.window.cols[None, None, :])
        np.add.at(gxp, idx, s.grad_input)
        np.add.at(hits, idx, 1)
        sw[s.out_channel] += s.grad_weight
        if k in (0, n // 3, n - 1):
            part = tr.partial(k)
            np.testing.assert_allclose(part.grad_x_padded, gxp, rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(part.hits, hits)
    np.testing.assert_allclose(sw, gw, rtol=1e-12, atol=1e-12)
    full = tr.partial(n - 1)
    np.testing.assert_allclose(full.grad_x, gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full.grad_w, gw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full.grad_bias, gb, rtol=1e-12, atol=1e-12)


def test_grouped_gather_view_and_arithmetic_text() -> None:
    """The gather (transposed convolution) route and the step text use the step's own channels."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((4, 5, 5)), rng.standard_normal((4, 2, 3, 3))
    kw = {"padding": 1, "stride": 2, "groups": 2}
    dy = rng.standard_normal(conv2d(x, w, **kw).shape)
    view = gather_input_grad(prepare_conv(x, w, **kw), dy)
    np.testing.assert_allclose(view.grad_x, conv2d_backward(x, w, dy, **kw)[0], rtol=1e-12, atol=1e-12)
    assert view.kernel.shape == (4, 2, 3, 3)
    tr = trace_conv2d_backward(x, w, dy, **kw)
    step = tr[len(tr) - 1]  # output channel 3: group 1, input channels 2 and 3
    text = conv_backward_arithmetic(step, tr.partial(len(tr) - 1).grad_x_padded, (1, 1), 0.0,
                                    per_line=100, max_lines=1)
    assert "dX[2," in text and "dX[3," in text
    assert "dX[0," not in text and "dX[1," not in text


# --------------------------------------------------------------------------- errors

X6 = np.ones((6, 5, 5))


@pytest.mark.parametrize(
    ("x", "w", "groups", "exc", "match"),
    [
        pytest.param(X6, np.ones((4, 3, 3, 3)), 0, ValueError, r"groups must be at least 1, got 0",
                     id="zero"),
        pytest.param(X6, np.ones((4, 3, 3, 3)), -2, ValueError, r"groups must be at least 1, got -2",
                     id="neg"),
        pytest.param(X6, np.ones((4, 3, 3, 3)), 2.0, TypeError, r"groups must be a whole number, got 2\.0",
                     id="float"),
        pytest.param(X6, np.ones((4, 3, 3, 3)), True, TypeError, r"groups must be a whole number, got True",
                     id="bool"),
        pytest.param(X6, np.ones((4, 2, 3, 3)), 4, ValueError,
                     r"groups=4 must divide the input channels evenly: input x has 6 channel\(s\)",
                     id="c_in"),
        pytest.param(X6, np.ones((4, 2, 3, 3)), 3, ValueError,
                     r"groups=3 must divide the output channels evenly: kernel w has 4 kernel\(s\)",
                     id="c_out"),
        pytest.param(X6, np.ones((6, 3, 3, 3)), 3, ValueError,
                     r"kernel w expects 3 input channel\(s\) per group, but input x has 6 channel\(s\) in "
                     r"3 groups, 2 per group", id="per-group"),
        pytest.param(X6, np.ones((6, 2, 3, 3)), 1, ValueError,
                     r"kernel w expects 2 input channel\(s\) but input x has 6", id="groups-1"),
        pytest.param(np.ones((5, 5)), np.ones((3, 3)), 2, ValueError,
                     r"groups=2 must divide the input channels evenly: input x has 1 channel", id="2d-forms"),
    ],
)
def test_bad_groups(x: np.ndarray, w: np.ndarray, groups: object, exc: type, match: str) -> None:
    """conv2d, its backward and both traces refuse a bad ``groups`` in plain words."""
    with pytest.raises(exc, match=match):
        conv2d(x, w, groups=groups)  # type: ignore[arg-type]
    with pytest.raises(exc, match=match):
        conv2d_backward(x, w, np.ones((4, 3, 3)), groups=groups)  # type: ignore[arg-type]
    with pytest.raises(exc, match=match):
        trace_conv2d(x, w, groups=groups)  # type: ignore[arg-type]
    with pytest.raises(exc, match=match):
        trace_conv2d_backward(x, w, np.ones((4, 3, 3)), groups=groups)  # type: ignore[arg-type]
