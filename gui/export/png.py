"""A PNG encoder for exported frames: the same pixels as Qt's, in less time.

Qt's PNG writer (libpng, adaptive row filters, zlib level 6) took 20–45 ms
for a 1280×720 frame, longer than drawing it. Exported frames are flat
colours and text, where row filters gain little: rows are written unfiltered
and deflated at ``LEVEL`` (3: about 8 ms, files about 15% larger than Qt's).
zlib and NumPy release the interpreter, so two frames compress at once on the
two workers of ``gui.export.overlap``.

A sequence of frames (``Bands``) changes little from one frame to the next:
its rows are deflated in bands of ``BAND_ROWS``, each band a piece of the
stream of its own (started afresh, ended on a byte by a sync flush), and a
band whose rows are the previous frame's keeps that frame's bytes. The file
holds the same pixels; only the bands that changed cost a compression.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PySide6.QtGui import QImage

#: zlib level of exported PNGs (1 fastest … 9 smallest).
LEVEL = 3
#: Rows per separately deflated band of a sequence's frames (``Bands``).
BAND_ROWS = 16
_ADLER_BASE = 65521


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rgb888(img: QImage) -> QImage:
    """``img`` as format RGB888 (R, G, B bytes, rows padded to 4 bytes), alpha dropped, colours kept.

    Qt converts RGB32 in a few threads of its own, about 0.7 ms for 1280×720 where a NumPy copy
    of the bytes reordered took 3.5 ms (about 1.5 ms in the window's process, which paints on one thread:
    ``gui.app.paint_on_one_thread``). Formats other than RGB32 and ARGB32 (whose colours are kept
    as they are, alpha dropped) become RGB32 first.
    """
    if img.format() not in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32):
        img = img.convertToFormat(QImage.Format.Format_RGB32)
    return img.convertToFormat(QImage.Format.Format_RGB888)


def _rows(img: QImage) -> np.ndarray:
    """An RGB888 ``img``'s pixels as an ``(H, W, 3)`` view (valid while ``img`` lives)."""
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    rows = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return rows[:, :3 * w].reshape(h, w, 3)


def rgb_rows(img: QImage) -> np.ndarray:
    """The pixels of ``img`` as an ``(H, W, 3)`` uint8 array (a new array; alpha dropped)."""
    rgb = _rgb888(img)
    return _rows(rgb).copy()


def encode(img: QImage, level: int = LEVEL) -> bytes:
    """``img`` as an 8-bit RGB PNG (its resolution kept in a ``pHYs`` chunk, as Qt writes it).

    Parameters
    ----------
    img : QImage
        Any format; an opaque picture (export frames are) keeps every pixel.
    level : int
        zlib compression level, 1 to 9.
    """
    rgb = _rgb888(img)
    raw = _raw(_rows(rgb))
    del rgb
    return _file(img, raw.shape[0], (raw.shape[1] - 1) // 3, zlib.compress(raw, level))


def _raw(a: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` pixels as PNG's rows: a filter byte ("none") before each row's bytes."""
    h, w = a.shape[:2]
    raw = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 0] = 0  # filter type "none" on every row
    raw[:, 1:] = a.reshape(h, 3 * w)
    return raw


def _file(img: QImage, h: int, w: int, stream: bytes) -> bytes:
    """The PNG file of ``h`` rows of ``w`` RGB pixels whose zlib stream is ``stream`` (``img``'s
    resolution)."""
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8 bits, truecolour, deflate, no interlace
    dpm = struct.pack(">IIB", max(0, img.dotsPerMeterX()), max(0, img.dotsPerMeterY()), 1)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"pHYs", dpm)
            + _chunk(b"IDAT", stream) + _chunk(b"IEND", b""))


def adler32_combine(a: int, b: int, len_b: int) -> int:
    """The Adler-32 of two byte strings one after the other, from their own (``a``, ``b``) and the
    second's length (zlib's ``adler32_combine``, which Python's ``zlib`` lacks)."""
    base = _ADLER_BASE
    rem = len_b % base
    s1 = a & 0xFFFF
    s2 = (rem * s1) % base
    s1 = (s1 + (b & 0xFFFF) + base - 1) % base
    s2 = (s2 + (a >> 16) + (b >> 16) + base - rem) % base
    return s1 | s2 << 16


class Bands:
    """PNGs of a sequence of pictures, in order: a band of rows that did not change since the previous
    picture keeps its compressed bytes (see the module's notes). One sequence, one thread at a time.

    Parameters
    ----------
    level : int
        zlib compression level, 1 to 9.
    rows : int
        Rows per band.
    """

    def __init__(self, level: int = LEVEL, rows: int = BAND_ROWS) -> None:
        self.level, self.rows = level, rows
        self.reused = self.compressed = 0  # bands, for benchmarks and tests
        self._rgb: QImage | None = None  # the previous picture, as RGB888
        self._words: np.ndarray | None = None  # its rows as 32-bit words (padding included)
        self._bands: list[tuple[bytes, int, int]] = []  # (deflated, Adler-32, raw length) per band

    def encode(self, img: QImage) -> bytes:
        """``img`` as an 8-bit RGB PNG, the same pixels as ``encode(img)``."""
        rgb = _rgb888(img)
        h, w, bpl = rgb.height(), rgb.width(), rgb.bytesPerLine()
        # Rows compared 32 bits at a time, their padding with them (Qt pads RGB888 rows to 4 bytes): a
        # padding byte that differs only costs a band's compression.
        words = np.frombuffer(rgb.constBits(), dtype=np.uint32, count=h * bpl // 4).reshape(h, bpl // 4)
        prev = self._words
        same = None if prev is None or prev.shape != words.shape else ~(words != prev).any(axis=1)
        pixels = _rows(rgb)
        n = self.rows
        bands: list[tuple[bytes, int, int]] = []
        for k, top in enumerate(range(0, h, n)):
            if same is not None and same[top:top + n].all():
                bands.append(self._bands[k])
                self.reused += 1
                continue
            part = _raw(pixels[top:top + n]).tobytes()
            c = zlib.compressobj(self.level, zlib.DEFLATED, -15)
            bands.append((c.compress(part) + c.flush(zlib.Z_SYNC_FLUSH), zlib.adler32(part), len(part)))
            self.compressed += 1
        self._rgb, self._words, self._bands = rgb, words, bands  # the words stay valid with ``rgb``
        check = 1
        for _, a, size in bands:
            check = adler32_combine(check, a, size)
        # zlib's header (deflate, 32 KiB window), the bands, an empty last block, the check of every byte.
        stream = b"".join([b"\x78\x01", *(d for d, _, _ in bands), b"\x03\x00", struct.pack(">I", check)])
        return _file(img, h, w, stream)
