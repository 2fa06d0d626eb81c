"""The small-CNN description in ``engine.network``: shapes, parameter counts, checks, forward, fields.

Expected values are worked out in the tests: LeNet-5's sizes and parameter
counts by hand arithmetic, receptive fields by the jump formula and by brute
force (perturb one cell, see which output cells move), the forward pass by
plain loops and, when it is installed, by PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import network as nw
from engine.network import (
    Activation,
    Conv,
    Dense,
    Flatten,
    GlobalPool,
    LayerError,
    Network,
    Pool,
    lenet5,
    tiny_vgg,
)

# --------------------------------------------------------------------------- helpers


def map_shapes(net: Network) -> list[tuple[int, ...]]:
    """Input shape, then the output shape of every layer that is not an activation."""
    shapes = net.shapes()
    return [shapes[0]] + [shapes[k + 1] for k, layer in enumerate(net.layers)
                          if not isinstance(layer, Activation)]


def random_weights(net: Network, seed: int) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """``init_weights`` with non-zero biases, so that biases are exercised too."""
    rng = np.random.default_rng(seed)
    out: list[tuple[np.ndarray, np.ndarray] | None] = []
    for wb in net.init_weights(seed):
        out.append(None if wb is None else (wb[0], rng.normal(0.0, 0.5, size=wb[1].shape)))
    return out


def naive_dense(w: np.ndarray, x: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = np.zeros(w.shape[0])
    for u in range(w.shape[0]):
        total = b[u]
        for n in range(w.shape[1]):
            total += w[u, n] * x[n]
        y[u] = total
    return y


def axis_spec(layer: nw.Layer) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """``(kernel, stride, dilation, pad_before)`` per axis, written out from the layer's fields."""
    def pair(v: object) -> tuple[int, int]:
        return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))  # type: ignore[index]

    if isinstance(layer, Conv):
        k, s, d = pair(layer.kernel), pair(layer.stride), pair(layer.dilation)
        if layer.padding == "same":
            p = ((d[0] * (k[0] - 1)) // 2, (d[1] * (k[1] - 1)) // 2)
        elif layer.padding == "valid":
            p = (0, 0)
        else:
            p = pair(layer.padding)
        return (k[0], s[0], d[0], p[0]), (k[1], s[1], d[1], p[1])
    if isinstance(layer, Pool):
        k = pair(layer.kernel)
        s = k if layer.stride is None else pair(layer.stride)
        p = pair(layer.padding)
        return (k[0], s[0], 1, p[0]), (k[1], s[1], 1, p[1])
    return None


def unclipped_rf(net: Network, layer: int) -> tuple[int, int]:
    """``1 + Σ (k−1)·d·jump`` with ``jump`` the product of the earlier strides, per axis."""
    sizes = []
    for axis in (0, 1):
        rf, jump = 1, 1
        for lay in net.layers[: layer + 1]:
            spec = axis_spec(lay)
            if spec is None:
                continue
            k, s, d, _ = spec[axis]
            rf += (k - 1) * d * jump
            jump *= s
        sizes.append(rf)
    return sizes[0], sizes[1]


def field_interval(net: Network, layer: int, cell: tuple[int, int]) -> list[tuple[int, int]]:
    """First and last input row/column that ``cell`` of ``layer``'s output reads (dilation 1).

    Walks back one layer at a time; padding cells of any map hold no input,
    so the interval is cut at the map's edges at every stage.
    """
    shapes = net.shapes()
    out = []
    for axis in (0, 1):
        lo = hi = cell[axis]
        for k in range(layer, -1, -1):
            spec = axis_spec(net.layers[k])
            if spec is None:
                continue
            kk, s, d, p = spec[axis]
            lo, hi = lo * s - p, hi * s - p + (kk - 1) * d
            size = shapes[k][1 + axis]
            lo, hi = max(lo, 0), min(hi, size - 1)
        out.append((lo, hi))
    return out


def brute_force_field(net: Network, start: int, layer: int, cell: tuple[int, int], seed: int = 3
                      ) -> set[tuple[int, int]]:
    """Cells of stage ``start`` whose perturbation changes cell ``cell`` of layer ``layer``'s output.

    The layers from ``start`` to ``layer`` are run as a network of their own with
    random weights and biases; every channel of the perturbed cell is tried.
    """
    shapes = net.shapes()
    sub = Network(shapes[start], net.layers[start : layer + 1])  # type: ignore[arg-type]
    weights = random_weights(sub, seed)
    rng = np.random.default_rng(seed + 100)
    x = rng.normal(size=shapes[start])
    base = sub.forward(x, weights)[-1][:, cell[0], cell[1]]
    found = set()
    c_n, h, w = shapes[start]
    for i in range(h):
        for j in range(w):
            for c in range(c_n):
                xp = x.copy()
                xp[c, i, j] += 1.0
                after = sub.forward(xp, weights)[-1][:, cell[0], cell[1]]
                if np.abs(after - base).max() > 1e-9:
                    found.add((i, j))
                    break
    return found


def as_cells(rows: np.ndarray, cols: np.ndarray) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r in rows for c in cols}


