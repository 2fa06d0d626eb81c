"""Pictures as input: reading real files, refusing bad ones, the samples, area resizing.

Files are written in the test (``QImage.save`` of a known pattern, or bytes
built with ``struct``/``zlib``) and compared with values computed here: the
pattern itself, BT.601 luma by hand and block averages by plain loops.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PySide6.QtGui import QColor, QImage, QImageReader
from PySide6.QtWidgets import QDialog

from engine.image import area_matrix, area_resize, to_gray
from gui import images
from gui.dialogs import ImageDialog
from gui.images import MAX_PIXELS, SAMPLES, ImageError, draw_sample, qimage_to_array, read_image, sample_path

H, W = 20, 24


def pattern(h: int = H, w: int = W, *, smooth: bool = False) -> np.ndarray:
    """``(3, h, w)`` integer RGB: red grows along columns, green along rows, blue mixes."""
    rgb = np.zeros((3, h, w))
    for i in range(h):
        for j in range(w):
            rgb[0, i, j] = (255 * j) // (w - 1)
            rgb[1, i, j] = (255 * i) // (h - 1)
            rgb[2, i, j] = (rgb[0, i, j] + rgb[1, i, j]) // 2 if smooth else (37 * i + 11 * j) % 256
    return rgb


def write(path: Path, rgb: np.ndarray, fmt: str, quality: int = -1) -> Path:
    _, h, w = rgb.shape
    img = QImage(w, h, QImage.Format.Format_RGB32)
    for i in range(h):
        for j in range(w):
            img.setPixelColor(j, i, QColor(int(rgb[0, i, j]), int(rgb[1, i, j]), int(rgb[2, i, j])))
    assert img.save(str(path), fmt, quality), f"Qt could not write {fmt}"
    return path


def luma(rgb: np.ndarray) -> np.ndarray:
    out = np.zeros((1, *rgb.shape[1:]))
    for i in range(rgb.shape[1]):
        for j in range(rgb.shape[2]):
            out[0, i, j] = 0.299 * rgb[0, i, j] + 0.587 * rgb[1, i, j] + 0.114 * rgb[2, i, j]
    return out


def block_mean(a: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Average over equal blocks, by loops (the sizes must divide)."""
    c_n, h, w = a.shape
    bh, bw = h // out_h, w // out_w
    assert bh * out_h == h and bw * out_w == w
    out = np.zeros((c_n, out_h, out_w))
    for c in range(c_n):
        for i in range(out_h):
            for j in range(out_w):
                total = 0.0
                for p in range(bh):
                    for q in range(bw):
                        total += a[c, i * bh + p, j * bw + q]
                out[c, i, j] = total / (bh * bw)
    return out


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header (8-bit grey) claiming ``width``×``height``, with a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 4096)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", data)
            + png_chunk(b"IEND", b""))


# 1×1 GIF89a (a well-known minimal file).
TINY_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
            b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def qt_reads(fmt: str) -> bool:
    return fmt.encode() in {bytes(f.data()).lower() for f in QImageReader.supportedImageFormats()}


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("fmt", ["PNG", "BMP"])
def test_lossless_file_reads_back_the_pattern(qapp, tmp_path, fmt: str) -> None:
    rgb = pattern()
    path = write(tmp_path / f"pattern.{fmt.lower()}", rgb, fmt)
    got = read_image(path, gray=False, unit=False)
    assert got.shape == (3, H, W)
    np.testing.assert_array_equal(got, rgb)
    gray = read_image(path, gray=True, unit=False)
    assert gray.shape == (1, H, W)
    np.testing.assert_allclose(gray, luma(rgb), atol=5.1e-5)  # values are rounded to 4 decimals
    unit = read_image(path, gray=False, unit=True)
    np.testing.assert_allclose(unit, rgb / 255.0, atol=5.1e-5)
    assert unit.min() >= 0.0 and unit.max() <= 1.0
    assert unit.max() == 1.0 and unit.min() == 0.0  # the pattern spans 0..255


def test_jpeg_reads_back_close_to_the_pattern(qapp, tmp_path) -> None:
    rgb = pattern(smooth=True)
    path = write(tmp_path / "pattern.jpg", rgb, "JPEG", quality=95)
    got = read_image(path, gray=False, unit=False)
    assert got.shape == (3, H, W)
    err = np.abs(got - rgb)
    assert err.mean() < 3.0, err.mean()
    assert err.max() < 24.0, err.max()
    gray = read_image(path, unit=True)
    assert np.abs(gray - luma(rgb) / 255.0).mean() < 3.0 / 255


