"""Issue 13, convolution as a matrix (conv_arithmetic 4.1): the Frame's matrix C, its lit row, y = C·x,
the backward and transposed pictures as C transposed, the refusals, the preset and the files.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import engine
from gui.models import scenario
from gui.models.frame import Frame, Grid, cell_label
from gui.models.frames_io import frame_to_dict
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.transposed import torch_weight

T = "conv_transpose"

#: Convolutions the matrix picture shows, as Params keywords (each at most 25×36).
CONVS = [
    dict(in_h=4, in_w=4, padding=(0, 0, 0, 0)),
    dict(in_h=6, in_w=6, padding=(0, 0, 0, 0)),
    dict(in_h=5, in_w=5, stride=(2, 2), padding=(1, 1, 1, 1)),
    dict(in_h=5, in_w=6, k_h=2, k_w=3, dilation=(2, 1), padding=(1, 1, 0, 0)),
    dict(in_h=4, in_w=4, pad_kind="asymmetric", padding=(1, 0, 0, 1)),
    dict(in_h=4, in_w=4, padding=(1, 1, 1, 1), padding_mode="reflect", flip_kernel=True),
    dict(in_h=3, in_w=3, in_c=2, out_c=2, padding=(0, 0, 0, 0), k_h=2, k_w=2, bias=True),
    dict(in_h=3, in_w=3, in_c=2, out_c=2, groups=2, padding=(1, 1, 1, 1), k_h=3, k_w=3),
    dict(in_h=4, in_w=4, padding=(0, 0, 0, 0), integers=False, seed=5),
]
#: Transposed convolutions (C is the matrix of the convolution each is the transpose of).
TRANSPOSED = [
    dict(in_h=2, in_w=2, padding=(0, 0, 0, 0)),
    dict(in_h=2, in_w=2, stride=(2, 2), padding=(0, 0, 0, 0)),
    dict(in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), output_padding=(1, 1)),
    dict(in_h=2, in_w=3, dilation=(2, 1), padding=(1, 1, 0, 0), in_c=2, out_c=1, k_h=2, k_w=2),
]


def matrix_lesson(**kw: object) -> Lesson:
    m = Lesson(Params(drawn_as="matrix", **kw))  # type: ignore[arg-type]
    assert not m.last_error, m.last_error
    return m


def panel_grid(f: Frame, name: str) -> Grid:
    panel = f.panel(name)  # type: ignore[arg-type]
    assert panel is not None, f"no {name} panel in {[p.name for p in f.panels]}"
    return panel.grids[0]


def engine_matrix(m: Lesson) -> np.ndarray:
    """C straight from the engine, with the lesson's settings."""
    p = m.params
    if p.op == T:
        ho, wo = m.trace.out_shape[1:]
        return engine.conv_matrix((p.out_c, ho, wo), np.asarray(m.w).transpose(1, 0, 2, 3),
                                  stride=p.stride, padding=(p.padding[0], p.padding[2]), dilation=p.dilation)
    return engine.conv_matrix(np.asarray(m.x).shape, m.w, stride=p.stride, padding=p.engine_padding(),
                              dilation=p.dilation, groups=p.groups, padding_mode=p.padding_mode,
                              flip_kernel=p.flip_kernel)


def done_values(g: Grid) -> np.ndarray:
    """A grid's values as the stage shows them: NaN from ``pending_from`` on."""
    v = np.array(g.values, dtype=float).ravel()
    if g.pending_from is not None:
        v[g.pending_from:] = np.nan
    return v


