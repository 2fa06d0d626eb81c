"""Application entry point, the command line, and the last line of defence against uncaught exceptions.

``convviz export --format json`` never imports Qt: the frames are data from the
Qt-free core. Every other path imports PySide6 only when it needs it.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, NoReturn, TypeVar

from .models.choices import EXPORT_FORMATS, MAX_SCALE, MIN_SCALE, MOTION_SETTINGS, THEMES, VIEWS

if TYPE_CHECKING:  # Qt is imported only by the commands that paint
    from PySide6.QtCore import QCoreApplication

    from .mainwindow import MainWindow

ERROR_LOG: list[str] = []
#: Exit code of a GUI ended by Ctrl+C (128 + SIGINT, as a shell reports it).
INTERRUPTED = 128 + signal.SIGINT
#: Bounds of ``--size`` (each side, in pixels).
MIN_SIDE, MAX_SIDE = 64, 8192


def report_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Show an exception that escaped a slot in the window's status bar, never a traceback.

    The full traceback goes to stderr for bug reports; the user sees one
    plain line and the app keeps running. A Ctrl+C that arrived while a slot
    ran is not an error to show: it ends the app (exit status 130).
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if issubclass(exc_type, KeyboardInterrupt):
        sys.stderr.write("convviz: interrupted\n")
        if app is not None:
            app.exit(INTERRUPTED)
        return
    ERROR_LOG.append("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.write(ERROR_LOG[-1])
    message = f"Something went wrong and was stopped: {exc}" if str(exc) else (
        f"Something went wrong and was stopped ({exc_type.__name__})"
    )
    for w in app.topLevelWidgets() if app is not None else []:
        show = getattr(w, "show_problem", None)
        if callable(show):
            show(message)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options of the app itself (``argv`` without the program name)."""
    ap = argparse.ArgumentParser(
        prog="convviz", description="Convolution and pooling, step by step.",
        epilog="Subcommands: 'convviz presets' lists the presets; 'convviz export --help' exports "
               "frames and animations without a display; 'convviz classify PICTURE' reads a digit "
               "with the trained LeNet-5.",
    )
    ap.add_argument("file", nargs="?", help="a scenario (.json) or lecture deck to open")
    ap.add_argument("--preset", help="open a built-in preset (see 'convviz presets')")
    ap.add_argument("--screenshot", metavar="PNG", help="save a picture of the window, then quit")
    ap.add_argument("--step", type=int, default=None, help="start at this step (0-based)")
    ap.add_argument("--view", choices=VIEWS, help="draw the scenario flat or as the stage view (input plane "
                                                  "below, output plane above)")
    ap.add_argument("--motion", choices=MOTION_SETTINGS, help="products travel between steps: on, off, or "
                                                              "auto (in presenter mode)")
    return ap.parse_args(argv)


