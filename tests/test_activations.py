"""Activations: the formulas, their derivatives, and the activation step of the main window's model.

References are written here: the textbook formulas in NumPy, centred finite
differences, ``engine.conv2d`` / ``conv2d_backward`` for the convolution the
activation follows, and a loss computed by hand for the gradient check.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PySide6.QtWidgets import QComboBox

import engine
from engine.activations import ACTIVATIONS, LEAKY_SLOPE, activate, activation_grad
from gui.models.lesson import Lesson
from gui.models.params import Params

SLOPE = 0.01


def reference(name: str, z: np.ndarray, slope: float = SLOPE) -> np.ndarray:
    """The textbook formula, element by element."""
    out = np.empty_like(z)
    for idx, v in np.ndenumerate(z):
        if name == "relu":
            out[idx] = v if v > 0 else 0.0
        elif name == "leaky_relu":
            out[idx] = v if v > 0 else slope * v
        elif name == "sigmoid":
            out[idx] = 1.0 / (1.0 + np.exp(-v))
        elif name == "tanh":
            e = np.expm1(2 * v)  # (e^2z − 1) / (e^2z + 1), accurate near 0 too
            out[idx] = e / (e + 2.0)
        else:
            out[idx] = v
    return out


def centred(name: str, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return (reference(name, z + h) - reference(name, z - h)) / (2 * h)


def away_from_zero(n: int, seed: int) -> np.ndarray:
    """Values in ±[0.05, 6]: no kink of ReLU within a finite-difference step."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.05, 6.0, size=n)


# --------------------------------------------------------------------------- the functions


