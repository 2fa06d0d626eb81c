"""Opening the pipeline window (Ctrl+L): every event-loop turn it causes, first open and reopen.

Each run is a fresh process (the first Ctrl+L imports the window's modules: pyqtgraph, ``gui.pipeline``
and what it needs), as the app starts it: a 1920x1080 main window on the default lesson, left quiet for a
moment, then the "Pipeline view" action. Every turn from the call until the pipeline window has painted
and stayed quiet for 0.3 s is listed (wall and UI-thread CPU ms), then the same for the window closed and
opened again. Issue 12's goal: no turn over 100 ms.

    .venv/bin/python benchmarks/bench_pipeline_open.py --runs 5
    .venv/bin/python benchmarks/bench_pipeline_open.py --runs 5 --imported   # pyqtgraph + gui.pipeline
                                                                            # imported before (row 11c
                                                                            # has pyqtgraph imported)
    .venv/bin/python benchmarks/bench_pipeline_open.py --preload            # imported in a worker first,
                                                                            # as the app does
    .venv/bin/python benchmarks/bench_pipeline_open.py --profile            # cProfile of the longest turn

Figures depend on the load (2 shared cores here): the summary gives the median and range over runs and
the load average.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUIET_S = 0.3


def child(imported: bool, profile: bool, preload: bool) -> None:
    """One run: print a JSON line ``{"first": [[wall, cpu], ...], "again": [...]}`` (ms per turn), with
    ``preload`` also ``"preload": [longest UI turn, the worker's wall time]`` (ms)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication

    from gui.app import freeze_start_up, paint_on_one_thread
    from gui.mainwindow import MainWindow

    paint_on_one_thread()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    if imported:
        import pyqtgraph  # noqa: F401

        import gui.pipeline  # noqa: F401
    win = MainWindow()
    win.resize(1920, 1080)
    win.show()
    end = time.perf_counter() + 1.5
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)
    freeze_start_up()
    preloaded: list[float] = []
    if preload:  # as the app does a few seconds after its window is up: the UI's longest turn meanwhile
        from PySide6.QtCore import QTimer

        from gui.app import preload_pipeline

        ticker = QTimer()
        ticker.start(10)  # something to do for the loop, as a playing lesson has
        t0 = time.perf_counter()
        worker = preload_pipeline()
        longest = 0.0
        while worker is not None and worker.is_alive():
            t1 = time.perf_counter()
            app.processEvents()
            longest = max(longest, time.perf_counter() - t1)
            time.sleep(0.002)
        preloaded = [longest * 1e3, (time.perf_counter() - t0) * 1e3]
        ticker.stop()
    act = next(a for a in win.findChildren(QAction) if a.text() == "Pi&peline view")

    class Painted(QObject):
        count = 0

        def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
            if ev.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    painted = Painted()
    prof: list[cProfile.Profile] = []

    def turns() -> list[tuple[float, float, str]]:
        out: list[tuple[float, float, str]] = []
        worst = 0.0
        n0 = painted.count
        last = start = time.perf_counter()
        while time.perf_counter() - start < 20:
            n = painted.count
            if profile:
                prof[:] = [cProfile.Profile()]
                prof[0].enable()
            c0, t0 = time.thread_time(), time.perf_counter()
            app.processEvents()
            t1 = time.perf_counter()
            if profile:
                prof[0].disable()
            if t1 - t0 > 1e-3 or painted.count != n:
                out.append(((t1 - t0) * 1e3, (time.thread_time() - c0) * 1e3, ""))
                if profile and t1 - t0 > worst:
                    worst = t1 - t0
                    text = io.StringIO()
                    pstats.Stats(prof[0], stream=text).sort_stats("cumulative").print_stats(30)
                    out[-1] = (*out[-1][:2], text.getvalue())
            busy = win.pipeline is not None and win.pipeline.jobs.busy
            if painted.count != n or busy:
                last = t1
            elif painted.count > n0 and t1 - last > QUIET_S:
                break
            time.sleep(0.002)
        return out

    def opened() -> list[tuple[float, float, str]]:
        c0, t0 = time.thread_time(), time.perf_counter()
        act.trigger()
        wall, cpu = (time.perf_counter() - t0) * 1e3, (time.thread_time() - c0) * 1e3
        painted_now = win.pipeline.view.viewport()
        painted_now.installEventFilter(painted)
        return [(wall, cpu, ""), *turns()]

    first = opened()  # the call turn is not profiled: its imports would dominate
    assert win.pipeline.is_ready
    win.pipeline.close()
    app.processEvents()
    again = opened()
    if profile:
        worst = max(first, key=lambda t: t[0])
        sys.stderr.write(f"longest turn of the first Ctrl+L ({worst[0]:.0f} ms):\n{worst[2]}\n")
    print(json.dumps({"first": [t[:2] for t in first], "again": [t[:2] for t in again],
                      "preload": preloaded}))
    win.pipeline.close()
    win.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--imported", action="store_true",
                    help="import pyqtgraph and gui.pipeline before the main window (no import in the turns)")
    ap.add_argument("--profile", action="store_true", help="one run with cProfile of the first open's turns")
    ap.add_argument("--preload", action="store_true",
                    help="import the window's modules in a worker first, as the app does "
                         "(gui.app.preload_pipeline)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.imported, args.profile, args.preload)
        return 0
    load = os.getloadavg()[0]
    firsts, agains = [], []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    for _ in range(1 if args.profile else args.runs):
        flags = ["--imported"] * args.imported + ["--profile"] * args.profile + ["--preload"] * args.preload
        cmd = [sys.executable, __file__, "--child", *flags]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            return 1
        if args.profile:
            sys.stderr.write(proc.stderr)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        fmt = lambda ts: " ".join(f"{w:.0f}/{c:.0f}" for w, c in ts)  # noqa: E731
        print(f"first: {fmt(res['first'])}\n again: {fmt(res['again'])}")
        if res["preload"]:
            print(f"preload: the UI's longest turn {res['preload'][0]:.0f} ms while the worker imported "
                  f"for {res['preload'][1]:.0f} ms")
        firsts.append(max(res["first"]))
        agains.append(max(res["again"]))
    for name, xs in (("first Ctrl+L", firsts), ("Ctrl+L again", agains)):
        walls = sorted(w for w, _c in xs)
        cpus = sorted(c for _w, c in xs)
        print(f"{name}: longest turn median {walls[len(walls) // 2]:.0f} ms "
              f"(range {walls[0]:.0f}-{walls[-1]:.0f}), its cpu median {cpus[len(cpus) // 2]:.0f} ms")
    how = ("pyqtgraph and gui.pipeline imported before" if args.imported
           else "preloaded in a worker" if args.preload else "imports in the turns")
    print(f"runs {len(firsts)}; {how};"
          f" load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end; {os.cpu_count()} cpus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
