"""What keeps the UI thread quick on the biggest lessons gives the same text and pictures as before."""

from __future__ import annotations

import numpy as np
import pytest

import engine.describe as describe
from engine import trace_conv2d_backward
from engine.describe import TIMES, _term, conv_backward_arithmetic, fmt


def _every_term(step, grad_x_padded, offset, grad_bias_after, per_line, max_lines) -> str:  # type: ignore[no-untyped-def]
    """The caption built the slow way: every term formatted, then cut to what fits."""
    o, i, j, g = step.out_channel, step.out_row, step.out_col, step.grad
    lines = [f"dY[{o},{i},{j}] = {fmt(g)} flows back:  dX(window) += {_term(g)}{TIMES}W[{o}]; "
             f"dW[{o}] += {_term(g)}{TIMES}X(window); db[{o}] += {_term(g)} → {fmt(grad_bias_after)}"]
    terms, win = [], step.window
    for c in range(step.weights.shape[0]):
        for p, r in enumerate(win.rows):
            for q, col in enumerate(win.cols):
                ch = step.in_channels[c]
                name = f"dX[{ch},{int(r) - offset[0]},{int(col) - offset[1]}]"
                note = ""
                if win.kind[p, q] != 0:
                    name = f"dX_padded[{ch},{int(r)},{int(col)}]"
                    sr, sc = int(win.source_rows[p]), int(win.source_cols[q])
                    note = (f" (padding: folded onto X[{ch},{sr},{sc}])" if sr >= 0 and sc >= 0
                            else " (padding: dropped)")
                terms.append(f"{name} += {_term(g)}{TIMES}{_term(float(step.weights[c, p, q]))} = "
                             f"{fmt(float(step.grad_input[c, p, q]))} → "
                             f"{fmt(float(grad_x_padded[ch, r, col]))}{note}")
    room = max_lines * per_line
    if len(terms) > room:
        terms = [*terms[: room - 1], f"… and {len(terms) - room + 1} more (each on the grid)"]
    lines += [";   ".join(terms[k : k + per_line]) for k in range(0, len(terms), per_line)]
    return "\n".join(lines)


@pytest.mark.parametrize(("per_line", "max_lines"), [(3, 2), (1, 1), (100, 1), (2, 50)])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_backward_caption_formats_only_what_it_shows_and_reads_the_same(
        per_line: int, max_lines: int, padding_mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
    kw = {"padding": 1, "stride": 2, "padding_mode": padding_mode}
    dy = rng.standard_normal((2, 3, 3))
    tr = trace_conv2d_backward(x, w, dy, **kw)
    for k in range(len(tr)):
        step, gx = tr[k], tr.partial(k).grad_x_padded
        want = _every_term(step, gx, (1, 1), 0.5, per_line, max_lines)
        calls: list[float] = []
        monkeypatch.setattr(describe, "fmt", lambda v, *a, _c=calls, **kw: _c.append(v) or fmt(v, *a, **kw))
        got = conv_backward_arithmetic(step, gx, (1, 1), 0.5, per_line=per_line, max_lines=max_lines)
        monkeypatch.setattr(describe, "fmt", fmt)
        assert got == want
        shown = min(18, per_line * max_lines)  # of 2 channels x 3 x 3 terms; 4 numbers each, 5 in the head
        assert len(calls) <= 4 * shown + 5