def test_every_menu_name_is_covered() -> None:
    assert set(ACTIVATIONS) == {"none", "relu", "leaky_relu", "sigmoid", "tanh"}
    assert ACTIVATIONS[0] == "none"
    assert LEAKY_SLOPE == SLOPE


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activate_matches_the_formula(name: str) -> None:
    z = np.concatenate([away_from_zero(60, 1), [0.0, -0.0, 1e-300, -1e-300]]).reshape(4, 2, 8)
    got = activate(name, z)
    assert got.shape == z.shape
    np.testing.assert_allclose(got, reference(name, z), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_grad_matches_centred_differences(name: str) -> None:
    z = away_from_zero(80, 2).reshape(2, 5, 8)
    got = activation_grad(name, z)
    assert got.shape == z.shape
    np.testing.assert_allclose(got, centred(name, z), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_grad_is_the_derivative_of_activate(name: str) -> None:
    # The engine's own activate, differentiated numerically, agrees with its activation_grad.
    z = away_from_zero(40, 3)
    h = 1e-6
    numeric = (activate(name, z + h) - activate(name, z - h)) / (2 * h)
    np.testing.assert_allclose(activation_grad(name, z), numeric, rtol=1e-6, atol=1e-9)


def test_derivative_at_zero_follows_pytorch() -> None:
    zero = np.zeros(3)
    np.testing.assert_array_equal(activation_grad("relu", zero), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(activation_grad("leaky_relu", zero), [SLOPE] * 3)
    np.testing.assert_allclose(activation_grad("sigmoid", zero), 0.25)
    np.testing.assert_allclose(activation_grad("tanh", zero), 1.0)
    np.testing.assert_array_equal(activation_grad("none", zero), [1.0, 1.0, 1.0])


def test_leaky_slope_can_be_chosen() -> None:
    z = np.array([-4.0, -0.5, 0.5, 4.0])
    np.testing.assert_allclose(activate("leaky_relu", z, slope=0.2), reference("leaky_relu", z, 0.2))
    np.testing.assert_allclose(activation_grad("leaky_relu", z, slope=0.2), [0.2, 0.2, 1.0, 1.0])


def test_sigmoid_is_stable_far_out() -> None:
    z = np.array([-1000.0, -745.0, -40.0, 40.0, 745.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, not even inside
        s = activate("sigmoid", z)
        g = activation_grad("sigmoid", z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(g))
    assert s[0] == 0.0 or s[0] < 1e-300
    assert s[-1] == 1.0
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-12)
    np.testing.assert_allclose(s[3], 1 / (1 + np.exp(-40.0)), rtol=1e-15)
    assert g[0] == 0.0 and g[-1] == 0.0
    # Symmetry σ(−z) = 1 − σ(z) holds out there too.
    np.testing.assert_allclose(s[::-1], 1 - s, atol=1e-15)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        t = activate("tanh", z)
    np.testing.assert_array_equal(t[[0, -1]], [-1.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(z=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                    elements=st.floats(-50, 50, allow_nan=False)),
       name=st.sampled_from(ACTIVATIONS))
def test_activation_keeps_shape_and_leaves_input_alone(z: np.ndarray, name: str) -> None:
    before = z.copy()
    y = activate(name, z)
    g = activation_grad(name, z)
    np.testing.assert_array_equal(z, before)
    assert y.shape == g.shape == z.shape
    assert y is not z
    np.testing.assert_allclose(y, reference(name, z), rtol=1e-12, atol=1e-300)
    if name in ("relu", "sigmoid", "tanh"):
        assert np.all(g >= 0)  # non-decreasing functions


def test_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match="activation must be one of"):
        activate("softplus", np.zeros(2))
    with pytest.raises(ValueError, match="'softplus'"):
        activation_grad("softplus", np.zeros(2))


# --------------------------------------------------------------------------- the main window's model


def scene(**kw: object) -> Lesson:
    return Lesson(Params(**kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 5])
def test_relu_adds_one_forward_step(qapp, seed: int) -> None:
    plain = scene(seed=seed)
    m = scene(seed=seed, activation="relu")
    assert len(m.trace) == len(plain.trace)
    assert m.n_steps == len(m.trace) + 1 == plain.n_steps + 1
    x, w = np.array(m.x), np.array(m.w)
    z = engine.conv2d(x, w, stride=m.params.stride, padding=m.params.engine_padding())
    assert (z < 0).any() and (z > 0).any()  # the scenario has something for ReLU to do
    np.testing.assert_allclose(m.trace.output, z)
    # Every window step shows the convolution, before the activation.
    m.set_step(len(m.trace) - 1)
    f = m.frame()
    assert f.phase == "forward"
    np.testing.assert_allclose(f.output, z)
    m.set_step(m.n_steps - 1)
    f = m.frame()
    assert f.phase == "activation"
    assert f.step_index == len(m.trace)
    expected = np.maximum(0.0, z)
    np.testing.assert_allclose(f.output, expected)
    np.testing.assert_allclose(f.output_full, expected)
    np.testing.assert_array_equal(f.changed, z < 0)
    assert f.done == z.size
    np.testing.assert_allclose(m.run.y, expected)


def test_no_activation_step_for_none_or_pooling(qapp) -> None:
    m = scene(activation="none")
    assert m.n_steps == len(m.trace)
    m.set_step(m.n_steps - 1)
    assert m.frame().phase == "forward"
    np.testing.assert_allclose(m.frame().output, m.trace.output)
    pool = scene(op="max", activation="relu")
    assert not pool.params.has_activation
    assert pool.n_steps == len(pool.trace)


def test_leaky_relu_step_marks_negative_cells(qapp) -> None:
    m = scene(activation="leaky_relu")
    m.set_step(m.n_steps - 1)
    f = m.frame()
    z = engine.conv2d(np.array(m.x), np.array(m.w), padding=1)
    assert f.phase == "activation"
    np.testing.assert_allclose(f.output, np.where(z > 0, z, SLOPE * z))
    np.testing.assert_array_equal(f.changed, z < 0)


def float_scene(activation: str, **kw: object) -> tuple[Lesson, np.ndarray]:
    """A backward-mode scenario with float values and no convolution output near 0."""
    p = Params(in_c=2, out_c=2, in_h=5, in_w=6, integers=False, mode="backward", activation=activation,
               bias=True, **kw)  # type: ignore[arg-type]
    for seed in range(50):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, size=(2, 5, 6))
        w = rng.uniform(-1, 1, size=(2, 2, 3, 3))
        b = rng.uniform(-0.5, 0.5, size=2)
        z = engine.conv2d(x, w, b, stride=p.stride, padding=p.engine_padding())
        if np.abs(z).min() > 0.02 and (z < 0).any() and (z > 0).any():
            break
    m = Lesson(p)
    assert m.load(p, x=x, w=w, bias=b)
    return m, z


@pytest.mark.parametrize("upstream", ["ones", "random", "loss"])
def test_backward_gradients_go_through_relu(qapp, upstream: str) -> None:
    m, z = float_scene("relu", upstream=upstream)
    p = m.params
    r = m.run
    np.testing.assert_allclose(r.fwd.output, z, rtol=1e-12)
    y = np.maximum(z, 0.0)
    np.testing.assert_allclose(r.y, y)
    if upstream == "ones":
        np.testing.assert_array_equal(r.dy, np.ones_like(z))
    if upstream == "loss":
        np.testing.assert_allclose(r.dy, y - m.target)  # ½Σ(y − t)² differentiated by hand
    dz = r.dy * (z > 0)
    np.testing.assert_allclose(r.dz, dz)
    gx, gw, gb = engine.conv2d_backward(np.array(m.x), np.array(m.w), dz, stride=p.stride,
                                        padding=p.engine_padding())
    final = r.bwd.partial(len(r.bwd) - 1)
    np.testing.assert_allclose(final.grad_x, gx, atol=1e-12)
    np.testing.assert_allclose(final.grad_w, gw, atol=1e-12)
    np.testing.assert_allclose(final.grad_bias, gb, atol=1e-12)
    # The last backward frame shows the same, and dL/dZ as its upstream panel.
    assert m.n_steps == len(r.bwd)  # backward mode has no forward steps
    m.set_step(m.n_steps - 1)
    f = m.frame()
    assert f.phase == "backward"
    np.testing.assert_allclose(f.grads.grad_x, gx, atol=1e-12)
    np.testing.assert_allclose(f.dz, dz)  # what enters the convolution, drawn in the dL/dY panel
    np.testing.assert_allclose(f.dy, r.dy)  # the upstream dL/dY itself (the loss target is Y - dy)
    np.testing.assert_allclose(f.y_full, y)


def test_both_mode_has_the_activation_between_the_passes(qapp) -> None:
    m, z = float_scene("tanh")
    assert m.set_params(mode="both")
    n_fwd = len(m.trace)
    assert m.n_forward == n_fwd + 1
    assert m.n_steps == n_fwd + 1 + len(m.run.bwd)
    m.set_step(n_fwd)
    f = m.frame()
    assert f.phase == "activation"
    np.testing.assert_allclose(f.output, np.tanh(z))
    m.set_step(n_fwd + 1)
    assert m.frame().phase == "backward"
    np.testing.assert_allclose(m.run.dz, m.run.dy * (1 - np.tanh(z) ** 2))


def hand_loss(x: np.ndarray, w: np.ndarray, b: np.ndarray, t: np.ndarray, name: str, p: Params) -> float:
    z = engine.conv2d(x, w, b, stride=p.stride, padding=p.engine_padding())
    y = reference(name, z)
    return 0.5 * float(((y - t) ** 2).sum())


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_gradient_check_in_loss_mode_with_activation(qapp, name: str) -> None:
    m, _ = float_scene(name, upstream="loss")
    p = m.params
    assert p.upstream == "loss" and p.has_activation
    x, w, b, t = np.array(m.x), np.array(m.w), m.bias_values, m.target
    h = 1e-6
    for wrt, index in [("x", (0, 0, 0)), ("x", (1, 2, 3)), ("x", (0, 4, 5)), ("w", (0, 0, 1, 1)),
                       ("w", (1, 1, 0, 2)), ("w", (1, 0, 2, 0))]:
        analytic, numeric = m.check_gradient(wrt, index)
        assert abs(analytic - numeric) < 1e-6, (wrt, index, analytic, numeric)
        a = (x if wrt == "x" else w)
        plus, minus = a.copy(), a.copy()
        plus[index] += h
        minus[index] -= h
        if wrt == "x":
            mine = (hand_loss(plus, w, b, t, name, p) - hand_loss(minus, w, b, t, name, p)) / (2 * h)
        else:
            mine = (hand_loss(x, plus, b, t, name, p) - hand_loss(x, minus, b, t, name, p)) / (2 * h)
        assert abs(analytic - mine) < 1e-6, (wrt, index, analytic, mine)
    assert abs(m.run.loss - hand_loss(x, w, b, t, name, p)) < 1e-12


# --------------------------------------------------------------------------- through the window


def test_choosing_relu_in_the_window_adds_the_step(window) -> None:
    combo = window.findChild(QComboBox, "activation")
    assert combo is not None and combo.isEnabled()
    n = window.model.n_steps
    combo.setCurrentText("relu")
    assert window.model.params.activation == "relu"
    assert window.model.n_steps == n + 1
    assert window.playback.slider.maximum() == n
    window.playback.slider.setValue(n)
    assert window.model.step == n
    assert window.model.frame().phase == "activation"
    assert window.renderer.frame.phase == "activation"
