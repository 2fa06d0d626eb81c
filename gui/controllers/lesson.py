"""Binds the parameter panel and the playback bar to a ``Lesson``, both ways.

A user action becomes one change of the lesson. Every change the lesson makes,
or refuses, is shown again by the widgets from the lesson's values (signals
blocked): a refused value never stays in a widget, and the reason is shown
next to the controls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QAbstractButton, QComboBox, QSpinBox

from ..controls import ControlPanel, PairEditor, PlaybackBar, signals_blocked
from ..models.cancel import StopToken, checkpoint
from ..models.choices import FIXED_3X3_PRESETS
from ..models.frame import Frame
from ..models.lesson import Lesson, Prepared
from .latest import Latest, live_pools, running_jobs
from .playback import PlaybackController

# ``running_jobs``/``live_pools`` stay importable from here: tests check that no worker is left running.
__all__ = [
    "BACKGROUND_COST", "Coloured", "Colourer", "LessonController", "live_pools", "running_jobs",
    "then_colour",
]

#: A change whose traces take more multiply-adds than this (``Lesson.cost``) is worked out in a worker
#: thread while the last picture stays on screen; smaller ones are applied at once.
BACKGROUND_COST = 30_000_000

#: Made on the UI thread when a big change starts: a function the worker runs on the change's first frame
#: (the stage colouring its grids), returning what the UI thread calls before the change is shown.
Colourer = Callable[[], Callable[[Frame], Callable[[], None]]]


@dataclass(frozen=True)
class Coloured:
    """A change prepared in the worker, with its first frame's grids coloured there too."""

    prepared: Prepared
    adopt: Callable[[], None]


def then_colour(work: Callable[[], Prepared], colour: Callable[[Frame], Callable[[], None]],
                wanted: Callable[[Prepared], bool]) -> Callable[[], Prepared | Coloured]:
    """``work``, then ``colour`` on the first frame of what it prepared (unless it was refused, or is
    no longer ``wanted``: stale, it will be dropped). A job superseded or cancelled meanwhile stops
    before colouring (``Cancelled`` at the checkpoint)."""
    def run() -> Prepared | Coloured:
        prepared = work()
        f = prepared.frame
        if f is None or not wanted(prepared):
            return prepared
        checkpoint()
        return Coloured(prepared, colour(f))

    return run