@pytest.mark.parametrize(("out_h", "out_w"), [(10, 12), (4, 6), (5, 3), (1, 1), (20, 24)])
def test_size_resizes_by_area_averaging(qapp, tmp_path, out_h: int, out_w: int) -> None:
    rgb = pattern()
    path = write(tmp_path / "pattern.png", rgb, "PNG")
    got = read_image(path, gray=False, size=(out_h, out_w), unit=False)
    assert got.shape == (3, out_h, out_w)
    np.testing.assert_allclose(got, block_mean(rgb, out_h, out_w), atol=5.1e-5)
    gray = read_image(path, gray=True, size=(out_h, out_w), unit=True)
    np.testing.assert_allclose(gray, block_mean(luma(rgb), out_h, out_w) / 255.0, atol=5.1e-5)


def test_uneven_resize_keeps_the_mean(qapp, tmp_path) -> None:
    rgb = pattern()
    path = write(tmp_path / "pattern.png", rgb, "PNG")
    got = read_image(path, gray=False, size=(7, 9), unit=False)
    assert got.shape == (3, 7, 9)
    np.testing.assert_allclose(got.mean(axis=(1, 2)), rgb.mean(axis=(1, 2)), atol=1e-4)
    # Output (0, 0) covers rows [0, 20/7) and columns [0, 24/9): whole cells 0-1, then a part of the next.
    fh, fw = 20 / 7 - 2, 24 / 9 - 2
    wr, wc = np.array([1, 1, fh]), np.array([1, 1, fw])
    expected = (wr[:, None] * wc[None, :] * rgb[:, :3, :3]).sum(axis=(1, 2)) / (20 / 7 * 24 / 9)
    np.testing.assert_allclose(got[:, 0, 0], expected, atol=1e-4)


def test_format_is_decided_by_content_not_name(qapp, tmp_path) -> None:
    rgb = pattern()
    png = write(tmp_path / "pattern.png", rgb, "PNG")
    renamed = tmp_path / "really-a-png.bmp"
    renamed.write_bytes(png.read_bytes())
    np.testing.assert_array_equal(read_image(renamed, gray=False, unit=False), rgb)


# --------------------------------------------------------------------------- refused files


def test_text_file_named_png_is_refused(qapp, tmp_path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("these are my lecture notes, not a picture\n" * 20)
    with pytest.raises(ImageError, match=r"notes\.png is not a PNG, JPEG or BMP picture"):
        read_image(path)


def test_truncated_png_is_refused(qapp, tmp_path) -> None:
    good = write(tmp_path / "good.png", pattern(), "PNG").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageError, match=r"cut\.png could not be read"):
        read_image(path)


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (7072, 7072), (1_000_000, 51)])
def test_decompression_bomb_is_refused_before_decoding(qapp, tmp_path, monkeypatch, width: int,
                                                       height: int) -> None:
    assert width * height > MAX_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(width, height))
    assert path.stat().st_size < 200
    decoded: list[str] = []

    class Watched(QImageReader):
        def read(self, *args: object) -> QImage:  # type: ignore[override]
            decoded.append(bytes(self.format().data()).decode())
            return super().read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(images, "QImageReader", Watched)
    with pytest.raises(ImageError) as info:
        read_image(path)
    message = str(info.value)
    assert f"{width}×{height} pixels" in message
    assert "limit is 50 million" in message
    assert decoded == []  # refused from the header: no pixel was decoded


def test_picture_under_the_limit_is_decoded_through_the_same_reader(qapp, tmp_path, monkeypatch) -> None:
    # The watcher above would see a read for a normal file (so its silence for the bomb means something).
    path = write(tmp_path / "small.png", pattern(4, 5), "PNG")
    decoded: list[str] = []

    class Watched(QImageReader):
        def read(self, *args: object) -> QImage:  # type: ignore[override]
            decoded.append(bytes(self.format().data()).decode())
            return super().read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(images, "QImageReader", Watched)
    assert read_image(path).shape == (1, 4, 5)
    assert decoded == ["png"]  # one decode, of a PNG


