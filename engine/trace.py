"""Step traces: lazy sequences that describe every animation step of an operation.

A trace keeps only the checked problem (padded input, kernel, geometry) and
builds a step on demand in O(kernel size), so a 512x512 trace costs no more
memory than its input and output. Steps are frozen dataclasses holding
read-only arrays; everything a frame shows is in them.

Steps run over output cells in channel-major raster order: step
``(o * H_out + i) * W_out + j`` is output cell ``(o, i, j)``. At ``"tap"``
granularity a convolution step is a single multiply-add, in the order
``(c, p, q)`` (input channel, kernel row, kernel column) within each window.
With ``groups > 1`` a step's ``group`` says which input channels it reads
(``step.in_channels``) and ``c`` counts within that group.

Coordinates of window cells are *padded* coordinates: padded row ``r`` is
input row ``r - top``. ``Window.kind`` says whether each cell is real input
(0), padding (1), ceil-mode overhang (2) or, in a transposed convolution's
spread input, a zero inserted between input cells by the stride (3); and
``Window.source_rows`` / ``source_cols`` which input row/column a cell copies
(-1 for a constant, -2 for overhang, -3 for an inserted zero).
"""

from __future__ import annotations

import mmap
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike

from . import conv as _conv
from . import pool as _pool
from .cancel import checkpoint
from .geometry import Geometry, IntPair, Padding, PaddingMode
from .padding import check_grad_out, crop, fold

__all__ = [
    "ConvBackwardStep",
    "ConvBackwardTrace",
    "ConvStep",
    "ConvTrace",
    "Gradients",
    "PoolBackwardStep",
    "PoolBackwardTrace",
    "PoolStep",
    "PoolTrace",
    "Window",
    "trace_conv2d",
    "trace_conv2d_backward",
    "trace_pool2d",
    "trace_pool2d_backward",
]

REAL, PADDING, OVERHANG, INSERTED = 0, 1, 2, 3
Granularity = Literal["window", "tap"]


