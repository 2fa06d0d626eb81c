"""Step traces of a transposed convolution, in its two classic pictures.

**Gather** (``trace_conv_transpose2d``, the conv_arithmetic picture): the input
is *spread* — ``s - 1`` zeros inserted between neighbouring cells — and padded
by ``d*(k - 1) - p`` on the top/left and ``d*(k - 1) - p + output_padding`` on
the bottom/right (a negative amount crops instead). A stride-1 cross-correlation
of that spread input with the kernel flipped in space (channel axes swapped
within each group) gives the output, one ``ConvStep`` per output cell exactly
as ``trace_conv2d``.
``SpreadInput`` says which cells of the spread input are real values,
inserted zeros or padding; every ``Window`` carries the same kinds.

**Scatter** (``trace_conv_transpose2d_scatter``, the definition): one step per
input cell, which stamps ``x[c, i, j] * w[c]`` onto the output at rows
``i*s - p + d*arange(kh)`` (and likewise columns); taps landing outside the
output (cropped by the padding) are dropped.

Both give ``conv_transpose2d``'s numbers. Steps are built on demand in
O(kernel size), like every trace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import transpose as _transpose
from .conv import ConvSetup, input_grad
from .geometry import CONSTANT, Geometry, IntPair, make_geometry
from .trace import INSERTED, PADDING, REAL, ConvTrace, Granularity, Window, _ro, _Trace, _Windows

__all__ = [
    "SpreadInput",
    "TransposeGatherTrace",
    "TransposeScatterStep",
    "TransposeScatterTrace",
    "spread_input",
    "trace_conv_transpose2d",
    "trace_conv_transpose2d_scatter",
]

#: ``source_rows``/``source_cols`` value of a zero inserted between input cells.
SOURCE_INSERTED = -3


@dataclass(frozen=True, eq=False)
class SpreadInput:
    """A transposed convolution's input, spread by the stride and padded for the gather picture.

    Attributes
    ----------
    values : ndarray, shape (C_in, Zh, Zw)
        ``Z = (n - 1)*s + 1 + 2*(d*(k - 1) - p) + output_padding`` on each axis:
        the input cells with ``s - 1`` zeros between neighbours, then padded by
        ``d*(k - 1) - p`` before and ``d*(k - 1) - p + output_padding`` after
        (a negative amount crops instead: ``p > d*(k - 1)``).
    kind : ndarray of int8, shape (Zh, Zw)
        0 a real input value, 3 a zero inserted by the stride, 1 padding.
        A cell in a padding row or column is padding; else a cell in an
        inserted row or column is inserted.
    source_rows, source_cols : ndarray of int, shapes (Zh,), (Zw,)
        The input row/column a spread row/column holds; -3 for an inserted
        row/column, -1 for padding.
    offset : tuple of int
        ``(d_h*(kh - 1) - p_h, d_w*(kw - 1) - p_w)``: the spread position of
        input cell ``(0, 0)`` (negative when cropped away).
    """

    values: np.ndarray
    kind: np.ndarray
    source_rows: np.ndarray
    source_cols: np.ndarray
    offset: tuple[int, int]

    @property
    def is_real(self) -> np.ndarray:
        """True where the spread input holds a real input value, shape (Zh, Zw)."""
        return self.kind == REAL

    @property
    def is_inserted(self) -> np.ndarray:
        """True where the stride inserted a zero, shape (Zh, Zw)."""
        return self.kind == INSERTED

    @property
    def is_padding(self) -> np.ndarray:
        """True on the padding (and ``output_padding``) around the spread cells, shape (Zh, Zw)."""
        return self.kind == PADDING


def _axis_spread(n: int, k: int, s: int, p: int, op: int, d: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Per spread position along one axis: its kind and source index; and the offset."""
    offset = d * (k - 1) - p
    length = (n - 1) * s + 1 + 2 * offset + op
    t = np.arange(length) - offset  # position on the spread (unpadded) axis
    inside = (t >= 0) & (t <= (n - 1) * s)
    real = inside & (t % s == 0)
    kind = np.where(real, REAL, np.where(inside, INSERTED, PADDING)).astype(np.int8)
    source = np.where(real, t // s, np.where(inside, SOURCE_INSERTED, CONSTANT))
    return kind, source, offset


def _combine(kr: np.ndarray, kc: np.ndarray) -> np.ndarray:
    """Kind of each (row, column) cell, int8: padding wins over inserted, inserted over real."""
    kind = np.full((kr.size, kc.size), REAL, dtype=np.int8)
    kind[(kr[:, None] == INSERTED) | (kc[None, :] == INSERTED)] = INSERTED
    kind[(kr[:, None] == PADDING) | (kc[None, :] == PADDING)] = PADDING
    return kind


def spread_input(s: _transpose.TransposeSetup) -> SpreadInput:
    """The spread, padded input of a prepared transposed convolution (the gather picture).

    Parameters
    ----------
    s : TransposeSetup
        From ``engine.transpose.prepare_conv_transpose``.

    Returns
    -------
    SpreadInput
    """
    kh, kw = s.w.shape[2:]
    axes = [
        _axis_spread(n, k, st, p, op, d)
        for n, k, st, p, op, d in zip(
            s.x.shape[1:], (kh, kw), s.stride, s.padding, s.output_padding, s.dilation, strict=True
        )
    ]
    (kr, sr, oh), (kc, sc, ow) = axes
    values = np.zeros((s.x.shape[0], kr.size, kc.size))
    rr, cc = np.flatnonzero(kr == REAL), np.flatnonzero(kc == REAL)
    values[:, rr[:, None], cc[None, :]] = s.x[:, sr[rr][:, None], sc[cc][None, :]]
    return SpreadInput(_ro(values), _ro(_combine(kr, kc)), _ro(sr), _ro(sc), (oh, ow))


class _SpreadWindows(_Windows):
    """Window lookups over a spread input: kinds and sources from ``SpreadInput``."""

    def __init__(self, geometry: Geometry, spread: SpreadInput) -> None:
        self.geometry = geometry
        self._src_r, self._src_c = spread.source_rows, spread.source_cols
        self._kind_r = np.where(self._src_r >= 0, REAL, np.where(self._src_r == CONSTANT, PADDING, INSERTED))
        self._kind_c = np.where(self._src_c >= 0, REAL, np.where(self._src_c == CONSTANT, PADDING, INSERTED))

    def __call__(self, oh: int, ow: int) -> Window:
        rows, cols = self.geometry.window(oh, ow)
        kind = _combine(self._kind_r[rows], self._kind_c[cols])
        return Window(_ro(rows), _ro(cols), _ro(kind), _ro(self._src_r[rows]), _ro(self._src_c[cols]))


def gather_kernel(s: _transpose.TransposeSetup) -> np.ndarray:
    """The gather picture's kernel, shape (C_out, C_in/groups, kh, kw).

    ``k[g*C_out/groups + o, c, p, q] = w[g*C_in/groups + c, o, kh - 1 - p, kw - 1 - q]``:
    flipped in space, channel axes swapped within each group.
    """
    G = s.groups
    c_in, per_group, kh, kw = s.w.shape
    k = s.w.reshape(G, c_in // G, per_group, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return np.ascontiguousarray(k.reshape(G * per_group, c_in // G, kh, kw))


class TransposeGatherTrace(ConvTrace):
    """A transposed convolution as a stride-1 convolution over its spread input, a ``ConvStep`` a cell.

    Everything ``ConvTrace`` offers holds, with ``x_padded`` the spread input
    and ``setup`` the equivalent ``ConvSetup`` (kernel ``gather_kernel``,
    stride 1, the transposed convolution's dilation and groups, no padding).
    Window kinds and sources mark inserted zeros (3, -3) and padding (1, -1).

    Attributes
    ----------
    transpose_setup : TransposeSetup
    spread : SpreadInput
    kernel : ndarray, shape (C_out, C_in/groups, kh, kw)
        The flipped, channel-swapped kernel each step's ``weights`` come from.
    """

    def __init__(self, setup: _transpose.TransposeSetup, granularity: Granularity = "window") -> None:
        spread = spread_input(setup)
        kernel = gather_kernel(setup)
        zh, zw = spread.values.shape[1:]
        geom = make_geometry(
            (zh, zw), (kernel.shape[2], kernel.shape[3]), (1, 1), ((0, 0), (0, 0)), setup.dilation
        )
        inner = ConvSetup(
            x=spread.values, w=kernel, bias=setup.bias, has_bias=setup.has_bias, geometry=geom,
            padding_mode="zeros", flip_kernel=False, x_2d=setup.x_2d, w_2d=setup.w_2d, groups=setup.groups,
        )
        super().__init__(inner, granularity, x_padded=spread.values)
        self.transpose_setup = setup
        self.spread = spread
        self.kernel = _ro(kernel)
        self._windows = _SpreadWindows(geom, spread)


def trace_conv_transpose2d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    granularity: Granularity = "window",
) -> TransposeGatherTrace:
    """Trace of ``conv_transpose2d`` in the gather picture; same arguments plus ``granularity``."""
    s = _transpose.prepare_conv_transpose(
        x, w, bias, stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, groups=groups,
    )
    return TransposeGatherTrace(s, granularity)


@dataclass(frozen=True, eq=False)
class TransposeScatterStep:
    """One input cell stamping its share onto a transposed convolution's output.

    Attributes
    ----------
    index : int
    in_channel, in_row, in_col : int
        The input cell.
    group : int
        Its channel group: the stamp lands on output channels ``out_channels``.
    value : float
        ``x[in_channel, in_row, in_col]``.
    weights : ndarray, shape (C_out/groups, kh, kw)
        ``w[in_channel]``.
    stamp : ndarray, shape (C_out/groups, kh, kw)
        ``value * weights``, added onto the output.
    rows : ndarray of int, shape (kh,)
        Output row of each kernel row: ``in_row*sh - ph + dh*arange(kh)``;
        may be negative or past the output (cropped by the padding).
    cols : ndarray of int, shape (kw,)
        Likewise for the columns.
    inside : ndarray of bool, shape (kh, kw)
        Taps that land on the output; the others are dropped.
    """

    index: int
    in_channel: int
    in_row: int
    in_col: int
    group: int
    value: float
    weights: np.ndarray
    stamp: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    inside: np.ndarray

    @property
    def out_channels(self) -> range:
        """The output channels the stamp adds onto: ``stamp[o]`` goes to ``out_channels[o]``."""
        n = self.weights.shape[0]
        return range(self.group * n, (self.group + 1) * n)


class TransposeScatterTrace(_Trace[TransposeScatterStep]):
    """A transposed convolution by its definition: one step per input cell, in channel-major raster order.

    Step ``(c * H + i) * W + j`` is input cell ``(c, i, j)``. The output
    starts as the bias (zeros without one) and every step adds its stamp.

    Attributes
    ----------
    setup : TransposeSetup
    x : ndarray, shape (C_in, H, W)
    out_shape : tuple of int
        ``(C_out, H_out, W_out)``.
    """

    def __init__(self, setup: _transpose.TransposeSetup) -> None:
        self.setup = setup
        self.x = _ro(setup.x)
        self.out_shape = setup.out_shape
        self._n = int(setup.x.size)
        self._output: np.ndarray | None = None

    @property
    def output(self) -> np.ndarray:
        """The full output ``(C_out, H_out, W_out)``, computed once, read-only."""
        if self._output is None:
            self._output = _ro(_transpose.forward(self.setup))
        return self._output

    def input_step(self, c: int, i: int, j: int) -> int:
        """Index of the step that stamps input cell ``(c, i, j)``."""
        return (c * self.x.shape[1] + i) * self.x.shape[2] + j

    def _step(self, k: int) -> TransposeScatterStep:
        s = self.setup
        c, i, j = self._unravel(k, (self.x.shape[0], self.x.shape[1], self.x.shape[2]))
        (sh, sw), (ph, pw), (dh, dw) = s.stride, s.padding, s.dilation
        kh, kw = s.w.shape[2:]
        rows = i * sh - ph + dh * np.arange(kh)
        cols = j * sw - pw + dw * np.arange(kw)
        ho, wo = s.out_hw
        inside = ((rows >= 0) & (rows < ho))[:, None] & ((cols >= 0) & (cols < wo))[None, :]
        value = float(self.x[c, i, j])
        weights = s.w[c]
        return TransposeScatterStep(
            k, c, i, j, s.group_of(c), value, _ro(weights), _ro(value * weights),
            _ro(rows), _ro(cols), _ro(inside),
        )

    def _prefix(self, i: int) -> np.ndarray:
        out = np.zeros(self.x.shape)
        out.reshape(-1)[: i + 1] = self.x.reshape(-1)[: i + 1]
        return out

    def partial(self, i: int) -> np.ndarray:
        """The output after steps ``0..i`` (``i = -1``: the bias alone), shape (C_out, H_out, W_out)."""
        i = self._check_upto(i)
        return _transpose.forward(self.setup, self._prefix(i))

    def hits(self, i: int) -> np.ndarray:
        """How many stamp taps have landed on each output cell after steps ``0..i``.

        Uneven counts over the output are transposed convolution's
        "checkerboard" pattern (a kernel size not divisible by the stride).

        Returns
        -------
        ndarray of int, shape (C_out, H_out, W_out)
        """
        i = self._check_upto(i)
        s = self.setup
        done = np.zeros(self.x.shape)
        done.reshape(-1)[: i + 1] = 1.0
        full = input_grad(np.ones(s.w.shape), done, s.grid, s.groups)
        return np.rint(_transpose.crop_full(full, s)).astype(int)


def trace_conv_transpose2d_scatter(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> TransposeScatterTrace:
    """Trace of ``conv_transpose2d`` in the scatter picture (one stamp per input cell); same arguments."""
    s = _transpose.prepare_conv_transpose(
        x, w, bias, stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, groups=groups,
    )
    return TransposeScatterTrace(s)
