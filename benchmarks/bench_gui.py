"""GUI timing benchmarks for convviz: prints each figure with its goal and PASS/MISS.

Run from the checkout (offscreen by default)::

    .venv/bin/python benchmarks/bench_gui.py            # all five measurements, ~30 s
    .venv/bin/python benchmarks/bench_gui.py --profile  # plus cProfile of the in-process ones
    .venv/bin/python benchmarks/bench_gui.py --only 7   # export speed alone (rows 7 and 8)
    .venv/bin/python benchmarks/bench_gui.py --only 1b  # new values on a 32x32 lesson, 200 changes
    .venv/bin/python benchmarks/bench_gui.py --only 11c # each action's longest turn, heaviest setting

Measurements
------------
1. Parameter change to painted window, 32x32 input with values (conv 3x3, padding 1):
   ``model.set_params(stride=1 or 2)``, then the event loop's pending work
   (layout, repaint) as the running app would do it; goal < 16 ms.
2. The same with a 256x256 three-channel (colour) input, values hidden; goal < 50 ms.
3. Playback at 60 steps/s on a 32x32 input for ~3 s: steps played vs expected,
   ``controller.dropped``, steps never painted, and paint/tick times.
4. Scrubbing a 512x512 convolution (262,144 steps): ``model.set_step(random k)``
   then repaint; goal < 16 ms per jump.
6. A backward step (gradients, flow lines) on a 32x32 input: goal < 16 ms.
7. Export: a GIF's and a PNG sequence's time per frame against the on-screen
   step + paint of the same lesson on a stage of the same size (1280x720);
   goal under 2x. Five interleaved rounds (on-screen steps, GIF, PNG), medians
   and each round's ratio; CPU time per frame beside it (``bench_export``).
8. A 100-frame GIF at 1280x720; goal under 5 s.
9. Cold start to the first painted window, in subprocesses: an empty PySide6
   window vs convviz started as ``convviz`` starts (``gui.app.main``: the
   window's frame paints first, the lesson is built right after); goal < 3x
   the empty window. The detail line also gives the time until the stage shows
   the lesson (and its ratio), and what importing pyqtgraph alone costs (the
   main window's path imports none), measured in the same run. Medians of interleaved runs, with
   bytecode cached as an install has it (pip compiles on install; a private
   cache dir, after one warm-up run each); the detail line also gives the
   ratio when every one of our modules is compiled at each start
   (PYTHONDONTWRITEBYTECODE, as in this sandbox).
10. Pipeline: a 256x256 RGB picture through three 3x3 convolutions (with ReLU),
    every feature map drawn; goal < 100 ms.
11. The heaviest allowed setting (16x512x512, 16 -> 16 channels, 15x15, backward)
    asked through the panel's controller: the longest gap between event-loop
    iterations while a worker computes it (goal < 50 ms), and (11b) the UI
    thread's commit + first paint of the new picture (goal < 100 ms; its CPU
    time beside it, which a loaded machine inflates less). ``--no-heavy`` skips
    it; ``--heavy-kernel 3`` runs the same grids with 3x3 kernels (the UI
    thread's share is the same, the worker's ~25x smaller).
11c. At that setting, each action a lecturer takes, through its menu action (or the window's resize):
    expand/collapse channels, presenter mode on/off, a resize to 1400x860 and back, the three themes, text
    zoom in/out, three steps, the first Ctrl+L; per action the longest event-loop turn it causes (the
    call's and each one after until the stage, or the pipeline window, has painted and stayed quiet
    ``QUIET_S``), goal < 100 ms; three rounds (the median round is the figure, the worst beside it) and
    that turn's UI-thread CPU time, which a loaded machine inflates less. ``--only 11c`` runs it alone.
    The pipeline window's modules are imported before, in a worker, as the app does a few seconds after
    it starts (``gui.app.preload_pipeline``; ``bench_pipeline_open.py`` measures a Ctrl+L before that).
15. Stopping a computation (``bench_cancel.py``): the largest change stopped by
    Cancel, a newer change and closing the window, a gradient check and a pipeline
    change by their Cancel; time to the worker's exit (goal < 0.2 s) and the event
    loop's longest gap meanwhile (goal < 100 ms); skipped with ``--no-heavy``.
1b. Row 1 with new values every time (nothing drawn before can be reused).
12. The stage view (input plane below, output above, footprint and lines) on a 32x32 input with
    values: a random step, then repaint; goal < 16 ms.
13. Row 3 in the stage view: playback at 60 steps/s, no step dropped or left unpainted.

Notes on what "painted" means: the scene is a ``QGraphicsView``; its items are
drawn by the *viewport* widget. ``SceneRenderer.repaint()`` repaints only the
view's frame (about 2 ms, no grid is drawn), so this script waits for a paint
event of ``renderer.viewport()`` and times it with an event filter (the same
``viewportEvent`` call Qt's own scroll-area filter makes). The window is
1920x1080 (the lecture-hall full screen), where a 32x32 input's cells are big
enough (>= 16 px) for their values to be drawn.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer, QtMsgType, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.bench_cancel import EXIT_GOAL, GAP_GOAL, bench_cancel, report, worst  # noqa: E402
from gui.app import freeze_start_up, paint_on_one_thread  # noqa: E402
from gui.mainwindow import MainWindow  # noqa: E402
from gui.models.params import Params  # noqa: E402

paint_on_one_thread()  # as the app does before its first paint

WINDOW = (1920, 1080)
RUNS = 30
WARMUP = 2
PLAY_SECONDS = 3.0
PLAY_SPEED = 60.0
COLD_REPEATS = 5


# ---------------------------------------------------------------------- helpers
def _qt_messages(kind: QtMsgType, context: object, message: str) -> None:
    """Pass Qt's messages on to stderr, except the offscreen plugin's harmless size-hint notice."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


