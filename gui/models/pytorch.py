"""The PyTorch code equivalent to a lesson ("Copy as PyTorch"): complete, runnable, the same numbers.

The snippet defines the input ``x`` with the lesson's values, the layer with its
weights and bias set, pads by hand what PyTorch's layers cannot (asymmetric
padding; pooling padding over half the kernel; a dilated average), applies the
activation, and prints ``y``: exactly the output the stage shows. Values are
written with ``repr``, which reads back as the very same float, in aligned rows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from engine.geometry import Geometry

from .framing import pytorch_refusal
from .params import Params
from .transposed import torch_weight, transposed_padding

if TYPE_CHECKING:
    from .lesson import Lesson

__all__ = ["pytorch_code", "tensor_text"]

#: Longest line of the snippet (tensors wrap their rows to stay within it).
WIDTH = 100
F64 = "dtype=torch.float64"
_ACTIVATIONS = {
    "relu": "torch.relu(y)", "leaky_relu": "F.leaky_relu(y, negative_slope=0.01)",
    "sigmoid": "torch.sigmoid(y)", "tanh": "torch.tanh(y)",
}


def pytorch_code(lesson: Lesson) -> str:
    """Python that rebuilds this lesson's layer in PyTorch and prints the output the stage shows."""
    p = lesson.params
    g = lesson.trace.geometry
    out_hw = (g.rows.out, g.cols.out)
    body = _pool(p, g, out_hw) if not p.is_conv else _conv_transpose(lesson) if p.is_transpose \
        else _conv1d(lesson) if p.is_1d else _conv(lesson)
    uses_f = any("F." in line for line in body)
    head = ["import torch"] + (["import torch.nn.functional as F"] if uses_f else []) + [""]
    if p.is_1d:
        head += ["# The signal X as on the stage: (channels, length), without a batch axis",
                 _assign("x", lesson.x[:, 0]), ""]
    else:
        head += ["# The input X as on the stage: (channels, rows, columns), without a batch axis",
                 _assign("x", lesson.x), ""]
    return "\n".join([*head, *body, "print(y)"]) + "\n"


# ----------------------------------------------------------------------------- tensors as text
def _num(v: float) -> str:
    """A value as Python reads it back exactly: whole numbers plainly, others by ``repr``."""
    f = float(v)
    if f.is_integer() and abs(f) < 2**53 and not (f == 0 and np.signbit(f)):
        return str(int(f))
    return repr(f)


def tensor_text(a: np.ndarray, indent: int = 0) -> str:
    """``a`` as nested lists with aligned columns, rows wrapped to ``WIDTH`` (``indent`` columns in)."""
    arr = np.asarray(a, dtype=float)
    cells = np.vectorize(_num, otypes=[object])(arr) if arr.size else np.array([], dtype=object)
    width = max((len(c) for c in cells.ravel()), default=1)
    return _nested(cells, width, indent)


def _nested(cells: np.ndarray, width: int, indent: int) -> str:
    if cells.ndim == 1:
        items = [c.rjust(width) for c in cells.tolist()]
        per = max(1, (WIDTH - indent - 2) // (width + 2))
        rows = [", ".join(items[k : k + per]) for k in range(0, len(items), per)]
        return "[" + (",\n" + " " * (indent + 1)).join(rows) + "]"
    gap = ",\n\n" if cells.ndim >= 3 else ",\n"
    inner = [_nested(sub, width, indent + 1) for sub in cells]
    return "[" + (gap + " " * (indent + 1)).join(inner) + "]"


def _comment(text: str) -> list[str]:
    """``text`` as comment lines of at most ``WIDTH`` characters."""
    lines, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > WIDTH:
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line]


def _assign(name: str, a: np.ndarray, indent: int = 0) -> str:
    lead = " " * indent + f"{name} = torch.tensor("
    return lead + tensor_text(a, len(lead)) + f", {F64})"


# ----------------------------------------------------------------------------- convolution
def _pair(v: tuple[int, int]) -> object:
    return v[0] if v[0] == v[1] else v


