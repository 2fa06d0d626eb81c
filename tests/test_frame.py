"""The Frame read back, with no Qt: titles, every cell's label, marks against the engine's windows,
captions, arithmetic and the "stage tells the truth" regressions.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import engine
from engine.describe import MINUS, fmt_cell
from gui.models.frame import Frame, Grid, Highlight, cell_label, cell_labels, signed_label
from gui.models.lesson import Lesson
from gui.models.params import Params

ROOT = Path(__file__).resolve().parents[1]
#: "−0" as a number of its own ("−0.5" and "−10" are fine).
MINUS_ZERO = re.compile(MINUS + r"0(?![.\d])")


def expected_label(v: float) -> str:
    """The engine's formatting of a cell, with a value that rounds to zero reading "0"."""
    s = fmt_cell(v)
    return "0" if s == MINUS + "0" else s


def frames(m: Lesson, *, expanded: bool = False, every: int = 1) -> Iterator[Frame]:
    for k in range(0, m.n_steps, every):
        yield m.frame(k, expanded=expanded)
    yield m.frame(m.n_steps - 1, expanded=expanded)


def all_text(f: Frame) -> Iterator[str]:
    """Every string a frame paints."""
    yield f.caption
    yield f.arithmetic
    for p in f.panels:
        yield p.title
        yield from p.legend or ()
        for g in p.grids:
            yield from g.labels.ravel().tolist()
            if g.corner is not None:
                yield from g.corner.ravel().tolist()
    for mk in f.marks:
        yield from mk.labels


SCENES = {
    "conv": Params(),
    "conv-rgb": Params(in_c=3, out_c=2),
    "conv-dilation": Params(in_h=7, in_w=7, dilation=(2, 2), padding=(0, 0, 0, 0), stride=(2, 1)),
    "conv-reflect-decimals": Params(padding_mode="reflect", integers=False, bias=True),
    "conv-tap": Params(granularity="tap"),
    "max-ceil": Params(op="max", in_h=6, in_w=6, stride=(2, 2), ceil_mode=True),  # padding and overhang
    "min": Params(op="min", k_h=2, k_w=2, stride=(2, 2)),
    "avg-decimals": Params(op="avg", integers=False),
    "backward-conv": Params(mode="backward", stride=(2, 2), upstream="loss"),
    "backward-relu": Params(mode="both", activation="relu", bias=True, in_c=2, out_c=2),
    "backward-max": Params(op="max", mode="backward", k_h=2, k_w=2, stride=(2, 2), upstream="random"),
    "gather": Params(mode="backward", grad_view="gather", stride=(2, 2), in_c=2),
}


# --------------------------------------------------------------------------- Qt-free
def test_the_frame_module_imports_no_qt() -> None:
    code = ("import sys; import gui.models.frame, gui.models.lesson; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]; "
            "assert not bad, bad")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


# --------------------------------------------------------------------------- labels
@pytest.mark.parametrize("name", list(SCENES))
def test_every_cell_with_a_value_shows_the_engines_label(name: str) -> None:
    m = Lesson(SCENES[name])
    for expanded in (False, True):
        for f in frames(m, expanded=expanded, every=3):
            for p in f.panels:
                if p.name == "kernel" and not f.params.is_conv:
                    continue  # the pooling window's footprint, not values (see test_stage_truth)
                for g in p.grids:
                    assert g.labels.shape == g.values.shape
                    overhang = np.zeros(g.shape, bool) if g.kinds is None else g.kinds == 2
                    inserted = np.zeros(g.shape, bool) if g.kinds is None else g.kinds == 3
                    for (i, j), v in np.ndenumerate(g.values):
                        label = str(g.labels[i, j])
                        if inserted[i, j]:  # a zero the gather view put there, or a dilation gap
                            assert label in ("·", "") and (p.name == "kernel" or v == 0), (name, p.name, i, j)
                        elif np.isnan(v) or overhang[i, j]:
                            assert label == "" or p.name == "kernel", (name, p.name, i, j)
                        else:
                            assert label == expected_label(float(v)), (name, p.name, i, j, v, label)


def test_two_values_with_the_same_text_both_keep_it() -> None:
    """Regression: the painter grouped cells by label and kept one cell per value written alike."""
    x = np.array([[[0.001, 0.002, -0.003], [1.004, 1.0, 0.5], [2.0, 2.001, 0.0]]])
    m = Lesson(Params(in_h=3, in_w=3, integers=False))
    assert m.load(m.params, x=x)
    g = m.frame().panel("input").grids[0]
    inner = g.labels[1:4, 1:4]
    np.testing.assert_array_equal(inner, [["0", "0", "0"], ["1", "1", "0.5"], ["2", "2", "0"]])
    # Padding shows its fill value (0) in decimal mode too.
    assert set(g.labels[0].tolist()) == {"0"} and set(g.labels[:, 0].tolist()) == {"0"}


