"""The view (flat or stage) is a setting of a scenario: it round-trips through files, decks and the
command line, old files open flat, and switching it keeps the lesson where it was. No Qt here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gui.app import export_args, parse_args
from gui.models import scenario
from gui.models.lesson import Lesson
from gui.models.params import Params

ROOT = Path(__file__).resolve().parents[1]
STAGE_DECK = ROOT / "resources" / "decks" / "conv-arithmetic-stage.json"


def lesson_of(name: str) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    return m


def test_a_scenario_file_keeps_the_stage_view(tmp_path: Path) -> None:
    m = lesson_of("conv-stride2")
    assert m.set_view("stage")
    path = tmp_path / "lesson.json"
    scenario.save(path, scenario.from_model(m))
    assert json.loads(path.read_text())["params"]["view"] == "stage"
    again = Lesson()
    assert scenario.apply(again, scenario.load(path))
    assert again.params.view == "stage"
    assert again.frame().params.view == "stage"


def test_a_file_without_a_view_opens_flat() -> None:
    """Files written before the setting existed (every shipped preset) open in the flat view."""
    text = (ROOT / "resources" / "presets" / "conv-half-padding.json").read_text()
    assert '"view"' not in text
    assert scenario.loads(text).params.view == "flat"


def test_a_wrong_view_in_a_file_is_refused_naming_the_field() -> None:
    data = scenario.to_dict(scenario.load_preset("conv-stride2"))
    data["params"]["view"] = "3d"
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.from_dict(data)
    assert err.value.field == "params.view"
    assert "flat, stage" in str(err.value)


def test_a_deck_scenario_keeps_its_own_view(tmp_path: Path) -> None:
    staged = scenario.to_dict(scenario.load_preset("conv-stride2"))
    staged["params"]["view"] = "stage"
    deck = {"format": "convviz-deck", "version": 1, "scenarios": ["preset:conv-no-padding", staged]}
    path = tmp_path / "deck.json"
    path.write_text(json.dumps(deck))
    _, scenes = scenario.load_deck(path)
    assert [s.params.view for s in scenes] == ["flat", "stage"]


def test_a_deck_view_draws_every_scenario_that_way(tmp_path: Path) -> None:
    _, scenes = scenario.load_deck(STAGE_DECK)
    assert len(scenes) >= 15 and {s.params.view for s in scenes} == {"stage"}
    names = json.loads(STAGE_DECK.read_text())["scenarios"]
    assert sum(n.startswith("preset:transposed-") for n in names) == 7  # the paper's figures 4.1-4.7
    bad = {"format": "convviz-deck", "version": 1, "view": "sideways", "scenarios": ["preset:conv-stride2"]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load_deck(path)
    assert err.value.field == "view"


def test_switching_the_view_keeps_the_step_values_and_traces() -> None:
    m = lesson_of("conv-half-padding")
    m.set_step(7)
    x, run, seen = m.x.copy(), m.run, []
    m.changed.connect(lambda: seen.append("changed"))
    m.step_changed.connect(lambda k: seen.append(k))
    assert m.set_params(view="stage")  # the panel's way in takes the same path
    assert (m.step, m.run) == (7, run) and np.array_equal(m.x, x)
    assert seen == ["changed"]
    f = m.frame()
    assert (f.params.view, f.step_index) == ("stage", 7)
    assert m.set_view("stage") and seen == ["changed"]  # no change: no event


def test_a_wrong_view_is_refused_in_words_and_changes_nothing() -> None:
    m = lesson_of("conv-stride2")
    errors: list[str] = []
    m.error.connect(errors.append)
    assert not m.set_view("isometric")
    assert m.params.view == "flat"
    assert errors and "the view" in errors[-1] and "flat, stage" in errors[-1]


def test_stage_frames_stack_their_channels() -> None:
    """The stage view draws channels as slabs: an expanded frame is not asked of it."""
    m = lesson_of("rgb-volume")
    assert m.frame(expanded=True).expanded
    m.set_view("stage")
    assert not m.frame(expanded=True).expanded


def test_the_command_line_takes_a_view() -> None:
    assert parse_args(["--preset", "conv-stride2", "--view", "stage"]).view == "stage"
    assert parse_args([]).view is None
    a = export_args(["--preset", "conv-stride2", "--format", "json", "--out", "x.json", "--view", "stage"])
    assert a.view == "stage"
    with pytest.raises(SystemExit):
        export_args(["--preset", "conv-stride2", "--format", "json", "--out", "x.json", "--view", "3d"])


def test_params_default_to_flat() -> None:
    assert Params().view == "flat"