class PaintTimer(QObject):
    """Times every paint of a ``QGraphicsView``'s viewport and notes the model step it showed."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__()
        self.view = win.renderer
        self.model = win.model
        self.times: list[float] = []
        self.steps: list[int] = []
        self.view.viewport().installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Paint:
            t = time.perf_counter()
            self.view.viewportEvent(ev)
            self.times.append(time.perf_counter() - t)
            self.steps.append(self.model.step)
            return True
        return False

    def remove(self) -> None:
        self.view.viewport().removeEventFilter(self)


class TickTimer(QObject):
    """Times the work done per playback timer tick (step, frame, layout of the highlights)."""

    def __init__(self, timer: QTimer) -> None:
        super().__init__()
        self.timer = timer
        self.times: list[float] = []
        timer.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Timer:
            t = time.perf_counter()
            self.timer.event(ev)
            self.times.append(time.perf_counter() - t)
            return True
        return False

    def remove(self) -> None:
        self.timer.removeEventFilter(self)


def make_window(app: QApplication, params: Params) -> MainWindow:
    win = MainWindow(params)
    win.resize(*WINDOW)
    win.show()
    settle(app)
    freeze_start_up()  # as the app does once its window is up
    return win


def settle(app: QApplication) -> None:
    for _ in range(3):
        app.processEvents()


def close_window(app: QApplication, win: MainWindow) -> None:
    win.close()
    win.deleteLater()
    settle(app)


def ms(xs: list[float] | np.ndarray) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds."""
    a = np.asarray(xs, float) * 1e3
    return float(np.median(a)), float(np.percentile(a, 95))


def cell_px(win: MainWindow) -> float:
    """Screen pixels per grid cell."""
    return 1.0 / float(win.renderer.view.viewPixelSize()[0])


def timed_updates(app: QApplication, win: MainWindow, change: Callable[[int], object],
                  runs: int = RUNS) -> dict[str, list[float]]:
    """Time ``change(i)`` followed by the event loop's pending work and a finished viewport paint.

    Returns per-run totals, the model+scene update part (the ``change`` call,
    which synchronously rebuilds the frame through the window's slots), and
    the viewport paint part.
    """
    pt = PaintTimer(win)
    out: dict[str, list[float]] = {"total": [], "update": [], "paint": [], "cpu": []}
    forced = 0
    for i in range(runs + WARMUP):
        n0 = len(pt.times)
        c0 = time.thread_time()
        t0 = time.perf_counter()
        change(i)
        t1 = time.perf_counter()
        app.processEvents()  # layout requests and the queued repaint, as the event loop would
        if len(pt.times) == n0:  # nothing painted the scene yet: force it
            forced += 1
            win.renderer.viewport().repaint()
        t2 = time.perf_counter()
        if i >= WARMUP:
            out["cpu"].append(time.thread_time() - c0)
            out["total"].append(t2 - t0)
            out["update"].append(t1 - t0)
            out["paint"].append(sum(pt.times[n0:]))
    pt.remove()
    out["forced"] = [float(forced)]
    return out


# ---------------------------------------------------------------------- measurements
def new_values(app: QApplication, win: MainWindow, runs: int) -> dict[str, list[float]]:
    """Row 1b: ``runs`` changes of the seed (new values every time: nothing drawn before can be reused)."""
    return timed_updates(app, win, lambda i: win.model.set_params(seed=100 + i), runs=runs)


def bench_param_change(app: QApplication, params: Params) -> tuple[dict[str, list[float]], str]:
    win = make_window(app, params)
    res = timed_updates(app, win, lambda i: win.model.set_params(stride=(1 + i % 2, 1 + i % 2)))
    shown = getattr(win.model.frame(), "show_values", None)
    values = "values ?" if shown is None else f"values {'shown' if shown else 'hidden'}"
    cold = new_values(app, win, 12)
    res["new_values"] = cold["total"]
    cm, cp = ms(cold["total"])
    cpu_m, cpu_p = ms(cold["cpu"])
    info = (f"{params.in_c}x{params.in_h}x{params.in_w}, {values}, {cell_px(win):.0f} px/cell; "
            f"stride toggled 1/2 (pictures reused when a setting comes back); with new values every "
            f"time {cm:.1f}/{cp:.1f} ms (UI thread's CPU time {cpu_m:.1f}/{cpu_p:.1f} ms)")
    close_window(app, win)
    return res, info


