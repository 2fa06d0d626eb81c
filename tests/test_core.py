"""The rest of the Qt-free core: the playback clock (with a fake clock), interaction rules, copies."""

from __future__ import annotations

import numpy as np
import pytest

from gui.models import interaction
from gui.models.choices import MAX_SPEED, MIN_SPEED
from gui.models.clock import GLIDE_MS, SPEEDS, PlaybackClock
from gui.models.lesson import Lesson
from gui.models.params import Params


# --------------------------------------------------------------------------- clock
def test_a_step_is_due_every_one_over_speed_seconds() -> None:
    c = PlaybackClock(speed=4.0)
    c.play(now=10.0)
    assert not c.tick(10.2, at_last_step=False).advance
    t = c.tick(10.25, at_last_step=False)
    assert t.advance and not t.finished
    assert not c.tick(10.3, at_last_step=False).advance
    assert c.tick(10.5, at_last_step=False).advance
    assert (c.steps_played, c.dropped) == (2, 0)


def test_a_late_frame_drops_time_slots_instead_of_queueing_steps() -> None:
    c = PlaybackClock(speed=10.0)
    c.play(now=0.0)
    t = c.tick(0.55, at_last_step=False)  # five slots went by: one step is shown, four slots dropped
    assert t.advance
    assert c.steps_played == 1 and c.dropped == 4
    assert c.tick(0.56, at_last_step=False).advance  # one step more, not a burst of the missed ones
    assert not c.tick(0.57, at_last_step=False).advance
    assert c.steps_played == 2 and c.dropped == 4


def test_playback_pauses_itself_at_the_last_step() -> None:
    c = PlaybackClock(speed=2.0)
    events: list[bool] = []
    c.playing_changed.connect(events.append)
    c.play(now=0.0)
    t = c.tick(0.6, at_last_step=True)
    assert t.finished and not t.advance and not c.playing
    assert events == [True, False]


def test_glide_fraction_runs_from_zero_to_one_and_is_shorter_than_a_step_while_playing() -> None:
    c = PlaybackClock(speed=1.0)
    assert c.start_glide(now=5.0) == 0.0
    assert c.glide_fraction(5.0 + GLIDE_MS / 2000) == pytest.approx(0.5)
    assert c.glide_fraction(6.0) == 1.0
    assert c.tick(6.0, at_last_step=False).idle  # paused and settled: the timer may stop
    fast = PlaybackClock(speed=30.0)
    fast.play(now=0.0)
    fast.start_glide(now=0.0)
    assert fast.glide_fraction(0.8 / 30) == pytest.approx(1.0)  # 80% of the interval
    assert PlaybackClock(speed=60.0).start_glide(now=0.0) == 0.0  # paused: a full glide
    fastest = PlaybackClock(speed=60.0)
    fastest.play(now=0.0)
    assert fastest.start_glide(now=0.0) == 1.0  # shorter than a frame: a jump


def test_speeds_step_through_the_list_and_stay_in_bounds() -> None:
    c = PlaybackClock(speed=MIN_SPEED)
    seen = [c.speed]
    for _ in SPEEDS:
        c.faster()
        seen.append(c.speed)
    assert seen[: len(SPEEDS)] == list(SPEEDS) and c.speed == MAX_SPEED
    c.set_speed(1e9)
    assert c.speed == MAX_SPEED
    c.set_speed(-1)
    assert c.speed == MIN_SPEED


# --------------------------------------------------------------------------- interaction
def test_hovering_an_output_cell_lights_its_receptive_field() -> None:
    m = Lesson(Params(in_h=6, in_w=6, stride=(2, 2), dilation=(2, 1)))
    h = interaction.hover(m, "output", 1, 1)
    rows, cols = m.trace.geometry.window(1, 1)
    assert h.receptive is not None and h.fed is None
    assert h.receptive.panel == "input"
    assert set(h.receptive.cells) == {(int(r), int(c)) for r in rows for c in cols}
    assert h.status == "Output cell (1, 1) reads input rows 1, 3, 5; columns 1–3"  # 0-based, unpadded
    assert interaction.hover(m, "dy", 1, 1) == h  # dL/dY cells stand for their Y cells


def test_hovering_an_input_cell_names_the_kernel_taps_it_meets() -> None:
    m = Lesson()
    h = interaction.hover(m, "input", 2, 2)  # padded (2, 2) is input (1, 1)
    assert h.fed is not None and h.receptive is None
    assert len(h.fed.cells) == 9 and len(h.fed.labels) == 9
    assert dict(zip(h.fed.cells, h.fed.labels, strict=True))[(1, 1)] == "w1,1"
    assert h.status == "Input cell (1, 1) feeds 9 output cells"


def test_clicks_select_for_the_check_pin_and_unpin() -> None:
    m = Lesson(Params(in_c=2, out_c=3, flip_kernel=True, mode="backward"))
    c = interaction.click(m, "kernel", 5, 0, 2, None)  # tile 5 = kernel 2, channel 1; flipped tap
    assert c.selection == ("w", (2, 1, 2, 0))
    c = interaction.click(m, "dx", 1, 0, 0, None)  # padding: nothing to select
    assert c.selection is None
    c = interaction.click(m, "input", 1, 1, 3, None)
    assert c.selection == ("x", (1, 0, 2))
    c = interaction.click(m, "output", 0, 2, 3, None)
    assert c.pin == (2, 3) and "pinned" in c.status
    assert interaction.click(m, "output", 0, 2, 3, (2, 3)).unpin


def test_edit_rules_say_why_a_cell_cannot_be_edited() -> None:
    m = Lesson()
    assert "Padding cells" in interaction.edit(m, "input", 0, 0, 0)
    e = interaction.edit(m, "input", 0, 1, 1)
    assert isinstance(e, interaction.Edit) and e.label == "Input [0, 0, 0]" and e.value == m.x[0, 0, 0]
    assert e.apply(42.0) and m.x[0, 0, 0] == 42.0
    assert m.set_params(activation="relu", mode="backward")
    assert "dL/dZ" in interaction.edit(m, "dy", 0, 0, 0)
    assert m.set_params(grad_view="gather", activation="none")
    assert "gather" in interaction.edit(m, "input", 0, 1, 1)


def test_gradient_check_text_agrees_and_asks_for_backward_first() -> None:
    m = Lesson()
    assert "Backward" in interaction.check_gradient_text(m, ("x", (0, 1, 1)))
    assert m.set_params(mode="backward", integers=False)
    text = interaction.check_gradient_text(m, ("w", (0, 0, 1, 2)))
    assert text.startswith("<b>dL/dW[0, 0, 1, 2]</b>")
    analytic, numeric = m.check_gradient("w", (0, 0, 1, 2))
    assert abs(analytic - numeric) < 1e-6


# --------------------------------------------------------------------------- copies
def test_a_copy_is_independent_and_draws_the_same_frames() -> None:
    m = Lesson(Params(mode="both", upstream="loss", bias=True))
    m.set_step(30)
    c = m.copy()
    assert (c.params, c.step, c.n_steps) == (m.params, m.step, m.n_steps)
    for k in (0, 10, m.n_forward, m.n_steps - 1):
        a, b = m.frame(k), c.frame(k)
        assert (a.caption, a.arithmetic) == (b.caption, b.arithmetic)
        np.testing.assert_array_equal(a.output, b.output)
    seen: list[object] = []
    m.changed.connect(lambda: seen.append("m"))
    c.set_params(stride=(2, 2))
    c.set_step(0)
    assert seen == [] and m.params.stride == (1, 1) and m.step == 30
