"""The worked examples from the course notes, as tests.

* A 512x512x3 image convolved with N kernels of 5x5x3, no padding, stride 1,
  gives a 508x508xN output: ``(W - F + 2P) / S + 1 = (512 - 5 + 0) / 1 + 1``.
* A convolution layer with N kernels of F x F x D1 has ``(F*F*D1)*N + N``
  learnable parameters (weights plus one bias per kernel).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import conv2d, conv_param_count, output_size


def course_formula(w: int, f: int, p: int, s: int) -> int:
    """The notes' output width ``(W - F + 2P) / S + 1`` (for sizes where it divides)."""
    assert (w - f + 2 * p) % s == 0
    return (w - f + 2 * p) // s + 1


@pytest.mark.parametrize("n_kernels", [1, 6, 10, 64])
def test_512x512x3_with_5x5x3_kernels_gives_508x508xN(n_kernels: int) -> None:
    """output_size gives 508 on both axes, so the output volume is 508x508xN."""
    h = output_size(512, 5, stride=1, padding=0)
    w = output_size(512, 5, stride=1, padding=0)
    assert (h, w) == (508, 508) == (course_formula(512, 5, 0, 1),) * 2
    assert (h, w, n_kernels) == (508, 508, n_kernels)


def test_512x512x3_conv2d_output_shape_and_values() -> None:
    """conv2d with two 5x5x3 kernels on a 512x512x3 image: shape (2, 508, 508), spot-checked values."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 512, 512))
    w = rng.standard_normal((2, 3, 5, 5))
    b = np.array([0.5, -1.0])
    y = conv2d(x, w, b)
    assert y.shape == (2, 508, 508)
    for o, i, j in [(0, 0, 0), (1, 507, 507), (0, 250, 3), (1, 17, 402)]:
        expected = b[o] + sum(
            w[o, c, p, q] * x[c, i + p, j + q] for c in range(3) for p in range(5) for q in range(5)
        )
        assert y[o, i, j] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("w", "f", "p", "s", "expected"),
    [
        (7, 3, 0, 1, 5),
        (7, 3, 0, 2, 3),
        (32, 5, 2, 1, 32),
        (227, 11, 0, 4, 55),
        (512, 5, 0, 1, 508),
    ],
)
def test_output_size_course_examples(w: int, f: int, p: int, s: int, expected: int) -> None:
    """Classic worked examples of ``(W - F + 2P) / S + 1``."""
    assert course_formula(w, f, p, s) == expected
    assert output_size(w, f, stride=s, padding=p) == expected


@pytest.mark.parametrize(
    ("c_in", "c_out", "f", "expected"),
    [
        (3, 6, 5, 456),  # (5*5*3)*6 + 6
        (3, 10, 5, 760),  # (5*5*3)*10 + 10
        (1, 1, 3, 10),
        (64, 128, 3, 73856),
    ],
)
def test_conv_param_count(c_in: int, c_out: int, f: int, expected: int) -> None:
    """Parameters of a layer: ``(F*F*D1)*D2`` weights plus ``D2`` biases."""
    assert conv_param_count(c_in, c_out, f, f) == expected == (f * f * c_in) * c_out + c_out
    assert conv_param_count(c_in, c_out, f, f, bias=False) == (f * f * c_in) * c_out


def test_conv_param_count_rectangular() -> None:
    """Rectangular kernels count ``kh*kw`` taps."""
    assert conv_param_count(2, 4, 3, 5) == (3 * 5 * 2) * 4 + 4
