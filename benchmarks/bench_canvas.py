"""How long drawing on the pipeline's canvas takes, piece by piece (prints figures; asserts nothing).

Run from the checkout: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_canvas.py``.
The canvas emits at most one rerun per 40 ms while the pen moves, so a rerun
(preparing the drawing, LeNet-5's forward pass, the saliency, every stage
repainted) well under 40 ms keeps the window responsive.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def best_ms(f: Callable[[], object], repeat: int = 20) -> tuple[float, float]:
    """Median and worst of ``repeat`` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(1000 * (time.perf_counter() - t0))
    return float(np.median(times)), float(max(times))


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from gui.models import digits
    from gui.models.canvas import InkCanvas, paint_segment
    from gui.models.pipeline import PipelineState
    from gui.pipeline import PipelineWindow

    grid = np.zeros((128, 128))
    rows = [("one stroke segment (radius 6, 3 cells long)",
             best_ms(lambda: paint_segment(grid, (60.0, 60.0), (63.0, 61.0), 6.0), 200))]
    c = InkCanvas()
    c.stroke([(30, 20), (98, 20), (52, 112)])
    picture = np.array(c.picture)
    rows.append(("digit_input (crop, scale, centre)", best_ms(lambda: digits.digit_input(picture))))
    s = PipelineState()
    rows.append(("set_drawing (digit_input + LeNet-5 forward)", best_ms(lambda: s.set_drawing(picture))))
    rows.append(("saliency of the winner (whole-network backward)", best_ms(lambda: s.saliency())))
    from gui.app import paint_on_one_thread

    paint_on_one_thread()  # as the app does
    app = QApplication.instance() or QApplication(["convviz"])
    win = PipelineWindow()
    win.resize(1700, 900)
    win.show()
    app.processEvents()

    def rerun() -> None:
        win.model.set_drawing(picture)
        app.processEvents()

    rows.append(("a whole rerun in the window (+ every stage, bars, saliency repainted)", best_ms(rerun)))
    win.close()
    print("canvas timings (median / worst of the runs; noisy on a shared machine):")
    for name, (med, worst) in rows:
        print(f"  {name:<72} {med:8.3f} ms  {worst:8.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