def test_padding_shows_its_fill_value_and_overhang_none() -> None:
    m = Lesson(SCENES["max-ceil"])
    g = m.frame().panel("input").grids[0]
    kinds = g.kinds
    assert kinds is not None and (kinds == 1).any() and (kinds == 2).any()
    assert set(g.labels[kinds == 1].tolist()) == {MINUS + "∞"}  # max pooling pads with −∞
    assert set(g.labels[kinds == 2].tolist()) == {""}
    avg = Lesson(Params(op="avg", integers=False)).frame().panel("input").grids[0]
    assert set(avg.labels[avg.kinds == 1].tolist()) == {"0"}


def test_no_minus_zero_anywhere() -> None:
    """Regression: a value that rounds to zero read "−0"."""
    assert cell_label(-0.004) == "0" and cell_label(-0.0) == "0" and cell_label(-0.006) == MINUS + "0.01"
    assert signed_label(-0.004) == "+0" and signed_label(0.5) == "+0.5" and signed_label(-2.0) == MINUS + "2"
    np.testing.assert_array_equal(cell_labels(np.array([-0.001, np.nan, -0.0, 3.0])), ["0", "", "0", "3"])
    x = np.full((1, 4, 4), -0.001)
    x[0, 1, 2] = -0.004
    x[0, 3, 3] = 0.5
    for p in (Params(in_h=4, in_w=4, integers=False, mode="both", bias=True, upstream="random"),
              Params(in_h=4, in_w=4, op="avg", integers=False, mode="both")):
        m = Lesson(p)
        assert m.load(p, x=x)
        seen = 0
        for f in frames(m):
            for s in all_text(f):
                assert not MINUS_ZERO.search(s), (f.step_index, s)
                seen += 1
        assert seen > 100


# --------------------------------------------------------------------------- titles and captions
def titles(f: Frame) -> dict[str, str]:
    return {p.name: p.title for p in f.panels}


def test_forward_titles_and_caption() -> None:
    f = Lesson(Params()).frame(7)
    assert titles(f) == {"input": "Input 5×5 + padding", "kernel": "Kernel 3×3", "output": "Output 5×5"}
    assert f.caption == "Convolution — Step 8 of 25: output channel 0, cell (1, 2)"  # indices from 0
    f = Lesson(Params(in_c=3, out_c=2, flip_kernel=True, padding=(0, 0, 0, 0))).frame(10)
    assert titles(f) == {"input": "Input 3×5×5", "kernel": "Kernel W[1] of 2 (flipped): 3×3×3",
                         "output": "Output 2×3×3"}
    # A kernel that reads several channels says so, as PyTorch lays its weights out (W[o] is C_in×kh×kw,
    # a transposed one's w[:, o] too): the titles said "3×3" beside a stack of three.
    assert Lesson(Params(in_c=3)).frame(0).panel("kernel").title == "Kernel 3×3×3"
    up = Params(op="conv_transpose", in_c=2, out_c=2, in_h=3, in_w=3, padding=(0, 0, 0, 0))
    assert Lesson(up).frame(0).panel("kernel").title == "Kernel W[0] of 2: 2×3×3, flipped (turned 180°)"
    scatter = Lesson(dataclasses.replace(up, transpose_view="scatter")).frame(0).panel("kernel").title
    assert scatter == "Kernel W[0] of 2: 2×3×3 (as entered, not flipped)"
    f = Lesson(Params(op="max", k_h=2, k_w=2, stride=(2, 2), mode="both")).frame(0)
    assert titles(f)["kernel"] == "max of each 2×2 window"
    assert f.caption.startswith("Max pooling — Forward pass — Step 1 of ")


def test_a_backward_step_names_the_kernel_it_shows_among_several() -> None:
    """With two kernels the backward picture shows one kernel and its dL/dW: the titles say which
    (they read "Kernel W" and "dL/dW" while W[1] and dL/dW[1] were shown)."""
    m = Lesson(Params(mode="backward", out_c=2))
    for k in (0, m.n_steps - 1):
        f = m.frame(k)
        o = f.step.out_channel
        kern, dw = f.panel("kernel"), f.panel("dw")
        assert kern.title == f"Kernel W[{o}] of 2" and dw.title == f"dL/dW[{o}]"
        assert kern.grids[0].labels.tolist() == cell_labels(f.kernel[o, 0]).tolist()
        assert dw.grids[0].labels.tolist() == cell_labels(f.grads.grad_w[o, 0]).tolist()
    assert {m.frame(k).step.out_channel for k in (0, m.n_steps - 1)} == {0, 1}


