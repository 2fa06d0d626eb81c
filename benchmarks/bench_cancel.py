"""How fast a running computation stops (Cancel, a newer change, closing the window) at the largest setting.

Run from the checkout (offscreen by default)::

    .venv/bin/python benchmarks/bench_cancel.py     # about a minute or two on 2 cores

``bench_gui.py`` prints the same figures as its row 15. For each way of stopping, the
heaviest allowed lesson change (16x512x512, 16 -> 16 channels, 15x15 kernels,
backward) is started through the panel's controller and stopped once the worker has
made ``MID`` checks (well into the work); measured are the time from the stop to the
worker's exit (goal < 0.2 s), the longest gap between two event-loop iterations
meanwhile (a 10 ms timer; goal < 100 ms), and the worker's own longest and 99th
percentile interval between two checks (the cancel latency's floor). The gradient
check (Cancel beside "Checking the gradient…") and the pipeline window's worker are
measured the same way, and so is reading a 12-megapixel photo (JPEG, 4000x3000) into
a 512x512 RGB grid (the heaviest picture path: the whole photo decoded and averaged)
stopped by Cancel, by a newer change and by closing, after ``PICTURE_MID`` checks
(the decoder asks before every 16 KB of the file, the averaging between bands of
rows). ``bench_picture_load`` times the same photo landing (into the default 28x28
grid and into 512x512 RGB) and the event loop's longest gap meanwhile.
``bench_export_cancel`` runs a long GIF and MP4 export through the window (on the UI
thread, with its modal progress dialog) and presses the dialog's Cancel after
``EXPORT_CANCEL_AFTER`` s: the time from Cancel to the export's return, and the event
loop's longest gap before the first frame and after it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from gui.controllers import lesson as lesson_ctl  # noqa: E402
from gui.models import cancel  # noqa: E402
from gui.models.choices import BOUNDS  # noqa: E402
from gui.models.params import Params  # noqa: E402

#: Checks the worker has made when it is stopped (a largest-setting change makes about 3,000).
MID = 600
#: Checks a picture read has made when it is stopped (the 12-MP photo into 512x512 makes about 320).
PICTURE_MID = 100
#: Seconds into a long export when its Cancel is pressed.
EXPORT_CANCEL_AFTER = 2.0
#: Goals: from the stop to the worker's exit, and the event loop's longest gap meanwhile.
EXIT_GOAL, GAP_GOAL = 0.2, 0.1


class TimedToken(cancel.StopToken):
    """A ``StopToken`` that remembers when it was asked (the worker's intervals between checks)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.cpu: list[float] = []  # the worker thread's own CPU time: what waiting for a core leaves out

    def __call__(self) -> bool:
        self.times.append(time.perf_counter())
        self.cpu.append(time.thread_time())
        return super().__call__()


def _largest() -> dict[str, int]:
    return {n: BOUNDS[n][1] for n in ("in_h", "in_w", "in_c", "out_c", "k_h", "k_w")}


def _stop_and_time(app: QApplication, start: Callable[[], TimedToken], stop: Callable[[], object],
                   mid: int = MID) -> dict[str, float]:
    """``start()`` a job, wait for ``mid`` checks, ``stop()`` it: seconds to the worker's exit, the gaps."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    token = start()
    ticks.append(time.perf_counter())
    while token.checks < mid and lesson_ctl.running_jobs():
        app.processEvents()
        time.sleep(0.001)
    t_stop = time.perf_counter()
    stop()
    while lesson_ctl.running_jobs():
        app.processEvents()
        time.sleep(0.0005)
    t_exit = time.perf_counter()
    timer.stop()
    app.processEvents()
    gaps = np.diff(sorted([*ticks, t_stop, t_exit]))
    checks, cpu = np.diff(token.times), np.diff(token.cpu)
    return {"exit": t_exit - t_stop, "ui_gap": float(gaps.max()), "checks": float(token.checks),
            "check_max": float(checks.max()), "check_p99": float(np.percentile(checks, 99)),
            "cpu_max": float(cpu.max()), "cpu_p99": float(np.percentile(cpu, 99))}


def _shown(app: QApplication, win: QWidget) -> None:
    """Show ``win`` and let it paint (a big lesson's first picture is not part of any measure)."""
    win.show()
    for _ in range(5):
        app.processEvents()
    win.grab()
    app.processEvents()


def bench_cancel(app: QApplication) -> dict[str, dict[str, float]]:
    """Stop the largest lesson change by Cancel, by a newer change and by closing the window; stop a
    gradient check of the largest lesson by its Cancel; stop a big pipeline change by its Cancel."""
    from engine import network as nw
    from gui.controllers import latest
    from gui.mainwindow import MainWindow
    from gui.pipeline import PipelineWindow

    out: dict[str, dict[str, float]] = {}
    made: list[TimedToken] = []

    def timed() -> TimedToken:
        made.append(TimedToken())
        return made[-1]

    saved = latest.StopToken  # every worker job's token is made there
    latest.StopToken = timed  # type: ignore[misc,assignment]
    try:
        big = _largest()
        small = dict(in_h=20, in_w=20, in_c=1, out_c=1, k_h=3, k_w=3)  # applied at once
        for how in ("Cancel", "newer change", "close"):
            win = MainWindow(Params(in_h=32, in_w=32, mode="backward"))
            _shown(app, win)
            ctl = win.lesson_ctl
            stop: Callable[[], object] = {
                "Cancel": win.controls.cancel.click,
                "newer change": lambda c=ctl: c.change(**small),
                "close": win.close,
            }[how]
            out[f"change, {how}"] = _stop_and_time(app, lambda c=ctl: c.change(**big) and made[-1], stop)
            win.close()
            win.deleteLater()
            app.processEvents()

        win = MainWindow(Params(mode="backward"))
        win.model.set_params(**big)  # on the UI thread: the benchmark waits, nobody watches
        _shown(app, win)
        win.stage.selected = ("w", (1, 0, 4, 4))

        def start_check() -> TimedToken:
            win.stage.check_gradient()
            return made[-1]

        out["gradient check, Cancel"] = _stop_and_time(app, start_check, win.controls.check_cancel.click)
        win.close()
        win.deleteLater()

        pipe = PipelineWindow()
        _shown(app, pipe)
        net = nw.Network((3, 512, 512), (nw.Conv(16, 15, padding=7), nw.Activation("relu"),
                                         nw.Conv(16, 15, padding=7)))

        def start_pipeline() -> TimedToken:
            pipe.model.set_network(net)
            return made[-1]

        out["pipeline, Cancel"] = _stop_and_time(app, start_pipeline, pipe.cancel.click)
        pipe.close()
        pipe.deleteLater()
        app.processEvents()
        _stop_picture(app, made, out)
    finally:
        latest.StopToken = saved  # type: ignore[misc]
    return out


def _stop_picture(app: QApplication, made: list[TimedToken], out: dict[str, dict[str, float]]) -> None:
    """Read the 12-MP photo into 512x512 RGB and stop it by Cancel, by a newer change and by closing."""
    from gui.mainwindow import MainWindow

    with tempfile.TemporaryDirectory() as d:
        path = make_photo(Path(d) / "photo.jpg")
        for how in ("Cancel", "newer change", "close"):
            win = MainWindow()
            _shown(app, win)
            stop: Callable[[], object] = {
                "Cancel": win.controls.cancel.click,
                "newer change": lambda w=win: w.lesson_ctl.change(seed=5),
                "close": win.close,
            }[how]

            def start(w: MainWindow = win) -> TimedToken:
                w.files.open_picture(path, gray=False, size=(512, 512))
                return made[-1]

            out[f"picture, {how}"] = _stop_and_time(app, start, stop, PICTURE_MID)
            win.close()
            win.deleteLater()
            app.processEvents()


def make_photo(path: Path, w: int = 4000, h: int = 3000) -> Path:
    """A 12-megapixel photo-like JPEG (smooth bands and noise, as ``bench_images.py`` makes)."""
    from PySide6.QtGui import QImage

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w]
    r = ((np.sin(x / 97.0) + np.cos(y / 53.0)) * 60 + 128 + rng.integers(-20, 20, (h, w))).clip(0, 255)
    rgb = np.ascontiguousarray(np.stack([r, r[::-1], r[:, ::-1]], -1).astype(np.uint8))
    if not QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).save(str(path), quality=90):
        raise OSError(f"could not write {path}")
    return path


