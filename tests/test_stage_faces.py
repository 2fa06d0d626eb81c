"""Numbers on the stage's cell faces as painted: each one's ink lies inside its slanted face, so
neighbours never run together (the 1-D output read "−22−18"). The ink is read from the very glyph
pictures the painter blits, at the type size it noted, centred where it centres them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtGui import QImage

from gui import export
from gui.models import scenario
from gui.models.lesson import Lesson
from gui.scene.grid import glyph
from gui.scene.projection import FORE, SHEAR

SLANT = SHEAR / FORE  # a face's sides lean this far across per pixel up


def ink_box(s: str, dark: bool, size: int) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of the painted ink of glyph ``s``, relative to the picture's
    centre (where the painter puts the face's centre), in pixels."""
    pix = glyph(s, dark, size, 1.0)
    img = pix.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    alpha = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine() // 4, 4)[:, :w, 3]
    rows, cols = np.nonzero(alpha > 64)
    assert rows.size, s
    return (cols.min() - w / 2, rows.min() - h / 2, cols.max() + 1 - w / 2, rows.max() + 1 - h / 2)


def inside_face(box: tuple[float, float, float, float], px: float) -> bool:
    """Whether an upright box (relative to a face's centre, y down) lies inside the face: ``px`` wide,
    ``FORE·px`` high, its far (upper) side shifted right."""
    left, top, right, bottom = box
    if top < -FORE * px / 2 or bottom > FORE * px / 2:
        return False
    return all(-px / 2 - SLANT * y <= x <= px / 2 - SLANT * y
               for x, y in ((left, top), (left, bottom), (right, top), (right, bottom)))


def staged(name: str, **changes: object) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    if changes:
        assert m.set_params(**changes), m.last_error
    assert m.set_view("stage")
    return m


PRESENTER_ZOOM = 1.6  # what F5 sets


@pytest.mark.parametrize(("name", "changes", "step", "size", "zoom"), [
    ("conv1d-stride2", {}, 3, (1400, 860), 1.0),  # "−22", "−18" side by side on the output
    ("conv1d-stride2", {}, 3, (1920, 1080), 1.0),
    ("conv1d-stride2", {}, 3, (1920, 1080), PRESENTER_ZOOM),  # digits taller than the signal's faces
    ("conv-half-padding", {}, 24, (1400, 860), 1.0),
    ("conv-half-padding", {}, 24, (1920, 1080), PRESENTER_ZOOM),
    ("transposed-padding-strides", {}, 24, (1280, 720), 1.0),
    ("backprop-conv", {}, 17, (1400, 860), 1.0),  # dL/dX and dL/dW with three digits and a sign
    ("backprop-conv", {}, 17, (1920, 1080), PRESENTER_ZOOM),
])
def test_every_number_lies_inside_its_face(offscreen_renderers, name, changes, step, size, zoom) -> None:
    m = staged(name, **changes)
    r = offscreen_renderers(size)
    r.set_theme("light", zoom=zoom)
    export.draw(r, m, step)
    export.grab(r)  # painted: the painter notes the type sizes it used
    f = m.frame(step)
    checked = 0
    for pname, type_px in r.stage.number_px.items():
        panel = f.panel(pname)
        assert panel is not None
        px = r.stage.cell_px[pname]
        render = r.stage._render(panel, panel.grids[panel.front])
        for s, dark in render.groups:
            box = ink_box(s, dark, type_px)
            assert inside_face(box, px), (pname, s, type_px, px, box)
            assert box[2] - box[0] < 0.95 * px  # clear of the next cell's number
            checked += 1
    assert {"output" if f.phase != "backward" else "dx"} <= set(r.stage.number_px) and checked > 5


@pytest.mark.parametrize(("name", "step"), [("global-avg-pool", 2), ("backprop-conv", 12)])
def test_the_arrows_leave_the_number_they_start_on_readable(offscreen_renderers, name, step) -> None:
    """The arrows from a dL/dY cell start on its number (global average pooling: 16 of them hid its
    "1"): its number is painted over them, pixel for pixel as without them."""
    m = staged(name, mode="backward")
    r = offscreen_renderers((1400, 860))
    f = m.frame(step)
    fl = f.flows[0]

    def picture(frame: object) -> np.ndarray:
        r.show_frame(frame)
        r.glide(1.0)
        r.settle()
        return export.rgb(export.grab(r)).astype(int)

    with_arrows, without = picture(f), picture(dataclasses.replace(f, flows=()))
    assert np.abs(with_arrows - without).sum() > 0  # the arrows are drawn
    type_px = r.stage.number_px
    s = f.panel(fl.panel).grids[fl.grid].labels[fl.cell]
    at = r.cell_center(fl.panel, fl.grid, *fl.cell)
    img = grid_glyph_alpha(s, type_px[fl.panel])
    h, w = img.shape
    x0, y0 = round(at.x() - w / 2), round(at.y() - h / 2)
    ink = img > 200  # the glyph's solid pixels: the number itself
    assert ink.sum() > 10
    a = with_arrows[y0:y0 + h, x0:x0 + w][ink]
    b = without[y0:y0 + h, x0:x0 + w][ink]
    assert np.abs(a - b).max() < 40, (fl.panel, fl.cell, s)


def grid_glyph_alpha(s: str, size: int) -> np.ndarray:
    """The alpha of the picture the painter blits for label ``s`` at ``size`` pixels."""
    img = glyph(s, False, size, 1.0).toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    return np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine() // 4, 4)[:, :w, 3].copy()


@pytest.mark.parametrize(("name", "step"), [("conv1d-stride2", 3), ("depthwise", 5), ("lenet5-c1", 0)])
def test_every_kernel_box_shares_one_type_size(offscreen_renderers, name, step) -> None:
    """W[0]'s "0 0 1" stood larger than W[1]'s "2 2 −1": each box was sized for its own labels. One
    size for every box, and every box's numbers inside their faces."""
    m = staged(name)
    r = offscreen_renderers((1920, 1080))
    export.draw(r, m, step)
    export.grab(r)
    kernel = m.frame(step).panel("kernel")
    sizes = r.stage.box_number_px
    assert set(sizes) == set(range(len(kernel.stacks))) and len(set(sizes.values())) == 1, sizes
    px = r.stage.cell_px["kernel"]
    for k, stack in enumerate(kernel.stacks):
        render = r.stage._render(kernel, stack[kernel.front])
        for s, dark in render.groups:
            assert inside_face(ink_box(s, dark, sizes[k]), px), (k, s)
