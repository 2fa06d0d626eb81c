"""GIF image blocks (palette indices, LZW-compressed), worked out in a helper process.

Pillow's LZW encoder holds the interpreter while it compresses (3–4 ms for a
1280×720 frame's changed rectangle): on a thread it takes turns with the
painting of the next frame instead of running beside it. ``BlockEncoder``
runs it in a child Python process, which imports this module alone (no Qt,
no NumPy: about 50 ms to start, begun before the palette is worked out), and
talks to it through its standard input and output: each request is a
rectangle of indices, each answer its image block. Where no child can be
started (a frozen application) the blocks are made in this process.

``image_block`` is the encoder itself: Pillow writes a one-frame GIF of the
indices and its image block is copied out.
"""

from __future__ import annotations

import contextlib
import io
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .outfiles import ExportError

if TYPE_CHECKING:
    import numpy as np

#: A request: the palette's length, the rectangle's width, height, left and top; the palette and the
#: rectangle's ``width * height`` indices follow.
_REQUEST = struct.Struct("<HHHHH")
#: An answer: 0 and the image block's length, or 1 and the length of an error message; the bytes follow.
_ANSWER = struct.Struct("<BI")
#: The folder holding the ``gui`` package, put first on the child's path (it runs this very code).
_ROOT = str(Path(__file__).resolve().parents[2])
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); "
          "from gui.models.gif_lzw import serve; serve(sys.stdin.buffer, sys.stdout.buffer)")
#: How long a finished child may take to exit before it is killed (s).
_EXIT_WAIT = 2.0


def table(palette: bytes) -> bytes:
    """A colour table of 256 entries (GIF tables come in powers of two)."""
    return palette[:768].ljust(768, b"\0")


def image_block(indices: bytes, size: tuple[int, int], palette: bytes, left: int, top: int) -> bytes:
    """The image descriptor and LZW data of a rectangle of palette indices placed at ``(left, top)``.

    Parameters
    ----------
    indices : bytes
        ``width * height`` palette indices, row after row.
    size : (int, int)
        The rectangle's width and height.
    palette : bytes
        The stream's palette (up to 768 bytes, R, G, B each); a block whose own table Pillow wrote
        differently carries it as a local colour table.
    left, top : int
        Where the rectangle is in the picture.
    """
    from PIL import Image

    im = Image.frombytes("P", size, indices)
    im.putpalette(palette)
    buf = io.BytesIO()
    im.save(buf, format="GIF", optimize=False, interlace=False)
    data = buf.getvalue()
    flags = data[10]
    at = 13
    own = b""
    if flags & 0x80:
        n = 3 << ((flags & 7) + 1)
        own, at = data[at:at + n], at + n
    while data[at] == 0x21:  # skip extensions before the image
        at += 2
        while data[at]:
            at += data[at] + 1
        at += 1
    if data[at] != 0x2C or data[-1] != 0x3B:
        raise ExportError("the GIF encoder gave an unexpected picture")
    desc = bytearray(data[at:at + 10])
    body = data[at + 10:-1]
    desc[1:5] = struct.pack("<HH", left, top)
    if desc[9] & 0x80 or table(own) == table(palette):
        return bytes(desc) + body
    desc[9] = (desc[9] & 0x40) | 0x80 | 7  # a local table of 256 entries
    return bytes(desc) + table(own) + body


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The child's loop: a request, its answer, until the input ends."""
    while True:
        head = requests.read(_REQUEST.size)
        if len(head) < _REQUEST.size:
            return
        n, w, h, left, top = _REQUEST.unpack(head)
        palette, indices = requests.read(n), requests.read(w * h)
        if len(palette) < n or len(indices) < w * h:
            return
        try:
            status, out = 0, image_block(indices, (w, h), palette, left, top)
        except Exception as e:
            status, out = 1, f"{type(e).__name__}: {e}".encode("utf-8", "replace")
        answers.write(_ANSWER.pack(status, len(out)) + out)
        answers.flush()


class BlockEncoder:
    """Image blocks of one GIF's frames, LZW-compressed in a child process.

    Use it as a context manager: leaving it (at the end, on an error or a
    cancel) stops the child and waits for it, so no process outlives the
    export. The child starts at once (start it before the palette is worked
    out: it is ready by then). ``encode`` may be called from any thread.

    Parameters
    ----------
    in_process : bool
        Make the blocks in this process (no child), as when none can be started.
    """

    def __init__(self, in_process: bool = False) -> None:
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        if in_process or getattr(sys, "frozen", False):  # a frozen app's executable is not Python
            return
        try:
            # A session of its own: a Ctrl+C at the terminal reaches only convviz, which stops it.
            self.proc = subprocess.Popen([sys.executable, "-c", _CHILD, _ROOT], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, start_new_session=True)
        except OSError:  # no child: the blocks are made here
            self.proc = None

    def encode(self, indices: np.ndarray, left: int, top: int, palette: bytes) -> bytes:
        """``image_block`` of ``indices`` (``(h, w)`` uint8) placed at ``(left, top)``, made by the child."""
        h, w = indices.shape
        data = indices.tobytes()
        palette = palette[:768]
        proc = self.proc
        if proc is None:
            return image_block(data, (w, h), palette, left, top)
        assert proc.stdin is not None and proc.stdout is not None
        with self._lock:
            try:
                proc.stdin.write(_REQUEST.pack(len(palette), w, h, left, top) + palette)
                proc.stdin.write(data)
                proc.stdin.flush()
                head = proc.stdout.read(_ANSWER.size)
                if len(head) == _ANSWER.size:
                    status, n = _ANSWER.unpack(head)
                    out = proc.stdout.read(n)
                    if len(out) == n:
                        if status:
                            raise ExportError(f"the GIF encoder failed: {out.decode('utf-8', 'replace')}")
                        return out
            except (OSError, ValueError):  # the child is gone (a broken pipe), or stopped by ``close``
                pass
        raise ExportError("the GIF encoder stopped unexpectedly")

    def close(self) -> None:
        """Stop the child: its input ends, it exits (killed if it takes longer than a moment)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.close()  # type: ignore[union-attr]
        try:
            proc.wait(_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            proc.stdout.close()  # type: ignore[union-attr]

    def kill(self) -> None:
        """Stop the child at once (a cancel or a failure: no block it makes is wanted)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        self.close()

    def __enter__(self) -> BlockEncoder:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.close()
        else:
            self.kill()


if __name__ == "__main__":  # pragma: no cover - the child runs ``serve`` through ``_CHILD``
    serve(sys.stdin.buffer, sys.stdout.buffer)