def bench_heavy(app: QApplication, kernel: int | None = None,
                each_action: list[Turns] | None = None) -> dict[str, float]:
    """The heaviest allowed change, through the panel's controller: the event loop's longest gap while
    the worker computes (a 10 ms QTimer's ticks), and the time until the new picture is painted
    (``kernel``: the kernels' size instead of the largest); with ``each_action`` a list, row 11c's figures are
    added to it (``bench_turns``) before the window closes."""
    from gui.models.choices import BOUNDS

    win = make_window(app, Params(in_h=32, in_w=32, mode="backward"))
    ctl = win.lesson_ctl
    big = {n: BOUNDS[n][1] for n in ("in_h", "in_w", "in_c", "out_c", "k_h", "k_w")}
    if kernel is not None:
        big["k_h"] = big["k_w"] = kernel
    ticks: list[float] = []
    done: list[float] = []
    cpu: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    ctl.busy_changed.connect(
        lambda on: None if on else (done.append(time.perf_counter()), cpu.append(time.thread_time())))
    pt = PaintTimer(win)
    timer.start()
    t0 = time.perf_counter()
    ctl.change(**big)
    ticks.append(time.perf_counter())
    while ctl.busy:
        app.processEvents()
        time.sleep(0.001)
    n0 = len(pt.times)
    turns = [time.perf_counter() - done[0]]  # the turn that committed the result (up to its end)
    while len(pt.times) == n0 and time.perf_counter() - done[0] < 5:
        t = time.perf_counter()
        app.processEvents()
        turns.append(time.perf_counter() - t)
    t_shown, cpu_shown = time.perf_counter(), time.thread_time()
    timer.stop()
    pt.remove()
    seen = sorted(t for t in ticks if t <= done[0]) + done[:1]
    gaps = np.diff(seen)
    shape = "x".join(str(big[n]) for n in ("in_c", "in_h", "in_w"))
    out = {"gap": float(gaps.max()), "p99": float(np.percentile(gaps, 99)), "computing": done[0] - t0,
           "shown": t_shown - t0, "commit_paint": t_shown - done[0], "commit_cpu": cpu_shown - cpu[0],
           "turn": max(turns),
           "kernel": float(big["k_h"]),
           "ok": float(win.model.params.in_h == big["in_h"])}
    out["jump_gap"], out["jump_landed"] = far_jump(app, win, win.model.n_steps * 3 // 5)
    print(f"heavy: {shape}, {big['in_c']}->{big['out_c']}, {big['k_h']}x{big['k_w']} backward: {out}",
          file=sys.stderr)
    if each_action is not None:
        each_action.extend(bench_turns(app, win))
    ctl.shutdown()
    close_window(app, win)
    return out


#: Row 11c: a turn is quiet once this long has passed with no paint of the stage or of the pipeline window.
QUIET_S = 0.3
TURN_GOAL = 0.1


class Painted(QObject):
    """Counts paint events of a few widgets (the stage's viewport, the pipeline window's)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.watched: list[QObject] = []

    def watch(self, w: QObject) -> None:
        if w not in self.watched:
            w.installEventFilter(self)
            self.watched.append(w)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def turns_of(app: QApplication, act: Callable[[], object], painted: Painted,
             busy: Callable[[], bool]) -> tuple[list[float], list[float]]:
    """``act()`` (the call turn), then event-loop turns until the window has painted and stayed quiet
    (``QUIET_S`` without a paint, nothing ``busy``): each turn's wall and UI-thread CPU seconds."""
    walls, cpus = [], []
    n0 = painted.count
    c0, t0 = time.thread_time(), time.perf_counter()
    act()
    walls.append(time.perf_counter() - t0)
    cpus.append(time.thread_time() - c0)
    last, start = time.perf_counter(), time.perf_counter()
    while time.perf_counter() - start < 20:
        n = painted.count
        c0, t0 = time.thread_time(), time.perf_counter()
        app.processEvents()
        t1 = time.perf_counter()
        if t1 - t0 > 1e-3 or painted.count != n:  # an idle turn is no turn of this action
            walls.append(t1 - t0)
            cpus.append(time.thread_time() - c0)
        if painted.count != n or busy():
            last = t1
        elif painted.count > n0 and t1 - last > QUIET_S:
            break
        time.sleep(0.002)
    return walls, cpus


#: Row 11c: rounds of the actions (a loaded machine's noise: each action's median round is the figure).
TURN_ROUNDS = 3
Turns = tuple[str, list[float], list[float]]


def bench_turns(app: QApplication, win: MainWindow, rounds: int = TURN_ROUNDS) -> list[Turns]:
    """Row 11c: each user action at the heaviest setting, through its menu action or the window's own
    slot, ``rounds`` times (the first Ctrl+L once): per action the longest event-loop turn each time it
    ran (s) and that turn's UI-thread CPU time (s). The first expand makes the tiles the expanded stage
    needs, the first switch to a theme loads its maps: round 1 holds those."""
    from PySide6.QtGui import QAction

    acts = {a.text(): a for a in win.findChildren(QAction)}
    painted = Painted()
    painted.watch(win.renderer.viewport())

    def busy() -> bool:
        jobs = win.pipeline.jobs.busy if win.pipeline is not None else False
        return bool(win.lesson_ctl.busy or win.jumps.jumping or win.themes.busy or jobs)

    def pipeline() -> None:
        acts["Pi&peline view"].trigger()
        painted.watch(win.pipeline.view.viewport())  # made by the action: counted from the next turn

    actions: list[tuple[str, Callable[[], object]]] = [
        ("expand channels", acts["&Expand channels"].trigger),
        ("collapse channels", acts["&Expand channels"].trigger),
        ("presenter on (F5)", acts["&Presenter mode"].trigger),
        ("presenter off (F5)", acts["&Presenter mode"].trigger),
        ("resize to 1400x860", lambda: win.resize(1400, 860)),
        ("resize back", lambda: win.resize(*WINDOW)),
        *((f"theme {t}", acts[t].trigger) for t in ("dark", "high-contrast", "light")),
        ("text zoom in (Ctrl++)", acts["Larger text"].trigger),
        ("text zoom out (Ctrl+-)", acts["Smaller text"].trigger),
        *((f"step +1 ({k})", acts["Step forward"].trigger) for k in (1, 2, 3)),
        ("first Ctrl+L (pipeline)", pipeline),
    ]
    turns_of(app, lambda: None, painted, busy)  # whatever was still pending
    from gui.app import preload_pipeline

    worker = preload_pipeline()  # as the app does once its window is quiet, a few seconds after it starts
    if worker is not None:
        worker.join()
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _ in actions}
    for r in range(rounds):
        for name, act in actions:
            if r and name.startswith("first"):
                continue
            walls, cpus = turns_of(app, act, painted, busy)
            k = int(np.argmax(walls))
            out[name][0].append(walls[k])
            out[name][1].append(cpus[k])
    if win.pipeline is not None:
        win.pipeline.close()
    return [(name, walls, cpus) for name, (walls, cpus) in out.items()]


def turns_report(turns: list[Turns]) -> list[str]:
    """Row 11c's table: per action its longest turn (median and worst round, wall; the median round's
    UI-thread CPU time), ms, and PASS/MISS on the median."""
    lines = [f"{'action':<26}{'median':>9}{'worst':>9}{'its cpu':>9}{'rounds':>7}  result"]
    for name, walls, cpus in turns:
        med = float(np.median(walls))
        cpu = float(np.median(cpus))
        lines.append(f"{name:<26}{med * 1e3:>6.0f} ms{max(walls) * 1e3:>6.0f} ms{cpu * 1e3:>6.0f} ms"
                     f"{len(walls):>7}  {verdict(med < TURN_GOAL)}")
    return lines


