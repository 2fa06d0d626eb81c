"""A deck entry that names a preset and adds the lecturer's note (and title): loaded beside the old
entry forms, shown on the stage when the deck is presented, refused in words when malformed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.models import scenario

NOTE = "Stride 2 halves the output: count the windows."


def write_deck(folder: Path, entries: list[object]) -> Path:
    path = folder / "deck.json"
    path.write_text(json.dumps({"format": "convviz-deck", "version": 1, "title": "Strides",
                                "scenarios": entries}))
    return path


def test_a_preset_entry_carries_a_note_beside_the_old_forms(tmp_path: Path) -> None:
    own = scenario.load_preset("conv-stride2")
    (tmp_path / "mine.json").write_text(scenario.dumps(scenario.load_preset("maxpool-2x2")))
    path = write_deck(tmp_path, [
        "preset:conv-no-padding",
        {"preset": "conv-stride2", "note": NOTE},
        {"preset": "conv-stride2", "title": "Twice as fast", "note": ""},
        "mine.json",
        scenario.to_dict(scenario.load_preset("sobel-edges")),
    ])
    title, scenes = scenario.load_deck(path)
    assert title == "Strides" and len(scenes) == 5
    assert scenes[0].note == "" and scenes[0].params == scenario.load_preset("conv-no-padding").params
    noted = scenes[1]
    assert (noted.title, noted.note) == (own.title, NOTE)  # the preset's own title stays
    assert noted.params == own.params and (noted.x == own.x).all() and (noted.w == own.w).all()
    assert (scenes[2].title, scenes[2].note) == ("Twice as fast", "")
    assert scenes[3].params.op == "max" and scenes[4].params == scenario.load_preset("sobel-edges").params
    shipped = Path(__file__).resolve().parents[1] / "resources" / "decks"
    for deck in shipped.glob("*.json"):  # the old deck files stay valid
        assert scenario.load_deck(deck)[1]


@pytest.mark.parametrize(("entry", "field", "words"), [
    ({"preset": "conv-stride2", "notes": NOTE}, "scenarios[0].notes", 'takes "preset", "title" and "note"'),
    ({"preset": 7, "note": NOTE}, "scenarios[0].preset", "must be a preset's name"),
    ({"preset": "conv-stride2", "note": ["a", "list"]}, "scenarios[0].note", "must be text"),
    ({"preset": "conv-stride2", "note": "x" * 100_000}, "scenarios[0].note", "a note has at most"),
    ({"preset": "no-such-preset", "note": NOTE}, "scenarios[0]", "no-such-preset"),
])
def test_a_malformed_preset_entry_is_refused_in_words(tmp_path: Path, entry: dict[str, object], field: str,
                                                      words: str) -> None:
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load_deck(write_deck(tmp_path, [entry]))
    assert str(err.value).startswith(field) and words in str(err.value)


def test_presenting_the_deck_shows_the_entrys_note_on_stage(window, tmp_path: Path) -> None:
    win = window
    assert win.files.open_path(str(write_deck(tmp_path, ["preset:conv-no-padding",
                                                         {"preset": "conv-stride2", "note": NOTE}])))
    assert win.model.frame().note == ""
    win.act_next.trigger()
    f = win.model.frame()
    assert f.note == NOTE and f.params == scenario.load_preset("conv-stride2").params
    assert win.renderer.heading.text.endswith(" — " + NOTE)  # painted on the stage under its title
