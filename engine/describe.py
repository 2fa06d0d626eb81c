"""Words and numbers for the screen: formulas with their values, per-step arithmetic.

Pure string building over engine results, so every view (and every export)
shows exactly the same text, and tests can check it without Qt.
"""

from __future__ import annotations

import itertools

import numpy as np

from .geometry import AxisGeometry
from .trace import ConvBackwardStep, ConvStep, PoolBackwardStep, PoolStep

__all__ = [
    "activation_text",
    "conv_arithmetic",
    "conv_backward_arithmetic",
    "fmt",
    "fmt_cell",
    "loss_text",
    "output_size_formula",
    "pool_arithmetic",
    "pool_backward_arithmetic",
    "shown_terms",
]

MINUS = "\u2212"
TIMES = "\u00b7"
INF = "\u221e"


def fmt(v: float, digits: int = 6) -> str:
    """Format a number for text: integers plainly, others with up to ``digits`` significant digits.

    Negative numbers use a true minus sign; infinities show as ``±∞``.
    """
    if np.isnan(v):
        return ""
    if np.isinf(v):
        return (MINUS if v < 0 else "+") + INF
    s = str(int(v)) if float(v).is_integer() and abs(v) < 1e9 else f"{v:.{digits}g}"
    return s.replace("-", MINUS)


def fmt_cell(v: float) -> str:
    """Short form for a grid cell (at most about five characters)."""
    if not np.isnan(v) and not np.isinf(v) and not float(v).is_integer() and abs(v) < 100:
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        return s.replace("-", MINUS)
    return fmt(v, 3)


def _term(v: float) -> str:
    s = fmt(v)
    return f"({s})" if v < 0 else s


def shown_terms(n: int, max_terms: int = 27) -> list[int]:
    """Which of ``n`` multiply-add terms an arithmetic line writes: all of them, or (more than
    ``max_terms``) the first ``max_terms − 3`` and the last two, around "… (n more) …"."""
    if n <= max_terms:
        return list(range(n))
    return [*range(max_terms - 3), n - 2, n - 1]


def conv_arithmetic(step: ConvStep, *, show_bias: bool = True, max_terms: int = 27,
                    per_line: int = 9) -> str:
    """The multiply-adds of one convolution step, with the real numbers.

    Terms are ``input·weight``. Lines break (``\n``) between input channels
    and after every ``per_line`` terms, so the text fits a projector.

    Examples
    --------
    ``1·0 + 2·(−1) + 0·3 + 0.5 (bias) = −1.5`` at window granularity;
    at tap granularity ``… + 2·(−1) = 4`` up to the current tap.
    """
    x = step.inputs.ravel()
    w = step.weights.ravel()
    per_channel = step.weights[0].size
    n = x.size if step.tap is None else int(np.ravel_multi_index(step.tap, step.weights.shape)) + 1
    shown = shown_terms(n, max_terms)  # only those are formatted (a 16-channel 15×15 window has 3,600)
    terms = [f"{_term(x[k])}{TIMES}{_term(w[k])}" for k in shown]
    last = n if n <= max_terms else max_terms - 3  # terms before the "…", where lines may break
    breaks = {k for k in range(1, last) if k % per_channel == 0 or (k % per_channel) % per_line == 0}
    if n > max_terms:
        terms.insert(max_terms - 3, f"… ({n - max_terms + 1} more) …")
    text = "".join(
        (" +\n" if k in breaks else " + ") + t if k else t for k, t in enumerate(terms)
    )
    if step.complete and show_bias:
        text += f" + {_term(step.bias)} (bias)"
    value = step.total if step.complete else step.partial_sum
    text += f" = {fmt(value)}"
    if step.tap is not None:
        text += f"   [multiply-add {n} of {x.size}]"
    return text