# --------------------------------------------------------------------------- LeNet-5


def test_lenet5_shapes_are_the_classic_ones() -> None:
    net = lenet5()
    assert map_shapes(net) == [
        (1, 32, 32), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,), (120,), (84,), (10,),
    ]
    assert net.check() is None
    shapes = net.shapes()
    # An activation keeps the shape of what it follows.
    for k, layer in enumerate(net.layers):
        if isinstance(layer, Activation):
            assert shapes[k + 1] == shapes[k]


def test_lenet5_parameter_counts_by_hand() -> None:
    net = lenet5()
    c1 = 5 * 5 * 1 * 6 + 6
    c3 = 5 * 5 * 6 * 16 + 16
    f5 = 16 * 5 * 5 * 120 + 120
    f6 = 120 * 84 + 84
    out = 84 * 10 + 10
    assert (c1, c3, f5, f6, out) == (156, 2416, 48120, 10164, 850)
    counts = net.param_counts()
    assert len(counts) == len(net.layers)
    with_params = [(type(layer).__name__, n) for layer, n in zip(net.layers, counts, strict=True) if n]
    assert with_params == [("Conv", c1), ("Conv", c3), ("Dense", f5), ("Dense", f6), ("Dense", out)]
    assert all(n == 0 for layer, n in zip(net.layers, counts, strict=True)
               if isinstance(layer, (Activation, Pool, Flatten)))
    assert sum(counts) == c1 + c3 + f5 + f6 + out == 61_706


def test_lenet5_parameter_count_matches_its_weights() -> None:
    net = lenet5()
    weights = net.init_weights(0)
    sizes = [0 if wb is None else wb[0].size + wb[1].size for wb in weights]
    assert sizes == net.param_counts()


def test_lenet5_c3_receptive_field_is_14_by_14() -> None:
    net = lenet5()
    c3 = 3  # C3 is layer index 3; its output is stage 4
    assert isinstance(net.layers[c3], Conv)
    # 1 + (5−1)·1 (C1) + (2−1)·1 (S2) + (5−1)·2 (C3, after a stride-2 pooling)
    predicted = 1 + (5 - 1) * 1 + (2 - 1) * 1 + (5 - 1) * 2
    assert predicted == 14
    assert unclipped_rf(net, c3) == (predicted, predicted)
    for cell in [(4, 6), (0, 0), (9, 9), (0, 9)]:
        fields = net.receptive_field(c3, cell)
        assert len(fields) == c3 + 2  # the input and the output of layers 0..3
        rows, cols = fields[0]
        assert (len(rows), len(cols)) == (predicted, predicted)
        # Cell (i, j) starts at input row 2·i (the stride-2 pooling is the only stride).
        np.testing.assert_array_equal(rows, np.arange(2 * cell[0], 2 * cell[0] + predicted))
        np.testing.assert_array_equal(cols, np.arange(2 * cell[1], 2 * cell[1] + predicted))
        # LeNet pads nothing, so even corner cells of C3 fit inside the 32x32 input.
        assert rows.max() <= 31 and cols.max() <= 31
        # The last entry is the cell itself.
        np.testing.assert_array_equal(fields[-1][0], [cell[0]])
        np.testing.assert_array_equal(fields[-1][1], [cell[1]])
    # After C1 (stage 1) the field is 1 + 4·2 + 1 = 10 wide; after S2 it is 1 + 4 = 5 wide.
    fields = net.receptive_field(c3, (4, 6))
    assert [(len(r), len(c)) for r, c in fields] == [(14, 14), (10, 10), (10, 10), (5, 5), (1, 1)]


