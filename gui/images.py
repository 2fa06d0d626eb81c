"""Pictures in and out: reading PNG/JPEG/BMP safely, and the sample pictures convviz draws itself.

Reading goes through ``QImageReader`` (no new dependency) with the format
decided from the file's content, the size checked from its header before any
pixel is decoded, and Qt's allocation limit set, so a mislabelled file, a
truncated one or a decompression bomb is refused with a plain message.

Reading can be stopped: the file reaches the decoder through a device that
asks ``engine.cancel.checkpoint`` before every chunk it hands over (a stopped
read ends the decode at once, as a truncated file would), and the picture is
converted and area-averaged a band of rows at a time, with a checkpoint
between bands. Inside a ``StopToken.run`` a cancelled read raises
``Cancelled``; elsewhere it never stops. The bands also bound the memory:
about the decoded picture plus one band in floats, not the picture in floats
several times over.

Finding a reader's format takes a lock of Qt's (its list of image plugins)
and, through that device, calls back into Python, while PySide keeps the
interpreter during ``QImageReader``'s calls: a thread looking at a picture
while another did could each wait for what the other held, for ever. Every
reader here finds its format and size under ``_PROBING``, one at a time (a
Python lock, which lets go of the interpreter while it waits).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PySide6.QtCore import QIODevice, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPainterPath, QPen, QPolygonF

from engine.cancel import Cancelled, checkpoint
from engine.image import area_resize

from .models import resources

FORMATS: tuple[bytes, ...] = (b"png", b"jpeg", b"jpg", b"bmp")
MAX_PIXELS = 50_000_000  # a 7000x7000 photo; larger pictures are refused before decoding
ALLOCATION_LIMIT_MB = 256
SAMPLES: tuple[str, ...] = ("digit", "checkerboard", "shapes")
#: Where ``write_samples`` draws the samples: a source checkout's ``resources/images``.
#: The app reads them through ``sample_path`` (from the installed package when installed).
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "images"


#: Held while a ``QImageReader`` finds its format and size (see the module's docstring).
_PROBING = threading.Lock()


class ImageError(ValueError):
    """A picture that cannot be used; the message is for the user."""


def _rgb_bytes(img: QImage) -> np.ndarray:
    """``img``'s pixels as a ``(H, W, 3)`` uint8 view; ``img`` must be RGB888 and outlive the view."""
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3)


def _planes(rgb: np.ndarray, gray: bool) -> np.ndarray:
    """``rgb (H, W, 3)`` uint8 as ``(3, H, W)`` floats 0-255, or its luma ``(1, H, W)`` when ``gray``."""
    h, w = rgb.shape[:2]
    if gray:  # ITU-R BT.601 weights, as engine.image.to_gray
        out = np.empty((1, h, w))
        np.multiply(rgb[..., 0], 0.299, out=out[0])
        out[0] += 0.587 * rgb[..., 1]
        out[0] += 0.114 * rgb[..., 2]
        return out
    out = np.empty((3, h, w))
    for c in range(3):
        out[c] = rgb[..., c]
    return out


def qimage_to_array(img: QImage, *, gray: bool = False) -> np.ndarray:
    """``img`` as ``(3, H, W)`` float values 0-255, or its luma ``(1, H, W)`` when ``gray``.

    Each plane is converted straight from the bytes (no float copy of the
    interleaved picture): a 12-megapixel photo takes a fraction of a second.
    """
    rgb888 = img.convertToFormat(QImage.Format.Format_RGB888)  # kept alive while its bytes are read
    return _planes(_rgb_bytes(rgb888), gray)


#: Rows of the picture converted to floats at once (times its width, about this many pixels).
BAND_PIXELS = 250_000


