"""The one check of every setting and value the core accepts, before anything is allocated.

The ``Lesson`` and the scenario files both use it, so a state the lesson
accepts is one a file can hold, and a file the loader accepts holds settings
the lesson takes.

Three layers, each cheap and allocation-free:

* ``setting`` checks one setting's type and range against ``choices``
  (``SETTING_CHOICES``, ``BOUNDS``) and gives it back in canonical form (a
  NumPy integer becomes an ``int``, a list a tuple, a NumPy boolean a
  ``bool``);
* ``plan`` works out, from the output-size formula alone, the output's shape
  and the number of steps, and refuses a geometry the engine would refuse (in
  the engine's words) or more steps than a timeline holds;
* ``values``, ``number`` and ``cell`` check arrays, typed values and cell
  indices.

Padding rule: every side is within ``BOUNDS["padding"]`` (0 to 16), and
PyTorch's rules relative to the window and the input hold, as the engine
states them: pooling pads by at most half the dilated window and no window
covers only padding; ``reflect`` padding is smaller than the input,
``circular`` at most its size; the dilated kernel fits the padded input.

The 1-D convolution has height 1 (no stride, dilation or padding along it),
zero padding and no flip; only it takes ``"causal"`` padding.

The convolution family: ``groups`` divides the input channels and the kernels
(convolution, transposed too); a transposed convolution pads with zeros, one amount per
axis, takes no flip, ``output_padding`` below the stride or the dilation (the
engine's rule), an output of at most ``MAX_TRANSPOSED_SIDE`` a side, and its
scatter picture is the forward pass only; global pooling has one step per
channel and pass; the matrix picture (``drawn_as``) is convolution's alone, at most
``MATRIX_ROWS`` × ``MATRIX_COLS`` (``gui.models.matrix.check_matrix``).

A refusal is an ``InvalidError`` (a ``ValueError``): ``field`` names the setting or
value, ``message`` says what is wrong after that name, and ``str()`` is the
whole sentence in plain words.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from engine.conv import prepare_conv
from engine.conv1d import prepare_conv1d
from engine.pool import prepare_pool
from engine.transpose import prepare_conv_transpose

from .choices import BOUNDS, MAX_STEPS, SETTING_CHOICES, SETTING_LABELS, VALUE_LIMIT
from .matrix import check_matrix
from .params import Params
from .transposed import check_transposed, out_size, spread_size, transposed_padding

__all__ = ["InvalidError", "Plan", "amount", "cell", "checked", "number", "params_with", "plan", "setting",
           "show", "values", "whole_number"]

_DEFAULTS: dict[str, Any] = {f.name: getattr(Params(), f.name) for f in fields(Params)}


class InvalidError(ValueError):
    """A setting or value the core does not accept.

    Attributes
    ----------
    field : str
        The setting (``"in_h"``) or value (``"input"``) that is wrong; empty
        when the settings together are wrong (a kernel larger than the input).
    message : str
        What is wrong, worded to follow the field's name.
    """

    def __init__(self, field: str, message: str) -> None:
        label = SETTING_LABELS.get(field, field.replace("_", " "))
        super().__init__(f"{label} {message}" if field else message)
        self.field = field
        self.message = message


def show(value: object, width: int = 40) -> str:
    """A short ``repr`` of a value for a message (never fails, never floods the message)."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than sys.get_int_max_str_digits() digits
        return "a number with thousands of digits"
    return text if len(text) <= width else text[: width - 1] + "…"


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def whole_number(value: object, field: str) -> int:
    """``value`` as an ``int``: a whole number, not a truth value, not a float."""
    if not isinstance(value, numbers.Integral) or _is_bool(value):
        raise InvalidError(field, f"must be a whole number, got {show(value)}")
    return int(value)