def test_border_cells_are_clipped_by_the_input_edge() -> None:
    net = tiny_vgg()  # padded 3x3 convolutions: border cells hang over the edge
    layer = 7  # the fourth convolution, after one 2x2 pooling
    assert isinstance(net.layers[layer], Conv)
    full = unclipped_rf(net, layer)
    assert full == (1 + 2 + 2 + 1 + 2 * 2 + 2 * 2,) * 2 == (14, 14)
    centre = net.receptive_field(layer, (8, 8))[0]
    assert (len(centre[0]), len(centre[1])) == full
    for cell in [(0, 0), (0, 15), (15, 3)]:
        rows, cols = net.receptive_field(layer, cell)[0]
        (r_lo, r_hi), (c_lo, c_hi) = field_interval(net, layer, cell)
        np.testing.assert_array_equal(rows, np.arange(r_lo, r_hi + 1))
        np.testing.assert_array_equal(cols, np.arange(c_lo, c_hi + 1))
        assert len(rows) < full[0] or len(cols) < full[1]
        assert rows.min() >= 0 and cols.min() >= 0 and rows.max() <= 31 and cols.max() <= 31
    corner_rows, corner_cols = net.receptive_field(layer, (0, 0))[0]
    assert corner_rows[0] == 0 and corner_cols[0] == 0
    # The same stack on a smaller grey picture, checked by perturbing every input cell.
    small = tiny_vgg(size=16, channels=1)
    for cell in [(0, 0), (7, 2)]:
        rows, cols = small.receptive_field(layer, cell)[0]
        assert len(rows) < full[0]
        assert brute_force_field(small, 0, layer, cell) == as_cells(rows, cols)


# --------------------------------------------------------------------------- tiny VGG


def test_tiny_vgg_shapes_and_counts() -> None:
    net = tiny_vgg()
    assert map_shapes(net) == [
        (3, 32, 32), (8, 32, 32), (8, 32, 32), (8, 16, 16), (16, 16, 16), (16, 16, 16), (16, 8, 8),
        (1024,), (10,),
    ]
    expected = [8 * 3 * 9 + 8, 8 * 8 * 9 + 8, 16 * 8 * 9 + 16, 16 * 16 * 9 + 16, 16 * 8 * 8 * 10 + 10]
    assert [n for n in net.param_counts() if n] == expected
    small = tiny_vgg(size=28, channels=1)
    assert map_shapes(small)[0] == (1, 28, 28)
    assert map_shapes(small)[-3:] == [(16, 7, 7), (784,), (10,)]
    assert small.param_counts()[0] == 8 * 1 * 9 + 8


# --------------------------------------------------------------------------- impossible stacks


