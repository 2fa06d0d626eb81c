"""Scenario and deck files: whatever convviz saves it opens again; every read is bounded; any path gets words.

Nothing lost: every state the lesson accepts (up to the largest the bounds
allow) saves compactly and comes back identical. Nothing unbounded: a file is
read up to a size computed from the bounds, only regular files are read, a
deck reads a bounded total, and a path a user can type gets a plain message.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui.models import scenario, validate
from gui.models.choices import (
    BOUNDS,
    MAX_DECK_ENTRIES,
    MAX_TITLE,
    OUTPUT_LIMIT,
    SETTING_CHOICES,
    VALUE_LIMIT,
)
from gui.models.lesson import Lesson
from gui.models.params import Params

ROOT = Path(__file__).resolve().parent.parent
HI = {name: top for name, (_, top) in BOUNDS.items()}


def held(m: Lesson) -> dict[str, object]:
    """Everything a lesson holds that a file must bring back."""
    return {
        "params": m.params, "step": m.step, "n_steps": m.n_steps, "x": np.array(m.x), "w": np.array(m.w),
        "b": m.bias_values, "target": m.target, "typed": m.typed_upstream,
        "dy": None if m.run.dy is None else np.array(m.run.dy),
    }


def assert_same(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray) or isinstance(b[k], np.ndarray):
            assert a[k] is not None and b[k] is not None, k
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)  # type: ignore[arg-type]
            assert np.array_equal(np.signbit(a[k]), np.signbit(b[k])), k  # type: ignore[arg-type]
        else:
            assert a[k] == b[k], k


def round_trip(m: Lesson) -> tuple[Lesson, str]:
    """Save ``m`` as convviz saves it, open it in a fresh lesson."""
    text = scenario.dumps(scenario.from_model(m))
    other = Lesson()
    assert scenario.apply(other, scenario.loads(text)), other.last_error
    return other, text


def trimmed(expected_shape: tuple[int, ...] | None, a: np.ndarray | None) -> np.ndarray | None:
    return a if a is not None and a.shape == expected_shape else None


# --------------------------------------------------------------------------- 1. whatever is saved opens
@pytest.mark.parametrize("channels", [4, 16])
def test_a_512x512_input_of_many_channels_saves_and_opens_again(window, qtbot, tmp_path, channels) -> None:
    m = window.model
    x = np.random.default_rng(channels).uniform(-1, 1, size=(channels, 512, 512))
    assert m.load(Params(op="max", in_c=channels, in_h=512, in_w=512, k_h=2, k_w=2, stride=(2, 2),
                         padding=(0, 0, 0, 0), integers=False), x=x), m.last_error
    path = tmp_path / "big.json"
    assert window.files.save_to(path)
    size = path.stat().st_size
    assert size < channels * 512 * 512 * 8 * 4 / 3 + 100_000  # compact: 11 MB for 4 channels (was 9.5 MB of
    assert size <= scenario.MAX_FILE_BYTES                     # lists, refused on opening as over 8 MB)
    assert json.loads(path.read_text())["version"] == 2
    from gui.mainwindow import MainWindow

    other = MainWindow()
    qtbot.addWidget(other)
    assert other.files.open_path(path), other.controls.error.text()
    np.testing.assert_array_equal(other.model.x, x)
    assert other.model.params == m.params


@pytest.mark.slow
def test_the_largest_state_the_bounds_allow_saves_within_the_limit_and_opens_identically() -> None:
    """Every array at the largest shape the bounds allow, values as long as ``repr`` makes them."""
    p = Params(in_c=HI["in_c"], out_c=HI["out_c"], in_h=HI["in_h"], in_w=HI["in_w"], k_h=HI["k_h"],
               k_w=HI["k_w"], padding=(HI["padding"],) * 4, pad_kind="asymmetric", seed=HI["seed"],
               mode="backward", upstream="custom")
    out_shape = validate.plan(p).out_shape
    rng = np.random.default_rng(0)
    long = -1.2345678901234567e-300  # 24 characters of repr

    def grid(shape: tuple[int, ...], limit: float) -> np.ndarray:
        a = rng.uniform(-limit, limit, size=shape)
        a.flat[::7] = long
        return a

    s = scenario.Scenario(params=p, x=grid((p.in_c, p.in_h, p.in_w), VALUE_LIMIT),
                          w=grid((p.out_c, p.in_c, p.k_h, p.k_w), VALUE_LIMIT),
                          bias=grid((p.out_c,), VALUE_LIMIT),
                          upstream=grid(out_shape, OUTPUT_LIMIT), target=grid(out_shape, OUTPUT_LIMIT),
                          theme="colour-blind", step=2**31 - 2, title="\U0001f600" * MAX_TITLE)
    text = scenario.dumps(s)
    assert len(text.encode()) <= scenario.MAX_FILE_BYTES
    back = scenario.loads(text)
    for got, want in ((back.x, s.x), (back.w, s.w), (back.bias, s.bias), (back.upstream, s.upstream),
                      (back.target, s.target)):
        np.testing.assert_array_equal(got, want)
    assert (back.params, back.step, back.title, back.theme) == (s.params, s.step, s.title, s.theme)


def test_the_size_limit_comes_from_the_bounds() -> None:
    big = BOUNDS["in_h"][1] * BOUNDS["in_w"][1] * BOUNDS["in_c"][1] * 8 * 4 / 3  # the input alone, compact
    assert big < scenario.MAX_FILE_BYTES < 4 * big
    assert scenario._largest_file_bytes() == scenario.MAX_FILE_BYTES
    assert scenario.MAX_FILE_BYTES % (1024 * 1024) == 0


def test_a_list_of_numbers_never_takes_more_than_the_limit_allows() -> None:
    """The worst list: ``LIST_MAX`` numbers of 24 characters, one per row (most brackets per number)."""
    long = -1.2345678901234567e-300
    p = Params(in_c=16, in_h=256, in_w=1, k_h=1, k_w=1, padding=(0, 0, 0, 0))
    s = scenario.Scenario(params=p, x=np.full((16, 256, 1), long))
    assert scenario.LIST_MAX == 16 * 256
    d = scenario.to_dict(s)
    assert isinstance(d["input"], list) and d["version"] == 1
    assert len(json.dumps(d["input"], indent=1)) + 200 < 64 * scenario.LIST_MAX


def test_small_arrays_stay_readable_lists_and_the_file_stays_version_1(tmp_path) -> None:
    m = Lesson(Params(in_h=64, in_w=64, mode="backward", upstream="loss"))
    d = scenario.to_dict(scenario.from_model(m))
    assert d["version"] == 1  # an older convviz opens it
    assert all(isinstance(d[k], list) for k in ("input", "kernel", "bias", "target"))
    assert m.set_params(in_w=65)
    d = scenario.to_dict(scenario.from_model(m))
    assert d["version"] == 2 and set(d["input"]) == {"dtype", "shape", "base64"}
    assert d["input"]["shape"] == [1, 64, 65] and isinstance(d["kernel"], list)
    raw = base64.b64decode(d["input"]["base64"])
    np.testing.assert_array_equal(np.frombuffer(raw, "<f8").reshape(1, 64, 65), m.x)


def test_an_old_version_1_file_with_a_large_input_as_lists_still_opens(tmp_path) -> None:
    x = np.random.default_rng(1).uniform(0, 1, size=(3, 200, 150))
    m = Lesson()
    assert m.load(Params(op="avg", in_c=3, in_h=200, in_w=150, k_h=2, k_w=2, stride=(2, 2),
                         padding=(0, 0, 0, 0), integers=False), x=x)
    d = scenario.to_dict(scenario.from_model(m))
    d["version"], d["input"] = 1, x.tolist()  # as convviz 0.1 wrote it
    path = tmp_path / "old.json"
    path.write_text(json.dumps(d, indent=1))
    s = scenario.load(path)
    np.testing.assert_array_equal(s.x, x)


def packed(a: np.ndarray) -> dict[str, object]:
    data = base64.b64encode(a.astype("<f8").tobytes()).decode()
    return {"dtype": "float64", "shape": list(a.shape), "base64": data}


def with_input(value: object) -> str:
    d = scenario.to_dict(scenario.from_model(Lesson()))
    d["version"], d["input"] = 2, value
    return json.dumps(d)


@pytest.mark.parametrize(("value", "words"), [
    ({**packed(np.zeros((1, 5, 5))), "shape": [1, 5, 6]},
     "has shape (1, 5, 6) but the settings need (1, 5, 5)"),
    ({**packed(np.zeros((1, 5, 5))), "shape": [1, 5, True]}, "shape must be a list of whole numbers"),
    ({**packed(np.zeros((1, 5, 5))), "dtype": "float32"}, "dtype must be 'float64'"),
    ({**packed(np.zeros((1, 5, 5))), "base64": "AAAA"}, "base64 must be the 268 characters of 25 numbers"),
    ({**packed(np.zeros((1, 5, 5))), "base64": "*" * 268}, "not base64"),
    ({**packed(np.zeros((1, 5, 5))), "extra": 1}, "exactly dtype, shape and base64"),
    (packed(np.full((1, 5, 5), np.nan)), "not a finite number"),
    (packed(np.full((1, 5, 5), 2e6)), "at most 1,000,000"),
    (packed(np.zeros((1, 5, 5))) | {"base64": 5}, "base64 must be"),
], ids=["shape", "bool-in-shape", "dtype", "short", "not-base64", "extra-key", "nan", "too-large",
        "not-text"])
def test_a_packed_array_is_checked_before_it_is_decoded(value, words) -> None:
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.loads(with_input(value))
    assert err.value.field == "input"
    assert words in str(err.value)


@pytest.mark.parametrize("version", [1.0, True, "1", None, 3, [1]])
def test_a_version_is_a_whole_number_this_convviz_reads(version) -> None:
    d = scenario.to_dict(scenario.from_model(Lesson()))
    d["version"] = version
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.loads(json.dumps(d))
    assert err.value.field == "version"
    assert "1 or 2" in str(err.value)


def test_upstream_and_target_of_the_wrong_shape_are_refused_by_name() -> None:
    m = Lesson(Params(mode="backward", upstream="loss"))
    d = scenario.to_dict(scenario.from_model(m))
    d["target"] = [[[1.0]]]
    with pytest.raises(scenario.ScenarioError, match=r"target: has shape \(1, 1, 1\) but the settings need"):
        scenario.loads(json.dumps(d))


def test_the_typed_gradient_and_the_target_kept_for_later_are_saved_too() -> None:
    m = Lesson(Params(mode="backward", upstream="loss"))
    assert m.set_target_value(0, 1, 1, 7.5)
    assert m.set_upstream_value(0, 2, 2, -3.0)  # typed dL/dY, now "custom"
    assert m.set_params(upstream="ones")  # both kept for later
    other, _ = round_trip(m)
    assert_same(held(other), held(m))
    assert other.set_params(upstream="custom") and m.set_params(upstream="custom")
    assert_same(held(other), held(m))
    assert other.run.dy[0, 2, 2] == -3.0
    assert other.set_params(upstream="loss") and m.set_params(upstream="loss")
    assert other.target[0, 1, 1] == 7.5
    assert_same(held(other), held(m))


def sizes(data: st.DataObject) -> dict[str, Any]:
    """Settings across the whole range of the bounds, with the work of one picture kept small."""
    in_h = data.draw(st.sampled_from([1, 2, 3, 5, 8, 17, 64, HI["in_h"]]), "in_h")
    in_w = data.draw(st.sampled_from([1, 2, 4, 7, 33, HI["in_w"]]), "in_w")
    room = max(1, 6000 // (in_h * in_w))  # channels and kernel taps a cheap picture allows

    def up_to(top: int, lo: int = 1) -> st.SearchStrategy[int]:
        return st.just(top) | st.integers(lo, top)  # the top of the range often

    in_c = data.draw(up_to(min(HI["in_c"], room)), "in_c")
    out_c = data.draw(up_to(min(HI["out_c"], max(1, room // in_c))), "out_c")
    k_h = data.draw(up_to(min(HI["k_h"], in_h + 2 * HI["padding"])), "k_h")
    k_w = data.draw(up_to(min(HI["k_w"], in_w + 2 * HI["padding"])), "k_w")
    side = up_to(HI["padding"], 0)
    return {
        "op": data.draw(st.sampled_from(SETTING_CHOICES["op"])), "in_h": in_h, "in_w": in_w, "in_c": in_c,
        "out_c": out_c, "k_h": k_h, "k_w": k_w,
        "stride": data.draw(st.tuples(up_to(HI["stride"]), up_to(HI["stride"]))),
        "dilation": data.draw(st.tuples(up_to(HI["dilation"]), up_to(HI["dilation"]))),
        "pad_kind": data.draw(st.sampled_from(SETTING_CHOICES["pad_kind"])),
        "padding": data.draw(st.tuples(side, side, side, side)),
        "padding_mode": data.draw(st.sampled_from(SETTING_CHOICES["padding_mode"])),
        "bias": data.draw(st.booleans()), "ceil_mode": data.draw(st.booleans()),
        "count_include_pad": data.draw(st.booleans()), "flip_kernel": data.draw(st.booleans()),
        "granularity": data.draw(st.sampled_from(SETTING_CHOICES["granularity"])),
        "integers": data.draw(st.booleans()), "seed": data.draw(up_to(HI["seed"], 0)),
        "preset": data.draw(st.sampled_from(["random", "identity", "box blur", "gaussian"])),
        "mode": data.draw(st.sampled_from(SETTING_CHOICES["mode"])),
        "upstream": data.draw(st.sampled_from(SETTING_CHOICES["upstream"])),
        "grad_view": data.draw(st.sampled_from(SETTING_CHOICES["grad_view"])),
        "activation": data.draw(st.sampled_from(SETTING_CHOICES["activation"])),
    }


def workable(c: dict[str, Any]) -> dict[str, Any]:
    """``c`` with padding and kernel trimmed to what PyTorch's rules allow (most keep their extremes)."""
    c = dict(c)
    if c["op"] == "conv1d":  # a signal: height 1, zero padding, no flip
        c.update(in_h=1, k_h=1, padding_mode="zeros", flip_kernel=False, stride=(1, c["stride"][1]),
                 dilation=(1, c["dilation"][1]), padding=(0, 0, *c["padding"][2:]))
    elif c["pad_kind"] == "causal":  # the 1-D convolution's only
        c["pad_kind"] = "asymmetric"
    if c["op"] == "conv_transpose":  # PyTorch's ConvTranspose2d: one zero padding per axis, no flip
        c.update(padding_mode="zeros", flip_kernel=False,
                 pad_kind="symmetric" if c["pad_kind"] in ("asymmetric", "same") else c["pad_kind"])
    conv = c["op"] in ("conv", "conv1d")
    if not conv and c["pad_kind"] == "same":
        c["pad_kind"] = "asymmetric"
    if c["pad_kind"] == "same":
        c["stride"] = (1, 1)
    sizes = (c["in_h"], c["in_w"])
    spans = [d * (k - 1) + 1 for k, d in zip((c["k_h"], c["k_w"]), c["dilation"], strict=True)]

    def cap(side: int, axis: int) -> int:
        if not conv:
            return min(side, spans[axis] // 2)
        if c["padding_mode"] == "reflect":
            return min(side, sizes[axis] - 1)
        if c["padding_mode"] == "circular":
            return min(side, sizes[axis])
        return side

    t, b, left, r = c["padding"]
    c["padding"] = (cap(t, 0), cap(b, 0), cap(left, 1), cap(r, 1))
    try:
        validate.plan(validate.params_with(Params(), c))
    except validate.InvalidError:  # the dilated kernel does not fit: an undilated kernel that does
        c.update(dilation=(1, 1), k_h=min(c["k_h"], c["in_h"]), k_w=min(c["k_w"], c["in_w"]),
                 padding=(0, 0, 0, 0), ceil_mode=False)
        if c["op"] == "conv_transpose":  # its output grows with the stride: within the bound at stride 1
            c.update(stride=(1, 1))
    return c


EXTREMES = st.sampled_from([VALUE_LIMIT, -VALUE_LIMIT, 0.0, -0.0, 5e-324, -2.2250738585072014e-308,
                            0.1, 1 / 3, 123456.789])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_state_the_lesson_accepts_saves_and_opens_identically(data) -> None:
    m = Lesson()
    assert m.set_params(**workable(sizes(data))), m.last_error
    for _ in range(data.draw(st.integers(0, 4), "edits")):
        kind = data.draw(st.sampled_from(["input", "kernel", "bias", "upstream", "target"]))
        value = data.draw(EXTREMES | st.floats(-VALUE_LIMIT, VALUE_LIMIT))
        shape = {"input": m.x.shape, "kernel": m.w.shape, "bias": m.bias_values.shape,
                 "upstream": None if m.run.dy is None else m.run.dy.shape,
                 "target": None if m.target is None else m.target.shape}[kind]
        if shape is None:
            continue
        cell = tuple(data.draw(st.integers(0, n - 1)) for n in shape)
        setter = {"input": m.set_input_value, "kernel": m.set_kernel_value, "bias": m.set_bias_value,
                  "upstream": m.set_upstream_value, "target": m.set_target_value}[kind]
        setter(*cell, value)
    m.set_step(data.draw(st.integers(0, m.n_steps - 1)))
    other, text = round_trip(m)
    assert_same(held(other), held(m))
    assert len(text.encode()) <= scenario.MAX_FILE_BYTES


# --------------------------------------------------------------------------- 2. decks: parsed, bounded
def deck_text(entries: list[object], *, late_format: bool = False, version: object = 1) -> str:
    head = {"format": "convviz-deck", "version": version}
    body = {"title": "A deck", "scenarios": entries}
    return json.dumps({**body, **head} if late_format else {**head, **body})


def test_a_deck_whose_format_comes_late_opens_as_a_deck(window, tmp_path) -> None:
    inline = [scenario.to_dict(scenario.load_preset(n)) for n in ("conv-stride2", "maxpool-2x2")]
    text = deck_text(inline, late_format=True)
    assert text.index("convviz-deck") > 1024  # past the first kilobyte that used to decide
    path = tmp_path / "deck.json"
    path.write_text(text)
    assert window.files.open_path(path), window.controls.error.text()
    assert len(window.files.deck) == 2 and window.files.deck_index == 0
    assert window.model.params == scenario.load_preset("conv-stride2").params


def test_a_scenario_that_names_the_deck_format_early_opens_as_a_scenario(window, tmp_path) -> None:
    d = scenario.to_dict(scenario.load_preset("conv-stride2"))
    d = {"title": "not a convviz-deck", **d}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(d))
    assert window.files.open_path(path), window.controls.error.text()
    assert window.files.deck == [] and window.files.path == path