# ----------------------------------------------------------------------------- export's arguments
class _OneLineParser(argparse.ArgumentParser):
    """An argument error is one line naming the option, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


N = TypeVar("N", int, float)


def _number(kind: Callable[[str], N], lo: N, hi: N, what: str) -> Callable[[str], N]:
    """An argparse ``type``: ``text`` as ``kind`` within ``lo..hi``, or an error saying so."""
    def parse(text: str) -> N:
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be {what} from {lo:g} to {hi:g}, got {text!r}")
        return v

    return parse


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        w = h = -1
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"must look like 1280x720 (each side {MIN_SIDE} to {MAX_SIDE}), "
                                         f"got {text!r}")
    return w, h


def _steps(text: str) -> str:
    parts = text.split(":")
    try:
        ok = len(parts) == 2 and all(int(p) >= 0 for p in parts if p.strip())
    except ValueError:
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(f"must look like START:STOP with whole numbers from 0 "
                                         f"(e.g. 0:10, 5:, :20), got {text!r}")
    return text


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a file or folder")
    return text


def export_args(argv: list[str]) -> argparse.Namespace:
    """Options of ``convviz export``, each checked with its range (errors name the option)."""
    from .models.exportplan import MAX_FPS, MAX_LOOP, MIN_FPS  # (the window's start does without it)

    ap = _OneLineParser(prog="convviz export", description="Export frames, an animation or the frames "
                        "as data, headless (no display needed), with the pixels the screen shows.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", type=_path, help="a built-in preset name (see 'convviz presets')")
    src.add_argument("--scenario", type=_path, metavar="FILE", help="a scenario file (.json)")
    ap.add_argument("--format", required=True, choices=EXPORT_FORMATS,
                    help="json: the frames as data (see the README); pdf: vector pages for slides")
    ap.add_argument("--out", required=True, type=_path, metavar="PATH",
                    help="output file; for png with several steps (or a PATH ending in /), a new folder")
    ap.add_argument("--steps", type=_steps, metavar="START:STOP", help="0-based, STOP excluded "
                    "(default: every step for gif, mp4 and json; the scenario's step for png, svg, pdf)")
    ap.add_argument("--scale", type=_number(float, float(MIN_SCALE), float(MAX_SCALE), "a number"),
                    default=1.0,
                    help=f"pixels per point, {MIN_SCALE} to {MAX_SCALE} (default 1; png, gif, mp4)")
    ap.add_argument("--theme", choices=THEMES)
    ap.add_argument("--view", choices=VIEWS, help="flat, or the stage view (default: the scenario's own)")
    ap.add_argument("--motion", choices=MOTION_SETTINGS,
                    help="on: products travel between steps (gif, mp4; default: the scenario's own)")
    ap.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH",
                    help=f"picture size before scaling, each side {MIN_SIDE} to {MAX_SIDE} "
                         "(default 1280x720)")
    ap.add_argument("--fps", type=_number(float, MIN_FPS, MAX_FPS, "a number"), default=2.0,
                    help=f"frames per second, {MIN_FPS:g} to {MAX_FPS:g} (gif, mp4; default 2)")
    ap.add_argument("--loop", type=_number(int, 0, MAX_LOOP, "a whole number"), default=0,
                    help=f"how many times a gif plays, 0 (forever, the default) to {MAX_LOOP}")
    return ap.parse_args(argv)


# ----------------------------------------------------------------------------- export
class _Signals:
    """While active, SIGINT and SIGTERM only note that they came.

    The export stops at its next frame, from its own code (``check`` raises
    ``Interrupted``): an exception raised by a handler could land inside a
    Qt slot, which would swallow it.
    """

    WATCHED = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, object] = {}

    def __enter__(self) -> _Signals:
        for s in self.WATCHED:
            self._old[s] = signal.signal(s, self._note)
        return self

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def check(self) -> None:
        if self.signum is not None:
            from .models.outfiles import Interrupted

            raise Interrupted(self.signum)

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._old.items():
            signal.signal(s, handler)  # type: ignore[arg-type]


def run_export(argv: list[str]) -> int:
    """``convviz export …``: returns the exit code; errors are one plain line on stderr.

    Ctrl+C and SIGTERM end it at the next frame with one line, nothing written,
    and the exit status a shell expects (130, 143).
    """
    from .models.outfiles import ExportError, Interrupted  # (the window's start does without them)

    with _Signals() as signals:
        shown = [False]  # a progress line is on the terminal: end it before anything else

        def say(line: str) -> None:
            sys.stderr.write(("\n" if shown[0] else "") + line + "\n")
            sys.stderr.flush()
            shown[0] = False

        try:
            out = _export(export_args(argv), signals, shown, say)
        except (ExportError, ValueError) as exc:  # ScenarioError is a ValueError: one line
            if signals.signum is not None:  # stopped (or failed because it was being stopped)
                stop = exc if isinstance(exc, Interrupted) else Interrupted(signals.signum)
                say(f"convviz export: {stop}")
                return stop.exit_code
            say(f"convviz export: {exc}")
            return 1
        say(f"wrote {out}")
        return 0


def _export(args: argparse.Namespace, signals: _Signals, shown: list[bool],
            say: Callable[[str], None]) -> str:
    from .models import frames_io, scenario
    from .models.exportplan import estimate_text, is_long, parse_steps
    from .models.lesson import Lesson
    from .models.outfiles import ExportError

    try:
        s = scenario.load_preset(args.preset) if args.preset else scenario.load(args.scenario)
    except scenario.ScenarioError as exc:
        raise ExportError(f"{'--preset' if args.preset else '--scenario'}: {exc}") from None
    model = Lesson()
    if not scenario.apply(model, s):
        raise ExportError(f"the scenario was refused: {model.last_error or 'invalid'}")
    if args.view:
        model.set_view(args.view)
    if args.motion:
        model.set_params(motion=args.motion)
    try:
        steps = parse_steps(args.steps, model.n_steps) if args.steps else None
    except ExportError as exc:
        raise ExportError(f"--steps: {exc}") from None

    def progress(done: int, total: int) -> bool:
        signals.check()
        if total > 1 and sys.stderr.isatty():
            sys.stderr.write(f"\rframe {done}/{total}")
            sys.stderr.flush()
            shown[0] = True
        return True

    def announce(frames: int, seconds: float) -> None:
        if is_long(frames, seconds):
            say(f"convviz export: {estimate_text(frames, seconds)} (Ctrl+C stops it; nothing is left behind)")

    signals.check()
    if args.format == "json":  # data only: no Qt
        path = frames_io.write_frames_json(model, args.out, steps, title=s.title, progress=progress,
                                           announce=announce)
        return str(path)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["convviz"])
    from . import export

    renderer = export.offscreen_renderer(args.size, args.theme or s.theme)
    try:
        path = export.export(model, renderer, args.format, args.out, steps=steps, scale=args.scale,
                             fps=args.fps, loop=args.loop, progress=progress, announce=announce,
                             title=s.title)
    finally:
        renderer.close()
    del app
    return str(path)


def run_presets() -> int:
    """``convviz presets``: one line per preset, name and title."""
    from .models import scenario

    try:
        names = scenario.list_presets()
        width = max((len(n) for n in names), default=0)
        for name in names:
            try:
                title = scenario.load_preset(name).title
            except scenario.ScenarioError as exc:
                title = f"(damaged: {exc})"
            print(f"{name:{width}s}  {title}", flush=True)
    except BrokenPipeError:  # `convviz presets | head`: the reader has what it wanted
        sys.stderr.close()
    return 0


def run_classify(argv: list[str]) -> int:
    """``convviz classify PICTURE``: the trained LeNet-5's ten probabilities, ``digit: probability`` lines.

    No Qt: the picture is decoded by Pillow and prepared as the pipeline's canvas prepares a drawing.
    """
    ap = _OneLineParser(prog="convviz classify",
                        description="Read a picture of one digit (PNG, JPEG or BMP; dark on light or "
                                    "light on dark) with the trained LeNet-5; print the ten probabilities.")
    ap.add_argument("picture", help="the picture file")
    args = ap.parse_args(argv)
    from .models import digits

    try:
        grey = digits.read_picture(args.picture)
        x = digits.digit_input(grey)
        if not x.any():
            raise ValueError(f"{args.picture} is blank: every pixel is the same grey, there is no digit")
        probs = digits.probabilities(x)
    except ValueError as exc:  # DigitPictureError, or damaged shipped weights
        sys.stderr.write(f"convviz classify: {exc}\n")
        return 1
    if not digits.is_trained():
        sys.stderr.write("convviz classify: no trained weights are shipped; these are a random network's\n")
    try:
        for d, p in enumerate(probs):
            print(f"{d}: {p:.4f}", flush=True)
    except BrokenPipeError:
        sys.stderr.close()
    return 0


def paint_on_one_thread() -> None:
    """Let Qt paint on the UI thread alone (``QT_NO_GUI_THREADPOOL``), as the window runs; call before the
    first paint (Qt reads it once).

    Qt's raster engine hands big fills and image draws in pieces to a pool of threads. A new 32x32
    lesson's pictures made ~110 thread switches and ~0.9 ms of system time per change, ~20% more CPU time
    in all, and each draw waited for threads the other programs' work could delay (issue #12, row 1b:
    p95 16-25 ms on two busy cores); on the UI thread alone none of that, and its own CPU time is less.
    ``convviz export`` keeps Qt's threads: no window waits on it, and its big frame conversions
    (``gui.export.png``) take a third of the time with them.
    """
    os.environ["QT_NO_GUI_THREADPOOL"] = "1"


def freeze_start_up() -> None:
    """Move every object made while starting into the collector's permanent generation (``gc.freeze``).

    The full collections that follow then walk only what is made later. With the start-up objects in
    them they took 15–40 ms, long enough to make a step played at 60 steps/s late (the stage view's
    playback dropped 1–3 steps in 3 s; frozen: none, the longest paint 4–6 ms instead of 22–46 ms).
    """
    gc.collect()
    gc.freeze()


#: The pipeline window's modules are imported in a worker thread this long after the window is up.
PRELOAD_AFTER_MS = 3000
#: ... these (``numpy.ma``: NumPy loads it on the first ``np.median``, ~35 ms, which the sample digit's
#: preparation calls when the window first opens).
PRELOADED = ("gui.pipeline", "numpy.ma")


def preload_pipeline() -> threading.Thread | None:
    """Import the pipeline window's modules (``PRELOADED``: pyqtgraph and ``gui.pipeline`` with what it
    needs) in a daemon thread; None when they are loaded already.

    Imported on the first Ctrl+L, they made that action's first turn 160-190 ms long (pyqtgraph alone
    ~130 ms: its Qt shim makes every PySide6 type, and ~40 ms more where our modules are compiled on
    each start). In a worker the UI thread keeps running meanwhile: the import gives the interpreter
    up every few milliseconds. A Ctrl+L while it runs waits for it at Python's import lock.
    """
    if all(name in sys.modules for name in PRELOADED):
        return None
    worker = threading.Thread(target=lambda: [importlib.import_module(name) for name in PRELOADED],
                              name="convviz-preload", daemon=True)
    worker.start()
    return worker


def preload_when_quiet(win: MainWindow) -> None:
    """``preload_pipeline`` now if ``win`` is quiet, else a while later: the import in a worker still
    makes a playing lesson's turns longer (the longest 20-70 ms instead of ~10 ms at 60 steps/s)."""
    from PySide6.QtCore import QTimer

    if win.controller.playing or win.lesson_ctl.busy:
        QTimer.singleShot(PRELOAD_AFTER_MS, win, lambda: preload_when_quiet(win))
        return
    preload_pipeline()


