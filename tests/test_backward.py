"""The backward pass in the window: gradients against the engine and plain loops, gather vs
scatter, max-pool ties, the gradient check, the diverging colours and the upstream choices."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton

import engine
from engine import backprop
from engine.conv import prepare_conv
from gui.controllers import stage as stage_controller
from gui.models.choices import THEMES
from gui.models.params import Params
from gui.scene import colour_map, colourize


def child(win, cls, name):  # type: ignore[no-untyped-def]
    w = win.findChild(cls, name)
    assert w is not None, f"no {cls.__name__} named {name!r}"
    return w


def choose(combo: QComboBox, data: str) -> None:
    """Pick the entry whose data is ``data``, as a user picking it from the list does."""
    index = combo.findData(data)
    assert index >= 0, f"{combo.objectName()} has no entry {data!r}"
    combo.setCurrentIndex(index)


def press(qtbot, win, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(win, key, modifier)


# --------------------------------------------------------------------------- plain-loop references
def source_index(k: int, before: int, n: int, mode: str) -> int | None:
    """The real index a padded index ``k`` copies (None: a zero padding cell)."""
    r = k - before
    if 0 <= r < n:
        return r
    if mode == "zeros":
        return None
    if mode == "circular":
        return r % n
    if mode == "replicate":
        return min(max(r, 0), n - 1)
    while not 0 <= r < n:  # reflect, without repeating the edge
        r = -r if r < 0 else 2 * (n - 1) - r
    return r


def naive_conv_backward(x, w, dy, stride, dilation, pads, mode):  # type: ignore[no-untyped-def]
    """dL/dX, dL/dW, dL/db of a cross-correlation, one multiply-add at a time.

    ``pads`` is (top, bottom, left, right); a padding cell that copies a real cell
    sends its gradient to that cell.
    """
    c_in, h, wd = x.shape
    o_n, _, kh, kw = w.shape
    (sh, sw), (dh, dw_) = stride, dilation
    top, _, left, _ = pads
    gx, gw, gb = np.zeros_like(x), np.zeros_like(w), np.zeros(o_n)
    for o in range(o_n):
        for i in range(dy.shape[1]):
            for j in range(dy.shape[2]):
                g = dy[o, i, j]
                gb[o] += g
                for c in range(c_in):
                    for p in range(kh):
                        for q in range(kw):
                            r = source_index(i * sh + p * dh, top, h, mode)
                            s = source_index(j * sw + q * dw_, left, wd, mode)
                            if r is None or s is None:
                                continue  # zero padding: reads 0, its gradient is dropped
                            gw[o, c, p, q] += g * x[c, r, s]
                            gx[c, r, s] += g * w[o, c, p, q]
    return gx, gw, gb


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, with its rule for ceil-mode windows."""
    raw = (n + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(raw) if ceil_mode else math.floor(raw)) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def naive_pool_backward(x, dy, op, k, s, p, d, ceil_mode, count_include_pad):  # type: ignore[no-untyped-def]
    """dL/dX of max/min/avg pooling (symmetric padding ``p``), one window at a time."""
    c_n, h, wd = x.shape
    ho, wo = pool_out_size(h, k, s, p, d, ceil_mode), pool_out_size(wd, k, s, p, d, ceil_mode)
    assert dy.shape == (c_n, ho, wo)
    gx = np.zeros_like(x)
    for c in range(c_n):
        for i in range(ho):
            for j in range(wo):
                cells = [(i * s - p + a * d, j * s - p + b * d) for a in range(k) for b in range(k)]
                real = [(r, q) for r, q in cells if 0 <= r < h and 0 <= q < wd]
                if op in ("max", "min"):
                    best = real[0]
                    for r, q in real[1:]:  # strictly better only: the first in raster order wins ties
                        v, top = x[c, r, q], x[c, best[0], best[1]]
                        if (v > top) if op == "max" else (v < top):
                            best = (r, q)
                    gx[c, best[0], best[1]] += dy[c, i, j]
                else:
                    r0, q0 = i * s - p, j * s - p
                    r1, q1 = min(r0 + k, h + p), min(q0 + k, wd + p)
                    divisor = (r1 - r0) * (q1 - q0)
                    if not count_include_pad:
                        divisor = (min(r1, h) - max(r0, 0)) * (min(q1, wd) - max(q0, 0))
                    for r, q in real:
                        gx[c, r, q] += dy[c, i, j] / divisor
    return gx


