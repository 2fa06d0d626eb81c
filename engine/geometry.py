"""Argument checking and sliding-window geometry, shared by every operation.

Everything here works per spatial axis (rows, then columns) and is pure
Python/NumPy. The conventions are PyTorch's: dilation 1 means no gaps,
output sizes are floored unless ``ceil_mode``, and in ``ceil_mode`` the last
window must start inside the input or the leading padding.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np

from .cancel import checkpoint

__all__ = [
    "AxisGeometry",
    "Geometry",
    "IntPair",
    "Padding",
    "PaddingMode",
    "as_int",
    "as_pair",
    "check_output_padding",
    "conv_param_count",
    "normalize_padding",
    "output_size",
    "source_index",
    "transposed_output_size",
]

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
PADDING_MODES: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")

#: One whole number for both axes, or an ``(h, w)`` pair: kernel size, stride, dilation.
IntPair: TypeAlias = int | tuple[int, int]
#: Every accepted padding form: one number, ``(h, w)``, ``((top, bottom), (left, right))``,
#: ``"valid"`` (none) or ``"same"`` (output as large as the input; convolution only).
Padding: TypeAlias = (
    int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]] | Literal["valid", "same"]
)

#: ``numpy.pad`` mode that fills each non-constant padding mode.
_NUMPY_PAD_MODE: dict[PaddingMode, Literal["reflect", "edge", "wrap"]] = {
    "reflect": "reflect", "replicate": "edge", "circular": "wrap",
}

#: Marks a padded position that holds a constant (zero, or +-inf for pooling)
#: rather than a copy of a real input cell.
CONSTANT = -1
#: Marks a position past the explicit padding that only ``ceil_mode`` reaches.
OVERHANG = -2


def _as_int(value: object, name: str) -> int:
    """Return ``value`` as a Python int, or raise ``TypeError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    return int(value)


#: The public name of ``_as_int`` for the operation modules.
as_int = _as_int