def _conv(lesson: Lesson) -> list[str]:
    p = lesson.params
    t, b, left, r = p.padding
    asym = p.pad_kind == "asymmetric"
    pad: object = p.engine_padding()
    if asym:
        pad_arg: object = 0
    elif isinstance(pad, str):
        pad_arg = repr(pad)
    else:
        assert isinstance(pad, tuple) and isinstance(pad[0], int) and isinstance(pad[1], int)
        pad_arg = _pair((pad[0], pad[1]))
    lines: list[str] = []
    src = "x"
    if asym:
        mode = "constant" if p.padding_mode == "zeros" else p.padding_mode
        lines += ["# Different padding on each side: pad by hand (F.pad's order: left, right, top, bottom)",
                  f"x_padded = F.pad(x, ({left}, {r}, {t}, {b}), mode={mode!r})", ""]
        src = "x_padded"
    call = (f"conv = torch.nn.Conv2d(in_channels={p.in_c}, out_channels={p.out_c}, "
            f"kernel_size={_pair((p.k_h, p.k_w))}, stride={_pair(p.stride)}, padding={pad_arg}, "
            f"dilation={_pair(p.dilation)}, " + (f"groups={p.groups}, " if p.groups > 1 else "") +
            f"bias={p.bias}, padding_mode={p.padding_mode!r}, {F64})")
    lines += _wrap_call(call)
    lines += ["with torch.no_grad():",
              "    # The kernel W as entered: (out channels, in channels"
              + (" per group" if p.groups > 1 else "") + ", rows, columns)"]
    if p.flip_kernel:
        lines += [_assign("w", lesson.w, 4),
                  "    conv.weight.copy_(w.flip(-2, -1))  # true convolution: the kernel flipped, "
                  "rows and columns"]
    else:
        lines.append(_assign("w", lesson.w, 4))
        lines.append("    conv.weight.copy_(w)")
    return lines + _bias_and_output(lesson, src)


def _bias_and_output(lesson: Lesson, src: str) -> list[str]:
    """The bias set (inside ``torch.no_grad()``), the layer applied to ``src``, then the activation."""
    p = lesson.params
    lines = []
    if p.bias:
        lines.append(f"    conv.bias.copy_(torch.tensor([{', '.join(_num(v) for v in lesson.bias_values)}], "
                     f"{F64}))")
    lines += ["", f"y = conv({src})"]
    if p.has_activation:
        lines.append(f"y = {_ACTIVATIONS[p.activation]}  # the activation")
    return lines


def _conv1d(lesson: Lesson) -> list[str]:
    """``torch.nn.Conv1d``: its own padding for a number, "valid" and "same" (and its
    ``padding_mode``); by hand with ``F.pad`` (in the same mode) for different amounts on each side
    and for causal padding, which ``Conv1d`` has no name for."""
    p = lesson.params
    k, s, d = p.k_w, p.stride[1], p.dilation[1]
    cols = lesson.trace.geometry.cols
    left, right = cols.before, cols.after
    lines: list[str] = []
    src, mode = "x", "" if p.padding_mode == "zeros" else f", mode={p.padding_mode!r}"
    if p.pad_kind == "causal":
        what = "zeros" if p.padding_mode == "zeros" else f"samples ({p.padding_mode})"
        lines += _comment(f"Causal padding: d*(k - 1) = {d}*({k} - 1) = {left} {what} on the left only, none "
                          "on the right, so output t never reads an input after t. Conv1d has no "
                          "padding='causal': F.pad does it (F.pad's order: left, right).")
        lines += [f"x_padded = F.pad(x, ({left}, 0){mode})", ""]
        src, pad_arg = "x_padded", "0"
    elif p.pad_kind == "asymmetric" and left != right:
        lines += ["# Different padding on each side: pad by hand (F.pad's order: left, right)",
                  f"x_padded = F.pad(x, ({left}, {right}){mode})", ""]
        src, pad_arg = "x_padded", "0"
    elif p.pad_kind in ("valid", "same"):
        pad_arg = repr(p.pad_kind)
    else:
        pad_arg = str(left)
    groups = f"groups={p.groups}, " if p.groups > 1 else ""
    own_mode = f"padding_mode={p.padding_mode!r}, " if p.padding_mode != "zeros" and src == "x" else ""
    call = (f"conv = torch.nn.Conv1d(in_channels={p.in_c}, out_channels={p.out_c}, kernel_size={k}, "
            f"stride={s}, padding={pad_arg}, dilation={d}, {groups}bias={p.bias}, {own_mode}{F64})")
    lines += _wrap_call(call)
    lines += ["with torch.no_grad():",
              "    # The kernel W as entered: (out channels, in channels"
              + (" per group" if p.groups > 1 else "") + ", length)",
              _assign("w", lesson.w[:, :, 0], 4), "    conv.weight.copy_(w)"]
    return lines + _bias_and_output(lesson, src)