def test_backward_titles_and_panel_places() -> None:
    f = Lesson(Params(mode="backward")).frame(3)
    assert titles(f) == {"input": "Input X", "kernel": "Kernel W", "output": "Output Y", "dx": "dL/dX",
                         "dw": "dL/dW", "dy": "dL/dY (ones)"}
    places = {p.name: (p.row, p.slot) for p in f.panels}
    assert places["dx"] == (1, places["input"][1]) and places["dw"] == (1, places["kernel"][1])
    assert places["dy"] == (1, places["output"][1])
    f = Lesson(Params(mode="backward", upstream="loss")).frame(0)
    assert titles(f)["target"] == "Target T" and titles(f)["dy"] == "dL/dY (Y − T)"
    assert f.panel("target").slot > f.panel("output").slot and f.panel("target").row == 0
    pool = Lesson(Params(op="avg", mode="backward")).frame(0)
    assert titles(pool)["kernel"] == "mean of each 3×3 window (padding counted)" and pool.panel("dw") is None
    assert pool.caption.startswith("Average pooling — Backward pass — step 1 of 25: dY channel 0")


def test_gather_and_activation_titles() -> None:
    m = Lesson(SCENES["gather"])
    f = m.frame(m.n_steps - 1)
    assert f.phase == "gather"
    assert titles(f) == {"input": "dL/dY spread (· = inserted zero), padded",
                         "kernel": "W flipped, channels swapped", "output": "dL/dX (padded grid)"}
    assert {p.colour for p in f.panels} == {"diverging"}
    assert "agree" in f.arithmetic.splitlines()[-1]
    m = Lesson(Params(activation="relu"))
    f = m.frame(m.n_steps - 1)
    assert f.phase == "activation" and titles(f)["output"] == "Output after relu"
    assert f.caption == "Convolution — Step 26 of 26: the activation, relu, on every output cell"


def test_bias_off_shows_no_db() -> None:
    """Regression: dL/dW's title and the arithmetic wrote db although the layer had no bias."""
    for bias in (False, True):
        m = Lesson(Params(mode="backward", bias=bias))
        for f in frames(m, every=5):
            dw = f.panel("dw")
            assert ("db" in dw.title) == bias
            assert ("db[" in f.arithmetic) == bias
            if bias:
                db = f.grads.grad_bias
                assert dw.title == "dL/dW, db = " + ", ".join(expected_label(v) for v in db)
                o = f.step.out_channel
                assert f.arithmetic.splitlines()[0].endswith(f"db[{o}] += {fmt_grad(f.step.grad)} → "
                                                            f"{engine.describe.fmt(float(db[o]))}")


def test_db_beside_one_kernel_is_that_kernels() -> None:
    """Regression: with several kernels collapsed, dL/dW[o]'s title listed every kernel's db beside
    kernel o's gradient; it names kernel o's db alone, and expanded it lists them all."""
    for expanded in (False, True):
        m = Lesson(Params(mode="backward", bias=True, out_c=2, upstream="random", seed=4))
        for f in frames(m, expanded=expanded, every=7):
            db = f.grads.grad_bias
            o = f.step.out_channel
            title = f.panel("dw").title
            if expanded:
                assert title == "dL/dW, db = " + ", ".join(expected_label(v) for v in db)
            else:
                assert title == f"dL/dW[{o}], db[{o}] = {expected_label(db[o])}"


def fmt_grad(g: float) -> str:
    s = engine.describe.fmt(g)
    return f"({s})" if g < 0 else s


def test_activation_names_dy_f_prime_and_dz() -> None:
    """Regression: with an activation the gradient entering the convolution, dL/dZ, was called dY."""
    m = Lesson(Params(mode="backward", activation="relu", upstream="random", integers=False, seed=3))
    z = np.asarray(m.run.fwd.output)
    fprime = (z > 0).astype(float)
    for f in frames(m, every=4):
        dy = f.panel("dy")
        assert dy.title == "dL/dZ = dL/dY ⊙ relu′(Z)"
        np.testing.assert_allclose(dy.grids[0].values, m.run.dy[0] * fprime[0])
        o, i, j = f.step.out_channel, f.step.out_row, f.step.out_col
        assert f"dZ channel {o}, cell ({i}, {j})" in f.caption and "dY channel" not in f.caption
        head = f.arithmetic.splitlines()[0]
        raw = m.run.dy[o, i, j]
        assert head.startswith(f"dZ[{o},{i},{j}] = dY·relu′(Z) = {fmt_grad(raw)}·{fmt_grad(fprime[o, i, j])} "
                               f"= {engine.describe.fmt(f.step.grad)} flows back")
    plain = Lesson(Params(mode="backward")).frame(0)
    assert plain.arithmetic.startswith("dY[0,0,0] = 1 flows back")
    # The step's three updates stay apart when the caption's spaces are collapsed into one.
    assert "W[0]; dW[0] += " in " ".join(plain.arithmetic.splitlines()[0].split())
    assert "dZ" not in plain.caption


