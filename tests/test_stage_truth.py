"""Issue 10, "the stage tells the truth": what the Frame, the hover rules and "Copy as PyTorch" say,
read back without Qt. Each regression test here fails on the code before its fix.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import engine
from gui.models import interaction, scenario
from gui.models.frame import Frame
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pytorch import pytorch_code


def every_text(f: Frame) -> list[str]:
    """Every string a frame puts on the stage."""
    out = [f.caption, f.arithmetic, *f.facts, f.heading, f.note]
    for p in f.panels:
        out.append(p.title)
        for g in p.grids:
            out += g.labels.ravel().tolist()
    for mk in f.marks:
        out += list(mk.labels)
    return out


# --------------------------------------------------------------------------- 8: never reached
def test_a_cell_read_through_a_reflected_copy_is_reached() -> None:
    """Regression (8): 5×5, kernel 1, stride 3, reflect padding 2 said rows 0, 2, 3 are never reached,
    yet dL/dX is not zero in row 2 (padding row 0 copies it)."""
    p = Params(in_h=5, in_w=5, k_h=1, k_w=1, stride=(3, 3), padding=(2, 2, 2, 2), padding_mode="reflect",
               mode="backward", preset="identity")
    m = Lesson(p)
    f = m.frame(m.n_steps - 1)
    gx = f.grads.grad_x[0]
    assert np.abs(gx[2]).sum() > 0
    assert 2 not in f.unreached_rows.tolist()
    assert f.unreached_rows.tolist() == [0, 3] == [r for r in range(5) if not gx[r].any()]
    assert "never reached by a window (hatched): rows 0, 3; columns 0, 3" in f.facts
    hatched = f.panel("input").grids[0].unreached_rows
    assert hatched == (0 + 2, 3 + 2)  # padded coordinates on the input grid


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 9), k=st.integers(1, 4), s=st.integers(1, 4), d=st.integers(1, 3),
       before=st.integers(0, 4), after=st.integers(0, 4),
       mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
def test_unreached_is_exactly_where_the_gradient_of_a_sum_is_zero(size, k, s, d, before, after,
                                                                   mode) -> None:
    """With ones everywhere dL/dX counts how often each cell is read: zero exactly where unreached."""
    pads = ((before, after), (0, 0))
    try:
        engine.geometry.check_padding_mode(mode, pads, (size, 3))
        gx, _, _ = engine.conv2d_backward(np.ones((1, size, 3)), np.ones((1, 1, k, 1)),
                                          np.ones(engine.conv2d(np.ones((1, size, 3)), np.ones((1, 1, k, 1)),
                                                                stride=(s, 1), padding=pads, dilation=(d, 1),
                                                                padding_mode=mode).shape),
                                          stride=(s, 1), padding=pads, dilation=(d, 1), padding_mode=mode)
    except ValueError:
        assume(False)
        return
    geom = engine.geometry.make_geometry((size, 3), (k, 1), (s, 1), pads, (d, 1), mode=mode)
    never = np.flatnonzero(gx[0, :, 0] == 0)
    np.testing.assert_array_equal(geom.rows.unreached(), never)
    direct = geom.rows.unreached(through_copies=False)
    assert set(never.tolist()) <= set(direct.tolist())  # the old count only ever said more


# --------------------------------------------------------------------------- 9 and 10: PyTorch
def run_snippet(code: str) -> np.ndarray:
    torch = pytest.importorskip("torch")
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64
    return y.detach().numpy()


@pytest.mark.parametrize("name", scenario.list_presets())
def test_every_presets_copied_code_prints_its_output(name: str) -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    code = pytorch_code(m)
    shown = m.run.y[:, 0] if m.params.is_1d else m.run.y  # a 1-D layer prints (channels, length)
    np.testing.assert_allclose(run_snippet(code), shown, rtol=1e-12, atol=1e-12)
    assert code.rstrip().endswith("print(y)")
    assert "0x" not in code and "float.fromhex" not in code  # numbers as people read them
    assert max(len(line) for line in code.splitlines()) <= 110


def test_copied_values_read_back_as_the_same_floats() -> None:
    x = np.array([[[0.1 + 0.2, 1 / 3, -2.5e-17, 7.0], [987654.3210987654, -0.0, 123456.789, 2.0 / 3]]])
    p = Params(in_h=2, in_w=4, integers=False, padding=(0, 0, 0, 0), k_h=1, k_w=1, preset="identity")
    m = Lesson(p)
    assert m.load(p, x=x)
    code = pytorch_code(m)
    assert "0.30000000000000004" in code and "0.3333333333333333" in code
    torch = pytest.importorskip("torch")
    ns: dict[str, object] = {}
    exec(code.split("\nconv = ")[0], {"torch": torch}, ns)
    np.testing.assert_array_equal(ns["x"].numpy(), x)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(np.signbit(ns["x"].numpy()), np.signbit(x))  # type: ignore[attr-defined]


def test_a_large_input_stays_readable() -> None:
    """Rows wrap at the snippet's width and stay aligned; a 32×32 picture is still every value."""
    m = Lesson(Params(in_h=32, in_w=32, integers=False, seed=3))
    code = pytorch_code(m)
    assert max(len(line) for line in code.splitlines()) <= 110
    x_text = code.split("x = torch.tensor(")[1].split(", dtype")[0]
    assert x_text.count(",") == 32 * 32 - 1
    np.testing.assert_allclose(run_snippet(code), m.run.y, rtol=1e-12, atol=1e-12)