@pytest.mark.parametrize(
    ("net", "index", "words"),
    [
        (Network((1, 3, 3), (Conv(2, 5),)), 0, ["5x5", "3×3"]),
        (Network((1, 8, 8), (Conv(4, 3), Activation("relu"), Pool("max", 2), Conv(2, 5))), 3, ["5x5", "3×3"]),
        (Network((2, 4, 4), (Flatten(), Pool("max", 2))), 1, ["vector of 32", "flatten"]),
        (Network((2, 4, 4), (Conv(3, 3), Dense(5))), 1, ["dense", "2×2", "flatten"]),
        (Network((2, 4, 4), (Dense(5),)), 0, ["2×4×4", "flatten"]),
        (Network((2, 4, 4), (GlobalPool("avg"), Conv(1, 1))), 1, ["vector of 2"]),
        (Network((2, 4, 4), (Flatten(), Flatten())), 1, ["vector of 32"]),
        (Network((1, 32, 32), (*lenet5().layers[:6], Conv(4, 9), *lenet5().layers[6:])), 6,
         ["9x9", "5×5"]),
    ],
    ids=["conv-too-big", "conv-after-pool", "pool-after-flatten", "dense-on-map", "dense-first",
         "conv-after-global", "flatten-twice", "lenet-conv9"],
)
def test_impossible_stack_is_flagged_at_its_layer(net: Network, index: int, words: list[str]) -> None:
    problem = net.check()
    assert isinstance(problem, LayerError)
    assert problem.index == index
    assert str(problem).startswith(f"layer {index + 1}: ")
    for word in words:
        assert word in problem.reason, (word, problem.reason)
    with pytest.raises(LayerError) as info:
        net.shapes()
    assert info.value.index == index
    # Everything before the bad layer still works.
    good = Network(net.input_shape, net.layers[:index])
    assert good.check() is None


@pytest.mark.parametrize(
    "layer",
    [Pool("max", 2, padding=2), Pool("avg", 3, stride=1, padding=(2, 0)), Pool("median", 2)],
    ids=["pad-more-than-half", "pad-rows-more-than-half", "unknown-op"],
)
def test_check_flags_every_pooling_that_forward_refuses(layer: Pool) -> None:
    net = Network((1, 8, 8), (Conv(2, 3), layer))
    try:
        net.forward(np.zeros((1, 8, 8)), net.init_weights(0))
    except ValueError as exc:
        refused: str | None = str(exc)
    else:
        refused = None
    assert refused is not None  # the engine's pooling refuses it ...
    problem = net.check()
    assert isinstance(problem, LayerError)  # ... so check() must say so, at that layer
    assert problem.index == 1


def test_forward_refuses_a_wrong_input_shape() -> None:
    net = lenet5()
    with pytest.raises(ValueError, match=r"\(1, 32, 32\)"):
        net.forward(np.zeros((1, 28, 28)), net.init_weights(0))


def test_receptive_field_of_a_vector_stage_is_refused() -> None:
    net = lenet5()
    with pytest.raises(ValueError, match="vector"):
        net.receptive_field(6, (0, 0))  # layer 6 is the flatten


# --------------------------------------------------------------------------- forward


def test_flatten_reads_in_c_order() -> None:
    c_n, h, w = 3, 4, 5
    rng = np.random.default_rng(1)
    x = rng.normal(size=(c_n, h, w))
    net = Network((c_n, h, w), (Flatten(),))
    v = net.forward(x, net.init_weights(0))[1]
    assert v.shape == (c_n * h * w,)
    for c in range(c_n):
        for i in range(h):
            for j in range(w):
                assert v[c * h * w + i * w + j] == x[c, i, j]


def test_dense_layers_are_w_at_x_plus_b() -> None:
    net = lenet5()
    weights = random_weights(net, 5)
    x = np.random.default_rng(5).uniform(size=(1, 32, 32))
    outs = net.forward(x, weights)
    for k, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            w, b = weights[k]  # type: ignore[misc]
            assert w.shape == (layer.units, outs[k].size)
            np.testing.assert_allclose(outs[k + 1], naive_dense(w, outs[k], b), rtol=1e-12, atol=1e-12)


