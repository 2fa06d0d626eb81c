"""Loading a big picture never freezes the window: it is read in a worker, Cancel drops it, a newer
picture or change supersedes it, closing joins it, a damaged file is said in plain words.

A "big" picture here is just over ``BACKGROUND_PIXELS`` (1.2 megapixels), written
by the test. Where a test must catch the worker mid-read, ``read_image`` is
wrapped so that the worker waits, before reading, until the test lets it go or
its job is stopped; the real read then runs (a stopped one raises ``Cancelled``
at its first check). Nothing waits on a wall clock: ``qtbot.waitUntil`` for
Qt, events between threads for the worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from engine.cancel import Cancelled
from engine.image import area_resize
from gui import images
from gui.controllers import lesson as lesson_ctl
from gui.controllers.picture import BACKGROUND_PIXELS
from gui.images import qimage_to_array, read_image
from gui.models.cancel import StopToken

BIG_W, BIG_H = 1200, 1000  # 1.2 megapixels: read in the background
GRID = (20, 24)
#: Seconds a held worker waits at most (only a failing test reaches it: the conftest joins workers first).
HOLD_LIMIT = 30.0


def photo(path: Path, w: int, h: int, seed: int = 0) -> Path:
    """A noisy RGB picture ``w``×``h`` written as PNG (noise: the file is large and slow to inflate)."""
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    assert img.save(str(path), "PNG")
    return path


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = photo(tmp_path / "big.png", BIG_W, BIG_H)
    assert BIG_W * BIG_H > BACKGROUND_PIXELS
    return path


class Held:
    """Wraps ``read_image`` so the worker waits before reading until ``go()`` or its job is stopped."""

    def __init__(self, loader: object) -> None:
        self.loader = loader
        self.started = threading.Event()
        self._go = threading.Event()
        self.outcomes: list[str] = []
        self._real = images.read_image

    def __call__(self, path: object, **kw: object) -> np.ndarray:
        self.started.set()
        token = self.loader.token  # type: ignore[attr-defined]
        deadline = time.monotonic() + HOLD_LIMIT  # a failed test must not leave the worker waiting forever
        while not (self._go.wait(0.002) or token.cancelled) and time.monotonic() < deadline:
            pass  # the worker thread waits, not Qt's
        try:
            out = self._real(path, **kw)  # type: ignore[arg-type]
        except Cancelled:
            self.outcomes.append("cancelled")
            raise
        self.outcomes.append("read")
        return out

    def go(self) -> None:
        self._go.set()


@pytest.fixture
def held(window, monkeypatch) -> Iterator[Held]:  # type: ignore[no-untyped-def]
    h = Held(window.files.pictures)
    monkeypatch.setattr(images, "read_image", h)
    yield h
    h.go()


def join(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Until no worker runs and what it posted has been delivered (applied or dropped)."""
    qtbot.waitUntil(lambda: lesson_ctl.running_jobs() == 0, timeout=60_000)
    QApplication.processEvents()


def expected(path: Path, gray: bool = True) -> np.ndarray:
    return read_image(path, gray=gray, size=GRID)


# --------------------------------------------------------------------------- reading itself stops


