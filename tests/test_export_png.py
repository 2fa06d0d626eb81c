"""Exported PNGs (``gui.export.png``, faster than Qt's writer) hold exactly the frames' pixels, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from gui import export
from gui.export import png
from gui.models import scenario
from gui.models.lesson import Lesson

SIZE = (640, 360)


def model_for(name: str) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    return m


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_a_png_decodes_to_the_picture_pixel_for_pixel(offscreen_renderers, tmp_path, scale) -> None:
    m = model_for("backprop-conv")
    img = next(export.frames(offscreen_renderers(SIZE, "dark"), m, range(3, 4), scale))
    data = png.encode(img)
    (tmp_path / "a.png").write_bytes(data)
    expected = export.rgb(img)
    assert expected.shape == (round(SIZE[1] * scale), round(SIZE[0] * scale), 3)
    assert np.array_equal(read_rgb(tmp_path / "a.png"), expected)  # Pillow reads it
    back = QImage.fromData(data)  # and so does Qt, with the picture's resolution
    assert back.convertToFormat(QImage.Format.Format_RGB32) == img.convertToFormat(QImage.Format.Format_RGB32)
    assert back.dotsPerMeterX() == img.dotsPerMeterX()


def test_a_png_of_a_picture_with_padded_rows(tmp_path) -> None:
    """Rows of 3 pixels, a format that is not 32-bit: the encoder does not read the padding."""
    img = QImage(3, 2, QImage.Format.Format_RGB888)
    img.fill(0x102030)
    img.setPixel(2, 1, 0xFF8000)
    (tmp_path / "p.png").write_bytes(png.encode(img))
    got = read_rgb(tmp_path / "p.png")
    assert got.shape == (2, 3, 3)
    assert got[1, 2].tolist() == [255, 128, 0] and got[0, 0].tolist() == [16, 32, 48]


def test_a_png_folder_holds_every_step_in_order(offscreen_renderers, tmp_path) -> None:
    """Compressed in order on a worker (unchanged bands kept), written on another: file k is still step
    k's picture."""
    m = model_for("conv-stride2")
    r = offscreen_renderers(SIZE, "light")
    steps = range(0, 9)
    out = export.export(m, r, "png", tmp_path / "frames", steps=steps)
    pictures = [export.rgb(img) for img in export.frames(r, m, steps)]
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{k:04d}.png" for k in range(len(steps))]
    for k, name in enumerate(names):
        assert np.array_equal(read_rgb(out / name), pictures[k]), name


def test_gif_frames_are_each_picture_mapped_onto_the_palette_exactly(offscreen_renderers, tmp_path) -> None:
    """Only the changed rectangle is mapped and compressed, yet every decoded frame is its whole
    picture mapped onto the GIF's palette, pixel for pixel."""
    m = model_for("backprop-conv")
    r = offscreen_renderers(SIZE, "light")
    out = export.export(m, r, "gif", tmp_path / "a.gif", fps=4)
    pictures = [export.rgb(img) for img in export.frames(r, m, range(m.n_steps))]
    with Image.open(out) as im:
        palette = Image.new("P", (1, 1))
        palette.putpalette(im.getpalette() or [])
        assert im.n_frames == m.n_steps
        for k in range(im.n_frames):
            im.seek(k)
            mapped = Image.fromarray(pictures[k]).quantize(palette=palette, dither=Image.Dither.NONE)
            assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(mapped.convert("RGB"))), k


@pytest.mark.parametrize("fmt", ["Format_ARGB32", "Format_RGB32", "Format_ARGB32_Premultiplied",
                                 "Format_RGB888", "Format_RGBA8888"])
def test_rgb_rows_are_every_pixels_colour(fmt) -> None:
    """Qt converts to RGB888: the colours are those of the picture as RGB32 (an ARGB32 picture's
    as they are, not blended with its alpha), and the caller's picture keeps its format."""
    rng = np.random.default_rng(7)
    argb = QImage(7, 5, QImage.Format.Format_ARGB32)
    for y in range(5):
        for x in range(7):
            argb.setPixel(x, y, int(rng.integers(0, 2**32)))
    img = argb.convertToFormat(getattr(QImage.Format, fmt))
    ref = img if fmt == "Format_ARGB32" else img.convertToFormat(QImage.Format.Format_RGB32)
    expected = [[[(ref.pixel(x, y) >> s) & 0xFF for s in (16, 8, 0)] for x in range(7)] for y in range(5)]
    assert png.rgb_rows(img).tolist() == expected
    assert img.format() == getattr(QImage.Format, fmt)