def _to_grid(img: QImage, gray: bool, size: tuple[int, int]) -> np.ndarray:
    """``img`` area-averaged to ``(1 or 3, *size)`` values 0-255, a band of rows at a time.

    The numbers are ``area_resize(qimage_to_array(img, gray=gray), *size)``'s:
    that averages each row across first, which is what a band does; the rows
    are then averaged down once the bands are stacked. A checkpoint between
    bands lets a cancel stop it.
    """
    h, w = img.height(), img.width()
    rows = max(1, BAND_PIXELS // w)
    across = np.empty((1 if gray else 3, h, size[1]))
    for top in range(0, h, rows):
        checkpoint()
        n = min(rows, h - top)  # converted a band at a time too: no RGB copy of the whole picture
        band = img.copy(0, top, w, n).convertToFormat(QImage.Format.Format_RGB888)
        across[:, top:top + n] = area_resize(_planes(_rgb_bytes(band), gray), n, size[1])
    checkpoint()
    return area_resize(across, size[0], size[1])


class _StoppableFile(QIODevice):
    """A file read by ``QImageReader`` chunk by chunk, each chunk after a ``checkpoint()``.

    Once the enclosing ``StopToken`` is cancelled a read fails (``stopped``),
    and the decoder gives up as on a truncated file: the decode ends within a
    chunk (16 KB) instead of running to the end of the picture.
    """

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self._file = file
        self._size = file.seek(0, 2)
        self.stopped = False

    def size(self) -> int:
        return self._size

    def isSequential(self) -> bool:  # noqa: N802 - Qt API
        return False

    def readData(self, maxlen: int) -> bytes | None:  # noqa: N802 - Qt API
        try:
            checkpoint()
        except Cancelled:
            self.stopped = True
            return None  # a read error: the decoder stops
        self._file.seek(self.pos())
        return self._file.read(maxlen)

    def writeData(self, data: bytes) -> int:  # noqa: N802 - Qt API
        return -1


def read_image(path: str | Path, *, gray: bool = True, size: tuple[int, int] | None = None,
               unit: bool = True) -> np.ndarray:
    """Read a PNG, JPEG or BMP file as a grid.

    Parameters
    ----------
    path : str or Path
    gray : bool
        One channel (luma) instead of three (R, G, B).
    size : (H, W), optional
        Resize by area averaging.
    unit : bool
        Values in [0, 1] (else 0-255).

    Returns
    -------
    ndarray, shape (1 or 3, H, W)

    Raises
    ------
    ImageError
        Not a readable PNG/JPEG/BMP, too many pixels, or damaged.
    """
    p = Path(path)
    if not p.is_file():
        raise ImageError(f"{p.name} does not exist")
    try:
        with p.open("rb") as file:
            device = _StoppableFile(file)
            device.open(QIODevice.OpenModeFlag.ReadOnly)
            try:
                return _read(QImageReader(device), p.name, gray, size, unit)
            except ImageError:
                if device.stopped:  # a read stopped by a cancel looks damaged: it was cancelled
                    raise Cancelled from None
                raise
    except OSError as exc:
        raise ImageError(f"{p.name} could not be read: {exc.strerror or exc}") from None


def _read(reader: QImageReader, name: str, gray: bool, size: tuple[int, int] | None, unit: bool
          ) -> np.ndarray:
    """``read_image``'s work on an open ``reader`` (of the file ``name``)."""
    reader.setDecideFormatFromContent(True)
    reader.setAllocationLimit(ALLOCATION_LIMIT_MB)
    with _PROBING:  # the plugin is chosen (and the header read) here; decoding below needs no lock
        fmt = bytes(reader.format().data()).lower()
        readable = reader.canRead()
        dims = reader.size()
    if not readable or fmt not in FORMATS:
        kind = f" (it looks like {fmt.decode()})" if fmt else ""
        raise ImageError(f"{name} is not a PNG, JPEG or BMP picture{kind}")
    if dims.isValid() and dims.width() * dims.height() > MAX_PIXELS:
        raise ImageError(f"{name} is {dims.width()}×{dims.height()} pixels; the limit is "
                         f"{MAX_PIXELS / 1e6:.0f} million")
    decode_to = _decode_size(dims.height(), dims.width(), size) if dims.isValid() else None
    if decode_to is not None:  # much larger than the grid: let the decoder shrink it (JPEG: in the DCT)
        reader.setScaledSize(QSize(decode_to[1], decode_to[0]))
    if size is not None and (min(size) < 1 or max(size) > 512):
        raise ImageError(f"the grid size must be 1 to 512 cells a side, got {size[0]}×{size[1]}")
    img = reader.read()
    checkpoint()  # stopped while decoding: Cancelled, not a damaged file
    if img.isNull():
        raise ImageError(f"{name} could not be read: {reader.errorString()}")
    a = qimage_to_array(img, gray=gray) if size is None else _to_grid(img, gray, size)
    a = a / 255.0 if unit else a
    return np.round(a, 4)


def picture_pixels(path: str | Path) -> int:
    """How many pixels the picture file at ``path`` has, from its header (0: unknown or unreadable)."""
    with _PROBING:
        reader = QImageReader(str(path))
        reader.setDecideFormatFromContent(True)
        dims = reader.size()
    return dims.width() * dims.height() if dims.isValid() else 0


#: A picture decoded at this many pixels per grid cell (per axis) before area averaging is
#: indistinguishable from one averaged from the full picture, at a fraction of the time and memory.
DECODE_PIXELS_PER_CELL = 8
#: Pictures smaller than this are always decoded whole (they are quick, and averaged exactly).
SCALED_DECODE_PIXELS = 2_000_000


def _decode_size(h: int, w: int, size: tuple[int, int] | None) -> tuple[int, int] | None:
    """Size ``(H, W)`` to decode a ``h``×``w`` picture at for a grid of ``size``, or None for full size."""
    if size is None or min(size) < 1:
        return None
    out_h, out_w = size
    k = DECODE_PIXELS_PER_CELL
    if h * w < SCALED_DECODE_PIXELS or h < 2 * k * out_h or w < 2 * k * out_w:
        return None
    return (k * out_h, k * out_w)


# --------------------------------------------------------------------------- samples


def draw_sample(name: str, side: int = 128) -> QImage:
    """One of ``SAMPLES`` drawn at ``side``×``side`` pixels (white on black)."""
    img = QImage(side, side, QImage.Format.Format_RGB32)
    img.fill(QColor("black"))
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = side / 128.0
        if name == "digit":
            # A handwritten-style 3: two bowls drawn with a thick round pen.
            pen = QPen(QColor("white"), 13 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                       Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            path = QPainterPath(QPointF(38 * s, 30 * s))
            path.cubicTo(QPointF(55 * s, 12 * s), QPointF(96 * s, 18 * s), QPointF(84 * s, 46 * s))
            path.cubicTo(QPointF(78 * s, 58 * s), QPointF(62 * s, 62 * s), QPointF(56 * s, 62 * s))
            path.cubicTo(QPointF(90 * s, 64 * s), QPointF(98 * s, 98 * s), QPointF(72 * s, 108 * s))
            path.cubicTo(QPointF(56 * s, 114 * s), QPointF(40 * s, 106 * s), QPointF(34 * s, 96 * s))
            p.drawPath(path)
        elif name == "checkerboard":
            n = 8
            cell = side / n
            for i in range(n):
                for j in range(n):
                    if (i + j) % 2 == 0:
                        p.fillRect(QRectF(j * cell, i * cell, cell, cell), QColor("white"))
        elif name == "shapes":
            # Edges in every direction: a square, a disc, a triangle and a diagonal bar.
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(230, 230, 230))
            p.drawRect(QRectF(10 * s, 12 * s, 44 * s, 40 * s))
            p.setBrush(QColor(170, 170, 170))
            p.drawEllipse(QRectF(70 * s, 10 * s, 46 * s, 46 * s))
            p.setBrush(QColor(255, 255, 255))
            p.drawPolygon(QPolygonF([QPointF(14 * s, 116 * s), QPointF(36 * s, 68 * s),
                                     QPointF(58 * s, 116 * s)]))
            p.setBrush(QColor(120, 120, 120))
            bar = QPolygonF([QPointF(70 * s, 110 * s), QPointF(106 * s, 66 * s), QPointF(118 * s, 76 * s),
                             QPointF(82 * s, 120 * s)])
            p.drawPolygon(bar)
        else:
            raise ImageError(f"unknown sample {name!r}; the samples are {', '.join(SAMPLES)}")
    finally:
        p.end()
    return img


def sample_path(name: str) -> Path:
    """The file of the sample picture ``name`` as convviz ships it (``resources/images``).

    Raises
    ------
    ImageError
        For a name convviz ships no picture for (a damaged install).
    """
    try:
        return resources.image_path(f"{name}.png")
    except KeyError as exc:
        raise ImageError(str(exc)) from None


def write_samples() -> list[Path]:
    """(Re)draw every sample into a checkout's ``resources/images`` (``python -m gui.images``)."""
    if not (SAMPLE_DIR.parent / "__init__.py").is_file():
        raise ImageError(f"{SAMPLE_DIR.parent} is not a convviz checkout's resources folder")
    SAMPLE_DIR.mkdir(exist_ok=True)
    out = []
    for name in SAMPLES:
        path = SAMPLE_DIR / f"{name}.png"
        if not draw_sample(name).save(str(path), "PNG"):
            raise ImageError(f"could not write {path}")
        out.append(path)
    return out


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    _app = QApplication([])
    for written in write_samples():
        print(written)