def _ro(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``: the array itself (perhaps the caller's) stays writeable."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


@dataclass(frozen=True, eq=False)
class Window:
    """The cells one window covers.

    Attributes
    ----------
    rows : ndarray of int, shape (kh,)
        Padded row of each kernel row's taps.
    cols : ndarray of int, shape (kw,)
        Padded column of each kernel column's taps.
    kind : ndarray of int8, shape (kh, kw)
        0 real input, 1 padding, 2 ceil-mode overhang, 3 a zero inserted by a
        transposed convolution's stride (see ``engine.trace_transpose``).
    source_rows, source_cols : ndarray of int, shapes (kh,), (kw,)
        Input row/column each tap reads (the copied cell for reflect,
        replicate and circular padding); -1 for constant padding, -2 overhang,
        -3 an inserted zero.
    """

    rows: np.ndarray
    cols: np.ndarray
    kind: np.ndarray
    source_rows: np.ndarray
    source_cols: np.ndarray

    @property
    def is_padding(self) -> np.ndarray:
        """True where a tap is not real input (padding, overhang or an inserted zero), shape (kh, kw)."""
        return self.kind != REAL

    @property
    def is_inserted(self) -> np.ndarray:
        """True where a tap reads a zero inserted by a transposed convolution's stride, shape (kh, kw)."""
        return self.kind == INSERTED


class _Windows:
    """Window lookups for one geometry, with per-axis tables built once."""

    def __init__(self, geometry: Geometry) -> None:
        self.geometry = geometry
        r, c = geometry.rows, geometry.cols
        self._kind_r, self._kind_c = r.kinds(), c.kinds()
        self._src_r, self._src_c = r.sources(), c.sources()

    def __call__(self, oh: int, ow: int) -> Window:
        rows, cols = self.geometry.window(oh, ow)
        kr, kc = self._kind_r[rows], self._kind_c[cols]
        kind = np.maximum(kr[:, None], kc[None, :]).astype(np.int8)
        return Window(_ro(rows), _ro(cols), _ro(kind), _ro(self._src_r[rows]), _ro(self._src_c[cols]))


S = TypeVar("S")
#: A backward trace's running ``(grad_x_padded, grad_w, grad_bias)``.
_Totals = tuple[np.ndarray, np.ndarray, np.ndarray]


class _Trace(Sequence[S]):
    """A lazy, indexable sequence of steps."""

    _n: int

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> S: ...
    @overload
    def __getitem__(self, i: slice) -> list[S]: ...

    def __getitem__(self, i: int | slice) -> S | list[S]:
        if isinstance(i, slice):
            return [self._step(k) for k in range(*i.indices(self._n))]
        k = int(i)
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError(f"step {i} is out of range: the trace has {self._n} steps")
        return self._step(k)

    def _step(self, k: int) -> S:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_upto(self, i: int) -> int:
        i = int(i)
        if not -1 <= i < self._n:
            raise IndexError(f"step {i} is out of range: the trace has {self._n} steps (-1 = none done)")
        return i

    @staticmethod
    def _unravel(k: int, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        o, rem = divmod(k, shape[1] * shape[2])
        i, j = divmod(rem, shape[2])
        return o, i, j


# --------------------------------------------------------------------------- forward conv


@dataclass(frozen=True, eq=False)
class ConvStep:
    """One step of a convolution's forward pass.

    Attributes
    ----------
    index : int
    out_channel, out_row, out_col : int
        The output cell being written.
    window : Window
    inputs : ndarray, shape (C_in, kh, kw)
        Padded input values under the window (padding in the mode's values).
    weights : ndarray, shape (C_in, kh, kw)
        The kernel ``w[out_channel]`` as applied (flipped if ``flip_kernel``).
    products : ndarray, shape (C_in, kh, kw)
        ``inputs * weights``.
    bias : float
    total : float
        ``products.sum() + bias``: the output cell's final value.
    tap : tuple of int or None
        ``(c, p, q)`` of the single multiply-add at "tap" granularity, else None
        (``c`` within the group: input channel ``in_channels[c]``).
    partial_sum : float
        Sum of the products up to and including ``tap`` (all of them at
        "window" granularity), without the bias.
    complete : bool
        True when this step finishes the cell (always at "window" granularity).
    group : int
        The channel group of ``out_channel`` (0 unless ``groups > 1``):
        ``inputs`` and ``weights`` cover input channels ``in_channels`` only,
        ``C_in/groups`` of them.
    """

    index: int
    out_channel: int
    out_row: int
    out_col: int
    window: Window
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    bias: float
    total: float
    tap: tuple[int, int, int] | None
    partial_sum: float
    complete: bool
    group: int = 0

    @property
    def value(self) -> float:
        """What the output cell shows after this step: ``total`` when complete, else ``partial_sum``."""
        return self.total if self.complete else self.partial_sum

    @property
    def in_channels(self) -> range:
        """The input channels this step reads: ``inputs[c]`` is input channel ``in_channels[c]``."""
        n = self.weights.shape[0]
        return range(self.group * n, (self.group + 1) * n)


class ConvTrace(_Trace[ConvStep]):
    """Forward convolution, one step per output cell (or per multiply-add).

    Attributes
    ----------
    setup : ConvSetup
    geometry : Geometry
    granularity : {"window", "tap"}
    x_padded : ndarray, shape (C_in, Hp, Wp)
        The padded input as drawn.
    out_shape : tuple of int
        ``(C_out, H_out, W_out)``.
    """

    def __init__(self, setup: _conv.ConvSetup, granularity: Granularity = "window",
                 x_padded: np.ndarray | None = None) -> None:
        if granularity not in ("window", "tap"):
            raise ValueError(f"granularity must be 'window' or 'tap', got {granularity!r}")
        self.setup = setup
        self.geometry = setup.geometry
        self.granularity = granularity
        # A caller that already holds the padded input (read-only) passes it: no second copy.
        self.x_padded = _ro(setup.padded_input()) if x_padded is None else x_padded
        self.out_shape = (setup.w.shape[0], *setup.geometry.out_shape)
        self.taps_per_window = int(np.prod(setup.w.shape[1:]))
        cells = int(np.prod(self.out_shape))
        self._n = cells * (self.taps_per_window if granularity == "tap" else 1)
        self._windows = _Windows(setup.geometry)
        self._output: np.ndarray | None = None
        self._adopted: tuple[int, np.ndarray] | None = None  # a partial worked out elsewhere (``adopt``)

    @property
    def output(self) -> np.ndarray:
        """The full output ``(C_out, H_out, W_out)``, computed once, read-only."""
        if self._output is None:
            self._output = _ro(_conv.forward(self.setup))
        return self._output

    def cell_step(self, o: int, i: int, j: int) -> int:
        """Index of the (last) step that writes output cell ``(o, i, j)``."""
        cell = (o * self.out_shape[1] + i) * self.out_shape[2] + j
        if self.granularity == "tap":
            return (cell + 1) * self.taps_per_window - 1
        return cell

    def _step(self, k: int) -> ConvStep:
        cell, t = divmod(k, self.taps_per_window) if self.granularity == "tap" else (k, None)
        o, i, j = self._unravel(cell, self.out_shape)
        win = self._windows(i, j)
        group = self.setup.group_of(o)
        inputs = self.x_padded[self.setup.group_inputs(group), win.rows[:, None], win.cols[None, :]]
        weights = self.setup.w[o]
        products = inputs * weights
        bias = float(self.setup.bias[o])
        total = float(products.sum()) + bias
        tap: tuple[int, int, int] | None = None
        if t is None:
            partial, complete = float(products.sum()), True
        else:
            c, p, q = np.unravel_index(t, weights.shape)
            tap = (int(c), int(p), int(q))
            partial = float(products.ravel()[: t + 1].sum())
            complete = t == self.taps_per_window - 1
        return ConvStep(
            k, o, i, j, win, _ro(inputs), _ro(weights), _ro(products), bias, total,
            tap, partial, complete, group,
        )

    def partial(self, i: int) -> np.ndarray:
        """The output after steps ``0..i`` (``i = -1``: nothing yet), NaN where not yet written.

        Returns
        -------
        ndarray, shape (C_out, H_out, W_out)
            At "tap" granularity the cell in progress holds its partial sum.
            A new array, or (read-only) the one ``adopt`` was given for ``i``.
        """
        i = self._check_upto(i)
        if self._adopted is not None and self._adopted[0] == i:
            return self._adopted[1]
        y = _new_zeros(self.out_shape, self.output.dtype)  # small pages: a fresh big copy costs far less
        np.copyto(y, self.output)
        flat = y.reshape(-1)
        if self.granularity == "window":
            flat[i + 1 :] = np.nan
        else:
            cell, t = divmod(i + 1, self.taps_per_window)
            flat[cell:] = np.nan
            if t:
                flat[cell] = self._step(i).partial_sum
        return y


    def adopt(self, i: int, out: np.ndarray) -> None:
        """Keep ``out`` (``partial(i)`` worked out in another thread) for ``partial(i)`` to return as is.

        ``partial`` reads only the trace's read-only arrays, so a worker may
        call it while the UI thread steps; the UI thread then adopts its result
        and the next ``partial(i)`` costs nothing. Only the latest is kept;
        ``out`` is made read-only (it is handed out as is).
        """
        i = self._check_upto(i)
        if np.shape(out) != self.out_shape:
            raise ValueError(f"a partial output of shape {self.out_shape} expected, got {np.shape(out)}")
        self._adopted = (i, _ro(out))


def trace_conv2d(
    x: ArrayLike,
    w: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    padding_mode: PaddingMode = "zeros",
    flip_kernel: bool = False,
    granularity: Granularity = "window",
    groups: int = 1,
) -> ConvTrace:
    """Trace of ``conv2d``; same arguments plus ``granularity`` ("window" or "tap")."""
    s = _conv.prepare_conv(
        x, w, bias, stride=stride, padding=padding, dilation=dilation,
        padding_mode=padding_mode, flip_kernel=flip_kernel, groups=groups,
    )
    return ConvTrace(s, granularity)


# --------------------------------------------------------------------------- backward conv


@dataclass(frozen=True, eq=False)
class Gradients:
    """Gradients accumulated so far by a backward trace.

    Attributes
    ----------
    grad_x : ndarray, shape (C_in, H, W)
        On the real input (padding's share dropped or folded back).
    grad_x_padded : ndarray, shape (C_in, Hp, Wp)
        On the padded grid, before padding's share is dropped or folded.
    hits : ndarray of int, shape (C_in, Hp, Wp)
        How many steps have sent gradient to each padded cell so far
        (computed on first access: only a display needs it).
    grad_w : ndarray, shape (C_out, C_in/groups, kh, kw) or None
        Kernel gradient (convolution only), for the kernel as applied.
    grad_bias : ndarray, shape (C_out,) or None
    """

    grad_x: np.ndarray
    grad_x_padded: np.ndarray
    count_hits: Callable[[], np.ndarray] = field(repr=False)
    grad_w: np.ndarray | None = None
    grad_bias: np.ndarray | None = None

    @cached_property
    def hits(self) -> np.ndarray:
        """Steps that have sent gradient to each padded cell, shape (C_in, Hp, Wp)."""
        return self.count_hits()


@dataclass(frozen=True, eq=False)
class ConvBackwardStep:
    """One output-gradient cell sent back through a convolution.

    Attributes
    ----------
    index, out_channel, out_row, out_col : int
    grad : float
        ``dy[out_channel, out_row, out_col]``.
    window : Window
    inputs : ndarray, shape (C_in/groups, kh, kw)
        The window over the input channels of ``group`` (``in_channels``).
    weights : ndarray, shape (C_in/groups, kh, kw)
    grad_input : ndarray, shape (C_in/groups, kh, kw)
        ``grad * weights``: what each window cell of input channel
        ``in_channels[c]`` receives (padding cells' share is then dropped, or
        folded onto the copied cell).
    grad_weight : ndarray, shape (C_in/groups, kh, kw)
        ``grad * inputs``: what is added into ``dW[out_channel]``.
    grad_bias : float
        ``grad``, added into ``db[out_channel]``.
    group : int
        The channel group of ``out_channel`` (0 unless ``groups > 1``).
    """

    index: int
    out_channel: int
    out_row: int
    out_col: int
    grad: float
    window: Window
    inputs: np.ndarray
    weights: np.ndarray
    grad_input: np.ndarray
    grad_weight: np.ndarray
    grad_bias: float
    group: int = 0

    @property
    def in_channels(self) -> range:
        """The input channels this step sends gradient to: ``grad_input[c]`` goes to ``in_channels[c]``."""
        n = self.weights.shape[0]
        return range(self.group * n, (self.group + 1) * n)


def _new_zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A new array of zeros, untouched until written; one of ``SMALL_PAGES_FROM`` bytes or more in an
    anonymous mapping of its own, advised against transparent huge pages where the system can.

    NumPy asks for huge pages on big arrays; on this kind of VM first-touching them can cost ~30x
    small pages (a fresh 35 MB copy 150-450 ms, not 7 ms), while nothing else holds the totals.
    The array is the mapping's only direct user, so views of it keep it (and the mapping) alive.
    """
    nbytes = int(np.prod(shape)) * dtype.itemsize
    advice = getattr(mmap, "MADV_NOHUGEPAGE", None)
    if advice is None or nbytes < max(SMALL_PAGES_FROM, 1):
        return np.zeros(shape, dtype)
    m = mmap.mmap(-1, nbytes)
    m.madvise(advice)
    return np.ndarray(shape, dtype, buffer=m)


class _Buffers:
    """Arrays a trace owns, recycled once nothing outside the trace holds them.

    A backward step copies the running totals (35 MB at the largest setting)
    before adding to them, because the previous totals were handed out.
    Writing into already-touched memory costs a fraction of first-touching a
    fresh allocation, so the copy goes into an owned array that nobody holds
    any more: every view handed out (read-only, or cropped) keeps its base,
    the owned array, alive, so an owned array referenced only by this
    registry is held by nobody and can be written again. Owned arrays stay
    writeable; only views of them are handed out.

    Parameters
    ----------
    size : int
        Most arrays of one shape kept; beyond it the least recently taken is
        let go (still valid for its holders, never recycled).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._owned: list[np.ndarray] = []  # least recently taken first

    def _same(self, shape: tuple[int, ...], dtype: np.dtype) -> list[int]:
        """Indices of the owned arrays of ``shape`` and ``dtype``, least recently taken first."""
        owned = self._owned
        return [j for j in range(len(owned)) if (owned[j].shape, owned[j].dtype) == (shape, dtype)]

    def _recycled(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """An owned array of ``shape`` and ``dtype`` that nothing else holds (contents undefined), or None."""
        owned = self._owned
        for j in self._same(shape, dtype):
            # Held by the list and getrefcount's argument only (no local name may hold it).
            if sys.getrefcount(owned[j]) <= 2:
                owned.append(owned.pop(j))
                return owned[-1]
        return None

    def _own(self, a: np.ndarray) -> np.ndarray:
        """Register the new array ``a``, letting go of the least recently taken one beyond ``size``."""
        same = self._same(a.shape, a.dtype)
        if len(same) >= self._size:
            del self._owned[same[0]]
        self._owned.append(a)
        return a

    def copy(self, a: np.ndarray) -> np.ndarray:
        """A writeable copy of ``a`` (same shape and dtype) in a recycled or new array."""
        out = self._recycled(a.shape, a.dtype)
        if out is None:
            out = self._own(_new_zeros(a.shape, a.dtype))
        np.copyto(out, a)
        return out

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        """Float zeros of ``shape``: a recycled array zeroed, or a new one (calloc's untouched zero pages)."""
        out = self._recycled(shape, np.dtype(float))
        if out is None:
            return self._own(_new_zeros(shape, np.dtype(float)))
        out.fill(0.0)
        return out


class ConvBackwardTrace(_Trace[ConvBackwardStep]):
    """Backward convolution, one step per output-gradient cell."""

    def __init__(self, setup: _conv.ConvSetup, dy: np.ndarray) -> None:
        self.setup = setup
        self.geometry = setup.geometry
        self.dy = _ro(dy)
        self.x_padded = _ro(setup.padded_input())
        self.out_shape = dy.shape
        self._n = int(dy.size)
        self._windows = _Windows(setup.geometry)
        self._scratch: np.ndarray | None = None
        self._scratch_n = 0
        # Running totals after steps 0..self._done (-1: none): a step forward adds one window.
        self._done = -1
        self._totals_now: _Totals | None = None
        self._shared = False  # the totals were handed out or checkpointed: copy before adding
        # The copies go into arrays nobody holds any more: no fresh pages to touch each step.
        self._buffers = _Buffers(BUFFERS)
        # Checkpoints (step -> totals), the latest CHECKPOINTS kept: a step back restarts from one.
        self._checkpoints: dict[int, _Totals] = {}
        # A jump of up to ``_limit`` steps is added one window at a time; a longer one
        # recomputes the prefix in one vectorised pass (about ``n * per_step`` multiply-adds).
        per_step = int(np.prod(setup.w.shape[1:]))
        self._limit = int(np.clip(self._n * per_step // 8192, INCREMENTAL_MIN, INCREMENTAL_LIMIT))

    def _dy_prefix(self, n: int) -> np.ndarray:
        """``dy`` with everything after its first ``n`` cells zeroed, in a reused buffer.

        Only the cells between the previous prefix and this one are written, so
        scrubbing costs what it moves. Read-only for callers.
        """
        if self._scratch is None:
            self._scratch, self._scratch_n = np.zeros(self.dy.shape), 0
        flat, src, old = self._scratch.reshape(-1), self.dy.reshape(-1), self._scratch_n
        if n > old:
            flat[old:n] = src[old:n]
        else:
            flat[n:old] = 0.0
        self._scratch_n = n
        return self._scratch

    def _step(self, k: int) -> ConvBackwardStep:
        o, i, j = self._unravel(k, self.out_shape)
        win = self._windows(i, j)
        group = self.setup.group_of(o)
        inputs = self.x_padded[self.setup.group_inputs(group), win.rows[:, None], win.cols[None, :]]
        weights = self.setup.w[o]
        g = float(self.dy[o, i, j])
        return ConvBackwardStep(
            k, o, i, j, g, win, _ro(inputs), _ro(weights), _ro(g * weights), _ro(g * inputs), g, group
        )

    def partial(self, i: int) -> Gradients:
        """Gradients accumulated by steps ``0..i`` (``i = -1``: all zero).

        ``partial(len - 1)`` equals ``conv2d_backward`` (``grad_w`` for the
        kernel as applied).
        """
        i = self._check_upto(i)
        gxp, gw, gb = self._totals(i)
        # Windows done per output position: every channel finished so far, plus the current one's prefix.
        cells = self.out_shape[1] * self.out_shape[2]
        groups = self.setup.groups

        def count() -> np.ndarray:
            if groups == 1:
                full, rem = divmod(i + 1, cells)
                per_window = np.full(cells, full, dtype=int)
                per_window[:rem] += 1
                hits = _scatter_count(self.geometry, per_window.reshape(self.out_shape[1:]))
                return np.broadcast_to(hits, gxp.shape)
            # Per group: the steps done so far among that group's output channels.
            done = np.clip(i + 1 - np.arange(self.out_shape[0]) * cells, 0, cells)
            per_cell = np.arange(cells)[None, :] < done[:, None]  # (C_out, cells)
            per_group = per_cell.reshape(groups, -1, *self.out_shape[1:]).sum(axis=1)
            hits = _scatter_count(self.geometry, per_group)  # (groups, Hp, Wp)
            return np.repeat(hits, gxp.shape[0] // groups, axis=0)

        # Zero padding drops its share: the real cells are a read-only view (gxp is never written again),
        # not a copy, so a step costs one copy of the totals, as a forward step costs one of the output.
        mode = self.setup.padding_mode
        gx = _ro(crop(gxp, self.geometry)) if mode == "zeros" else fold(gxp, self.geometry, mode)
        return Gradients(gx, gxp, count, gw, gb)


    def _totals(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(gxp, gw, gb)`` after steps ``0..i``, read-only, reached the cheap way.

        Forward by at most ``_limit`` steps: each step adds its window
        (``C_in/groups * kh * kw`` cells) into running totals. Back, or further:
        from the nearest checkpoint at or before ``i`` within ``_limit`` steps
        (or from zero within ``_limit`` steps of the start), else one
        vectorised recompute of the prefix. Arrays handed out (or
        checkpointed) are never written again: the totals are copied before
        the next step adds to them, into an array of the trace's that nothing
        holds any more where there is one (``_Buffers``).
        """
        tot: _Totals
        if self._totals_now is None:
            tot, self._shared = self._zeros(), False
        else:
            tot = self._totals_now
        if i < self._done or i - self._done > self._limit:
            near = [c for c in self._checkpoints if c <= i and i - c <= self._limit]
            if near:
                c = max(near)
                tot, self._done, self._shared = self._checkpoints[c], c, True
            elif i < self._limit:  # near the start: from nothing done
                tot, self._done, self._shared = self._zeros(), -1, False
            else:
                checkpoint()
                tot, self._done, self._shared = self._recompute(self._dy_prefix(i + 1)), i, True
                self._keep(i, tot)
        s, xp, dy, w = self.setup, self.x_padded, self.dy, self.setup.w
        for k in range(self._done + 1, i + 1):
            o, r, c = self._unravel(k, self.out_shape)
            g = float(dy[o, r, c])
            if self._shared:
                b = self._buffers
                tot, self._shared = (b.copy(tot[0]), b.copy(tot[1]), b.copy(tot[2])), False
            if g != 0.0:
                rows, cols = self.geometry.window(r, c)
                idx = (s.group_inputs(s.group_of(o)), rows[:, None], cols[None, :])
                tot[0][idx] += g * w[o]  # a window's cells are distinct, so += adds each once
                tot[1][o] += g * xp[idx]
                tot[2][o] += g
            if (k + 1) % self._limit == 0:
                self._keep(k, tot)
                self._shared = True
        self._totals_now, self._done, self._shared = tot, i, True
        return _ro(tot[0]), _ro(tot[1]), _ro(tot[2])

    def reaches(self, i: int) -> bool:
        """Whether ``partial(i)`` is reached the cheap way: from the running totals or a checkpoint
        by at most ``_limit`` window additions, without recomputing the prefix."""
        i = self._check_upto(i)
        if self._done <= i <= self._done + self._limit or i < self._limit:
            return True
        return any(c <= i <= c + self._limit for c in self._checkpoints)

    def totals_at(self, i: int) -> _Totals:
        """``(gxp, gw, gb)`` after steps ``0..i``, recomputed from a fresh prefix of ``dy``.

        Pure: reads only the trace's read-only arrays and writes none of its
        state, so a worker thread may call it while the UI thread reads the
        trace; ``adopt`` then hands the result back. Stops at the engine's
        ``checkpoint`` calls (``engine.cancel.stop_when``).

        Returns
        -------
        gxp : ndarray, shape (C_in, Hp, Wp)
        gw : ndarray, shape (C_out, C_in/groups, kh, kw)
        gb : ndarray, shape (C_out,)
        """
        i = self._check_upto(i)
        checkpoint()
        return self._recompute(_prefix(self.dy, i + 1))

    def adopt(self, i: int, totals: _Totals) -> None:
        """Keep ``totals`` (from ``totals_at(i)``, never written again) as the checkpoint at step ``i``.

        ``partial(i)`` (and any step up to ``_limit`` after it) is then reached
        without recomputing the prefix.
        """
        i = self._check_upto(i)
        shapes = (self.x_padded.shape, self.setup.w.shape, self.setup.w.shape[:1])
        if tuple(np.shape(t) for t in totals) != shapes:
            raise ValueError(f"totals of shapes {shapes} expected")
        self._keep(i, (_ro(totals[0]), _ro(totals[1]), _ro(totals[2])))

    def _zeros(self) -> _Totals:
        """Totals before any step: zeros of the shapes of ``(gxp, gw, gb)``."""
        w, b = self.setup.w, self._buffers
        return b.zeros(self.x_padded.shape), b.zeros(w.shape), b.zeros(w.shape[:1])

    def _recompute(self, dy_prefix: np.ndarray) -> _Totals:
        """One vectorised pass over the whole gradient prefix ``dy_prefix`` (later cells zero)."""
        return _conv.backward_padded(self.setup, dy_prefix, self.x_padded)

    def _keep(self, k: int, totals: _Totals) -> None:
        """Checkpoint ``totals`` (steps ``0..k``; never written again); the oldest beyond CHECKPOINTS go."""
        self._checkpoints.pop(k, None)
        self._checkpoints[k] = totals
        while len(self._checkpoints) > CHECKPOINTS:
            del self._checkpoints[next(iter(self._checkpoints))]


#: Most steps a backward trace adds one window at a time before recomputing the prefix instead.
INCREMENTAL_LIMIT = 4096
#: Fewest: below this a vectorised recompute is never cheaper.
INCREMENTAL_MIN = 64
#: Checkpoints a backward trace keeps (each the running totals at one step).
CHECKPOINTS = 2
#: Owned totals arrays of each shape a backward trace tracks for recycling: the running totals, the
#: checkpoints, the totals of the recent frames a stage's render cache still holds (each of its grids a
#: view of a step's totals: about 8 steps at the largest setting) and one free to copy into. Held ones
#: cost nothing more; at most this many released ones stay allocated (12 x 35 MB at 16 x 512 x 512).
BUFFERS = CHECKPOINTS + 10
#: Bytes from which a backward trace's totals get a mapping of their own, on small pages (``_new_zeros``).
SMALL_PAGES_FROM = 4 << 20


def _prefix(a: np.ndarray, n: int) -> np.ndarray:
    """A copy of ``a`` with every element after the first ``n`` (raster order) set to zero."""
    out = np.zeros(a.shape)  # fresh zero pages: only the prefix is written
    out.reshape(-1)[:n] = a.reshape(-1)[:n]
    return out


def _scatter_count(g: Geometry, per_window: np.ndarray) -> np.ndarray:
    """Add ``per_window (..., H_out, W_out)`` onto every tap of each window: (..., extent_h, extent_w)."""
    out = np.zeros((*per_window.shape[:-2], g.rows.extent, g.cols.extent), dtype=int)
    return g.add_to_taps(out, per_window)


def trace_conv2d_backward(
    x: ArrayLike,
    w: ArrayLike,
    grad_out: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    stride: IntPair = 1,
    padding: Padding = 0,
    dilation: IntPair = 1,
    padding_mode: PaddingMode = "zeros",
    flip_kernel: bool = False,
    groups: int = 1,
) -> ConvBackwardTrace:
    """Trace of ``conv2d_backward``; same arguments."""
    s = _conv.prepare_conv(
        x, w, bias, stride=stride, padding=padding, dilation=dilation,
        padding_mode=padding_mode, flip_kernel=flip_kernel, groups=groups,
    )
    dy = check_grad_out((s.w.shape[0], *s.geometry.out_shape), grad_out, s.out_2d)
    return ConvBackwardTrace(s, dy)


# --------------------------------------------------------------------------- pooling


@dataclass(frozen=True, eq=False)
class PoolStep:
    """One step of a pooling's forward pass.

    Attributes
    ----------
    index, channel, out_row, out_col : int
    window : Window
    values : ndarray, shape (kh, kw)
        Values under the window; padding and overhang hold -inf (max),
        +inf (min) or 0 (avg).
    op : {"max", "min", "avg"}
    chosen : tuple of int or None
        ``(p, q)`` of the winning tap for max/min (the first in raster
        order when several tie), None for avg.
    divisor : int or None
        Average only: how many taps the sum is divided by.
    counted : ndarray of bool, shape (kh, kw)
        Taps that take part: all non-padding taps for max/min; for avg the
        taps counted in the divisor.
    result : float
    """

    index: int
    channel: int
    out_row: int
    out_col: int
    window: Window
    values: np.ndarray
    op: _pool.PoolOp
    chosen: tuple[int, int] | None
    divisor: int | None
    counted: np.ndarray
    result: float


class PoolTrace(_Trace[PoolStep]):
    """Forward pooling, one step per output cell."""

    def __init__(self, setup: _pool.PoolSetup) -> None:
        self.setup = setup
        self.geometry = setup.geometry
        self.x_padded = _ro(setup.padded_input())
        self.out_shape = (setup.x.shape[0], *setup.geometry.out_shape)
        self._n = int(np.prod(self.out_shape))
        self._windows = _Windows(setup.geometry)
        self._divisors = _ro(setup.divisors())
        self._output: np.ndarray | None = None

    @property
    def output(self) -> np.ndarray:
        """The full output ``(C, H_out, W_out)``, computed once, read-only."""
        if self._output is None:
            self._output = _ro(_pool.forward(self.setup))
        return self._output

    def cell_step(self, o: int, i: int, j: int) -> int:
        """Index of the step that writes output cell ``(o, i, j)``."""
        return (o * self.out_shape[1] + i) * self.out_shape[2] + j

    def _describe(self, k: int) -> tuple[int, int, int, Window, np.ndarray, tuple[int, int] | None,
                                         int | None, np.ndarray, float]:
        c, i, j = self._unravel(k, self.out_shape)
        win = self._windows(i, j)
        values = self.x_padded[c][win.rows[:, None], win.cols[None, :]]
        op = self.setup.op
        if op == "avg":
            divisor = int(self._divisors[i, j])
            counted = win.kind <= (PADDING if self.setup.count_include_pad else REAL)
            return c, i, j, win, values, None, divisor, counted, float(values.sum()) / divisor
        flat = int(values.argmax() if op == "max" else values.argmin())
        chosen = divmod(flat, values.shape[1])
        return c, i, j, win, values, chosen, None, win.kind == REAL, float(values[chosen])

    def _step(self, k: int) -> PoolStep:
        c, i, j, win, values, chosen, divisor, counted, result = self._describe(k)
        return PoolStep(
            k, c, i, j, win, _ro(values), self.setup.op, chosen, divisor, _ro(counted), result
        )

    def partial(self, i: int) -> np.ndarray:
        """The output after steps ``0..i``, NaN where not yet written; shape (C, H_out, W_out)."""
        i = self._check_upto(i)
        y = np.array(self.output)
        y.reshape(-1)[i + 1 :] = np.nan
        return y


def trace_pool2d(
    x: ArrayLike,
    kernel_size: IntPair,
    *,
    op: _pool.PoolOp = "max",
    stride: IntPair | None = None,
    padding: Padding = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> PoolTrace:
    """Trace of ``pool2d``; same arguments."""
    s = _pool.prepare_pool(
        x, kernel_size, op=op, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    return PoolTrace(s)


@dataclass(frozen=True, eq=False)
class PoolBackwardStep:
    """One output-gradient cell sent back through a pooling.

    Attributes
    ----------
    index, channel, out_row, out_col : int
    grad : float
        ``dy[channel, out_row, out_col]``.
    window : Window
    values : ndarray, shape (kh, kw)
    op : {"max", "min", "avg"}
    chosen : tuple of int or None
        Max/min: the tap that receives all of ``grad`` (first extreme in
        raster order on ties).
    divisor : int or None
        Avg: each counted tap receives ``grad / divisor``.
    grad_input : ndarray, shape (kh, kw)
        What each window cell receives.
    """

    index: int
    channel: int
    out_row: int
    out_col: int
    grad: float
    window: Window
    values: np.ndarray
    op: _pool.PoolOp
    chosen: tuple[int, int] | None
    divisor: int | None
    grad_input: np.ndarray


class PoolBackwardTrace(_Trace[PoolBackwardStep]):
    """Backward pooling, one step per output-gradient cell."""

    def __init__(self, setup: _pool.PoolSetup, dy: np.ndarray) -> None:
        self._fwd = PoolTrace(setup)
        self.setup = setup
        self.geometry = setup.geometry
        self.x_padded = self._fwd.x_padded
        self.dy = _ro(dy)
        self.out_shape = dy.shape
        self._n = int(dy.size)
        # The running gradient after steps 0..self._done, as in ConvBackwardTrace.
        self._done = -1
        self._gp: np.ndarray | None = None
        per_step = setup.geometry.rows.kernel * setup.geometry.cols.kernel
        self._limit = int(np.clip(self._n * per_step // 8192, INCREMENTAL_MIN, INCREMENTAL_LIMIT))

    def _running(self, i: int) -> np.ndarray:
        """A copy of the gradient on the padded grid after steps ``0..i``, reached the cheap way."""
        if self._gp is None or i < self._done or i - self._done > self._limit:
            self._gp = _pool.backward_padded(self.setup, _prefix(self.dy, i + 1)).astype(float)
            self._done = i
        gp = self._gp
        for k in range(self._done + 1, i + 1):
            c, r, q = self._unravel(k, self.out_shape)
            if self.dy[c, r, q] != 0.0:
                step = self._step(k)
                gp[c, step.window.rows[:, None], step.window.cols[None, :]] += step.grad_input
        self._done = i
        return gp.copy()

    def _step(self, k: int) -> PoolBackwardStep:
        c, i, j, win, values, chosen, divisor, counted, _ = self._fwd._describe(k)
        g = float(self.dy[c, i, j])
        if chosen is not None:
            gi = np.zeros(values.shape)
            gi[chosen] = g
        else:
            assert divisor is not None  # avg: no chosen tap, a divisor instead
            gi = np.where(counted, g / divisor, 0.0)
        return PoolBackwardStep(k, c, i, j, g, win, _ro(values), self.setup.op, chosen, divisor, _ro(gi))

    def partial(self, i: int) -> Gradients:
        """Gradient accumulated by steps ``0..i`` (``i = -1``: all zero)."""
        i = self._check_upto(i)
        gp = self._running(i)

        def count() -> np.ndarray:
            # Sending 1 (avg: the divisor) from every finished window counts the sends per cell.
            done = _prefix(np.ones(self.dy.shape), i + 1)
            ones = done * (self.setup.divisors() if self.setup.op == "avg" else 1.0)
            return np.rint(_pool.backward_padded(self.setup, ones)).astype(int)

        return Gradients(crop(gp, self.geometry), gp, count)


def trace_pool2d_backward(
    x: ArrayLike,
    grad_out: ArrayLike,
    kernel_size: IntPair,
    *,
    op: _pool.PoolOp = "max",
    stride: IntPair | None = None,
    padding: Padding = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> PoolBackwardTrace:
    """Trace of ``pool2d_backward``; same arguments."""
    s = _pool.prepare_pool(
        x, kernel_size, op=op, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad,
    )
    dy = check_grad_out((s.x.shape[0], *s.geometry.out_shape), grad_out, s.x_2d)
    return PoolBackwardTrace(s, dy)
