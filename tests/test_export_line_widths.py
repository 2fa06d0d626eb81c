"""Lines are as wide in points in every export: a PNG at any scale, the SVG and the PDF (and a
high-DPI screen) draw the backward pass's flow lines as the PNG at scale 1 does. A cosmetic pen
counts device pixels, so a 2× picture drew them half as thick as the vector files."""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from gui import export
from gui.export.paint import PdfPages
from tests.test_export_pictures import model_for, renderer  # noqa: F401 - the renderer fixture

SIZE = (1280, 720)
#: A flow line's group in the SVG: its width in its own units and the scale its transform applies.
_FLOW = re.compile(r'<g [^>]*stroke-opacity="0\.43\d*" stroke-width="([\d.]+)" stroke-linecap="round"'
                   r'[^>]*transform="matrix\(([\d.]+),0,0,([\d.]+),')


def _flow_ink(r, picture) -> float:  # type: ignore[no-untyped-def]
    """How much the flow lines darken a picture of ``r`` (summed |difference|, per point²)."""
    on, scale = picture(r)
    r.marks.flow.setVisible(False)
    try:
        off, _ = picture(r)
    finally:
        r.marks.flow.setVisible(True)
    return float(np.abs(on - off).sum()) / scale**2


def _one_line(r) -> None:  # type: ignore[no-untyped-def]
    """Keep the widest of ``r``'s flow lines alone. On a raster device the lines are laid over together
    (a crossing does not darken), in a vector file each is its own stroke: one line inks the same."""
    fl = r.marks.flow
    k = int(np.argmax(np.abs(fl.weights)))
    fl.set_lines(fl.start, [fl.ends[k]], [fl.weights[k]])


def _png(scale: float):  # type: ignore[no-untyped-def]
    return lambda r: (export.rgb(export.grab(r, scale)).astype(float), scale)


def _svg(r) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    img = QImage(*SIZE, QImage.Format.Format_RGB32)
    img.fill(0xFFFFFFFF)
    p = QPainter(img)
    QSvgRenderer(QByteArray(export.svg_bytes(r))).render(p)
    p.end()
    return export.rgb(img).astype(float), 1.0


def _pdf(r) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    chunks: list[bytes] = []
    pages = PdfPages(r, chunks.append)
    pages.add_page()
    pages.finish()
    png = subprocess.run(["pdftoppm", "-r", "96", "-png", "-"], input=b"".join(chunks), capture_output=True,
                         check=True).stdout
    return np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(float), 1.0


def test_the_svg_writes_each_flow_line_as_wide_as_the_png_draws_it(renderer) -> None:  # noqa: F811
    m = model_for("backprop-conv", 12)
    r = renderer(SIZE)
    export.draw(r, m, 12)
    groups = _FLOW.findall(export.svg_bytes(r).decode())
    widths = sorted({round(float(w) * float(sx), 3) for w, sx, _ in groups})
    weights = [abs(w) for w in m.frame(12).flows[0].weights if w]
    assert widths == sorted({round(1.0 + 3.5 * w, 3) for w in weights})  # screen_pen's pixels, in points
    png1 = _flow_ink(r, _png(1.0))
    assert png1 > 0
    for scale in (2.0, 3.0):  # was half (a third) as thick: a cosmetic pen counts device pixels
        assert _flow_ink(r, _png(scale)) == pytest.approx(png1, rel=0.05)
    _one_line(r)
    assert _flow_ink(r, _svg) == pytest.approx(_flow_ink(r, _png(1.0)), rel=0.05)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm is not installed")
def test_the_pdf_draws_flow_lines_as_the_png_at_scale_1(renderer) -> None:  # noqa: F811
    m = model_for("backprop-conv", 12)
    r = renderer(SIZE)
    export.draw(r, m, 12)
    _one_line(r)
    assert _flow_ink(r, _pdf) == pytest.approx(_flow_ink(r, _png(1.0)), rel=0.05)