# ----------------------------------------------------------------------------- settings
def setting(name: str, value: object) -> Any:
    """Check one setting of ``Params`` and return it in canonical form.

    Raises
    ------
    InvalidError
        With ``field == name``.
    """
    if name not in _DEFAULTS:
        raise InvalidError("", f"{show(name)} is not a setting convviz knows")
    default = _DEFAULTS[name]
    if isinstance(default, bool):
        if not _is_bool(value):
            raise InvalidError(name, f"must be true or false, got {show(value)}")
        return bool(value)
    if isinstance(default, int):
        v = whole_number(value, name)
        lo, hi = BOUNDS[name]
        if not lo <= v <= hi:
            raise InvalidError(name, f"must be between {lo} and {hi}, got {show(v)}")
        return v
    if isinstance(default, str):
        if not isinstance(value, str):
            raise InvalidError(name, f"must be text, got {show(value)}")
        choices = SETTING_CHOICES[name]
        if value not in choices:
            raise InvalidError(name, f"must be one of {', '.join(choices)}; got {show(value)}")
        return choices[choices.index(value)]  # a plain str, whatever subclass came in
    # A tuple: (h, w) pairs and the four paddings.
    if not isinstance(value, (tuple, list)) or len(value) != len(default):
        raise InvalidError(name, f"must be a list of {len(default)} whole numbers, got {show(value)}")
    lo, hi = BOUNDS[name]
    if not all(_is_whole(v) and lo <= v <= hi for v in value):
        raise InvalidError(name, f"must hold whole numbers from {lo} to {hi}, got {show(value)}")
    return tuple(int(v) for v in value)


def checked(p: Params) -> Params:
    """``p`` with every setting checked and in canonical form.

    Raises
    ------
    InvalidError
        For the first setting that is wrong (or when ``p`` is not a ``Params``).
    """
    if not isinstance(p, Params):
        raise InvalidError("", f"the settings must be a Params value, got {show(p)}")
    changes: dict[str, Any] = {}
    for name in _DEFAULTS:
        v = getattr(p, name)
        c = setting(name, v)
        if c is not v:
            changes[name] = c
    return replace(p, **changes) if changes else p


def params_with(base: Params, changes: Mapping[str, object]) -> Params:
    """``base`` (already checked) with ``changes`` applied, every changed setting checked.

    Raises
    ------
    InvalidError
        For an unknown name or the first wrong value.
    """
    canonical = {name: setting(name, value) for name, value in changes.items()}
    return replace(base, **canonical)


# ----------------------------------------------------------------------------- geometry and steps
@dataclass(frozen=True)
class Plan:
    """What a lesson with some settings will hold, worked out before anything is built.

    Attributes
    ----------
    out_shape : tuple of int
        ``(C, H_out, W_out)``: the output (and dL/dY, and the loss target).
    extent : tuple of int
        ``(rows, columns)`` the windows reach on the padded grid (the gather view's grid).
    n_forward, n_backward : int
        Steps of each pass in the sequence (0 for a pass that is not shown).
    """

    out_shape: tuple[int, int, int]
    extent: tuple[int, int]
    n_forward: int
    n_backward: int

    @property
    def n_steps(self) -> int:
        """Steps in the whole sequence."""
        return self.n_forward + self.n_backward


def plan(p: Params) -> Plan:
    """Output shape and step counts of the (checked) settings ``p``, from the output-size formula.

    The matrix picture (``drawn_as == "matrix"``) also checks what it can show
    (``gui.models.matrix.check_matrix``: its size, no pooling, no activation).

    Nothing grows with the sizes: the engine checks the geometry on a
    stand-in input that holds no values, and the counts are integer
    arithmetic, so a request for an enormous timeline is refused at once.

    Raises
    ------
    InvalidError
        (``field == ""``) for a geometry the engine refuses (its own words)
        or more steps than ``MAX_STEPS``.
    """
    result = _plan(p)
    try:
        check_matrix(p, result.out_shape[1:])
    except ValueError as exc:
        raise InvalidError("", str(exc)) from None
    return result


