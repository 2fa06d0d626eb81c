"""convviz engine: convolution, pooling, their gradients and step traces, in pure NumPy.

All arrays are float64 and channels-first: ``x (C_in, H, W)`` or ``(H, W)``,
``w (C_out, C_in/groups, kh, kw)`` or ``(kh, kw)``; transposed convolution
takes ``w (C_in, C_out/groups, kh, kw)``; 1-D convolution ``x (C_in, L)`` or
``(L,)`` and ``w (C_out, C_in/groups, k)`` or ``(k,)``. Results keep the
caller's form. Conventions are PyTorch's (cross-correlation, dilation 1 = no
gaps, pooling padding and ``ceil_mode`` rules, ``groups``, ``output_padding``).
This package never imports Qt.
"""

from .conv import conv2d, conv2d_backward
from .conv1d import conv1d, conv1d_backward, trace_conv1d, trace_conv1d_backward
from .geometry import AxisGeometry, Geometry, conv_param_count, output_size, transposed_output_size
from .global_pool import (
    global_pool2d,
    global_pool2d_backward,
    trace_global_pool2d,
    trace_global_pool2d_backward,
)
from .matrix import MAX_MATRIX_ENTRIES, conv_matrix
from .pool import pool2d, pool2d_backward
from .trace import (
    ConvBackwardStep,
    ConvBackwardTrace,
    ConvStep,
    ConvTrace,
    Gradients,
    PoolBackwardStep,
    PoolBackwardTrace,
    PoolStep,
    PoolTrace,
    Window,
    trace_conv2d,
    trace_conv2d_backward,
    trace_pool2d,
    trace_pool2d_backward,
)
from .trace_transpose import (
    SpreadInput,
    TransposeGatherTrace,
    TransposeScatterStep,
    TransposeScatterTrace,
    trace_conv_transpose2d,
    trace_conv_transpose2d_scatter,
)
from .transpose import conv_transpose2d, conv_transpose2d_backward

__all__ = [
    "MAX_MATRIX_ENTRIES",
    "AxisGeometry",
    "ConvBackwardStep",
    "ConvBackwardTrace",
    "ConvStep",
    "ConvTrace",
    "Geometry",
    "Gradients",
    "PoolBackwardStep",
    "PoolBackwardTrace",
    "PoolStep",
    "PoolTrace",
    "SpreadInput",
    "TransposeGatherTrace",
    "TransposeScatterStep",
    "TransposeScatterTrace",
    "Window",
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv_matrix",
    "conv_param_count",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "global_pool2d",
    "global_pool2d_backward",
    "output_size",
    "pool2d",
    "pool2d_backward",
    "trace_conv1d",
    "trace_conv1d_backward",
    "trace_conv2d",
    "trace_conv2d_backward",
    "trace_conv_transpose2d",
    "trace_conv_transpose2d_scatter",
    "trace_global_pool2d",
    "trace_global_pool2d_backward",
    "trace_pool2d",
    "trace_pool2d_backward",
    "transposed_output_size",
]
