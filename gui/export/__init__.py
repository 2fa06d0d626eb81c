"""Export frames and animations through the same painter the screen uses.

``export`` writes PNG (a file or a folder of frames), SVG, PDF, GIF, MP4 or
the frames as JSON data. Every format streams its frames (memory does not grow
with their number) and is written under a temporary name, read back, then
renamed (``gui.models.outfiles``): a failed, cancelled or interrupted export
leaves nothing behind and an old file intact. Errors come back as
``ExportError`` with a plain-words message.

Modules: ``paint`` (pictures at any scale, SVG and PDF pages), ``gif`` (a
streaming GIF writer), ``png`` (a fast PNG encoder), ``overlap`` (work on
workers while the next picture is drawn), ``formats`` (one writer per format),
``job`` (``export``).
"""

from ..models.exportplan import parse_steps
from ..models.outfiles import ExportCancelled, ExportError, Interrupted
from .job import FORMATS, export
from .paint import DEFAULT_SIZE, draw, frames, grab, offscreen_renderer, png_bytes, rgb, svg_bytes

#: The old name of ``rgb``, for existing callers.
_rgb = rgb

__all__ = [
    "DEFAULT_SIZE",
    "FORMATS",
    "ExportCancelled",
    "ExportError",
    "Interrupted",
    "draw",
    "export",
    "frames",
    "grab",
    "offscreen_renderer",
    "parse_steps",
    "png_bytes",
    "rgb",
    "svg_bytes",
]
