"""Scenario files, lecture decks, "Copy as PyTorch", themes and zoom remembered, presenter mode."""

from __future__ import annotations

import json
import warnings
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

import engine
from engine.kernels import KERNEL_PRESETS
from gui.mainwindow import MainWindow
from gui.models import scenario, validate
from gui.models.choices import (
    GRAD_VIEWS,
    MODES,
    OPS,
    OUTPUT_LIMIT,
    PAD_KINDS,
    PADDING_MODES,
    UPSTREAMS,
    VALUE_LIMIT,
)
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene import THEMES

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "resources" / "decks" / "conv-arithmetic.json"
#: Upper bounds of the whole-number settings a scenario file may hold.
HI = {name: hi for name, (_, hi) in scenario._BOUNDS.items()}


def new_window(qtbot, settings_obj=None, *, show=True):  # type: ignore[no-untyped-def]
    w = MainWindow(settings=settings_obj)
    qtbot.addWidget(w)
    if show:
        with qtbot.waitExposed(w):
            w.show()
    return w


def assert_same_values(a: Lesson, b: Lesson) -> None:
    assert a.params == b.params
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.w, b.w)
    np.testing.assert_array_equal(a.bias_values, b.bias_values)
    assert a.step == b.step


# --------------------------------------------------------------------------- save, open
def test_save_and_open_round_trip_a_typed_upstream(window, qtbot, tmp_path) -> None:
    m = window.model
    p = Params(op="conv", in_c=2, out_c=2, in_h=5, in_w=6, k_h=3, k_w=2, stride=(2, 1), dilation=(1, 2),
               pad_kind="asymmetric", padding=(1, 0, 2, 1), padding_mode="replicate", bias=True,
               flip_kernel=True, integers=False, seed=7, preset="box blur", mode="both", upstream="ones",
               grad_view="gather")
    assert m.load(p), m.last_error
    assert m.set_input_value(1, 4, 5, -3.25)
    assert m.set_kernel_value(1, 0, 2, 1, 0.125)
    assert m.set_bias_value(1, 2.5)
    assert m.set_upstream_value(1, 0, 3, -7.5)
    assert m.params.upstream == "custom"
    window.set_theme("dark")
    m.set_step(m.n_steps - 3)
    dy = np.array(m.run.dy)
    path = tmp_path / "lesson.json"
    assert window.files.save_to(path)
    data = json.loads(path.read_text())
    assert data["format"] == "convviz-scenario" and data["theme"] == "dark"
    assert listing(tmp_path) == ["lesson.json"]  # no temporary file left beside it

    other = new_window(qtbot)
    assert other.files.open_path(path)
    assert_same_values(other.model, m)
    assert other.model.params.upstream == "custom"
    np.testing.assert_array_equal(other.model.run.dy, dy)
    assert other.model.run.dy[1, 0, 3] == -7.5
    assert other.renderer.theme_name == "dark"
    assert other.renderer.backgroundBrush().color().name() == THEMES["dark"]["background"]
    assert other.model.frame().phase == "gather"
    assert other.files.path == path


def test_save_and_open_round_trip_a_loss_target(window, qtbot, tmp_path) -> None:
    m = window.model
    assert m.load(Params(op="conv", in_h=6, in_w=6, padding=(1, 1, 1, 1), mode="backward", upstream="loss",
                         seed=3))
    assert m.set_target_value(0, 2, 4, 11.5)
    target = m.target
    window.set_theme("high-contrast")
    m.set_step(9)
    path = tmp_path / "loss.json"
    assert window.files.save_to(path)
    # Change everything, then open the file in the same window.
    window.set_theme("light")
    assert m.load(Params(op="max", seed=9))
    assert window.files.open_path(path)
    assert m.params.upstream == "loss" and m.step == 9
    np.testing.assert_array_equal(m.target, target)
    assert m.target[0, 2, 4] == 11.5
    y = engine.conv2d(np.array(m.x), np.array(m.w), padding=1)
    np.testing.assert_allclose(m.run.dy, y - target)
    assert window.renderer.theme_name == "high-contrast"


