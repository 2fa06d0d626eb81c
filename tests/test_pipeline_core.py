"""The pipeline's core on its own: no QApplication, no widgets, no Qt import.

Expected shapes and parameter counts are LeNet-5's by hand; dense outputs are
recomputed with ``W @ x + b``; receptive-field sizes come from
``1 + Σ (k−1)·jump``; the flatten order is checked against
``np.unravel_index``; a layer opened as a lesson must compute what the
network's own forward pass computed for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import describe
from engine import network as nw
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.models.pipeline import (
    MAX_PARAMETERS,
    NEW_LAYERS,
    PRESETS,
    LayerLesson,
    PipelineState,
    apply_layer_edits,
    checkerboard,
    layer_fields,
    lesson_spec_for_layer,
)

ROOT = Path(__file__).resolve().parent.parent

LENET_ROWS = [  # (shape after the layer, parameters) by hand
    ("6×28×28", 5 * 5 * 1 * 6 + 6), ("6×28×28", 0), ("6×14×14", 0),
    ("16×10×10", 5 * 5 * 6 * 16 + 16), ("16×10×10", 0), ("16×5×5", 0), ("400", 0),
    ("120", 16 * 5 * 5 * 120 + 120), ("120", 0), ("84", 120 * 84 + 84), ("84", 0), ("10", 84 * 10 + 10),
]


class Events:
    """Records what a state emits."""

    def __init__(self, state: PipelineState) -> None:
        self.changed = 0
        self.errors: list[str] = []
        state.changed.connect(self._changed)
        state.error.connect(self.errors.append)

    def _changed(self) -> None:
        self.changed += 1


def rf_size(layers: list[tuple[int, int]]) -> int:
    """``1 + Σ (k−1)·jump`` for ``(kernel, stride)`` pairs, first layer first."""
    rf, jump = 1, 1
    for k, s in layers:
        rf += (k - 1) * jump
        jump *= s
    return rf


def snapshot(s: PipelineState) -> tuple:
    return (s.network, s.x.copy(), [o.copy() for o in s.outputs], s.seed, s.problem)


def assert_unchanged(s: PipelineState, before: tuple) -> None:
    net, x, outputs, seed, problem = before
    assert s.network == net and s.seed == seed and s.problem is problem
    np.testing.assert_array_equal(s.x, x)
    assert len(s.outputs) == len(outputs)
    for a, b in zip(s.outputs, outputs, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- no Qt


def test_the_core_imports_no_qt() -> None:
    """This module and everything it imports run without PySide6 or pyqtgraph (checked in a fresh process)."""
    code = (
        "import sys, importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('core_tests', {str(Path(__file__))!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "s = mod.PipelineState(); s.set_network(mod.PRESETS['tiny VGG']())\n"
        "lay = s.network.layers[0]; w, b = s.weights[0]\n"
        "mod.Lesson().load(mod.lesson_spec_for_layer(lay, s.outputs[0], w, b).params)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


# --------------------------------------------------------------------------- the stack


def test_lenet_rows_totals_and_titles() -> None:
    s = PipelineState()
    assert s.network == nw.lenet5()
    rows = s.layer_rows()
    assert len(rows) == len(LENET_ROWS)
    for k, (row, (shape, params)) in enumerate(zip(rows, LENET_ROWS, strict=True)):
        assert row.status == "ok" and row.tip == ""
        assert row.text.startswith(f"{k + 1}. ")
        assert row.text.endswith(f"→ {shape}" + (f" · {params:,} params" if params else "")), row.text
    assert s.total_params() == sum(n for _, n in LENET_ROWS) == 61_706
    assert s.totals_text() == "Input 1×32×32 · 12 layers · 61,706 parameters in all"
    assert s.message_text() == ""
    titles = s.stage_titles()
    assert len(titles) == len(s.outputs) == 13
    assert titles[0] == "input 1×32×32"
    assert titles[4] == "4. conv 16@5x5\n16×10×10"
    assert titles[-1] == "12. dense 10\n10"


def test_tiny_vgg_parameters_and_the_input_follows_the_network() -> None:
    s = PipelineState()
    ev = Events(s)
    assert s.set_network(PRESETS["tiny VGG"]())
    vgg = 8 * 3 * 9 + 8 + 8 * 8 * 9 + 8 + 16 * 8 * 9 + 16 + 16 * 16 * 9 + 16 + 16 * 8 * 8 * 10 + 10
    assert s.total_params() == vgg
    assert f"{vgg:,} parameters" in s.totals_text() and "Input 3×32×32" in s.totals_text()
    assert s.x.shape == (3, 32, 32)
    np.testing.assert_array_equal(s.x[0], s.x[2])  # grey copied to three channels
    assert s.layer_rows()[-2].text.endswith("→ 1024")
    assert ev.changed == 1 and ev.errors == []
    assert s.set_network(nw.lenet5())
    assert s.x.shape == (1, 32, 32) and s.total_params() == 61_706


def test_dense_outputs_are_w_at_x_plus_b_and_flatten_is_c_order() -> None:
    s = PipelineState()
    dense = [k for k, layer in enumerate(s.network.layers) if isinstance(layer, nw.Dense)]
    assert dense == [7, 9, 11]
    for k in dense:
        w, b = s.weights[k]
        x = s.outputs[k]
        expected = np.array([sum(w[u, n] * x[n] for n in range(x.size)) + b[u] for u in range(w.shape[0])])
        np.testing.assert_allclose(s.outputs[k + 1], expected, rtol=1e-10, atol=1e-12)
    c, h, w_ = s.outputs[6].shape
    flat = s.outputs[7]
    for k in (0, 1, h * w_ + w_ + 2, flat.size - 1):
        np.testing.assert_equal(flat[k], s.outputs[6][np.unravel_index(k, (c, h, w_))])


def test_impossible_layer_is_flagged_and_the_stages_before_it_computed() -> None:
    s = PipelineState()
    ev = Events(s)
    assert s.insert_layer(5, nw.Conv(4, 9)) == 6
    bad = 6
    assert s.problem is not None and s.problem.index == bad
    assert ev.changed == 1 and ev.errors == []  # kept and flagged, not refused
    rows = s.layer_rows()
    assert rows[bad].status == "problem" and "✗" in rows[bad].text
    assert "9x9" in rows[bad].text and "5×5" in rows[bad].text
    assert rows[bad].tip == s.problem.reason
    assert all(r.status == "after" and r.text.endswith("(after the problem)") for r in rows[bad + 1:])
    assert s.message_text().startswith(f"Impossible stack: layer {bad + 1}: conv 4@9x9 cannot slide over")
    assert "a 5×5 map" in s.message_text()
    assert s.param_counts()[bad:] == [None] * (len(rows) - bad)
    assert s.total_params() == 156 + 2416
    assert len(s.outputs) == bad + 1 and s.outputs[-1].shape == (16, 5, 5)
    assert len(s.stage_titles()) == bad + 1
    assert not s.can_flatten() and s.flatten_step(0) is None
    assert s.remove_layer(bad) == bad
    assert s.problem is None and s.message_text() == "" and s.total_params() == 61_706
    assert s.insert_layer(2, nw.Dense(10)) == 3
    assert s.problem is not None and s.problem.index == 3
    assert "flatten the 6×14×14 map first" in s.message_text()


def test_pooling_with_too_much_padding_is_flagged_not_raised() -> None:
    s = PipelineState()
    layers = list(s.network.layers)
    layers.insert(3, nw.Pool("max", 2, padding=2))
    assert s.set_layers(layers)
    assert s.problem is not None and s.problem.index == 3


def test_moving_and_removing_by_position() -> None:
    s = PipelineState()
    assert s.move_layer(1, 1) == 2
    assert isinstance(s.network.layers[1], nw.Pool) and isinstance(s.network.layers[2], nw.Activation)
    assert s.outputs[3].shape == (6, 14, 14)
    assert s.move_layer(2, -1) == 1
    assert s.network == nw.lenet5()
    assert s.move_layer(0, -1) is None and s.move_layer(11, 1) is None and s.remove_layer(12) is None
    assert s.network == nw.lenet5()
    assert s.insert_layer(-1, nw.Activation("relu")) == 12  # nothing selected: at the end
    only = PipelineState(nw.Network((1, 8, 8), (nw.Flatten(),)))
    assert only.remove_layer(0) == -1 and only.network.layers == ()
    assert only.stage_titles() == ["input 1×8×8"]


def test_new_weights_draw_new_random_weights_but_keep_hand_set_filters() -> None:
    s = PipelineState(nw.Network((1, 8, 8), (nw.Conv(2, 3), nw.Conv(2, 3, filters="box blur"))))
    before = [wb[0].copy() for wb in s.weights if wb is not None]
    assert s.new_weights() and s.seed == 1
    after = [wb[0] for wb in s.weights if wb is not None]
    assert not np.array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_allclose(after[1], np.full((2, 2, 3, 3), 1 / 9 / 2))


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("change", "words"), [
    (lambda s: s.set_input(np.zeros((8, 8))), "C×H×W"),
    (lambda s: s.set_input(np.zeros((1, 0, 8))), "height must be from 1"),
    (lambda s: s.set_input(np.full((1, 32, 32), np.nan)), "not finite"),
    (lambda s: s.set_network(nw.Network((1, 4000, 32), ())), "height must be from 1 to 512"),
    (lambda s: s.set_layers([nw.Conv(2, 3), "relu"]), "layer 2 is a str, not a network layer"),
    (lambda s: s.insert_layer(6, nw.Dense(MAX_PARAMETERS)), "parameters; the pipeline holds at most"),
    (lambda s: s.use_sample("digit"), "no picture reader"),
    (lambda s: s.replace_layer(40, nw.Flatten()), "there is no layer 41"),
])
def test_a_change_that_cannot_be_computed_is_refused_whole(change, words: str) -> None:  # type: ignore[no-untyped-def]
    s = PipelineState()
    ev = Events(s)
    before = snapshot(s)
    assert change(s) in (False, None)  # None: an edit by position that was refused
    assert ev.errors == [s.last_error] and words in s.last_error, ev.errors
    assert ev.changed == 0
    assert_unchanged(s, before)
    # The next good change clears the error.
    assert s.new_weights()
    assert ev.errors[-1] == "" and s.last_error == ""


def test_an_input_too_large_for_the_stack_is_refused_before_anything_is_allocated() -> None:
    s = PipelineState()
    assert s.set_layers([nw.Conv(64, 1)] * 3)  # 196,608 values on 32×32
    ev = Events(s)
    before = snapshot(s)
    assert not s.set_input(np.zeros((1, 512, 512)))  # 50 million on 512×512
    assert ev.errors == ["its feature maps would hold 50,593,792 values; the pipeline holds at most "
                         "20,000,000 (use fewer kernels or a smaller input)"]
    assert_unchanged(s, before)


# --------------------------------------------------------------------------- samples


def test_samples_come_through_the_loader_it_is_given() -> None:
    calls: list[tuple[str, int, int, int]] = []

    def loader(name: str, c: int, h: int, w: int) -> np.ndarray:
        calls.append((name, c, h, w))
        if name == "missing":
            raise ValueError("missing.png does not exist")
        return np.full((c, h, w), 0.25 if name == "digit" else 0.75)

    s = PipelineState(load_sample=loader)
    assert calls == [("digit", 1, 32, 32)] and s.last_error == ""
    np.testing.assert_array_equal(s.x, np.full((1, 32, 32), 0.25))
    ev = Events(s)
    assert s.use_sample("shapes")
    np.testing.assert_array_equal(s.outputs[0], np.full((1, 32, 32), 0.75))
    assert not s.use_sample("missing")
    assert ev.errors == ["missing.png does not exist"]
    np.testing.assert_array_equal(s.x, np.full((1, 32, 32), 0.75))
    # A loader that fails at the start leaves the checkerboard, and says why.
    broken = PipelineState(load_sample=lambda *a: (_ for _ in ()).throw(ValueError("no pictures here")))
    assert broken.last_error == "no pictures here"
    np.testing.assert_array_equal(broken.x, checkerboard(1, 32, 32))


def test_the_input_is_read_only_and_outputs_are_the_states_own() -> None:
    s = PipelineState()
    with pytest.raises(ValueError, match="read-only"):
        s.x[0, 0, 0] = 5.0
    s.outputs.append(np.zeros(3))
    assert len(s.outputs) == 13


# --------------------------------------------------------------------------- receptive fields and flatten


def test_receptive_field_of_a_c3_cell() -> None:
    s = PipelineState()
    trace = s.trace_field(4, 4, 6)
    assert trace is not None
    predicted = rf_size([(5, 1), (2, 2), (5, 1)])
    assert predicted == 14
    assert trace.sizes == [(14, 14), (10, 10), (10, 10), (5, 5), (1, 1)]
    rows, cols = trace.fields[0]
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (8, 21, 12, 25)
    assert trace.text == ("Cell (4, 6) of stage 4: its receptive field is input: 14×14; after layer 1: "
                          "10×10; after layer 2: 10×10; after layer 3: 5×5; after layer 4: 1×1")
    assert s.trace_field(0, 3, 3).sizes == [(1, 1)]
    assert s.trace_field(8, 60, 0) is None  # a vector stage
    assert s.trace_field(4, 10, 0) is None  # no such cell
    assert s.trace_field(40, 0, 0) is None
    # A stage before an impossible layer is traced as before (the layers after it are not read).
    assert s.insert_layer(5, nw.Conv(4, 9)) is not None and s.problem is not None
    assert s.trace_field(4, 4, 6).text == trace.text
    assert s.trace_field(7, 0, 0) is None  # not computed


def test_border_cell_of_a_padded_stack_is_clipped() -> None:
    s = PipelineState(nw.Network((1, 12, 12), (nw.Conv(2, 3, padding=1), nw.Activation("relu"),
                                               nw.Conv(2, 3, padding=1))))
    full = rf_size([(3, 1), (3, 1)])
    assert s.trace_field(3, 6, 5).sizes[0] == (full, full)
    trace = s.trace_field(3, 0, 11)
    assert trace.sizes[0] == (full - 2, full - 2) and trace.sizes[1] == (2, 2)


def test_flatten_steps_follow_c_order_and_wrap_round() -> None:
    s = PipelineState(nw.Network((1, 8, 8), (nw.Conv(2, 3), nw.Pool("max", 2), nw.Flatten(), nw.Dense(3))))
    assert s.flatten_layer() == 2 and s.can_flatten()
    c, h, w = s.outputs[2].shape
    assert (c, h, w) == (2, 3, 3)
    n = c * h * w
    for step in range(n + 2):
        f = s.flatten_step(step)
        assert f is not None and f.stage == 2 and f.k == step % n
        assert f.cell == tuple(int(v) for v in np.unravel_index(f.k, (c, h, w)))
        ci, hi, wi = f.cell
        assert s.outputs[3][f.k] == s.outputs[2][ci, hi, wi]
        value = describe.fmt(float(s.outputs[2][ci, hi, wi]))
        assert f.text == (f"flatten: element {f.k} of {n} = x[{ci}, {hi}, {wi}] = {value}   "
                          f"(i = c·H·W + r·W + col = {ci}·{h}·{w} + {hi}·{w} + {wi} = {f.k})")
        assert f.n == n
    assert not PipelineState(nw.Network((1, 8, 8), (nw.Conv(2, 3),))).can_flatten()


# --------------------------------------------------------------------------- the layer editor's rules


def test_layer_fields_and_edits_keep_what_is_not_shown() -> None:
    layer = nw.Conv(6, (3, 5), padding="same", bias=False)
    fields = {f.name: f for f in layer_fields(layer)}
    assert list(fields) == ["out_channels", "kernel", "stride", "padding", "padding_kind", "dilation",
                            "filters", "groups"]
    assert (fields["kernel"].value, fields["padding"].value, fields["padding_kind"].value) == (3, 1, "same")
    assert (fields["out_channels"].lo, fields["out_channels"].hi) == (1, 64)
    assert "sobel x" in fields["filters"].choices
    shown = {name: f.value for name, f in fields.items()}
    assert apply_layer_edits(layer, shown) is layer
    edited = apply_layer_edits(layer, {**shown, "out_channels": 8})
    assert edited == nw.Conv(8, (3, 5), padding="same", bias=False)
    pool = nw.Pool("avg", 2)
    assert [f.value for f in layer_fields(pool)] == ["avg", 2, 2]
    assert layer_fields(pool)[0].choices == ("max", "min", "avg")
    assert apply_layer_edits(pool, {"op": "avg", "kernel": 3, "stride": 2}) == nw.Pool("avg", 3)
    assert apply_layer_edits(pool, {"op": "max", "kernel": 2, "stride": 1}) == nw.Pool("max", 2, stride=1)
    assert layer_fields(nw.Activation("tanh"))[0].choices == ("relu", "leaky_relu", "sigmoid", "tanh")
    assert apply_layer_edits(nw.Dense(10), {"units": 84}) == nw.Dense(84)
    assert layer_fields(nw.Flatten()) == []
    assert set(NEW_LAYERS) >= {"convolution 3x3", "flatten", "dense 10"}


# --------------------------------------------------------------------------- a layer as a lesson


def lesson_output(spec: LayerLesson) -> np.ndarray:
    lesson = Lesson()
    assert lesson.load(spec.params, x=spec.x, w=spec.w, bias=spec.bias), lesson.last_error
    return np.asarray(lesson.trace.output)


def network_layer_output(layer: nw.Layer, x: np.ndarray, seed: int = 3
                         ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The network's own forward pass of ``layer`` on ``x``, with non-zero biases."""
    net = nw.Network(x.shape, (layer,))  # type: ignore[arg-type]
    weights = net.init_weights(seed)
    if weights[0] is not None:
        w, b = weights[0]
        weights = [(w, np.random.default_rng(seed).normal(size=b.shape))]
    y = net.forward(x, weights)[1]
    return (y, *weights[0]) if weights[0] is not None else (y, None, None)