def main(argv: list[str] | None = None) -> int:
    """Start the app (or a subcommand); returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "classify":
        return run_classify(argv[2:])
    if len(argv) > 1 and argv[1] == "export":
        return run_export(argv[2:])
    if len(argv) > 1 and argv[1] == "presets":
        return run_presets()
    args = parse_args(argv[1:])
    paint_on_one_thread()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv)
    open_window(args)
    return app.exec()


def open_window(args: argparse.Namespace) -> MainWindow:
    """Show the window the command line ``args`` (``parse_args``) asks for; the event loop then builds it.

    The frame paints first; the lesson (NumPy, the engine) is built right after that first paint, and
    what the command line asks for is done in the same turn, before the lesson is ever painted.
    A ``QApplication`` must exist.
    """
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from .mainwindow import MainWindow

    app = QApplication.instance()
    assert app is not None, "open_window needs a QApplication"
    app.setApplicationName("convviz")
    app.setOrganizationName("convviz")
    sys.excepthook = report_exception
    win = MainWindow(settings=None if args.screenshot else QSettings(), later=True)
    win.ready.connect(lambda: _as_asked(app, win, args))
    if args.screenshot:  # nothing to picture: fail rather than wait
        win.failed.connect(lambda _message: app.exit(1))
    win.show()
    return win


def _as_asked(app: QCoreApplication, win: MainWindow, args: argparse.Namespace) -> None:
    """Once ``win``'s lesson is built: open what the command line names, then take the screenshot."""
    from PySide6.QtCore import QTimer

    opened = True
    if args.preset:
        opened = win.files.open_preset(args.preset) and opened
    if args.file:
        opened = win.files.open_path(args.file) and opened
    if not opened:
        sys.stderr.write(f"convviz: {win.status.text()}\n")
        if args.screenshot:  # nothing to show: say so and fail, rather than picture the message
            app.exit(1)
            return
    if args.view:
        win.model.set_view(args.view)
    if args.motion:
        win.model.set_params(motion=args.motion)
    if args.step is not None:
        win.model.set_step(args.step)
    QTimer.singleShot(0, freeze_start_up)  # once the window is up: start-up's objects leave the collector
    QTimer.singleShot(PRELOAD_AFTER_MS, win, lambda: preload_when_quiet(win))  # then Ctrl+L imports nothing
    if args.screenshot:
        def snap() -> None:
            ok = win.grab().save(args.screenshot)
            if not ok:
                sys.stderr.write(f"convviz: could not write {args.screenshot}\n")
            app.exit(0 if ok else 1)

        QTimer.singleShot(400, snap)