# --------------------------------------------------------------------------- the matrix
@pytest.mark.parametrize("kw", CONVS + [dict(op=T, **k) for k in TRANSPOSED])
def test_the_matrix_panel_is_engine_conv_matrix_with_its_weights_as_labels(kw: dict[str, object]) -> None:
    m = matrix_lesson(**kw)
    c = engine_matrix(m)
    ones = np.ones_like(np.asarray(m.w))
    g = panel_grid(m.frame(0), "matrix")
    np.testing.assert_array_equal(g.values, c)
    # Structural zeros (no tap there, whatever the weights) read "·" and are dimmed (kind 3);
    # every tap reads its weight, a zero weight included.
    p = m.params
    if p.op == T:
        ho, wo = m.trace.out_shape[1:]
        structure = engine.conv_matrix((p.out_c, ho, wo), ones.transpose(1, 0, 2, 3), stride=p.stride,
                                       padding=(p.padding[0], p.padding[2]), dilation=p.dilation) != 0
    else:
        structure = engine.conv_matrix(np.asarray(m.x).shape, ones, stride=p.stride,
                                       padding=p.engine_padding(), dilation=p.dilation, groups=p.groups,
                                       padding_mode=p.padding_mode) != 0
    expected = np.where(structure, np.vectorize(cell_label)(c), "·")
    assert g.labels.tolist() == expected.tolist()
    assert g.kinds is not None and ((g.kinds == 3) == ~structure).all()
    assert (c[~structure] == 0).all()


def test_the_paper_preset_is_a_4x16_matrix_listed_in_presets() -> None:
    assert "conv-as-matrix" in scenario.list_presets()
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-as-matrix")), m.last_error
    assert m.params.drawn_as == "matrix" and m.n_steps == 4
    f = m.frame(0)
    assert panel_grid(f, "matrix").shape == (4, 16)
    assert panel_grid(f, "across").shape == (1, 16) and panel_grid(f, "down").shape == (4, 1)
    assert f.panel("matrix").title.startswith("C 4×16")  # type: ignore[union-attr]
    assert "x: the input unrolled" in f.panel("across").title  # type: ignore[union-attr]
    assert f.caption.startswith("Convolution as a matrix — Step 1 of 4: row 0 of C")