def test_asymmetric_pooling_padding_is_not_made_symmetric() -> None:
    """Regression (10): asymmetric pooling padding became `padding=1` (different numbers)."""
    p = Params(op="max", in_h=5, in_w=5, k_h=2, k_w=2, stride=(2, 2), pad_kind="asymmetric",
               padding=(1, 0, 0, 1), integers=False)
    m = Lesson(p)
    code = pytorch_code(m)
    assert "padding=1" not in code and "F.pad(x, (0, 1, 1, 0)" in code
    np.testing.assert_allclose(run_snippet(code), m.run.y, rtol=1e-12, atol=1e-12)


def test_the_snippet_sets_the_weights_the_activation_and_the_flip() -> None:
    """Regression (10): the activation, the input and the weights were left out; flip was a comment."""
    m = Lesson(Params(flip_kernel=True, activation="relu", bias=True, integers=False, k_h=3, k_w=2))
    code = pytorch_code(m)
    assert "x = torch.tensor(" in code and "conv.weight.copy_(w.flip(-2, -1))" in code
    assert "conv.bias.copy_(" in code and "y = torch.relu(y)" in code
    y = run_snippet(code)
    np.testing.assert_allclose(y, m.run.y, rtol=1e-12, atol=1e-12)
    assert (y >= 0).all() and not np.allclose(y, m.trace.output)


POOL_SETTINGS = st.fixed_dictionaries({
    "op": st.sampled_from(["max", "min", "avg"]),
    "in_h": st.integers(3, 9), "in_w": st.integers(3, 9),
    "k_h": st.integers(1, 4), "k_w": st.integers(1, 4),
    "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "dilation": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "pad_kind": st.sampled_from(["symmetric", "asymmetric", "valid"]),
    "padding": st.tuples(*[st.integers(0, 3)] * 4),
    "ceil_mode": st.booleans(), "count_include_pad": st.booleans(), "integers": st.booleans(),
    "seed": st.integers(0, 50),
})


@settings(max_examples=120, deadline=None)
@given(kw=POOL_SETTINGS)
def test_pooling_code_matches_for_any_settings_and_says_what_pytorch_refuses(kw) -> None:
    """Defect 9: the app keeps a padding PyTorch refuses, says so on the stage, and the copied code
    still prints the same output; the stage's claim is checked against torch itself."""
    torch = pytest.importorskip("torch")
    p = Params(**kw)
    m = Lesson()
    assume(m.load(p))
    p = m.params
    f = m.frame()
    g = m.trace.geometry
    np.testing.assert_allclose(run_snippet(pytorch_code(m)), m.run.y, rtol=1e-12, atol=1e-12)
    pads = (g.rows.before, g.rows.after, g.cols.before, g.cols.after)
    symmetric = pads[0] == pads[1] and pads[2] == pads[3]
    widest = (max(pads[:2]), max(pads[2:]))  # asymmetric: the larger side is what PyTorch would need
    layer = (torch.nn.AvgPool2d(kernel_size=(p.k_h, p.k_w), stride=p.stride, padding=widest,
                                ceil_mode=p.ceil_mode)
             if p.op == "avg" else
             torch.nn.MaxPool2d(kernel_size=(p.k_h, p.k_w), stride=p.stride, padding=widest,
                                dilation=p.dilation, ceil_mode=p.ceil_mode))
    try:
        layer(torch.zeros(1, 1, p.in_h, p.in_w))
        refused = False
    except RuntimeError:
        refused = True
    assert ("refuses this padding" in f.facts_line) == refused, (f.facts_line, p)
    assert ("pads both sides alike" in f.facts_line) == (not symmetric)
    assert ("has no dilation" in f.facts_line) == (p.op == "avg" and p.dilation != (1, 1))


