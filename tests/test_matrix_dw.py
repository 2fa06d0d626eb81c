"""dL/dW in the matrix picture: dL/dW = dL/dY·Xcolᵀ, read back from the frames' dL/dW panel (its labels
and values) step by step, against a naive im2col product, engine.conv2d_backward and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from gui.models import scenario
from gui.models.frame import Frame, cell_label
from gui.models.lesson import Lesson


def matrix_lesson(**changes: object) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-as-matrix")), m.last_error
    assert m.set_params(mode="backward", **changes), m.last_error
    return m


def naive_xcol(xp: np.ndarray, kh: int, kw: int, s: tuple[int, int], d: tuple[int, int],
               out_hw: tuple[int, int]) -> np.ndarray:
    """im2col by loops: column ``i·W_out + j`` holds the padded input under each tap of window (i, j)."""
    cols = []
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            cols.append([xp[c, i * s[0] + a * d[0], j * s[1] + b * d[1]]
                         for c in range(xp.shape[0]) for a in range(kh) for b in range(kw)])
    return np.array(cols, dtype=float).T


def dw_shown(f: Frame) -> np.ndarray:
    """The dL/dW panel's grids as the user reads them: their labels, checked against their values."""
    panel = f.panel("dw")
    assert panel is not None
    for g in panel.grids:
        assert g.labels.tolist() == [[cell_label(v) for v in row] for row in g.values.tolist()]
    return np.stack([g.values for g in panel.grids])


@pytest.mark.parametrize("changes", [dict(), dict(in_c=2, out_c=2, bias=True), dict(padding=(1, 1, 1, 1),
                                     pad_kind="symmetric", in_h=3, in_w=3, stride=(2, 2)),
                                     dict(in_c=2, out_c=2, groups=2), dict(padding_mode="reflect",
                                     pad_kind="symmetric", padding=(1, 1, 1, 1), in_h=3, in_w=3)])
def test_dw_fills_up_as_dy_times_xcol_transposed(changes: dict[str, object]) -> None:
    m = matrix_lesson(**changes)
    p = m.params
    f0 = m.frame(0)
    xp = np.asarray(f0.x_padded)
    _, ho, wo = m.run.fwd.output.shape
    dy = np.asarray(m.run.dz).reshape(p.out_c, ho * wo)
    per_group = p.in_c // p.groups
    out_per_group = p.out_c // p.groups
    for k in range(m.n_steps):
        f = m.frame(k)
        assert f.phase == "matrix" and "dL/dW = dL/dY·Xcolᵀ" in f.panel("dw").title
        o = f.step.out_channel
        g = o // out_per_group
        xcol = naive_xcol(xp[g * per_group:(g + 1) * per_group], p.k_h, p.k_w, p.stride, p.dilation, (ho, wo))
        seen = np.zeros(ho * wo)
        seen[: k - o * ho * wo + 1] = 1  # the steps so far of output channel o (channel-major order)
        want = ((dy[o] * seen) @ xcol.T).reshape(per_group, p.k_h, p.k_w)
        assert np.allclose(dw_shown(f), want), k
        assert f"Xcol's column {k - o * ho * wo}" in f.arithmetic
    _, grad_w, grad_b = engine.conv2d_backward(
        m.x, m.w, m.run.dz, stride=p.stride, padding=p.engine_padding(), dilation=p.dilation,
        padding_mode=p.padding_mode, groups=p.groups)
    for o in range(p.out_c):
        last = m.frame((o + 1) * ho * wo - 1)
        assert np.allclose(dw_shown(last), grad_w[o])
    if p.bias:
        assert last.panel("dw").title.endswith("db = " + ", ".join(cell_label(v) for v in grad_b.tolist()))