# --------------------------------------------------------------------------- forward
@pytest.mark.parametrize("kw", CONVS)
def test_step_k_lights_row_k_and_the_inputs_it_reads_and_y_is_the_output(kw: dict[str, object]) -> None:
    m = matrix_lesson(**kw)
    c = engine_matrix(m)
    x = np.asarray(m.x).ravel()
    y = engine.conv2d(m.x, m.w, m.bias_values if m.params.bias else None, stride=m.params.stride,
                      padding=m.params.engine_padding(), dilation=m.params.dilation, groups=m.params.groups,
                      padding_mode=m.params.padding_mode, flip_kernel=m.params.flip_kernel).ravel()
    assert m.n_steps == c.shape[0] == y.size
    bias = np.repeat(m.bias_values, y.size // m.params.out_c) if m.params.bias else 0.0
    np.testing.assert_allclose(c @ x + bias, y, atol=1e-9)
    for k in range(m.n_steps):
        f = m.frame(k)
        row = next(mk for mk in f.marks if mk.panel == "matrix")
        assert row.at == (k, 0) and row.span == (1, c.shape[1])
        lit = sorted(b for _, b in row.cells)
        assert lit == np.flatnonzero(panel_grid(f, "matrix").kinds[k] == 0).tolist()  # type: ignore[index]
        xs = next(mk for mk in f.marks if mk.panel == "across")
        assert sorted(b for _, b in xs.cells) == lit
        assert xs.labels == tuple("×" + cell_label(c[k, j]) for j in lit)
        out = next(mk for mk in f.marks if mk.panel == "down")
        assert out.style == "cell" and out.at == (k, 0)
        shown = done_values(panel_grid(f, "down"))
        np.testing.assert_allclose(shown[: k + 1], y[: k + 1], atol=1e-9)
        assert np.isnan(shown[k + 1 :]).all()
        np.testing.assert_array_equal(panel_grid(f, "across").values.ravel(), x)
        assert f"y[{k}] = Σⱼ C[{k},j]·x[j]" in f.arithmetic
        assert f.arithmetic.split("\n")[-2].endswith("= " + engine.describe.fmt(float(y[k])))


def test_y_equals_torch_conv2d() -> None:
    torch = pytest.importorskip("torch")
    for kw in CONVS:
        m = matrix_lesson(**kw)
        p = m.params
        if p.padding_mode != "zeros" or p.pad_kind != "symmetric":
            continue
        y = torch.nn.functional.conv2d(
            torch.tensor(np.asarray(m.x))[None],
            torch.tensor(np.asarray(m.w)[:, :, ::-1, ::-1].copy() if p.flip_kernel else np.asarray(m.w)),
            torch.tensor(m.bias_values) if p.bias else None, stride=p.stride,
            padding=(p.padding[0], p.padding[2]), dilation=p.dilation, groups=p.groups)
        f = m.frame(m.n_steps - 1)
        np.testing.assert_allclose(done_values(panel_grid(f, "down")), y.numpy().ravel(), atol=1e-9)


# --------------------------------------------------------------------------- transposed: C transposed
@pytest.mark.parametrize("kw", TRANSPOSED)
def test_a_transposed_convolution_is_c_transposed_by_columns(kw: dict[str, object]) -> None:
    m = matrix_lesson(op=T, **kw)
    c = engine_matrix(m)
    x = np.asarray(m.x).ravel()
    assert m.n_steps == c.shape[1]
    last = m.frame(m.n_steps - 1)
    np.testing.assert_allclose(done_values(panel_grid(last, "across")), c.T @ x, atol=1e-9)
    np.testing.assert_array_equal(panel_grid(last, "down").values.ravel(), x)
    for k in range(m.n_steps):
        f = m.frame(k)
        col = next(mk for mk in f.marks if mk.panel == "matrix")
        assert col.at == (0, k) and col.span == (c.shape[0], 1)
        assert sorted(a for a, _ in col.cells) == np.flatnonzero(panel_grid(f, "matrix").kinds[:, k] == 0).tolist()  # type: ignore[index]  # noqa: E501
        assert f"column {k} of C (row {k} of Cᵀ)" in f.caption
    assert "the matrix of the convolution kernel" in last.facts[0]
    torch = pytest.importorskip("torch")
    p = m.params
    y = torch.nn.functional.conv_transpose2d(
        torch.tensor(np.asarray(m.x))[None], torch.tensor(np.asarray(m.w).transpose(1, 0, 2, 3).copy()),
        stride=p.stride, padding=(p.padding[0], p.padding[2]), output_padding=p.output_padding,
        dilation=p.dilation)
    np.testing.assert_allclose(c.T @ x, y.numpy().ravel(), atol=1e-9)


# --------------------------------------------------------------------------- backward
@pytest.mark.parametrize("kw", [*CONVS[:4], *[dict(op=T, **k) for k in TRANSPOSED[1:3]]])
def test_backward_is_the_same_matrix_transposed(kw: dict[str, object]) -> None:
    m = matrix_lesson(mode="both", upstream="random", **kw)
    c = engine_matrix(m)
    transposed = m.params.op == T
    dy = np.asarray(m.run.dy).ravel()
    nf = m.n_forward
    assert m.n_steps - nf == dy.size
    for kb in range(dy.size):
        f = m.frame(nf + kb)
        assert f.phase == "matrix" and "Backward pass" in f.caption
        running = panel_grid(f, "down" if transposed else "across").values.ravel()
        upto = c[:, : kb + 1] @ dy[: kb + 1] if transposed else c[: kb + 1].T @ dy[: kb + 1]
        np.testing.assert_allclose(running, upto, atol=1e-9)
    final = panel_grid(m.frame(m.n_steps - 1), "down" if transposed else "across").values.ravel()
    if transposed:
        p = m.params
        gx, _, _ = engine.conv_transpose2d_backward(
            m.x, np.asarray(m.w).transpose(1, 0, 2, 3), np.asarray(m.run.dy), stride=p.stride,
            padding=(p.padding[0], p.padding[2]), output_padding=p.output_padding, dilation=p.dilation)
        assert "C itself" in m.frame(m.n_steps - 1).caption
    else:
        gx = np.asarray(m.run.final().grad_x)  # type: ignore[union-attr]
        assert "Cᵀ·dL/dY (the same matrix, transposed)" in m.frame(m.n_steps - 1).caption
        assert "agrees with the convolution's backward pass" in m.frame(m.n_steps - 1).arithmetic
    np.testing.assert_allclose(final, np.asarray(gx).ravel(), atol=1e-9)


def test_backward_matches_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    m = matrix_lesson(mode="backward", upstream="random", in_h=5, in_w=5, stride=(2, 2))
    x = torch.tensor(np.asarray(m.x))[None].requires_grad_(True)
    y = torch.nn.functional.conv2d(x, torch.tensor(np.asarray(m.w)), stride=2, padding=1)
    y.backward(torch.tensor(np.asarray(m.run.dy))[None])
    shown = panel_grid(m.frame(m.n_steps - 1), "across").values.ravel()
    np.testing.assert_allclose(shown, x.grad.numpy().ravel(), atol=1e-9)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- refusals, files, JSON
@pytest.mark.parametrize(("kw", "words"), [
    (dict(in_h=7, in_w=7), "the matrix C would be 49×49; the matrix picture draws at most 25 rows and 36 "
                           "columns"),
    (dict(in_h=6, in_w=6, in_c=2, padding=(0, 0, 0, 0)), "would be 16×72"),
    (dict(op="max"), "pooling is drawn as a grid only"),
    (dict(activation="relu"), "set the activation to none"),
    (dict(granularity="tap"), "per-window steps"),
    (dict(mode="backward", grad_view="gather"), "untick the gather view"),
    (dict(op=T, in_h=3, in_w=3, stride=(2, 2), padding=(0, 0, 0, 0)), "the matrix C would be 9×49"),
])
def test_what_the_matrix_picture_cannot_show_is_refused_in_words(kw: dict[str, object], words: str) -> None:
    m = Lesson()
    before = m.params
    assert not m.set_params(drawn_as="matrix", **kw)
    assert words in m.last_error and m.params is before


def test_the_setting_is_saved_and_a_wrong_one_refused_by_name() -> None:
    m = matrix_lesson(in_h=4, in_w=4)
    text = scenario.dumps(scenario.from_model(m))
    assert json.loads(text)["params"]["drawn_as"] == "matrix"
    again = Lesson()
    assert scenario.apply(again, scenario.loads(text)) and again.params.drawn_as == "matrix"
    with pytest.raises(scenario.ScenarioError, match="drawn_as"):
        scenario.loads(text.replace('"drawn_as": "matrix"', '"drawn_as": "spiral"'))
    big = json.loads(text)
    big["params"].update(in_h=8, in_w=8)
    big.pop("input"), big.pop("upstream", None), big.pop("target", None)
    with pytest.raises(scenario.ScenarioError, match="matrix picture draws at most"):
        scenario.loads(json.dumps(big))


def test_json_frames_carry_the_matrix_and_its_labels() -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-as-matrix"))
    d = frame_to_dict(m.frame(2))
    panels = {p["name"]: p for p in d["panels"]}
    assert set(panels) == {"matrix", "across", "down"}
    assert panels["matrix"]["shape"] == [1, 4, 16]
    assert panels["matrix"]["labels"][0][2][:3] == ["·", "·", "·"]
    assert panels["down"]["labels"][0][3] == [""]  # y[3] not computed yet
    assert d["title"] == "Convolution as a matrix"
    json.dumps(d, allow_nan=False)


def test_the_headless_cli_exports_the_matrix_frames_as_json(tmp_path) -> None:
    from gui.app import main

    out = tmp_path / "m.json"
    args = ["convviz", "export", "--preset", "conv-as-matrix", "--format", "json", "--out", str(out)]
    assert main(args) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert len(doc["frames"]) == 4
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-as-matrix"))
    for f in doc["frames"]:
        assert f == json.loads(json.dumps(frame_to_dict(m.frame(f["step"]))))
    last = {p["name"]: p for p in doc["frames"][-1]["panels"]}
    y = engine.conv2d(m.x, m.w).ravel()
    assert [row[0] for row in last["down"]["values"][0]] == y.tolist()


def test_a_deck_holds_the_matrix_picture_by_preset_and_inline(tmp_path) -> None:
    inline = json.loads(scenario.dumps(scenario.from_model(matrix_lesson(op=T, in_h=2, in_w=2),
                                                           title="Cᵀ")))
    deck = {"format": "convviz-deck", "version": 1, "title": "Matrices",
            "scenarios": ["preset:conv-as-matrix", inline]}
    path = tmp_path / "deck.json"
    path.write_text(json.dumps(deck), "utf-8")
    title, scenes = scenario.load_deck(path)
    assert title == "Matrices" and [s.params.drawn_as for s in scenes] == ["matrix", "matrix"]
    m = Lesson()
    assert scenario.apply(m, scenes[1]) and m.frame(0).phase == "matrix"


# --------------------------------------------------------------------------- pointing
def test_clicking_and_double_clicking_the_vectors_select_and_edit_the_cells_they_stand_for() -> None:
    from gui.models import interaction

    m = matrix_lesson(in_h=4, in_w=4, padding=(0, 0, 0, 0), mode="both")
    c = interaction.click(m, "across", 0, 0, 6, None)  # x[6] is input cell (1, 2)
    assert c.selection == ("x", (0, 1, 2)) and "X[0,1,2]" in c.status
    e = interaction.edit(m, "across", 0, 0, 6)
    assert not isinstance(e, str) and e.label == "Input [0, 1, 2]"
    assert e.apply(7.0) and m.x[0, 1, 2] == 7.0
    assert panel_grid(m.frame(0), "across").values[0, 6] == 7.0
    assert "edit them in the grid picture" in interaction.edit(m, "matrix", 0, 0, 0)  # type: ignore[operator]
    assert interaction.edit(m, "down", 0, 0, 0) == ""  # y is computed
    assert m.set_step(m.n_forward)  # backward: dL/dY beside C is typed, dL/dX above it computed
    e = interaction.edit(m, "down", 0, 2, 0)
    assert not isinstance(e, str) and e.label == "dL/dY [0, 1, 0]"
    assert e.apply(-3.0) and m.run.dy[0, 1, 0] == -3.0  # type: ignore[index]
    assert interaction.edit(m, "across", 0, 0, 1) == ""
    # A transposed convolution's input cells are the vector beside C.
    t = matrix_lesson(op=T, in_h=2, in_w=2, stride=(2, 2), padding=(0, 0, 0, 0))
    assert interaction.click(t, "down", 0, 3, 0, None).selection == ("x", (0, 1, 1))
    assert interaction.click(t, "across", 0, 0, 3, None).selection is None


def test_forty_random_settings_agree_with_torch_forward_and_backward() -> None:
    """Seeded random convolutions and transposed convolutions (stride, padding, dilation, channels,
    groups, output padding, bias) the matrix picture accepts: y = C·x (Cᵀ·x) is torch's output and
    the last backward step's dL/dX is torch's input gradient."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(13)
    done, kinds = 0, set()
    while done < 40:
        transposed = bool(rng.integers(2))
        g = int(rng.choice([1, 2]))
        kw = dict(in_h=int(rng.integers(1, 5)), in_w=int(rng.integers(1, 5)), k_h=int(rng.integers(1, 4)),
                  k_w=int(rng.integers(1, 4)), stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                  dilation=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), in_c=g,
                  out_c=g * int(rng.integers(1, 3)), groups=g,
                  padding=(int(rng.integers(0, 2)),) * 2 + (int(rng.integers(0, 2)),) * 2,
                  bias=bool(rng.integers(2)), integers=bool(rng.integers(2)), seed=int(rng.integers(100)),
                  mode="both", upstream="random")
        if transposed:
            kw.update(op=T, output_padding=(int(rng.integers(0, kw["stride"][0])), 0))  # type: ignore[index]
        try:
            m = Lesson(Params(drawn_as="matrix", **kw))  # type: ignore[arg-type]
        except ValueError:
            continue  # a geometry PyTorch refuses too, or a matrix past 25×36
        done += 1
        p = m.params
        kinds.add((p.op, p.groups))
        x = torch.tensor(np.asarray(m.x))[None].requires_grad_(True)
        b = torch.tensor(m.bias_values) if p.bias else None
        pad = (p.padding[0], p.padding[2])
        if transposed:
            wt = torch.tensor(torch_weight(p, np.asarray(m.w)))
            y = F.conv_transpose2d(x, wt, b, stride=p.stride, padding=pad, output_padding=p.output_padding,
                                   dilation=p.dilation, groups=g)
        else:
            y = F.conv2d(x, torch.tensor(np.asarray(m.w)), b, stride=p.stride, padding=pad,
                         dilation=p.dilation, groups=g)
        y.backward(torch.tensor(np.asarray(m.run.dy))[None])
        out, inp = ("across", "down") if transposed else ("down", "across")
        last_forward = m.frame(m.n_forward - 1)
        np.testing.assert_allclose(done_values(panel_grid(last_forward, out)), y.detach().numpy().ravel(),
                                   atol=1e-9, err_msg=str(kw))
        last = m.frame(m.n_steps - 1)
        gx = x.grad.numpy().ravel()  # type: ignore[union-attr]
        np.testing.assert_allclose(panel_grid(last, inp).values.ravel(), gx, atol=1e-9, err_msg=str(kw))
    assert kinds == {("conv", 1), ("conv", 2), (T, 1), (T, 2)}


def test_backward_with_the_loss_says_the_loss_first() -> None:
    m = matrix_lesson(in_h=4, in_w=4, padding=(0, 0, 0, 0), mode="backward", upstream="loss")
    f = m.frame(0)
    assert m.run.loss is not None
    assert f.arithmetic.startswith(engine.describe.loss_text(m.run.loss) + "\n")
    assert "flows back along row 0 of C" in f.arithmetic


def test_a_transposed_convolutions_facts_name_its_twin_once_and_no_spread_input() -> None:
    m = matrix_lesson(op=T, in_h=2, in_w=2, stride=(2, 2), padding=(0, 0, 0, 0), mode="both")
    facts = m.frame(0).facts
    assert facts[0].startswith("a transposed convolution is y = Cᵀ·x, with C (4×25) the matrix of the "
                               "convolution kernel 3×3, stride 2")
    assert sum("convolution kernel 3×3" in f for f in facts) == 1
    assert not any("stride-1 convolution" in f for f in facts)
    assert "backward: dL/dX = C·dL/dY, the convolution itself" in facts
    assert any(f.startswith("H_out = W_out = ") for f in facts)


@pytest.mark.parametrize("name", ["causal-conv1d", "conv1d-dilated", "conv1d-stride2"])
def test_a_1d_convolution_as_a_matrix_is_torchs_conv1d(name: str) -> None:
    torch = pytest.importorskip("torch")
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    assert m.set_params(drawn_as="matrix"), m.last_error
    p = m.params
    x = torch.tensor(np.asarray(m.x)[:, 0])[None]  # (1, C_in, L)
    w = torch.tensor(np.asarray(m.w)[:, :, 0])  # (C_out, C_in/groups, k)
    (_, _), (left, right) = p.engine_padding()  # type: ignore[misc]
    y = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (left, right)), w,
                                   torch.tensor(m.bias_values) if p.bias else None, stride=p.stride[1],
                                   dilation=p.dilation[1], groups=p.groups)
    f = m.frame(m.n_forward - 1)
    np.testing.assert_allclose(done_values(panel_grid(f, "down")), y.numpy().ravel(), atol=1e-9)
    assert f.formulas[0][0].startswith("L_out = ")
    assert "position" in f.caption and not any(t.startswith("H_out") for t in f.facts)
    c = panel_grid(f, "matrix")
    assert c.shape == (y.numel(), x.numel())
