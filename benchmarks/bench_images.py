"""Reading pictures into the input grid: time and peak memory for the sizes a lecturer meets.

Rows (goal from issue 12): a 12-megapixel phone photo (JPEG) into the default 28x28 grid under 0.3 s; a
7000x7000 PNG into 28x28; a 256x256 PNG up to 512x512; the photo and the PNG into 512x512 RGB (the whole
picture decoded and averaged, a band of rows at a time). Each picture is made fresh in a temporary folder
(smooth bands plus noise, like a photo); each row runs in its own process so peak memory is its own.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_images.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAKE = """
import sys, numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
app = QApplication([])
w, h, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
y, x = np.mgrid[0:h, 0:w]
r = ((np.sin(x / 97.0) + np.cos(y / 53.0)) * 60 + 128 + rng.integers(-20, 20, (h, w))).clip(0, 255)
rgb = np.ascontiguousarray(np.stack([r, r[::-1], r[:, ::-1]], -1).astype(np.uint8))
img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
assert img.save(out, quality=90)
"""

READ = """
import resource, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.images import read_image
size = (abs(int(sys.argv[2])), int(sys.argv[3]))
t = time.perf_counter()
a = read_image(sys.argv[1], size=size, gray=int(sys.argv[2]) > 0)  # a negative height: RGB
dt = time.perf_counter() - t
print(f"{dt:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""

ROWS = [
    ("12 MP photo (JPEG) -> 28x28", (4000, 3000, "photo.jpg"), (28, 28), 0.3),
    ("7000x7000 PNG -> 28x28", (7000, 7000, "huge.png"), (28, 28), None),
    ("256x256 PNG -> 512x512", (256, 256, "small.png"), (512, 512), None),
    ("12 MP photo (JPEG) -> 512x512 RGB", (4000, 3000, "photo.jpg"), (-512, 512), None),
    ("7000x7000 PNG -> 512x512 RGB", (7000, 7000, "huge.png"), (-512, 512), None),
]


def main() -> int:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    print(f"{'picture':34s} {'goal':>8s} {'time':>8s} {'peak RSS':>9s} result")
    with tempfile.TemporaryDirectory() as d:
        for name, (w, h, file), (gh, gw), goal in ROWS:
            path = str(Path(d) / file)
            subprocess.run([sys.executable, "-c", MAKE, str(w), str(h), path], env=env, check=True)
            out = subprocess.run([sys.executable, "-c", READ, path, str(gh), str(gw)], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()
            t, rss = float(out[0]), float(out[1])
            verdict = "" if goal is None else ("PASS" if t < goal else "MISS")
            goal_s = "" if goal is None else f"< {goal} s"
            print(f"{name:34s} {goal_s:>8s} {t:7.3f}s {rss:7.0f} MB {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