@pytest.mark.parametrize("version", [1.0, True, "1", 2])
def test_a_deck_version_is_the_whole_number_1(tmp_path, version) -> None:
    path = tmp_path / "deck.json"
    path.write_text(deck_text(["preset:conv-stride2"], version=version))
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load_deck(path)
    assert err.value.field == "version"
    path.write_text(deck_text(["preset:conv-stride2"], version=1))
    assert len(scenario.load_deck(path)[1]) == 1


def big_scenario_file(path: Path, channels: int = 3) -> int:
    x = np.random.default_rng(0).uniform(size=(channels, 512, 512))
    m = Lesson()
    assert m.load(Params(op="max", in_c=channels, in_h=512, in_w=512, k_h=2, k_w=2, stride=(2, 2),
                         padding=(0, 0, 0, 0), integers=False), x=x)
    scenario.save(path, scenario.from_model(m))
    return path.stat().st_size


def test_a_file_named_twenty_times_in_a_deck_is_read_once(tmp_path, monkeypatch) -> None:
    size = big_scenario_file(tmp_path / "big.json")
    assert size > 6_000_000
    (tmp_path / "deck.json").write_text(deck_text(["big.json"] * 20))
    reads: list[str] = []
    real = scenario.read_bounded
    monkeypatch.setattr(scenario, "read_bounded",
                        lambda p, *a, **k: reads.append(Path(p).name) or real(p, *a, **k))
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        _, scenes = scenario.load_deck(tmp_path / "deck.json")
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(scenes) == 20 and reads == ["deck.json", "big.json"]
    assert elapsed < 2.0 and peak < 8 * size, (elapsed, peak)  # was 4.8 s and +213 MB