def test_the_dilated_max_pool_pytorch_refuses_is_said_on_stage() -> None:
    """Regression (9): 7×7, k3, d2, p2 was accepted without a word, though PyTorch refuses it."""
    torch = pytest.importorskip("torch")
    p = Params(op="max", in_h=7, in_w=7, k_h=3, k_w=3, dilation=(2, 2), padding=(2, 2, 2, 2))
    m = Lesson(p)
    with pytest.raises(RuntimeError, match="pad should be"):
        torch.nn.functional.max_pool2d(torch.zeros(1, 7, 7), 3, 1, 2, 2)
    f = m.frame()
    assert "PyTorch's MaxPool2d refuses this padding (at most half the kernel: 2 > 3/2)" in f.facts_line
    code = pytorch_code(m)
    assert "refuses this padding" in code and "MaxPool2d(" not in code
    np.testing.assert_allclose(run_snippet(code), m.run.y)


# --------------------------------------------------------------------------- 8: hovering a copy
def test_hovering_a_reflected_padding_cell_names_and_lights_the_cell_it_copies() -> None:
    m = Lesson(Params(padding=(2, 2, 2, 2), padding_mode="reflect", mode="both"))
    h = interaction.hover(m, "input", 0, 1)  # padded (0, 1): reflects input row 2, column 1
    assert h.source is not None and h.source.panel == "input" and h.source.cells == ((2 + 2, 1 + 2),)
    assert h.status.startswith("Padding cell (0, 1) of the padded grid copies input cell (2, 1) (reflect")
    assert h.fed is not None and h.fed.cells
    g = interaction.hover(m, "dx", 0, 1)
    assert g.source is not None and g.source.panel == "dx" and "added to dL/dX" in g.status
    for mode, src in (("replicate", (0, 0)), ("circular", (3, 3))):
        assert m.set_params(padding_mode=mode)
        h = interaction.hover(m, "input", 0, 0)
        assert h.source is not None and h.source.cells == ((src[0] + 2, src[1] + 2),), mode
        assert f"copies input cell {src}" in h.status
    assert m.set_params(padding_mode="zeros")
    h = interaction.hover(m, "input", 0, 0)
    assert h.source is None
    assert h.status == "Padding cell (0, 0) of the padded grid holds 0; it feeds 1 output cell"
    assert "drops it" in interaction.hover(m, "dx", 0, 0).status
    pool = Lesson(Params(op="max", in_h=6, in_w=6, stride=(2, 2), ceil_mode=True))
    assert "holds −∞" in interaction.hover(pool, "input", 0, 0).status
    assert "past the padding (ceil_mode)" in interaction.hover(pool, "input", 8, 8).status


# --------------------------------------------------------------------------- one indexing convention
INDEX = re.compile(r"[\[(]\s*[-−]?\d+(?:\s*,\s*[-−]?\d+)+\s*[\])]")  # "(1, 2)", "[0,1,-1]", not "(−2)"


class NEGATIVE_INDEX:  # noqa: N801 - reads like the pattern it stands for
    @staticmethod
    def search(text: str) -> str | None:
        """The first index tuple in ``text`` with a negative entry, or None."""
        return next((m.group() for m in INDEX.finditer(text) if re.search(r"[-−]\d", m.group())), None)
INDEXING_CASES = [
    Params(mode="both", in_c=2, out_c=2),
    Params(padding=(2, 2, 2, 2), padding_mode="reflect", mode="both", stride=(2, 2)),
    Params(op="avg", mode="both", in_c=2, ceil_mode=True, stride=(2, 2), in_h=6, in_w=6),
    Params(mode="backward", grad_view="gather", stride=(2, 2), in_c=2, out_c=2),
]