def test_parameter_line() -> None:
    assert Lesson(Params()).frame().parameter_line == "Parameters: 3·3·1·1 weights = 9"
    assert Lesson(Params(bias=True, in_c=3, out_c=2)).frame().parameter_line == (
        "Parameters: 3·3·3·2 weights + 2 biases = 56")
    assert Lesson(Params(op="max")).frame().parameter_line == ""


# --------------------------------------------------------------------------- marks
def offsets(win: engine.Window) -> tuple[tuple[int, int], ...]:
    return tuple((int(r - win.rows[0]), int(c - win.cols[0])) for r in win.rows for c in win.cols)


@pytest.mark.parametrize("name", ["conv", "conv-dilation", "conv-rgb", "max-ceil", "min", "avg-decimals"])
def test_window_marks_are_the_engines_windows(name: str) -> None:
    p = SCENES[name]
    m = Lesson(p)
    for expanded in (False, True):
        for k in range(m.n_steps):
            f = m.frame(k, expanded=expanded)
            step = f.step
            win = step.window
            marks = f.marks_of("window")
            if p.is_conv:
                assert len(marks) == (p.in_c if expanded else 1)
                assert [mk.grid for mk in marks] == (list(range(p.in_c)) if expanded else [0])
            else:
                assert [mk.grid for mk in marks] == [step.channel]
            for mk in marks:
                assert mk.panel == "input"
                assert mk.at == (int(win.rows[0]), int(win.cols[0]))
                assert mk.cells == offsets(win)
                assert mk.span == (int(win.rows[-1] - win.rows[0]) + 1, int(win.cols[-1] - win.cols[0]) + 1)
                if p.is_conv:
                    assert mk.labels == tuple("×" + expected_label(v) for v in step.weights[mk.grid].ravel())
                    assert mk.special is None
                else:
                    assert mk.labels == ()
                    if step.chosen is None:
                        assert mk.special is None
                    else:
                        r, c = step.chosen
                        assert mk.special == (int(win.rows[r] - win.rows[0]), int(win.cols[c] - win.cols[0]))
            (cell,) = f.marks_of("cell")
            o = step.out_channel if p.is_conv else step.channel
            assert (cell.panel, cell.grid, cell.at, cell.cells) == ("output", o, (step.out_row, step.out_col),
                                                                    ((0, 0),))


def test_tap_marks_and_the_running_sum() -> None:
    m = Lesson(SCENES["conv-tap"])
    for k in (0, 4, 8, 9):
        f = m.frame(k)
        step = f.step
        c, i, j = step.tap
        kernel_tap, input_tap = f.marks_of("tap")
        assert (kernel_tap.panel, kernel_tap.grid, kernel_tap.at) == ("kernel", c, (i, j))
        win = step.window
        assert (input_tap.panel, input_tap.at) == ("input", (int(win.rows[i]), int(win.cols[j])))
        assert f.marks_of("cell")[0].labels == ("Σ " + expected_label(step.value),)
        assert f.panel("output").grids[0].pending_from == (k + 1) // 9


def test_backward_marks_and_flow() -> None:
    m = Lesson(SCENES["backward-max"])
    for f in frames(m):
        step = f.step
        win = step.window
        on_x, on_dx = f.marks_of("window")
        assert (on_x.panel, on_dx.panel) == ("input", "dx")
        assert on_dx.labels == tuple("" if v == 0 else signed_label(v) for v in step.grad_input.ravel())
        assert on_x.special == on_dx.special is not None
        assert [(mk.panel, mk.at) for mk in f.marks_of("cell")] == [
            ("output", (step.out_row, step.out_col)), ("dy", (step.out_row, step.out_col))]
        (flow,) = f.flows
        assert (flow.panel, flow.grid, flow.cell) == ("dy", step.channel, (step.out_row, step.out_col))
        assert flow.to_cells == tuple((int(r), int(c)) for r in win.rows for c in win.cols)
        amounts = step.grad_input.ravel()
        if np.abs(amounts).max() > 0:
            np.testing.assert_allclose(flow.weights, amounts / np.abs(amounts).max())


