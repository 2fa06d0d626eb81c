"""PyTorch as an extra oracle for the engine's forward and backward passes.

Skipped when torch is not installed. Non-zero padding modes and asymmetric
padding go through ``F.pad`` before a padding-free ``F.conv2d``; min pooling
is ``-max_pool2d(-x)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import conv2d, conv2d_backward, pool2d, pool2d_backward

torch = pytest.importorskip("torch")
F = torch.nn.functional

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _t(a: np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def torch_conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    dy: np.ndarray,
    stride: tuple[int, int],
    pads: tuple[tuple[int, int], tuple[int, int]],
    dilation: tuple[int, int],
    mode: str,
    flip: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Forward and gradients by torch for ``x (C, H, W)``, ``w (O, C, kh, kw)``."""
    xt, wt = _t(x), _t(w)
    bt = None if b is None else _t(b)
    (top, bottom), (left, right) = pads
    xp = F.pad(xt[None], (left, right, top, bottom), mode=TORCH_PAD_MODE[mode])
    y = F.conv2d(xp, torch.flip(wt, [2, 3]) if flip else wt, bt, stride=stride, dilation=dilation)[0]
    (y * torch.tensor(dy)).sum().backward()
    gb = None if bt is None else bt.grad.numpy()
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), gb


@st.composite
def conv_problems(draw: st.DrawFn) -> dict[str, object]:
    """Random small 3-D/4-D convolution problems with padding in ((t, b), (l, r)) form."""
    C_in, C_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(list(TORCH_PAD_MODE)))
    pads = (
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
    )
    for n, k, d, (a, b) in ((H, kh, dilation[0], pads[0]), (W, kw, dilation[1], pads[1])):
        assume(d * (k - 1) + 1 <= n + a + b)
        if mode == "reflect":
            assume(max(a, b) < n)
        if mode == "circular":
            assume(max(a, b) <= n)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.standard_normal((C_in, H, W)),
        "w": rng.standard_normal((C_out, C_in, kh, kw)),
        "b": rng.standard_normal(C_out) if draw(st.booleans()) else None,
        "stride": stride,
        "dilation": dilation,
        "pads": pads,
        "mode": mode,
        "flip": draw(st.booleans()),
        "rng": rng,
    }


@SETTINGS
@given(conv_problems())
def test_conv2d_forward_and_backward_match_torch(p: dict) -> None:
    """conv2d and conv2d_backward agree with F.pad + F.conv2d + autograd in every padding mode."""
    kwargs = {
        "stride": p["stride"], "padding": p["pads"], "dilation": p["dilation"], "padding_mode": p["mode"],
        "flip_kernel": p["flip"],
    }
    y = conv2d(p["x"], p["w"], p["b"], **kwargs)
    dy = p["rng"].standard_normal(y.shape)
    ty, tgx, tgw, tgb = torch_conv(
        p["x"], p["w"], p["b"], dy, p["stride"], p["pads"], p["dilation"], p["mode"], p["flip"]
    )
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)
    gx, gw, gb = conv2d_backward(p["x"], p["w"], dy, bias=p["b"], **kwargs)
    np.testing.assert_allclose(gx, tgx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gw, tgw, rtol=1e-10, atol=1e-12)
    if tgb is not None:
        np.testing.assert_allclose(gb, tgb, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, dy.sum(axis=(1, 2)), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (4, 1)])
def test_conv2d_same_matches_torch(mode: str, kernel: tuple[int, int], dilation: int) -> None:
    """padding='same' (extra row/column on the bottom/right) matches torch's 'same'."""
    rng = np.random.default_rng(sum(kernel))
    x = rng.standard_normal((2, 7, 8))
    w = rng.standard_normal((3, 2, *kernel))
    xt, wt = _t(x), _t(w)
    ty = F.conv2d(xt[None], wt, padding="same", dilation=dilation)[0] if mode == "zeros" else None
    y = conv2d(x, w, padding="same", padding_mode=mode, dilation=dilation)
    assert y.shape == (3, 7, 8)
    if ty is not None:
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        conv = torch.nn.Conv2d(
            2, 3, kernel, padding="same", padding_mode=mode, dilation=dilation, bias=False
        ).double()
        with torch.no_grad():
            conv.weight.copy_(wt)
            np.testing.assert_allclose(y, conv(xt[None])[0].numpy(), rtol=1e-10, atol=1e-12)


