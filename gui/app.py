"""Application entry point and the last line of defence against uncaught exceptions."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from .models.choices import EXPORT_FORMATS, MAX_SCALE, MIN_SCALE, THEMES

ERROR_LOG: list[str] = []


def report_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Show an exception that escaped a slot in the window's status bar, never a traceback.

    The full traceback goes to stderr for bug reports; the user sees one
    plain line and the app keeps running.
    """
    ERROR_LOG.append("".join(traceback.format_exception(exc_type, exc, tb)))
    sys.stderr.write(ERROR_LOG[-1])
    app = QApplication.instance()
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
               "frames and animations without a display.",
    )
    ap.add_argument("file", nargs="?", help="a scenario (.json) or lecture deck to open")
    ap.add_argument("--preset", help="open a built-in preset (see 'convviz presets')")
    ap.add_argument("--screenshot", metavar="PNG", help="save a picture of the window, then quit")
    ap.add_argument("--step", type=int, default=None, help="start at this step (0-based)")
    return ap.parse_args(argv)


def export_args(argv: list[str]) -> argparse.Namespace:
    """Options of ``convviz export``."""
    ap = argparse.ArgumentParser(prog="convviz export", description="Export frames or an animation, "
                                 "headless (no display needed), with the pixels the screen shows.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", help="a built-in preset name (see 'convviz presets')")
    src.add_argument("--scenario", metavar="FILE", help="a scenario file (.json)")
    ap.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    ap.add_argument("--out", required=True, metavar="PATH",
                    help="output file; for png with several steps, a new folder")
    ap.add_argument("--steps", metavar="START:STOP", help="0-based, STOP excluded (default: all for "
                    "gif/mp4 and png sequences given --steps; the scenario's step for png/svg)")
    ap.add_argument("--scale", type=float, default=1.0, help=f"{MIN_SCALE} to {MAX_SCALE} (default 1)")
    ap.add_argument("--theme", choices=THEMES)
    ap.add_argument("--size", default="1280x720", metavar="WxH", help="picture size before scaling")
    ap.add_argument("--fps", type=float, default=2.0, help="frames per second (gif, mp4)")
    ap.add_argument("--loop", type=int, default=0, help="gif loop count, 0 = forever")
    return ap.parse_args(argv)


def run_export(argv: list[str]) -> int:
    """``convviz export …``: returns the exit code; errors are one plain line on stderr."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = export_args(argv)
    app = QApplication.instance() or QApplication(["convviz"])
    from . import export
    from .models import scenario
    from .models.lesson import Lesson

    shown = [False]  # a progress line is on the terminal: end it before an error
    try:
        s = scenario.load_preset(args.preset) if args.preset else scenario.load(args.scenario)
        size = tuple(int(v) for v in args.size.lower().split("x"))
        if len(size) != 2 or min(size) < 64 or max(size) > 8192:
            raise export.ExportError(f"--size must look like 1280x720 (64 to 8192), got {args.size}")
        model = Lesson()
        if not scenario.apply(model, s):
            raise export.ExportError(f"the scenario was refused: {model.last_error or 'invalid'}")
        steps = (export.parse_steps(args.steps, model.n_steps) if args.steps
                 else None if args.format in ("png", "svg") else range(model.n_steps))
        renderer = export.offscreen_renderer(size, args.theme or s.theme)  # type: ignore[arg-type]

        def progress(done: int, total: int) -> bool:
            if total > 1 and sys.stderr.isatty():
                sys.stderr.write(f"\rframe {done}/{total}")
                sys.stderr.flush()
                shown[0] = True
            return True

        out = export.export(model, renderer, args.format, args.out, steps=steps, scale=args.scale,
                            fps=args.fps, loop=args.loop, progress=progress)
        sys.stderr.write(("\n" if shown[0] else "") + f"wrote {out}\n")
        renderer.close()
        del app
        return 0
    except (export.ExportError, scenario.ScenarioError, ValueError) as exc:
        sys.stderr.write(("\n" if shown[0] else "") + f"convviz export: {exc}\n")
        return 1


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


def main(argv: list[str] | None = None) -> int:
    """Start the app (or a subcommand); returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "export":
        return run_export(argv[2:])
    if len(argv) > 1 and argv[1] == "presets":
        return run_presets()
    args = parse_args(argv[1:])
    import pyqtgraph as pg

    from .mainwindow import MainWindow

    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("convviz")
    app.setOrganizationName("convviz")
    pg.setConfigOptions(antialias=True)
    sys.excepthook = report_exception
    win = MainWindow(settings=None if args.screenshot else QSettings())
    opened = True
    if args.preset:
        opened = win.files.open_preset(args.preset) and opened
    if args.file:
        opened = win.files.open_path(args.file) and opened
    if not opened:
        sys.stderr.write(f"convviz: {win.status.text()}\n")
        if args.screenshot:  # nothing to show: say so and fail, rather than picture the message
            return 1
    if args.step is not None:
        win.model.set_step(args.step)
    win.show()
    if args.screenshot:
        def snap() -> None:
            ok = win.grab().save(args.screenshot)
            if not ok:
                sys.stderr.write(f"convviz: could not write {args.screenshot}\n")
            app.exit(0 if ok else 1)

        QTimer.singleShot(400, snap)
    return app.exec()
