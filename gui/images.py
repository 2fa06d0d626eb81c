"""Pictures in and out: reading PNG/JPEG/BMP safely, and the sample pictures convviz draws itself.

Reading goes through ``QImageReader`` (no new dependency) with the format
decided from the file's content, the size checked from its header before any
pixel is decoded, and Qt's allocation limit set, so a mislabelled file, a
truncated one or a decompression bomb is refused with a plain message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPainterPath, QPen, QPolygonF

from engine.image import area_resize, to_gray

from .models import resources

FORMATS: tuple[bytes, ...] = (b"png", b"jpeg", b"jpg", b"bmp")
MAX_PIXELS = 50_000_000  # a 7000x7000 photo; larger pictures are refused before decoding
ALLOCATION_LIMIT_MB = 256
SAMPLES: tuple[str, ...] = ("digit", "checkerboard", "shapes")
#: Where ``write_samples`` draws the samples: a source checkout's ``resources/images``.
#: The app reads them through ``sample_path`` (from the installed package when installed).
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "images"


class ImageError(ValueError):
    """A picture that cannot be used; the message is for the user."""


def qimage_to_array(img: QImage) -> np.ndarray:
    """``img`` as ``(3, H, W)`` float values 0-255."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    rgb = buf[:, : w * 3].reshape(h, w, 3).astype(float)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


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
    reader = QImageReader(str(p))
    reader.setDecideFormatFromContent(True)
    reader.setAllocationLimit(ALLOCATION_LIMIT_MB)
    fmt = bytes(reader.format().data()).lower()
    if not reader.canRead() or fmt not in FORMATS:
        kind = f" (it looks like {fmt.decode()})" if fmt else ""
        raise ImageError(f"{p.name} is not a PNG, JPEG or BMP picture{kind}")
    dims = reader.size()
    if dims.isValid() and dims.width() * dims.height() > MAX_PIXELS:
        raise ImageError(f"{p.name} is {dims.width()}×{dims.height()} pixels; the limit is "
                         f"{MAX_PIXELS / 1e6:.0f} million")
    img = reader.read()
    if img.isNull():
        raise ImageError(f"{p.name} could not be read: {reader.errorString()}")
    a = qimage_to_array(img)
    if gray:
        a = to_gray(a)
    if size is not None:
        if min(size) < 1 or max(size) > 512:
            raise ImageError(f"the grid size must be 1 to 512 cells a side, got {size[0]}×{size[1]}")
        a = area_resize(a, *size)
    a = a / 255.0 if unit else a
    return np.round(a, 4)


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