def bench_picture_load(app: QApplication) -> dict[str, dict[str, float]]:
    """Seconds until the 12-MP photo's grid is the input (28x28 grey, 512x512 RGB), and the event loop's
    longest gap meanwhile (a 10 ms timer)."""
    from gui.mainwindow import MainWindow

    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        path = make_photo(Path(d) / "photo.jpg")
        for label, gray, size in (("28x28 grey", True, (28, 28)), ("512x512 RGB", False, (512, 512))):
            win = MainWindow()
            _shown(app, win)
            ticks: list[float] = []
            timer = QTimer()
            timer.setInterval(10)
            timer.timeout.connect(lambda t=ticks: t.append(time.perf_counter()))
            timer.start()
            t0 = time.perf_counter()
            background = win.files.open_picture(path, gray=gray, size=size) and win.files.pictures.loading
            ticks.append(time.perf_counter())
            while win.files.pictures.loading:
                app.processEvents()
                time.sleep(0.0005)
            t1 = time.perf_counter()
            timer.stop()
            win.stage.redraw()
            win.renderer.grab()  # the new picture painted
            t2 = time.perf_counter()
            gaps = np.diff(sorted([t0, *ticks, t1]))
            ok = win.model.params.in_h == size[0] and win.model.params.in_c == (1 if gray else 3)
            out[f"12-MP -> {label}"] = {"land": t1 - t0, "painted": t2 - t0, "ui_gap": float(gaps.max()),
                                              "background": float(bool(background)), "ok": float(ok)}
            win.close()
            win.deleteLater()
            app.processEvents()
    return out