def test_a_deck_reads_a_bounded_total(tmp_path, monkeypatch) -> None:
    size = big_scenario_file(tmp_path / "a.json", channels=1)
    for name in "bcd":
        (tmp_path / f"{name}.json").write_bytes((tmp_path / "a.json").read_bytes())  # four distinct files
    (tmp_path / "deck.json").write_text(deck_text(["a.json", "b.json", "c.json", "d.json"]))
    monkeypatch.setattr(scenario, "MAX_DECK_BYTES", 3 * size)
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load_deck(tmp_path / "deck.json")
    assert err.value.field == "scenarios[2]" and "in all" in str(err.value)  # refused before reading c.json
    monkeypatch.setattr(scenario, "MAX_DECK_BYTES", 5 * size)
    assert len(scenario.load_deck(tmp_path / "deck.json")[1]) == 4


def test_a_deck_holds_a_bounded_number_of_scenarios(tmp_path) -> None:
    path = tmp_path / "deck.json"
    path.write_text(deck_text(["preset:conv-stride2"] * (MAX_DECK_ENTRIES + 1)))
    with pytest.raises(scenario.ScenarioError, match=f"a deck holds at most {MAX_DECK_ENTRIES}"):
        scenario.load_deck(path)
    path.write_text(deck_text(["preset:conv-stride2"] * MAX_DECK_ENTRIES))
    assert len(scenario.load_deck(path)[1]) == MAX_DECK_ENTRIES