def test_gif_is_refused_by_name(qapp, tmp_path) -> None:
    if not qt_reads("gif"):
        pytest.skip("this Qt cannot read GIF")
    path = tmp_path / "anim.gif"
    path.write_bytes(TINY_GIF)
    assert not QImage(str(path)).isNull()  # Qt itself would read it ...
    refused = r"anim\.gif is not a PNG, JPEG or BMP picture \(it looks like gif\)"
    with pytest.raises(ImageError, match=refused):
        read_image(path)  # ... convviz does not


def test_tiff_is_refused_by_name(qapp, tmp_path) -> None:
    if not qt_reads("tiff"):
        pytest.skip("this Qt cannot read TIFF")
    path = write(tmp_path / "scan.tiff", pattern(4, 4), "TIFF")
    assert not QImage(str(path)).isNull()
    refused = r"scan\.tiff is not a PNG, JPEG or BMP picture \(it looks like tiff\)"
    with pytest.raises(ImageError, match=refused):
        read_image(path)


def test_missing_file_is_refused(qapp, tmp_path) -> None:
    with pytest.raises(ImageError, match=r"^nowhere\.png does not exist$"):
        read_image(tmp_path / "nowhere.png")
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path)  # a folder is not a file


@pytest.mark.parametrize("size", [(0, 5), (5, 513)])
def test_grid_size_out_of_range_is_refused(qapp, tmp_path, size: tuple[int, int]) -> None:
    path = write(tmp_path / "p.png", pattern(4, 4), "PNG")
    with pytest.raises(ImageError, match="1 to 512 cells"):
        read_image(path, size=size)


# --------------------------------------------------------------------------- through the window


def test_window_uses_a_picture_as_its_input(window, tmp_path) -> None:
    rgb = pattern()
    path = write(tmp_path / "pattern.png", rgb, "PNG")
    old_w = window.model.w.copy()
    assert window.files.open_picture(path, gray=True, size=(10, 12)) is True
    m = window.model
    p = m.params
    assert (p.in_c, p.in_h, p.in_w) == (1, 10, 12)
    assert p.picture is True
    assert p.integers is False
    np.testing.assert_allclose(m.x, block_mean(luma(rgb), 10, 12) / 255.0, atol=5.1e-5)
    np.testing.assert_array_equal(m.w, old_w)  # same channels: the kernel stays
    assert not window.controls.error.isVisible()
    assert "pattern.png" in window.status.text()
    assert m.trace.out_shape[0] == p.out_c


def test_window_takes_an_rgb_picture(window, tmp_path) -> None:
    rgb = pattern()
    path = write(tmp_path / "pattern.bmp", rgb, "BMP")
    assert window.files.open_picture(path, gray=False, size=(5, 6), unit=False) is True
    p = window.model.params
    assert (p.in_c, p.in_h, p.in_w) == (3, 5, 6)
    assert window.model.w.shape == (p.out_c, 3, p.k_h, p.k_w)
    np.testing.assert_allclose(window.model.x, block_mean(rgb, 5, 6), atol=5.1e-5)


@pytest.mark.parametrize("kind", ["text", "truncated", "bomb", "missing"])
def test_window_refuses_a_bad_picture_and_keeps_its_input(window, tmp_path, kind: str) -> None:
    path = tmp_path / "bad.png"
    if kind == "text":
        path.write_text("not a picture")
        words = "is not a PNG, JPEG or BMP picture"
    elif kind == "truncated":
        good = write(tmp_path / "good.png", pattern(), "PNG").read_bytes()
        path.write_bytes(good[:60])
        words = "could not be read"
    elif kind == "bomb":
        path.write_bytes(png_claiming(100_000, 100_000))
        words = "100000×100000 pixels"
    else:
        words = "does not exist"
    before_x, before_p = window.model.x.copy(), window.model.params
    assert window.files.open_picture(path) is False
    assert window.controls.error.isVisible()
    text = window.controls.error.text()
    assert words in text
    assert "bad.png" in text
    assert "unchanged" in text
    np.testing.assert_array_equal(window.model.x, before_x)
    assert window.model.params == before_p
    # A good picture afterwards clears the message.
    good = write(tmp_path / "ok.png", pattern(), "PNG")
    assert window.files.open_picture(good, size=(4, 4)) is True
    assert not window.controls.error.isVisible()