def test_matrix_dw_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    m = matrix_lesson(in_c=2, out_c=2, bias=True, padding=(1, 1, 1, 1), pad_kind="symmetric", in_h=3, in_w=3)
    p = m.params
    x = torch.tensor(np.asarray(m.x)[None], dtype=torch.float64)
    w = torch.tensor(np.asarray(m.w), dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, w, torch.tensor(m.bias_values, dtype=torch.float64), padding=1)
    y.backward(torch.tensor(np.asarray(m.run.dz)[None], dtype=torch.float64))
    got = np.stack([dw_shown(m.frame((o + 1) * (m.n_steps // p.out_c) - 1)) for o in range(p.out_c)])
    assert np.allclose(got, w.grad.numpy())


def test_the_dw_panel_sits_beside_dy_and_the_transposed_picture_keeps_its_three_panels() -> None:
    f = matrix_lesson().frame(0)
    places = {pn.name: (pn.row, pn.slot) for pn in f.panels}
    assert places["dw"] == (1, 2) and places["down"] == (1, 1) and places["matrix"] == (1, 0)
    assert any("dL/dW = dL/dY·Xcolᵀ" in fact for fact in f.facts)
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("transposed-no-padding")), m.last_error
    assert m.set_params(mode="backward", drawn_as="matrix"), m.last_error
    assert m.frame(m.n_steps - 1).panel("dw") is None
    assert Lesson().frame(0).panel("dw") is None  # forward: no gradient at all


def test_the_channel_controls_work_in_the_matrix_picture_and_say_their_bound(window, user) -> None:
    """Typing 2 input channels unrolls both into x (C gains their columns); a third would make C wider
    than the picture draws: refused in words, and the control's tooltip says the bound beforehand."""
    from PySide6.QtCore import Qt

    win = window
    assert win.files.open_preset("conv-as-matrix")
    spin = win.controls.in_c
    assert spin.isEnabled() and "up to 2 input channels" in spin.toolTip()
    assert "up to 6 output channels" in win.controls.out_c.toolTip()
    user.type_into(spin, 2)
    f = win.model.frame()
    assert win.model.params.in_c == 2 and f.panel("across").grids[0].shape == (1, 32)
    assert f.panel("matrix").title.startswith("C 4×32")
    assert "C has 2·16 = 32 columns" in spin.toolTip()
    spin.setFocus()
    user.qtbot.keyClick(spin, Qt.Key.Key_Up)
    user.qtbot.waitUntil(lambda: "4×48" in win.controls.error.text())
    assert win.model.params.in_c == 2 and spin.value() == 2
    win.controls.drawn_as.setCurrentIndex(0)  # the grid picture: no matrix bound to tell
    assert "matrix" not in spin.toolTip()


def test_hovering_a_dw_cell_lights_its_weights_entries_of_c_and_sums_its_gradient(window, user) -> None:
    """In the matrix picture a dL/dW cell lights every entry of C its weight sits at, and the line
    under the stage sums dY[row]·x[column] over them to the engine's dL/dW."""
    win = window
    assert win.files.open_preset("conv-as-matrix")
    assert win.model.set_params(mode="backward", in_c=2, out_c=2)
    m, p = win.model, win.model.params
    _, grad_w, _ = engine.conv2d_backward(m.x, m.w, m.run.dz, stride=p.stride, padding=p.engine_padding())
    r = win.renderer
    last: list[object] = [None]

    def settled() -> bool:  # the new picture laid out: its dL/dW cell stays where it is
        f = r.frame
        now = user.cell_point(r, "dw", 1, 2) if f is not None and f.panel("dw") is not None else None
        still, last[0] = now is not None and now == last[0], now
        return still

    user.qtbot.waitUntil(settled)
    user.hover_cell(r, "dw", 1, 2)
    o = m.frame().step.out_channel
    assert win.status.text().startswith(f"W[{o}, 0, 1, 2] sits at 4 entries of C")
    assert r.arith.text.endswith("= " + cell_label(float(grad_w[o, 0, 1, 2])))
    lit = r.marks.highlights["receptive"]
    assert lit.panel == "matrix" and len(lit.cells) == 4
    c_mat = np.asarray(m.frame().panel("matrix").grids[0].values)
    assert all(c_mat[row, q] == m.w[o, 0, 1, 2] for row, q in lit.cells)