CONV_LAYERS = [
    nw.Conv(3, 3, padding="same"), nw.Conv(2, 4, padding="same"), nw.Conv(3, 3, padding=1),
    nw.Conv(2, (3, 5), padding=(2, 1), stride=2), nw.Conv(2, 3, padding=0), nw.Conv(2, 3, padding="valid"),
    nw.Conv(4, 3, dilation=2, padding=2, bias=False), nw.Conv(2, 3, padding=((0, 2), (1, 0))),
    nw.Conv(2, 3, filters="sobel x"),
]


@pytest.mark.parametrize("layer", CONV_LAYERS, ids=repr)
def test_a_conv_layer_as_a_lesson_computes_the_networks_output(layer: nw.Conv) -> None:
    x = np.random.default_rng(0).normal(size=(2, 9, 10))
    y, w, b = network_layer_output(layer, x)
    spec = lesson_spec_for_layer(layer, x, w, b)
    p = spec.params
    assert (p.op, p.in_c, p.in_h, p.in_w, p.out_c) == ("conv", 2, 9, 10, layer.out_channels)
    assert p.bias is layer.bias and p.mode == "forward" and p.activation == "none"
    np.testing.assert_allclose(lesson_output(spec), y, rtol=1e-12, atol=1e-12)


def test_conv_padding_kinds() -> None:
    x = np.zeros((1, 6, 6))
    kinds = {str(layer.padding): lesson_spec_for_layer(layer, x).params for layer in (
        nw.Conv(1, 3, padding="same"), nw.Conv(1, 3, padding=0), nw.Conv(1, 3, padding="valid"),
        nw.Conv(1, 3, padding=(2, 1)), nw.Conv(1, 3, padding=((0, 2), (1, 0))))}
    assert {k: (p.pad_kind, p.padding) for k, p in kinds.items()} == {
        "same": ("same", (0, 0, 0, 0)), "0": ("valid", (0, 0, 0, 0)), "valid": ("valid", (0, 0, 0, 0)),
        "(2, 1)": ("symmetric", (2, 2, 1, 1)), "((0, 2), (1, 0))": ("asymmetric", (0, 2, 1, 0)),
    }


