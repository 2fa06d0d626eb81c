"""The trained LeNet-5's digit API: input preparation, shipped weights and samples, ``convviz classify``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import augment
from engine.augment import shift
from engine.preprocess import resample
from gui.models import digits, resources
from gui.models.prediction import class_gradient
from tests.noqt import NO_QT_MAIN as QT_ABSENT

ROOT = Path(__file__).resolve().parent.parent
RECORD = json.loads((ROOT / "resources" / "lenet5_digits.json").read_text("utf-8"))

#: A hand-drawn-looking 7 with a bar, in a unit box.
SEVEN = [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.35, 0.5), (0.8, 0.5)]]
#: A 4 drawn in one stroke.
FOUR = [[(0.65, 0.95), (0.65, 0.05), (0.15, 0.65), (0.85, 0.65)]]


def drawing(strokes: list[list[tuple[float, float]]], *, side: int = 280, size: float = 180,
            at: tuple[float, float] = (140, 140), width: int = 14, ink: int = 0, paper: int = 255
            ) -> np.ndarray:
    """Strokes drawn with Pillow's lines, as a person draws with a mouse: ``(side, side)`` grey levels."""
    img = Image.new("L", (side, side), paper)
    pen = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [(at[0] + size * (x - 0.5), at[1] + size * (y - 0.5)) for x, y in stroke]
        pen.line(pts, fill=ink, width=width, joint="curve")
    return np.asarray(img, dtype=float)


# ------------------------------------------------------------------------------- digit_input


def test_the_same_drawing_anywhere_on_the_canvas_gives_the_same_input() -> None:
    a = digits.digit_input(drawing(SEVEN, at=(140, 140)))
    b = digits.digit_input(drawing(SEVEN, at=(90, 170)))
    assert a.shape == (1, 32, 32)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_the_same_drawing_at_another_size_gives_nearly_the_same_input() -> None:
    small = digits.digit_input(drawing(SEVEN, size=100, width=8))
    large = digits.digit_input(drawing(SEVEN, size=200, width=16))
    assert np.abs(small - large).mean() < 0.02
    assert np.abs(small - large).max() < 0.25
    other = digits.digit_input(drawing(FOUR, size=200, width=16))
    assert np.abs(other - large).mean() > 5 * np.abs(small - large).mean()  # the tolerance tells digits apart


def test_light_on_dark_and_dark_on_light_give_the_same_input() -> None:
    paper = digits.digit_input(drawing(SEVEN, ink=0, paper=255))
    board = digits.digit_input(drawing(SEVEN, ink=255, paper=0))
    grey = digits.digit_input(drawing(SEVEN, ink=40, paper=200) / 255.0)
    np.testing.assert_allclose(paper, board, atol=1e-12)
    np.testing.assert_allclose(paper, grey, atol=1e-12)


def test_the_input_is_ink_one_on_zero_with_the_mass_at_the_centre_and_the_box_twenty_wide() -> None:
    x = digits.digit_input(drawing(FOUR))[0]
    assert x.max() == pytest.approx(1.0) and x.min() >= 0.0
    assert x[0].max() == 0 and x[:, 0].max() == 0  # a clear border: nothing is cut off
    rows, cols = np.indices(x.shape) + 0.5
    assert (x * rows).sum() / x.sum() == pytest.approx(16.0, abs=0.3)
    assert (x * cols).sum() / x.sum() == pytest.approx(16.0, abs=0.3)
    inked = np.flatnonzero((x > 0.2).any(axis=1))
    assert 19 <= inked[-1] - inked[0] + 1 <= 22  # the taller side fills the 20-pixel box (the broad pen
    # of engine.strokes.thicken may reach a pixel past a thin stroke's end)