def pool_arithmetic(step: PoolStep) -> str:
    """One pooling step: ``max(3, 1, [4], 1) = 4`` (winner in brackets) or ``(3+1+4+1)/4 = 2.25``.

    Padding shows as ``−∞``/``+∞`` for max/min and 0 for average; taps left
    out of an average are not listed, and the divisor rule is spelled out.
    """
    vals = step.values.ravel()
    kind = step.window.kind.ravel()
    if step.chosen is not None:  # max or min
        chosen = step.chosen[0] * step.values.shape[1] + step.chosen[1]
        parts = []
        for k, v in enumerate(vals):
            if kind[k] == 2:
                continue
            s = fmt(v)
            parts.append(f"[{s}]" if k == chosen else s)
        return f"{step.op}({', '.join(parts)}) = {fmt(step.result)}"
    counted = step.counted.ravel()
    parts = [fmt(v) if v >= 0 else f"({fmt(v)})" for v, c in zip(vals, counted, strict=True) if c]
    n_pad = int(((kind == 1)).sum())
    text = f"({' + '.join(parts)}) / {step.divisor} = {fmt(step.result)}"
    if n_pad:
        rule = "counted" if step.counted.ravel()[kind == 1].all() else "not counted"
        text += f"   [{n_pad} padding cell{'s' if n_pad > 1 else ''} {rule} in the divisor]"
    return text


def output_size_formula(g: AxisGeometry, axis: str, *, ceil_mode: bool = False) -> tuple[str, str]:
    """The output-size formula of one axis, general and with the numbers filled in.

    Parameters
    ----------
    g : AxisGeometry
    axis : {"H", "W"}
    ceil_mode : bool

    Returns
    -------
    (general, filled) : tuple of str
        e.g. ``H_out = ⌊(H + p_top + p_bottom − d·(k−1) − 1) / s⌋ + 1`` and
        ``⌊(5 + 1 + 1 − 1·(3−1) − 1) / 2⌋ + 1 = 3``.
    """
    lo, hi = ("\u2308", "\u2309") if ceil_mode else ("\u230a", "\u230b")
    p1, p2 = ("p_top", "p_bottom") if axis == "H" else ("p_left", "p_right")
    general = f"{axis}_out = {lo}({axis} + {p1} + {p2} {MINUS} d{TIMES}(k{MINUS}1) {MINUS} 1) / s{hi} + 1"
    filled = (
        f"{lo}({g.size} + {g.before} + {g.after} {MINUS} {g.dilation}{TIMES}({g.kernel}{MINUS}1)"
        f" {MINUS} 1) / {g.stride}{hi} + 1"
    )
    raw = (g.padded - g.span) / g.stride
    natural = (int(np.ceil(raw)) if ceil_mode else int(np.floor(raw))) + 1
    filled += f" = {g.out}"
    if natural != g.out:
        filled += " (the last window would start in the trailing padding, so it is dropped)"
    return general, filled


def conv_backward_arithmetic(step: ConvBackwardStep, grad_x_padded: np.ndarray,
                             offset: tuple[int, int], grad_bias_after: float, *, per_line: int = 3,
                             max_lines: int = 2) -> str:
    """What one output-gradient cell sends back through a convolution, with the numbers.

    Parameters
    ----------
    step : ConvBackwardStep
    grad_x_padded : ndarray, shape (C_in, Hp, Wp)
        The input gradient accumulated *after* this step (for the running totals),
        with the real cells holding the folded gradient when padding copies cells.
    offset : (int, int)
        Padded coordinate of input cell (0, 0): ``(top, left)``.
    grad_bias_after : float
        ``db[out_channel]`` after this step.

    Returns
    -------
    str
        A header line, then ``dX[c,r,q] += dy·w = amount → total`` terms,
        ``per_line`` to a line, at most ``max_lines`` lines (every amount is
        also labelled on its cell). Indices count from 0; a padding cell has
        none in X, so it is named by its place in the padded grid,
        ``dX_padded[c,r,q]``, and marked "dropped" or "folded onto X[…]".
    """
    o, i, j, g = step.out_channel, step.out_row, step.out_col, step.grad
    lines = [f"dY[{o},{i},{j}] = {fmt(g)} flows back:  dX(window) += {_term(g)}{TIMES}W[{o}]; "
             f"dW[{o}] += {_term(g)}{TIMES}X(window); db[{o}] += {_term(g)} → {fmt(grad_bias_after)}"]
    win = step.window
    sizes = (step.weights.shape[0], len(win.rows), len(win.cols))
    n_cells, room = sizes[0] * sizes[1] * sizes[2], max_lines * per_line
    shown = n_cells if n_cells <= room else room - 1  # only the terms the caption shows are formatted
    terms = []
    for c, p, q in itertools.islice(itertools.product(*map(range, sizes)), shown):
        r, col = win.rows[p], win.cols[q]
        amount = float(step.grad_input[c, p, q])
        ch = step.in_channels[c]  # the input channel (c counts within the group)
        total = float(grad_x_padded[ch, r, col])
        name = f"dX[{ch},{int(r) - offset[0]},{int(col) - offset[1]}]"
        note = ""
        if win.kind[p, q] != 0:
            name = f"dX_padded[{ch},{int(r)},{int(col)}]"
            sr, sc = int(win.source_rows[p]), int(win.source_cols[q])
            note = (f" (padding: folded onto X[{ch},{sr},{sc}])" if sr >= 0 and sc >= 0
                    else " (padding: dropped)")
        terms.append(
            f"{name} += {_term(g)}{TIMES}{_term(float(step.weights[c, p, q]))} = {fmt(amount)}"
            f" → {fmt(total)}{note}"
        )
    if n_cells > room:
        terms.append(f"… and {n_cells - room + 1} more (each on the grid)")
    for k in range(0, len(terms), per_line):
        lines.append(";   ".join(terms[k : k + per_line]))
    return "\n".join(lines)