def test_failed_save_leaves_nothing_and_says_so(window, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert not window.files.save_to(blocker / "lesson.json")
    assert window.controls.error.isVisible()
    assert "Nothing was written" in window.controls.error.text()
    assert listing(tmp_path) == ["file"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- dumps, loads
def params_strategy(small: bool = False) -> st.SearchStrategy[Params]:
    size = st.integers(1, 4) if small else st.integers(1, HI["in_h"])
    pair = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))  # noqa: E731
    return st.builds(
        Params, op=st.sampled_from(OPS), in_h=size, in_w=size,
        in_c=st.integers(1, 3 if small else HI["in_c"]),
        k_h=st.integers(1, 3 if small else HI["k_h"]), k_w=st.integers(1, 3 if small else HI["k_w"]),
        out_c=st.integers(1, 3 if small else HI["out_c"]), stride=pair(1, HI["stride"]),
        dilation=pair(1, HI["dilation"]),
        pad_kind=st.sampled_from(PAD_KINDS), padding=st.tuples(*[st.integers(0, HI["padding"])] * 4),
        padding_mode=st.sampled_from(PADDING_MODES), bias=st.booleans(), ceil_mode=st.booleans(),
        count_include_pad=st.booleans(), flip_kernel=st.booleans(),
        granularity=st.sampled_from(["window", "tap"]), integers=st.booleans(),
        seed=st.integers(0, HI["seed"]), preset=st.sampled_from(KERNEL_PRESETS), mode=st.sampled_from(MODES),
        upstream=st.sampled_from(UPSTREAMS), grad_view=st.sampled_from(GRAD_VIEWS),
        output_padding=pair(0, 2), transpose_view=st.sampled_from(["gather", "scatter"]),
        groups=st.integers(1, 3), drawn_as=st.sampled_from(["grid", "matrix"]),
    )


@settings(max_examples=60, deadline=None)
@given(p=params_strategy(), theme=st.sampled_from(scenario.THEME_NAMES), step=st.integers(0, 10**6),
       title=st.text(max_size=40))
def test_dumps_loads_round_trips_any_params_within_bounds(p, theme, step, title) -> None:
    text = scenario.dumps(scenario.Scenario(params=p, theme=theme, step=step, title=title))
    try:
        validate.plan(p)
    except validate.InvalidError as exc:  # settings the lesson refuses: the file is refused in its words
        with pytest.raises(scenario.ScenarioError) as err:
            scenario.loads(text)
        assert err.value.field == "params" and str(exc) in str(err.value)
        return
    s = scenario.loads(text)
    assert s.params == p
    assert {f.name: getattr(s.params, f.name) for f in fields(Params)} == {
        f.name: getattr(p, f.name) for f in fields(Params)}
    assert (s.theme, s.step, s.title) == (theme, step, title)
    assert s.x is None and s.w is None and s.upstream is None


def workable(p: Params) -> Params:
    """``p``, or with a workable geometry (no padding, a kernel that fits) when the lesson refuses it."""
    try:
        validate.plan(p)
        return p
    except validate.InvalidError:
        q = replace(p, pad_kind="valid", padding=(0, 0, 0, 0), dilation=(1, 1), k_h=min(p.k_h, p.in_h),
                    k_w=min(p.k_w, p.in_w), groups=1, output_padding=(0, 0), drawn_as="grid")
        if q.is_transpose:  # PyTorch's ConvTranspose2d: zeros, no flip; stamps show the forward pass only
            q = replace(q, padding_mode="zeros", flip_kernel=False, transpose_view="gather")
        if q.is_1d:  # a signal: height 1, zeros, no flip
            q = replace(q.with_height_1(), padding_mode="zeros", flip_kernel=False)
        return q