class StopAfter(StopToken):
    """A token that cancels itself once it has been asked ``n`` times."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def __call__(self) -> bool:
        if self.checks + 1 >= self.n:
            self.cancel()
        return super().__call__()


def test_a_cancelled_decode_stops_within_a_chunk_of_the_file(qapp, big) -> None:
    whole = StopToken()
    whole.run(lambda: read_image(big, size=GRID))
    chunks = big.stat().st_size // 16384
    assert whole.checks > chunks > 50  # the decoder asks before each 16 KB chunk
    token = StopAfter(10)  # cancelled while the decoder is reading the file
    with pytest.raises(Cancelled):
        token.run(lambda: read_image(big, size=GRID))
    assert token.checks <= 10 + 3  # the decoder gave up at the next read (it may retry once or twice)


def test_reading_in_bands_gives_the_numbers_of_the_whole_picture(qapp, tmp_path, monkeypatch) -> None:
    path = photo(tmp_path / "p.png", 37, 29, seed=3)
    whole = area_resize(qimage_to_array(QImage(str(path)), gray=False), 7, 9)
    monkeypatch.setattr(images, "BAND_PIXELS", 100)  # two rows a band, the last band one row
    banded = read_image(path, gray=False, size=(7, 9), unit=False)
    np.testing.assert_allclose(banded, np.round(whole, 4), atol=0)


# --------------------------------------------------------------------------- through the window


def test_a_big_picture_loads_in_a_worker_and_lands(window, big, qtbot) -> None:
    before = window.model.x.copy()
    assert window.files.open_picture(big, size=GRID) is True
    assert window.files.pictures.loading == "big.png"
    assert window.controls.busy.isVisible()
    assert "Loading big.png" in window.controls.busy_label.text()
    np.testing.assert_array_equal(window.model.x, before)  # the last picture stays meanwhile
    window.renderer.grab()  # ... and is painted: the window is not blocked
    qtbot.waitUntil(lambda: not window.files.pictures.loading, timeout=60_000)
    join(qtbot)
    np.testing.assert_array_equal(window.model.x, expected(big))
    assert window.model.params.picture
    assert not window.controls.busy.isVisible()
    assert "Input: big.png, 1×20×24" in window.status.text()


def test_cancel_drops_the_picture_and_the_old_one_stays(window, big, held, qtbot) -> None:
    before_x, before_p = window.model.x.copy(), window.model.params
    assert window.files.open_picture(big, size=GRID)
    qtbot.waitUntil(held.started.is_set)
    qtbot.mouseClick(window.controls.cancel, Qt.MouseButton.LeftButton)
    assert not window.controls.busy.isVisible()
    assert "Stopped loading big.png" in window.status.text()
    join(qtbot)
    assert held.outcomes == ["cancelled"]  # the real read stopped at its first check
    np.testing.assert_array_equal(window.model.x, before_x)
    assert window.model.params == before_p


def test_escape_cancels_a_load(window, big, held, qtbot) -> None:
    before = window.model.params
    window.files.open_picture(big, size=GRID)
    qtbot.waitUntil(held.started.is_set)
    qtbot.keyClick(window.renderer, Qt.Key.Key_Escape)
    assert window.files.pictures.loading == ""
    join(qtbot)
    assert window.model.params == before


def test_a_newer_picture_supersedes_a_running_load(window, big, held, tmp_path, qtbot) -> None:
    small = photo(tmp_path / "small.png", 40, 30, seed=1)
    window.files.open_picture(big, size=GRID)
    qtbot.waitUntil(held.started.is_set)
    held.go()  # the superseded read may well finish: its result is dropped all the same
    assert window.files.open_picture(small, size=GRID) is True  # small: at once
    join(qtbot)
    np.testing.assert_array_equal(window.model.x, expected(small))
    assert "small.png" in window.status.text()


def test_a_newer_big_picture_supersedes_a_running_one(window, big, tmp_path, qtbot) -> None:
    other = photo(tmp_path / "other.png", BIG_W, BIG_H, seed=2)
    window.files.open_picture(big, size=GRID)
    window.files.open_picture(other, size=GRID)
    assert window.files.pictures.loading == "other.png"
    qtbot.waitUntil(lambda: not window.files.pictures.loading, timeout=60_000)
    join(qtbot)
    np.testing.assert_array_equal(window.model.x, expected(other))


def test_a_parameter_change_supersedes_a_load(window, big, held, qtbot) -> None:
    window.files.open_picture(big, size=GRID)
    qtbot.waitUntil(held.started.is_set)
    held.go()
    window.controls.stride.h.setValue(2)  # linked: stride 2×2, applied at once
    assert window.files.pictures.loading == ""
    assert window.model.params.stride == (2, 2)
    join(qtbot)
    assert not window.model.params.picture  # the picture's result was dropped
    assert window.model.params.in_h != GRID[0]


def test_a_load_supersedes_a_big_change_being_computed(window, big, held, qtbot) -> None:
    ctl = window.lesson_ctl
    assert ctl.change(in_h=192, in_w=192, in_c=8, out_c=8, k_h=9, k_w=9, mode="backward")
    assert ctl.busy
    window.files.open_picture(big, size=GRID)
    assert not ctl.busy  # the change was stopped; the row now says what is loading
    assert "Loading big.png" in window.controls.busy_label.text()
    held.go()
    qtbot.waitUntil(lambda: not window.files.pictures.loading, timeout=60_000)
    join(qtbot)
    np.testing.assert_array_equal(window.model.x, expected(big))
    assert window.model.params.in_c == 1
    assert not window.controls.busy.isVisible()


def test_closing_during_a_load_joins_the_worker(window, big, held, qtbot) -> None:
    window.files.open_picture(big, size=GRID)
    qtbot.waitUntil(held.started.is_set)
    window.close()  # stops the job and waits for the worker thread
    assert lesson_ctl.running_jobs() == 0
    assert held.outcomes == ["cancelled"]


def test_a_damaged_big_picture_is_said_in_plain_words(window, big, tmp_path, qtbot) -> None:
    cut = tmp_path / "cut.png"
    data = big.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the header still says 1200×1000
    before = window.model.x.copy()
    assert window.files.open_picture(cut, size=GRID) is True  # read in the background ...
    qtbot.waitUntil(window.controls.error.isVisible, timeout=60_000)  # ... and refused there
    text = window.controls.error.text()
    assert "cut.png could not be read" in text
    assert "unchanged" in text
    np.testing.assert_array_equal(window.model.x, before)
    assert not window.controls.busy.isVisible()


def test_a_small_picture_into_a_heavy_lesson_is_worked_out_in_the_worker(window, tmp_path, qtbot) -> None:
    assert window.model.set_params(in_h=20, in_w=20, out_c=16, k_h=9, k_w=9), window.model.last_error
    small = photo(tmp_path / "small.png", 60, 50, seed=4)
    assert window.files.open_picture(small, gray=False, size=(100, 100)) is True
    assert window.files.pictures.loading == "small.png"  # 16·100·100·3·81 multiply-adds: over 30 million
    qtbot.waitUntil(lambda: not window.files.pictures.loading, timeout=60_000)
    join(qtbot)
    p = window.model.params
    assert (p.in_c, p.in_h, p.in_w, p.out_c, p.k_h) == (3, 100, 100, 16, 9)
    np.testing.assert_array_equal(window.model.x, read_image(small, gray=False, size=(100, 100)))
    assert window.model.frame() is not None


def test_the_last_picture_stays_interactive_while_a_picture_loads(window, big, held, qtbot, settle) -> None:
    window.files.open_picture(big, size=GRID)
    qtbot.waitUntil(held.started.is_set)
    qtbot.keyClick(window.renderer, Qt.Key.Key_Right)  # step the lesson on screen
    qtbot.waitUntil(lambda: window.model.step == 1)
    settle(window)
    assert "Step 2 of" in window.model.frame().caption
    assert window.files.pictures.loading == "big.png"  # still loading meanwhile
    held.go()
    qtbot.waitUntil(lambda: not window.files.pictures.loading, timeout=60_000)
    join(qtbot)
    np.testing.assert_array_equal(window.model.x, expected(big))
