"""A PNG encoder for exported frames: the same pixels as Qt's, in less time.

Qt's PNG writer (libpng, adaptive row filters, zlib level 6) took 20–45 ms
for a 1280×720 frame, longer than drawing it. Exported frames are flat
colours and text, where row filters gain little: rows are written unfiltered
and deflated at ``LEVEL`` (3: about 8 ms, files about 15% larger than Qt's).
zlib and NumPy release the interpreter, so two frames compress at once on the
two workers of ``gui.export.overlap``.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PySide6.QtGui import QImage

#: zlib level of exported PNGs (1 fastest … 9 smallest).
LEVEL = 3


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rgb888(img: QImage) -> QImage:
    """``img`` as format RGB888 (R, G, B bytes, rows padded to 4 bytes), alpha dropped, colours kept.

    Qt converts RGB32 in a few threads of its own, about 0.7 ms for 1280×720 where a NumPy copy
    of the bytes reordered took 3.5 ms. Formats other than RGB32 and ARGB32 (whose colours are kept
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
    a = _rows(rgb)
    h, w = a.shape[:2]
    raw = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    raw[:, 0] = 0  # filter type "none" on every row
    raw[:, 1:] = a.reshape(h, 3 * w)
    del a, rgb
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8 bits, truecolour, deflate, no interlace
    dpm = struct.pack(">IIB", max(0, img.dotsPerMeterX()), max(0, img.dotsPerMeterY()), 1)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"pHYs", dpm)
            + _chunk(b"IDAT", zlib.compress(raw, level)) + _chunk(b"IEND", b""))
