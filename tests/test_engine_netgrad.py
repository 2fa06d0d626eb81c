"""Whole-network backpropagation: per sample against PyTorch, batched against per sample, training steps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine import conv2d, conv2d_backward, pool2d, pool2d_backward
from engine.batch import conv2d_batch, conv2d_batch_backward, pool2d_batch, pool2d_batch_backward
from engine.netgrad import (
    backward_batch,
    check_batchable,
    forward_batch,
    network_backward,
    softmax_cross_entropy,
)
from engine.network import Conv, Flatten, Network, Pool, lenet5, tiny_vgg, wavenet_stack
from engine.train import Adam


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ batched layers against per-sample ones


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_batched_conv_is_the_per_sample_conv(padding: int) -> None:
    rng = _rng(1)
    x, w, b = rng.normal(size=(3, 2, 7, 6)), rng.normal(size=(4, 2, 3, 2)), rng.normal(size=4)
    y = conv2d_batch(x, w, b, padding)
    dy = rng.normal(size=y.shape)
    gx, gw, gb = conv2d_batch_backward(x, w, dy, padding)
    sums = [np.zeros_like(w), np.zeros_like(b)]
    for n in range(3):
        np.testing.assert_allclose(y[n], conv2d(x[n], w, b, padding=padding), atol=1e-12)
        gxn, gwn, gbn = conv2d_backward(x[n], w, dy[n], padding=padding)
        np.testing.assert_allclose(gx[n], gxn, atol=1e-12)
        sums[0] += gwn
        sums[1] += gbn
    np.testing.assert_allclose(gw, sums[0], atol=1e-12)
    np.testing.assert_allclose(gb, sums[1], atol=1e-12)


@pytest.mark.parametrize(("op", "k", "shape"), [("max", 2, (6, 6)), ("avg", 2, (5, 7)), ("max", 3, (7, 6))])
def test_batched_pooling_is_the_per_sample_pooling(op: str, k: int, shape: tuple[int, int]) -> None:
    rng = _rng(2)
    x = rng.integers(0, 3, size=(2, 3, *shape)).astype(float)  # many ties: the first max wins
    y = pool2d_batch(x, k, op)
    dy = rng.normal(size=y.shape)
    gx = pool2d_batch_backward(x, dy, k, op)
    for n in range(2):
        np.testing.assert_allclose(y[n], pool2d(x[n], k, op=op))  # type: ignore[arg-type]
        np.testing.assert_allclose(gx[n], pool2d_backward(x[n], dy[n], k, op=op))  # type: ignore[arg-type]


@pytest.mark.parametrize("net", [lenet5(), tiny_vgg(12, 2)], ids=["lenet5", "tiny_vgg"])
def test_batched_network_gradients_are_the_sum_of_per_sample_ones(net: Network) -> None:
    rng = _rng(3)
    weights = net.init_weights(4)
    x = rng.normal(size=(3, *net.input_shape))
    outs = forward_batch(net, weights, x)
    dy = rng.normal(size=outs[-1].shape)
    grads, gx = backward_batch(net, weights, outs, dy)
    total = [None if p is None else [np.zeros_like(p[0]), np.zeros_like(p[1])] for p in weights]
    for n in range(3):
        single = net.forward(x[n], weights)
        for a, b in zip(outs, single, strict=True):
            np.testing.assert_allclose(a[n], b, atol=1e-10)
        g1, gx1 = network_backward(net, weights, single, dy[n])
        np.testing.assert_allclose(gx[n], gx1, atol=1e-10)
        for t, g in zip(total, g1, strict=True):
            if t is not None and g is not None:
                t[0] += g[0]
                t[1] += g[1]
    for t, g in zip(total, grads, strict=True):
        assert (t is None) == (g is None)
        if t is not None and g is not None:
            np.testing.assert_allclose(g[0], t[0], atol=1e-10)
            np.testing.assert_allclose(g[1], t[1], atol=1e-10)


def test_per_sample_backward_follows_causal_dilated_padding() -> None:
    net = wavenet_stack(16, 2)
    weights = net.init_weights(11)
    x = _rng(12).normal(size=net.input_shape)
    dy = _rng(13).normal(size=net.shapes()[-1])
    _, gx = network_backward(net, weights, net.forward(x, weights), dy)
    for idx in [(0, 0, 0), (0, 0, 7), (0, 0, 15)]:
        plus, minus = x.copy(), x.copy()
        plus[idx] += 1e-6
        minus[idx] -= 1e-6
        numeric = ((net.forward(plus, weights)[-1] - net.forward(minus, weights)[-1]) * dy).sum() / 2e-6
        assert gx[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    with pytest.raises(ValueError, match="layer 1 cannot be batched"):
        check_batchable(net)  # one-sided padding


def test_a_layer_the_batched_path_cannot_run_is_named() -> None:
    net = Network((1, 8, 8), (Conv(2, 3, stride=2), Flatten()))
    with pytest.raises(ValueError, match="layer 1 cannot be batched"):
        check_batchable(net)
    with pytest.raises(ValueError, match="layer 2 cannot be batched"):
        check_batchable(Network((1, 8, 8), (Conv(2, 3), Pool("max", 3, stride=1))))


# ------------------------------------------------------------------------------- against PyTorch


def test_lenet5_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = _rng(5)
    net = lenet5()
    weights = net.init_weights(6)
    weights = [None if p is None else (p[0], rng.normal(0, 0.1, size=p[1].shape)) for p in weights]
    x, labels = rng.normal(size=(4, 1, 32, 32)), np.array([3, 1, 4, 1])
    outs = forward_batch(net, weights, x)
    loss, dscores = softmax_cross_entropy(outs[-1], labels)
    grads, gx = backward_batch(net, weights, outs, dscores)

    t = {k: (torch.tensor(p[0], requires_grad=True), torch.tensor(p[1], requires_grad=True))
         for k, p in enumerate(weights) if p is not None}
    xt = torch.tensor(x, requires_grad=True)
    a = torch.tanh(F.conv2d(xt, *t[0]))
    a = F.avg_pool2d(a, 2)
    a = F.avg_pool2d(torch.tanh(F.conv2d(a, *t[3])), 2).flatten(1)
    a = torch.tanh(F.linear(a, *t[7]))
    a = torch.tanh(F.linear(a, *t[9]))
    scores = F.linear(a, *t[11])
    ref = F.cross_entropy(scores, torch.tensor(labels))
    ref.backward()
    np.testing.assert_allclose(outs[-1], scores.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-8, atol=1e-14)
    for k, (wt, bt) in t.items():
        np.testing.assert_allclose(grads[k][0], wt.grad.numpy(), rtol=1e-8, atol=1e-14)  # type: ignore[index]
        np.testing.assert_allclose(grads[k][1], bt.grad.numpy(), rtol=1e-8, atol=1e-14)  # type: ignore[index]


def test_cross_entropy_gradient_matches_finite_differences() -> None:
    rng = _rng(7)
    s, labels = rng.normal(size=(3, 5)), np.array([0, 4, 2])
    _, d = softmax_cross_entropy(s, labels)
    eps = 1e-6
    for idx in [(0, 0), (1, 3), (2, 2)]:
        p, m = s.copy(), s.copy()
        p[idx] += eps
        m[idx] -= eps
        num = (softmax_cross_entropy(p, labels)[0] - softmax_cross_entropy(m, labels)[0]) / (2 * eps)
        assert d[idx] == pytest.approx(num, abs=1e-8)


# ------------------------------------------------------------------------------- training steps


def test_a_few_training_steps_on_a_tiny_batch_lower_the_loss() -> None:
    rng = _rng(8)
    net = lenet5()
    weights = net.init_weights(9)
    x, labels = rng.uniform(0, 1, size=(8, 1, 32, 32)), np.arange(8) % 10
    opt = Adam(weights, lr=1e-3)
    losses = []
    for _ in range(10):
        outs = forward_batch(net, weights, x)
        loss, d = softmax_cross_entropy(outs[-1], labels)
        losses.append(loss)
        grads, _ = backward_batch(net, weights, outs, d, input_grad=False)
        opt.step(weights, grads)
    assert losses[-1] < 0.7 * losses[0]
    assert all(b < a for a, b in itertools.pairwise(losses))
