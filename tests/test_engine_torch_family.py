"""PyTorch as the oracle for the rest of the convolution family, over hypothesis-drawn configurations.

Skipped when torch is not installed. Padding modes other than zeros and
asymmetric padding go through ``F.pad`` first, as in ``test_engine_torch``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import (
    conv1d,
    conv1d_backward,
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    conv_transpose2d_backward,
    global_pool2d,
    global_pool2d_backward,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _t(a: np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _backward(y: torch.Tensor, dy: np.ndarray, *leaves: torch.Tensor | None) -> list[np.ndarray | None]:
    """Run ``sum(y * dy)`` backward and return each leaf's gradient (None for a missing leaf)."""
    (y * torch.tensor(dy)).sum().backward()
    return [None if t is None else t.grad.numpy() for t in leaves]


# --------------------------------------------------------------------------- grouped conv2d


@st.composite
def grouped_problems(draw: st.DrawFn) -> dict:
    """Grouped and depthwise convolutions with every padding mode, stride and dilation."""
    groups = draw(st.integers(1, 4))
    per_group, out_per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(list(TORCH_PAD_MODE)))
    pads = (
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
    )
    for n, k, d, (a, b) in ((H, kh, dilation[0], pads[0]), (W, kw, dilation[1], pads[1])):
        assume(d * (k - 1) + 1 <= n + a + b)
        assume(mode != "reflect" or max(a, b) < n)
        assume(mode != "circular" or max(a, b) <= n)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((groups * per_group, H, W)),
        "w": rng.standard_normal((groups * out_per_group, per_group, kh, kw)),
        "b": rng.standard_normal(groups * out_per_group) if draw(st.booleans()) else None,
        "groups": groups, "stride": stride, "dilation": dilation, "pads": pads, "mode": mode,
        "flip": draw(st.booleans()), "rng": rng,
    }