# --------------------------------------------------------------------------- stepping to the end
CONV_CASES = {
    "conv-scatter": Params(op="conv", in_c=2, out_c=2, in_h=5, in_w=6, bias=True, padding=(1, 1, 1, 1),
                           upstream="random", seed=3),
    "conv-stride2-dil2-reflect": Params(op="conv", in_h=8, in_w=7, stride=(2, 2), dilation=(2, 2),
                                        padding=(2, 2, 2, 2), padding_mode="reflect", upstream="random",
                                        seed=5),
    "conv-stride2-dil2-circular": Params(op="conv", in_c=2, in_h=7, in_w=8, stride=(2, 2),
                                         dilation=(2, 2), padding=(3, 3, 3, 3), padding_mode="circular",
                                         upstream="random", seed=6),
    "conv-asymmetric-replicate": Params(op="conv", in_h=6, in_w=6, stride=(2, 1), pad_kind="asymmetric",
                                        padding=(0, 2, 1, 0), padding_mode="replicate", upstream="random"),
}
POOL_CASES = {
    "max-ceil-pad": Params(op="max", in_c=2, in_h=6, in_w=7, k_h=3, k_w=3, stride=(2, 2),
                           padding=(1, 1, 1, 1), ceil_mode=True, upstream="random", seed=2),
    "max-dilated": Params(op="max", in_h=7, in_w=7, k_h=2, k_w=2, stride=(2, 2), dilation=(2, 2),
                          padding=(1, 1, 1, 1), ceil_mode=True, upstream="random", seed=8),
    "min-ceil-pad": Params(op="min", in_h=6, in_w=6, k_h=3, k_w=3, stride=(2, 2), padding=(1, 1, 1, 1),
                           ceil_mode=True, upstream="random", seed=4),
    "avg-ceil-pad-counted": Params(op="avg", in_h=6, in_w=7, k_h=3, k_w=3, stride=(2, 2),
                                   padding=(1, 1, 1, 1), ceil_mode=True, count_include_pad=True,
                                   upstream="random", seed=1),
    "avg-ceil-pad-uncounted": Params(op="avg", in_c=2, in_h=7, in_w=6, k_h=3, k_w=3, stride=(2, 2),
                                     padding=(1, 1, 1, 1), ceil_mode=True, count_include_pad=False,
                                     upstream="random", seed=9),
}


def load_values(win, p: Params, seed: int = 0) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Load ``p`` (forward) with distinct non-integer input values; return the input."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.permutation(p.in_c * p.in_h * p.in_w).reshape(p.in_c, p.in_h, p.in_w) * 0.37
                 - 3.0, 2)
    assert win.model.load(replace(p, mode="forward"), x=x), win.model.last_error
    return x


def go_backward_to_the_end(win, qtbot):  # type: ignore[no-untyped-def]
    choose(child(win, QComboBox, "mode"), "backward")
    assert win.model.params.mode == "backward"
    press(qtbot, win, Qt.Key.Key_End)
    f = win.model.frame()
    assert f.step_index == win.model.n_steps - 1
    assert win.renderer.frame is f  # the screen shows this frame
    return f


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv_backward_end_equals_engine_and_plain_loops(window, qtbot, name) -> None:
    p = CONV_CASES[name]
    x = load_values(window, p)
    f = go_backward_to_the_end(window, qtbot)
    m = window.model
    assert f.phase == "backward"
    w, dy = np.array(m.w), np.array(m.run.dy)
    assert m.n_steps == dy.size  # one backward step per dL/dY cell
    gx, gw, gb = engine.conv2d_backward(x, w, dy, stride=p.stride, padding=p.engine_padding(),
                                        dilation=p.dilation, padding_mode=p.padding_mode)
    np.testing.assert_allclose(f.grads.grad_x, gx, atol=1e-12)
    np.testing.assert_allclose(f.grads.grad_w, gw, atol=1e-12)
    np.testing.assert_allclose(f.grads.grad_bias, gb, atol=1e-12)
    ngx, ngw, ngb = naive_conv_backward(x, w, dy, p.stride, p.dilation, p.padding, p.padding_mode)
    np.testing.assert_allclose(f.grads.grad_x, ngx, atol=1e-12)
    np.testing.assert_allclose(f.grads.grad_w, ngw, atol=1e-12)
    np.testing.assert_allclose(f.grads.grad_bias, ngb, atol=1e-12)


