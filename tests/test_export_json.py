"""Frames as data (``convviz-frames`` JSON): the numbers and labels of the Frame the stage paints, strict
JSON whatever the values, streamed to disk; ``convviz export --format json`` runs with Qt unimportable."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gui.models import frames_io, scenario
from gui.models.frame import Frame
from gui.models.lesson import Lesson
from tests.noqt import NO_QT_MAIN as QT_ABSENT

ROOT = Path(__file__).resolve().parent.parent


def model_for(name: str) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    return m


def decoded(v: object) -> float:
    """A JSON value back to the float it stands for."""
    return {None: math.nan, "inf": math.inf, "-inf": -math.inf}.get(v, v)  # type: ignore[arg-type,return-value]


def assert_is_the_frame(data: dict, f: Frame) -> None:  # type: ignore[type-arg]
    """``data`` (parsed from JSON) says what frame ``f`` paints."""
    assert data["step"] == f.step_index
    assert data["caption"] == f.caption and data["arithmetic"] == f.arithmetic
    assert f.caption.startswith(data["title"] + " — ") and data["title"]
    assert data["formula"] == [list(pair) for pair in f.formulas]
    assert [p["name"] for p in data["panels"]] == [p.name for p in f.panels]
    for got, panel in zip(data["panels"], f.panels, strict=True):
        assert got["title"] == panel.title and got["front"] == panel.front
        n, (h, w) = len(panel.grids), panel.grids[0].shape
        assert got["shape"] == [n, h, w]
        values = np.array([[[decoded(v) for v in row] for row in g] for g in got["values"]], dtype=float)
        labels = np.array(got["labels"], dtype=object)
        assert values.shape == labels.shape == (n, h, w)
        for k, g in enumerate(panel.grids):
            stop = h * w if g.pending_from is None else g.pending_from
            shown = np.arange(h * w).reshape(h, w) < stop
            np.testing.assert_array_equal(values[k][shown], np.asarray(g.values)[shown])
            assert np.isnan(values[k][~shown]).all()  # not computed yet: null
            assert (labels[k][shown] == np.asarray(g.labels)[shown]).all()
            assert (labels[k][~shown] == "").all()  # ... and painted without text
            if g.corner is not None:  # the small count in a dL/dX cell's corner
                assert got["corner"][k] == np.asarray(g.corner).astype(str).tolist()


@pytest.mark.parametrize(("name", "steps"), [
    ("conv-half-padding", (0, 7, 24)),
    ("rgb-volume", (0, 30)),  # stacks of 3 and 2 grids
    ("backprop-conv", (3, 12, 17)),  # forward and backward frames, dL/dX with its corner counts
    ("maxpool-2x2", (4,)),
])
def test_json_frames_are_the_frames(name, steps) -> None:
    m = model_for(name)
    doc = json.loads(json.dumps(frames_io.frames_to_json(m, range(0, m.n_steps)), allow_nan=False))
    assert (doc["format"], doc["version"], doc["n_steps"]) == ("convviz-frames", 1, m.n_steps)
    assert [f["step"] for f in doc["frames"]] == list(range(m.n_steps))
    for k in steps:
        assert_is_the_frame(doc["frames"][k], m.frame(k))
    if name == "backprop-conv":
        dx = next(p for p in doc["frames"][17]["panels"] if p["name"] == "dx")
        assert any(c for row in dx["corner"][0] for c in row)


def test_json_stacks_have_the_shape_of_the_stack() -> None:
    doc = frames_io.frames_to_json(model_for("rgb-volume"), range(0, 1))
    shapes = {p["name"]: p["shape"] for p in doc["frames"][0]["panels"]}
    assert shapes == {"input": [3, 7, 7], "kernel": [3, 3, 3], "output": [2, 5, 5]}


def test_json_pooling_padding_and_empty_cells_stay_strict_json() -> None:
    """Max pooling pads with −∞: written as the string "-inf" (NaN, an empty cell, as null), so the file
    is strict JSON that any reader takes, and padding is told apart from an empty cell."""
    m = Lesson()
    assert m.set_params(op="max", padding=(1, 1, 1, 1), k_h=2, k_w=2, stride=(2, 2))
    text = json.dumps(frames_io.frames_to_json(m, range(2, 3)), allow_nan=False)  # raises on NaN/inf
    frame = json.loads(text)["frames"][0]
    panels = {p["name"]: p for p in frame["panels"]}
    top = panels["input"]["values"][0][0]
    assert top == ["-inf"] * 7 and panels["input"]["labels"][0][0] == ["−∞"] * 7
    assert panels["input"]["values"][0][1][1] == 8.0
    assert panels["kernel"]["values"] == [[[1.0, 1.0], [1.0, 1.0]]]  # a pooling window: its taps, no weights
    assert panels["kernel"]["labels"] == [[["", ""], ["", ""]]]  # the window says its rule in its title
    out = panels["output"]
    assert out["values"][0][0] == [8.0, 6.0, 3.0] and out["values"][0][1] == [None] * 3
    assert out["labels"][0][1] == [""] * 3
    assert_is_the_frame(frame, m.frame(2))


def test_write_frames_json_streams_a_valid_file_and_leaves_nothing_else(tmp_path) -> None:
    m = model_for("backprop-conv")
    seen: list[int] = []
    out = frames_io.write_frames_json(m, tmp_path / "f.json", range(2, 8), title="Backprop",
                                      progress=lambda done, total: seen.append(done) is None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
    assert seen == list(range(7))
    doc = json.loads(out.read_text("utf-8"))
    assert doc == json.loads(json.dumps(frames_io.frames_to_json(m, range(2, 8), title="Backprop")))
    assert doc["title"] == "Backprop"

def test_cli_json_export_needs_no_qt(tmp_path) -> None:
    """``convviz export --format json`` where Qt cannot be imported: no QApplication, the same data."""
    out = tmp_path / "frames.json"
    args = ["convviz", "export", "--preset", "conv-stride2-padding", "--format", "json", "--out", str(out),
            "--steps", "2:6"]
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    run = subprocess.run([sys.executable, "-c", QT_ABSENT, *args[1:]], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env=dict(env, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines() == [f"wrote {out}"]
    doc = json.loads(out.read_text("utf-8"))
    m = model_for("conv-stride2-padding")
    assert doc["title"] == scenario.load_preset("conv-stride2-padding").title
    assert [f["step"] for f in doc["frames"]] == [2, 3, 4, 5]
    for f in doc["frames"]:
        assert_is_the_frame(f, m.frame(f["step"]))


def test_json_frames_carry_the_scenario_title_unless_given_one() -> None:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("maxpool-2x2"))
    assert frames_io.frames_to_json(m, range(0, 1))["title"] == scenario.load_preset("maxpool-2x2").title
    assert frames_io.frames_to_json(m, range(0, 1), title="Mine")["title"] == "Mine"