def pool_backward_arithmetic(step: PoolBackwardStep, grad_x_padded: np.ndarray,
                             offset: tuple[int, int]) -> str:
    """Where one output-gradient cell goes in a pooling's backward pass.

    Max/min: all of it to the winning cell (the first in raster order on
    ties); average: an equal share to every cell counted in the divisor.
    """
    c, i, j, g = step.channel, step.out_row, step.out_col, step.grad
    head = f"dY[{c},{i},{j}] = {fmt(g)}"
    if step.chosen is not None:
        p, q = step.chosen
        r, col = int(step.window.rows[p]), int(step.window.cols[q])
        ties = int((step.values == step.values[p, q]).sum())
        tie = f" (tie of {ties}: the first in raster order wins)" if ties > 1 else ""
        where = f"{c},{r - offset[0]},{col - offset[1]}"
        total = fmt(float(grad_x_padded[c, r, col]))
        return (f"{head} goes to the {step.op} cell X[{where}] = {fmt(float(step.values[p, q]))}{tie}\n"
                f"dX[{where}] += {fmt(g)} → {total}")
    assert step.divisor is not None  # avg: no chosen cell, a divisor instead
    share = g / step.divisor
    n_pad = int(((step.window.kind == 1) & (step.grad_input != 0)).sum())
    rule = f" (incl. {n_pad} padding cell{'s' if n_pad != 1 else ''}, dropped)" if n_pad else ""
    return (f"{head} is shared by the {step.divisor} counted cells{rule}:\n"
            f"each gets {fmt(g)} / {step.divisor} = {fmt(share)}")


def loss_text(loss: float) -> str:
    """``L = ½·Σ(Y − T)² = …`` and where dL/dY comes from."""
    return f"L = ½·Σ(Y {MINUS} T)² = {fmt(loss)},   so dL/dY = Y {MINUS} T"


def activation_text(name: str, z: np.ndarray, y: np.ndarray) -> str:
    """What an activation did to a layer's outputs ``z`` (before) and ``y`` (after), any shape."""
    n = z.size
    neg = int((z < 0).sum())
    if name == "relu":
        example = ""
        if neg:
            k = int(np.argmin(z))
            example = f"  (e.g. {fmt(float(z.flat[k]))} → 0)"
        return f"ReLU: y = max(0, z).  {neg} of {n} outputs were negative and become 0{example}"
    if name == "leaky_relu":
        return (f"Leaky ReLU: y = z if z > 0, else 0.01·z.  {neg} of {n} negative outputs are "
                f"scaled by 0.01, not zeroed, so their gradient never dies")
    if name == "sigmoid":
        return (f"Sigmoid: y = 1 / (1 + e^{MINUS}z) squashes all {n} outputs into (0, 1): "
                f"{fmt(float(z.min()))} → {fmt(float(y.min()), 3)}, {fmt(float(z.max()))} → "
                f"{fmt(float(y.max()), 3)}")
    if name == "tanh":
        return (f"tanh squashes all {n} outputs into ({MINUS}1, 1): {fmt(float(z.min()))} → "
                f"{fmt(float(y.min()), 3)}, {fmt(float(z.max()))} → {fmt(float(y.max()), 3)}")
    return "no activation"