def test_picture_dialog_reads_the_chosen_file(window, tmp_path, monkeypatch) -> None:
    rgb = pattern()
    path = write(tmp_path / "chosen.png", rgb, "PNG")

    def answer(dlg: ImageDialog) -> QDialog.DialogCode:
        dlg.source.setCurrentIndex(dlg.source.findData(""))  # "a file…"
        assert dlg.path.isEnabled()
        dlg.path.setText(str(path))
        dlg.channels.setCurrentIndex(dlg.channels.findData(False))  # RGB
        dlg.h.setValue(4)
        dlg.w.setValue(8)
        dlg.unit.setCurrentIndex(dlg.unit.findData(False))  # 0 to 255
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ImageDialog, "exec", answer)
    window.files.open_picture_dialog()
    p = window.model.params
    assert (p.in_c, p.in_h, p.in_w) == (3, 4, 8)
    np.testing.assert_allclose(window.model.x, block_mean(rgb, 4, 8), atol=5.1e-5)


def test_picture_dialog_sample_and_cancel(window, monkeypatch) -> None:
    def pick_sample(dlg: ImageDialog) -> QDialog.DialogCode:
        dlg.source.setCurrentIndex(dlg.source.findData("checkerboard"))
        assert not dlg.path.isEnabled()
        dlg.h.setValue(16)
        dlg.w.setValue(16)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ImageDialog, "exec", pick_sample)
    window.files.open_picture_dialog()
    x = np.array(window.model.x)
    assert x.shape == (1, 16, 16)
    # An 8x8 checkerboard on 16x16 cells: 2x2 blocks of one colour, white at the top left.
    expected = np.array([[1.0 if (i // 2 + j // 2) % 2 == 0 else 0.0 for j in range(16)] for i in range(16)])
    np.testing.assert_allclose(x[0], expected, atol=1e-3)
    before = window.model.params

    monkeypatch.setattr(ImageDialog, "exec", lambda dlg: QDialog.DialogCode.Rejected)
    window.files.open_picture_dialog()
    assert window.model.params == before


# --------------------------------------------------------------------------- samples


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_file_is_the_drawing(qapp, name: str) -> None:
    path = sample_path(name)
    assert path.is_file()
    assert path.parent.name == "images" and path.parent.parent.name == "resources"
    on_disk = QImage(str(path))
    assert not on_disk.isNull()
    drawn = draw_sample(name)
    assert (on_disk.width(), on_disk.height()) == (drawn.width(), drawn.height()) == (128, 128)
    np.testing.assert_array_equal(qimage_to_array(on_disk), qimage_to_array(drawn))
    x = read_image(path, size=(32, 32))
    assert x.shape == (1, 32, 32)
    assert 0.0 <= x.min() < x.max() <= 1.0


def test_unknown_sample_is_refused(qapp) -> None:
    with pytest.raises(ImageError, match="unknown sample"):
        draw_sample("cat")


def test_qimage_to_array_reads_rgb_planes(qapp) -> None:
    rgb = pattern(3, 5)
    img = QImage(5, 3, QImage.Format.Format_RGB32)
    for i in range(3):
        for j in range(5):
            img.setPixelColor(j, i, QColor(int(rgb[0, i, j]), int(rgb[1, i, j]), int(rgb[2, i, j])))
    np.testing.assert_array_equal(qimage_to_array(img), rgb)


# --------------------------------------------------------------------------- area resizing


def test_area_matrix_small_cases_by_hand() -> None:
    np.testing.assert_allclose(area_matrix(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    np.testing.assert_allclose(area_matrix(2, 4), [[1, 0], [1, 0], [0, 1], [0, 1]])
    np.testing.assert_allclose(area_matrix(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    np.testing.assert_allclose(area_matrix(5, 5), np.eye(5))
    np.testing.assert_allclose(area_matrix(3, 1), [[1 / 3, 1 / 3, 1 / 3]])
    with pytest.raises(ValueError, match="at least 1"):
        area_matrix(0, 3)


@settings(max_examples=80, deadline=None)
@given(n_in=st.integers(1, 60), n_out=st.integers(1, 60))
def test_area_matrix_rows_sum_to_one(n_in: int, n_out: int) -> None:
    a = area_matrix(n_in, n_out)
    assert a.shape == (n_out, n_in)
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-12)
    # Every input cell is shared out in full: its weights add up to n_out / n_in.
    np.testing.assert_allclose(a.sum(axis=0), n_out / n_in, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    img=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 17), st.integers(1, 17)),
                   elements=st.floats(-1000, 1000, allow_nan=False)),
    out_h=st.integers(1, 20), out_w=st.integers(1, 20),
)
def test_area_resize_conserves_the_mean(img: np.ndarray, out_h: int, out_w: int) -> None:
    out = area_resize(img, out_h, out_w)
    assert out.shape == (img.shape[0], out_h, out_w)
    np.testing.assert_allclose(out.mean(axis=(1, 2)), img.mean(axis=(1, 2)), rtol=1e-9, atol=1e-9)
    # An average never leaves the range of what it averages.
    assert np.all(out >= img.min(axis=(1, 2))[:, None, None] - 1e-9)
    assert np.all(out <= img.max(axis=(1, 2))[:, None, None] + 1e-9)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 2), out_h=st.integers(1, 4), out_w=st.integers(1, 4), bh=st.integers(1, 3),
       bw=st.integers(1, 3), seed=st.integers(0, 1000))
def test_area_resize_of_whole_blocks_is_the_block_mean(c: int, out_h: int, out_w: int, bh: int, bw: int,
                                                       seed: int) -> None:
    img = np.random.default_rng(seed).normal(size=(c, out_h * bh, out_w * bw))
    np.testing.assert_allclose(area_resize(img, out_h, out_w), block_mean(img, out_h, out_w), atol=1e-12)


def test_area_resize_refuses_a_flat_array() -> None:
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        area_resize(np.zeros((4, 4)), 2, 2)


def test_to_gray_uses_bt601_luma() -> None:
    rgb = np.random.default_rng(0).uniform(0, 255, size=(3, 4, 5))
    g = to_gray(rgb)
    assert g.shape == (1, 4, 5)
    np.testing.assert_allclose(g, luma(rgb), rtol=1e-14)
    np.testing.assert_allclose(to_gray(np.ones((3, 2, 2)) * [[[255]], [[0]], [[0]]]), 0.299 * 255)


# --------------------------------------------------------------------------- large pictures
@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), out_h=st.integers(1, 50), out_w=st.integers(1, 50),
       seed=st.integers(0, 2**16))
