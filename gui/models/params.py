"""The settings of a lesson, as one immutable, typed value."""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.conv1d import Padding1d, conv1d_padding
from engine.geometry import Padding
from engine.pool import PoolOp

from .choices import (
    Activation,
    DrawnAs,
    GradView,
    Granularity,
    KernelPreset,
    Mode,
    MotionSetting,
    Op,
    PaddingMode,
    PadKind,
    TransposeView,
    Upstream,
    View,
)

#: Padding in the engine's accepted forms: a kind name, ``(ph, pw)`` or ``((top, bottom), (left, right))``.
EnginePadding = Padding


@dataclass(frozen=True)
class Params:
    """Every setting of a scenario except the values themselves.

    ``padding`` is ``(top, bottom, left, right)``; with ``pad_kind ==
    "symmetric"`` only top and left are used (bottom = top, right = left).
    """

    op: Op = "conv"
    in_h: int = 5
    in_w: int = 5
    in_c: int = 1
    k_h: int = 3
    k_w: int = 3
    out_c: int = 1
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    pad_kind: PadKind = "symmetric"
    padding: tuple[int, int, int, int] = (1, 1, 1, 1)
    padding_mode: PaddingMode = "zeros"
    bias: bool = False
    ceil_mode: bool = False
    count_include_pad: bool = True
    flip_kernel: bool = False
    granularity: Granularity = "window"
    integers: bool = True
    seed: int = 0
    preset: KernelPreset = "random"
    mode: Mode = "forward"
    upstream: Upstream = "ones"
    grad_view: GradView = "scatter"
    activation: Activation = "none"
    picture: bool = False  # the input came from a picture: drawn in grey
    output_padding: tuple[int, int] = (0, 0)  # transposed convolution: extra rows/columns bottom/right
    transpose_view: TransposeView = "gather"  # transposed convolution: gather or scatter picture
    groups: int = 1  # convolution, transposed too: channel groups (divides in_c and out_c); in_c = depthwise
    view: View = "flat"  # how the stage draws it: panels side by side, or planes seen at an angle
    motion: MotionSetting = "auto"  # products travel into the arithmetic between steps (auto: presenting)
    drawn_as: DrawnAs = "grid"  # convolution: the grid picture or the matrix C of y = C·x

    @property
    def has_activation(self) -> bool:
        """True when an activation follows the convolution (pooling takes none)."""
        return self.is_conv and self.activation != "none"

    @property
    def is_conv(self) -> bool:
        """True for convolution (transposed too: it has weights), False for the pooling operations."""
        return self.op in ("conv", "conv1d", "conv_transpose")

    @property
    def is_1d(self) -> bool:
        """True for the 1-D convolution: a signal of length ``in_w`` (``in_h == k_h == 1``)."""
        return self.op == "conv1d"

    def check_1d(self) -> None:
        """Refuse, in plain words, what the 1-D convolution does not take (and causal padding elsewhere)."""
        if not self.is_1d:
            if self.pad_kind == "causal":
                raise ValueError("causal padding belongs to the 1-D convolution: choose Operation ▸ "
                                 "Convolution 1-D, or another padding")
            return
        if (self.in_h, self.k_h, self.stride[0], self.dilation[0], self.padding[0], self.padding[1]) != (
                1, 1, 1, 1, 0, 0):
            raise ValueError("a 1-D convolution has height 1: input and kernel height 1, no stride, "
                             "dilation or padding along the height")
        if self.flip_kernel:
            raise ValueError("a 1-D convolution is a cross-correlation here: turn flip kernel off first")

    def with_height_1(self) -> Params:
        """For the 1-D convolution, these settings with every height setting at its only value (height 1,
        no stride, dilation or padding along it); other operations unchanged. Widths stay."""
        if not self.is_1d:
            return self
        return replace(self, in_h=1, k_h=1, stride=(1, self.stride[1]), dilation=(1, self.dilation[1]),
                       padding=(0, 0, self.padding[2], self.padding[3]))

    def padding_1d(self) -> Padding1d:
        """The 1-D convolution's padding in ``engine.conv1d``'s forms: a number, ``(left, right)``,
        ``"valid"``, ``"same"`` or ``"causal"``."""
        left, right = self.padding[2], self.padding[3]
        if self.pad_kind == "symmetric":
            return left
        if self.pad_kind == "asymmetric":
            return (left, right)
        return self.pad_kind

    @property
    def group_in(self) -> int:
        """Input channels each kernel sees: ``in_c / groups`` (the kernel's second axis)."""
        return self.in_c // self.groups if self.groups >= 1 and self.in_c % self.groups == 0 else self.in_c

    def check_groups(self) -> None:
        """Refuse, in plain words, groups that do not divide both channel counts."""
        g = self.groups
        if g == 1:
            return
        if not self.is_conv:
            raise ValueError("groups belong to convolution here; set groups to 1 first")
        if g < 1 or self.in_c % g or self.out_c % g:
            raise ValueError(f"groups must divide the input channels ({self.in_c}) and the kernels "
                             f"({self.out_c}), got {g}")

    @property
    def is_global(self) -> bool:
        """True for global pooling: one window, the whole map, per channel."""
        return self.op == "global_avg" or self.op == "global_max"

    @property
    def is_transpose(self) -> bool:
        """True for transposed convolution."""
        return self.op == "conv_transpose"

    @property
    def pool_op(self) -> PoolOp:
        """The pooling operation (a ``ValueError`` for convolution)."""
        if self.op == "conv" or self.op == "conv1d" or self.op == "conv_transpose":
            raise ValueError("convolution is not a pooling operation")
        if self.op == "global_avg":
            return "avg"
        if self.op == "global_max":
            return "max"
        return self.op

    def engine_padding(self) -> EnginePadding:
        """Padding in the engine's accepted forms."""
        t, b, left, r = self.padding
        if self.is_1d:  # along the columns only, as engine.conv1d pads
            return ((0, 0), conv1d_padding(self.padding_1d(), self.k_w, self.stride[1], self.dilation[1]))
        if self.pad_kind == "causal":
            raise ValueError("causal padding belongs to the 1-D convolution")
        if self.pad_kind == "valid" or self.pad_kind == "same":
            return self.pad_kind
        if self.pad_kind == "symmetric":
            return (t, left)
        return ((t, b), (left, r))