@pytest.mark.parametrize("p", INDEXING_CASES)
def test_indices_count_from_0_everywhere_and_never_go_negative(p: Params) -> None:
    """Regression: "Step 8 of 25: output channel 1, cell (1, 2)" mixed 1- and 0-based counting, and
    padding cells read (−1, −1), which in NumPy and PyTorch is the last cell."""
    m = Lesson(p)
    for k in range(m.n_steps):
        f = m.frame(k)
        texts = [f.caption, f.arithmetic, *(q.title for q in f.panels)]
        for t in texts:
            assert not NEGATIVE_INDEX.search(t), (k, t)
        assert "indices count from 0, as in NumPy and PyTorch" in f.facts
        step = f.step
        ch = getattr(step, "out_channel", getattr(step, "channel", None))
        assert f"channel {ch}," in f.caption, f.caption
        assert f"Step {k + 1} of" in f.caption or f"step {k + 1} of" in f.caption  # steps are counted
    if p.grad_view == "gather":
        return
    hp, wp = m.frame().x_padded.shape[1:]
    for panel in ("input", "dx", "output"):
        for i in range(hp):
            for j in range(wp):
                if panel == "output" and (i >= m.run.y.shape[1] or j >= m.run.y.shape[2]):
                    continue
                status = interaction.hover(m, panel, i, j).status
                assert not NEGATIVE_INDEX.search(status), status


def test_the_kernel_of_a_channel_is_named_from_0() -> None:
    f = Lesson(Params(in_c=2, out_c=3)).frame(25)
    assert f.step.out_channel == 1
    assert f.panel("kernel").title == "Kernel W[1] of 3: 2×3×3"


# --------------------------------------------------------------------------- the facts on the stage
def test_the_facts_line_carries_the_formula_the_parameters_and_the_dropped_rows() -> None:
    f = Lesson(Params(in_h=6, in_w=5, stride=(2, 2), padding=(0, 0, 0, 0), bias=True, out_c=2)).frame()
    parts = f.facts
    assert parts[0] == "H_out = ⌊(6 + 0 + 0 − 1·(3−1) − 1) / 2⌋ + 1 = 2"
    assert parts[1] == "W_out = ⌊(5 + 0 + 0 − 1·(3−1) − 1) / 2⌋ + 1 = 2"
    assert parts[2] == f.parameter_line == "Parameters: 3·3·1·2 weights + 2 biases = 20"
    assert parts[3] == "never reached by a window (hatched): rows 5"
    assert parts[-1] == "indices count from 0, as in NumPy and PyTorch"
    same = Lesson(Params()).frame()
    assert same.facts[0] == "H_out = W_out = ⌊(5 + 1 + 1 − 1·(3−1) − 1) / 1⌋ + 1 = 5"
    others = (Lesson(Params(mode="both")).frame(30),
              Lesson(Params(mode="backward", grad_view="gather")).frame())
    for f in others:
        assert f.facts == same.facts  # every phase shows it
    ceil = Lesson(Params(op="max", in_h=5, in_w=5, k_h=2, k_w=2, stride=(2, 2), padding=(1, 1, 1, 1),
                         ceil_mode=True)).frame()
    assert "so it is dropped" in ceil.facts_line


# --------------------------------------------------------------------------- 15: smaller truths
def test_overhang_without_padding_is_called_overhang() -> None:
    """Regression (15): "Input 5×5 + padding" with ceil-mode overhang only."""
    f = Lesson(Params(op="max", in_h=5, in_w=5, k_h=2, k_w=2, stride=(2, 2), padding=(0, 0, 0, 0),
                      ceil_mode=True)).frame()
    assert f.panel("input").title == "Input 5×5 + overhang"
    f = Lesson(Params(op="max", in_h=6, in_w=6, stride=(2, 2), ceil_mode=True)).frame()
    assert f.panel("input").title == "Input 6×6 + padding + overhang"
    assert Lesson(Params()).frame().panel("input").title == "Input 5×5 + padding"
    assert Lesson(Params(padding=(0, 0, 0, 0))).frame().panel("input").title == "Input 5×5"


def test_the_average_says_overhang_is_never_counted() -> None:
    """Regression (15): the avg-pool text left out that overhang cells are excluded."""
    m = Lesson(Params(op="avg", in_h=5, in_w=5, k_h=2, k_w=2, stride=(2, 2), padding=(0, 0, 0, 0),
                      ceil_mode=True, mode="both"))
    last = m.frame(m.n_forward - 1)
    assert last.arithmetic.endswith("[3 overhang cells past the input: never counted]")
    assert last.step.divisor == 1
    first = m.frame(0)
    assert "overhang" not in first.arithmetic
    back = m.frame(m.n_steps - 1)
    assert "3 overhang cells past the input: not counted, no share" in back.arithmetic


