"""Export pictures painted only where the stage changed (``gui.export.damage``), PNG bands kept from the
previous frame (``gui.export.png.Bands``) and tiles that repaint only the cells a step reached
(``gui.scene.placing.tile_damage``): every picture and file holds exactly a whole repaint's pixels."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from gui import export
from gui.export import damage, png
from gui.export.paint import draw, movie
from gui.models.lesson import Lesson
from gui.models.params import Params
from gui.scene.placing import tile_damage
from tests.test_export_gif_lzw import model_for

SIZE = (640, 360)




@pytest.mark.parametrize(("preset", "params", "size", "scale", "fps", "theme"), [
    ("conv-half-padding", {}, SIZE, 1.0, 2.0, "light"),
    ("backprop-conv", {}, (1280, 720), 1.0, 2.0, "light"),  # flow lines over a legend's gradient
    ("maxpool-2x2", {}, (1280, 720), 2.0, 2.0, "light"),  # clips that end inside a point: whole pixels at 2x
    ("avgpool-3x3-stride1", {"mode": "backward"}, (1280, 720), 1.0, 2.0, "dark"),  # a legend half repainted
    ("conv-stride2-padding", {"view": "stage"}, SIZE, 1.0, 2.0, "light"),
    ("backprop-maxpool", {"view": "stage"}, SIZE, 1.0, 2.0, "dark"),
    ("transposed-padding-strides", {}, SIZE, 1.0, 2.0, "light"),
    ("rgb-volume", {}, (1280, 720), 1.0, 2.0, "light"),
    ("conv-half-padding", {"motion": "on"}, SIZE, 1.0, 10.0, "light"),  # products on their way
    ("depthwise", {}, SIZE, 1.5, 2.0, "light"),  # not a whole number: every picture whole
    ("backprop-maxpool", {"view": "stage"}, (320, 180), 1.0, 2.0, "light"),  # text pushes the stage out
])
def test_every_picture_painted_in_part_is_a_whole_repaint(offscreen_renderers, monkeypatch, preset, params,
                                                          size, scale, fps, theme) -> None:
    m = model_for(preset, **params)
    steps = range(0, min(m.n_steps, 12))
    whole = [export.rgb(img) for img in movie(offscreen_renderers(size, theme), m, steps, fps, scale)]
    r = offscreen_renderers(size, theme)
    counts: list[damage.Repainter] = []
    real = damage.Repainter

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            counts.append(self)

    monkeypatch.setattr(damage, "Repainter", Counted)
    parts = [export.rgb(img) for img in movie(r, m, steps, fps, scale, partial=True)]
    assert len(parts) == len(whole) > len(steps) - 1
    for k, (a, b) in enumerate(zip(whole, parts, strict=True)):
        assert np.array_equal(a, b), k
    (rp,) = counts
    if scale == 1.5 or size == (320, 180):
        assert rp.partial == 0  # nothing to gain where a part could differ
    else:
        assert rp.partial > rp.whole, (rp.whole, rp.partial)  # most were painted in part
    assert r.scene().receivers(damage._CHANGED) == 0  # it stopped listening


def test_a_part_is_what_changed_not_the_whole_picture(offscreen_renderers) -> None:
    """The next step of a 10x10 lesson repaints well under half of a 1280x720 picture."""
    m = Lesson(Params(in_h=10, in_w=10))
    r = offscreen_renderers((1280, 720))
    painted: list[float] = []
    with damage.repainting(r) as rp:
        real = rp._paint

        def paint(img: QImage, region: object) -> None:
            painted.append(sum(q.width() * q.height() for q in region) / (1280 * 720))  # type: ignore[attr-defined]
            real(img, region)  # type: ignore[arg-type]

        rp._paint = paint  # type: ignore[method-assign]
        for k in range(12):
            draw(r, m, k)
            rp.picture()
    assert len(painted) == 11 and float(np.median(painted)) < 0.4, painted


def test_the_screen_gets_its_updates_again_after_an_export(offscreen_renderers, tmp_path) -> None:
    """While a repainter listens, Qt sends the scene's changes to it, not to the view; afterwards the
    view is updated directly again (nothing stays connected)."""
    m = model_for("conv-half-padding")
    r = offscreen_renderers(SIZE)
    export.export(m, r, "gif", tmp_path / "a.gif", steps=range(0, 4))
    assert r.scene().receivers(damage._CHANGED) == 0


def test_png_bands_decode_to_every_picture_and_reuse_unchanged_bands(offscreen_renderers) -> None:
    m = model_for("conv-half-padding")
    pics = list(export.frames(offscreen_renderers(SIZE, "dark"), m, range(0, 8)))
    bands = png.Bands()
    for k, img in enumerate(pics):
        data = bands.encode(img)
        with Image.open(io.BytesIO(data)) as im:
            assert np.array_equal(np.asarray(im.convert("RGB")), export.rgb(img)), k
        back = QImage.fromData(data)
        assert back.dotsPerMeterX() == img.dotsPerMeterX()
    n = -(-SIZE[1] // png.BAND_ROWS)
    assert bands.compressed + bands.reused == n * len(pics)
    assert bands.reused > n * (len(pics) - 1) // 3  # a step changes a few bands, not all of them
    assert bands.compressed >= n  # the first picture, whole


def test_png_bands_recompress_exactly_the_bands_that_changed() -> None:
    img = QImage(40, 50, QImage.Format.Format_RGB32)
    img.fill(0x336699)
    bands = png.Bands(rows=16)
    bands.encode(img)
    assert (bands.compressed, bands.reused) == (4, 0)
    changed = img.copy()
    changed.setPixel(39, 33, 0xFF0000)  # band 2 (rows 32-47)
    data = bands.encode(changed)
    assert (bands.compressed, bands.reused) == (5, 3)
    with Image.open(io.BytesIO(data)) as im:
        got = np.asarray(im.convert("RGB"))
    assert got[33, 39].tolist() == [255, 0, 0] and got[32, 39].tolist() == [0x33, 0x66, 0x99]
    assert zlib.decompress(data[data.index(b"IDAT") + 4:])  # one zlib stream, its check right
    small = QImage(40, 20, QImage.Format.Format_RGB32)  # another size: every band again
    small.fill(0)
    bands.encode(small)
    assert (bands.compressed, bands.reused) == (7, 3)


def test_adler32_of_two_pieces_from_their_own() -> None:
    rng = np.random.default_rng(4)
    for n, k in [(0, 5), (5, 0), (1, 70_000), (100_003, 65_521), (300_000, 1)]:
        a, b = rng.integers(0, 256, n, np.uint8).tobytes(), rng.integers(0, 256, k, np.uint8).tobytes()
        assert png.adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b), (n, k)


def test_a_tile_repaints_the_rows_its_step_reached(offscreen_renderers) -> None:
    m = Lesson(Params(in_h=10, in_w=10))
    r = offscreen_renderers(SIZE)
    draw(r, m, 12)
    f = m.frame(13)
    (inp,), (out,) = r.tiles["input"][:1], r.tiles["output"][:1]
    panels = {p.name: p for p in f.panels}
    kw = {"origin": out.item.origin, "front": out.item.front, "scale": out.item.scale_, "zoom": out.item.zoom}
    # The input did not change: nothing to repaint.
    assert tile_damage(inp.item, panels["input"].grids[0], inp.item.render, inp.item.origin, inp.item.front,
                       inp.item.scale_, inp.item.zoom) is False
    # The output's cell 13 (row 1) was computed: rows 0-2, the whole width.
    rect = tile_damage(out.item, panels["output"].grids[0], out.item.render, **kw)
    x0, y0 = out.item.origin
    assert isinstance(rect, QRectF)
    assert rect == QRectF(x0 - 0.6, y0 - 0.6, 10.2, 3.2)
    # Anything else (another zoom, another place): all of it.
    assert tile_damage(out.item, panels["output"].grids[0], out.item.render, **{**kw, "zoom": 2.0}) is None
    assert tile_damage(out.item, panels["output"].grids[0], out.item.render,
                       **{**kw, "origin": (x0 + 1, y0)}) is None