def finite_up_to(limit: float) -> st.SearchStrategy[float]:
    return st.floats(-limit, limit, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), p=params_strategy(small=True).map(workable))
def test_dumps_loads_round_trips_the_values_exactly(data, p) -> None:
    out_shape = validate.plan(p).out_shape
    values, outputs = finite_up_to(VALUE_LIMIT), finite_up_to(OUTPUT_LIMIT)  # subnormals, -0.0 included
    x = data.draw(hnp.arrays(float, (p.in_c, p.in_h, p.in_w), elements=values))
    w = data.draw(hnp.arrays(float, (p.out_c, p.group_in, p.k_h, p.k_w), elements=values))
    b = data.draw(hnp.arrays(float, (p.out_c,), elements=values))
    dy = data.draw(hnp.arrays(float, out_shape, elements=outputs))
    t = data.draw(hnp.arrays(float, out_shape, elements=outputs))
    s = scenario.loads(scenario.dumps(scenario.Scenario(params=p, x=x, w=w, bias=b, upstream=dy, target=t)))
    for got, want in ((s.x, x), (s.w, w), (s.bias, b), (s.upstream, dy), (s.target, t)):
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))  # -0.0 stays -0.0
        assert got.dtype == np.float64


# --------------------------------------------------------------------------- refused files
def valid_dict() -> dict:
    m = Lesson(Params(bias=True))
    return scenario.to_dict(scenario.from_model(m))


def with_params(**changes):  # type: ignore[no-untyped-def]
    d = valid_dict()
    d["params"].update(changes)
    return d


def with_fields(**changes):  # type: ignore[no-untyped-def]
    d = valid_dict()
    d.update(changes)
    return d


def nested(depth: int) -> object:
    v: object = 1.0
    for _ in range(depth):
        v = [v]
    return v


nan_input = valid_dict()
nan_input["input"][0][2][2] = float("nan")
inf_kernel = valid_dict()
inf_kernel["kernel"][0][0][1][1] = float("inf")

CORRUPT: dict[str, tuple[object, str, str]] = {
    # name: (file content: str/bytes written as is, dict dumped as JSON; field; words in the message)
    "not-json": ("convolution, please", "", "not valid JSON"),
    "truncated": (json.dumps(valid_dict())[:200], "", "not valid JSON"),
    "top-level-list": ("[1, 2, 3]", "", "one JSON object"),
    "wrong-format": (with_fields(format="convviz-scene"), "format", "not a convviz scenario"),
    "missing-format": ({"version": 1, "params": {}}, "format", "convviz-scenario"),
    "unknown-version": (with_fields(version=3), "version", "version 3"),
    "params-not-object": (with_fields(params=[1, 2]), "params", "object"),
    "unknown-param": (with_params(colour="red"), "params.colour", "not a setting"),
    "bool-for-int": (with_params(in_h=True), "params.in_h", "whole number"),
    "string-for-int": (with_params(in_w="5"), "params.in_w", "whole number"),
    "float-for-int": (with_params(k_h=3.0), "params.k_h", "whole number"),
    "float-in-pair": (with_params(stride=[2.0, 2]), "params.stride", "whole numbers"),
    "short-pair": (with_params(dilation=[1]), "params.dilation", "list of 2"),
    "int-for-bool": (with_params(bias=1), "params.bias", "true or false"),
    "size-zero": (with_params(in_h=0), "params.in_h", "between 1 and 512"),
    "size-too-big": (with_params(in_w=513), "params.in_w", "between 1 and 512"),
    "channels-too-many": (with_params(in_c=HI["in_c"] + 1), "params.in_c", f"between 1 and {HI['in_c']}"),
    "out-channels-zero": (with_params(out_c=0), "params.out_c", "between 1 and"),
    "kernel-too-big": (with_params(k_w=HI["k_w"] + 1), "params.k_w", f"between 1 and {HI['k_w']}"),
    "dilation-too-big": (with_params(dilation=[1, HI["dilation"] + 1]), "params.dilation", "from 1 to"),
    "stride-zero": (with_params(stride=[0, 1]), "params.stride", "from 1 to 16"),
    "padding-negative": (with_params(padding=[-1, 0, 0, 0]), "params.padding", "from 0 to 16"),
    "seed-negative": (with_params(seed=-1), "params.seed", "between 0"),
    "unknown-op": (with_params(op="median"), "params.op", "must be one of"),
    "unknown-theme": (with_fields(theme="neon"), "theme", "must be one of"),
    "negative-step": (with_fields(step=-2), "step", "from 0 up"),
    "title-not-text": (with_fields(title=5), "title", "text"),
    "input-shape": (with_fields(input=[[1.0, 2.0], [3.0, 4.0]]), "input", "shape"),
    "kernel-shape": (with_fields(kernel=[[[[1.0]]]]), "kernel", "shape"),
    "bias-shape": (with_fields(bias=[1.0, 2.0]), "bias", "shape"),
    "input-not-numbers": (with_fields(input=[["a"]]), "input", "grid of numbers"),
    "nan-in-input": (nan_input, "input", "not a finite number"),
    "infinity-in-kernel": (inf_kernel, "kernel", "not a finite number"),
    "engine-refuses": (with_fields(params={**valid_dict()["params"], "k_h": 7, "padding": [0, 0, 0, 0]},
                                   kernel=None), "", "larger than"),
    "deep-brackets": ("[" * 100_000, "", "nests deeper"),
    "deep-in-a-field": (with_fields(input=nested(40)), "", "nests deeper"),
    "binary": (bytes(range(256)) * 8, "", "not a text file"),
}


