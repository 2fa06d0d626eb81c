"""The engine against naive loop implementations written here, from the definitions.

Nothing in this file calls the engine to compute an expected value: padding,
output sizes, convolution, pooling (with PyTorch's divisor rule written out)
and every backward pass are explicit Python loops over indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import conv2d, conv2d_backward, output_size, pool2d, pool2d_backward

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Pads = tuple[tuple[int, int], tuple[int, int]]


# --------------------------------------------------------------------------- naive references


def naive_source(n: int, before: int, after: int, mode: str) -> list[int | None]:
    """Input index each padded position copies along one axis (None: a constant).

    Reflect mirrors about the edge cell without repeating it (-1 -> 1),
    replicate repeats the edge cell, circular wraps around.
    """
    src: list[int | None] = []
    for p in range(before + n + after):
        t = p - before
        if 0 <= t < n:
            src.append(t)
        elif mode == "zeros":
            src.append(None)
        elif mode == "replicate":
            src.append(0 if t < 0 else n - 1)
        elif mode == "reflect":
            src.append(-t if t < 0 else 2 * (n - 1) - t)
        elif mode == "circular":
            src.append(t % n)
        else:
            raise AssertionError(mode)
    return src


def naive_pad(x3: np.ndarray, pads: Pads, mode: str, fill: float = 0.0) -> np.ndarray:
    """Pad ``x3 (C, H, W)`` cell by cell with index arithmetic."""
    C, H, W = x3.shape
    (top, bottom), (left, right) = pads
    src_r = naive_source(H, top, bottom, mode)
    src_c = naive_source(W, left, right, mode)
    out = np.empty((C, len(src_r), len(src_c)))
    for c in range(C):
        for r, sr in enumerate(src_r):
            for q, sc in enumerate(src_c):
                out[c, r, q] = fill if sr is None or sc is None else x3[c, sr, sc]
    return out


def naive_out_size(n: int, k: int, s: int, before: int, after: int, d: int, ceil_mode: bool) -> int:
    """Count window positions by walking the windows along the padded axis.

    A window is taken while it fits. In ``ceil_mode`` one more is taken when the
    previous one stopped short of the end, and then the last window is dropped
    if it starts past the input and the leading padding (PyTorch drops at most
    one). Returns 0 when not even one window fits.
    """
    span = d * (k - 1) + 1
    length = n + before + after
    count, start = 0, 0
    while start + span <= length:
        count += 1
        start += s
    if ceil_mode and count > 0:
        if (start - s) + span < length:
            count += 1
        # PyTorch's rule: the last window must start inside the input or the leading padding.
        if (count - 1) * s >= n + before:
            count -= 1
    return count


def _canon_pads(padding: object, kernel: tuple[int, int], dilation: tuple[int, int]) -> Pads:
    """Padding in ``((top, bottom), (left, right))`` form, written out independently."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        sides = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            sides.append((total // 2, total - total // 2))
        return (sides[0], sides[1])
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    a, b = padding  # type: ignore[misc]
    if isinstance(a, int):
        return ((a, a), (b, b))
    return (tuple(a), tuple(b))  # type: ignore[return-value]


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def naive_conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, int],
    pads: Pads,
    dilation: tuple[int, int],
    mode: str,
    flip: bool,
) -> np.ndarray:
    """Cross-correlation with explicit loops over c_out, oh, ow, c_in, i, j; returns 3-D."""
    x3 = x if x.ndim == 3 else x[None]
    w4 = w if w.ndim == 4 else w[None, None]
    C_out, C_in, kh, kw = w4.shape
    _, H, W = x3.shape
    xp = naive_pad(x3, pads, mode)
    Ho = naive_out_size(H, kh, stride[0], *pads[0], dilation[0], False)
    Wo = naive_out_size(W, kw, stride[1], *pads[1], dilation[1], False)
    y = np.zeros((C_out, Ho, Wo))
    for co in range(C_out):
        for oh in range(Ho):
            for ow in range(Wo):
                acc = 0.0 if b is None else float(np.ravel(b)[co])
                for ci in range(C_in):
                    for i in range(kh):
                        for j in range(kw):
                            wi, wj = (kh - 1 - i, kw - 1 - j) if flip else (i, j)
                            acc += w4[co, ci, wi, wj] * xp[ci, oh * stride[0] + i * dilation[0],
                                                           ow * stride[1] + j * dilation[1]]
                y[co, oh, ow] = acc
    return y