def _plan(p: Params) -> Plan:
    # The engine's own checks (its words), on a stand-in input of the right size that holds no
    # values: a read-only zero-stride view, so nothing grows with the input.
    x = np.broadcast_to(np.zeros(1), (1, p.in_h, p.in_w))
    try:
        p.check_groups()
        p.check_1d()
        check_transposed(p)
        if p.is_global:  # one window per channel, the whole map
            return _plan_global(p)
        if p.is_transpose:
            return _plan_transposed(p, x)
        if p.is_1d:  # the engine's 1-D words ("longer than the padded input (12: length 10 + …)")
            line = np.broadcast_to(np.zeros(1), (1, p.in_w))
            geom = prepare_conv1d(line, np.broadcast_to(np.zeros(1), (1, 1, p.k_w)), stride=p.stride[1],
                                  padding=p.padding_1d(), dilation=p.dilation[1],
                                  padding_mode=p.padding_mode)[0].geometry
        elif p.is_conv:
            geom = prepare_conv(x, np.broadcast_to(np.zeros(1), (1, 1, p.k_h, p.k_w)), stride=p.stride,
                                padding=p.engine_padding(), dilation=p.dilation, padding_mode=p.padding_mode,
                                flip_kernel=p.flip_kernel).geometry
        else:
            geom = prepare_pool(x, (p.k_h, p.k_w), op=p.pool_op, stride=p.stride, padding=p.engine_padding(),
                                dilation=p.dilation, ceil_mode=p.ceil_mode,
                                count_include_pad=p.count_include_pad).geometry
    except (ValueError, TypeError) as exc:
        raise InvalidError("", str(exc)) from None
    oh, ow = geom.out_shape
    channels = p.out_c if p.is_conv else p.in_c
    cells = channels * oh * ow
    forward = backward = 0
    if p.mode != "backward":
        tap = p.is_conv and p.granularity == "tap" and p.mode == "forward"
        taps = p.group_in * p.k_h * p.k_w if tap else 1
        forward = cells * taps + int(p.has_activation)
    extent = (geom.rows.extent, geom.cols.extent)
    if p.mode != "forward":
        backward = p.in_c * extent[0] * extent[1] if p.is_conv and p.grad_view == "gather" else cells
    n = forward + backward
    if n > MAX_STEPS:
        raise InvalidError("", f"that makes {n:,} steps, more than a timeline can hold; use per-window steps "
                          "or a smaller input")
    return Plan((channels, oh, ow), extent, forward, backward)


def _count(n: int, channels: int, oh: int, ow: int, forward: int, backward: int,
           extent: tuple[int, int]) -> Plan:
    if n > MAX_STEPS:
        raise InvalidError("", f"that makes {n:,} steps, more than a timeline can hold; use per-window steps "
                          "or a smaller input")
    return Plan((channels, oh, ow), extent, forward, backward)


def _plan_global(p: Params) -> Plan:
    """Global pooling: one step per channel each pass, a 1×1 output per channel."""
    forward = 0 if p.mode == "backward" else p.in_c
    backward = 0 if p.mode == "forward" else p.in_c
    return _count(forward + backward, p.in_c, 1, 1, forward, backward, (p.in_h, p.in_w))


#: Largest side of a transposed convolution's output (the largest padded input of a convolution).
MAX_TRANSPOSED_SIDE = BOUNDS["in_h"][1] + 2 * BOUNDS["padding"][1]