class LessonController(QObject):
    """Connects ``ControlPanel`` and ``PlaybackBar`` to ``lesson`` and ``playback``.

    A parameter change goes through ``change``: a small one is applied at once;
    a big one (``Lesson.cost`` above ``BACKGROUND_COST``) is prepared in a
    worker thread while the last picture stays on screen and interactive, then
    committed on the UI thread. A newer change supersedes a running one (its
    work is stopped at its next check and its result dropped; one not started yet
    never runs); ``cancel`` stops and drops it; ``shutdown`` stops it and waits.

    Signals
    -------
    busy_changed(bool)
        A change is being worked out in the background (True) or no longer (False).
    """

    busy_changed = Signal(bool)

    def __init__(self, lesson: Lesson, panel: ControlPanel, bar: PlaybackBar, playback: PlaybackController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson, self.panel, self.bar, self.playback = lesson, panel, bar, playback
        self._latest = Latest(self._finished, self)
        self._latest.running_changed.connect(self._show_busy)
        self._pending: dict[str, object] = {}
        #: Set by the window to the stage's ``colourer``: a big change's pictures are coloured in the worker.
        self.colourer: Colourer | None = None
        panel.cancel.clicked.connect(self.cancel)
        self._bind_panel()
        self._bind_bar()
        lesson.changed.connect(self._changed)
        lesson.error.connect(self._refused)
        lesson.step_changed.connect(bar.show_step)

    # ------------------------------------------------------------------ lesson -> widgets
    def _changed(self) -> None:
        if self.busy:  # changed from elsewhere (a file, a preset): the running change is stale, stop it
            self._drop()
        self.panel.refresh()
        self.bar.refresh()

    def _refused(self, message: str) -> None:
        """Say why (empty: clear the message) and put every widget back to the lesson's values."""
        self.panel.show_error(message)
        if message:
            self.panel.refresh()
            self.bar.refresh()

    # ------------------------------------------------------------------ background changes
    @property
    def busy(self) -> bool:
        """A change is being worked out in a worker thread."""
        return self._latest.running

    @property
    def token(self) -> StopToken:
        """The running (or last) change's stop token: ``token.checks`` is its progress."""
        return self._latest.token

    def change(self, **changes: object) -> bool:
        """Apply ``changes`` (on top of any change still being worked out).

        Returns
        -------
        bool
            What ``set_params`` returned for a change applied at once; True
            when it was handed to a worker.
        """
        pending = {**self._pending, **changes}
        try:
            p = self.lesson.params_with(**pending)
        except TypeError:
            p = None
        if p is None or Lesson.cost(p) <= BACKGROUND_COST:
            self._drop()
            return self.lesson.set_params(**pending)
        self._pending = pending
        prepare = self.lesson.preparer(**pending)
        lesson = self.lesson
        work = prepare if self.colourer is None else then_colour(
            prepare, self.colourer(), lambda done: done.base == lesson.version)
        self._latest.start(work)
        return True

    def cancel(self) -> None:
        """Stop and drop the change being worked out; the widgets show the lesson's values again."""
        if not self.busy:
            return
        self._drop()
        self.panel.refresh()
        self.bar.refresh()

    def shutdown(self) -> None:
        """Stop any change being worked out and wait for the worker thread to end (soon: it is stopped)."""
        self._pending = {}
        self._latest.shutdown()

    def _drop(self) -> None:
        self._pending = {}
        self._latest.drop()

    def _show_busy(self, on: bool) -> None:
        self.panel.show_busy(on)
        self.busy_changed.emit(on)

    def _finished(self, result: object) -> None:
        self._pending = {}
        if isinstance(result, Coloured):
            result.adopt()
            result = result.prepared
        if isinstance(result, Prepared):
            if not self.lesson.commit(result) and not result.refused:
                self._changed()  # the lesson changed meanwhile: show its values
        elif isinstance(result, Exception):
            self._refused(str(result))

    # ------------------------------------------------------------------ widgets -> lesson
    def _bind_panel(self) -> None:
        m, w = self, self.panel
        combos: dict[str, QComboBox] = {
            "op": w.op, "mode": w.mode, "upstream": w.upstream, "integers": w.integers,
            "activation": w.activation, "pad_kind": w.pad_kind, "padding_mode": w.padding_mode,
            "transpose_view": w.transpose_view, "drawn_as": w.drawn_as,
        }
        for name, combo in combos.items():
            self._on_combo(combo, name)
        spins: dict[str, QSpinBox] = {"in_c": w.in_c, "out_c": w.out_c, "groups": w.groups}
        for name, spin in spins.items():
            spin.valueChanged.connect(lambda v, n=name: m.change(**{n: v}))
        checks: dict[str, QAbstractButton] = {
            "bias": w.bias, "flip_kernel": w.flip, "ceil_mode": w.ceil, "count_include_pad": w.cip,
        }
        for name, box in checks.items():
            box.toggled.connect(lambda on, n=name: m.change(**{n: on}))
        w.gather.toggled.connect(lambda on: m.change(grad_view="gather" if on else "scatter"))
        self._on_pair(w.input_size, lambda v: m.change(in_h=v[0], in_w=v[1]))
        self._on_pair(w.kernel_size, lambda v: m.change(k_h=v[0], k_w=v[1]))
        self._on_pair(w.stride, lambda v: m.change(stride=v))
        self._on_pair(w.dilation, lambda v: m.change(dilation=v))
        self._on_pair(w.output_padding, lambda v: m.change(output_padding=v))
        for k in range(4):
            w.pad[k].valueChanged.connect(lambda _, k=k: self._padding_changed(k))
        w.preset.currentTextChanged.connect(self._preset_changed)
        w.new_values.clicked.connect(self._new_values)

    def _new_values(self) -> None:
        """The next seed after the one asked for last (a change still computing counts)."""
        self.change(seed=int(self._pending.get("seed", self.lesson.params.seed)) + 1)  # type: ignore[call-overload]

    def _on_combo(self, combo: QComboBox, name: str) -> None:
        def changed(_: int) -> None:
            data = combo.currentData()
            self.change(**{name: combo.currentText() if data is None else data})

        combo.currentIndexChanged.connect(changed)

    @staticmethod
    def _on_pair(editor: PairEditor, apply: Callable[[tuple[int, int]], object]) -> None:
        def changed(which: str, v: int) -> None:
            if editor.link.isChecked():
                other = editor.w if which == "h" else editor.h
                with signals_blocked(other):
                    other.setValue(v)
            apply(editor.value())

        editor.h.valueChanged.connect(lambda v: changed("h", v))
        editor.w.valueChanged.connect(lambda v: changed("w", v))

    def _padding_changed(self, k: int) -> None:
        t, b, left, r = (s.value() for s in self.panel.pad)
        if self.lesson.params.pad_kind == "symmetric":  # one value per axis: the one just typed
            t = b if k == 1 else t
            left = r if k == 3 else left
            b, r = t, left
        self.change(padding=(t, b, left, r))

    def _preset_changed(self, name: str) -> None:
        if name in FIXED_3X3_PRESETS:
            self.change(preset=name, k_h=3, k_w=3)
        else:
            self.change(preset=name)

    # ------------------------------------------------------------------ playback bar
    def _bind_bar(self) -> None:
        b, c = self.bar, self.playback
        b.first.clicked.connect(c.first)
        b.back.clicked.connect(lambda: c.step_by(-1))
        b.play.clicked.connect(c.toggle)
        b.fwd.clicked.connect(lambda: c.step_by(1))
        b.last.clicked.connect(c.last)
        b.slider.valueChanged.connect(lambda v: c.go_to(v, animate=False))
        b.speed.setValue(c.speed)
        b.speed.valueChanged.connect(c.set_speed)
        b.granularity.currentIndexChanged.connect(
            lambda _: self.change(granularity=b.granularity.currentData())
        )
        c.playing_changed.connect(b.show_playing)
        c.speed_changed.connect(b.show_speed)