def naive_conv_backward(
    x: np.ndarray,
    w: np.ndarray,
    dy: np.ndarray,
    stride: tuple[int, int],
    pads: Pads,
    dilation: tuple[int, int],
    mode: str,
    flip: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients by looping over every multiply-add and adding its share (3-D/4-D/1-D)."""
    x3 = x if x.ndim == 3 else x[None]
    w4 = w if w.ndim == 4 else w[None, None]
    dy3 = dy if dy.ndim == 3 else dy[None]
    C_out, C_in, kh, kw = w4.shape
    _, H, W = x3.shape
    xp = naive_pad(x3, pads, mode)
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w4, dtype=float)
    gb = np.zeros(C_out)
    for co in range(C_out):
        for oh in range(dy3.shape[1]):
            for ow in range(dy3.shape[2]):
                g = dy3[co, oh, ow]
                gb[co] += g
                for ci in range(C_in):
                    for i in range(kh):
                        for j in range(kw):
                            wi, wj = (kh - 1 - i, kw - 1 - j) if flip else (i, j)
                            r = oh * stride[0] + i * dilation[0]
                            c = ow * stride[1] + j * dilation[1]
                            gxp[ci, r, c] += w4[co, ci, wi, wj] * g
                            gw[co, ci, wi, wj] += xp[ci, r, c] * g
    src_r = naive_source(H, *pads[0], mode)
    src_c = naive_source(W, *pads[1], mode)
    gx = np.zeros(x3.shape)
    for ci in range(C_in):
        for r, sr in enumerate(src_r):
            for c, sc in enumerate(src_c):
                if sr is not None and sc is not None:
                    gx[ci, sr, sc] += gxp[ci, r, c]
    return gx, gw, gb


@dataclass(frozen=True)
class PoolArgs:
    """A pooling problem in explicit form."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: Pads
    dilation: tuple[int, int]
    ceil_mode: bool
    count_include_pad: bool


def _window_taps(
    oh: int, ow: int, H: int, W: int, a: PoolArgs
) -> tuple[list[tuple[int, int]], int]:
    """Real input cells of a pooling window in raster order, and the average's divisor.

    For dilation 1 the divisor is PyTorch's rule written out:
    ``hstart = oh*s - pad; hend = min(hstart + k, H + pad_after)``,
    ``pool_size = (hend - hstart) * (wend - wstart)``, then clamp to the input;
    the divisor is ``pool_size`` with ``count_include_pad`` else the clamped area.
    With dilation it counts taps the same way: a tap inside the padded input
    counts with ``count_include_pad``; a tap past it (ceil-mode overhang) never.
    """
    (top, bottom), (left, right) = a.pads
    kh, kw = a.kernel
    dh, dw = a.dilation
    hs, ws = oh * a.stride[0] - top, ow * a.stride[1] - left
    cells = [
        (hs + i * dh, ws + j * dw)
        for i in range(kh)
        for j in range(kw)
        if 0 <= hs + i * dh < H and 0 <= ws + j * dw < W
    ]
    if a.dilation == (1, 1):
        hend = min(hs + kh, H + bottom)
        wend = min(ws + kw, W + right)
        pool_size = (hend - hs) * (wend - ws)
        h0, w0, h1, w1 = max(hs, 0), max(ws, 0), min(hend, H), min(wend, W)
        divisor = pool_size if a.count_include_pad else (h1 - h0) * (w1 - w0)
    else:
        lo_h, hi_h = (-top, H + bottom) if a.count_include_pad else (0, H)
        lo_w, hi_w = (-left, W + right) if a.count_include_pad else (0, W)
        n_h = sum(1 for i in range(kh) if lo_h <= hs + i * dh < hi_h)
        n_w = sum(1 for j in range(kw) if lo_w <= ws + j * dw < hi_w)
        divisor = n_h * n_w
    return cells, divisor


def naive_pool_sizes(H: int, W: int, a: PoolArgs) -> tuple[int, int]:
    """Output height and width of a pooling."""
    return (
        naive_out_size(H, a.kernel[0], a.stride[0], *a.pads[0], a.dilation[0], a.ceil_mode),
        naive_out_size(W, a.kernel[1], a.stride[1], *a.pads[1], a.dilation[1], a.ceil_mode),
    )


def naive_pool(x: np.ndarray, op: str, a: PoolArgs) -> np.ndarray:
    """Max/min (first extreme wins), or average with PyTorch's divisor; returns 3-D."""
    x3 = x if x.ndim == 3 else x[None]
    C, H, W = x3.shape
    Ho, Wo = naive_pool_sizes(H, W, a)
    y = np.zeros((C, Ho, Wo))
    for c in range(C):
        for oh in range(Ho):
            for ow in range(Wo):
                cells, divisor = _window_taps(oh, ow, H, W, a)
                if op == "avg":
                    y[c, oh, ow] = sum(x3[c, r, q] for r, q in cells) / divisor
                else:
                    best = cells[0]
                    for r, q in cells[1:]:
                        v, bv = x3[c, r, q], x3[c, best[0], best[1]]
                        if (op == "max" and v > bv) or (op == "min" and v < bv):
                            best = (r, q)
                    y[c, oh, ow] = x3[c, best[0], best[1]]
    return y


def naive_pool_backward(x: np.ndarray, dy: np.ndarray, op: str, a: PoolArgs) -> np.ndarray:
    """Send each output gradient to the first extreme cell (max/min) or share it (avg); 3-D."""
    x3 = x if x.ndim == 3 else x[None]
    dy3 = dy if dy.ndim == 3 else dy[None]
    C, H, W = x3.shape
    gx = np.zeros(x3.shape)
    for c in range(C):
        for oh in range(dy3.shape[1]):
            for ow in range(dy3.shape[2]):
                cells, divisor = _window_taps(oh, ow, H, W, a)
                g = dy3[c, oh, ow]
                if op == "avg":
                    for r, q in cells:
                        gx[c, r, q] += g / divisor
                else:
                    best = cells[0]
                    for r, q in cells[1:]:
                        v, bv = x3[c, r, q], x3[c, best[0], best[1]]
                        if (op == "max" and v > bv) or (op == "min" and v < bv):
                            best = (r, q)
                    gx[c, best[0], best[1]] += g
    return gx


def pool_is_degenerate(H: int, W: int, a: PoolArgs) -> bool:
    """True when some window has no real input cell (the engine refuses such poolings)."""
    Ho, Wo = naive_pool_sizes(H, W, a)
    if Ho == 0 or Wo == 0:
        return True
    return any(not _window_taps(oh, ow, H, W, a)[0] for oh in range(Ho) for ow in range(Wo))


# --------------------------------------------------------------------------- self-checks of the references


def test_naive_source_modes() -> None:
    """The reference padding itself, on a hand-checked axis of length 4."""
    assert naive_source(4, 2, 2, "zeros") == [None, None, 0, 1, 2, 3, None, None]
    assert naive_source(4, 2, 2, "reflect") == [2, 1, 0, 1, 2, 3, 2, 1]
    assert naive_source(4, 2, 2, "replicate") == [0, 0, 0, 1, 2, 3, 3, 3]
    assert naive_source(4, 2, 3, "circular") == [2, 3, 0, 1, 2, 3, 0, 1, 2]


def test_naive_out_size_matches_formula() -> None:
    """The walking reference agrees with the closed forms it replaces (floor and ceil)."""
    for n in range(1, 12):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(0, 3):
                    span = k
                    padded = n + 2 * p
                    if span > padded:
                        continue
                    assert naive_out_size(n, k, s, p, p, 1, False) == (padded - span) // s + 1
                    ceil_out = -(-(padded - span) // s) + 1
                    if (ceil_out - 1) * s >= n + p:
                        ceil_out -= 1
                    assert naive_out_size(n, k, s, p, p, 1, True) == ceil_out


# --------------------------------------------------------------------------- strategies

MODES = ("zeros", "reflect", "replicate", "circular")


@st.composite
def padding_forms(draw: st.DrawFn, limit_h: int, limit_w: int, allow_same: bool, allow_valid: bool) -> object:
    """Padding in any accepted form, each side at most the given limits."""
    forms = ["int", "pair", "sides"]
    if allow_same:
        forms.append("same")
    if allow_valid:
        forms.append("valid")
    form = draw(st.sampled_from(forms))
    if form == "int":
        return draw(st.integers(0, min(limit_h, limit_w)))
    if form == "pair":
        return (draw(st.integers(0, limit_h)), draw(st.integers(0, limit_w)))
    if form == "sides":
        return (
            (draw(st.integers(0, limit_h)), draw(st.integers(0, limit_h))),
            (draw(st.integers(0, limit_w)), draw(st.integers(0, limit_w))),
        )
    return form


@dataclass(frozen=True)
class ConvCase:
    """One random convolution problem with its canonical geometry."""

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    stride: int | tuple[int, int]
    padding: object
    dilation: int | tuple[int, int]
    mode: str
    flip: bool
    pads: Pads

    @property
    def kwargs(self) -> dict[str, object]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "padding_mode": self.mode,
            "flip_kernel": self.flip,
        }


def _mode_allows(mode: str, n: int, before: int, after: int) -> bool:
    if mode == "reflect":
        return max(before, after) < n
    if mode == "circular":
        return max(before, after) <= n
    return True


@st.composite
def conv_cases(draw: st.DrawFn) -> ConvCase:
    """Random small convolution problems, 2-D and 3-D forms, valid by construction."""
    two_d = draw(st.booleans())
    C_in = 1 if two_d else draw(st.integers(1, 3))
    C_out = 1 if two_d else draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    stride = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    dilation = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    mode = draw(st.sampled_from(MODES))
    padding = draw(padding_forms(3, 3, allow_same=_pair(stride) == (1, 1), allow_valid=True))
    pads = _canon_pads(padding, (kh, kw), _pair(dilation))
    dh, dw = _pair(dilation)
    for n, k, d, (a, b) in ((H, kh, dh, pads[0]), (W, kw, dw, pads[1])):
        assume(d * (k - 1) + 1 <= n + a + b)
        assume(_mode_allows(mode, n, a, b))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((H, W) if two_d else (C_in, H, W))
    w = rng.standard_normal((kh, kw) if two_d else (C_out, C_in, kh, kw))
    bias = None
    if draw(st.booleans()):
        bias = rng.standard_normal(C_out)
        if two_d and draw(st.booleans()):
            bias = np.float64(bias[0])  # a scalar bias for a 2-D kernel
    return ConvCase(x, w, bias, stride, padding, dilation, mode, draw(st.booleans()), pads)


# --------------------------------------------------------------------------- convolution


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_naive(case: ConvCase) -> None:
    """Forward convolution equals the six-loop definition, in the caller's form."""
    y = conv2d(case.x, case.w, case.bias, **case.kwargs)
    b = None if case.bias is None else np.atleast_1d(case.bias)
    expected = naive_conv(case.x, case.w, b, _pair(case.stride), case.pads, _pair(case.dilation),
                          case.mode, case.flip)
    if case.x.ndim == 2 and case.w.ndim == 2:
        expected = expected[0]
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_conv2d_backward_matches_naive(case: ConvCase, seed: int) -> None:
    """Input, kernel and bias gradients equal the loop-and-add definition."""
    Ho = naive_out_size(case.x.shape[-2], case.w.shape[-2], _pair(case.stride)[0], *case.pads[0],
                        _pair(case.dilation)[0], False)
    Wo = naive_out_size(case.x.shape[-1], case.w.shape[-1], _pair(case.stride)[1], *case.pads[1],
                        _pair(case.dilation)[1], False)
    out_2d = case.x.ndim == 2 and case.w.ndim == 2
    C_out = 1 if case.w.ndim == 2 else case.w.shape[0]
    dy = np.random.default_rng(seed).standard_normal((Ho, Wo) if out_2d else (C_out, Ho, Wo))
    gx, gw, gb = conv2d_backward(case.x, case.w, dy, bias=case.bias, **case.kwargs)
    ex, ew, eb = naive_conv_backward(case.x, case.w, dy, _pair(case.stride), case.pads,
                                     _pair(case.dilation), case.mode, case.flip)
    assert gx.shape == case.x.shape
    assert gw.shape == case.w.shape
    np.testing.assert_allclose(gx, ex.reshape(case.x.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, ew.reshape(case.w.shape), rtol=1e-12, atol=1e-12)
    if case.w.ndim == 2:
        assert np.shape(gb) == ()
    else:
        assert gb.shape == (C_out,)
    np.testing.assert_allclose(np.ravel(gb), eb, rtol=1e-12, atol=1e-12)


def test_conv2d_mixed_forms() -> None:
    """A 2-D input with a 4-D kernel (and vice versa) gives a 3-D result."""
    rng = np.random.default_rng(0)
    x2 = rng.standard_normal((5, 6))
    w4 = rng.standard_normal((2, 1, 3, 3))
    y = conv2d(x2, w4, padding=1)
    np.testing.assert_allclose(y, naive_conv(x2, w4, None, (1, 1), ((1, 1), (1, 1)), (1, 1), "zeros", False))
    x3 = rng.standard_normal((1, 5, 6))
    w2 = rng.standard_normal((3, 2))
    y = conv2d(x3, w2)
    assert y.shape == (1, 3, 5)
    np.testing.assert_allclose(y, naive_conv(x3, w2, None, (1, 1), ((0, 0), (0, 0)), (1, 1), "zeros", False))
    gx, gw, _ = conv2d_backward(x3, w2, np.ones((1, 3, 5)))
    assert gx.shape == (1, 5, 6)
    assert gw.shape == (3, 2)


# --------------------------------------------------------------------------- output size


@SETTINGS
@given(
    n=st.integers(1, 20),
    k=st.integers(1, 6),
    s=st.integers(1, 4),
    before=st.integers(0, 4),
    after=st.integers(0, 4),
    d=st.integers(1, 3),
    ceil_mode=st.booleans(),
    symmetric=st.booleans(),
)
def test_output_size_matches_naive(
    n: int, k: int, s: int, before: int, after: int, d: int, ceil_mode: bool, symmetric: bool
) -> None:
    """``output_size`` counts windows like the walking reference, or refuses a too-large kernel."""
    if symmetric:
        after = before
    padding: int | tuple[int, int] = before if symmetric else (before, after)
    expected = naive_out_size(n, k, s, before, after, d, ceil_mode)
    if expected == 0:
        with pytest.raises(ValueError, match="larger than"):
            output_size(n, k, s, padding, d, ceil_mode)
    else:
        assert output_size(n, k, s, padding, d, ceil_mode) == expected


# --------------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class PoolCase:
    """One random pooling problem."""

    x: np.ndarray
    op: str
    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int] | None
    padding: object
    dilation: int | tuple[int, int]
    args: PoolArgs

    @property
    def kwargs(self) -> dict[str, object]:
        return {
            "op": self.op,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.args.ceil_mode,
            "count_include_pad": self.args.count_include_pad,
        }


@st.composite
def pool_cases(draw: st.DrawFn, ops: tuple[str, ...] = ("max", "min", "avg")) -> PoolCase:
    """Random small poolings on integer-valued inputs (so ties are common)."""
    two_d = draw(st.booleans())
    C = 1 if two_d else draw(st.integers(1, 3))
    kernel_size = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    kernel = _pair(kernel_size)
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    dilation = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    dil = _pair(dilation)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dil, strict=True)]
    padding = draw(padding_forms(spans[0] // 2, spans[1] // 2, allow_same=False, allow_valid=True))
    pads = _canon_pads(padding, kernel, dil)
    H = draw(st.integers(max(1, spans[0] - sum(pads[0])), 8))
    W = draw(st.integers(max(1, spans[1] - sum(pads[1])), 8))
    args = PoolArgs(kernel, kernel if stride is None else _pair(stride), pads, dil,
                    draw(st.booleans()), draw(st.booleans()))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-3, 4, size=(H, W) if two_d else (C, H, W)).astype(float)
    return PoolCase(x, draw(st.sampled_from(ops)), kernel_size, stride, padding, dilation, args)


@SETTINGS
@given(pool_cases())
def test_pool2d_matches_naive(case: PoolCase) -> None:
    """Pooling equals the loop reference with PyTorch's divisor and ceil-mode rules."""
    H, W = case.x.shape[-2:]
    if pool_is_degenerate(H, W, case.args):
        with pytest.raises(ValueError, match="only padding"):
            pool2d(case.x, case.kernel_size, **case.kwargs)
        return
    y = pool2d(case.x, case.kernel_size, **case.kwargs)
    expected = naive_pool(case.x, case.op, case.args)
    assert y.shape == (expected[0].shape if case.x.ndim == 2 else expected.shape)
    np.testing.assert_allclose(y, expected.reshape(y.shape), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_pool2d_backward_matches_naive(case: PoolCase, seed: int) -> None:
    """Pooling gradients: first extreme takes all on ties, averages share by the divisor."""
    H, W = case.x.shape[-2:]
    if pool_is_degenerate(H, W, case.args):
        return
    Ho, Wo = naive_pool_sizes(H, W, case.args)
    shape = (Ho, Wo) if case.x.ndim == 2 else (case.x.shape[0], Ho, Wo)
    dy = np.random.default_rng(seed).standard_normal(shape)
    gx = pool2d_backward(case.x, dy, case.kernel_size, **case.kwargs)
    expected = naive_pool_backward(case.x, dy, case.op, case.args)
    assert gx.shape == case.x.shape
    np.testing.assert_allclose(gx, expected.reshape(gx.shape), rtol=1e-12, atol=1e-12)


def test_pool_stride_defaults_to_kernel() -> None:
    """Without a stride the windows tile the input: 6x6 with a 2x3 kernel gives 3x2."""
    x = np.arange(36.0).reshape(6, 6)
    y = pool2d(x, (2, 3), op="max")
    assert y.shape == (3, 2)
    np.testing.assert_array_equal(y, [[8, 11], [20, 23], [32, 35]])


@pytest.mark.parametrize(("stride", "mode"), [((1, 1), "reflect"), ((2, 1), "zeros")])
def test_conv2d_medium_size_matches_naive(stride: tuple[int, int], mode: str) -> None:
    """A 3x40x102 input, wide enough that the engine computes the output in several row blocks."""
    rng = np.random.default_rng(21)
    x = rng.standard_normal((3, 40, 102))
    w = rng.standard_normal((2, 3, 3, 3))
    b = rng.standard_normal(2)
    pads = ((1, 0), (1, 1))
    y = conv2d(x, w, b, stride=stride, padding=pads, padding_mode=mode)
    expected = naive_conv(x, w, b, stride, pads, (1, 1), mode, False)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    gx, gw, gb = conv2d_backward(x, w, dy, stride=stride, padding=pads, padding_mode=mode)
    ex, ew, eb = naive_conv_backward(x, w, dy, stride, pads, (1, 1), mode, False)
    np.testing.assert_allclose(gx, ex, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gw, ew, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gb, eb, rtol=1e-10, atol=1e-10)