def _plan_transposed(p: Params, x: np.ndarray) -> Plan:
    """Transposed convolution: the gather picture's steps over the spread input, or one stamp per input
    cell (scatter); backward is the gather picture's convolution backward."""
    w = np.broadcast_to(np.zeros(1), (1, 1, p.k_h, p.k_w))
    prepare_conv_transpose(x, w, stride=p.stride, padding=transposed_padding(p),
                           output_padding=p.output_padding, dilation=p.dilation)
    oh, ow = out_size(p, 0), out_size(p, 1)
    if max(oh, ow) > MAX_TRANSPOSED_SIDE:
        raise InvalidError("", f"the output would be {oh}×{ow}; a transposed convolution's output is at most "
                               f"{MAX_TRANSPOSED_SIDE} a side here")
    cells = p.out_c * oh * ow
    forward = backward = 0
    if p.mode != "backward":
        taps = p.group_in * p.k_h * p.k_w if p.granularity == "tap" and p.mode == "forward" else 1
        steps = p.in_c * p.in_h * p.in_w if p.transpose_view == "scatter" else cells * taps
        forward = steps + int(p.has_activation)
    extent = (spread_size(p, 0), spread_size(p, 1))
    if p.mode != "forward":
        backward = p.in_c * extent[0] * extent[1] if p.grad_view == "gather" else cells
    return _count(forward + backward, p.out_c, oh, ow, forward, backward, extent)


# ----------------------------------------------------------------------------- values
def amount(limit: float) -> str:
    """A limit in words: ``1,000,000`` or ``7.2e+15``."""
    return f"{limit:,.0f}" if limit < 1e9 else f"{limit:.3g}"


def number(value: object, field: str, limit: float = VALUE_LIMIT) -> float:
    """A typed value: a finite real number at most ``limit`` in size, as a ``float``."""
    v = float("nan")
    if isinstance(value, numbers.Real) and not _is_bool(value):
        with contextlib.suppress(OverflowError, ValueError):  # an int too large for a float
            v = float(value)
    if not np.isfinite(v) or abs(v) > limit:
        bound = amount(limit)
        raise InvalidError(field, f"must be a number from -{bound} to {bound}, got {show(value)}")
    return v


def cell(field: str, index: object, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Check a cell index of the array ``field`` of shape ``shape`` (no negative indices)."""
    if not isinstance(index, tuple) or len(index) != len(shape) or not all(_is_whole(i) for i in index):
        raise InvalidError(field, f"cell must be {len(shape)} whole numbers, got {show(index)}")
    idx = tuple(int(i) for i in index)
    if not all(0 <= i < n for i, n in zip(idx, shape, strict=True)):
        size = " × ".join(str(n) for n in shape)
        raise InvalidError(field, f"has no cell {show(idx, 60)}: it is {size}, counted from 0")
    return idx


def values(field: str, value: object, shape: tuple[int, ...] | None, *, limit: float = VALUE_LIMIT,
           ndim: int | None = None) -> np.ndarray:
    """A new float64 array of ``value``: numbers only, of ``shape``, finite and at most ``limit`` in size.

    Parameters
    ----------
    field : str
        Names the values in a refusal.
    value : array_like
    shape : tuple of int or None
        The shape the values must have (None: any shape with ``ndim`` axes).
    limit : float
    ndim : int, optional
        With ``shape=None``: the number of axes.

    Raises
    ------
    InvalidError
    """
    if isinstance(value, np.ndarray):
        a = value
    else:
        try:
            a = np.asarray(value)
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise InvalidError(field, "must be a grid of numbers (lists of lists of numbers)") from None
    if a.dtype.kind not in "iuf":
        raise InvalidError(field, "must be a grid of numbers (lists of lists of numbers)")
    if shape is not None and a.shape != shape:
        raise InvalidError(field, f"has shape {a.shape} but the settings need {shape}")
    if ndim is not None and a.ndim != ndim:
        raise InvalidError(field, f"must have {ndim} axes, got shape {a.shape}")
    out = np.array(a, dtype=np.float64)
    if not np.isfinite(out).all():
        raise InvalidError(field, "holds a value that is not a finite number")
    if out.size and float(np.abs(out).max()) > limit:
        biggest = float(np.abs(out).max())
        raise InvalidError(field, f"holds {biggest:g}; values are at most {amount(limit)} in size")
    return out