POOL_LAYERS = [nw.Pool("max", 2), nw.Pool("avg", 2), nw.Pool("min", 3, stride=2),
               nw.Pool("max", 3, stride=1, padding=1), nw.Pool("avg", (2, 3), padding=(1, 1))]


@pytest.mark.parametrize("layer", POOL_LAYERS, ids=nw.describe_layer)
def test_a_pool_layer_as_a_lesson_computes_the_networks_output(layer: nw.Pool) -> None:
    x = np.random.default_rng(1).normal(size=(3, 8, 9))
    y, _, _ = network_layer_output(layer, x)
    spec = lesson_spec_for_layer(layer, x)
    p = spec.params
    assert p.op == layer.op and (p.k_h, p.k_w) == nw._pair(layer.kernel)
    assert p.stride == nw._pair(layer.stride if layer.stride is not None else layer.kernel)
    assert spec.w is None and spec.bias is None
    np.testing.assert_allclose(lesson_output(spec), y, rtol=1e-12, atol=1e-12)


def test_settings_that_change_the_result_are_reset_from_any_base() -> None:
    base = Params(padding_mode="reflect", flip_kernel=True, ceil_mode=True, count_include_pad=False,
                  activation="relu", mode="backward", upstream="loss", integers=True, picture=True,
                  granularity="tap", preset="gaussian")
    x = np.random.default_rng(2).normal(size=(2, 7, 7))
    for layer in (nw.Conv(2, 3, padding=1), nw.Pool("avg", 2, padding=1)):
        y, w, b = network_layer_output(layer, x)
        spec = lesson_spec_for_layer(layer, x, w, b, base=base)
        np.testing.assert_allclose(lesson_output(spec), y, rtol=1e-12, atol=1e-12)
        assert spec.params.granularity == "tap"  # a viewing choice, kept
    assert lesson_spec_for_layer(nw.Conv(2, 3), x, base=base).params.preset == "random"