def _conv_transpose(lesson: Lesson) -> list[str]:
    p = lesson.params
    pad = transposed_padding(p)
    call = (f"conv = torch.nn.ConvTranspose2d(in_channels={p.in_c}, out_channels={p.out_c}, "
            f"kernel_size={_pair((p.k_h, p.k_w))}, stride={_pair(p.stride)}, padding={_pair(pad)}, "
            f"output_padding={_pair(p.output_padding)}, dilation={_pair(p.dilation)}, "
            + (f"groups={p.groups}, " if p.groups > 1 else "") + f"bias={p.bias}, {F64})")
    lines = _wrap_call(call)
    if p.groups > 1:
        words = ["    # ConvTranspose2d's weight is (in channels, out channels per group, rows, columns):",
                 "    # W as entered (out channels, in channels per group, …), swapped within each group"]
    else:
        words = ["    # ConvTranspose2d's weight is (in channels, out channels, rows, columns):",
                 "    # W as entered, with its first two axes swapped"]
    lines += ["with torch.no_grad():", *words,
              _assign("w", torch_weight(p, np.asarray(lesson.w)), 4),
              "    conv.weight.copy_(w)"]
    if p.bias:
        lines.append(f"    conv.bias.copy_(torch.tensor([{', '.join(_num(v) for v in lesson.bias_values)}], "
                     f"{F64}))")
    lines += ["", "y = conv(x)"]
    if p.has_activation:
        lines.append(f"y = {_ACTIVATIONS[p.activation]}  # the activation")
    return lines


def _wrap_call(call: str) -> list[str]:
    """A long call broken before a keyword argument, the rest aligned under its first argument."""
    if len(call) <= WIDTH:
        return [call]
    open_at = call.index("(") + 1
    first, *rest = re.split(r", (?=\w+=)", call[open_at:])
    out, line = [], call[:open_at] + first
    for part in rest:
        if len(line) + 2 + len(part) > WIDTH:
            out.append(line + ",")
            line = " " * open_at + part
        else:
            line += ", " + part
    return [*out, line]


