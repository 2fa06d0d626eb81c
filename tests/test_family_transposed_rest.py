"""Issue 13, the rest of transposed convolution: the gather view's dL/dX dimmed where the forward
picture dims, the gradient check (Ctrl+G), and groups (kernels titled with their group, Copy as
PyTorch passing ``groups=``).

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import numpy as np

from gui.models.lesson import Lesson
from gui.models.params import Params

T = "conv_transpose"


def lesson(**kw: object) -> Lesson:
    m = Lesson(Params(**kw))  # type: ignore[arg-type]
    assert not m.last_error, m.last_error
    return m


# --------------------------------------------------------------------------- the gather view's dL/dX
def test_the_gather_views_spread_gradient_dims_inserted_and_padding_cells_as_the_forward_picture() -> None:
    m = lesson(op=T, in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1), mode="backward",
               grad_view="gather", upstream="random")
    forward_kinds = lesson(op=T, in_h=3, in_w=3, stride=(2, 2), padding=(1, 1, 1, 1)).frame(0) \
        .panel("input").grids[0].kinds  # type: ignore[union-attr]
    assert forward_kinds is not None and (forward_kinds == 3).any() and (forward_kinds == 1).any()
    for k in (0, m.n_steps - 1):
        f = m.frame(k)
        assert f.phase == "gather"
        g = f.panel("output").grids[0]  # type: ignore[union-attr]
        np.testing.assert_array_equal(g.kinds, forward_kinds)
    # Each cell keeps the number it received: dimmed, not blanked nor "·".
    last = m.frame(m.n_steps - 1).panel("output").grids[0]  # type: ignore[union-attr]
    assert "·" not in last.labels and "" not in last.labels
    # A convolution's gather view hatches its padding ring the same way.
    c = lesson(mode="backward", grad_view="gather").frame(0).panel("output").grids[0]  # type: ignore[union-attr]
    assert c.kinds is not None and c.kinds[0, 0] == 1 and c.kinds[1, 1] == 0