@SETTINGS
@given(grouped_problems())
def test_grouped_conv2d_matches_torch(p: dict) -> None:
    """conv2d/conv2d_backward with groups (depthwise included) agree with F.conv2d(groups=...)."""
    kw = {"stride": p["stride"], "padding": p["pads"], "dilation": p["dilation"], "padding_mode": p["mode"],
          "groups": p["groups"], "flip_kernel": p["flip"]}
    y = conv2d(p["x"], p["w"], p["b"], **kw)
    dy = p["rng"].standard_normal(y.shape)
    xt, wt = _t(p["x"]), _t(p["w"])
    bt = None if p["b"] is None else _t(p["b"])
    (top, bottom), (left, right) = p["pads"]
    xp = F.pad(xt[None], (left, right, top, bottom), mode=TORCH_PAD_MODE[p["mode"]])
    ty = F.conv2d(xp, torch.flip(wt, [2, 3]) if p["flip"] else wt, bt, stride=p["stride"],
                  dilation=p["dilation"], groups=p["groups"])[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    tgx, tgw, tgb = _backward(ty, dy, xt, wt, bt)
    gx, gw, gb = conv2d_backward(p["x"], p["w"], dy, bias=p["b"], **kw)
    np.testing.assert_allclose(gx, tgx, **TOL)
    np.testing.assert_allclose(gw, tgw, **TOL)
    if tgb is not None:
        np.testing.assert_allclose(gb, tgb, **TOL)


@pytest.mark.parametrize(("c_in", "c_out", "groups"), [(8, 8, 8), (8, 16, 8), (6, 9, 3), (4, 4, 2)])
@pytest.mark.parametrize("stride", [1, 2])
def test_grouped_conv2d_medium_size_matches_torch(c_in: int, c_out: int, groups: int, stride: int) -> None:
    """Depthwise and grouped convolutions on a 48x56 map: several im2col blocks per group."""
    rng = np.random.default_rng(c_in * 10 + groups + stride)
    x = rng.standard_normal((c_in, 48, 56))
    w = rng.standard_normal((c_out, c_in // groups, 3, 3))
    b = rng.standard_normal(c_out)
    y = conv2d(x, w, b, stride=stride, padding=1, groups=groups)
    xt, wt, bt = _t(x), _t(w), _t(b)
    ty = F.conv2d(xt[None], wt, bt, stride=stride, padding=1, groups=groups)[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    dy = rng.standard_normal(y.shape)
    tgx, tgw, tgb = _backward(ty, dy, xt, wt, bt)
    gx, gw, gb = conv2d_backward(x, w, dy, stride=stride, padding=1, groups=groups)
    for got, want in ((gx, tgx), (gw, tgw), (gb, tgb)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- conv_transpose2d


@st.composite
def transposed_problems(draw: st.DrawFn) -> dict:
    """Transposed convolutions: groups, stride, padding, dilation and every legal output_padding."""
    groups = draw(st.integers(1, 3))
    in_per_group, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    pad = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    for n, k, s, p, op, d in zip((H, W), (kh, kw), stride, pad, out_pad, dilation, strict=True):
        assume((n - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((groups * in_per_group, H, W)),
        "w": rng.standard_normal((groups * in_per_group, per_group, kh, kw)),
        "b": rng.standard_normal(groups * per_group) if draw(st.booleans()) else None,
        "kw": {"stride": stride, "padding": pad, "output_padding": out_pad, "dilation": dilation,
               "groups": groups},
        "rng": rng,
    }


@SETTINGS
@given(transposed_problems())
def test_conv_transpose2d_matches_torch(p: dict) -> None:
    """conv_transpose2d and its backward agree with F.conv_transpose2d and autograd."""
    y = conv_transpose2d(p["x"], p["w"], p["b"], **p["kw"])
    xt, wt = _t(p["x"]), _t(p["w"])
    bt = None if p["b"] is None else _t(p["b"])
    ty = F.conv_transpose2d(xt[None], wt, bt, **p["kw"])[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    dy = p["rng"].standard_normal(y.shape)
    tgx, tgw, tgb = _backward(ty, dy, xt, wt, bt)
    gx, gw, gb = conv_transpose2d_backward(p["x"], p["w"], dy, bias=p["b"], **p["kw"])
    np.testing.assert_allclose(gx, tgx, **TOL)
    np.testing.assert_allclose(gw, tgw, **TOL)
    if tgb is not None:
        np.testing.assert_allclose(gb, tgb, **TOL)


@pytest.mark.parametrize(
    "kw",
    [
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": 3, "padding": 2, "dilation": 2, "output_padding": (2, 1)},
        {"stride": 1, "dilation": 3, "output_padding": 2, "groups": 4},
    ],
)
def test_conv_transpose2d_medium_size_matches_torch(kw: dict) -> None:
    """A 4x30x34 input upsampled: agrees with torch forward and backward."""
    rng = np.random.default_rng(len(kw))
    x = rng.standard_normal((4, 30, 34))
    w = rng.standard_normal((4, 3, 3, 4))
    b = rng.standard_normal(3 * kw.get("groups", 1))
    y = conv_transpose2d(x, w, b, **kw)
    xt, wt, bt = _t(x), _t(w), _t(b)
    ty = F.conv_transpose2d(xt[None], wt, bt, **kw)[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    dy = rng.standard_normal(y.shape)
    tgx, tgw, tgb = _backward(ty, dy, xt, wt, bt)
    for got, want in zip(conv_transpose2d_backward(x, w, dy, **kw), (tgx, tgw, tgb), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- conv1d


@st.composite
def conv1d_problems(draw: st.DrawFn) -> dict:
    """1-D convolutions with groups, stride, dilation and every padding form."""
    groups = draw(st.integers(1, 3))
    per_group, out_per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k, L = draw(st.integers(1, 5)), draw(st.integers(1, 12))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from([0, 2, (3, 0), (1, 2), "valid", "same", "causal"]))
    if padding == "same":
        stride = 1
    total = dilation * (k - 1)
    sides = {"valid": (0, 0), "same": (total // 2, total - total // 2), "causal": (total, 0)}.get(
        padding, padding if isinstance(padding, tuple) else (padding, padding))  # type: ignore[arg-type]
    assume(total + 1 <= L + sides[0] + sides[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((groups * per_group, L)),
        "w": rng.standard_normal((groups * out_per_group, per_group, k)),
        "b": rng.standard_normal(groups * out_per_group) if draw(st.booleans()) else None,
        "kw": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
        "sides": sides, "rng": rng,
    }


@SETTINGS
@given(conv1d_problems())
def test_conv1d_matches_torch(p: dict) -> None:
    """conv1d/conv1d_backward agree with F.pad (causal: d*(k-1) on the left only) + F.conv1d + autograd."""
    kw = p["kw"]
    y = conv1d(p["x"], p["w"], p["b"], **kw)
    xt, wt = _t(p["x"]), _t(p["w"])
    bt = None if p["b"] is None else _t(p["b"])
    ty = F.conv1d(F.pad(xt[None], p["sides"]), wt, bt, stride=kw["stride"], dilation=kw["dilation"],
                  groups=kw["groups"])[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    dy = p["rng"].standard_normal(y.shape)
    tgx, tgw, tgb = _backward(ty, dy, xt, wt, bt)
    gx, gw, gb = conv1d_backward(p["x"], p["w"], dy, bias=p["b"], **kw)
    np.testing.assert_allclose(gx, tgx, **TOL)
    np.testing.assert_allclose(gw, tgw, **TOL)
    if tgb is not None:
        np.testing.assert_allclose(gb, tgb, **TOL)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_conv1d_same_matches_torch_same(k: int, dilation: int) -> None:
    """padding='same' is torch's own 'same' (the odd extra cell on the right)."""
    rng = np.random.default_rng(k + dilation)
    x, w = rng.standard_normal((2, 11)), rng.standard_normal((3, 2, k))
    ty = F.conv1d(_t(x, False)[None], _t(w, False), padding="same", dilation=dilation)[0]
    np.testing.assert_allclose(conv1d(x, w, padding="same", dilation=dilation), ty.numpy(), **TOL)


# --------------------------------------------------------------------------- global pooling


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 8), st.integers(1, 8), st.sampled_from(["avg", "max", "min"]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_global_pool_matches_torch_adaptive_pools(
    C: int, H: int, W: int, op: str, ties: bool, seed: int
) -> None:
    """global_pool2d is adaptive_avg_pool2d / adaptive_max_pool2d to 1x1 (min = -max(-x)), ties included."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(C, H, W)).astype(float) if ties else rng.standard_normal((C, H, W))
    sign = -1.0 if op == "min" else 1.0
    xt = _t(sign * x)
    pooled = F.adaptive_avg_pool2d(xt[None], 1) if op == "avg" else F.adaptive_max_pool2d(xt[None], 1)
    ty = sign * pooled[0, :, 0, 0]
    np.testing.assert_allclose(global_pool2d(x, op), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(C)
    (tgx,) = _backward(ty, dy, xt)
    np.testing.assert_allclose(global_pool2d_backward(x, dy, op), sign * tgx, rtol=1e-12, atol=1e-12)