def test_a_blank_picture_is_a_blank_input_and_a_wrong_shape_is_refused() -> None:
    assert not digits.digit_input(np.full((50, 40), 255.0)).any()
    with pytest.raises(ValueError, match=r"one grey \(H, W\) array"):
        digits.digit_input(np.zeros((3, 10, 10)))
    with pytest.raises(ValueError, match="NaN"):
        digits.digit_input(np.full((5, 5), np.nan))


def test_resampling_keeps_a_flat_area_flat_at_any_scale() -> None:
    flat = np.ones((30, 30))
    for scale in (0.37, 0.5, 0.66, 1.0, 1.7, 4.0):
        out = resample(flat, (int(30 * scale) + 6, int(30 * scale) + 6), scale, (3.0, 3.0))
        u = (np.arange(out.shape[0]) + 0.5 - 3.0) / scale  # where each output pixel reads the source
        inside = (u >= max(1.0, 1 / scale)) & (u <= 30 - max(1.0, 1 / scale))  # the filter stays inside
        assert inside.sum() >= 0.5 * 30 * scale
        np.testing.assert_allclose(out[np.ix_(inside, inside)], 1.0, atol=1e-12)
        assert out.max() <= 1.0 + 1e-12  # and the edges are never brighter


def test_shift_moves_whole_pixels_and_fills_with_zeros() -> None:
    x = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(shift(x, 1, -1), [[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0]])


# ------------------------------------------------------------------------------- the shipped network


def test_the_shipped_weights_are_trained_lenet5_weights() -> None:
    net, weights = digits.trained_lenet5()
    assert digits.is_trained()
    assert sum(p[0].size + p[1].size for p in weights if p is not None) == 61_706
    weights[0][0][:] = 0  # type: ignore[index]  # a copy: the shipped weights stay as they are
    assert digits.trained_lenet5()[1][0][0].any()  # type: ignore[index]
    assert [p is None for p in weights] == [p is None for p in net.init_weights(0)]


def test_probabilities_are_a_softmax_over_ten_digits() -> None:
    p = digits.probabilities(digits.digit_input(drawing(SEVEN)))
    assert p.shape == (10,) and p.sum() == pytest.approx(1.0) and (p >= 0).all()
    assert int(p.argmax()) == 7


def test_the_score_gradient_is_the_finite_difference_of_the_score() -> None:
    """The saliency the digit panel shows (``prediction.class_gradient``) on the trained LeNet-5."""
    x = digits.digit_input(drawing(SEVEN))
    net, weights = digits.trained_lenet5()
    g = class_gradient(net, weights, net.forward(x, weights), 7)
    assert g.shape == (1, 32, 32) and np.abs(g).max() > 0
    rows, cols = np.unravel_index(np.argsort(np.abs(g[0]).ravel())[-3:], (32, 32))
    for r, c in [*zip(rows, cols, strict=True), (0, 0), (16, 16)]:
        plus, minus = x.copy(), x.copy()
        plus[0, r, c] += 1e-6
        minus[0, r, c] -= 1e-6
        numeric = (net.forward(plus, weights)[-1][7] - net.forward(minus, weights)[-1][7]) / 2e-6
        assert g[0, r, c] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    with pytest.raises(ValueError, match="class 10 is not an element"):
        class_gradient(net, weights, net.forward(x, weights), 10)


@pytest.mark.parametrize(("strokes", "digit"), [(SEVEN, 7), (FOUR, 4)])
@pytest.mark.parametrize("width", [16, 24])  # a thinner pen reads worse: see bench_digits.py
def test_digits_drawn_with_a_mouse_sized_pen_are_read(strokes, digit: int, width: int) -> None:
    p = digits.probabilities(digits.digit_input(drawing(strokes, width=width)))
    assert int(p.argmax()) == digit


def test_the_samples_are_two_held_out_digits_per_class_that_the_network_reads() -> None:
    samples = digits.sample_digits()
    assert [d for d, _ in samples] == [d for d in range(10) for _ in range(2)]
    held_out = set(RECORD["split"]["held_out_indices"])
    assert len(held_out) == RECORD["held_out_count"]
    for d, picture in samples:
        assert picture.shape == (32, 32) and picture.max() == pytest.approx(1.0)
        assert int(digits.probabilities(picture[None]).argmax()) == d
        again = digits.digit_input(picture)  # prepared a second time: the same digit
        assert int(digits.probabilities(again).argmax()) == d


