"""How many digits drawn on the canvas the trained LeNet-5 reads right (prints a table; asserts nothing).

Run from the checkout: ``.venv/bin/python benchmarks/canvas_digits.py``. Each digit 0–9 is
drawn as mouse strokes would draw it (``InkCanvas.stroke``, pen radius 6 on
128×128), in several variants: as drawn, smaller and off-centre, slanted,
and with a thinner or thicker pen. None of these is in the training data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Stroke = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> Stroke:
    """Points on an ellipse from angle ``a0`` to ``a1`` (degrees, 0 = top, clockwise)."""
    t = np.radians(np.linspace(a0, a1, n))
    return [(cx + rx * np.sin(v), cy - ry * np.cos(v)) for v in t]


#: Each digit as strokes on a 128×128 canvas (x along columns, y down).
DIGITS: dict[int, list[Stroke]] = {
    0: [arc(64, 64, 30, 46, 0, 360, 48)],
    1: [[(52, 30), (66, 14), (66, 114)]],
    2: [[*arc(64, 42, 28, 26, -80, 120), (34, 110), (98, 110)]],
    3: [arc(62, 38, 26, 24, -70, 180), arc(62, 86, 30, 26, 0, 220)],
    4: [[(76, 14), (30, 78), (100, 78)], [(78, 44), (78, 116)]],
    5: [[(94, 16), (44, 16), (40, 58), *arc(62, 82, 32, 30, -60, 220)]],
    6: [[(84, 16), (54, 40), *arc(62, 84, 28, 30, -70, 290)]],
    7: [[(30, 18), (98, 18), (54, 114)]],
    8: [arc(64, 38, 24, 24, 180, 540), arc(64, 88, 30, 28, 0, 360)],
    9: [arc(62, 42, 28, 26, 90, 450), [(90, 42), (84, 114)]],
}


def variants(strokes: list[Stroke]) -> dict[str, tuple[list[Stroke], float]]:
    """Named versions of a drawing: ``(strokes, pen radius)``."""
    def moved(f):  # type: ignore[no-untyped-def]
        return [[f(x, y) for x, y in s] for s in strokes]
    return {
        "as drawn": (strokes, 6.0),
        "small, top left": (moved(lambda x, y: (20 + 0.55 * x, 12 + 0.55 * y)), 4.0),
        "slanted": (moved(lambda x, y: (x + 0.25 * (64 - y), y)), 6.0),
        "thin pen": (strokes, 3.0),
        "thick pen": (strokes, 9.0),
    }


def main() -> int:
    from gui.models import digits
    from gui.models.canvas import InkCanvas

    if not digits.is_trained():
        print("no trained weights are installed: nothing to measure")
        return 1
    right = total = 0
    print("digit  " + "  ".join(f"{name:>15}" for name in variants(DIGITS[0])))
    for d, strokes in DIGITS.items():
        cells = []
        for drawing, radius in variants(strokes).values():
            c = InkCanvas(radius=radius)
            for s in drawing:
                c.stroke(s)
            p = digits.probabilities(digits.digit_input(np.array(c.picture)))
            got = int(np.argmax(p))
            right += got == d
            total += 1
            cells.append(f"{'ok' if got == d else 'read ' + str(got)} {100 * p[got]:5.1f}%")
        print(f"{d:>5}  " + "  ".join(f"{c:>15}" for c in cells))
    print(f"{right} of {total} drawn digits read right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