@pytest.mark.parametrize("name", list(POOL_CASES))
def test_pool_backward_end_equals_engine_and_plain_loops(window, qtbot, name) -> None:
    p = POOL_CASES[name]
    x = load_values(window, p, seed=11)
    f = go_backward_to_the_end(window, qtbot)
    dy = np.array(window.model.run.dy)
    assert f.phase == "backward"
    assert f.grads.grad_w is None
    gx = engine.pool2d_backward(x, dy, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=p.engine_padding(),
                                dilation=p.dilation, ceil_mode=p.ceil_mode,
                                count_include_pad=p.count_include_pad)
    np.testing.assert_allclose(f.grads.grad_x, gx, atol=1e-12)
    naive = naive_pool_backward(x, dy, p.op, p.k_h, p.stride[0], p.padding[0], p.dilation[0], p.ceil_mode,
                                p.count_include_pad)
    np.testing.assert_allclose(f.grads.grad_x, naive, atol=1e-12)
    if p.op != "avg":  # every dL/dY cell lands whole on one input cell
        assert f.grads.grad_x.sum() == pytest.approx(dy.sum())


def test_flipped_kernel_gradient_is_shown_for_the_kernel_as_applied(window, qtbot) -> None:
    p = replace(CONV_CASES["conv-scatter"], flip_kernel=True)
    x = load_values(window, p)
    f = go_backward_to_the_end(window, qtbot)
    w, dy = np.array(window.model.w), np.array(window.model.run.dy)
    gx, gw, _ = engine.conv2d_backward(x, w, dy, padding=1, flip_kernel=True)
    np.testing.assert_allclose(f.grads.grad_x, gx, atol=1e-12)
    # The screen draws the kernel as applied (flipped); its gradient is drawn the same way.
    np.testing.assert_allclose(f.grads.grad_w, gw[:, :, ::-1, ::-1], atol=1e-12)
    ngx, ngw, _ = naive_conv_backward(x, w[:, :, ::-1, ::-1], dy, (1, 1), (1, 1), (1, 1, 1, 1), "zeros")
    np.testing.assert_allclose(f.grads.grad_x, ngx, atol=1e-12)
    np.testing.assert_allclose(f.grads.grad_w, ngw, atol=1e-12)