# --------------------------------------------------------------------------- 3. any path: regular files only
def test_dev_zero_is_refused_without_reading(window, tmp_path) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(scenario.ScenarioError, match="zero is not an ordinary file"):
            scenario.load("/dev/zero")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert not window.files.open_path("/dev/zero")
    assert "not an ordinary file" in window.controls.error.text()
    (tmp_path / "deck.json").write_text(deck_text(["preset:conv-stride2", "/dev/zero"]))
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load_deck(tmp_path / "deck.json")
    assert err.value.field == "scenarios[1]"
    assert str(err.value) == "scenarios[1]: zero is not an ordinary file (a device, a pipe or a socket); " \
        "convviz reads files only"


def test_a_fifo_without_a_writer_is_refused_at_once(window, tmp_path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(scenario.ScenarioError, match=r"pipe\.json is not an ordinary file"):
        scenario.load(fifo)
    assert not window.files.open_path(fifo)
    assert "pipe.json is not an ordinary file" in window.controls.error.text()


def test_a_fifo_put_in_place_after_the_check_is_refused_without_blocking(tmp_path, monkeypatch) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    regular = os.stat(ROOT / "pyproject.toml")
    real_stat = os.stat
    monkeypatch.setattr(scenario.os, "stat",
                        lambda p, *a, **k: regular if Path(p) == fifo else real_stat(p, *a, **k))
    with pytest.raises(scenario.ScenarioError, match="not an ordinary file"):
        scenario.load(fifo)  # opened without blocking, then fstat says what it is


def test_a_file_longer_than_its_size_says_is_read_up_to_the_limit_only(tmp_path, monkeypatch) -> None:
    path = tmp_path / "grows.json"
    path.write_text(json.dumps(scenario.to_dict(scenario.from_model(Lesson()))) + " " * 5000)
    monkeypatch.setattr(scenario, "MAX_FILE_BYTES", 4096)
    real_fstat = os.fstat

    def small(fd: int) -> os.stat_result:  # the file claims 10 bytes, like a /proc file claims 0
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))

    monkeypatch.setattr(scenario.os, "fstat", small)
    monkeypatch.setattr(scenario.os, "stat", lambda p, *a, **k: small(os.open(p, os.O_RDONLY)))
    with pytest.raises(scenario.ScenarioError, match="larger than"):
        scenario.load(path)


