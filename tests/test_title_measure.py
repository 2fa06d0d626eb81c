"""Titles are measured in a scratch document, then sized once: the scene's text item must lay out as
that document did (same type, width, lines), or a title said to fit would overflow its room."""

from __future__ import annotations

import random

from gui.scene import title_fit
from gui.scene.widgets import Title

TEXTS = ["Target T", "Kernel W[0] of 2: 3×3×3", "Input 3×5×5 + padding + overhang", "dL/dY (Y − T)",
         "Kernel 3×3, flipped (turned 180°)", "C 4×16, · = structural zero", "y = C·x",
         "Input X, spread (· = inserted zero) and padded"]


def test_a_fitted_title_item_keeps_within_the_room_the_measurement_promised(qapp) -> None:
    rng = random.Random(3)
    for text in TEXTS:
        for base in (13, 20, 39):
            for room in (rng.uniform(20, 600) for _ in range(12)):
                t = Title()
                t.setText(text)
                short = title_fit.fit_title(t, room, base)
                doc = t.textItem.document()
                lines = title_fit._lines(doc, t.textItem.font().pointSize())
                assert doc.idealWidth() <= room + short + 0.5, (text, base, room)
                assert lines < title_fit.MAX_TITLE_LINES + 0.5 or short > 0, (text, base, room)
                assert t.textItem.font().pointSize() >= title_fit.title_floor(base)
                if short > 0:  # too wide even at the floor: exactly as wide as it reported
                    assert abs(max(room, doc.idealWidth()) - (room + short)) < 1.0, (text, base, room)
