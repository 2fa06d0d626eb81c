"""A GIF89a written one frame at a time, in the memory of two frames.

Pillow's own animated-GIF writer keeps every frame until it saves, so memory
grew with the number of steps. Here the file is assembled by hand: the
header, one global palette (chosen from a sample of the frames) and the loop
count first; then for each frame only the rectangle that changed since the
previous one (found in order by ``change``, which maps onto the palette only
the pixels that changed), compressed by Pillow's LZW encoder (``encode``: in
the child process of a ``gui.models.gif_lzw.BlockEncoder``, or here), drawn
over the previous frame (disposal 1). Inside that rectangle the pixels that did
not change are transparent (an index no changed pixel uses, chosen per frame):
long runs of one index, which LZW compresses in a third less time into a
sixth of the bytes, and the previous frame shows through unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..models.gif_lzw import BlockEncoder, table
from ..models.outfiles import ExportError

try:
    from PIL import Image
except ImportError:  # pragma: no cover - the export extra is not installed
    Image = None  # type: ignore[assignment]

#: Most pixels one sample frame contributes to the palette (larger frames are thinned).
SAMPLE_PIXELS = 1_500_000


def need_pillow() -> None:
    """Raise a plain ``ExportError`` when Pillow is missing."""
    if Image is None:
        raise ExportError("GIF export needs Pillow: pip install Pillow")


def palette_from(samples: Sequence[np.ndarray]) -> Image.Image:
    """A 256-colour palette image for pictures like ``samples`` (``(H, W, 3)`` uint8 each).

    Large samples are thinned to ``SAMPLE_PIXELS`` so the palette costs the same at any scale.
    """
    parts = []
    for a in samples:
        step = max(1, int(np.ceil(np.sqrt(a.shape[0] * a.shape[1] / SAMPLE_PIXELS))))
        parts.append(a[::step, ::step])
    width = min(p.shape[1] for p in parts)
    stack = np.ascontiguousarray(np.concatenate([p[:, :width] for p in parts], axis=0))
    return Image.fromarray(stack).quantize(256, method=Image.Quantize.FASTOCTREE)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where pictures ``a`` and ``b`` (same shape, as ``GifStream.change`` takes) differ: ``(H, W)`` bool."""
    if a.shape[2] == 4:  # one 32-bit comparison per pixel (the unused byte is 0xff in both)
        return a.view(np.uint32)[..., 0] != b.view(np.uint32)[..., 0]
    return (a != b).any(axis=2)


@dataclass(frozen=True)
class Change:
    """The rectangle of a picture that changed since the previous one (``GifStream.change``).

    Attributes
    ----------
    indices : np.ndarray
        ``(h, w)`` uint8, the rectangle's palette indices (its own copy).
    left, top : int
        Where it is in the picture.
    transparent : int or None
        The index of the rectangle's unchanged pixels (which show the previous frame), one that no
        changed pixel uses; None when every index is used (every pixel is then its own colour).
    """

    indices: np.ndarray
    left: int
    top: int
    transparent: int | None = None