def test_the_gather_view_marks_inserted_zeros_apart_from_real_zeros() -> None:
    """Regression (15): in the gather view, inserted zeros looked like real zero values."""
    p = Params(mode="backward", grad_view="gather", stride=(2, 2), upstream="custom")
    m = Lesson(p)
    dy = np.array([[[0.0, 1.0, 2.0], [3.0, 0.0, 4.0], [5.0, 6.0, 0.0]]])
    assert m.load(p, upstream=dy)
    f = m.frame()
    g = f.panel("input").grids[0]
    real = g.kinds == 0
    np.testing.assert_array_equal(g.values[real].reshape(3, 3), dy[0])
    assert (g.labels[real] != "·").all() and (g.labels[real].reshape(3, 3)[dy[0] == 0] == "0").all()
    assert set(g.labels[g.kinds == 3].tolist()) == {"·"} and (g.values[g.kinds == 3] == 0).all()
    assert set(g.labels[g.kinds == 1].tolist()) == {"0"}  # the padding ring


def test_the_pooling_window_panel_says_its_size_and_rule() -> None:
    """The pooling "kernel" panel was a grid of the word "max"."""
    cases = {
        Params(op="max", k_h=2, k_w=2, stride=(2, 2), padding=(0, 0, 0, 0)): "max of each 2×2 window",
        Params(op="min", k_h=2, k_w=3): "min of each 2×3 window",
        Params(op="avg"): "mean of each 3×3 window (padding counted)",
        Params(op="avg", count_include_pad=False): "mean of each 3×3 window (padding not counted)",
        Params(op="avg", padding=(0, 0, 0, 0)): "mean of each 3×3 window",
        Params(op="max", in_h=7, in_w=7, dilation=(2, 2)): "max of each 3×3 window, dilation 2",
    }
    for p, title in cases.items():
        for k in (0, Lesson(p).n_steps - 1):
            panel = Lesson(replace(p, mode="both")).frame(k).panel("kernel")
            assert panel.title == title
            labels = set(panel.grids[0].labels.ravel().tolist())
            assert not labels & {"max", "min", "avg"}
    avg = Lesson(Params(op="avg", padding=(0, 0, 0, 0))).frame().panel("kernel").grids[0]
    assert set(avg.labels.ravel().tolist()) == {"1/9"}
    dil = Lesson(Params(op="max", in_h=7, in_w=7, dilation=(2, 2))).frame().panel("kernel").grids[0]
    assert dil.shape == (5, 5) and (dil.kinds[::2, ::2] == 0).all() and (dil.kinds[1::2] == 3).all()


# --------------------------------------------------------------------------- the lecturer's words
def test_a_scenario_and_a_deck_entry_carry_a_title_and_a_note_onto_the_stage(tmp_path) -> None:
    s = scenario.load_preset("conv-half-padding")
    s = replace(s, title="Same padding", note="The output keeps the input's size.")
    text = scenario.dumps(s)
    back = scenario.loads(text)
    assert (back.title, back.note) == ("Same padding", "The output keeps the input's size.")
    m = Lesson()
    assert scenario.apply(m, back)
    f = m.frame()
    assert (f.heading, f.note) == ("Same padding", "The output keeps the input's size.")
    assert (m.copy().frame().heading, m.copy().frame().note) == (f.heading, f.note)  # exports keep them
    assert scenario.from_model(m, title="Same padding").note == f.note
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.loads(text.replace('"note": "The output keeps the input\'s size."', '"note": ["a list"]'))
    assert err.value.field == "note"
    deck = tmp_path / "deck.json"
    entry = scenario.to_dict(replace(s, note="Entry two's own note"))
    deck.write_text(scenario.json.dumps({"format": "convviz-deck", "version": 1,
                                         "scenarios": ["preset:conv-stride2", entry]}))
    _, scenes = scenario.load_deck(deck)
    assert scenes[1].note == "Entry two's own note" and scenes[0].note == ""
    assert scenario.apply(m, scenes[0])
    assert m.frame().heading == scenes[0].title and m.frame().note == ""


def test_a_new_scenario_drops_the_old_words() -> None:
    m = Lesson()
    m.set_presentation("Old title", "Old note")
    assert m.frame().heading == "Old title"
    assert m.set_params(stride=(2, 2))  # the lecturer's own scenario, changed live: the words stay
    assert m.frame().heading == "Old title"
    assert m.use_picture(np.zeros((1, 6, 6)))  # another input altogether: they go
    assert (m.frame().heading, m.frame().note) == ("", "")
    m.set_presentation("T", " a  long\nnote " + "x" * 400)
    assert m.frame().note.startswith("a long note ") and len(m.frame().note) <= 240