def write(path: Path, content: object) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))  # NaN and Infinity written as JSON's extension literals


def test_nan_is_written_as_the_json_literal() -> None:
    assert "NaN" in json.dumps(nan_input) and "Infinity" in json.dumps(inf_kernel)


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_corrupt_file_is_refused_and_the_scenario_stays(window, tmp_path, kind) -> None:
    content, field, words = CORRUPT[kind]
    path = tmp_path / f"{kind}.json"
    write(path, content)
    m = window.model
    assert m.load(Params(op="conv", in_h=6, in_w=7, padding=(1, 1, 1, 1), seed=4))
    m.set_step(5)
    params, x, w, step, title = m.params, np.array(m.x), np.array(m.w), m.step, window.windowTitle()
    if field or kind != "engine-refuses":
        with pytest.raises(scenario.ScenarioError) as err:
            scenario.load(path)
        assert err.value.field == field
        assert words in str(err.value)
    assert not window.files.open_path(path)
    assert (m.params, m.step) == (params, step)
    np.testing.assert_array_equal(m.x, x)
    np.testing.assert_array_equal(m.w, w)
    assert window.renderer.frame.params == params
    assert window.windowTitle() == title
    error = window.controls.error
    assert error.isVisible()
    assert path.name in error.text()
    assert words in error.text()
    if field:
        assert field in error.text()
    assert "\n" not in error.text() and "Traceback" not in error.text()


