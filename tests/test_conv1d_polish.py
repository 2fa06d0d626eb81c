"""Issue 13, the 1-D convolution's loose ends: a lesson built directly with 2-D heights, reflect,
replicate and circular padding (held against torch), every channel row a window reads lit, 1-D
indices in every text that names a cell, and causal layers in the pipeline's dialog and menu.

This module must not import PySide6 or pyqtgraph (nor need a QApplication).
"""

from __future__ import annotations

import numpy as np
import pytest

from gui.models.lesson import Lesson
from gui.models.params import Params


def test_a_1d_lesson_built_with_2d_heights_is_made_height_1_as_set_params_does() -> None:
    p = Params(op="conv1d", in_h=5, k_h=3, in_w=12, k_w=3, stride=(2, 1), dilation=(2, 2),
               padding=(1, 1, 2, 0), pad_kind="asymmetric")
    built = Lesson(p)
    changed = Lesson(Params())
    assert changed.set_params(op="conv1d", in_h=5, k_h=3, in_w=12, k_w=3, stride=(2, 1), dilation=(2, 2),
                              padding=(1, 1, 2, 0), pad_kind="asymmetric")
    assert built.params == changed.params
    assert built.params.in_h == built.params.k_h == 1
    assert (built.params.in_w, built.params.k_w, built.params.dilation, built.params.padding) == (
        12, 3, (1, 2), (0, 0, 2, 0))
    assert built.x.shape == (1, 1, 12)
    assert built.frame().panels[0].title.startswith("Signal X: 1 channel × length 12, padded 2 left, 0 right")
