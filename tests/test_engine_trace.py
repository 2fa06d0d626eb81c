"""Step traces: stepping through them reproduces the operations, and steps are frozen.

Expected values come from the naive loop references in ``test_engine_reference``
(not from a trace's own ``output``): forward steps must rebuild the output,
backward steps accumulated into the padded grid (and folded back through
``Window.source_rows``/``source_cols``) must rebuild the gradients.
"""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest
from test_engine_reference import (
    PoolArgs,
    _window_taps,
    naive_conv,
    naive_conv_backward,
    naive_pad,
    naive_pool,
    naive_pool_backward,
    naive_source,
)

from engine import (
    conv2d_backward,
    pool2d_backward,
    trace_conv2d,
    trace_conv2d_backward,
    trace_pool2d,
    trace_pool2d_backward,
)

Pads = tuple[tuple[int, int], tuple[int, int]]


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


# --------------------------------------------------------------------------- convolution cases


@dataclasses.dataclass(frozen=True)
class ConvCfg:
    """A convolution problem and its explicit geometry."""

    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    kwargs: dict
    pads: Pads
    bias: bool

    def arrays(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(seed)
        c_out = 1 if len(self.w_shape) == 2 else self.w_shape[0]
        b = rng.standard_normal(c_out) if self.bias else None
        return rng.standard_normal(self.x_shape), rng.standard_normal(self.w_shape), b

    @property
    def stride(self) -> tuple[int, int]:
        return _pair(self.kwargs.get("stride", 1))

    @property
    def dilation(self) -> tuple[int, int]:
        return _pair(self.kwargs.get("dilation", 1))

    @property
    def mode(self) -> str:
        return self.kwargs.get("padding_mode", "zeros")

    @property
    def flip(self) -> bool:
        return self.kwargs.get("flip_kernel", False)

    def naive(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        return naive_conv(x, w, b, self.stride, self.pads, self.dilation, self.mode, self.flip)


CONV_CFGS = [
    pytest.param(ConvCfg((2, 5, 6), (2, 2, 3, 3), {"padding": 1}, ((1, 1), (1, 1)), True), id="zeros-p1"),
    pytest.param(
        ConvCfg((2, 6, 6), (3, 2, 2, 2),
                {"stride": (2, 1), "padding": ((1, 2), (2, 0)), "dilation": (1, 2), "padding_mode": "reflect",
                 "flip_kernel": True},
                ((1, 2), (2, 0)), True),
        id="reflect-asym-flip",
    ),
    pytest.param(
        ConvCfg((1, 4, 5), (2, 1, 2, 3), {"padding": "same", "padding_mode": "replicate"},
                ((0, 1), (1, 1)), False),
        id="replicate-same",
    ),
    pytest.param(
        ConvCfg((3, 5, 4), (1, 3, 2, 2), {"stride": 2, "padding": (2, 1), "dilation": 2,
                                          "padding_mode": "circular"}, ((2, 2), (1, 1)), True),
        id="circular-dilated",
    ),
    pytest.param(ConvCfg((5, 6), (3, 2), {}, ((0, 0), (0, 0)), False), id="2d-valid"),
]


def _canon(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (x if x.ndim == 3 else x[None]), (w if w.ndim == 4 else w[None, None])


def _applied(cfg: ConvCfg, w4: np.ndarray) -> np.ndarray:
    """The kernel as applied: flipped in space with ``flip_kernel``."""
    return w4[:, :, ::-1, ::-1] if cfg.flip else w4


@pytest.mark.parametrize("cfg", CONV_CFGS)
def test_conv_trace_window_steps_rebuild_output(cfg: ConvCfg) -> None:
    """One step per output cell, in channel-major raster order, with the right window and values."""
    x, w, b = cfg.arrays()
    x3, w4 = _canon(x, w)
    expected = cfg.naive(x, w, b)
    C_out, Ho, Wo = expected.shape
    kh, kw = w4.shape[2:]
    (top, _), (left, _) = cfg.pads
    H, W = x3.shape[1:]
    xp = naive_pad(x3, cfg.pads, cfg.mode)
    src_r = naive_source(H, *cfg.pads[0], cfg.mode)
    src_c = naive_source(W, *cfg.pads[1], cfg.mode)
    tr = trace_conv2d(x, w, b, **cfg.kwargs)
    assert len(tr) == C_out * Ho * Wo
    rebuilt = np.full(expected.shape, np.nan)
    for k in range(len(tr)):
        s = tr[k]
        o, i, j = np.unravel_index(k, expected.shape)
        assert (s.index, s.out_channel, s.out_row, s.out_col) == (k, o, i, j)
        rows = i * cfg.stride[0] + cfg.dilation[0] * np.arange(kh)
        cols = j * cfg.stride[1] + cfg.dilation[1] * np.arange(kw)
        np.testing.assert_array_equal(s.window.rows, rows)
        np.testing.assert_array_equal(s.window.cols, cols)
        real_r = (rows >= top) & (rows < top + H)
        real_c = (cols >= left) & (cols < left + W)
        np.testing.assert_array_equal(s.window.kind, np.where(real_r[:, None] & real_c[None, :], 0, 1))
        np.testing.assert_array_equal(s.window.is_padding, ~(real_r[:, None] & real_c[None, :]))
        want_src_r = [-1 if src_r[r] is None else src_r[r] for r in rows]
        want_src_c = [-1 if src_c[c] is None else src_c[c] for c in cols]
        np.testing.assert_array_equal(s.window.source_rows, want_src_r)
        np.testing.assert_array_equal(s.window.source_cols, want_src_c)
        np.testing.assert_allclose(s.inputs, xp[:, rows[:, None], cols[None, :]])
        np.testing.assert_allclose(s.weights, _applied(cfg, w4)[o])
        np.testing.assert_allclose(s.products, s.inputs * s.weights)
        assert s.tap is None
        assert s.complete
        assert s.value == s.total
        assert s.bias == (0.0 if b is None else b[o])
        rebuilt[o, i, j] = s.total
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cfg", CONV_CFGS)
def test_conv_trace_tap_steps(cfg: ConvCfg) -> None:
    """At tap granularity each step is one multiply-add in (c, p, q) order; values build up."""
    x, w, b = cfg.arrays(1)
    x3, w4 = _canon(x, w)
    expected = cfg.naive(x, w, b)
    C_in, kh, kw = w4.shape[1:]
    taps = C_in * kh * kw
    xp = naive_pad(x3, cfg.pads, cfg.mode)
    wa = _applied(cfg, w4)
    tr = trace_conv2d(x, w, b, granularity="tap", **cfg.kwargs)
    assert len(tr) == expected.size * taps
    rebuilt = np.full(expected.shape, np.nan)
    for k in range(len(tr)):
        s = tr[k]
        cell, t = divmod(k, taps)
        o, i, j = np.unravel_index(cell, expected.shape)
        c, p, q = np.unravel_index(t, (C_in, kh, kw))
        assert s.tap == (c, p, q)
        assert (s.out_channel, s.out_row, s.out_col) == (o, i, j)
        running = 0.0
        for tt in range(t + 1):
            cc, pp, qq = np.unravel_index(tt, (C_in, kh, kw))
            running += wa[o, cc, pp, qq] * xp[cc, i * cfg.stride[0] + pp * cfg.dilation[0],
                                               j * cfg.stride[1] + qq * cfg.dilation[1]]
        assert s.partial_sum == pytest.approx(running, abs=1e-12)
        assert s.complete == (t == taps - 1)
        assert s.value == (s.total if s.complete else s.partial_sum)
        if s.complete:
            rebuilt[o, i, j] = s.value
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("granularity", ["window", "tap"])
@pytest.mark.parametrize("cfg", CONV_CFGS)
def test_conv_trace_partial(cfg: ConvCfg, granularity: str) -> None:
    """partial(i) is the output so far, NaN where not yet written; -1 all NaN, last the full output."""
    x, w, b = cfg.arrays(2)
    _, w4 = _canon(x, w)
    expected = cfg.naive(x, w, b)
    taps = int(np.prod(w4.shape[1:])) if granularity == "tap" else 1
    tr = trace_conv2d(x, w, b, granularity=granularity, **cfg.kwargs)
    n = len(tr)
    assert np.isnan(tr.partial(-1)).all()
    np.testing.assert_allclose(tr.partial(n - 1), expected, rtol=1e-12, atol=1e-12)
    for i in sorted({0, 1, n // 3, n // 2, n - 2} & set(range(n))):
        want = expected.copy().reshape(-1)
        cell, t = divmod(i + 1, taps)
        want[cell:] = np.nan
        if t:  # the cell in progress shows its running sum (bias not yet added)
            want[cell] = tr[i].partial_sum
        got = tr.partial(i)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.reshape(-1), want, rtol=1e-12, atol=1e-12)
    for bad in (-2, n):
        with pytest.raises(IndexError):
            tr.partial(bad)


def test_conv_trace_indexing() -> None:
    """Negative indices count from the end, slices give lists, out of range raises IndexError."""
    rng = np.random.default_rng(4)
    tr = trace_conv2d(rng.standard_normal((2, 4, 4)), rng.standard_normal((3, 2, 2, 2)), padding=1)
    n = len(tr)
    assert n == 3 * 5 * 5
    assert tr[-1].index == n - 1
    assert tr[-n].index == 0
    assert (tr[-7].out_channel, tr[-7].out_row, tr[-7].out_col) == np.unravel_index(n - 7, (3, 5, 5))
    assert [s.index for s in tr[3:9:2]] == [3, 5, 7]
    for bad in (n, n + 5, -n - 1):
        with pytest.raises(IndexError, match="out of range"):
            tr[bad]
    assert tr.cell_step(2, 4, 4) == n - 1
    tap = trace_conv2d(rng.standard_normal((2, 4, 4)), rng.standard_normal((3, 2, 2, 2)), granularity="tap")
    assert len(tap) == 3 * 3 * 3 * 8
    assert tap[-1].complete
    assert tap.cell_step(0, 0, 0) == 7


# --------------------------------------------------------------------------- convolution backward


@pytest.mark.parametrize("cfg", CONV_CFGS)
def test_conv_backward_trace_steps_rebuild_gradients(cfg: ConvCfg) -> None:
    """Accumulating every step's shares (folded through source rows/cols) gives the gradients."""
    x, w, b = cfg.arrays(3)
    x3, w4 = _canon(x, w)
    y = cfg.naive(x, w, b)
    dy = np.random.default_rng(9).standard_normal(y.shape)
    dy_arg = dy[0] if (x.ndim == 2 and w.ndim == 2) else dy
    ex, ew, eb = naive_conv_backward(x, w, dy, cfg.stride, cfg.pads, cfg.dilation, cfg.mode, cfg.flip)
    tr = trace_conv2d_backward(x, w, dy_arg, bias=b, **cfg.kwargs)
    assert len(tr) == y.size
    Hp = x3.shape[1] + sum(cfg.pads[0])
    Wp = x3.shape[2] + sum(cfg.pads[1])
    gxp = np.zeros((x3.shape[0], Hp, Wp))
    gx = np.zeros(x3.shape)
    gw = np.zeros(w4.shape)
    gb = np.zeros(w4.shape[0])
    hits = np.zeros((Hp, Wp), dtype=int)
    for k in range(len(tr)):
        s = tr[k]
        o, i, j = np.unravel_index(k, y.shape)
        assert (s.out_channel, s.out_row, s.out_col) == (o, i, j)
        assert s.grad == dy[o, i, j]
        kh, kw = w4.shape[2:]
        np.testing.assert_array_equal(s.window.rows, i * cfg.stride[0] + cfg.dilation[0] * np.arange(kh))
        np.testing.assert_array_equal(s.window.cols, j * cfg.stride[1] + cfg.dilation[1] * np.arange(kw))
        gxp[:, s.window.rows[:, None], s.window.cols[None, :]] += s.grad_input
        hits[s.window.rows[:, None], s.window.cols[None, :]] += 1
        for p, sr in enumerate(s.window.source_rows):
            for q, sc in enumerate(s.window.source_cols):
                if sr >= 0 and sc >= 0:
                    gx[:, sr, sc] += s.grad_input[:, p, q]
        gw[o] += s.grad_weight
        gb[o] += s.grad_bias
    (top, _), (left, _) = cfg.pads
    if cfg.mode == "zeros":
        np.testing.assert_allclose(gxp[:, top : top + x3.shape[1], left : left + x3.shape[2]], ex,
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, _applied(cfg, ew), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, eb, rtol=1e-12, atol=1e-12)
    # The engine's own backward agrees with the rebuilt gradients, in the caller's form.
    bx, bw, bb = conv2d_backward(x, w, dy_arg, bias=b, **cfg.kwargs)
    np.testing.assert_allclose(bx, gx.reshape(x.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bw, ew.reshape(w.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.ravel(bb), gb, rtol=1e-12, atol=1e-12)
    # partial(last) holds everything, with the kernel gradient for the kernel as applied.
    full = tr.partial(len(tr) - 1)
    np.testing.assert_allclose(full.grad_x, gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full.grad_x_padded, gxp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full.grad_w, _applied(cfg, ew), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full.grad_bias, eb, rtol=1e-12, atol=1e-12)
    # Every step (one per output channel and cell) counts once on each cell of its window.
    np.testing.assert_array_equal(full.hits, np.broadcast_to(hits, full.hits.shape))


@pytest.mark.parametrize("cfg", CONV_CFGS)
def test_conv_backward_trace_partial(cfg: ConvCfg) -> None:
    """partial(i) holds the gradients of the first i+1 cells; partial(-1) is all zero."""
    x, w, b = cfg.arrays(5)
    x3, _ = _canon(x, w)
    y = cfg.naive(x, w, b)
    dy = np.random.default_rng(6).standard_normal(y.shape)
    dy_arg = dy[0] if (x.ndim == 2 and w.ndim == 2) else dy
    tr = trace_conv2d_backward(x, w, dy_arg, bias=b, **cfg.kwargs)
    n = len(tr)
    none = tr.partial(-1)
    for arr in (none.grad_x, none.grad_x_padded, none.grad_w, none.grad_bias, none.hits):
        assert not np.any(arr)
    assert none.grad_x.shape == x3.shape
    for i in sorted({0, n // 2, n - 2} & set(range(n))):
        masked = np.where(np.arange(dy.size).reshape(dy.shape) <= i, dy, 0.0)
        ex, ew, eb = naive_conv_backward(x, w, masked, cfg.stride, cfg.pads, cfg.dilation, cfg.mode, cfg.flip)
        got = tr.partial(i)
        np.testing.assert_allclose(got.grad_x, ex, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.grad_w, _applied(cfg, ew), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.grad_bias, eb, rtol=1e-12, atol=1e-12)
    with pytest.raises(IndexError):
        tr.partial(n)


# --------------------------------------------------------------------------- pooling


@dataclasses.dataclass(frozen=True)
class PoolCfg:
    """A pooling problem and its explicit geometry."""

    x_shape: tuple[int, ...]
    kernel_size: int | tuple[int, int]
    kwargs: dict
    pads: Pads
    overhang: bool = False

    @property
    def args(self) -> PoolArgs:
        kernel = _pair(self.kernel_size)
        stride = self.kwargs.get("stride")
        return PoolArgs(kernel, kernel if stride is None else _pair(stride), self.pads,
                        _pair(self.kwargs.get("dilation", 1)), self.kwargs.get("ceil_mode", False),
                        self.kwargs.get("count_include_pad", True))

    def x(self, seed: int = 0) -> np.ndarray:
        return np.random.default_rng(seed).integers(-2, 3, size=self.x_shape).astype(float)


POOL_CFGS = [
    pytest.param(PoolCfg((2, 4, 6), 2, {"op": "max"}, ((0, 0), (0, 0))), id="max-k2"),
    pytest.param(PoolCfg((2, 6, 5), 3, {"op": "min", "stride": 2, "padding": 1, "ceil_mode": True},
                         ((1, 1), (1, 1)), overhang=True), id="min-ceil-overhang"),
    pytest.param(PoolCfg((2, 6, 5), 3, {"op": "avg", "stride": 2, "padding": 1, "ceil_mode": True},
                         ((1, 1), (1, 1)), overhang=True), id="avg-ceil-overhang-include"),
    pytest.param(PoolCfg((1, 7, 5), 3, {"op": "avg", "stride": 2, "padding": ((1, 0), (1, 1)),
                                        "ceil_mode": True, "count_include_pad": False},
                         ((1, 0), (1, 1)), overhang=True), id="avg-asym-ceil-exclude"),
    pytest.param(PoolCfg((2, 5, 5), 2, {"op": "avg", "stride": 1, "dilation": 2, "padding": 1},
                         ((1, 1), (1, 1))), id="avg-dilated-include"),
    pytest.param(PoolCfg((5, 7), (3, 2), {"op": "max", "stride": (1, 2), "ceil_mode": True,
                                          "padding": (1, 0)},
                         ((1, 1), (0, 0)), overhang=True), id="max-2d-ceil"),
]


def _kind_axis(pos: np.ndarray, before: int, n: int, after: int) -> np.ndarray:
    """0 real, 1 explicit padding, 2 past the padding (ceil-mode overhang), per padded position."""
    return np.where((pos >= before) & (pos < before + n), 0, np.where(pos < before + n + after, 1, 2))


@pytest.mark.parametrize("cfg", POOL_CFGS)
def test_pool_trace_steps_rebuild_output(cfg: PoolCfg) -> None:
    """Each step shows its window, its kinds, the first extreme or the divisor, and the result."""
    x = cfg.x()
    x3 = x if x.ndim == 3 else x[None]
    a = cfg.args
    expected = naive_pool(x, cfg.kwargs["op"], a)
    tr = trace_pool2d(x, cfg.kernel_size, **cfg.kwargs)
    assert len(tr) == expected.size
    (top, bottom), (left, right) = cfg.pads
    H, W = x3.shape[1:]
    rebuilt = np.full(expected.shape, np.nan)
    saw_overhang = False
    for k in range(len(tr)):
        s = tr[k]
        c, i, j = np.unravel_index(k, expected.shape)
        assert (s.index, s.channel, s.out_row, s.out_col) == (k, c, i, j)
        rows = i * a.stride[0] + a.dilation[0] * np.arange(a.kernel[0])
        cols = j * a.stride[1] + a.dilation[1] * np.arange(a.kernel[1])
        np.testing.assert_array_equal(s.window.rows, rows)
        np.testing.assert_array_equal(s.window.cols, cols)
        kind = np.maximum(_kind_axis(rows, top, H, bottom)[:, None],
                          _kind_axis(cols, left, W, right)[None, :])
        np.testing.assert_array_equal(s.window.kind, kind)
        saw_overhang |= bool((kind == 2).any())
        real = kind == 0
        vals = np.zeros(kind.shape)
        for p, r in enumerate(rows):
            for q, cc in enumerate(cols):
                if real[p, q]:
                    vals[p, q] = x3[c, r - top, cc - left]
        np.testing.assert_array_equal(s.values[real], vals[real])
        op = cfg.kwargs["op"]
        if op == "avg":
            _, divisor = _window_taps(i, j, H, W, a)
            assert s.divisor == divisor
            assert s.chosen is None
            assert np.all(s.values[~real] == 0)
        else:
            extreme = vals[real].max() if op == "max" else vals[real].min()
            first = next((p, q) for p in range(kind.shape[0]) for q in range(kind.shape[1])
                         if real[p, q] and vals[p, q] == extreme)
            assert s.chosen == first
            assert s.divisor is None
            np.testing.assert_array_equal(s.counted, real)
            assert np.all(s.values[~real] == (-np.inf if op == "max" else np.inf))
        rebuilt[c, i, j] = s.result
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-12, atol=1e-12)
    assert saw_overhang == cfg.overhang


@pytest.mark.parametrize("cfg", POOL_CFGS)
def test_pool_trace_partial_and_indexing(cfg: PoolCfg) -> None:
    """partial(i) is the naive output with later cells NaN; indexing is checked at both ends."""
    x = cfg.x(1)
    expected = naive_pool(x, cfg.kwargs["op"], cfg.args)
    tr = trace_pool2d(x, cfg.kernel_size, **cfg.kwargs)
    n = len(tr)
    assert np.isnan(tr.partial(-1)).all()
    np.testing.assert_allclose(tr.partial(n - 1), expected, rtol=1e-12, atol=1e-12)
    for i in sorted({0, n // 2, n - 2} & set(range(n))):
        want = expected.copy().reshape(-1)
        want[i + 1 :] = np.nan
        np.testing.assert_allclose(tr.partial(i).reshape(-1), want, rtol=1e-12, atol=1e-12)
    assert tr[-1].index == n - 1
    assert tr[-n].index == 0
    for bad in (n, -n - 1):
        with pytest.raises(IndexError):
            tr[bad]
    for bad in (-2, n):
        with pytest.raises(IndexError):
            tr.partial(bad)


@pytest.mark.parametrize("cfg", POOL_CFGS)
def test_pool_backward_trace_steps_rebuild_gradient(cfg: PoolCfg) -> None:
    """Accumulating grad_input into the padded grid and cropping gives the pooling gradient."""
    x = cfg.x(2)
    x3 = x if x.ndim == 3 else x[None]
    a = cfg.args
    op = cfg.kwargs["op"]
    y = naive_pool(x, op, a)
    dy = np.random.default_rng(8).standard_normal(y.shape)
    dy_arg = dy[0] if x.ndim == 2 else dy
    expected = naive_pool_backward(x, dy, op, a)
    tr = trace_pool2d_backward(x, dy_arg, cfg.kernel_size, **cfg.kwargs)
    assert len(tr) == y.size
    (top, _), (left, _) = cfg.pads
    H, W = x3.shape[1:]
    grid = np.zeros((x3.shape[0], H + 4 * a.kernel[0] * a.dilation[0], W + 4 * a.kernel[1] * a.dilation[1]))
    hits = np.zeros(grid.shape, dtype=int)
    counted_kind = 1 if a.count_include_pad else 0
    for k in range(len(tr)):
        s = tr[k]
        c, i, j = np.unravel_index(k, y.shape)
        assert (s.channel, s.out_row, s.out_col) == (c, i, j)
        assert s.grad == dy[c, i, j]
        if op == "avg":
            _, divisor = _window_taps(i, j, H, W, a)
            assert s.divisor == divisor
            # Each counted tap (never ceil-mode overhang) receives grad / divisor.
            sends = s.window.kind <= counted_kind
            np.testing.assert_allclose(s.grad_input, np.where(sends, s.grad / divisor, 0.0), rtol=1e-12)
        else:
            assert s.grad_input[s.chosen] == s.grad
            assert np.count_nonzero(s.grad_input) <= 1
            sends = np.zeros(s.window.kind.shape, dtype=bool)
            sends[s.chosen] = True
        grid[c, s.window.rows[:, None], s.window.cols[None, :]] += s.grad_input
        hits[c, s.window.rows[:, None], s.window.cols[None, :]] += sends
    gx = grid[:, top : top + H, left : left + W]
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pool2d_backward(x, dy_arg, cfg.kernel_size, **cfg.kwargs),
                               gx.reshape(x.shape), rtol=1e-12, atol=1e-12)
    n = len(tr)
    none = tr.partial(-1)
    assert not np.any(none.grad_x)
    assert not np.any(none.grad_x_padded)
    assert not np.any(none.hits)
    full = tr.partial(n - 1)
    np.testing.assert_allclose(full.grad_x, expected, rtol=1e-12, atol=1e-12)
    # On the padded grid (padding and overhang included) the steps' shares add up to partial(last).
    Eh, Ew = full.grad_x_padded.shape[1:]
    assert not grid[:, Eh:].any() and not grid[:, :, Ew:].any()
    np.testing.assert_allclose(full.grad_x_padded, grid[:, :Eh, :Ew], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(full.hits, hits[:, :Eh, :Ew])
    for i in sorted({0, n // 2} & set(range(n))):
        masked = np.where(np.arange(dy.size).reshape(dy.shape) <= i, dy, 0.0)
        np.testing.assert_allclose(tr.partial(i).grad_x, naive_pool_backward(x, masked, op, a),
                                   rtol=1e-12, atol=1e-12)
    with pytest.raises(IndexError):
        tr[n]
    assert tr[-1].index == n - 1


# --------------------------------------------------------------------------- frozen steps


def _all_steps() -> list[object]:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 4, 4))
    w = rng.standard_normal((2, 2, 2, 2))
    dy = rng.standard_normal((2, 5, 5))
    return [
        trace_conv2d(x, w, padding=1)[3],
        trace_conv2d(x, w, padding=1, granularity="tap")[3],
        trace_conv2d_backward(x, w, dy, padding=1)[3],
        trace_pool2d(x, 2, op="max", stride=1)[3],
        trace_pool2d(x, 2, op="avg", stride=1)[3],
        trace_pool2d_backward(x, rng.standard_normal((2, 3, 3)), 2, op="min", stride=1)[3],
    ]


@pytest.mark.parametrize("step", _all_steps(), ids=lambda s: type(s).__name__)
def test_steps_are_frozen_and_read_only(step: object) -> None:
    """Steps and their windows are frozen dataclasses; every array in them is read-only."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.index = 99  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.window.rows = np.zeros(2)  # type: ignore[attr-defined]
    arrays = [v for v in vars(step).values() if isinstance(v, np.ndarray)]
    arrays += [v for v in vars(step.window).values() if isinstance(v, np.ndarray)]  # type: ignore[attr-defined]
    assert len(arrays) >= 6
    for arr in arrays:
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr.flat[0] = 1


def test_traces_leave_the_callers_arrays_writeable() -> None:
    """A trace's arrays are read-only views: the caller's x, w and grad_out stay writeable."""
    from engine import trace_conv_transpose2d, trace_conv_transpose2d_scatter

    rng = np.random.default_rng(14)
    x, w = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 2, 2, 2))
    dy, pdy = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 2, 2))
    traces = [
        trace_conv2d(x, w), trace_conv2d_backward(x, w, dy), trace_pool2d(x, 2),
        trace_pool2d_backward(x, pdy, 2), trace_conv_transpose2d(x, w), trace_conv_transpose2d_scatter(x, w),
    ]
    for tr in traces:
        tr[0]
        tr.partial(0)
    for a in (x, w, dy, pdy):
        assert a.flags.writeable
        a[(0,) * a.ndim] += 1.0
    assert not traces[1].dy.flags.writeable
    assert not traces[5].x.flags.writeable


# --------------------------------------------------------------------------- large traces are lazy


def _direct_conv_cell(x: np.ndarray, w: np.ndarray, o: int, i: int, j: int, pad: int) -> float:
    """One output cell of a stride-1 zero-padded convolution, by explicit indices."""
    total = 0.0
    for c in range(w.shape[1]):
        for p in range(w.shape[2]):
            for q in range(w.shape[3]):
                r, cc = i + p - pad, j + q - pad
                if 0 <= r < x.shape[1] and 0 <= cc < x.shape[2]:
                    total += w[o, c, p, q] * x[c, r, cc]
    return total


def test_large_conv_trace_is_lazy() -> None:
    """A 512x512x3 input with eight 3x3x3 kernels: building traces allocates no frames."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 512, 512))
    w = rng.standard_normal((8, 3, 3, 3))
    limit = 10 * x.nbytes
    tracemalloc.start()
    try:
        tr = trace_conv2d(x, w, padding=1)
        tap = trace_conv2d(x, w, padding=1, granularity="tap")
        pool = trace_pool2d(x, 3, op="max", stride=1, padding=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"building the traces peaked at {peak} bytes (input {x.nbytes})"
    assert len(tr) == 8 * 512 * 512
    assert len(tap) == 8 * 512 * 512 * 27
    assert len(pool) == 3 * 512 * 512
    for k in rng.integers(0, len(tr), size=5):
        s = tr[int(k)]
        o, i, j = np.unravel_index(int(k), (8, 512, 512))
        assert s.total == pytest.approx(_direct_conv_cell(x, w, o, i, j, 1), abs=1e-12)
    s = tap[-1]
    assert s.complete
    assert s.total == pytest.approx(_direct_conv_cell(x, w, 7, 511, 511, 1), abs=1e-12)
    s = pool[len(pool) // 2 + 100]
    c, i, j = np.unravel_index(s.index, (3, 512, 512))
    assert s.result == x[c, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2].max()