@st.composite
def pool_problems(draw: st.DrawFn, avg: bool) -> dict[str, object]:
    """Random poolings within torch's limits (symmetric padding at most half the kernel)."""
    C = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (1, 1) if avg else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    H = draw(st.integers(max(1, spans[0] - 2 * padding[0]), 8))
    W = draw(st.integers(max(1, spans[1] - 2 * padding[1]), 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.integers(-2, 3, size=(C, H, W)).astype(float),
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "ceil_mode": draw(st.booleans()),
        "count_include_pad": draw(st.booleans()),
        "rng": rng,
    }


@SETTINGS
@given(pool_problems(avg=False), st.sampled_from(["max", "min"]))
def test_max_min_pool_match_torch(p: dict, op: str) -> None:
    """Max and min pooling and their tie routing agree with torch's max_pool2d (min = -max(-x))."""
    kw = {
        "stride": p["stride"],
        "padding": p["padding"],
        "dilation": p["dilation"],
        "ceil_mode": p["ceil_mode"],
    }
    try:
        y = pool2d(p["x"], p["kernel"], op=op, **kw)
    except ValueError as err:
        # Dilated windows that skip every real cell: torch would answer -inf there.
        assert "only padding" in str(err)
        return
    sign = 1.0 if op == "max" else -1.0
    xt = _t(sign * p["x"])
    ty = sign * F.max_pool2d(xt[None], p["kernel"], **kw)[0]
    np.testing.assert_array_equal(y, ty.detach().numpy())
    dy = p["rng"].standard_normal(y.shape)
    (ty * torch.tensor(dy)).sum().backward()
    gx = pool2d_backward(p["x"], dy, p["kernel"], op=op, **kw)
    np.testing.assert_allclose(gx, sign * xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(pool_problems(avg=True))
def test_avg_pool_matches_torch(p: dict) -> None:
    """Average pooling with padding, ceil_mode and count_include_pad agrees with torch's avg_pool2d."""
    kw = {"stride": p["stride"], "padding": p["padding"], "ceil_mode": p["ceil_mode"],
          "count_include_pad": p["count_include_pad"]}
    y = pool2d(p["x"], p["kernel"], op="avg", **kw)
    xt = _t(p["x"])
    ty = F.avg_pool2d(xt[None], p["kernel"], **kw)[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = p["rng"].standard_normal(y.shape)
    (ty * torch.tensor(dy)).sum().backward()
    gx = pool2d_backward(p["x"], dy, p["kernel"], op="avg", **kw)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["max", "min"])
def test_tie_routing_matches_torch(op: str) -> None:
    """A constant input with overlapping padded windows: every gradient goes where torch sends it."""
    x = np.full((1, 5, 5), 2.0)
    kw = {"stride": 1, "padding": 1, "ceil_mode": False}
    sign = 1.0 if op == "max" else -1.0
    xt = _t(sign * x)
    ty = sign * F.max_pool2d(xt[None], 3, **kw)[0]
    dy = np.arange(1.0, 1.0 + ty.numel()).reshape(ty.shape)
    (ty * torch.tensor(dy)).sum().backward()
    gx = pool2d_backward(x, dy, 3, op=op, **kw)
    np.testing.assert_allclose(gx, sign * xt.grad.numpy())
    # The first real cell of each window in raster order takes the whole gradient.
    expected = np.zeros_like(x)
    for oh in range(5):
        for ow in range(5):
            expected[0, max(oh - 1, 0), max(ow - 1, 0)] += dy[0, oh, ow]
    np.testing.assert_allclose(gx, expected)


@SETTINGS
@given(st.data(), st.sampled_from(["max", "min"]))
def test_max_min_pool_asymmetric_padding_matches_torch(data: st.DataObject, op: str) -> None:
    """((top, bottom), (left, right)) pooling padding equals F.pad with -inf (+inf for min) then pooling."""
    kernel = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    pads = tuple((data.draw(st.integers(0, s // 2)), data.draw(st.integers(0, s // 2))) for s in spans)
    H = data.draw(st.integers(max(1, spans[0] - sum(pads[0])), 8))
    W = data.draw(st.integers(max(1, spans[1] - sum(pads[1])), 8))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-2, 3, size=(2, H, W)).astype(float)
    kw = {"stride": stride, "padding": pads, "dilation": dilation}
    try:
        y = pool2d(x, kernel, op=op, **kw)
    except ValueError as err:
        assert "only padding" in str(err)
        return
    sign = 1.0 if op == "max" else -1.0
    xt = _t(sign * x)
    (top, bottom), (left, right) = pads
    xp = F.pad(xt[None], (left, right, top, bottom), value=-torch.inf)
    ty = sign * F.max_pool2d(xp, kernel, stride=stride, dilation=dilation)[0]
    np.testing.assert_array_equal(y, ty.detach().numpy())
    dy = rng.standard_normal(y.shape)
    (ty * torch.tensor(dy)).sum().backward()
    gx = pool2d_backward(x, dy, kernel, op=op, **kw)
    np.testing.assert_allclose(gx, sign * xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "circular"])
@pytest.mark.parametrize(("stride", "dilation"), [(1, 1), (2, 1), (1, 2)])
def test_conv2d_medium_size_matches_torch(mode: str, stride: int, dilation: int) -> None:
    """A 3x64x80 input: large enough that the engine works through the output in several blocks."""
    rng = np.random.default_rng(stride * 10 + dilation)
    x = rng.standard_normal((3, 64, 80))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    pads = ((1, 2), (2, 1))
    kw = {"stride": stride, "padding": pads, "dilation": dilation, "padding_mode": mode}
    y = conv2d(x, w, b, **kw)
    dy = rng.standard_normal(y.shape)
    ty, tgx, tgw, tgb = torch_conv(x, w, b, dy, (stride, stride), pads, (dilation, dilation), mode)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-10)
    gx, gw, gb = conv2d_backward(x, w, dy, bias=b, **kw)
    np.testing.assert_allclose(gx, tgx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gw, tgw, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gb, tgb, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil_mode"), [(3, 2, 1, True), (2, 1, 0, False)])
def test_pool_medium_size_matches_torch(
    op: str, kernel: int, stride: int, padding: int, ceil_mode: bool
) -> None:
    """Pooling a 3x61x70 integer-valued input (many ties) agrees with torch, forward and backward."""
    rng = np.random.default_rng(kernel)
    x = rng.integers(-3, 4, size=(3, 61, 70)).astype(float)
    kw = {"stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    y = pool2d(x, kernel, op=op, **kw)
    sign = -1.0 if op == "min" else 1.0
    xt = _t(sign * x)
    if op == "avg":
        ty = F.avg_pool2d(xt[None], kernel, **kw)[0]
    else:
        ty = sign * F.max_pool2d(xt[None], kernel, **kw)[0]
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    (ty * torch.tensor(dy)).sum().backward()
    gx = pool2d_backward(x, dy, kernel, op=op, **kw)
    np.testing.assert_allclose(gx, sign * xt.grad.numpy(), rtol=1e-12, atol=1e-12)