def test_activation_and_global_pool_stages() -> None:
    net = Network((2, 5, 6), (Activation("relu"), GlobalPool("max"), Activation("sigmoid")))
    x = np.random.default_rng(2).normal(size=(2, 5, 6))
    outs = net.forward(x, net.init_weights(0))
    np.testing.assert_array_equal(outs[1], np.where(x > 0, x, 0.0))
    expected = np.array([max(0.0, max(x[c].ravel())) for c in range(2)])
    np.testing.assert_allclose(outs[2], expected)
    np.testing.assert_allclose(outs[3], 1 / (1 + np.exp(-expected)))
    avg = Network((2, 5, 6), (GlobalPool("avg"),)).forward(x, [None])[1]
    np.testing.assert_allclose(avg, [x[c].sum() / 30 for c in range(2)])


TORCH_NETS = {
    "lenet5": lenet5,
    "tiny_vgg": tiny_vgg,
    "strided": lambda: Network((2, 13, 11), (
        Conv(3, 3, stride=2, padding=1), Activation("leaky_relu"),
        Conv(4, 3, dilation=(2, 1), padding="same"),
        Activation("sigmoid"), Pool("min", 2, stride=1), Pool("max", 3, stride=2, padding=1),
        Conv(2, 1), GlobalPool("max"), Dense(3),
    )),
    "global_avg": lambda: Network((3, 9, 9), (
        Conv(5, 3, padding=(0, 1)), Activation("tanh"), Pool("avg", 2), GlobalPool("avg"), Dense(4),
        Activation("relu"), Dense(2),
    )),
}


@pytest.mark.parametrize("name", list(TORCH_NETS))
def test_forward_matches_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    net = TORCH_NETS[name]()
    weights = random_weights(net, 11)
    x = np.random.default_rng(11).uniform(-1, 1, size=net.input_shape)
    outs = net.forward(x, weights)
    a = torch.tensor(x[None], dtype=torch.float64)
    for k, layer in enumerate(net.layers):
        if isinstance(layer, Conv):
            w, b = weights[k]  # type: ignore[misc]
            a = F.conv2d(a, torch.tensor(w), torch.tensor(b), stride=layer.stride, padding=layer.padding,
                         dilation=layer.dilation)
        elif isinstance(layer, Activation):
            a = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                 "leaky_relu": lambda t: F.leaky_relu(t, 0.01)}[layer.name](a)
        elif isinstance(layer, Pool):
            kwargs = {"kernel_size": layer.kernel, "stride": layer.stride, "padding": layer.padding}
            if layer.op == "max":
                a = F.max_pool2d(a, **kwargs)
            elif layer.op == "min":
                a = -F.max_pool2d(-a, **kwargs)
            else:
                a = F.avg_pool2d(a, **kwargs)
        elif isinstance(layer, GlobalPool):
            a = a.amax(dim=(2, 3)) if layer.op == "max" else a.mean(dim=(2, 3))
        elif isinstance(layer, Flatten):
            a = torch.flatten(a, 1)
        else:
            w, b = weights[k]  # type: ignore[misc]
            a = F.linear(a, torch.tensor(w), torch.tensor(b))
        got = outs[k + 1]
        assert got.shape == tuple(a.shape[1:]), (k, layer)
        np.testing.assert_allclose(got, a[0].numpy(), rtol=1e-10, atol=1e-12, err_msg=f"layer {k}")


# --------------------------------------------------------------------------- receptive fields


FIELD_NETS = {
    "stride-pad": Network((1, 12, 13), (
        Conv(2, 3, stride=2, padding=1), Activation("leaky_relu"), Pool("avg", 2, stride=1),
        Conv(2, 3, dilation=2, padding=(2, 1)), Activation("tanh"),
    )),
    "dilated": Network((2, 11, 10), (Conv(2, 3, dilation=2), Conv(1, (2, 3), dilation=(1, 3), padding=1))),
    "pool-pad": Network((1, 10, 10), (
        Conv(2, 3, padding="same"), Pool("avg", 3, stride=2, padding=1), Conv(1, 2, stride=(1, 2)),
    )),
}