def test_the_shipped_weights_reach_the_recorded_held_out_accuracy() -> None:
    pytest.importorskip("sklearn")
    from engine.train import accuracy, held_out, load_digits

    data = load_digits(RECORD["seed"])
    assert data.test.tolist() == RECORD["split"]["held_out_indices"]
    assert not set(data.train) & set(data.test)
    x, labels = held_out(data)
    net, weights = digits.trained_lenet5()
    acc = accuracy(net, weights, x, labels)
    assert acc == pytest.approx(RECORD["held_out_accuracy"], abs=1e-12)
    assert acc >= 0.97
    assert augment.describe() in RECORD["preprocessing"]["augmentation"]  # the record says what the code does


def test_an_unknown_data_file_is_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"there is no data file 'nope\.npz'; the data files are: .*lenet5"):
        resources.data_path("nope.npz")


# ------------------------------------------------------------------------------- convviz classify

def classify(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    return subprocess.run([sys.executable, "-c", QT_ABSENT, "classify", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(env, PYTHONPATH=str(ROOT)))


@pytest.mark.parametrize(("suffix", "mode"), [(".png", "L"), (".jpg", "RGB"), (".bmp", "RGB")])
def test_classify_prints_ten_digit_probability_lines_without_qt(tmp_path: Path, suffix: str,
                                                                 mode: str) -> None:
    path = tmp_path / f"seven{suffix}"
    Image.fromarray(drawing(SEVEN).astype(np.uint8)).convert(mode).save(path)
    run = classify(str(path))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(d) for d in range(10)]
    probs = np.array([float(line.split(": ")[1]) for line in lines])
    assert probs.sum() == pytest.approx(1.0, abs=1e-3)
    assert int(probs.argmax()) == 7
    expected = digits.probabilities(digits.digit_input(digits.read_picture(path)))
    np.testing.assert_allclose(probs, expected, atol=5e-5)


def test_a_transparent_png_is_read_as_ink_on_white_paper(tmp_path: Path) -> None:
    ink = drawing(FOUR)
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = 255 - ink.astype(np.uint8)  # black strokes on a transparent background
    Image.fromarray(rgba, "RGBA").save(tmp_path / "four.png")
    grey = digits.read_picture(tmp_path / "four.png")
    np.testing.assert_allclose(digits.digit_input(grey), digits.digit_input(ink), atol=1e-9)


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "there is no file"),
    (lambda p: p.mkdir(), "is a folder, not a picture"),
    (lambda p: p.write_bytes(b"not a picture at all"), "is not a picture convviz can read (PNG, JPEG"),
    (lambda p: Image.new("L", (40, 30), 200).save(p), "is blank: every pixel is the same grey"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01"), "is damaged or incomplete"),
])
def test_classify_says_in_plain_words_what_is_wrong_with_the_file(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "digit.png"
    make(path)
    run = classify(str(path))
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith("convviz classify: ") and message in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 1


def test_a_picture_too_large_is_refused_before_it_is_decoded(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (300, 200), 255).save(path)
    monkeypatch.setattr(digits, "MAX_PICTURE_PIXELS", 299 * 200)
    with pytest.raises(digits.DigitPictureError, match=r"big.png is too large \(300×200 pixels\)"):
        digits.read_picture(path)


def test_a_truncated_picture_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(drawing(SEVEN).astype(np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(digits.DigitPictureError, match="damaged or incomplete"):
        digits.read_picture(path)


def test_classify_without_a_picture_is_a_one_line_usage_error() -> None:
    run = classify()
    assert run.returncode == 2
    assert "the following arguments are required: picture" in run.stderr
