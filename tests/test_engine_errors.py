"""Bad arguments raise ValueError (TypeError for wrong types) with a message naming what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from engine import (
    conv2d,
    conv2d_backward,
    output_size,
    pool2d,
    pool2d_backward,
    trace_conv2d,
    trace_conv2d_backward,
    trace_pool2d,
    trace_pool2d_backward,
)

X = np.arange(25.0).reshape(5, 5)
X3 = np.arange(50.0).reshape(2, 5, 5)
W = np.ones((3, 3))
W4 = np.ones((4, 2, 3, 3))


def _with(a: np.ndarray, idx: tuple[int, ...], value: float) -> np.ndarray:
    b = a.copy()
    b[idx] = value
    return b


CONV_CASES = [
    # sizes, strides, dilations
    pytest.param({"stride": 0}, r"stride must be at least 1, got 0", id="stride-0"),
    pytest.param({"stride": -2}, r"stride must be at least 1, got -2", id="stride-neg"),
    pytest.param({"stride": (1, 0)}, r"stride must be at least 1, got 0 \(for the width\)", id="stride-w0"),
    pytest.param({"dilation": 0}, r"dilation must be at least 1, got 0", id="dilation-0"),
    pytest.param(
        {"dilation": (-1, 1)}, r"dilation must be at least 1, got -1 \(for the height\)", id="dil-neg"
    ),
    pytest.param(
        {"stride": (1, 2, 3)}, r"stride must be one number or a \(height, width\) pair", id="stride-3"
    ),
    # padding
    pytest.param({"padding": -1}, r"padding must be at least 0, got -1", id="pad-neg"),
    pytest.param(
        {"padding": (0, -3)}, r"padding must be at least 0, got -3 \(for the width\)", id="pad-pair-neg"
    ),
    pytest.param(
        {"padding": ((1, -1), (0, 0))}, r"padding cannot be negative, got \(1, -1\)", id="pad-sides-neg"
    ),
    pytest.param(
        {"padding": ((1, 1), (0, 0, 0))}, r"padding for the columns.*must be a pair", id="pad-sides-3"
    ),
    pytest.param({"padding": "full"}, r"padding must be .*'valid' or 'same', got 'full'", id="pad-word"),
    pytest.param(
        {"padding": "same", "stride": 2},
        r"padding 'same' needs stride 1, got stride \(2, 2\)",
        id="same-stride2",
    ),
    pytest.param({"padding": "same", "stride": (1, 2)}, r"'same' needs stride 1", id="same-stride12"),
    # padding modes
    pytest.param(
        {"padding_mode": "mirror"},
        r"padding_mode must be one of zeros, reflect, replicate, circular; got 'mirror'",
        id="mode",
    ),
    pytest.param(
        {"padding": 5, "padding_mode": "reflect"},
        r"reflect padding of 5 rows needs an input with more than 5 rows, got 5",
        id="reflect-eq",
    ),
    pytest.param(
        {"padding": ((0, 0), (0, 6)), "padding_mode": "reflect"},
        r"reflect padding of 6 columns",
        id="reflect-cols",
    ),
    pytest.param(
        {"padding": 6, "padding_mode": "circular"},
        r"circular padding of 6 rows would wrap around more than once.*only 5 rows",
        id="circular",
    ),
    # types
    pytest.param({"flip_kernel": "yes"}, r"flip_kernel must be True or False, got 'yes'", id="flip-type"),
]


@pytest.mark.parametrize(("kwargs", "match"), CONV_CASES)
def test_conv_bad_arguments(kwargs: dict, match: str) -> None:
    """conv2d, conv2d_backward and trace_conv2d all refuse the argument with the same message."""
    exc = TypeError if "flip_kernel" in kwargs else ValueError
    with pytest.raises(exc, match=match):
        conv2d(X, W, **kwargs)
    with pytest.raises(exc, match=match):
        conv2d_backward(X, W, np.ones((3, 3)), **kwargs)
    with pytest.raises(exc, match=match):
        trace_conv2d(X, W, **kwargs)
    with pytest.raises(exc, match=match):
        trace_conv2d_backward(X, W, np.ones((3, 3)), **kwargs)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (1.5, r"stride must be a whole number, got 1\.5"),
        (True, r"stride must be a whole number, got True"),
        ("2", r"stride must be a whole number, got '2'"),
        ((1, None), r"stride must be a whole number, got None"),
    ],
)
def test_stride_of_wrong_type(value: object, match: str) -> None:
    """A stride that is not a whole number is a TypeError naming it."""
    with pytest.raises(TypeError, match=match):
        conv2d(X, W, stride=value)
    with pytest.raises(TypeError, match=match):
        pool2d(X, 2, stride=value)


@pytest.mark.parametrize(
    ("x", "w", "exc", "match"),
    [
        pytest.param(
            X3,
            W4[:, :1],
            ValueError,
            r"kernel w expects 1 input channel\(s\) but input x has 2",
            id="channels",
        ),
        pytest.param(
            _with(X, (1, 2), np.nan),
            W,
            ValueError,
            r"input x must hold finite numbers, found nan at index \(1, 2\)",
            id="x-nan",
        ),
        pytest.param(
            X,
            _with(W, (0, 1), np.inf),
            ValueError,
            r"kernel w must hold finite numbers, found inf at index \(0, 1\)",
            id="w-inf",
        ),
        pytest.param(
            X,
            _with(W, (2, 2), -np.inf),
            ValueError,
            r"kernel w must hold finite numbers, found -inf",
            id="w-neginf",
        ),
        pytest.param(
            np.array([["a", "b"], ["c", "d"]]),
            W[:1, :1],
            TypeError,
            r"input x must hold numbers, got an array of <U1",
            id="x-strings",
        ),
        pytest.param(
            np.array([[1.0, None]], dtype=object),
            W[:1, :1],
            TypeError,
            r"input x must hold numbers, got an array of object",
            id="x-object",
        ),
        pytest.param(X, np.array([["1"]]), TypeError, r"kernel w must hold numbers", id="w-strings"),
        pytest.param(X + 1j, W, TypeError, r"input x must hold real numbers", id="x-complex"),
        pytest.param(
            np.zeros((0, 5)), W, ValueError, r"input x has an empty axis: shape \(0, 5\)", id="x-empty"
        ),
        pytest.param(
            X, np.zeros((3, 0)), ValueError, r"kernel w has an empty axis: shape \(3, 0\)", id="w-empty"
        ),
        pytest.param(
            np.zeros(5), W, ValueError, r"input x must be 2-D or 3-D, got 1-D with shape \(5,\)", id="x-1d"
        ),
        pytest.param(X, np.ones((1, 3, 3)), ValueError, r"kernel w must be 2-D or 4-D, got 3-D", id="w-3d"),
        pytest.param(
            X,
            np.ones((6, 3)),
            ValueError,
            r"dilated kernel \(6 rows: kernel 6, dilation 1\) is larger than the padded input "
            r"\(5 rows: input 5 \+ padding 0 \+ 0\)",
            id="kernel-too-big",
        ),
        pytest.param(
            X, np.ones((3, 7)), ValueError, r"dilated kernel \(7 columns.*\(5 columns", id="kernel-wide"
        ),
    ],
)
def test_conv_bad_arrays(x: np.ndarray, w: np.ndarray, exc: type, match: str) -> None:
    """Arrays of the wrong kind, shape or content are refused with a message naming them."""
    with pytest.raises(exc, match=match):
        conv2d(x, w)
    with pytest.raises(exc, match=match):
        trace_conv2d(x, w)


def test_kernel_larger_than_padded_input_mentions_both_sizes() -> None:
    """Dilation and padding enter the sizes the message quotes."""
    with pytest.raises(
        ValueError, match=r"\(7 rows: kernel 3, dilation 3\).*\(6 rows: input 5 \+ padding 1 \+ 0\)"
    ):
        conv2d(X, W, dilation=3, padding=((1, 0), (1, 1)))


def test_bias_and_grad_out_checked() -> None:
    """Bias and the upstream gradient are checked like x and w."""
    with pytest.raises(ValueError, match=r"bias must have one value per output channel \(4\), got 3"):
        conv2d(X3, W4, np.ones(3))
    with pytest.raises(ValueError, match=r"bias must hold finite numbers, found nan"):
        conv2d(X3, W4, np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(
        ValueError, match=r"grad_out must have the output's shape \(4, 3, 3\), got \(4, 3, 4\)"
    ):
        conv2d_backward(X3, W4, np.ones((4, 3, 4)))
    with pytest.raises(ValueError, match=r"grad_out must hold finite numbers"):
        conv2d_backward(X3, W4, _with(np.ones((4, 3, 3)), (0, 0, 0), np.inf))
    with pytest.raises(ValueError, match=r"grad_out must be 3-D"):
        conv2d_backward(X3, W4, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(2, 2\), got \(3, 3\)"):
        pool2d_backward(X, np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape"):
        trace_pool2d_backward(X, np.ones((3, 3)), 2)


POOL_CASES = [
    pytest.param({"kernel_size": 0}, ValueError, r"kernel_size must be at least 1, got 0", id="kernel-0"),
    pytest.param(
        {"kernel_size": (2, -1)}, ValueError, r"kernel_size must be at least 1, got -1", id="kernel-neg"
    ),
    pytest.param(
        {"kernel_size": 2.0}, TypeError, r"kernel_size must be a whole number, got 2\.0", id="kernel-f"
    ),
    pytest.param({"stride": 0}, ValueError, r"stride must be at least 1, got 0", id="stride-0"),
    pytest.param({"dilation": 0}, ValueError, r"dilation must be at least 1, got 0", id="dilation-0"),
    pytest.param({"padding": -1}, ValueError, r"padding must be at least 0, got -1", id="pad-neg"),
    pytest.param(
        {"kernel_size": 3, "padding": 2},
        ValueError,
        r"pooling padding of 2 rows is more than half the window \(3 rows\)",
        id="pad-half",
    ),
    pytest.param(
        {"kernel_size": (3, 2), "padding": ((0, 1), (0, 2))},
        ValueError,
        r"pooling padding of 2 columns is more than half the window \(2 columns\)",
        id="pad-half-cols",
    ),
    pytest.param(
        {"kernel_size": 2, "padding": "same"}, ValueError, r"padding 'same' is for convolution", id="pad-same"
    ),
    pytest.param({"op": "sum"}, ValueError, r"op must be one of max, min, avg; got 'sum'", id="op"),
    pytest.param({"op": None}, ValueError, r"op must be one of max, min, avg; got None", id="op-none"),
    pytest.param({"kernel_size": 6}, ValueError, r"larger than the padded input", id="kernel-too-big"),
    pytest.param({"ceil_mode": "yes"}, TypeError, r"ceil_mode must be True or False, got 'yes'", id="ceil"),
    pytest.param(
        {"count_include_pad": 1}, TypeError, r"count_include_pad must be True or False, got 1", id="cip"
    ),
]


@pytest.mark.parametrize(("kwargs", "exc", "match"), POOL_CASES)
def test_pool_bad_arguments(kwargs: dict, exc: type, match: str) -> None:
    """pool2d, pool2d_backward and the pooling traces refuse the argument with the same message."""
    args = {"kernel_size": 2, **kwargs}
    k = args.pop("kernel_size")
    with pytest.raises(exc, match=match):
        pool2d(X, k, **args)
    with pytest.raises(exc, match=match):
        pool2d_backward(X, np.ones((2, 2)), k, **args)
    with pytest.raises(exc, match=match):
        trace_pool2d(X, k, **args)
    with pytest.raises(exc, match=match):
        trace_pool2d_backward(X, np.ones((2, 2)), k, **args)


@pytest.mark.parametrize(
    ("x", "exc", "match"),
    [
        (
            _with(X, (4, 4), np.nan),
            ValueError,
            r"input x must hold finite numbers, found nan at index \(4, 4\)",
        ),
        (np.array([["1", "2"]]), TypeError, r"input x must hold numbers"),
        (np.zeros((5, 0)), ValueError, r"input x has an empty axis"),
    ],
)
def test_pool_bad_input(x: np.ndarray, exc: type, match: str) -> None:
    """Pooling checks its input like convolution does."""
    with pytest.raises(exc, match=match):
        pool2d(x, 1)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((0, 3), {}, ValueError, r"size must be at least 1, got 0"),
        ((5, 0), {}, ValueError, r"kernel must be at least 1, got 0"),
        ((5, 3, 0), {}, ValueError, r"stride must be at least 1, got 0"),
        ((5, 3), {"dilation": -1}, ValueError, r"dilation must be at least 1, got -1"),
        ((5, 3), {"padding": -1}, ValueError, r"padding cannot be negative, got \(-1, -1\)"),
        ((5, 3), {"padding": (0, -2)}, ValueError, r"padding cannot be negative, got \(0, -2\)"),
        ((5, 3), {"padding": (1, 2, 3)}, ValueError, r"padding must be a number or a \(before, after\) pair"),
        (
            (5, 7),
            {},
            ValueError,
            r"dilated kernel \(7: kernel 7, dilation 1\) is larger than the padded input "
            r"\(5: size 5 \+ padding 0 \+ 0\)",
        ),
        (
            (5, 3),
            {"dilation": 3},
            ValueError,
            r"\(7: kernel 3, dilation 3\) is larger than the padded input \(5: ",
        ),
        ((5.0, 3), {}, TypeError, r"size must be a whole number, got 5\.0"),
    ],
)
def test_output_size_bad_arguments(args: tuple, kwargs: dict, exc: type, match: str) -> None:
    """output_size checks its arguments and names the offending one."""
    with pytest.raises(exc, match=match):
        output_size(*args, **kwargs)


def test_output_size_dilated_kernel_exactly_fits() -> None:
    """A dilated kernel exactly as large as the padded input is fine (one window)."""
    assert output_size(5, 3, dilation=3, padding=1) == 1


def test_bad_granularity() -> None:
    """trace_conv2d only knows "window" and "tap"."""
    with pytest.raises(ValueError, match=r"granularity must be 'window' or 'tap', got 'pixel'"):
        trace_conv2d(X, W, granularity="pixel")  # type: ignore[arg-type]