def test_only_conv_and_pool_on_maps_can_be_opened() -> None:
    with pytest.raises(ValueError, match="only a convolution or a pooling"):
        lesson_spec_for_layer(nw.Dense(3), np.zeros(4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="C×H×W"):
        lesson_spec_for_layer(nw.Conv(1, 3), np.zeros((5, 5)))
    s = PipelineState()
    assert [k for k in range(14) if s.can_open(k)] == [0, 2, 3, 5]
    spec = s.open_spec(3)
    assert spec is not None and spec["layer"] == nw.Conv(16, 5)
    assert spec["x"] is s.outputs[3] and spec["w"] is s.weights[3][0] and spec["b"] is s.weights[3][1]
    assert s.open_spec(2)["w"] is None and s.open_spec(1) is None
    s.insert_layer(2, nw.Conv(4, 30))  # impossible: it and what follows cannot open
    assert [k for k in range(14) if s.can_open(k)] == [0, 2]


def test_open_spec_of_c3_gives_the_pipelines_own_output() -> None:
    s = PipelineState()
    spec = s.open_spec(3)
    ls = lesson_spec_for_layer(spec["layer"], spec["x"], spec["w"], spec["b"])
    np.testing.assert_allclose(lesson_output(ls), s.outputs[4], rtol=1e-9, atol=1e-12)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(1, 4), s=st.integers(1, 3), d=st.integers(1, 2), pad=st.integers(0, 2),
       same=st.booleans(), h=st.integers(5, 9), w=st.integers(5, 9), c=st.integers(1, 3),
       seed=st.integers(0, 100))
def test_any_working_conv_layer_opens_as_the_same_computation(k: int, s: int, d: int, pad: int, same: bool,
                                                               h: int, w: int, c: int, seed: int) -> None:
    layer = nw.Conv(2, k, stride=1 if same else s, dilation=d, padding="same" if same else pad)
    x = np.random.default_rng(seed).normal(size=(c, h, w))
    if nw.Network((c, h, w), (layer,)).check() is not None:
        return
    y, wt, b = network_layer_output(layer, x, seed)
    np.testing.assert_allclose(lesson_output(lesson_spec_for_layer(layer, x, wt, b)), y,
                               rtol=1e-12, atol=1e-12)
