"""GIF frames compressed in a child process (``gui.models.gif_lzw``), unchanged pixels transparent:
the same blocks as in this process, every frame of an export equal to a full paint of its picture (as
Pillow and ffmpeg decode it), and no process left behind (finished, cancelled or failed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gui import export
from gui.models import gif_lzw, scenario
from gui.models.lesson import Lesson

SIZE = (320, 180)


def model_for(name: str, **params: object) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    if params:
        assert m.set_params(**params), m.last_error
    return m


@pytest.fixture
def children(monkeypatch) -> list[subprocess.Popen[bytes]]:
    """Every child process the encoders start."""
    made: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args, **kwargs):  # type: ignore[no-untyped-def]
        p = real(*args, **kwargs)
        made.append(p)
        return p

    monkeypatch.setattr(gif_lzw.subprocess, "Popen", popen)
    return made


def test_the_child_makes_the_blocks_this_process_makes(children) -> None:
    """Rectangles of every size (one pixel to a whole frame), a full and a short palette."""
    rng = np.random.default_rng(5)
    full = rng.integers(0, 256, 768, dtype=np.uint8).tobytes()
    short = rng.integers(0, 256, 3 * 40, dtype=np.uint8).tobytes()
    here = gif_lzw.BlockEncoder(in_process=True)
    with gif_lzw.BlockEncoder() as there:
        assert len(children) == 1 and children[0].poll() is None  # it really runs in a child
        for (h, w), palette in [((1, 1), full), ((7, 300), short), ((180, 320), full), ((720, 1280), short)]:
            indices = rng.integers(0, len(palette) // 3, (h, w), dtype=np.uint8)
            indices[: h // 2] = 3  # some runs, as in real frames
            assert there.encode(indices, 5, 9, palette) == here.encode(indices, 5, 9, palette), (h, w)
    assert children[0].returncode == 0  # its input ended, it exited


@pytest.mark.skipif(not hasattr(os, "getsid"), reason="POSIX sessions")
def test_a_ctrl_c_at_the_terminal_does_not_reach_the_child() -> None:
    """It runs in a session of its own (as ffmpeg does): convviz alone gets the interrupt and stops it."""
    with gif_lzw.BlockEncoder() as lzw:
        assert lzw.proc is not None
        assert os.getsid(lzw.proc.pid) == lzw.proc.pid != os.getsid(0)


def test_the_child_imports_no_qt_and_no_numpy() -> None:
    """It starts in about 50 ms: Pillow and this module, nothing of the window."""
    root = str(Path(gif_lzw.__file__).resolve().parents[2])
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import gui.models.gif_lzw; "
            "print(sorted(m for m in ('PySide6', 'shiboken6', 'pyqtgraph', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_error_in_the_child_comes_back_as_a_plain_error(children) -> None:
    with gif_lzw.BlockEncoder() as lzw:
        with pytest.raises(export.ExportError, match="the GIF encoder failed"):
            lzw.encode(np.zeros((0, 4), np.uint8), 0, 0, b"\0" * 768)  # Pillow refuses an empty picture
        assert lzw.encode(np.zeros((2, 2), np.uint8), 0, 0, b"\0" * 768)  # and the child goes on
    assert children[0].returncode == 0


def test_a_child_that_dies_stops_the_export_plainly_leaving_nothing(offscreen_renderers, tmp_path, children,
                                                                    monkeypatch) -> None:
    m = model_for("conv-stride2")
    real = gif_lzw.BlockEncoder.encode
    calls = [0]

    def dying(self, *args):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 3:
            self.proc.kill()
            self.proc.wait()
        return real(self, *args)

    monkeypatch.setattr(gif_lzw.BlockEncoder, "encode", dying)
    with pytest.raises(export.ExportError, match="the GIF encoder stopped unexpectedly"):
        export.export(m, offscreen_renderers(SIZE), "gif", tmp_path / "a.gif", steps=range(0, 8))
    assert list(tmp_path.iterdir()) == []
    assert children and all(p.poll() is not None for p in children)


@pytest.mark.parametrize("stop_at", [0, 2, None])
def test_no_child_outlives_a_gif_export(offscreen_renderers, tmp_path, children, stop_at) -> None:
    """Cancelled while the palette is worked out, after two frames, or finished: the child is gone."""
    m = model_for("conv-half-padding")

    def progress(done: int, total: int) -> bool:
        return stop_at is None or done < stop_at

    if stop_at is None:
        export.export(m, offscreen_renderers(SIZE), "gif", tmp_path / "a.gif", steps=range(0, 6),
                      progress=progress)
    else:
        with pytest.raises(export.ExportCancelled):
            export.export(m, offscreen_renderers(SIZE), "gif", tmp_path / "a.gif", steps=range(0, 6),
                          progress=progress)
    assert len(children) == 1
    assert children[0].poll() is not None  # exited (finished) or killed (cancelled), and waited for
    assert stop_at is not None or children[0].returncode == 0


@pytest.mark.parametrize(("preset", "params", "fps"), [
    ("backprop-conv", {}, 2.0),
    ("maxpool-2x2", {}, 2.0),
    ("conv-stride2-padding", {"view": "stage"}, 2.0),
    ("transposed-padding-strides", {}, 2.0),
    ("conv-half-padding", {"motion": "on"}, 10.0),  # in-between pictures of travelling products
])
def test_every_gif_frame_is_a_full_paint_of_its_picture(offscreen_renderers, tmp_path, preset, params,
                                                        fps) -> None:
    """Each decoded frame is the whole picture of its step (drawn afresh, whole) mapped onto the
    GIF's palette, pixel for pixel, though only changed rectangles were compressed, in a child."""
    m = model_for(preset, **params)
    steps = range(0, min(m.n_steps, 6))
    r = offscreen_renderers(SIZE, "dark" if preset == "maxpool-2x2" else "light")
    out = export.export(m, r, "gif", tmp_path / "a.gif", steps=steps, fps=fps)
    pictures = [export.rgb(img) for img in export.paint.movie(r, m, steps, fps)]
    if params.get("motion") == "on":
        assert len(pictures) > 2 * len(steps)
    with Image.open(out) as im:
        palette = Image.new("P", (1, 1))
        palette.putpalette(im.getpalette() or [])
        assert im.n_frames == len(pictures)
        for k in range(im.n_frames):
            im.seek(k)
            mapped = Image.fromarray(pictures[k]).quantize(palette=palette, dither=Image.Dither.NONE)
            assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(mapped.convert("RGB"))), k


def test_ffmpeg_decodes_the_frames_pillow_decodes(offscreen_renderers, tmp_path) -> None:
    """A second, independent decoder draws the transparent pixels over the previous frame the same way."""
    import imageio_ffmpeg

    m = model_for("conv-half-padding")
    out = export.export(m, offscreen_renderers(SIZE), "gif", tmp_path / "a.gif", steps=range(0, 8))
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(out), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    ff = np.frombuffer(raw, np.uint8).reshape(-1, SIZE[1], SIZE[0], 3)
    with Image.open(out) as im:
        assert im.n_frames == len(ff) == 8
        for k in range(im.n_frames):
            im.seek(k)
            assert np.array_equal(np.asarray(im.convert("RGB")), ff[k]), k