def far_jump(app: QApplication, win: MainWindow, k: int) -> tuple[float, float]:
    """The slider to step ``k`` (a far backward jump, worked out in a worker): the event loop's longest
    gap (a 10 ms QTimer's ticks) until it lands, and the time until it landed (s)."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    win.playback.slider.setValue(k)
    ticks.append(time.perf_counter())
    while win.model.step != k and (win.jumps.jumping or time.perf_counter() - t0 < 1):
        app.processEvents()
        time.sleep(0.001)
    landed = time.perf_counter()
    timer.stop()
    return float(np.diff([t0, *sorted(ticks), landed]).max()), landed - t0


def bench_scrub(app: QApplication) -> tuple[dict[str, list[float]], str]:
    win = make_window(app, Params(in_h=512, in_w=512))
    n = win.model.n_steps
    ks = np.random.default_rng(1).integers(0, n, RUNS + WARMUP)
    res = timed_updates(app, win, lambda i: win.model.set_step(int(ks[i])))
    close_window(app, win)
    return res, f"{n:,} steps"


def bench_backward(app: QApplication) -> tuple[dict[str, list[float]], str]:
    """A backward step (dL/dX, dL/dW, flow lines) on a 32x32 input: random step, then repaint."""
    win = make_window(app, Params(in_h=32, in_w=32, mode="backward", upstream="random"))
    n = win.model.n_steps
    ks = np.random.default_rng(3).integers(0, n, RUNS + WARMUP)
    res = timed_updates(app, win, lambda i: win.model.set_step(int(ks[i])))
    info = f"{n:,} backward steps, {cell_px(win):.0f} px/cell"
    close_window(app, win)
    return res, info


#: Row 7: interleaved rounds of (on-screen steps, a GIF, a PNG sequence); the figures are the rounds' medians.
EXPORT_ROUNDS = 5
EXPORT_GIF_FRAMES = 100  # every step of the 10x10 lesson: row 8's GIF
EXPORT_PNG_FRAMES = 20
EXPORT_SCREEN_STEPS = 20


def stage_sized(app: QApplication, params: Params, size: tuple[int, int]) -> MainWindow:
    """A main window whose stage (the view the lecturer sees) is ``size``, the export's picture size:
    the window is grown by what its panel and menus take."""
    win = make_window(app, params)
    win.resize(*size)
    settle(app)
    for _ in range(3):
        r = win.renderer
        dw, dh = size[0] - r.width(), size[1] - r.height()
        if dw == 0 and dh == 0:
            break
        win.resize(win.width() + dw, win.height() + dh)
        settle(app)
    return win


def bench_export(app: QApplication) -> dict[str, float]:
    """Export per frame against the on-screen step + paint, the same lesson at the same picture size.

    The on-screen figure is a main window whose stage is 1280x720 (the export's size; a 1280x720 window
    leaves its stage 884x631), stepping through the same 10x10 lesson. Rounds interleave a run of
    on-screen steps, a 100-frame GIF (row 8) and a 20-frame PNG sequence, so a load that comes and goes
    falls on both sides; each figure is the median over the rounds, and each round's ratio (export per
    frame over that round's on-screen median) gives the range. Export per frame is the whole export's
    time over its frames (the GIF's palette and child start included); "steady" is the time from the
    first frame written to the last over the frames between (what one more frame costs).
    """
    import tempfile

    from gui import export
    from gui.models.lesson import Lesson

    params = Params(in_h=10, in_w=10)  # 10x10 outputs with padding 1: 100 steps
    win = stage_sized(app, params, export.DEFAULT_SIZE)
    stage = (win.renderer.width(), win.renderer.height())
    model = Lesson(params)
    renderer = export.offscreen_renderer(export.DEFAULT_SIZE)
    n_steps = model.n_steps
    keys = ("render", "render_cpu", "gif", "gif_cpu", "gif_main", "gif_child", "gif_steady", "png", "png_cpu",
            "png_main", "png_steady")
    rounds: dict[str, list[float]] = {k: [] for k in keys}
    gif_kb = png_kb = 0.0
    first = [0]

    def timed(n: int) -> tuple[Callable[[int, int], bool], list[float]]:
        marks: list[float] = []

        def progress(done: int, total: int) -> bool:
            if done in (1, n):
                marks.append(time.perf_counter())
            return True
        return progress, marks

    try:
        with tempfile.TemporaryDirectory() as d:
            for rnd in range(EXPORT_ROUNDS):
                start = first[0]
                res = timed_updates(app, win, lambda i, s=start: win.model.set_step((s + i) % n_steps),
                                    runs=EXPORT_SCREEN_STEPS)
                first[0] = (start + EXPORT_SCREEN_STEPS + WARMUP) % n_steps
                rounds["render"].append(float(np.median(res["total"])))
                rounds["render_cpu"].append(float(np.median(res["cpu"])))
                out = Path(d) / f"a{rnd}.gif"
                progress, marks = timed(EXPORT_GIF_FRAMES)
                t0, c0, m0, k0 = time.perf_counter(), time.process_time(), time.thread_time(), children_cpu()
                export.export(model, renderer, "gif", out, steps=range(EXPORT_GIF_FRAMES), progress=progress)
                n = EXPORT_GIF_FRAMES
                rounds["gif"].append((time.perf_counter() - t0) / n)
                rounds["gif_cpu"].append((time.process_time() - c0) / n)
                rounds["gif_main"].append((time.thread_time() - m0) / n)
                rounds["gif_child"].append((children_cpu() - k0) / n)
                rounds["gif_steady"].append((marks[-1] - marks[0]) / (n - 1))
                gif_kb = out.stat().st_size / 1024
                folder = Path(d) / f"seq{rnd}"
                n = EXPORT_PNG_FRAMES
                progress, marks = timed(n)
                t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
                export.export(model, renderer, "png", folder, steps=range(20 * rnd, 20 * rnd + n),
                              progress=progress)
                rounds["png"].append((time.perf_counter() - t0) / n)
                rounds["png_cpu"].append((time.process_time() - c0) / n)
                rounds["png_main"].append((time.thread_time() - m0) / n)
                rounds["png_steady"].append((marks[-1] - marks[0]) / (n - 1))
                png_kb = sum(p.stat().st_size for p in folder.iterdir()) / n / 1024
    finally:
        renderer.close()
        close_window(app, win)
    out_: dict[str, float] = {k: float(np.median(v)) for k, v in rounds.items()}
    for fmt in ("gif", "png"):
        ratios = [e / r for e, r in zip(rounds[fmt], rounds["render"], strict=True)]
        out_[f"{fmt}_lo"], out_[f"{fmt}_hi"] = min(ratios), max(ratios)
        cpu = [e / r for e, r in zip(rounds[f"{fmt}_main"], rounds["render_cpu"], strict=True)]
        out_[f"{fmt}_main_lo"], out_[f"{fmt}_main_hi"] = min(cpu), max(cpu)
    out_.update(frames=float(EXPORT_GIF_FRAMES), gif_total=out_["gif"] * EXPORT_GIF_FRAMES, gif_kb=gif_kb,
                png_kb=png_kb, stage_w=float(stage[0]), stage_h=float(stage[1]), rounds=float(EXPORT_ROUNDS))
    return out_


def children_cpu() -> float:
    """CPU time (s) of this process's finished child processes (a GIF's LZW encoder)."""
    t = os.times()
    return t.children_user + t.children_system


def export_rows(exp: dict[str, float]) -> tuple[list[tuple[str, str, str, str, str, str]], str]:
    """Rows 7 and 8 and row 7's detail line from ``bench_export``'s figures."""
    per_frame, render = exp["gif"], exp["render"]
    ok = per_frame < 2 * render and exp["png"] < 2 * render
    rows = [("7", "export GIF / PNG per frame vs on-screen step", "< 2x",
             f"{per_frame * 1e3:.1f} / {exp['png'] * 1e3:.1f}",
             f"{per_frame / render:.1f}x / {exp['png'] / render:.1f}x", verdict(ok)),
            ("8", f"{exp['frames']:.0f}-frame GIF, 1280x720", "< 5 s", f"{exp['gif_total']:.2f} s", "",
             verdict(exp["gif_total"] < 5.0))]
    detail = (f"7. medians of {exp['rounds']:.0f} interleaved rounds; on-screen step + paint "
              f"{render * 1e3:.1f} ms (stage {exp['stage_w']:.0f}x{exp['stage_h']:.0f}, as the export's "
              f"pictures; CPU {exp['render_cpu'] * 1e3:.1f} ms). GIF {per_frame * 1e3:.1f} ms a frame "
              f"({per_frame / render:.1f}x, rounds {exp['gif_lo']:.1f}-{exp['gif_hi']:.1f}x; steady "
              f"{exp['gif_steady'] * 1e3:.1f} ms; {exp['gif_kb']:.0f} KiB in all), PNG sequence "
              f"{exp['png'] * 1e3:.1f} ms a frame ({exp['png'] / render:.1f}x, rounds "
              f"{exp['png_lo']:.1f}-{exp['png_hi']:.1f}x; steady {exp['png_steady'] * 1e3:.1f} ms; "
              f"{exp['png_kb']:.0f} KiB a file). conv_arithmetic's LaTeX -> PDF -> ImageMagick ~1 s a frame: "
              f"GIF {1 / per_frame:.0f}x, PNG {1 / exp['png']:.0f}x faster. CPU a frame (what a loaded "
              f"machine inflates least): GIF {exp['gif_cpu'] * 1e3:.1f} ms here + "
              f"{exp['gif_child'] * 1e3:.1f} ms in its LZW child, PNG {exp['png_cpu'] * 1e3:.1f} ms; the "
              f"drawing thread's share (the wall "
              f"time's floor: the encoding overlaps it) GIF {exp['gif_main'] * 1e3:.1f} ms "
              f"({exp['gif_main'] / exp['render_cpu']:.1f}x, rounds {exp['gif_main_lo']:.1f}-"
              f"{exp['gif_main_hi']:.1f}x), PNG {exp['png_main'] * 1e3:.1f} ms "
              f"({exp['png_main'] / exp['render_cpu']:.1f}x, rounds {exp['png_main_lo']:.1f}-"
              f"{exp['png_main_hi']:.1f}x) vs the on-screen step + paint's {exp['render_cpu'] * 1e3:.1f} ms")
    return rows, detail


def bench_pipeline(app: QApplication) -> dict[str, list[float]]:
    """A 256x256 RGB picture through a 3-conv stack: engine forward, then every feature map drawn."""
    from engine import network as nw
    from gui.images import read_image, sample_path
    from gui.pipeline import PipelineWindow

    win = PipelineWindow()
    win.resize(*WINDOW)
    win.show()
    settle(app)
    net = nw.Network((3, 256, 256), (
        nw.Conv(8, 3, padding=1), nw.Activation("relu"), nw.Conv(8, 3, padding=1), nw.Activation("relu"),
        nw.Conv(8, 3, padding=1), nw.Activation("relu"),
    ))
    win.model.set_network(net)
    pictures = [read_image(sample_path(n), gray=False, size=(256, 256)) for n in ("shapes", "digit")]
    settle(app)
    out: dict[str, list[float]] = {"total": [], "compute": [], "draw": []}
    vp = win.view.viewport()
    for i in range(12 + WARMUP):
        t0 = time.perf_counter()
        win.model.set_input(pictures[i % 2])  # engine forward, then the view redraws every stage
        while win.jobs.busy:  # a big forward pass is computed in a worker: until its result is shown
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        t1 = time.perf_counter()
        vp.repaint()
        t2 = time.perf_counter()
        if i >= WARMUP:
            out["total"].append(t2 - t0)
            out["compute"].append(t1 - t0)
            out["draw"].append(t2 - t1)
    win.close()
    settle(app)
    return out


def bench_motion(app: QApplication) -> tuple[dict[str, list[float]], str]:
    """A step shown mid-motion: a random step, its glide started with travelling products, a glide
    fraction in the middle of the flights, then repaint (what each tick of a slow playback does)."""
    win = make_window(app, Params(in_h=32, in_w=32, motion="on"))
    n = win.model.n_forward
    rng = np.random.default_rng(5)
    ks, ts = rng.integers(1, n, RUNS + WARMUP), rng.uniform(0.25, 0.95, RUNS + WARMUP)

    def change(i: int) -> None:
        win.model.set_step(int(ks[i]))
        win.renderer.text.travel.start(True)
        win.renderer.glide(float(ts[i]))

    res = timed_updates(app, win, change)
    # Each later tick of the same glide: only the chip moves and the line's reveal changes.
    win.renderer.text.travel.start(True)
    ticks = timed_updates(app, win, lambda i: win.renderer.glide(0.25 + 0.7 * i / (RUNS + WARMUP)))
    res["tick"] = ticks["total"]
    tm, tp = ms(ticks["total"])
    info = (f"{n:,} forward steps, {cell_px(win):.0f} px/cell, values shown; a later tick of the same glide "
            f"(chip moved, line revealed) {tm:.1f}/{tp:.1f} ms")
    close_window(app, win)
    return res, info


def bench_stage_step(app: QApplication) -> tuple[dict[str, list[float]], str]:
    """The stage view (planes at an angle) on a 32x32 input with values: a random step, then repaint."""
    win = make_window(app, Params(in_h=32, in_w=32, view="stage"))
    n = win.model.n_steps
    ks = np.random.default_rng(5).integers(0, n, RUNS + WARMUP)
    res = timed_updates(app, win, lambda i: win.model.set_step(int(ks[i])))
    st = win.renderer.stage
    info = (f"{n:,} steps, input cells {st.cell_px.get('input', 0):.0f} px wide, numbers "
            f"{st.number_px.get('input', 0)} px ({'shown' if 'input' in st.number_px else 'hidden'})")
    close_window(app, win)
    return res, info


def bench_playback(app: QApplication, params: Params | None = None) -> dict[str, float | list[float]]:
    win = make_window(app, params or Params(in_h=32, in_w=32))
    c = win.controller
    c.set_speed(PLAY_SPEED)
    win.model.set_step(0)
    settle(app)
    c.clock.dropped = 0
    c.clock.steps_played = 0
    pt = PaintTimer(win)
    tt = TickTimer(c.timer)
    loop = QEventLoop()
    QTimer.singleShot(int(PLAY_SECONDS * 1000), loop.quit)
    t0 = time.perf_counter()
    c.play()
    loop.exec()
    elapsed = time.perf_counter() - t0
    c.pause()
    last = win.model.step
    tt.remove()
    pt.remove()
    played = c.steps_played
    shown = set(pt.steps)
    # the last step may land after the loop quit, before its paint: not counted
    unpainted = sum(1 for k in range(1, last) if k not in shown)
    res: dict[str, float | list[float]] = {
        "elapsed": elapsed, "expected": elapsed * c.speed, "played": played, "dropped": c.dropped,
        "unpainted": unpainted, "paints": len(pt.times), "paint": pt.times, "tick": tt.times,
    }
    c.stop()
    close_window(app, win)
    return res


COLD_PRELUDE = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

def _seconds():
    return (time.time_ns() - int(os.environ["BENCH_T0_NS"])) / 1e9

class _Paints(QObject):
    # Watches the paints of the widgets it is installed on: the first paint, then (when ``lesson`` says
    # which widget is the lesson's stage) the stage's first paint; prints the seconds to each.

    def __init__(self, lesson=None):
        super().__init__()
        self.lesson = lesson
        self.first = None

    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            if self.first is None:
                self.first = _seconds()
                if self.lesson is None:
                    QTimer.singleShot(0, self._done)  # runs once this paint has finished
            elif self.lesson is not None and self.lesson(obj):
                self.lesson = None
                QTimer.singleShot(0, self._done)
        return False

    def _done(self):
        print(self.first, _seconds(), flush=True)
        os._exit(0)
"""