def test_oversize_file_is_refused_before_it_is_read(window, tmp_path, monkeypatch) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:  # sparse: the size is what counts
        fh.truncate(scenario.MAX_FILE_BYTES + 1)
    assert path.stat().st_size == scenario.MAX_FILE_BYTES + 1

    def no_reading(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(Path, "read_text", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(scenario.json, "loads", no_reading)
    params = window.model.params
    with pytest.raises(scenario.ScenarioError, match="MB"):
        scenario.load(path)
    assert not window.files.open_path(path)
    assert window.model.params == params
    assert "MB" in window.controls.error.text() and window.controls.error.isVisible()
    # Text handed over directly is measured before it is parsed, too.
    with pytest.raises(scenario.ScenarioError, match="larger than"):
        scenario.loads(" " * (scenario.MAX_FILE_BYTES + 1))


def test_file_at_the_size_limit_is_still_read(tmp_path) -> None:
    text = json.dumps(valid_dict())
    path = tmp_path / "padded.json"
    path.write_text(text + " " * (scenario.MAX_FILE_BYTES - len(text)))
    assert path.stat().st_size == scenario.MAX_FILE_BYTES
    assert scenario.load(path).params == Params(bias=True)


def test_missing_file_is_refused_in_words(window, tmp_path) -> None:
    assert not window.files.open_path(tmp_path / "gone.json")
    assert "gone.json" in window.controls.error.text()


# --------------------------------------------------------------------------- lecture decks
def deck_names() -> list[str]:
    entries = json.loads(DECK.read_text())["scenarios"]
    assert all(e.startswith("preset:") for e in entries)
    return [e.removeprefix("preset:") for e in entries]


def test_page_down_and_up_walk_the_deck(window, qtbot) -> None:
    names = deck_names()
    assert window.files.open_path(DECK)
    m = window.model

    def shows(k: int) -> None:
        assert m.params == scenario.load_preset(names[k]).params, f"expected {names[k]}"
        assert window.files.deck_index == k
        assert window.renderer.frame.params == m.params
        assert f"({k + 1} of {len(names)})" in window.windowTitle() + window.status.text()

    shows(0)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)  # the first clamps
    shows(0)
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    shows(1)
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    shows(2)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    shows(1)
    for _ in range(len(names)):  # more presses than scenarios: the last clamps
        qtbot.keyClick(window, Qt.Key.Key_PageDown)
    shows(len(names) - 1)
    assert m.params.mode == "backward"  # the deck ends with backpropagation
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    shows(len(names) - 2)


def test_page_down_without_a_deck_changes_nothing(window, qtbot) -> None:
    m = window.model
    m.set_step(3)
    params, step, title = m.params, m.step, window.windowTitle()
    assert not window.act_next.isEnabled()
    for key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
        qtbot.keyClick(window, key)
    assert (m.params, m.step, window.windowTitle()) == (params, step, title)
    assert window.files.deck == [] and window.files.deck_index == 0
    window.files.deck_step(1)  # even called directly: only a word in the status bar
    assert (m.params, m.step) == (params, step)
    assert "No lecture deck" in window.status.text()


def test_a_deck_with_a_bad_entry_names_it(window, tmp_path) -> None:
    bad = {"format": "convviz-deck", "version": 1, "title": "t",
           "scenarios": ["preset:conv-stride2", {**valid_dict(), "params": {"stride": [0, 1]}}]}
    path = tmp_path / "deck.json"
    path.write_text(json.dumps(bad))
    params = window.model.params
    assert not window.files.open_path(path)
    assert "scenarios[1].params.stride" in window.controls.error.text()
    assert window.model.params == params and window.files.deck == []


# --------------------------------------------------------------------------- copy as PyTorch
PYTORCH_CASES = {
    "conv-default": Params(padding=(1, 1, 1, 1)),
    "conv-stride-dilation-reflect-bias": Params(in_c=2, out_c=3, in_h=9, in_w=8, stride=(2, 2),
                                                dilation=(2, 2), padding=(2, 2, 2, 2), padding_mode="reflect",
                                                bias=True, seed=3),
    "conv-circular-rect": Params(in_h=7, in_w=6, k_h=3, k_w=2, stride=(1, 2), padding=(1, 1, 2, 2),
                                 padding_mode="circular", seed=5),
    "conv-asymmetric-replicate": Params(in_h=6, in_w=6, pad_kind="asymmetric", padding=(1, 0, 2, 1),
                                        padding_mode="replicate", bias=True, seed=2),
    "conv-asymmetric-zeros": Params(in_h=6, in_w=7, stride=(2, 1), pad_kind="asymmetric",
                                    padding=(0, 2, 1, 0), seed=8),
    "conv-same-even-kernel": Params(in_h=6, in_w=6, k_h=4, k_w=2, pad_kind="same", seed=6),
    "conv-valid": Params(in_h=6, in_w=5, pad_kind="valid", out_c=2),
    "conv-flipped": Params(padding=(1, 1, 1, 1), flip_kernel=True, integers=False),
    "conv-flipped-rect-relu-bias": Params(in_c=2, out_c=2, k_h=3, k_w=2, flip_kernel=True, activation="relu",
                                          bias=True, integers=False, seed=4),
    "conv-leaky-relu": Params(activation="leaky_relu", integers=False, seed=9),
    "conv-sigmoid": Params(activation="sigmoid", stride=(2, 2)),
    "conv-tanh-reflect": Params(activation="tanh", padding_mode="reflect", integers=False),
    "max-ceil": Params(op="max", in_c=2, in_h=7, in_w=6, k_h=3, k_w=3, stride=(2, 2), padding=(1, 1, 1, 1),
                       ceil_mode=True),
    "max-dilated": Params(op="max", in_h=8, in_w=8, k_h=2, k_w=2, stride=(2, 2), dilation=(2, 2)),
    "max-dilated-padding-over-half": Params(op="max", in_h=7, in_w=7, k_h=3, k_w=3, stride=(1, 1),
                                            dilation=(2, 2), padding=(2, 2, 2, 2)),
    "max-asymmetric-ceil": Params(op="max", in_h=7, in_w=6, k_h=3, k_w=2, stride=(2, 2),
                                  pad_kind="asymmetric", padding=(1, 0, 0, 1), ceil_mode=True,
                                  integers=False),
    "min": Params(op="min", in_h=6, in_w=6, k_h=2, k_w=2, stride=(2, 2), padding=(1, 1, 1, 1),
                  integers=False),
    "min-asymmetric": Params(op="min", in_h=5, in_w=5, k_h=2, k_w=2, stride=(2, 2), pad_kind="asymmetric",
                             padding=(1, 0, 0, 1)),
    "avg-uncounted-ceil": Params(op="avg", in_h=7, in_w=7, k_h=3, k_w=3, stride=(2, 2), padding=(1, 1, 1, 1),
                                 ceil_mode=True, count_include_pad=False),
    "avg-counted": Params(op="avg", in_h=6, in_w=5, k_h=2, k_w=3, stride=(1, 2), padding=(1, 1, 1, 1)),
    "avg-asymmetric-uncounted": Params(op="avg", in_h=6, in_w=7, k_h=3, k_w=3, stride=(2, 2),
                                       pad_kind="asymmetric", padding=(1, 0, 1, 1), ceil_mode=True,
                                       count_include_pad=False, integers=False),
    "avg-asymmetric-counted-ceil": Params(op="avg", in_h=7, in_w=7, k_h=2, k_w=2, stride=(2, 2),
                                          pad_kind="asymmetric", padding=(0, 1, 1, 0), ceil_mode=True),
    "avg-dilated-ceil-uncounted": Params(op="avg", in_c=2, in_h=8, in_w=7, k_h=3, k_w=2, stride=(2, 2),
                                         dilation=(2, 2), padding=(1, 1, 1, 1), ceil_mode=True,
                                         count_include_pad=False, integers=False),
    "avg-dilated-padding-over-half": Params(op="avg", in_h=7, in_w=7, dilation=(2, 2), padding=(2, 2, 2, 2)),
}


@pytest.mark.parametrize("name", list(PYTORCH_CASES))
def test_copied_pytorch_code_computes_the_same_output(window, qtbot, name) -> None:
    """The copied text alone (no help from the test) rebuilds the layer, its values and the activation,
    and prints the output the stage shows."""
    torch = pytest.importorskip("torch")
    m = window.model
    assert m.load(PYTORCH_CASES[name]), m.last_error
    QGuiApplication.clipboard().clear()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_C, ctrl_shift)
    code = QGuiApplication.clipboard().text()
    assert code, "nothing was copied"
    assert "lines of PyTorch" in window.status.text()
    if m.params.op == "min":
        assert "-x" in code
    ns: dict[str, object] = {"print": lambda *a, **k: None}
    with warnings.catch_warnings():
        # torch notes that padding="same" with an even kernel pads a copy of the input: fine here.
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        exec(code, ns)
    y = ns["y"]
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64
    np.testing.assert_allclose(y.detach().numpy(), m.run.y, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- themes, zoom
@pytest.fixture
def ini(tmp_path) -> str:
    return str(tmp_path / "convviz.ini")


@pytest.mark.parametrize("theme", list(THEMES))
def test_theme_is_applied_and_remembered(qtbot, ini, theme) -> None:
    first = new_window(qtbot, QSettings(ini, QSettings.Format.IniFormat), show=False)
    start = "dark" if theme == "light" else "light"
    first.set_theme(start)
    before = first.renderer.backgroundBrush().color().name()
    first.set_theme(theme)
    bg = first.renderer.backgroundBrush().color().name()
    assert bg == THEMES[theme]["background"]
    assert bg != before or THEMES[start]["background"] == THEMES[theme]["background"]
    assert first.renderer.theme_name == theme
    assert first.theme_actions[theme].isChecked()
    assert first.renderer.caption.opts["color"] == THEMES[theme]["text"]
    first.close()

    again = new_window(qtbot, QSettings(ini, QSettings.Format.IniFormat), show=False)
    assert again.renderer.theme_name == theme
    assert again.renderer.backgroundBrush().color().name() == THEMES[theme]["background"]
    assert again.theme_actions[theme].isChecked()


def test_zoom_is_remembered_and_a_damaged_entry_is_ignored(qtbot, ini) -> None:
    first = new_window(qtbot, QSettings(ini, QSettings.Format.IniFormat), show=False)
    first.set_zoom(1.75)
    assert first.renderer.zoom == 1.75
    first.close()
    again = new_window(qtbot, QSettings(ini, QSettings.Format.IniFormat), show=False)
    assert again.renderer.zoom == 1.75
    again.set_zoom(99)  # clamped
    assert again.renderer.zoom == 3.0
    again.close()
    s = QSettings(ini, QSettings.Format.IniFormat)
    s.setValue("view/zoom", "enormous")
    s.setValue("view/theme", "neon")
    s.sync()
    third = new_window(qtbot, QSettings(ini, QSettings.Format.IniFormat), show=False)
    assert third.renderer.zoom == 1.0
    assert third.renderer.theme_name == "light"


# --------------------------------------------------------------------------- presenter mode
def test_f5_presents_and_escape_leaves(window, qtbot) -> None:
    zoom = window.renderer.zoom
    assert window.scroll.isVisible() and window.playback.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.presenting
    assert not window.scroll.isVisible()
    assert not window.controls.isVisible()
    assert not window.playback.isVisible()
    assert not window.menuBar().isVisible()
    assert window.renderer.isVisible()
    assert window.renderer.zoom >= 1.6
    qtbot.waitUntil(lambda: window.isFullScreen(), timeout=2000)
    QApplication.processEvents()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenting
    assert window.scroll.isVisible() and window.controls.isVisible()
    assert window.playback.isVisible() and window.menuBar().isVisible()
    assert window.renderer.zoom == zoom
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=2000)


def test_presenter_mode_keeps_stepping(window, qtbot, settle) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.model.step == 1
    settle(window, timeout=8000)  # presenting, the products travel: a longer glide
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenting


def test_unknown_field_is_named_in_a_deck_entry_object(tmp_path) -> None:
    path = tmp_path / "deck.json"
    path.write_text(json.dumps({"format": "convviz-deck", "version": 1,
                                "scenarios": ["preset:conv-stride2", with_params(colour=1)]}))
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load_deck(path)
    assert err.value.field == "scenarios[1].params.colour"