class GifStream:
    """Write an animated GIF through ``write``, one picture at a time.

    Parameters
    ----------
    write : callable
        ``write(data)`` appends to the file.
    size : (int, int)
        Width and height of every picture.
    palette : PIL.Image.Image
        A "P" image whose palette every frame is mapped onto (``palette_from``).
    delay_ms : int
        Time per frame (GIF counts hundredths of a second).
    loop : int
        Times to play, 0 = forever (0 to 65535).
    encoder : BlockEncoder, optional
        Makes the LZW blocks (``encode``); by default in this process.
    """

    def __init__(self, write: Callable[[bytes], None], size: tuple[int, int], palette: Image.Image,
                 delay_ms: int, loop: int, encoder: BlockEncoder | None = None) -> None:
        if not 0 <= loop <= 0xFFFF:
            raise ExportError(f"a GIF loops 0 (forever) to 65535 times, not {loop}")
        self.write, self.size, self.frames = write, size, 0
        self._palette_image = palette
        self._palette = bytes(palette.getpalette() or b"")[:768]
        self._table = table(self._palette)
        self._encoder = BlockEncoder(in_process=True) if encoder is None else encoder
        self._delay = max(2, round(delay_ms / 10))
        self._previous: np.ndarray | None = None
        self._indices: np.ndarray | None = None  # the previous picture's, (H, W)
        w, h = size
        write(b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0) + self._table)
        write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\0")

    def add(self, pixels: np.ndarray) -> None:
        """Append a picture: ``write_block(encode(change(pixels)))`` (see those)."""
        self.write_block(self.encode(self.change(pixels)))

    def change(self, pixels: np.ndarray) -> Change:
        """What changed since the previous picture: the rectangle around the pixels that differ,
        as palette indices.

        Pictures must come in order: this keeps the previous one and its indices, and maps
        onto the palette only the pixels that changed (each pixel to its nearest colour,
        undithered, so a pixel that did not change keeps its index). ``pixels`` is a picture of
        the stream's size, ``(H, W, 3)`` RGB or ``(H, W, 4)`` B, G, R, 0xff (a ``QImage`` of format
        RGB32 as it is in memory) uint8; it is kept, not copied.
        """
        h, w = pixels.shape[:2]
        if (w, h) != self.size:
            raise ExportError(f"a picture of {w}×{h} in a GIF of {self.size[0]}×{self.size[1]}")
        pixels = np.ascontiguousarray(pixels)
        prev, self._previous = self._previous, pixels
        if prev is None or self._indices is None or prev.shape != pixels.shape:
            self._indices = self._map(pixels).reshape(h, w).copy()  # its own, writable
            return Change(self._indices.copy(), 0, 0)
        where = np.flatnonzero(_changed(pixels, prev))
        if where.size == 0:  # nothing changed: one unchanged pixel keeps the frame and its delay
            return Change(self._indices[:1, :1].copy(), 0, 0)
        flat = self._indices.reshape(-1)
        new = self._map(pixels.reshape(h * w, -1)[where])
        flat[where] = new
        rows, cols = where // w, where % w
        top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols.min()), int(cols.max()) + 1
        free = np.flatnonzero(np.bincount(new, minlength=256) == 0)
        if free.size == 0:  # every index is a changed pixel's: the rectangle as it is
            return Change(self._indices[top:bottom, left:right].copy(), left, top)
        clear = int(free[0])
        indices = np.full((bottom - top, right - left), clear, dtype=np.uint8)
        indices[rows - top, cols - left] = new
        return Change(indices, left, top, clear)

    def _map(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels (``(..., 3 or 4)`` as in ``change``) as palette indices, flat."""
        depth = pixels.shape[-1]
        data = np.ascontiguousarray(pixels).reshape(1, -1, depth)
        im = Image.frombuffer("RGB", (data.shape[1], 1), data, "raw", "BGRX" if depth == 4 else "RGB", 0, 1)
        return np.asarray(im.quantize(palette=self._palette_image, dither=Image.Dither.NONE),
                          dtype=np.uint8).reshape(-1)

    def encode(self, change: Change) -> bytes:
        """A frame of ``change``: its graphic control and its indices LZW-compressed (by the stream's
        encoder, on any thread)."""
        # Graphic control: disposal 1 (keep the picture under the next), the delay, the transparent index.
        clear = change.transparent
        control = struct.pack("<BHB", 1 << 2 | (clear is not None), self._delay, clear or 0)
        block = self._encoder.encode(change.indices, change.left, change.top, self._palette)
        return b"!\xf9\x04" + control + b"\0" + block

    def write_block(self, block: bytes) -> None:
        """Append the next frame, as ``encode`` made it (shown for the stream's delay)."""
        self.write(block)
        self.frames += 1

    def close(self) -> None:
        """Write the trailer."""
        self.write(b";")