def test_area_resize_is_the_area_weighted_mean(h, w, out_h, out_w, seed) -> None:
    """The running-sum resize gives the numbers of the overlap weights, up or down, any sizes."""
    x = np.random.default_rng(seed).uniform(0, 255, size=(2, h, w))
    a, b = area_matrix(h, out_h), area_matrix(w, out_w)
    expected = np.zeros((2, out_h, out_w))
    for c in range(2):
        expected[c] = a @ x[c] @ b.T
    np.testing.assert_allclose(area_resize(x, out_h, out_w), expected, rtol=1e-10, atol=1e-9)


def big_picture(path: Path, h: int, w: int) -> np.ndarray:
    """A smooth ``(3, h, w)`` picture (bands and ramps) written as PNG; returns its pixels."""
    i, j = np.mgrid[0:h, 0:w]
    rgb = np.stack([(255 * j) // (w - 1), (255 * i) // (h - 1), ((i // 37 + j // 53) % 2) * 200 + 20])
    planes = np.ascontiguousarray(rgb.transpose(1, 2, 0).astype(np.uint8))
    img = QImage(planes.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    assert img.save(str(path), "PNG")
    return rgb.astype(float)


def test_a_large_picture_shrinks_to_the_grid_like_the_exact_area_mean(qapp, tmp_path) -> None:
    """Above two megapixels the decoder shrinks first (8 pixels a cell); the grid still shows the
    picture's area means, within a grey level, and ``read_image`` asks the decoder for that size."""
    path = tmp_path / "big.png"
    rgb = big_picture(path, 1792, 1344)  # 2.4 megapixels, 64x48 cells of 28x28 pixels
    got = read_image(path, gray=False, size=(64, 48), unit=False)
    exact = area_resize(rgb, 64, 48)
    assert got.shape == (3, 64, 48)
    assert np.abs(got - exact).mean() < 1.0 and np.abs(got - exact).max() < 12.0
    assert images._decode_size(1792, 1344, (64, 48)) == (512, 384)
    assert images._decode_size(20, 24, (1, 1)) is None  # small pictures: decoded whole, averaged exactly