@pytest.mark.parametrize("name", list(FIELD_NETS))
def test_receptive_fields_match_brute_force_at_every_stage(name: str) -> None:
    net = FIELD_NETS[name]
    shapes = net.shapes()
    last = len(net.layers) - 1
    _, h, w = shapes[-1]
    for cell in {(0, 0), (h - 1, w - 1), (h // 2, w // 2), (0, w - 1)}:
        fields = net.receptive_field(last, cell)
        assert len(fields) == len(net.layers) + 1
        for stage in range(len(net.layers)):
            rows, cols = fields[stage]
            assert brute_force_field(net, stage, last, cell) == as_cells(rows, cols), (stage, cell)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.tuples(st.integers(5, 11), st.integers(5, 11)),
    k=st.integers(1, 3), s=st.integers(1, 2), d=st.integers(1, 2), p=st.integers(0, 2),
    pool_k=st.integers(1, 2), k2=st.integers(1, 3), d2=st.integers(1, 2), p2=st.integers(0, 1),
    data=st.data(),
)
def test_receptive_field_of_random_stacks_matches_brute_force(
    size: tuple[int, int], k: int, s: int, d: int, p: int, pool_k: int, k2: int, d2: int, p2: int,
    data: st.DataObject,
) -> None:
    net = Network((1, *size), (Conv(1, k, stride=s, padding=p, dilation=d), Pool("avg", pool_k, stride=1),
                               Conv(1, k2, dilation=d2, padding=p2)))
    if net.check() is not None:
        return  # an impossible stack has no fields; check() is tested elsewhere
    _, h, w = net.shapes()[-1]
    cell = (data.draw(st.integers(0, h - 1), label="row"), data.draw(st.integers(0, w - 1), label="col"))
    rows, cols = net.receptive_field(2, cell)[0]
    assert brute_force_field(net, 0, 2, cell) == as_cells(rows, cols)


def test_receptive_field_is_the_same_for_max_and_avg_pooling() -> None:
    # Brute force needs a smooth network (a max hides small changes); the geometry is what counts.
    for op in ("max", "min"):
        a = Network((1, 12, 12), (Conv(1, 3), Pool(op, 2), Conv(1, 3, padding=1)))
        b = Network((1, 12, 12), (Conv(1, 3), Pool("avg", 2), Conv(1, 3, padding=1)))
        for cell in [(0, 0), (2, 3), (4, 4)]:
            fa, fb = a.receptive_field(2, cell), b.receptive_field(2, cell)
            for (ra, ca), (rb, cb) in zip(fa, fb, strict=True):
                np.testing.assert_array_equal(ra, rb)
                np.testing.assert_array_equal(ca, cb)


def test_hand_set_filters_replace_the_random_weights() -> None:
    """A Sobel-x layer's kernels are Sobel x (averaged over input channels) and find a vertical edge."""
    net = nw.Network((2, 6, 6), (nw.Conv(3, 3, padding=1, filters="sobel x"),))
    (w, b), = net.init_weights(seed=7)
    sobel = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(w, np.broadcast_to(sobel / 2, (3, 2, 3, 3)))
    np.testing.assert_array_equal(b, 0.0)
    x = np.zeros((2, 6, 6))
    x[:, :, 3:] = 1.0
    y = net.forward(x, [(w, b)])[1]
    # Independent check: the response at column 2 (left of the edge) is the kernel's right column sum.
    assert y[0, 2, 2] == pytest.approx(4.0)
    assert np.all(y[:, 1:5, 0] == 0.0)


def test_a_hand_set_filter_of_the_wrong_size_is_flagged() -> None:
    net = nw.Network((1, 8, 8), (nw.Conv(2, 5, filters="sobel x"),))
    problem = net.check()
    assert problem is not None and problem.index == 0 and "3x3" in str(problem)
