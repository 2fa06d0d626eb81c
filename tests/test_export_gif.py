"""``GifStream``: each frame maps onto the palette only the pixels that changed, yet decodes to its whole
picture mapped onto the palette; Qt's memory order (B, G, R, 0xff) and RGB give the same file."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from gui.export import gif


def pictures() -> list[np.ndarray]:
    """A smooth picture (more colours than the palette holds), then a few small changes, one frame
    with none, and one that changes everywhere."""
    y, x = np.mgrid[0:48, 0:64]
    base = np.stack([x * 4, y * 5, (x + y) * 2], axis=2).astype(np.uint8)
    out = [base]
    for k in range(3):
        nxt = out[-1].copy()
        nxt[5 + 10 * k:9 + 10 * k, 7 + 12 * k:15 + 12 * k] = (250, 20 * k, 90)  # a moving block
        nxt[40, 60 - k] = (1, 2, 3)  # a pixel far away
        out.append(nxt)
    out.append(out[-1].copy())  # nothing changed
    out.append(255 - out[-1])  # everything changed
    return out


def write(frames: list[np.ndarray], palette: Image.Image, qt_order: bool) -> bytes:
    buf = io.BytesIO()
    stream = gif.GifStream(buf.write, frames[0].shape[1::-1], palette, 100, 0)
    for a in frames:
        stream.add(np.concatenate([a[..., ::-1], np.full((*a.shape[:2], 1), 255, np.uint8)], axis=2)
                   if qt_order else a)
    stream.close()
    return buf.getvalue()


def test_every_frame_is_its_whole_picture_mapped_onto_the_palette() -> None:
    frames = pictures()
    palette = gif.palette_from(frames[:1])
    data = write(frames, palette, qt_order=True)
    assert data == write(frames, palette, qt_order=False)
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == len(frames)
        for k, a in enumerate(frames):
            im.seek(k)
            mapped = Image.fromarray(a).quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
            assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(mapped)), k


def test_a_frame_holds_only_the_rectangle_that_changed() -> None:
    frames = pictures()
    stream = gif.GifStream(lambda b: None, (64, 48), gif.palette_from(frames[:1]), 100, 0)
    changes = [stream.change(a) for a in frames]
    assert (changes[0].left, changes[0].top, changes[0].indices.shape) == (0, 0, (48, 64))
    c = changes[1]  # rows 5..8 and 40, columns 7..14 and 60
    assert (c.left, c.top, c.indices.shape) == (7, 5, (36, 54))
    assert changes[4].indices.shape == (1, 1)  # nothing changed
    assert changes[5].indices.shape == (48, 64)


def test_the_unchanged_pixels_of_a_rectangle_are_transparent() -> None:
    """They take an index no changed pixel uses; the changed ones their colour's."""
    frames = pictures()
    palette = gif.palette_from(frames[:1])
    stream = gif.GifStream(lambda b: None, (64, 48), palette, 100, 0)
    first, c = stream.change(frames[0]), stream.change(frames[1])
    assert first.transparent is None  # the whole first picture
    changed = (frames[1] != frames[0]).any(axis=2)[5:41, 7:61]
    whole = Image.fromarray(frames[1]).quantize(palette=palette, dither=Image.Dither.NONE)
    mapped = np.asarray(whole)[5:41, 7:61]
    assert c.transparent is not None and c.transparent not in mapped[changed]
    assert np.array_equal(c.indices, np.where(changed, mapped, c.transparent))


def test_a_change_using_every_index_has_no_transparency() -> None:
    """256 colours, each a palette entry, all changing: no index is free, the rectangle is whole."""
    colours = np.stack(np.meshgrid(np.arange(16) * 17, np.arange(16) * 17, indexing="ij"), axis=2)
    a = np.concatenate([colours, np.full((16, 16, 1), 128)], axis=2).astype(np.uint8)  # 256 colours
    b = np.roll(a, 1, axis=1)  # every pixel changes, to every colour
    palette = gif.palette_from([a])
    data = write([a, b], palette, qt_order=False)
    stream = gif.GifStream(lambda x: None, (16, 16), palette, 100, 0)
    stream.change(a)
    assert stream.change(b).transparent is None
    with Image.open(io.BytesIO(data)) as im:
        im.seek(1)
        assert np.array_equal(np.asarray(im.convert("RGB")), b)


# --------------------------------------------------------------------------- the palette, before the frames
def test_the_window_stays_live_and_cancel_works_while_the_palette_is_worked_out(
        offscreen_renderers, tmp_path, monkeypatch) -> None:
    """The palette is worked out on a worker while progress(0) keeps being called; a Cancel then stops
    the export before any frame, leaving nothing behind."""
    from gui import export
    from gui.export import formats
    from gui.models import scenario
    from gui.models.lesson import Lesson

    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-stride2")), m.last_error
    working, cancelled = threading.Event(), threading.Event()
    real = gif.palette_from

    def slow_palette(pics):  # type: ignore[no-untyped-def]
        working.set()
        assert cancelled.wait(10)  # until the window has cancelled
        return real(pics)

    seen: list[tuple[int, bool]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, working.is_set()))
        if working.is_set():
            cancelled.set()
            return False
        return True

    monkeypatch.setattr(formats.gif, "palette_from", slow_palette)
    r = offscreen_renderers((320, 180), "light")
    with pytest.raises(export.ExportCancelled):
        export.export(m, r, "gif", tmp_path / "a.gif", progress=progress)
    assert seen[-1] == (0, True)  # asked while the palette was being worked out, and cancelled there
    assert all(done == 0 for done, _ in seen)
    assert list(tmp_path.iterdir()) == []


def test_the_first_frame_is_timed_from_the_last_tick_before_it(monkeypatch) -> None:
    """Ticks of 0 while the palette is worked out do not count in the estimate of the whole export."""
    from gui.models import exportplan

    clock = iter([0.0, 4.0, 5.0, 5.5])
    monkeypatch.setattr(exportplan.time, "perf_counter", lambda: next(clock))
    said: list[tuple[int, float]] = []
    tick = exportplan.Ticker(100, None, lambda frames, seconds: said.append((frames, seconds)))
    for done in (0, 0, 0, 1):
        tick(done)
    assert said == [(100, 50.0)]  # 0.5 s for the first frame, not 5.5 s