# --------------------------------------------------------------------------- gather vs scatter
def test_gather_view_ends_on_the_scatter_result(window, qtbot) -> None:
    p = CONV_CASES["conv-stride2-dil2-reflect"]
    x = load_values(window, p)
    scatter = go_backward_to_the_end(window, qtbot)
    scattered = np.array(scatter.grads.grad_x_padded)

    gather = child(window, QCheckBox, "gather")
    assert gather.isEnabled()
    gather.click()
    assert window.model.params.grad_view == "gather"
    press(qtbot, window, Qt.Key.Key_End)
    f = window.model.frame()
    assert f.phase == "gather"
    assert window.renderer.frame is f
    # One gather step per padded input cell.
    assert window.model.n_steps == scattered.size
    np.testing.assert_allclose(f.output, scattered, atol=1e-12)
    assert "agree" in f.arithmetic.splitlines()[-1]
    # And the padded gradient, folded back by hand, is the plain-loop dL/dX.
    w, dy = np.array(window.model.w), np.array(window.model.run.dy)
    ngx, _, _ = naive_conv_backward(x, w, dy, p.stride, p.dilation, p.padding, p.padding_mode)
    folded = np.zeros_like(x)
    top, _, left, _ = p.padding
    for c, r, q in np.ndindex(*scattered.shape):
        sr = source_index(r, top, p.in_h, p.padding_mode)
        sq = source_index(q, left, p.in_w, p.padding_mode)
        folded[c, sr, sq] += f.output[c, r, q]
    np.testing.assert_allclose(folded, ngx, atol=1e-12)

    gather.click()  # back to scatter: the same end result
    press(qtbot, window, Qt.Key.Key_End)
    assert window.model.frame().phase == "backward"
    np.testing.assert_allclose(window.model.frame().grads.grad_x_padded, scattered, atol=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c_in=st.integers(1, 2), c_out=st.integers(1, 2), h=st.integers(3, 9), w=st.integers(3, 9),
    kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
    dh=st.integers(1, 3), dw=st.integers(1, 3), pads=st.tuples(*[st.integers(0, 3)] * 4),
    asymmetric=st.booleans(), mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    seed=st.integers(0, 2**16),
)
def test_gather_route_equals_conv2d_backward(c_in, c_out, h, w, kh, kw, sh, sw, dh, dw, pads, asymmetric,
                                             mode, seed) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c_in, h, w))
    k = rng.standard_normal((c_out, c_in, kh, kw))
    padding = ((pads[0], pads[1]), (pads[2], pads[3])) if asymmetric else (pads[0], pads[2])
    kwargs = dict(stride=(sh, sw), dilation=(dh, dw), padding=padding, padding_mode=mode)
    try:
        setup = prepare_conv(x, k, **kwargs)
    except ValueError:
        assume(False)
        return
    dy = rng.standard_normal((c_out, *setup.geometry.out_shape))
    gv = backprop.gather_input_grad(setup, dy)
    gx, _, _ = engine.conv2d_backward(x, k, dy, **kwargs)
    np.testing.assert_allclose(gv.grad_x, gx, atol=1e-10)
    assert gv.grad_x.shape == x.shape


# --------------------------------------------------------------------------- max-pool tie
def test_max_pool_tie_goes_to_the_cell_the_screen_names(window, qtbot, settle) -> None:
    p = Params(op="max", in_h=4, in_w=4, k_h=2, k_w=2, stride=(2, 2), padding=(1, 1, 1, 1))
    x = np.arange(16.0).reshape(1, 4, 4) * 0.1  # all below 9 and distinct
    # Output cell (1, 1) reads real rows 1-2, columns 1-2: three 9s tie; (1, 2) comes first.
    x[0, 1, 1], x[0, 1, 2], x[0, 2, 1], x[0, 2, 2] = 0.0, 9.0, 9.0, 9.0
    assert window.model.load(p, x=x)
    choose(child(window, QComboBox, "mode"), "backward")
    n_out = pool_out_size(4, 2, 2, 1, 1, False)
    target = 1 * n_out + 1  # raster index of output cell (1, 1)
    for _ in range(target):
        press(qtbot, window, Qt.Key.Key_Right)
    settle(window)
    f = window.model.frame()
    assert f.phase == "backward" and (f.step.out_row, f.step.out_col) == (1, 1)
    screen = window.renderer.arith.text
    for text in (f.arithmetic, screen):
        assert "X[0,1,2]" in text
        assert "tie" in text
    gx = f.grads.grad_x
    # Within the window only the first tied cell in raster order received the gradient.
    got = gx[0, 1:3, 1:3] - np.array(window.model.run.bwd.partial(target - 1).grad_x[0, 1:3, 1:3])
    np.testing.assert_array_equal(got, [[0.0, 1.0], [0.0, 0.0]])  # X[0,1,2] only
    ties = [(r, c) for r in (1, 2) for c in (1, 2) if x[0, r, c] == 9.0]
    assert ties[0] == (1, 2)  # first in raster order, by construction
    np.testing.assert_array_equal(gx, naive_pool_backward(x, np.where(
        np.arange(9).reshape(1, 3, 3) <= target, 1.0, 0.0), "max", 2, 2, 1, 1, False, True))


