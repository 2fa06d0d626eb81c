"""The main window's frame, painted before NumPy and the engine have loaded (issue #12).

Starting convviz spends most of its time loading NumPy, the engine and our own
modules. ``WindowShell`` needs none of them: it is the window's title, its menu
bar, the panel's column, the stage's place saying "Preparing the lesson…" and
the status bar. ``convviz`` shows it first, so a window appears as soon as
PySide6 can paint one, and the lesson fills it in right after its first paint
(``build_after_first_paint``). Everything here is Qt only; the import test in
``tests/test_startup.py`` keeps it that way.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QScrollArea, QSplitter, QVBoxLayout, QWidget

from .models.choices import THEME_COLOURS, THEMES, Theme

TITLE = "convviz — convolution and pooling, step by step"
#: Width of the panel's column: its widest group box, their margins and the vertical scroll bar.
PANEL_WIDTH = 392
#: The menu bar's menus, in order: key and title (the lesson's actions fill them in).
MENUS = (("file", "&File"), ("playback", "&Playback"), ("view", "&View"), ("lecture", "&Lecture"))
PREPARING = "Preparing the lesson…"
#: If the frame is never painted (a window shown off-screen or minimised), the lesson is built anyway.
FALLBACK_MS = 500


class _FirstPaint(QObject):
    """Calls ``then`` once, on the next turn of the event loop after ``widget`` first painted."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self, self._then)  # once this paint has reached the screen
        return False


class Preparing(QWidget):
    """The stage's place until the lesson is built: "Preparing the lesson…", centred, in the colours of
    the stage's ``theme``.

    Painted by hand rather than by a centred ``QLabel``: aligning needs the ``Qt`` namespace, whose
    first use makes PySide6 build its hundred-odd enums (15–25 ms) before the first paint. The lesson
    needs them anyway, after it.
    """

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.background = QColor(THEME_COLOURS[theme]["background"])
        self.ink = QColor(THEME_COLOURS[theme]["text"])

        self._text = PREPARING

    def text(self) -> str:
        """What it says."""
        return self._text

    def say(self, text: str) -> None:
        """Say ``text`` instead (the lesson could not be made)."""
        self._text = text
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.background)
        painter.setPen(self.ink)
        metrics = painter.fontMetrics()
        x = (self.width() - metrics.horizontalAdvance(self._text)) // 2
        y = (self.height() + metrics.ascent() - metrics.descent()) // 2
        painter.drawText(x, y, self._text)
        painter.end()


class WindowShell(QMainWindow):
    """The frame of the main window: everything the first paint shows, with Qt only.

    Attributes
    ----------
    scroll : QScrollArea
        The panel's column (empty until the lesson's controls are put in).
    right : QWidget
        The stage's place and the playback bar below it; says "Preparing the lesson…" until then.
    status : QLabel
        The status bar's message.
    menus : dict[str, QMenu]
        The menu bar's menus by key (``MENUS``), empty until the lesson's actions are made.
    is_ready : bool
        Whether the lesson has been built into the frame (``ready`` has been emitted).
    """

    #: The lesson is built and shown in the frame.
    ready = Signal()
    #: The lesson could not be built (the message says why; the exception goes on to ``sys.excepthook``).
    failed = Signal(str)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.settings = settings
        self.is_ready = False
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setMinimumWidth(PANEL_WIDTH)
        theme = settings.value("view/theme", "light") if settings is not None else "light"
        self.preparing = Preparing(theme if theme in THEMES else "light")
        self.right = QWidget()
        self._right_layout = QVBoxLayout(self.right)
        self._right_layout.setContentsMargins(0, 0, 0, 0)
        self._right_layout.addWidget(self.preparing, 1)
        split = QSplitter()
        split.addWidget(self.scroll)
        split.addWidget(self.right)
        split.setStretchFactor(1, 1)
        split.setSizes([PANEL_WIDTH, 1000])
        self.setCentralWidget(split)
        self.status = QLabel("")
        self.statusBar().addWidget(self.status, 1)
        bar = self.menuBar()
        self.menus: dict[str, QMenu] = {}
        for key, title in MENUS:
            self.menus[key] = bar.addMenu(title)
            self.menus[key].setToolTipsVisible(True)
        self.resize(1400, 860)
        geometry = settings.value("window/geometry") if settings is not None else None
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self._fallback: QTimer | None = None
        self._closed_unbuilt = False  # closed before its lesson was built: build it only if shown again

    def fill(self, panel: QWidget, stage: QWidget, below: QWidget) -> None:
        """Put the lesson's widgets in the frame: ``panel`` in the column, ``stage`` and ``below`` right."""
        from PySide6.QtCore import Qt  # (its enums are built on first use: not before the first paint)

        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(panel)
        self._right_layout.removeWidget(self.preparing)
        self.preparing.deleteLater()
        self._right_layout.addWidget(stage, 1)
        self._right_layout.addWidget(below)
        for w in (stage, below):  # a layout shows what it is given only on the next turn of the loop
            w.show()

    def build_after_first_paint(self, build: Callable[[], None]) -> None:
        """Run ``build`` once the frame has painted (or after ``FALLBACK_MS`` if it never does)."""
        done = [False]

        def once() -> None:
            if self._fallback is not None:
                self._fallback.stop()
            if done[0] or self._closed_unbuilt:
                return
            done[0] = True
            try:
                build()
            except Exception as exc:
                self.preparing.say(f"The lesson could not be made: {exc}")
                self.failed.emit(str(exc))
                raise

        self._build_once = once
        _FirstPaint(self.preparing, once)
        self._fallback = QTimer(self)
        self._fallback.setObjectName("build the lesson if the frame is never painted")
        self._fallback.setSingleShot(True)
        self._fallback.timeout.connect(once)
        self._fallback.start(FALLBACK_MS)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Closed before the lesson was built: it is not built behind a closed window (nothing would stop
        what it starts); shown again, it is."""
        if not self.is_ready:
            self._closed_unbuilt = True
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        if self._closed_unbuilt:
            self._closed_unbuilt = False
            build = getattr(self, "_build_once", None)
            if build is not None:
                QTimer.singleShot(0, self, build)
        super().showEvent(event)
