"""Transposed convolution's step traces: the gather picture (spread input) and the scatter picture (stamps).

Expected values come from the stamping loops of ``test_engine_transpose`` and
from a spread input built here cell by cell; nothing reads a trace's own
``output`` as the truth.
"""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest
from test_engine_transpose import naive_conv_transpose

from engine import (
    conv_transpose2d,
    trace_conv_transpose2d,
    trace_conv_transpose2d_scatter,
    transposed_output_size,
)

REAL, PADDING, INSERTED = 0, 1, 3

CASES = [
    pytest.param((2, 3, 4), (2, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, id="s2-p1-op1"),
    pytest.param((1, 3, 3), (1, 2, 2, 3), {"stride": (3, 2), "dilation": (1, 2)}, id="s3-dilated"),
    pytest.param((2, 4, 5), (2, 1, 2, 2), {"stride": 2, "padding": 2, "output_padding": 1},
                 id="crop-p>d(k-1)"),
    pytest.param((4, 3, 3), (4, 2, 3, 2), {"stride": 2, "groups": 2, "padding": (1, 0)}, id="groups"),
    pytest.param((3, 3), (2, 2), {"stride": 1, "dilation": 2, "output_padding": 1}, id="2d-op-from-dilation"),
]


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def _canon(x_shape: tuple, w_shape: tuple, kwargs: dict, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    groups = kwargs.get("groups", 1)
    b = rng.standard_normal((w_shape[1] if len(w_shape) == 4 else 1) * groups)
    x3 = x if x.ndim == 3 else x[None]
    w4 = w if w.ndim == 4 else w[None, None]
    names = (("stride", 1), ("padding", 0), ("output_padding", 0), ("dilation", 1))
    args = {k: _pair(kwargs.get(k, d)) for k, d in names}
    return x, w, b, x3, w4, groups, args


def naive_spread_axis(n: int, k: int, s: int, p: int, op: int, d: int) -> tuple[list[int], list[int]]:
    """Along one axis: kind and source of every spread position, built by placing cells and then padding.

    Start with ``(n-1)*s + 1`` positions all marked inserted, mark position
    ``i*s`` as input cell ``i``; then pad the start by ``d*(k-1) - p`` and the
    end by ``d*(k-1) - p + op`` (a negative amount crops that many instead).
    """
    kinds = [INSERTED] * ((n - 1) * s + 1)
    src = [-3] * len(kinds)
    for i in range(n):
        kinds[i * s], src[i * s] = REAL, i
    before, after = d * (k - 1) - p, d * (k - 1) - p + op
    if before >= 0:
        kinds, src = [PADDING] * before + kinds, [-1] * before + src
    else:
        kinds, src = kinds[-before:], src[-before:]
    if after >= 0:
        kinds, src = kinds + [PADDING] * after, src + [-1] * after
    else:
        kinds, src = kinds[:after], src[:after]
    return kinds, src


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CASES)
def test_spread_input_marks_real_inserted_and_padding(
    x_shape: tuple, w_shape: tuple, kwargs: dict
) -> None:
    """The spread input holds x at its spread positions, zeros elsewhere, with the right kinds and sources."""
    x, w, _, x3, w4, _, a = _canon(x_shape, w_shape, kwargs, 0)
    tr = trace_conv_transpose2d(x, w, **kwargs)
    sp = tr.spread
    per_axis = zip(x3.shape[1:], w4.shape[2:], a["stride"], a["padding"], a["output_padding"], a["dilation"],
                   strict=True)
    axes = [naive_spread_axis(*args) for args in per_axis]
    (kr, sr), (kc, sc) = axes
    assert sp.values.shape == (x3.shape[0], len(kr), len(kc))
    np.testing.assert_array_equal(sp.source_rows, sr)
    np.testing.assert_array_equal(sp.source_cols, sc)
    for r in range(len(kr)):
        for c in range(len(kc)):
            want = PADDING if PADDING in (kr[r], kc[c]) else INSERTED if INSERTED in (kr[r], kc[c]) else REAL
            assert sp.kind[r, c] == want
            if want == REAL:
                np.testing.assert_array_equal(sp.values[:, r, c], x3[:, sr[r], sc[c]])
            else:
                assert not sp.values[:, r, c].any()
    # Every input cell appears once, except those a crop (padding > d*(k-1)) removes: they reach no output.
    assert sp.is_real.sum() == kr.count(REAL) * kc.count(REAL)
    if a["padding"][0] <= a["dilation"][0] * (w4.shape[2] - 1):
        assert kr.count(REAL) == x3.shape[1]
    np.testing.assert_array_equal(sp.is_inserted, sp.kind == INSERTED)
    np.testing.assert_array_equal(sp.is_padding, sp.kind == PADDING)
    # The spread length is what a stride-1 window sweep needs for the output size.
    for axis in range(2):
        n, k = x3.shape[1 + axis], w4.shape[2 + axis]
        d = a["dilation"][axis]
        out = transposed_output_size(n, k, a["stride"][axis], a["padding"][axis],
                                     a["output_padding"][axis], d)
        assert sp.values.shape[1 + axis] == out + d * (k - 1)


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CASES)
def test_gather_steps_rebuild_the_stamped_output(x_shape: tuple, w_shape: tuple, kwargs: dict) -> None:
    """One ConvStep per output cell over the spread input, with the flipped, channel-swapped kernel."""
    x, w, b, x3, w4, groups, a = _canon(x_shape, w_shape, kwargs, 1)
    expected = naive_conv_transpose(x3, w4, b, groups, a["stride"], a["padding"], a["output_padding"],
                                    a["dilation"])
    tr = trace_conv_transpose2d(x, w, b, **kwargs)
    assert len(tr) == expected.size
    in_per_group, per_group = x3.shape[0] // groups, w4.shape[1]
    kh, kw = w4.shape[2:]
    dh, dw = a["dilation"]
    z = tr.spread.values
    rebuilt = np.full(expected.shape, np.nan)
    for k in range(len(tr)):
        s = tr[k]
        o, i, j = np.unravel_index(k, expected.shape)
        g = o // per_group
        assert (s.out_channel, s.out_row, s.out_col, s.group) == (o, i, j, g)
        rows, cols = i + dh * np.arange(kh), j + dw * np.arange(kw)
        np.testing.assert_array_equal(s.window.rows, rows)
        np.testing.assert_array_equal(s.window.cols, cols)
        np.testing.assert_array_equal(s.window.kind, tr.spread.kind[rows[:, None], cols[None, :]])
        np.testing.assert_array_equal(s.window.is_inserted, s.window.kind == INSERTED)
        np.testing.assert_array_equal(s.window.source_rows, tr.spread.source_rows[rows])
        chans = range(g * in_per_group, (g + 1) * in_per_group)
        assert list(s.in_channels) == list(chans)
        np.testing.assert_array_equal(s.inputs, z[list(chans)][:, rows[:, None], cols[None, :]])
        for c in range(in_per_group):
            for p in range(kh):
                for q in range(kw):
                    flipped = w4[g * in_per_group + c, o - g * per_group, kh - 1 - p, kw - 1 - q]
                    assert s.weights[c, p, q] == flipped
        rebuilt[o, i, j] = s.total
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.partial(len(tr) - 1), expected, rtol=1e-12, atol=1e-12)
    half = tr.partial(len(tr) // 2).reshape(-1)
    assert np.isnan(half[len(tr) // 2 + 1 :]).all()
    np.testing.assert_allclose(half[: len(tr) // 2 + 1], expected.reshape(-1)[: len(tr) // 2 + 1], rtol=1e-12)
    tap = trace_conv_transpose2d(x, w, b, granularity="tap", **kwargs)
    assert len(tap) == expected.size * in_per_group * kh * kw
    assert tap[-1].complete
    assert tap[-1].total == pytest.approx(expected.reshape(-1)[-1], abs=1e-12)


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CASES)
def test_scatter_steps_stamp_the_output(x_shape: tuple, w_shape: tuple, kwargs: dict) -> None:
    """One step per input cell: its stamp, where it lands, and partial/hits after every step."""
    x, w, b, x3, w4, groups, a = _canon(x_shape, w_shape, kwargs, 2)
    expected = naive_conv_transpose(x3, w4, b, groups, a["stride"], a["padding"], a["output_padding"],
                                    a["dilation"])
    tr = trace_conv_transpose2d_scatter(x, w, b, **kwargs)
    assert len(tr) == x3.size
    assert tr.out_shape == expected.shape
    in_per_group, per_group = x3.shape[0] // groups, w4.shape[1]
    kh, kw = w4.shape[2:]
    acc = np.broadcast_to(b[:, None, None], expected.shape).copy()
    hits = np.zeros(expected.shape, dtype=int)
    np.testing.assert_allclose(tr.partial(-1), acc, rtol=1e-12)
    assert not tr.hits(-1).any()
    _, Ho, Wo = expected.shape
    for k in range(len(tr)):
        s = tr[k]
        c, i, j = np.unravel_index(k, x3.shape)
        assert (s.in_channel, s.in_row, s.in_col) == (c, i, j)
        assert tr.input_step(c, i, j) == k
        assert s.group == c // in_per_group
        assert list(s.out_channels) == list(range(s.group * per_group, (s.group + 1) * per_group))
        assert s.value == x3[c, i, j]
        np.testing.assert_array_equal(s.weights, w4[c])
        np.testing.assert_allclose(s.stamp, x3[c, i, j] * w4[c])
        rows = i * a["stride"][0] - a["padding"][0] + a["dilation"][0] * np.arange(kh)
        cols = j * a["stride"][1] - a["padding"][1] + a["dilation"][1] * np.arange(kw)
        np.testing.assert_array_equal(s.rows, rows)
        np.testing.assert_array_equal(s.cols, cols)
        for p in range(kh):
            for q in range(kw):
                lands = 0 <= rows[p] < Ho and 0 <= cols[q] < Wo
                assert s.inside[p, q] == lands
                if lands:
                    for oo, o in enumerate(s.out_channels):
                        acc[o, rows[p], cols[q]] += s.stamp[oo, p, q]
                        hits[o, rows[p], cols[q]] += 1
        if k in (0, len(tr) // 2, len(tr) - 1):
            np.testing.assert_allclose(tr.partial(k), acc, rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(tr.hits(k), hits)
    np.testing.assert_allclose(acc, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.output, expected, rtol=1e-12, atol=1e-12)
    assert tr[-1].index == len(tr) - 1
    for bad in (len(tr), -len(tr) - 1):
        with pytest.raises(IndexError, match="out of range"):
            tr[bad]
    with pytest.raises(IndexError):
        tr.partial(len(tr))


def test_checkerboard_in_the_hits() -> None:
    """Kernel 3, stride 2 overlaps unevenly (the checkerboard); kernel 4, stride 2 evenly inside."""
    x = np.ones((6, 6))
    odd = trace_conv_transpose2d_scatter(x, np.ones((3, 3)), stride=2)
    h = odd.hits(len(odd) - 1)[0]
    assert set(np.unique(h[2:-2, 2:-2])) == {1, 2, 4}
    even = trace_conv_transpose2d_scatter(x, np.ones((4, 4)), stride=2, padding=1)
    h = even.hits(len(even) - 1)[0]
    assert set(np.unique(h[1:-1, 1:-1])) == {4}
    np.testing.assert_allclose(even.output[0], conv_transpose2d(x, np.ones((4, 4)), stride=2, padding=1))


def test_transpose_steps_are_frozen_and_read_only() -> None:
    """Steps, windows and the spread input are frozen; their arrays are read-only."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 2, 3, 3))
    gather = trace_conv_transpose2d(x, w, stride=2)
    scatter = trace_conv_transpose2d_scatter(x, w, stride=2)
    for obj in (gather[4], gather[4].window, scatter[4], gather.spread):
        fields = dataclasses.fields(obj)  # type: ignore[arg-type]
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, fields[0].name, 0)
        arrays = [getattr(obj, f.name) for f in fields if isinstance(getattr(obj, f.name), np.ndarray)]
        assert arrays
        for arr in arrays:
            with pytest.raises(ValueError, match="read-only"):
                arr.flat[0] = 1


def test_large_transpose_traces_are_lazy() -> None:
    """A 3x256x256 input at stride 2: the traces hold the spread input once and build no frames."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 256, 256))
    w = rng.standard_normal((3, 4, 3, 3))
    tracemalloc.start()
    try:
        gather = trace_conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
        scatter = trace_conv_transpose2d_scatter(x, w, stride=2, padding=1, output_padding=1)
        for k in rng.integers(0, len(gather), 50):
            gather[int(k)]
        for k in rng.integers(0, len(scatter), 50):
            scatter[int(k)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    spread = gather.spread.values.nbytes  # about 4 x.nbytes at stride 2
    assert peak < spread + 2 * x.nbytes, f"peak {peak} bytes, spread input {spread}"
    assert len(gather) == 4 * 512 * 512
    y = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    for k in rng.integers(0, len(gather), 5):
        assert gather[int(k)].total == pytest.approx(y.reshape(-1)[int(k)], abs=1e-12)