# --------------------------------------------------------------------------- gradient check
def numbers_in(text: str) -> dict[str, float]:
    """The analytic and finite-difference values written in the check result."""
    plain = re.sub(r"<[^>]+>", "\n", text).replace("\u2212", "-")
    out = {}
    for key in ("analytic", "finite difference"):
        m = re.search(key + r"[^:]*:\s*([-+0-9.eE]+)", plain)
        assert m, f"no {key!r} value in {plain!r}"
        out[key] = float(m.group(1))
    return out


def own_loss(model, x, w):  # type: ignore[no-untyped-def]
    """The loss the check differentiates, computed from the engine's forward pass."""
    p = model.params
    if p.is_conv:
        y = engine.conv2d(x, w, stride=p.stride, padding=p.engine_padding(), dilation=p.dilation,
                          padding_mode=p.padding_mode, flip_kernel=p.flip_kernel)
    else:
        y = engine.pool2d(x, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=p.engine_padding(),
                          dilation=p.dilation, ceil_mode=p.ceil_mode, count_include_pad=p.count_include_pad)
    if p.upstream == "loss":
        return 0.5 * float(((y - model.target) ** 2).sum())
    return float((y * np.array(model.run.dy)).sum())


def own_difference(model, wrt, index, eps=1e-5) -> float:  # type: ignore[no-untyped-def]
    x, w = np.array(model.x), np.array(model.w)
    a = x if wrt == "x" else w
    plus, minus = a.copy(), a.copy()
    plus[index] += eps
    minus[index] -= eps
    if wrt == "x":
        return (own_loss(model, plus, w) - own_loss(model, minus, w)) / (2 * eps)
    return (own_loss(model, x, plus) - own_loss(model, x, minus)) / (2 * eps)