# ----------------------------------------------------------------------------- pooling
def _torch_out(size: int, span: int, stride: int, ceil: bool) -> int:
    """PyTorch's pooling output length on an already padded axis (padding 0)."""
    raw = size - span
    out = (-(-raw // stride) if ceil else raw // stride) + 1
    if ceil and (out - 1) * stride >= size:
        out -= 1
    return out


def _pool(p: Params, g: Geometry, out_hw: tuple[int, int]) -> list[str]:
    if p.is_global:
        layer = "AdaptiveAvgPool2d" if p.pool_op == "avg" else "AdaptiveMaxPool2d"
        return [f"pool = torch.nn.{layer}(1)  # global pooling: one value per channel, the whole map",
                "y = pool(x)"]
    note = pytorch_refusal(p)
    k, s, d = _pair((p.k_h, p.k_w)), _pair(p.stride), _pair(p.dilation)
    if not note:  # PyTorch's own layer does it all
        pad_arg = _pair((g.rows.before, g.cols.before))  # one padding per axis, both sides alike
        common = f"kernel_size={k}, stride={s}, padding={pad_arg}"
        if p.op == "avg":
            lines = [f"pool = torch.nn.AvgPool2d({common}, ceil_mode={p.ceil_mode}, "
                     f"count_include_pad={p.count_include_pad})"]
        else:
            lines = [f"pool = torch.nn.MaxPool2d({common}, dilation={d}, ceil_mode={p.ceil_mode})"]
        if p.op == "min":
            return [*lines, "y = -pool(-x)  # min pooling: PyTorch has none, so the max of -x, negated"]
        return [*lines, "y = pool(x)"]
    r, c = g.rows, g.cols
    pads = f"({c.before}, {c.after}, {r.before}, {r.after})"
    lines = _comment(f"{note}, so this pads by hand (F.pad's order: left, right, top, bottom).")
    if p.op in ("max", "min"):
        pool = f"F.max_pool2d(x_padded, kernel_size={k}, stride={s}, dilation={d}, ceil_mode={p.ceil_mode})"
        if p.op == "min":
            lines += ["# Min pooling: PyTorch has none, so the max of -x, negated.",
                      f"x_padded = F.pad(-x, {pads}, value=float('-inf'))  # padding never wins",
                      f"y = -{pool}"]
        else:
            lines += [f"x_padded = F.pad(x, {pads}, value=float('-inf'))  # padding never wins",
                      f"y = {pool}"]
        got = (_torch_out(r.padded, r.span, r.stride, p.ceil_mode),
               _torch_out(c.padded, c.span, c.stride, p.ceil_mode))
    elif p.dilation == (1, 1):
        avg = f"kernel_size={k}, stride={s}, ceil_mode={p.ceil_mode}"
        if p.count_include_pad:
            lines += [f"x_padded = F.pad(x, {pads})  # zeros, counted in each window's divisor",
                      f"y = F.avg_pool2d(x_padded, {avg}, count_include_pad=True)"]
        else:
            lines += [f"x_padded = F.pad(x, {pads})  # zeros add nothing to a sum",
                      f"real = F.pad(torch.ones_like(x), {pads})  # 1 on real cells, 0 on padding",
                      "# The sum of each window over the number of real cells in it:",
                      f"y = (F.avg_pool2d(x_padded, {avg}, divisor_override=1)",
                      f"     / F.avg_pool2d(real, {avg}, divisor_override=1))"]
        got = (_torch_out(r.padded, r.span, r.stride, p.ceil_mode),
               _torch_out(c.padded, c.span, c.stride, p.ceil_mode))
    else:
        over_h, over_w = r.extent - r.padded, c.extent - c.padded
        counted = "1.0" if p.count_include_pad else "0.0"
        conv = f"stride={s}, dilation={d}, groups={p.in_c}"
        lines += ["# A dilated average: each window's sum over the cells it counts, both summed by a",
                  "# convolution of ones, one channel at a time.",
                  f"x_padded = F.pad(x, {pads})  # zeros add nothing to a sum",
                  f"counted = F.pad(torch.ones_like(x), {pads}, value={counted})  # 1 where a cell counts"]
        if over_h or over_w:
            lines += [f"x_padded = F.pad(x_padded, (0, {over_w}, 0, {over_h}))  # ceil_mode's overhang: ...",
                      f"counted = F.pad(counted, (0, {over_w}, 0, {over_h}))  # ... never counted"]
        lines += [f"ones = torch.ones({p.in_c}, 1, {p.k_h}, {p.k_w}, {F64})",
                  f"total = F.conv2d(x_padded, ones, {conv})",
                  f"count = F.conv2d(counted, ones, {conv})",
                  "y = total / count"]
        got = ((r.extent - r.span) // r.stride + 1, (c.extent - c.span) // c.stride + 1)
    if got != out_hw:
        lines.append(f"y = y[:, :{out_hw[0]}, :{out_hw[1]}]  # the last window would start in the trailing "
                     "padding: PyTorch's own padding drops it")
    return lines