@pytest.mark.parametrize("name", ["a\0b.json", "\0", "x\ud800.json"])
def test_a_path_no_file_can_have_gets_a_message(window, tmp_path, name) -> None:
    path = str(tmp_path / name)
    with pytest.raises(scenario.ScenarioError, match="a file name cannot hold that character"):
        scenario.load(path)
    with pytest.raises(scenario.ScenarioError, match="a file name cannot hold that character"):
        scenario.read(path)
    assert not window.files.open_path(path)
    text = window.controls.error.text()
    assert "a file name cannot hold that character" in text and "\0" not in text
    assert not window.files.save_to(Path(path))
    assert "Could not save" in window.controls.error.text() and "cannot hold" in window.controls.error.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_folder_is_refused_in_words(window, tmp_path) -> None:
    with pytest.raises(scenario.ScenarioError, match="is a folder, not a file"):
        scenario.load(tmp_path)
    assert not window.files.open_path(tmp_path)
    assert "is a folder" in window.controls.error.text()
    (tmp_path / "deck.json").write_text(deck_text([str(tmp_path)]))
    with pytest.raises(scenario.ScenarioError, match=r"scenarios\[0\]: .* is a folder"):
        scenario.load_deck(tmp_path / "deck.json")


def test_the_command_line_refuses_devices_and_pipes_at_once(tmp_path) -> None:
    """``convviz export --scenario X`` with a writerless pipe, /dev/urandom or /dev/zero: one line, exit 1."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    procs = {
        src: subprocess.Popen([sys.executable, "main.py", "export", "--scenario", src, "--format", "png",
                               "--out", str(tmp_path / f"{k}.png")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k, src in enumerate([str(fifo), "/dev/urandom", "/dev/zero", str(tmp_path)])
    }
    for src, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"convviz export --scenario {src} hangs")
        assert proc.returncode == 1, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "not an ordinary file" in err or "is a folder" in err, err


def test_saving_what_could_not_be_opened_is_refused_and_writes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(scenario, "MAX_FILE_BYTES", 1000)
    with pytest.raises(OSError, match="scenario files are at most"):
        scenario.save(tmp_path / "s.json", scenario.from_model(Lesson(Params(in_h=20, in_w=20))))
    assert list(tmp_path.iterdir()) == []


def test_a_title_is_bounded_both_ways() -> None:
    m = Lesson()
    s = scenario.from_model(m, title="t" * (MAX_TITLE + 50))
    assert len(s.title) == MAX_TITLE
    assert scenario.loads(scenario.dumps(s)).title == s.title
    d = scenario.to_dict(replace(s, title="t" * (MAX_TITLE + 1)))
    with pytest.raises(scenario.ScenarioError, match="title: is 1,001 characters long"):
        scenario.loads(json.dumps(d))
    assert math.isfinite(MAX_TITLE)
