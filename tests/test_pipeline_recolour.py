"""A theme switch recolours the open pipeline window in place, and it looks as one opened in that theme.

Issue 12: a switch rebuilt every stage of the pipeline view (~13 pyqtgraph
plots, 60-100 ms in the click's turn). Now what exists is recoloured; the proof
is pictures: a window switched to theme T grabs pixel for pixel as a window
opened in T and brought to the same state (the sample digit, a traced field,
flatten's cells marked and its vector part filled, a stack with "+N more" and
a classifier's labels).
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from engine import network as nw
from gui.models.choices import THEME_COLOUR_MAPS
from gui.pipeline import PipelineWindow

THEMES = ("dark", "high-contrast", "colour-blind", "light")


def sample_digit(w: PipelineWindow) -> None:
    """As opened: the sample digit on the canvas."""


def field_and_flatten(w: PipelineWindow) -> None:
    """A receptive field traced from C3, and flatten stepped to its 40th element (cells marked, vector part
    filled)."""
    w.trace_field(4, 0, 4, 6)
    for _ in range(40):
        w.step_flatten(1)
    assert w.view.flat_items and w.view.rf_items


def wide_stack(w: PipelineWindow) -> None:
    """20 maps ("+4 more"), a folded vector and a classifier's digits and values; a field traced."""
    assert w.model.set_network(nw.Network((1, 12, 12), (
        nw.Conv(20, 3, padding=1), nw.Activation("relu"), nw.Pool("max", 2), nw.Flatten(), nw.Dense(10))))
    assert w.view.more_texts and w.view.class_texts and w.view.zero_lines
    w.trace_field(3, 0, 2, 3)
    assert w.view.rf_items


STATES: dict[str, Callable[[PipelineWindow], None]] = {
    "sample digit": sample_digit, "field and flatten": field_and_flatten, "wide stack": wide_stack}


def opened(qtbot, theme: str, state: Callable[[PipelineWindow], None]) -> PipelineWindow:  # type: ignore[no-untyped-def]
    w = PipelineWindow(theme=theme)
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    assert w.is_ready
    state(w)
    QApplication.processEvents()  # what a change leaves for the loop (a first grab paints without it)
    return w


def pictures(w: PipelineWindow) -> tuple[QImage, QImage]:
    """The maps and the digit panel, as painted."""
    return w.view.grab().toImage(), w.digits.grab().toImage()


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("theme", THEMES)
def test_a_switched_window_looks_as_one_opened_in_the_theme(qtbot, monkeypatch, theme: str,  # type: ignore[no-untyped-def]
                                                            state: str) -> None:
    switched = opened(qtbot, "light" if theme != "light" else "dark", STATES[state])
    built: list[object] = []
    monkeypatch.setattr(switched.view, "_build", lambda *a, **k: built.append(a))
    before = pictures(switched)
    switched.set_theme(theme)
    QApplication.processEvents()
    assert built == []  # recoloured in place: no stage is built again
    fresh = opened(qtbot, theme, STATES[state])
    assert switched.view.size() == fresh.view.size()
    after = pictures(switched)
    assert after[0] != before[0] and after[1] != before[1]  # (the switch changed the picture)
    assert after[0] == fresh.view.grab().toImage()  # the same picture, pixel for pixel
    assert after[1] == fresh.digits.grab().toImage()
    assert switched.grab().toImage() == fresh.grab().toImage()  # and the whole window


@pytest.mark.parametrize("state", ["sample digit", "wide stack"])
def test_bars_take_a_new_diverging_map_in_place(qtbot, monkeypatch, state: str) -> None:  # type: ignore[no-untyped-def]
    """Every theme has the same diverging map today; one that differs must recolour the bars too."""
    monkeypatch.setitem(THEME_COLOUR_MAPS["dark"], "diverging", "CET-D1")
    switched = opened(qtbot, "light", STATES[state])
    bars = [k for k, items in enumerate(switched.view.items) if isinstance(items[0], pg.BarGraphItem)]
    assert bars
    switched.set_theme("dark")
    QApplication.processEvents()
    fresh = opened(qtbot, "dark", STATES[state])
    assert switched.view.grab().toImage() == fresh.view.grab().toImage()
    assert switched.digits.grab().toImage() == fresh.digits.grab().toImage()


def test_a_build_going_on_when_the_theme_switches_ends_in_the_new_theme(pipeline, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A switch during a build spread over turns builds again, at once, in the new theme."""
    view = pipeline.view
    names, outputs = view._shown
    view._structure = []
    view.show_stages(names, outputs, in_turns=True)
    qtbot.waitUntil(lambda: 0 < len(view.boxes) < len(outputs), timeout=5000)
    pipeline.set_theme("dark")
    assert not view.building and len(view.boxes) == len(outputs)
    fresh = PipelineWindow(theme="dark")
    qtbot.addWidget(fresh)
    with qtbot.waitExposed(fresh):
        fresh.show()
    assert view.grab().toImage() == fresh.view.grab().toImage()
