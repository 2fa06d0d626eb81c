"""Application entry point and the last line of defence against uncaught exceptions."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

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


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    import pyqtgraph as pg

    from .mainwindow import MainWindow

    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("convviz")
    app.setOrganizationName("convviz")
    pg.setConfigOptions(antialias=True)
    sys.excepthook = report_exception
    win = MainWindow()
    win.show()
    return app.exec()
