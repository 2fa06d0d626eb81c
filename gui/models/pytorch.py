"""The PyTorch code equivalent to a lesson's settings ("Copy as PyTorch")."""

from __future__ import annotations

from .params import Params


def pytorch_code(p: Params) -> str:
    """The equivalent PyTorch call for the current settings (for "Copy as PyTorch")."""
    pad: object = p.engine_padding()
    stride = _pair(p.stride)
    dil = _pair(p.dilation)
    t, b, left, r = p.padding
    if p.is_conv:
        asym = p.pad_kind == "asymmetric"
        pad_arg = 0 if asym else repr(pad) if isinstance(pad, str) else _pair(pad)
        line = (f"torch.nn.Conv2d(in_channels={p.in_c}, out_channels={p.out_c}, "
                f"kernel_size={_pair((p.k_h, p.k_w))}, stride={stride}, padding={pad_arg}, "
                f"dilation={dil}, bias={p.bias}, padding_mode={p.padding_mode!r})")
        note = "# true convolution: flip the kernel first, w.flip(-2, -1)\n" if p.flip_kernel else ""
        if asym:
            mode = "constant" if p.padding_mode == "zeros" else p.padding_mode
            return (f"{note}x = torch.nn.functional.pad(x, ({left}, {r}, {t}, {b}), mode={mode!r})\n"
                    f"y = {line}(x)")
        return f"{note}conv = {line}"
    if p.pad_kind == "asymmetric":
        pad = (max(t, b), max(left, r))
        note = "# PyTorch pools with symmetric padding only; the larger side is used here\n"
    else:
        note = ""
    pad_arg = 0 if pad == "valid" else _pair(pad)
    common = f"kernel_size={_pair((p.k_h, p.k_w))}, stride={stride}, padding={pad_arg}"
    if p.op == "avg":
        extra = "" if p.dilation == (1, 1) else "  # PyTorch's AvgPool2d has no dilation"
        return (f"{note}pool = torch.nn.AvgPool2d({common}, ceil_mode={p.ceil_mode}, "
                f"count_include_pad={p.count_include_pad}){extra}")
    call = f"torch.nn.MaxPool2d({common}, dilation={dil}, ceil_mode={p.ceil_mode})"
    if p.op == "min":
        return f"{note}pool = {call}\ny = -pool(-x)  # min pooling"
    return f"{note}pool = {call}"


def _pair(v: object) -> object:
    if isinstance(v, tuple) and len(v) == 2 and v[0] == v[1]:
        return v[0]
    return v