def test_activation_marks_the_changed_cells() -> None:
    m = Lesson(Params(activation="relu"))
    f = m.frame(m.n_steps - 1)
    z = np.asarray(m.run.fwd.output)
    (changed,) = f.marks_of("changed")
    assert set(changed.cells) == {(int(i), int(j)) for i, j in np.argwhere(z[0] < 0)}
    assert not f.marks_of("window") and not f.marks_of("cell")


def test_backward_dx_grid_counts_and_levels() -> None:
    m = Lesson(Params(mode="backward", stride=(1, 1)))
    f = m.frame(m.n_steps - 1)
    dx = f.panel("dx")
    g = dx.grids[0]
    np.testing.assert_array_equal(g.values, f.dx_shown[0])
    hits = np.asarray(f.grads.hits[0])
    np.testing.assert_array_equal(g.corner, np.where(hits > 0, np.char.add(hits.astype(str), "×"), ""))
    assert dx.levels == f.levels["dx"]
    assert dx.legend == (expected_label(dx.levels[0]), expected_label(dx.levels[1]))


# --------------------------------------------------------------------------- a value
def test_frames_are_immutable_values() -> None:
    f = Lesson(Params(mode="both")).frame(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.caption = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.panels[0].title = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.marks[0].at = (0, 0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        f.levels["input"] = (0.0, 1.0)  # type: ignore[index]
    for p in f.panels:
        for g in p.grids:
            for a in (g.values, g.labels):
                with pytest.raises(ValueError):
                    a[0, 0] = a[0, 0]
    with pytest.raises(ValueError):
        f.output[0, 0, 0] = 1.0
    assert Highlight("input", ((1, 2),)) == Highlight("input", ((1, 2),))
    assert hash(Highlight("output", ((0, 0),), ("w0,0",)))


def test_what_stays_the_same_is_built_once() -> None:
    m = Lesson(Params(in_c=2, out_c=2))
    a, b = m.frame(0), m.frame(30)
    assert a.panel("input").grids[0] is b.panel("input").grids[0]
    assert a.panel("kernel").grids[0] is m.frame(1).panel("kernel").grids[0]  # same output channel
    # The output's values and labels are shared; only the pending cover moves.
    ga, gb = a.panel("output").grids[0], b.panel("output").grids[0]
    assert ga.values is gb.values and ga.labels is gb.labels
    assert (ga.pending_from, gb.pending_from) == (1, None)
    assert b.panel("output").grids[1].pending_from == 31 - 25
    # A stride change keeps the very same input arrays (a painter keeps its pictures).
    before = m.frame().panel("input").grids[0]
    assert m.set_params(stride=(2, 2))
    after = m.frame().panel("input").grids[0]
    assert after.values is before.values and after.labels is before.labels


def test_no_numbers_on_large_grids_but_always_on_kernels() -> None:
    m = Lesson(Params(in_h=70, in_w=70))
    f = m.frame(0)
    assert not f.show_values
    assert set(f.panel("input").grids[0].labels.ravel().tolist()) == {""}
    assert "" not in f.panel("kernel").grids[0].labels.ravel().tolist()


def test_grid_shape() -> None:
    g = Grid(np.zeros((2, 3)), np.full((2, 3), ""))
    assert g.shape == (2, 3)


@settings(max_examples=150, deadline=None)
@given(values=hnp.arrays(float, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=7),
                         elements=st.one_of(st.floats(allow_subnormal=False, width=32),
                                            st.integers(-30, 30).map(float), st.sampled_from([0.25, -1.5]))),
       data=st.data())
def test_cell_labels_are_each_cells_label(values: np.ndarray, data: st.DataObject) -> None:
    """``cell_labels`` (formatted once per distinct value, picked from a table of str) is ``cell_label`` of
    every cell, "" for NaN and blanked cells; str as wide as the longest label (one character when none),
    read-only."""
    blank = data.draw(st.none() | hnp.arrays(bool, values.shape))
    labels = cell_labels(values, blank=blank)
    expected = [("" if np.isnan(v) or (blank is not None and blank.ravel()[k]) else cell_label(float(v)))
                for k, v in enumerate(values.ravel())]
    assert labels.shape == values.shape and not labels.flags.writeable
    assert labels.ravel().tolist() == expected
    assert labels.dtype == np.dtype(f"<U{max([1, *map(len, expected)])}")