COLD_EMPTY = COLD_PRELUDE + r"""
from PySide6.QtWidgets import QWidget
app = QApplication(sys.argv)
win = QWidget()
win.resize(1400, 860)
_p = _Paints()
win.installEventFilter(_p)
win.show()
app.exec()
"""

COLD_PYQTGRAPH = r"""
import time
from PySide6 import QtWidgets
t = time.perf_counter()
import pyqtgraph
print(time.perf_counter() - t)
"""

# convviz as the command line starts it (``gui.app.main``: parse the arguments, open the window, run the
# event loop): the window's frame paints first, the lesson's stage right after.
COLD_CONVVIZ = COLD_PRELUDE + r"""
from gui.app import open_window, paint_on_one_thread, parse_args
paint_on_one_thread()
app = QApplication(sys.argv)
win = open_window(parse_args([]))
_p = _Paints(lesson=lambda obj: obj is win.renderer.viewport())
win.preparing.installEventFilter(_p)
win.ready.connect(lambda: win.renderer.viewport().installEventFilter(_p))
app.exec()
"""


class Cold(NamedTuple):
    """Seconds from spawning a cold-start child: to its first paint, to its lesson's first paint (the
    stage showing the lesson; the first paint again for a window without one), to its exit."""

    first: float
    lesson: float
    wall: float