@pytest.mark.parametrize(
    ("case", "panel", "cell", "expect"),
    [
        ("conv", "input", (2, 3), ("x", (0, 1, 2))),
        ("conv", "kernel", (0, 2), ("w", (0, 0, 0, 2))),
        ("conv-flip", "kernel", (0, 2), ("w", (0, 0, 2, 0))),  # the screen shows the kernel flipped
        ("conv-flip", "input", (1, 1), ("x", (0, 0, 0))),
        ("conv-loss", "input", (3, 2), ("x", (0, 2, 1))),
        ("conv-loss", "kernel", (1, 1), ("w", (0, 0, 1, 1))),
        ("max", "input", (2, 2), ("x", (0, 1, 1))),
        ("avg", "input", (1, 2), ("x", (0, 0, 1))),
    ],
)
def test_gradient_check_of_a_clicked_cell(window, qtbot, user, case, panel, cell, expect) -> None:
    base = {
        "conv": Params(padding=(1, 1, 1, 1), upstream="random", seed=2),
        "conv-flip": Params(padding=(1, 1, 1, 1), flip_kernel=True, upstream="random", seed=4),
        "conv-loss": Params(padding=(1, 1, 1, 1), upstream="loss", seed=1),
        "max": Params(op="max", in_h=6, in_w=6, k_h=3, k_w=3, stride=(2, 2), padding=(1, 1, 1, 1),
                      upstream="random"),
        "avg": Params(op="avg", in_h=6, in_w=6, k_h=3, k_w=3, stride=(2, 2), padding=(1, 1, 1, 1),
                      upstream="random"),
    }[case]
    load_values(window, base, seed=5)  # distinct values: no max-pool ties
    choose(child(window, QComboBox, "mode"), "backward")
    result = child(window, QLabel, "check_result")
    user.click_cell(window.renderer, panel, *cell)
    assert window.stage.selected == expect
    if case == "conv":
        child(window, QPushButton, "check").click()
    else:
        press(qtbot, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    shown = numbers_in(result.text())
    wrt, index = expect
    m = window.model
    analytic, numeric = m.check_gradient(wrt, index)
    assert abs(analytic - numeric) < 1e-6
    # The engine's backward pass is the analytic value, for the weight as entered.
    p = m.params
    if p.is_conv:
        gx, gw, _ = engine.conv2d_backward(np.array(m.x), np.array(m.w), np.array(m.run.dy), padding=1,
                                           flip_kernel=p.flip_kernel)
        reference = (gx if wrt == "x" else gw)[index]
    else:
        reference = engine.pool2d_backward(np.array(m.x), np.array(m.run.dy), 3, op=p.op, stride=2,
                                           padding=1)[index]
    assert analytic == pytest.approx(reference, abs=1e-12)
    assert own_difference(m, wrt, index) == pytest.approx(reference, abs=1e-6)
    assert shown["analytic"] == pytest.approx(analytic, rel=1e-5, abs=1e-9)
    assert shown["finite difference"] == pytest.approx(numeric, rel=1e-8, abs=1e-7)


def test_gradient_check_in_forward_mode_asks_for_backward(window, qtbot) -> None:
    press(qtbot, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert "Backward" in window.controls.check_result.text()


# --------------------------------------------------------------------------- diverging colours
def lut256(cmap) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The map sampled at 256 even steps, straight from pyqtgraph (not the app's shipped table)."""
    return np.asarray(pg_map(cmap).getLookupTable(0.0, 1.0, 256, alpha=True, mode="byte"), dtype=int)


def pg_map(cmap):  # type: ignore[no-untyped-def]
    """pyqtgraph's own colour map of the same name as the app's ``cmap``."""
    import pyqtgraph as pg

    return pg.colormap.get(cmap.name)


@pytest.mark.parametrize("theme", list(THEMES))
def test_diverging_map_puts_zero_in_the_middle(qapp, theme) -> None:
    cmap = colour_map(theme, "diverging")
    lut = lut256(cmap)
    assert len(lut) == 256
    for m in (1.0, 7.5, 1e-3):
        rgba = colourize(np.array([[-m, 0.0, m], [-m / 2, 0.0, m / 2]]), (-m, m), cmap, (0x12, 0x34, 0x56))
        rgba = rgba.astype(int)
        np.testing.assert_array_equal(rgba[0, 0], lut[0])
        np.testing.assert_array_equal(rgba[0, 2], lut[255])
        # 256 entries have no single middle one: zero takes one of the two central entries,
        # and that is the map's own colour at 0.5 within one byte per channel.
        assert any((rgba[0, 1] == lut[i]).all() for i in (127, 128))
        mid = np.array(pg_map(cmap).map(0.5, mode="byte"), dtype=int)
        assert np.abs(rgba[0, 1, :3] - mid[:3]).max() <= 1
        # ±m/2 land a quarter of the way in from either end.
        assert any((rgba[1, 0] == lut[i]).all() for i in (63, 64))
        assert any((rgba[1, 2] == lut[i]).all() for i in (191, 192))
    # The ends are the map's own ends.
    np.testing.assert_array_equal(lut[0, :3], np.array(pg_map(cmap).map(0.0, mode="byte"))[:3])
    np.testing.assert_array_equal(lut[255, :3], np.array(pg_map(cmap).map(1.0, mode="byte"))[:3])


def test_unreached_gradient_cells_are_drawn_in_the_middle_colour(window, qtbot) -> None:
    """On screen: at the first backward step most dL/dX cells are still 0, drawn with the map's middle."""
    choose(child(window, QComboBox, "mode"), "backward")
    f = window.model.frame()
    dx = f.panel("dx")
    assert dx is not None and dx.colour == "diverging"
    lo, hi = dx.levels
    assert lo == -hi and dx.levels == f.levels["dx"]
    tile = window.renderer.visible_tiles("dx")[0]
    assert tile.item.grid is dx.grids[0]  # the screen paints the frame's grid
    rgba = tile.item.render.rgba
    zero = f.grads.grad_x_padded[0] == 0
    assert zero.any()
    lut = lut256(colour_map(window.renderer.theme_name, "diverging"))
    assert all(any((c == lut[i]).all() for i in (127, 128)) for c in rgba[zero])


# --------------------------------------------------------------------------- upstream choices
def test_upstream_ones(window) -> None:
    choose(child(window, QComboBox, "mode"), "backward")
    choose(child(window, QComboBox, "upstream"), "ones")
    m = window.model
    y = engine.conv2d(np.array(m.x), np.array(m.w), padding=1)
    np.testing.assert_array_equal(m.run.dy, np.ones_like(y))
    np.testing.assert_array_equal(m.frame().dy, np.ones_like(y))


def test_upstream_loss_gives_y_minus_t_and_shows_the_loss(window, qtbot) -> None:
    choose(child(window, QComboBox, "mode"), "backward")
    choose(child(window, QComboBox, "upstream"), "loss")
    m = window.model
    assert m.params.upstream == "loss"
    y = engine.conv2d(np.array(m.x), np.array(m.w), padding=1)
    t = m.target
    assert t is not None and t.shape == y.shape
    np.testing.assert_allclose(m.run.dy, y - t, atol=1e-12)
    loss = 0.5 * float(((y - t) ** 2).sum())
    for text in (m.frame().arithmetic, window.renderer.arith.text):
        found = re.search(r"L = ½·Σ\(Y . T\)² = ([-\u22120-9.e+]+)", text)
        assert found, text
        assert float(found.group(1).replace("\u2212", "-")) == pytest.approx(loss, rel=1e-6)
    # A target panel shows T.
    assert window.renderer.visible_tiles("target")
    # Editing T changes dL/dY accordingly.
    assert m.set_target_value(0, 1, 1, t[0, 1, 1] + 2.0)
    np.testing.assert_allclose(m.run.dy[0, 1, 1], y[0, 1, 1] - t[0, 1, 1] - 2.0)


def test_typing_a_dy_cell_makes_it_custom(window, user, qtbot, monkeypatch) -> None:
    asked: list[tuple] = []

    def get_double(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(args)
        return 5.0, True

    monkeypatch.setattr(stage_controller.QInputDialog, "getDouble", staticmethod(get_double))
    choose(child(window, QComboBox, "mode"), "backward")
    m = window.model
    x, w = np.array(m.x), np.array(m.w)
    user.double_click_cell(window.renderer, "dy", 2, 3)
    assert len(asked) == 1
    assert asked[0][3] == 1.0  # the dialog starts at the old value (all ones)
    assert m.params.upstream == "custom"
    assert child(window, QComboBox, "upstream").currentData() == "custom"
    expected = np.ones((1, 5, 5))
    expected[0, 2, 3] = 5.0
    np.testing.assert_array_equal(m.run.dy, expected)
    press(qtbot, window, Qt.Key.Key_End)
    g = m.frame().grads
    gx, gw, gb = naive_conv_backward(x, w, expected, (1, 1), (1, 1), (1, 1, 1, 1), "zeros")
    np.testing.assert_allclose(g.grad_x, gx, atol=1e-12)
    np.testing.assert_allclose(g.grad_w, gw, atol=1e-12)
    np.testing.assert_allclose(g.grad_bias, gb, atol=1e-12)
    assert gb[0] == 24 + 5.0


def test_both_mode_runs_forward_then_backward(window, qtbot) -> None:
    p = Params(in_c=2, out_c=2, in_h=6, in_w=5, stride=(2, 1), padding=(1, 1, 1, 1))
    load_values(window, p)
    choose(child(window, QComboBox, "mode"), "both")
    m = window.model
    n_forward = 2 * engine.output_size(6, 3, 2, 1) * engine.output_size(5, 3, 1, 1)
    assert m.n_forward == n_forward
    assert m.n_steps == 2 * n_forward  # one backward step per dL/dY cell, as many as outputs
    slider = window.playback.slider
    assert slider.maximum() == m.n_steps - 1
    slider.setValue(n_forward - 1)
    assert m.frame().phase == "forward"
    assert window.renderer.frame.phase == "forward"
    assert not window.renderer.visible_tiles("dx")
    press(qtbot, window, Qt.Key.Key_Right)
    assert m.step == n_forward
    f = m.frame()
    assert f.phase == "backward" and f.step.index == 0
    assert window.renderer.visible_tiles("dx")
    qtbot.waitUntil(lambda: not window.controller.timer.isActive(), timeout=3000)