def as_pair(value: object, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Normalise an int or an ``(h, w)`` pair to a pair of ints.

    Parameters
    ----------
    value : int or tuple of two ints
        The user's value.
    name : str
        The parameter's name, used in error messages.
    minimum : int
        The smallest allowed value on each axis.

    Returns
    -------
    tuple of int
        ``(h, w)``.
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one number or a (height, width) pair, got {value!r}")
        pair = (_as_int(value[0], name), _as_int(value[1], name))
    else:
        v = _as_int(value, name)
        pair = (v, v)
    for axis, v in zip(("height", "width"), pair, strict=True):
        if v < minimum:
            if minimum == 1:
                raise ValueError(f"{name} must be at least 1, got {v} (for the {axis})")
            raise ValueError(f"{name} must be at least {minimum}, got {v} (for the {axis})")
    return pair


def normalize_padding(
    padding: object,
    kernel: tuple[int, int],
    dilation: tuple[int, int],
    stride: tuple[int, int],
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Turn any accepted padding form into ``((top, bottom), (left, right))``.

    Parameters
    ----------
    padding : int, (h, w), ((top, bottom), (left, right)), "valid" or "same"
        ``"same"`` keeps the output the size of the input; it needs stride 1
        and, like PyTorch, puts the odd extra row/column on the bottom/right.
    kernel, dilation, stride : tuple of int
        ``(h, w)`` each; used by ``"same"``.

    Returns
    -------
    tuple
        ``((top, bottom), (left, right))``, all ``>= 0``.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(
                    f"padding 'same' needs stride 1, got stride {stride}: with a larger stride "
                    "no padding can keep the output the size of the input"
                )
            sides = []
            for k, d in zip(kernel, dilation, strict=True):
                total = d * (k - 1)
                sides.append((total // 2, total - total // 2))
            return (sides[0], sides[1])
        raise ValueError(
            f"padding must be a number, a pair, 'valid' or 'same', got {padding!r}"
        )
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
        isinstance(p, (tuple, list)) for p in padding
    ):
        sides = []
        for axis, p in zip(("rows (top, bottom)", "columns (left, right)"), padding, strict=True):
            if len(p) != 2:
                raise ValueError(f"padding for the {axis} must be a pair, got {p!r}")
            a, b = _as_int(p[0], "padding"), _as_int(p[1], "padding")
            if a < 0 or b < 0:
                raise ValueError(f"padding cannot be negative, got {p!r} for the {axis}")
            sides.append((a, b))
        return (sides[0], sides[1])
    ph, pw = as_pair(padding, "padding", minimum=0)
    return ((ph, ph), (pw, pw))


def output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Number of window positions along one axis (PyTorch's formula).

    ``floor((size + before + after - dilation*(kernel-1) - 1) / stride) + 1``,
    or with ``ceil`` in ``ceil_mode``, in which case the last window is dropped
    if it would start past the input and the leading padding.

    Parameters
    ----------
    size, kernel, stride, dilation : int
        One axis of the input, kernel, stride and dilation.
    padding : int or (before, after)
        Padding on this axis.
    ceil_mode : bool
        Round up instead of down (pooling).

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    ValueError
        If any size is not positive, padding is negative, or the dilated
        kernel is larger than the padded input.
    """
    size = _as_int(size, "size")
    kernel = _as_int(kernel, "kernel")
    stride = _as_int(stride, "stride")
    dilation = _as_int(dilation, "dilation")
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(f"padding must be a number or a (before, after) pair, got {padding!r}")
        before, after = _as_int(padding[0], "padding"), _as_int(padding[1], "padding")
    else:
        before = after = _as_int(padding, "padding")
    for name, v in (("size", size), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if v < 1:
            raise ValueError(f"{name} must be at least 1, got {v}")
    if before < 0 or after < 0:
        raise ValueError(f"padding cannot be negative, got ({before}, {after})")
    span = dilation * (kernel - 1) + 1
    padded = size + before + after
    if span > padded:
        raise ValueError(
            f"dilated kernel ({span}: kernel {kernel}, dilation {dilation}) is larger than "
            f"the padded input ({padded}: size {size} + padding {before} + {after})"
        )
    if ceil_mode:
        out = -((span - padded) // stride) + 1  # ceil division
        if (out - 1) * stride >= size + before:
            out -= 1
    else:
        out = (padded - span) // stride + 1
    return out


def check_output_padding(output_padding: int, stride: int, dilation: int, axis: str = "") -> None:
    """PyTorch's rule for a transposed convolution: ``output_padding < max(stride, dilation)``.

    Parameters
    ----------
    output_padding, stride, dilation : int
        One axis, already checked to be whole numbers (``output_padding >= 0``).
    axis : str
        ``"height"``, ``"width"`` or ``""``, for the message.

    Raises
    ------
    ValueError
        Saying that the extra rows would lie past every cell the kernel can reach.
    """
    if output_padding >= max(stride, dilation):
        where = f" (for the {axis})" if axis else ""
        raise ValueError(
            f"output_padding must be smaller than the stride or the dilation, got {output_padding}"
            f" with stride {stride} and dilation {dilation}{where}: it only picks one of the "
            "output sizes a stride can round to"
        )


def transposed_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution along one axis (PyTorch's formula).

    ``(size - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1``:
    the sibling of ``output_size``, whose windows this undoes.

    Parameters
    ----------
    size, kernel, stride, dilation : int
        One axis of the input, kernel, stride and dilation (all at least 1).
    padding : int
        Rows (columns) cropped from each side of the full output.
    output_padding : int
        Extra rows (columns) on the bottom (right); smaller than
        ``max(stride, dilation)``.

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    ValueError
        If a size is not positive, padding is negative, output_padding breaks
        PyTorch's rule or the output would be empty.
    """
    size = _as_int(size, "size")
    kernel = _as_int(kernel, "kernel")
    stride = _as_int(stride, "stride")
    dilation = _as_int(dilation, "dilation")
    padding = _as_int(padding, "padding")
    output_padding = _as_int(output_padding, "output_padding")
    for name, v in (("size", size), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if v < 1:
            raise ValueError(f"{name} must be at least 1, got {v}")
    for name, v in (("padding", padding), ("output_padding", output_padding)):
        if v < 0:
            raise ValueError(f"{name} cannot be negative, got {v}")
    check_output_padding(output_padding, stride, dilation)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"the transposed convolution's output would be empty ({out}): (size {size} - 1)*stride {stride}"
            f" - 2*padding {padding} + dilation {dilation}*(kernel {kernel} - 1) + output_padding "
            f"{output_padding} + 1; use less padding"
        )
    return out


def source_index(size: int, before: int, after: int, mode: PaddingMode = "zeros") -> np.ndarray:
    """Map each padded position on one axis to the input index it copies.

    Parameters
    ----------
    size : int
        Input length on this axis.
    before, after : int
        Padding on each side.
    mode : {"zeros", "reflect", "replicate", "circular"}
        How padding is filled.

    Returns
    -------
    ndarray of int, shape (before + size + after,)
        The real index each position copies, or ``CONSTANT`` (-1) for a
        position holding the padding constant (``zeros`` mode).
    """
    idx = np.arange(size)
    if mode == "zeros":
        return np.pad(idx, (before, after), mode="constant", constant_values=CONSTANT)
    return np.pad(idx, (before, after), mode=_NUMPY_PAD_MODE[mode])


@dataclass(frozen=True)
class AxisGeometry:
    """Where the windows fall along one axis.

    Coordinates are *padded*: position 0 is the first padding cell, position
    ``before`` the first real input cell. ``ceil_mode`` may make the last
    window hang past the trailing padding; those positions are "overhang".

    Attributes
    ----------
    size, kernel, stride, dilation : int
    before, after : int
        Explicit padding.
    out : int
        Number of windows.
    mode : {"zeros", "reflect", "replicate", "circular"}
        Padding mode.
    """

    size: int
    kernel: int
    stride: int
    dilation: int
    before: int
    after: int
    out: int
    mode: PaddingMode = "zeros"

    @property
    def span(self) -> int:
        """Extent of the dilated kernel, ``dilation*(kernel-1)+1``."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        """Length of the padded input, ``before + size + after``."""
        return self.before + self.size + self.after

    @property
    def extent(self) -> int:
        """Length the windows reach, overhang included (``>= padded`` only in ceil mode)."""
        return max(self.padded, (self.out - 1) * self.stride + self.span)

    def taps(self, o: int) -> np.ndarray:
        """Padded positions of the kernel taps of window ``o``, shape (kernel,)."""
        return o * self.stride + self.dilation * np.arange(self.kernel)

    def sources(self) -> np.ndarray:
        """Source index for every position up to ``extent``, shape (extent,).

        Real and reflected/replicated/wrapped cells give the input index they
        copy, constant padding gives ``CONSTANT`` and overhang ``OVERHANG``.
        """
        src = source_index(self.size, self.before, self.after, self.mode)
        extra = self.extent - self.padded
        if extra:
            src = np.concatenate([src, np.full(extra, OVERHANG, dtype=src.dtype)])
        return src

    def kinds(self) -> np.ndarray:
        """Per position up to ``extent``: 0 real, 1 padding, 2 overhang. Shape (extent,)."""
        k = np.ones(self.extent, dtype=np.int8)
        k[self.before : self.before + self.size] = 0
        k[self.padded :] = 2
        return k

    def unreached(self, *, through_copies: bool = True) -> np.ndarray:
        """Input indices (0-based, unpadded) that no window reads, shape (n,).

        These are the rows or columns dropped by the floor in the output-size
        formula (or skipped between dilated taps / large strides).

        Parameters
        ----------
        through_copies : bool
            Count a cell as read when a tap lands on a reflect, replicate or
            circular padding cell that copies it (its gradient is not zero
            then). False: only taps on the real cell itself count.
        """
        hit = np.zeros(self.extent, dtype=bool)
        starts = np.arange(self.out) * self.stride
        hit[(starts[:, None] + self.dilation * np.arange(self.kernel)[None, :]).ravel()] = True
        real = hit[self.before : self.before + self.size].copy()
        if through_copies and self.mode != "zeros":
            src = self.sources()
            copied = src[hit & (src >= 0)]
            real[copied] = True
        return np.flatnonzero(~real)

    def windows_at(self, p: int) -> list[tuple[int, int]]:
        """Windows whose taps land on padded position ``p``.

        Returns
        -------
        list of (o, k)
            Window index ``o`` and tap index ``k`` with
            ``o*stride + k*dilation == p``.
        """
        hits = []
        for k in range(self.kernel):
            start = p - k * self.dilation
            if start >= 0 and start % self.stride == 0 and start // self.stride < self.out:
                hits.append((start // self.stride, k))
        return hits


@dataclass(frozen=True)
class Geometry:
    """Window geometry of a 2-D operation: one ``AxisGeometry`` per axis."""

    rows: AxisGeometry
    cols: AxisGeometry

    @property
    def out_shape(self) -> tuple[int, int]:
        """``(H_out, W_out)``."""
        return (self.rows.out, self.cols.out)

    def window(self, oh: int, ow: int) -> tuple[np.ndarray, np.ndarray]:
        """Padded rows (kh,) and columns (kw,) of the taps of output cell ``(oh, ow)``."""
        return self.rows.taps(oh), self.cols.taps(ow)

    def add_to_taps(self, out: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Add every window's values onto the padded positions of its taps (col2im), in place.

        Parameters
        ----------
        out : ndarray, shape (..., extent_h, extent_w)
        values : ndarray, shape (..., kh, kw, H_out, W_out) or (..., H_out, W_out)
            One value per tap and window, or one per window for all its taps
            (then spread separably: down the kernel rows, then across the columns).

        Returns
        -------
        ndarray
            ``out``.
        """
        r, c = self.rows, self.cols
        h_end = r.stride * (r.out - 1) + 1
        w_end = c.stride * (c.out - 1) + 1
        if values.ndim == out.ndim + 2:
            for i in range(r.kernel):
                for j in range(c.kernel):
                    checkpoint()
                    ri, cj = i * r.dilation, j * c.dilation
                    rows, cols = slice(ri, ri + h_end, r.stride), slice(cj, cj + w_end, c.stride)
                    out[..., rows, cols] += values[..., i, j, :, :]
            return out
        down = np.zeros((*values.shape[:-2], r.extent, c.out), dtype=out.dtype)
        for i in range(r.kernel):
            checkpoint()
            ri = i * r.dilation
            down[..., ri : ri + h_end : r.stride, :] += values
        for j in range(c.kernel):
            cj = j * c.dilation
            out[..., cj : cj + w_end : c.stride] += down
        return out

    def feeds(self, row: int, col: int) -> list[tuple[int, int, int, int]]:
        """Output cells fed by *padded* input cell ``(row, col)``.

        Returns
        -------
        list of (oh, ow, i, j)
            Output cell and the kernel tap ``(i, j)`` that multiplies it.
        """
        return [
            (oh, ow, i, j)
            for oh, i in self.rows.windows_at(row)
            for ow, j in self.cols.windows_at(col)
        ]


def make_geometry(
    in_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[tuple[int, int], tuple[int, int]],
    dilation: tuple[int, int],
    *,
    ceil_mode: bool = False,
    mode: PaddingMode = "zeros",
) -> Geometry:
    """Build a checked ``Geometry`` (raises ``ValueError`` in plain words)."""
    axes = []
    for name, n, k, s, (a, b), d in zip(
        ("rows", "columns"), in_hw, kernel, stride, padding, dilation, strict=True
    ):
        span = d * (k - 1) + 1
        if span > n + a + b:
            raise ValueError(
                f"dilated kernel ({span} {name}: kernel {k}, dilation {d}) is larger than "
                f"the padded input ({n + a + b} {name}: input {n} + padding {a} + {b})"
            )
        out = output_size(n, k, s, (a, b), d, ceil_mode)
        axes.append(AxisGeometry(n, k, s, d, a, b, out, mode))
    return Geometry(axes[0], axes[1])


def conv_param_count(c_in: int, c_out: int, kh: int, kw: int, bias: bool = True) -> int:
    """Learnable parameters of a convolution: ``kh*kw*c_in*c_out`` weights (+ ``c_out`` biases)."""
    return kh * kw * c_in * c_out + (c_out if bias else 0)


def check_array(a: object, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """Return ``a`` as a float64 array with one of ``ndims`` dimensions, all finite.

    Raises
    ------
    TypeError
        If ``a`` is not numeric.
    ValueError
        If it has the wrong number of dimensions, a zero-length axis, or a
        NaN/inf value.
    """
    arr = np.asarray(a)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers, got an array of {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got complex values")
    if arr.ndim not in ndims:
        forms = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {forms}, got {arr.ndim}-D with shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} has an empty axis: shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} must hold finite numbers, found {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        )
    return arr


def check_padding_mode(mode: object, padding: tuple[tuple[int, int], tuple[int, int]],
                       in_hw: tuple[int, int]) -> PaddingMode:
    """Check ``padding_mode`` against the padding it must fill (PyTorch's limits).

    Returns
    -------
    {"zeros", "reflect", "replicate", "circular"}
        The mode as a plain ``str`` (a ``numpy.str_`` comes back as ``str``).
    """
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(PADDING_MODES)}; got {mode!r}")
    for name, n, (a, b) in zip(("rows", "columns"), in_hw, padding, strict=True):
        if mode == "reflect" and max(a, b) >= n:
            raise ValueError(
                f"reflect padding of {max(a, b)} {name} needs an input with more than "
                f"{max(a, b)} {name}, got {n}"
            )
        if mode == "circular" and max(a, b) > n:
            raise ValueError(
                f"circular padding of {max(a, b)} {name} would wrap around more than once: "
                f"the input has only {n} {name}"
            )
    return PADDING_MODES[PADDING_MODES.index(mode)]