def cold_start(code: str, pycache: str | None = None, config: str | None = None) -> Cold:
    """Run ``python -c code`` once and read the seconds it prints (see ``Cold``).

    With ``pycache`` a directory, bytecode is read from (and written to) it, as an installed app has it;
    with None, bytecode writing is left as this process's environment says. ``config`` is the folder of
    the settings (``XDG_CONFIG_HOME``): a fresh one, not the user's.
    """
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    if config is not None:
        env["XDG_CONFIG_HOME"] = config
    env["BENCH_T0_NS"] = str(time.time_ns())
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    wall = time.perf_counter() - t0
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"cold-start child failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    numbers = [float(v) for v in lines[-1].split()]
    return Cold(numbers[0], numbers[-1], wall)


def bench_cold(cached: bool = True) -> dict[str, Cold]:
    """Median seconds (``Cold``) per program over interleaved runs."""
    programs = (("empty", COLD_EMPTY), ("convviz", COLD_CONVVIZ), ("pyqtgraph", COLD_PYQTGRAPH))
    runs: dict[str, list[Cold]] = {name: [] for name, _ in programs}
    with tempfile.TemporaryDirectory(prefix="convviz-pyc-") as tmp:
        pycache = tmp if cached else None
        config = os.path.join(tmp, "config")
        if cached:
            for _, code in programs:
                cold_start(code, pycache, config)  # compiles once, as installing does
        for _ in range(COLD_REPEATS):  # interleaved, so all see the same machine state
            for name, code in programs:
                runs[name].append(cold_start(code, pycache, config))
    return {name: Cold(*(float(np.median(column)) for column in zip(*rs, strict=True)))
            for name, rs in runs.items()}


# ---------------------------------------------------------------------- profiling
def profile(label: str, fn: Callable[[], object], top: int = 14) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    body = text[text.find("   ncalls"):]
    print(f"\n--- cProfile: {label} (sorted by own time) ---")
    print(body.rstrip())


def run_profiles(app: QApplication) -> None:
    def param_change(params: Params) -> Callable[[], object]:
        def go() -> None:
            win = make_window(app, params)
            for i in range(10):
                win.model.set_params(stride=(1 + i % 2, 1 + i % 2))
                app.processEvents()
            close_window(app, win)
        return go

    def scrub() -> None:
        win = make_window(app, Params(in_h=512, in_w=512))
        ks = np.random.default_rng(2).integers(0, win.model.n_steps, 10)
        for k in ks:
            win.model.set_step(int(k))
            app.processEvents()
        close_window(app, win)

    profile("1. 32x32 param change x10", param_change(Params(in_h=32, in_w=32)))
    profile("2. 3x256x256 param change x10", param_change(Params(in_h=256, in_w=256, in_c=3)))
    profile("4. 512x512 scrub x10", scrub)


# ---------------------------------------------------------------------- report
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def cold_row(cold: dict[str, Cold],
             compiling: dict[str, Cold]) -> tuple[tuple[str, str, str, str, str, str], str]:
    """Row 9 of the table and its detail line, from :func:`bench_cold` with and without bytecode cached.

    The headline is the first painted window (convviz's frame: menus, the panel's column, "Preparing the
    lesson…"); the detail line also gives the time until the stage shows the lesson, and its ratio.
    """
    empty, conv = cold["empty"], cold["convviz"]
    ratio = conv.first / empty.first
    row = ("9", f"cold start -> first paint (median of {COLD_REPEATS})", "< 3x empty",
           f"{conv.first:.2f} s", f"{ratio:.1f}x", verdict(ratio < 3.0))
    detail = (f"9. empty QWidget first paint {empty.first:.2f} s; convviz (as 'convviz' starts) first "
              f"paint of the window {conv.first:.2f} s (ratio {ratio:.2f}x), the stage showing the "
              f"lesson {conv.lesson:.2f} s ({conv.lesson / empty.first:.2f}x the empty window's first "
              f"paint); importing pyqtgraph (not on the main window's path: the pipeline window imports "
              f"it when first opened) would add {cold['pyqtgraph'].first:.2f} s; compiling our modules "
              f"at every start (no bytecode cache): first paint "
              f"{compiling['convviz'].first / compiling['empty'].first:.2f}x, lesson "
              f"{compiling['convviz'].lesson / compiling['empty'].first:.2f}x")
    return row, detail