def bench_export_cancel(app: QApplication) -> dict[str, dict[str, float]]:
    """A 64x64 lesson (4,096 steps) exported as GIF and as MP4 at a 1920x1080 window's stage size, cancelled
    from the progress dialog after ``EXPORT_CANCEL_AFTER`` s."""
    from PySide6.QtWidgets import QProgressDialog

    from gui.mainwindow import MainWindow

    out: dict[str, dict[str, float]] = {}
    for fmt in ("gif", "mp4"):
        win = MainWindow(Params(in_h=64, in_w=64))
        win.resize(1920, 1080)
        _shown(app, win)
        ticks: list[float] = []
        asked: list[float] = []
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda t=ticks: t.append(time.perf_counter()))

        def press_cancel(w: MainWindow = win, a: list[float] = asked) -> None:
            for dlg in w.findChildren(QProgressDialog):
                a.append(time.perf_counter())
                dlg.cancel()

        QTimer.singleShot(int(EXPORT_CANCEL_AFTER * 1000), press_cancel)
        with tempfile.TemporaryDirectory() as d:
            timer.start()
            t0 = time.perf_counter()
            win.files.run_export(fmt, str(Path(d) / f"out.{fmt}"), range(win.model.n_steps), 1.0, 10.0)
            t1 = time.perf_counter()
            timer.stop()
        when = sorted([t0, *ticks, t1])
        gaps = np.diff(when)
        out[f"export {fmt.upper()} {win.renderer.width()}x{win.renderer.height()}"] = {
            "cancel": t1 - asked[0] if asked else float("nan"), "first": float(gaps[0]),
            "gap": float(gaps[1:].max()) if len(gaps) > 1 else float("nan"),
            "p50": float(np.median(gaps)), "frames_s": t1 - t0}
        win.close()
        win.deleteLater()
        app.processEvents()
    return out


def report_export(res: dict[str, dict[str, float]]) -> list[str]:
    """One line per export format."""
    return [f"{what}, Cancel after {EXPORT_CANCEL_AFTER:.0f} s: returned {r['cancel'] * 1e3:.0f} ms after "
            f"Cancel; event loop's gap before the first frame {r['first'] * 1e3:.0f} ms, then longest "
            f"{r['gap'] * 1e3:.0f} ms, median {r['p50'] * 1e3:.0f} ms" for what, r in res.items()]


def report_load(res: dict[str, dict[str, float]]) -> list[str]:
    """One line per picture load."""
    return [f"{what}: {'in a worker' if r['background'] else 'on the UI thread'}, input after "
            f"{r['land'] * 1e3:.0f} ms, painted after {r['painted'] * 1e3:.0f} ms, event loop's longest gap "
            f"{r['ui_gap'] * 1e3:.0f} ms while it loaded{'' if r['ok'] else ' (WRONG SHAPE)'}"
            for what, r in res.items()]


def worst(res: dict[str, dict[str, float]]) -> tuple[float, float]:
    """The slowest exit, and the longest event-loop gap but while closing (the window waits for the
    worker there on purpose: that gap is the exit time)."""
    return (max(r["exit"] for r in res.values()),
            max(r["ui_gap"] for how, r in res.items() if "close" not in how))


def report(res: dict[str, dict[str, float]]) -> list[str]:
    """One line per way of stopping."""
    return [f"{how}: worker exit {r['exit'] * 1e3:.0f} ms after the stop, event loop's longest gap "
            f"{r['ui_gap'] * 1e3:.0f} ms; stopped after {r['checks']:.0f} checks; between two checks the "
            f"worker took max {r['check_max'] * 1e3:.0f} ms, p99 {r['check_p99'] * 1e3:.0f} ms "
            f"(its own CPU time max {r['cpu_max'] * 1e3:.0f} ms, p99 {r['cpu_p99'] * 1e3:.0f} ms)"
            for how, r in res.items()]


def main() -> int:
    from gui.app import paint_on_one_thread

    paint_on_one_thread()  # as the app does
    app = QApplication.instance() or QApplication([sys.argv[0]])
    load = os.getloadavg()[0]
    res = bench_cancel(app)
    worst_exit, worst_gap = worst(res)
    print(f"convviz cancel benchmark ({os.cpu_count()} cpus, load average {load:.1f} at start)")
    for line in report(res):
        print(line)
    ok = worst_exit < EXIT_GOAL and worst_gap < GAP_GOAL
    for line in report_load(bench_picture_load(app)) + report_export(bench_export_cancel(app)):
        print(line)
    print(f"worst: exit {worst_exit * 1e3:.0f} ms (goal < {EXIT_GOAL * 1e3:.0f}), event-loop gap "
          f"{worst_gap * 1e3:.0f} ms (goal < {GAP_GOAL * 1e3:.0f}): {'PASS' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
