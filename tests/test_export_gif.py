"""``GifStream``: each frame maps onto the palette only the pixels that changed, yet decodes to its whole
picture mapped onto the palette; Qt's memory order (B, G, R, 0xff) and RGB give the same file."""

from __future__ import annotations

import io

import numpy as np
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
    stream = gif.GifStream(buf.write, (64, 48), palette, 100, 0)
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