def export_only(load: float) -> int:
    """Rows 7 and 8 alone (``--only 7``), a minute or so."""
    app = QApplication.instance() or QApplication([sys.argv[0]])
    rows, detail = export_rows(bench_export(app))
    print(f"convviz export benchmark ({os.cpu_count()} cpus, load average {load:.1f} at start)")
    for r in rows:
        print("  ".join(r))
    print(detail)
    return 0


def new_values_only(load: float, runs: int = 200) -> int:
    """Row 1b alone (``--only 1b``): ``runs`` changes with new values on a 32x32 lesson with numbers, wall
    and the UI thread's CPU time, and the cyclic garbage collector's share (count and time)."""
    import gc

    qInstallMessageHandler(_qt_messages)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    win = make_window(app, Params(in_h=32, in_w=32))
    pauses: list[float] = []
    started = [0.0]

    def collecting(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(collecting)
    try:
        res = new_values(app, win, runs)
    finally:
        gc.callbacks.remove(collecting)
    close_window(app, win)
    print(f"convviz row 1b ({os.cpu_count()} cpus, load average {load:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at the end)")
    for name, what in (("total", "change -> painted (wall)"), ("cpu", "UI thread's CPU time"),
                       ("update", "set_params + slots (wall)"), ("paint", "viewport paint (wall)")):
        med, p95 = ms(res[name])
        print(f"1b. {what:28s} median {med:5.1f}  p95 {p95:5.1f}  max {max(res[name]) * 1e3:5.1f} ms")
    print(f"{len(pauses)} garbage collections during the {runs} changes, "
          f"{sum(pauses) * 1e3:.1f} ms in all, longest {max(pauses, default=0.0) * 1e3:.1f} ms")
    return 0 if ms(res["total"])[1] < 16.0 else 1


def turns_only(load: float, kernel: int | None) -> int:
    """Row 11c alone (``--only 11c``): the heaviest lesson computed, then each action's longest turn."""
    qInstallMessageHandler(_qt_messages)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    turns: list[Turns] = []
    bench_heavy(app, kernel, turns)
    print(f"convviz row 11c: each action's longest event-loop turn at the heaviest setting (goal < 100 ms; "
          f"{os.cpu_count()} cpus, load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end)")
    for line in turns_report(turns):
        print(line)
    missed = [name for name, walls, _ in turns if np.median(walls) >= TURN_GOAL]
    print(f"verdict: {verdict(not missed)}" + (f" ({', '.join(missed)})" if missed else ""))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", action="store_true", help="also print cProfile tables for 1, 2 and 4")
    ap.add_argument("--no-heavy", action="store_true",
                    help="skip row 11, the heaviest allowed setting (computes for about a minute)")
    ap.add_argument("--heavy-kernel", type=int, default=None, metavar="K",
                    help="row 11 with KxK kernels instead of the largest (same grids, less computing)")
    ap.add_argument("--cold-only", action="store_true", help="run row 9 (cold start) only")
    ap.add_argument("--only", choices=["7", "1b", "11c"], default=None,
                    help="run only row 7 (export speed, with row 8 from the same export), row 1b (new values "
                         "on a 32x32 lesson, 200 changes) or row 11c (each action's longest event-loop turn "
                         "at the heaviest setting)")
    args = ap.parse_args()
    t_start = time.perf_counter()
    load = os.getloadavg()[0]
    if args.only == "7":
        return export_only(load)
    if args.only == "1b":
        return new_values_only(load)
    if args.only == "11c":
        return turns_only(load, args.heavy_kernel)

    cold = bench_cold()  # first, before this process loads the CPU with its own work
    cold_compiling = bench_cold(cached=False)
    if args.cold_only:
        row, detail = cold_row(cold, cold_compiling)
        print(" | ".join(row))
        print(detail)
        return 0 if row[-1] == verdict(True) else 1

    qInstallMessageHandler(_qt_messages)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    pg.setConfigOptions(antialias=True)  # as the main window does when it opens the pipeline window
    small, small_info = bench_param_change(app, Params(in_h=32, in_w=32))
    big, big_info = bench_param_change(app, Params(in_h=256, in_w=256, in_c=3))
    play = bench_playback(app)
    play_motion = bench_playback(app, Params(in_h=32, in_w=32, motion="on"))
    motion, motion_info = bench_motion(app)
    scrub, scrub_info = bench_scrub(app)
    back, back_info = bench_backward(app)
    stage, stage_info = bench_stage_step(app)
    stage_play = bench_playback(app, Params(in_h=32, in_w=32, view="stage"))
    exp = bench_export(app)
    pipe = bench_pipeline(app)
    turns: list[Turns] = []
    heavy = None if args.no_heavy else bench_heavy(app, args.heavy_kernel, turns)
    stopping = None if args.no_heavy else bench_cancel(app)

    rows: list[tuple[str, str, str, str, str, str]] = []
    details: list[str] = []

    def add(n: str, what: str, goal: str, res: dict[str, list[float]], limit: float, info: str) -> None:
        med, p95 = ms(res["total"])
        um, up = ms(res["update"])
        pm, pp = ms(res["paint"])
        rows.append((n, what, goal, f"{med:.1f}", f"{p95:.1f}", verdict(p95 < limit)))
        forced = int(res["forced"][0])
        details.append(f"{n}. {info}; update (set + show_frame) {um:.1f}/{up:.1f} ms, "
                       f"viewport paint {pm:.1f}/{pp:.1f} ms (median/p95)"
                       + (f"; {forced} runs needed a forced repaint" if forced else ""))

    add("1", "param change -> painted, 32x32 + values", "< 16 ms", small, 16.0, small_info)
    cold_m, cold_p = ms(small["new_values"])
    rows.append(("1b", "same, new values every time (no reuse)", "< 16 ms", f"{cold_m:.1f}", f"{cold_p:.1f}",
                 verdict(cold_p < 16.0)))
    add("2", "param change -> painted, 3x256x256", "< 50 ms", big, 50.0, big_info)

    def add_playback(n: str, what: str, play: dict[str, float | list[float]]) -> None:
        pm, pp = ms(play["paint"])  # type: ignore[arg-type]
        tm, tp = ms(play["tick"])  # type: ignore[arg-type]
        expected, played = float(play["expected"]), int(play["played"])  # type: ignore[arg-type]
        dropped, unpainted = int(play["dropped"]), int(play["unpainted"])  # type: ignore[arg-type]
        ok = dropped == 0 and unpainted == 0 and played >= 0.95 * expected
        rows.append((n, what, "0 dropped", f"{played}/{expected:.0f}", f"drop {dropped}", verdict(ok)))
        details.append(
            f"{n}. {played} steps played of {expected:.0f} expected in {float(play['elapsed']):.2f} s "  # type: ignore[arg-type]
            f"({played / expected:.0%}); controller.dropped {dropped}; {unpainted} steps never painted; "
            f"{int(play['paints'])} paints ({int(play['paints']) / float(play['elapsed']):.0f}/s), "  # type: ignore[arg-type]
            f"paint {pm:.1f}/{pp:.1f} ms, "
            f"max {max(play['paint'], default=0) * 1e3:.1f} ms; "  # type: ignore[arg-type]
            f"timer tick {tm:.1f}/{tp:.1f} ms (median/p95)"
        )

    add_playback("3", "playback 60 steps/s, 32x32, 3 s", play)

    add_playback("3b", "same, motion on (skipped at 60/s)", play_motion)
    add("14", "step painted mid-motion, 32x32 + values", "< 16 ms", motion, 16.0, motion_info)

    add("4", "scrub 512x512 conv, random jump", "< 16 ms", scrub, 16.0, scrub_info)

    add("6", "backward step -> painted, 32x32", "< 16 ms", back, 16.0, back_info)
    add("12", "stage view: step -> painted, 32x32 + values", "< 16 ms", stage, 16.0, stage_info)
    add_playback("13", "stage view: playback 60 steps/s, 32x32, 3 s", stage_play)
    export_table, export_detail = export_rows(exp)
    rows.extend(export_table)
    details.append(export_detail)

    med, p95 = ms(pipe["total"])
    rows.append(("10", "pipeline: 3x256x256 through 3 convs", "< 100 ms", f"{med:.1f}", f"{p95:.1f}",
                 verdict(p95 < 100.0)))
    cm, _ = ms(pipe["compute"])
    dm, _ = ms(pipe["draw"])
    details.append(f"10. 24 feature maps of 256x256 (+ input): set_input (engine forward + scene rebuild) "
                   f"{cm:.1f} ms, viewport paint {dm:.1f} ms (median)")

    row9, detail9 = cold_row(cold, cold_compiling)
    rows.append(row9)
    details.append(detail9)

    if heavy is not None:
        k = int(heavy["kernel"])
        rows.append(("11", "heaviest setting: longest event-loop gap", "< 50 ms", f"{heavy['gap'] * 1e3:.1f}",
                     f"{heavy['p99'] * 1e3:.1f}", verdict(heavy["gap"] < 0.05 and heavy["ok"] == 1.0)))
        rows.append(("11b", "heaviest change: UI-thread commit + paint", "< 100 ms",
                     f"{heavy['commit_paint'] * 1e3:.0f}", f"cpu {heavy['commit_cpu'] * 1e3:.0f}",
                     verdict(heavy["commit_paint"] < 0.1)))
        details.append(f"11. 16x512x512, 16->16 channels, {k}x{k} kernels, backward, asked through "
                       f"the panel's controller: computed in a worker for {heavy['computing']:.1f} s while a "
                       f"10 ms timer ticked (longest gap {heavy['gap'] * 1e3:.1f} ms, "
                       f"p99 {heavy['p99'] * 1e3:.1f} ms); "
                       f"new picture painted {heavy['shown']:.1f} s after the change (commit + paint "
                       f"{heavy['commit_paint'] * 1e3:.0f} ms on the UI thread, "
                       f"{heavy['commit_cpu'] * 1e3:.0f} ms of its CPU time; its longest event-loop turn "
                       f"{heavy['turn'] * 1e3:.0f} ms); then a far backward jump of the slider landed after "
                       f"{heavy['jump_landed']:.1f} s, computed in a worker (longest event-loop gap "
                       f"{heavy['jump_gap'] * 1e3:.0f} ms, the landing included)")

    if turns:
        worst_turn = max(turns, key=lambda t: float(np.median(t[1])))
        rows.append(("11c", "heaviest setting: each action's longest turn", "< 100 ms",
                     f"{np.median(worst_turn[1]) * 1e3:.0f}", f"cpu {np.median(worst_turn[2]) * 1e3:.0f}",
                     verdict(float(np.median(worst_turn[1])) < TURN_GOAL)))
        details.append(f"11c. the longest event-loop turn per action (worst: {worst_turn[0]}):")
        details.extend(f"     {line}" for line in turns_report(turns))

    if stopping is not None:
        worst_exit, worst_gap = worst(stopping)
        rows.append(("15", "stop a running computation -> worker exit", "< 200 ms", f"{worst_exit * 1e3:.1f}",
                     f"{worst_gap * 1e3:.0f} gap", verdict(worst_exit < EXIT_GOAL and worst_gap < GAP_GOAL)))
        details.extend(f"15. {line}" for line in report(stopping))

    head = ("#", "measure", "goal", "median", "p95", "result")
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    fmt = "  ".join(f"{{:{'>' if k in (3, 4) else '<'}{w}}}" for k, w in enumerate(widths))
    print(f"convviz GUI benchmark  (Qt platform {app.platformName()}, window {WINDOW[0]}x{WINDOW[1]}, "
          f"{os.cpu_count()} cpus, load average {load:.1f} at start)")
    print(fmt.format(*head))
    print(fmt.format(*("-" * w for w in widths)))
    for r in rows:
        print(fmt.format(*r))
    print("(ms unless marked; row 3: steps played/expected, controller.dropped; row 7: ms, ratio; "
          "row 9: time, ratio to empty; row 15: the worst of eight ways of stopping)")
    print()
    for d in details:
        print(d)

    if args.profile:
        run_profiles(app)
    print(f"\ntotal benchmark time {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
