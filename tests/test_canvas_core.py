"""The digit panel's core without Qt: ink strokes, the saliency gradient, probability bars, trained weights.

Strokes are checked against the distance from each cell centre to the
segment, computed by hand; the saliency against centred finite differences
and PyTorch's autograd; the bars against a softmax written out here; the
pipeline's trained weights against ``gui.models.digits``.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import network as nw
from engine.backprop import numeric_gradient
from gui.models import digits
from gui.models.canvas import InkCanvas, paint_segment
from gui.models.pipeline import PipelineState, lesson_spec_for_layer
from gui.models.prediction import class_gradient, headline, percent, predict

# --------------------------------------------------------------------------- strokes


def test_a_horizontal_segment_inks_the_cells_within_its_radius() -> None:
    grid = np.zeros((20, 30))
    paint_segment(grid, (5.0, 10.0), (25.0, 10.0), 2.0)
    # Cell (i, j) has its centre at (j + 0.5, i + 0.5); its distance to the segment, by hand:
    for i in range(20):
        for j in range(30):
            cx, cy = j + 0.5, i + 0.5
            dx = 0.0 if 5 <= cx <= 25 else min(abs(cx - 5), abs(cx - 25))
            d = np.hypot(dx, cy - 10)
            assert grid[i, j] == pytest.approx(np.clip(3.0 - d, 0, 1)), (i, j)
    assert grid[10, 15] == 1.0 and grid[0].max() == 0.0


def test_ink_keeps_the_darkest_value_and_a_stroke_off_the_grid_is_clipped() -> None:
    grid = np.zeros((10, 10))
    paint_segment(grid, (5.0, 5.0), (5.0, 5.0), 1.5)
    once = grid.copy()
    paint_segment(grid, (5.0, 5.0), (5.0, 5.0), 1.5)
    np.testing.assert_array_equal(grid, once)  # drawing over a line changes nothing
    paint_segment(grid, (-40.0, -40.0), (-30.0, -35.0), 2.0)  # wholly outside
    np.testing.assert_array_equal(grid, once)
    paint_segment(grid, (-5.0, 0.5), (3.0, 0.5), 0.5)  # partly outside: clipped, no error
    assert grid[0, 0] == 1.0 and grid[0, 5] == 0.0


def test_a_canvas_draws_strokes_between_begin_and_end_only() -> None:
    c = InkCanvas(32, 32, radius=1.0)
    seen = []
    c.changed.connect(lambda: seen.append(1))
    c.extend(10, 10)  # pen up: nothing
    assert c.is_empty() and not seen
    c.begin(4, 16)
    c.extend(28, 16)
    c.end()
    c.extend(4, 4)  # pen up again
    assert c.picture[16, 4:28].min() == 1.0 and c.picture[:10].max() == 0.0
    assert len(seen) == 2 and c.strokes == 1
    c.clear()
    assert c.is_empty() and c.strokes == 0 and len(seen) == 3


def test_loading_a_picture_repeats_its_cells_and_bad_pictures_are_refused() -> None:
    c = InkCanvas(64, 64)
    pic = np.zeros((32, 32))
    pic[3, 5] = 0.5
    c.load(pic)
    np.testing.assert_array_equal(c.picture[6:8, 10:12], 0.5)
    assert c.picture.sum() == pytest.approx(0.5 * 4)
    for bad in (np.zeros((2, 3, 4)), np.full((4, 4), np.nan), np.zeros((0, 3))):
        with pytest.raises(ValueError, match="2-D grid"):
            c.load(bad)
    with pytest.raises(ValueError, match="8 to 1024"):
        InkCanvas(4, 64)
    with pytest.raises(ValueError, match="pen radius"):
        InkCanvas(64, 64, radius=40)


# --------------------------------------------------------------------------- saliency


def small_net() -> nw.Network:
    """Every layer kind the pipeline offers, with stride, padding, a max pool and a global pool."""
    return nw.Network((2, 11, 11), (
        nw.Conv(3, 3, stride=2, padding=1), nw.Activation("leaky_relu"), nw.Pool("max", 2, stride=1),
        nw.Conv(4, 2, dilation=2), nw.Activation("sigmoid"), nw.GlobalPool("avg"), nw.Dense(5),
        nw.Activation("tanh"), nw.Dense(3),
    ))


def grouped_causal_net() -> nw.Network:
    """A grouped convolution and a causally padded one, as the separable and WaveNet-style presets use."""
    return nw.Network((4, 9, 9), (
        nw.Conv(4, 3, padding=1, groups=4), nw.Activation("tanh"), nw.Conv(6, 2, padding="causal", dilation=2,
                                                                            groups=2),
        nw.Activation("relu"), nw.Flatten(), nw.Dense(4),
    ))


@pytest.mark.parametrize("net", [nw.lenet5(), small_net(), grouped_causal_net()],
                         ids=["lenet5", "every-layer", "grouped-causal"])
def test_saliency_matches_finite_differences(net: nw.Network) -> None:
    rng = np.random.default_rng(4)
    weights = net.init_weights(5)
    x = rng.random(net.input_shape)
    unit = 2
    g = class_gradient(net, weights, net.forward(x, weights), unit)
    assert g.shape == net.input_shape

    def score(xx: np.ndarray) -> float:
        return float(net.forward(xx, weights)[-1][unit])

    c, h, w = net.input_shape
    for idx in [(0, 0, 0), (0, h // 2, w // 2 + 1), (c - 1, h - 1, w - 1), (c - 1, h // 3, 2)]:
        assert g[idx] == pytest.approx(numeric_gradient(score, x, idx), rel=1e-5, abs=1e-9), idx


def test_saliency_of_the_trained_lenet_matches_finite_differences_on_a_drawn_digit() -> None:
    net, weights = digits.trained_lenet5()
    c = InkCanvas()
    c.stroke([(64, 20), (64, 110)])
    x = digits.digit_input(np.array(c.picture))
    outs = net.forward(x, weights)
    target = int(np.argmax(outs[-1]))
    g = class_gradient(net, weights, outs, target)

    def score(xx: np.ndarray) -> float:
        return float(net.forward(xx, weights)[-1][target])

    for idx in [(0, 16, 16), (0, 8, 15), (0, 20, 12), (0, 2, 30)]:
        assert g[idx] == pytest.approx(numeric_gradient(score, x, idx), rel=1e-5, abs=1e-9), idx


def test_a_class_that_is_not_an_output_is_refused() -> None:
    net = nw.lenet5()
    w = net.init_weights(0)
    outs = net.forward(np.zeros((1, 32, 32)), w)
    with pytest.raises(ValueError, match="class 10"):
        class_gradient(net, w, outs, 10)
    with pytest.raises(ValueError, match="class 0"):
        class_gradient(net, w, outs[:-1], 0)


# --------------------------------------------------------------------------- bars


def test_bars_carry_softmax_probabilities_their_numbers_and_the_winner() -> None:
    scores = np.array([0.0, 3.0, 1.0, -2.0])
    e = np.exp(scores)
    p = e / e.sum()
    pred = predict(scores, "LeNet-5")
    assert pred is not None and pred.winner == 1
    np.testing.assert_allclose(pred.probabilities, p)
    assert [b.label for b in pred.bars] == ["0", "1", "2", "3"]
    assert [b.text for b in pred.bars] == [f"{100 * v:.1f}%" for v in p]
    assert [b.winner for b in pred.bars] == [False, True, False, False]
    assert pred.headline == f"LeNet-5 reads 1 ({100 * p[1]:.1f}%)"
    assert predict(np.zeros((2, 2))) is None and predict(np.zeros(100)) is None
    assert headline(pred, blank=False) == pred.headline
    assert headline(pred, blank=True) == "Draw a digit on the canvas"
    assert headline(None, blank=False).startswith("No class scores")
    assert predict(np.array([1.0, np.nan])) is None


@pytest.mark.parametrize(("p", "text"), [(0.0, "0%"), (1e-5, "<0.1%"), (0.0005, "0.1%"), (0.973, "97.3%"),
                                         (0.99996, ">99.9%"), (1.0, "100%")])
def test_percentages_stay_legible_at_the_ends(p: float, text: str) -> None:
    assert percent(p) == text


# --------------------------------------------------------------------------- the pipeline's weights


def test_the_pipeline_starts_on_the_trained_lenet5() -> None:
    s = PipelineState()
    _, trained = digits.trained_lenet5()
    assert s.weights_kind == "trained" and s.trained_layers == 12
    for mine, theirs in zip(s.weights, trained, strict=True):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_array_equal(mine[0], theirs[0])
            np.testing.assert_array_equal(mine[1], theirs[1])
    assert s.weights_text().startswith("Trained weights (LeNet-5")
    np.testing.assert_allclose(s.prediction().probabilities, digits.probabilities(s.x))  # type: ignore[union-attr]


def test_random_weights_are_a_choice_and_new_weights_are_random() -> None:
    s = PipelineState()
    assert s.set_weights_kind("random")
    assert s.trained_layers == 0 and s.weights_text() == "Random weights (seed 0)"
    np.testing.assert_array_equal(s.weights[0][0], nw.lenet5().init_weights(0)[0][0])  # type: ignore[index]
    assert s.set_weights_kind("trained") and s.trained_layers == 12
    assert not s.set_weights_kind("pretrained") and "trained or random" in s.last_error
    assert s.weights_kind == "trained"
    assert s.new_weights() and s.weights_kind == "random" and s.seed == 1


def test_trained_weights_cover_the_layers_that_still_match_lenet5() -> None:
    s = PipelineState()
    _, trained = digits.trained_lenet5()
    assert s.replace_layer(11, nw.Dense(12))
    assert s.trained_layers == 11
    assert "layers 1–11" in s.weights_text() and "random after" in s.weights_text()
    np.testing.assert_array_equal(s.weights[9][0], trained[9][0])  # type: ignore[index]
    assert s.weights[11][0].shape == (12, 84)  # type: ignore[index]
    assert s.set_network(nw.tiny_vgg())
    assert s.trained_layers == 0 and "fit LeNet-5 only" in s.weights_text()


def test_a_drawing_becomes_the_input_through_the_training_preprocessing() -> None:
    s = PipelineState()
    c = InkCanvas()
    c.stroke([(40, 30), (90, 30), (60, 110)])
    assert s.set_drawing(np.array(c.picture))
    np.testing.assert_array_equal(s.x, digits.digit_input(np.array(c.picture)))
    assert s.set_network(nw.tiny_vgg()) and s.set_drawing(np.array(c.picture))
    assert s.x.shape == (3, 32, 32)
    np.testing.assert_allclose(s.x, np.repeat(digits.digit_input(np.array(c.picture)), 3, axis=0))
    before = s.x.copy()
    assert not s.set_drawing(np.zeros((3, 4, 5))) and "2-D grid" in s.last_error
    np.testing.assert_array_equal(s.x, before)
    assert s.set_network(nw.wavenet_stack())
    before = s.x.copy()
    assert not s.set_drawing(np.array(c.picture)) and "reads a signal" in s.last_error
    np.testing.assert_array_equal(s.x, before)


def test_the_saliency_of_the_winner_or_a_chosen_class() -> None:
    s = PipelineState()
    win = s.prediction().winner  # type: ignore[union-attr]
    sal = s.saliency()
    assert sal is not None and sal.target == win and f"d score[{win}]" in sal.title
    np.testing.assert_array_equal(sal.gradient, class_gradient(s.network, s.weights, s.outputs, win))
    assert sal.levels == (-np.abs(sal.picture).max(), np.abs(sal.picture).max())
    x = s.x[0]
    np.testing.assert_allclose(sal.ink, (x - x.min()) / (x.max() - x.min()))  # the input's shadow
    assert s.saliency(3).target == 3  # type: ignore[union-attr]
    assert s.saliency(10) is None
    assert s.set_layers(s.network.layers[:6]) and s.saliency() is None  # no class scores: no saliency


def test_c1_kernels_are_the_trained_ones_and_open_as_a_lesson_with_real_activations() -> None:
    s = PipelineState()
    _, trained = digits.trained_lenet5()
    k = s.first_kernels()
    assert k is not None and k.kernels.shape == (6, 5, 5)
    np.testing.assert_array_equal(k.kernels, trained[0][0][:, 0])  # type: ignore[index]
    assert "6" in k.title and "5×5" in k.title
    for layer in (0, 3):
        spec = s.open_spec(layer)
        assert spec is not None
        np.testing.assert_array_equal(spec["w"], trained[layer][0])  # type: ignore[index]
        np.testing.assert_array_equal(spec["x"], s.outputs[layer])
        ls = lesson_spec_for_layer(spec["layer"], spec["x"], spec["w"], spec["b"])  # type: ignore[arg-type]
        np.testing.assert_array_equal(ls.w, trained[layer][0])  # type: ignore[index]
        np.testing.assert_array_equal(ls.bias, trained[layer][1])  # type: ignore[index]
