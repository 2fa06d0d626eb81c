"""Export memory benchmark: peak memory of ``convviz export`` for 100 and for 3,000 frames, per format.

Every format streams its frames to the file (a GIF from one palette, then one
frame at a time; MP4 piped to ffmpeg; PDF a page at a time; JSON a frame at a
time; PNG a file per frame), so the peak resident memory of a 3,000-frame
export should be that of a 100-frame one: the goal is within 20%.

Each export runs in a child process of its own (the command line, as a
lecturer would run it) on the LeNet-5 C1 preset (4,704 steps); its peak RSS
comes from the kernel (``os.wait4``), and its time is the wall clock.

Run from the checkout::

    .venv/bin/python benchmarks/bench_export.py                  # every format, 640x360, a few minutes
    .venv/bin/python benchmarks/bench_export.py --formats gif json --size 1280x720
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNTS = (100, 3000)
FORMATS = ("gif", "mp4", "png", "pdf", "json")
GOAL = 1.20  # 3,000 frames may take at most 20% more memory than 100


def run_export(fmt: str, frames: int, size: str, folder: Path) -> tuple[float, float, int]:
    """Peak RSS (MB), seconds and exit code of one ``convviz export`` child process."""
    out = folder / ("frames" if fmt == "png" else f"bench.{fmt}")
    cmd = [sys.executable, str(ROOT / "main.py"), "export", "--preset", "lenet5-c1", "--format", fmt,
           "--out", str(out), "--steps", f"0:{frames}", "--size", size]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, seconds, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    ap.add_argument("--size", default="640x360", help="picture size (default 640x360)")
    args = ap.parse_args()
    print(f"convviz export, lenet5-c1, {args.size}: peak RSS of the process (MB) and wall time")
    print(f"{'format':8s}" + "".join(f"{f'{n:,} frames':>24s}" for n in COUNTS) + f"{'ratio':>8s}  goal")
    missed = 0
    for fmt in args.formats:
        cells, peaks = [], []
        for n in COUNTS:
            with tempfile.TemporaryDirectory() as d:
                peak, seconds, code = run_export(fmt, n, args.size, Path(d))
            if code != 0:
                print(f"{fmt:8s} failed with exit code {code} at {n} frames")
                return 1
            peaks.append(peak)
            cells.append(f"{peak:8.0f} MB {seconds:7.1f} s")
        ratio = peaks[1] / peaks[0]
        ok = ratio <= GOAL
        missed += not ok
        print(f"{fmt:8s}" + "".join(f"{c:>24s}" for c in cells) + f"{ratio:8.2f}  {'PASS' if ok else 'MISS'}"
              f" (<= {GOAL:.2f})", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
