"""Read a written export back before it replaces anything (Qt-free).

Each check walks the file's structure from disk, in bounded memory, and raises
``ExportError`` when the file stops short or is not what was meant: a PNG's
chunks with their CRCs up to ``IEND``, a GIF's blocks up to its trailer (and
its frame count), an SVG as XML, a PDF's page objects and ``%%EOF``, an MP4's
boxes (``ftyp``, ``mdat`` and the index ``moov`` that is written last), a JSON
document's opening and closing.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from .outfiles import ExportError

__all__ = ["check_gif", "check_json", "check_mp4", "check_pdf", "check_png", "check_svg"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _read(f: BinaryIO, n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ExportError(f"the {what} stops short")
    return data


def check_png(path: Path) -> None:
    """A PNG whose every chunk is whole (CRC checked) up to ``IEND``."""
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            raise ExportError("the PNG does not start as a PNG")
        while True:
            length, kind = struct.unpack(">I4s", _read(f, 8, "PNG"))
            body = _read(f, length, "PNG")
            (crc,) = struct.unpack(">I", _read(f, 4, "PNG"))
            if zlib.crc32(body, zlib.crc32(kind)) != crc:
                raise ExportError("a PNG chunk is damaged")
            if kind == b"IEND":
                return


def _skip_sub_blocks(f: BinaryIO) -> None:
    while True:
        n = _read(f, 1, "GIF")[0]
        if n == 0:
            return
        if len(f.read(n)) != n:
            raise ExportError("the GIF stops short")


def check_gif(path: Path, frames: int | None = None) -> None:
    """A GIF whose blocks run whole to its trailer, with ``frames`` pictures if given."""
    with open(path, "rb") as f:
        head = _read(f, 13, "GIF")
        if head[:6] not in (b"GIF87a", b"GIF89a"):
            raise ExportError("the GIF does not start as a GIF")
        if head[10] & 0x80:
            f.seek(3 << ((head[10] & 7) + 1), 1)
        seen = 0
        while True:
            tag = _read(f, 1, "GIF")[0]
            if tag == 0x3B:  # trailer
                break
            if tag == 0x21:  # extension: label, then sub-blocks
                _read(f, 1, "GIF")
                _skip_sub_blocks(f)
            elif tag == 0x2C:  # image: descriptor, colour table, LZW size, sub-blocks
                flags = _read(f, 9, "GIF")[8]
                if flags & 0x80:
                    f.seek(3 << ((flags & 7) + 1), 1)
                _read(f, 1, "GIF")
                _skip_sub_blocks(f)
                seen += 1
            else:
                raise ExportError("the GIF is damaged")
    if frames is not None and seen != frames:
        raise ExportError(f"the GIF holds {seen} pictures, not {frames}")


def check_svg(path: Path) -> None:
    """An SVG that parses as XML with an ``<svg>`` root."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError:
        raise ExportError("the SVG does not parse") from None
    if not root.tag.endswith("svg"):
        raise ExportError("the file is not an SVG")


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def check_pdf(path: Path, pages: int | None = None) -> None:
    """A PDF that ends with ``%%EOF``, with ``pages`` page objects if given (read in pieces)."""
    count, tail = 0, b""
    with open(path, "rb") as f:
        if f.read(5) != b"%PDF-":
            raise ExportError("the PDF does not start as a PDF")
        f.seek(0)
        while chunk := f.read(1 << 20):
            data = tail + chunk
            keep = 64  # a page object cut in two is counted in the next piece
            count += len(_PAGE.findall(data, 0, max(0, len(data) - keep)))
            tail = data[max(0, len(data) - keep):]
        count += len(_PAGE.findall(tail))
    if not tail.rstrip().endswith(b"%%EOF"):
        raise ExportError("the PDF stops short")
    if pages is not None and count != pages:
        raise ExportError(f"the PDF holds {count} pages, not {pages}")


def check_mp4(path: Path) -> None:
    """An MP4 whose top-level boxes fill the file exactly and include ``ftyp``, ``mdat``, ``moov``."""
    kinds = set()
    size = path.stat().st_size
    with open(path, "rb") as f:
        at = 0
        while at < size:
            f.seek(at)
            n, kind = struct.unpack(">I4s", _read(f, 8, "video"))
            if n == 1:
                (n,) = struct.unpack(">Q", _read(f, 8, "video"))
            elif n == 0:
                n = size - at
            if n < 8 or at + n > size:
                raise ExportError("the video stops short")
            kinds.add(kind)
            at += n
    missing = {b"ftyp", b"mdat", b"moov"} - kinds
    if missing:
        raise ExportError("the video stops short (no " + ", ".join(sorted(k.decode() for k in missing)) + ")")


def check_json(path: Path, opening: bytes, closing: bytes) -> None:
    """A JSON document that starts with ``opening`` and ends with ``closing`` (written whole)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(len(opening))
        f.seek(max(0, size - len(closing)))
        tail = f.read()
    if head != opening or tail != closing:
        raise ExportError("the JSON file stops short")
