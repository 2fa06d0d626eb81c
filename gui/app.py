"""Application entry point and the last line of defence against uncaught exceptions."""

from __future__ import annotations

import argparse
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

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
    """Command-line options (``argv`` without the program name)."""
    ap = argparse.ArgumentParser(prog="convviz", description="Convolution and pooling, step by step.")
    ap.add_argument("--screenshot", metavar="PNG", help="save a picture of the window, then quit")
    ap.add_argument("--step", type=int, default=0, help="start at this step (0-based)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    args = parse_args(argv[1:])
    import pyqtgraph as pg

    from .mainwindow import MainWindow

    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("convviz")
    app.setOrganizationName("convviz")
    pg.setConfigOptions(antialias=True)
    sys.excepthook = report_exception
    win = MainWindow(settings=None if args.screenshot else QSettings())
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
