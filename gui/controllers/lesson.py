"""Binds the parameter panel and the playback bar to a ``Lesson``, both ways.

A user action becomes one change of the lesson. Every change the lesson makes,
or refuses, is shown again by the widgets from the lesson's values (signals
blocked): a refused value never stays in a widget, and the reason is shown
next to the controls.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractButton, QComboBox, QSpinBox

from ..controls import ControlPanel, PairEditor, PlaybackBar, signals_blocked
from ..models.choices import FIXED_3X3_PRESETS
from ..models.lesson import Lesson
from .playback import PlaybackController


class LessonController(QObject):
    """Connects ``ControlPanel`` and ``PlaybackBar`` to ``lesson`` and ``playback``."""

    def __init__(self, lesson: Lesson, panel: ControlPanel, bar: PlaybackBar, playback: PlaybackController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lesson, self.panel, self.bar, self.playback = lesson, panel, bar, playback
        self._bind_panel()
        self._bind_bar()
        lesson.changed.connect(self._changed)
        lesson.error.connect(self._refused)
        lesson.step_changed.connect(bar.show_step)

    # ------------------------------------------------------------------ lesson -> widgets
    def _changed(self) -> None:
        self.panel.refresh()
        self.bar.refresh()

    def _refused(self, message: str) -> None:
        """Say why (empty: clear the message) and put every widget back to the lesson's values."""
        self.panel.show_error(message)
        if message:
            self.panel.refresh()
            self.bar.refresh()

    # ------------------------------------------------------------------ widgets -> lesson
    def _bind_panel(self) -> None:
        m, w = self.lesson, self.panel
        combos: dict[str, QComboBox] = {
            "op": w.op, "mode": w.mode, "upstream": w.upstream, "integers": w.integers,
            "activation": w.activation, "pad_kind": w.pad_kind, "padding_mode": w.padding_mode,
            "transpose_view": w.transpose_view,
        }
        for name, combo in combos.items():
            self._on_combo(combo, name)
        spins: dict[str, QSpinBox] = {"in_c": w.in_c, "out_c": w.out_c, "groups": w.groups}
        for name, spin in spins.items():
            spin.valueChanged.connect(lambda v, n=name: m.set_params(**{n: v}))
        checks: dict[str, QAbstractButton] = {
            "bias": w.bias, "flip_kernel": w.flip, "ceil_mode": w.ceil, "count_include_pad": w.cip,
        }
        for name, box in checks.items():
            box.toggled.connect(lambda on, n=name: m.set_params(**{n: on}))
        w.gather.toggled.connect(lambda on: m.set_params(grad_view="gather" if on else "scatter"))
        self._on_pair(w.input_size, lambda v: m.set_params(in_h=v[0], in_w=v[1]))
        self._on_pair(w.kernel_size, lambda v: m.set_params(k_h=v[0], k_w=v[1]))
        self._on_pair(w.stride, lambda v: m.set_params(stride=v))
        self._on_pair(w.dilation, lambda v: m.set_params(dilation=v))
        self._on_pair(w.output_padding, lambda v: m.set_params(output_padding=v))
        for k in range(4):
            w.pad[k].valueChanged.connect(lambda _, k=k: self._padding_changed(k))
        w.preset.currentTextChanged.connect(self._preset_changed)
        w.new_values.clicked.connect(m.new_values)

    def _on_combo(self, combo: QComboBox, name: str) -> None:
        def changed(_: int) -> None:
            data = combo.currentData()
            self.lesson.set_params(**{name: combo.currentText() if data is None else data})

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
        self.lesson.set_params(padding=(t, b, left, r))

    def _preset_changed(self, name: str) -> None:
        if name in FIXED_3X3_PRESETS:
            self.lesson.set_params(preset=name, k_h=3, k_w=3)
        else:
            self.lesson.set_params(preset=name)

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
            lambda _: self.lesson.set_params(granularity=b.granularity.currentData())
        )
        c.playing_changed.connect(b.show_playing)
        c.speed_changed.connect(b.show_speed)
