"""A picture of the pipeline window reading a digit drawn on its canvas, made by the app itself.

Run from the checkout (offscreen, no display needed; or under Xvfb with ``DISPLAY`` set)::

    .venv/bin/python benchmarks/canvas_screenshot.py --out resources/screenshot-pipeline-digit.png

The pipeline window opens as Ctrl+L opens it (trained LeNet-5), the canvas is
cleared and a digit is drawn on it with mouse presses, moves and releases
(the same events a hand with a mouse sends), then the window is grabbed.
It also prints what the network read and how long the last drawing took to
reach the bars (one forward pass and one repaint of every stage; noisy on a
loaded machine).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

#: Strokes of a few digits in canvas cells (128×128): lists of (x, y) points, pen down to pen up.
DIGITS: dict[str, list[list[tuple[float, float]]]] = {
    "7": [[(30, 22), (64, 20), (98, 22), (84, 48), (70, 76), (58, 112)], [(50, 66), (88, 64)]],
    "2": [[(34, 40), (48, 20), (76, 16), (94, 34), (90, 56), (60, 86), (32, 110), (66, 108), (100, 108)]],
    "3": [[(34, 24), (70, 14), (92, 34), (62, 58), (94, 80), (72, 110), (32, 104)]],
}


def densify(points: list[tuple[float, float]], step: float = 3.0) -> list[tuple[float, float]]:
    """Points every ``step`` cells along a polyline, as a moving mouse reports them."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = max(int(np.hypot(x1 - x0, y1 - y0) / step), 1)
        out += [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.linspace(0, 1, n + 1)[1:]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digit", default="7", choices=sorted(DIGITS))
    ap.add_argument("--size", default="1700x900", metavar="WxH")
    ap.add_argument("--theme", default="light")
    ap.add_argument("--out", default=str(ROOT / "resources" / "screenshot-pipeline-digit.png"))
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from gui.pipeline import PipelineWindow

    app = QApplication.instance() or QApplication(["convviz"])
    win = PipelineWindow(theme=args.theme)
    win.resize(width, height)
    win.show()
    for _ in range(5):
        app.processEvents()
    canvas = win.digits.canvas
    canvas.clear()
    r = canvas.paper()
    rows, cols = canvas.model.shape

    def pixel(p: tuple[float, float]) -> QPoint:
        return QPoint(round(r.left() + p[0] / cols * r.width()), round(r.top() + p[1] / rows * r.height()))

    left = Qt.MouseButton.LeftButton
    for stroke in DIGITS[args.digit]:
        pts = densify(stroke)
        QTest.mousePress(canvas, left, Qt.KeyboardModifier.NoModifier, pixel(pts[0]))
        for p in pts[1:]:
            QTest.mouseMove(canvas, pixel(p))
        t0 = time.perf_counter()
        QTest.mouseRelease(canvas, left, Qt.KeyboardModifier.NoModifier, pixel(pts[-1]))
        last = time.perf_counter() - t0
    for _ in range(5):
        app.processEvents()
    ok = win.grab().save(args.out)
    print(f"{win.digits.headline.text()}; the last stroke reached the bars in {1000 * last:.1f} ms")
    win.close()
    if not ok:
        sys.stderr.write(f"canvas_screenshot: could not write {args.out}\n")
        return 1
    print(f"wrote {args.out} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
