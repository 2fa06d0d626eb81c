"""Export: one frame per step in every format, scale, headless = on screen, cancel and
refusal leave nothing behind, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel

import engine
from gui import export
from gui.models import scenario
from gui.models.lesson import Lesson
from gui.models.params import Params

ROOT = Path(__file__).resolve().parent.parent
SIZE = (320, 240)
PRESETS = scenario.list_presets()
LONG = "lenet5-c1"  # thousands of steps: exported as a range


# --------------------------------------------------------------------------- helpers
def expected_steps(p: Params) -> int:
    """Steps of a scenario from the engine's output size: one per output cell and pass."""
    x = np.zeros((p.in_c, p.in_h, p.in_w))
    if p.is_transpose:  # gather: one step per output cell; scatter: one stamp per input cell
        y = engine.conv_transpose2d(x, np.zeros((p.in_c, p.out_c, p.k_h, p.k_w)), stride=p.stride,
                                    padding=(p.padding[0], p.padding[2]), output_padding=p.output_padding,
                                    dilation=p.dilation)
        per_pass = x.size if p.transpose_view == "scatter" else y.size
        return {"forward": per_pass, "backward": y.size, "both": per_pass + y.size}[p.mode]
    if p.is_global:  # one step per channel
        return {"forward": p.in_c, "backward": p.in_c, "both": 2 * p.in_c}[p.mode]
    if p.is_conv:
        y = engine.conv2d(x, np.zeros((p.out_c, p.in_c, p.k_h, p.k_w)), stride=p.stride,
                          padding=p.engine_padding(), dilation=p.dilation, padding_mode=p.padding_mode)
        per_pass = y.size * (p.in_c * p.k_h * p.k_w if p.granularity == "tap" and p.mode == "forward" else 1)
    else:
        y = engine.pool2d(x, (p.k_h, p.k_w), op=p.op, stride=p.stride, padding=p.engine_padding(),
                          dilation=p.dilation, ceil_mode=p.ceil_mode)
        per_pass = y.size
    return {"forward": per_pass, "backward": y.size, "both": per_pass + y.size}[p.mode]


def gif_frames(path: Path) -> int:
    with Image.open(path) as im:
        assert im.format == "GIF"
        return im.n_frames


def mp4_frames(path: Path) -> tuple[int, tuple[int, int]]:
    """Frames decoded from an MP4 and their size.

    The size comes from ``imageio_ffmpeg.read_frames``'s header; the frames are counted by
    decoding every one to raw RGB with the same ffmpeg (``read_frames`` run to its end leaves
    its pipes open, which this suite's warnings-as-errors setting would report).
    """
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(gen)
    finally:
        gen.close()
    w, h = meta["size"]
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    assert len(raw) % (w * h * 3) == 0
    return len(raw) // (w * h * 3), (w, h)


def model_for(name: str) -> Lesson:
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset(name)), m.last_error
    return m


@pytest.fixture
def renderer(offscreen_renderers):  # type: ignore[no-untyped-def]
    """Offscreen renderers of ``SIZE`` unless asked (see conftest), deleted afterwards."""
    return lambda size=SIZE, theme="light": offscreen_renderers(size, theme)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- command line
CLOSE_A_USED_RENDERER = (
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication([])\n"
    "from gui import export\n"
    "from gui.models import scenario\n"
    "from gui.models.lesson import Lesson\n"
    "m = Lesson(); scenario.apply(m, scenario.load_preset('conv-stride2'))\n"
    "r = export.offscreen_renderer((320, 240))\n"
    "export.export(m, r, 'png', '{tmp}/one.png')\n"
    "r.close()\n"
    "print('closed')\n"
)
#: ``python main.py ARGS`` (or ``python -c CODE``) runs, ``{tmp}`` being a fresh folder for each.
CLI_RUNS = {
    "close-renderer": ["-c", CLOSE_A_USED_RENDERER],
    "presets": ["presets"],
    "gif": ["export", "--preset", "conv-stride2", "--format", "gif", "--out", "{tmp}/stride2.gif",
            "--size", "320x240"],
    "mp4": ["export", "--preset", "minpool-2x2", "--format", "mp4", "--out", "{tmp}/minpool.mp4",
            "--size", "320x240"],
    "unknown-preset": ["export", "--preset", "no-such-preset", "--format", "gif", "--out", "{tmp}/n.gif"],
    "empty-steps": ["export", "--preset", "conv-stride2", "--format", "gif", "--out", "{tmp}/e.gif",
                    "--steps", "5:2"],
    "screenshot": ["--preset", "backprop-conv", "--step", "12", "--screenshot", "{tmp}/window.png"],
}


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:  # type: ignore[type-arg]
    """Every command-line run this module checks, started together (each is a fresh process)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out: dict[str, tuple[object, Path]] = {}
    procs = {}
    for key, args in CLI_RUNS.items():
        tmp = tmp_path_factory.mktemp(key)
        script = [] if args[0] == "-c" else ["main.py"]
        cmd = [sys.executable, *script, *(a.replace("{tmp}", str(tmp)) for a in args)]
        procs[key] = (subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True), tmp)
    for key, (proc, tmp) in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[key] = (subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), tmp)
    return out  # type: ignore[return-value]


def test_cli_opens_a_preset_at_a_step_in_the_window(cli) -> None:
    """``convviz --preset NAME --step K --screenshot PNG``: the window opens the preset and pictures it."""
    run, tmp = cli["screenshot"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    with Image.open(tmp / "window.png") as im:
        rgb = np.asarray(im.convert("RGB"))
    assert rgb.shape[0] > 400 and rgb.shape[1] > 800
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50  # a drawn stage, not a blank window


def test_cli_presets_lists_every_preset(cli) -> None:
    run, _ = cli["presets"]
    assert run.returncode == 0, run.stderr
    names = [line.split()[0] for line in run.stdout.splitlines() if line.strip()]
    assert names == PRESETS
    assert "damaged" not in run.stdout


def test_cli_export_writes_a_gif_with_one_frame_per_step(cli) -> None:
    run, tmp = cli["gif"]
    out = tmp / "stride2.gif"
    assert out.is_file(), run.stderr
    # 5x5 input, 3x3 kernel, stride 2, no padding: 2x2 outputs.
    assert engine.output_size(5, 3, 2, 0) ** 2 == 4
    assert gif_frames(out) == 4
    with Image.open(out) as im:
        assert im.size == (320, 240)
    assert f"wrote {out}" in run.stderr
    assert "Traceback" not in run.stderr
    assert listing(tmp) == ["stride2.gif"]  # no temporary file left


def test_cli_export_writes_an_mp4_with_one_frame_per_step(cli) -> None:
    run, tmp = cli["mp4"]
    out = tmp / "minpool.mp4"
    assert out.is_file(), run.stderr
    assert mp4_frames(out) == (expected_steps(scenario.load_preset("minpool-2x2").params), (320, 240))
    assert listing(tmp) == ["minpool.mp4"]


@pytest.mark.parametrize("key", ["gif", "mp4"])
def test_cli_export_exits_zero(cli, key) -> None:
    """Regression: before 48e30c9 ``renderer.close()`` (gui/app.py:100) segfaulted after the file was
    written, so a successful export exited with -11."""
    run, _ = cli[key]
    assert run.returncode == 0, f"exit code {run.returncode}"


@pytest.mark.parametrize(("key", "words"), [
    ("unknown-preset", "no-such-preset"),
    ("empty-steps", "5:2"),
])
def test_cli_bad_arguments_fail_with_one_plain_line(cli, key, words) -> None:
    run, tmp = cli[key]
    assert run.returncode not in (0, None) and run.returncode > 0  # an exit code, not a crash
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("convviz export: ")
    assert words in lines[0]
    assert "Traceback" not in run.stderr
    assert listing(tmp) == []


# --------------------------------------------------------------------------- frames per step
@pytest.mark.parametrize("name", [n for n in PRESETS if n != LONG])
def test_each_preset_exports_one_frame_per_step(renderer, tmp_path, name) -> None:
    m = model_for(name)
    n = expected_steps(m.params)
    assert m.n_steps == n
    r = renderer()
    gif = export.export(m, r, "gif", tmp_path / "a.gif")
    assert gif_frames(gif) == n
    mp4 = export.export(m, r, "mp4", tmp_path / "a.mp4")
    assert mp4_frames(mp4) == (n, SIZE)
    assert listing(tmp_path) == ["a.gif", "a.mp4"]
    assert m.step == scenario.load_preset(name).step  # the model's own step is given back


def test_a_range_of_a_long_preset(renderer, tmp_path) -> None:
    m = model_for(LONG)
    assert m.n_steps == expected_steps(m.params) > 1000
    steps = export.parse_steps("0:12", m.n_steps)
    assert steps == range(12)
    r = renderer()
    assert gif_frames(export.export(m, r, "gif", tmp_path / "l.gif", steps=steps)) == 12
    assert mp4_frames(export.export(m, r, "mp4", tmp_path / "l.mp4", steps=steps))[0] == 12
    folder = export.export(m, r, "png", tmp_path / "frames", steps=range(100, 103))
    assert listing(folder) == ["frame_0000.png", "frame_0001.png", "frame_0002.png"]


def test_parse_steps_clamps_and_refuses() -> None:
    assert export.parse_steps("2:", 10) == range(2, 10)
    assert export.parse_steps(":3", 10) == range(0, 3)
    assert export.parse_steps("5:99", 10) == range(5, 10)
    for bad in ("9:3", "a:b", "1:2:3", "4", "20:30"):
        with pytest.raises(export.ExportError):
            export.parse_steps(bad, 10)


def test_png_at_scale_two_has_twice_the_pixels(renderer, tmp_path) -> None:
    m = model_for("conv-half-padding")
    r = renderer()
    one = export.export(m, r, "png", tmp_path / "one.png", steps=range(3, 4), scale=1)
    two = export.export(m, r, "png", tmp_path / "two.png", steps=range(3, 4), scale=2)
    with Image.open(one) as a, Image.open(two) as b:
        assert a.size == SIZE
        assert b.size == (2 * a.size[0], 2 * a.size[1])
        # Redrawn larger, not blank: the big picture has as many distinct colours' worth of detail.
        assert len(np.unique(np.asarray(b.convert("RGB")).reshape(-1, 3), axis=0)) > 20


# --------------------------------------------------------------------------- headless = on screen
def screen_and_headless(window, qtbot, settle, renderer, tmp_path, *, settle_layout: bool):  # type: ignore[no-untyped-def]
    """Step 4 of a preset as the window shows it, and as a separate offscreen renderer exports it."""
    assert window.model.load(scenario.load_preset("conv-stride2-padding").params)
    for _ in range(4):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(window)
    k = window.model.step
    assert k == 4
    screen = export.grab(window.renderer)
    size = (window.renderer.width(), window.renderer.height())
    other = Lesson()
    assert scenario.apply(other, scenario.from_model(window.model, theme=window.renderer.theme_name))
    r = renderer(size, window.renderer.theme_name)
    if settle_layout:
        # Draw the step once and let Qt run the layout request the new label texts posted.
        export.export(other, r, "png", tmp_path / "warm-up.png", steps=range(k, k + 1))
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    out = export.export(other, r, "png", tmp_path / "step.png", steps=range(k, k + 1))
    head = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB32)
    assert (head.width(), head.height()) == (screen.width(), screen.height()) == size
    return export._rgb(screen), export._rgb(head), other, r


def test_headless_export_equals_the_screen(window, qtbot, settle, renderer, tmp_path) -> None:
    """Pixel-identical (tolerance 0): the same renderer class, size, theme and device pixel ratio.

    Regression: until 4216806 ``export.draw`` grabbed before the renderer's pending layout request
    ran, so the caption/arithmetic rows kept stale heights and the grids sat ~10 px off the screen's
    (14922 pixels differed here).
    """
    a, _, other, r = screen_and_headless(window, qtbot, settle, renderer, tmp_path, settle_layout=False)
    b = export._rgb(QImage(str(tmp_path / "step.png")))
    assert (a == b).all(), f"{int((a != b).any(axis=2).sum())} pixels differ"
    # And the picture is of step 4: the next step gives a different picture.
    out2 = export.export(other, r, "png", tmp_path / "step5.png", steps=range(5, 6))
    assert (export._rgb(QImage(str(out2))) != a).any(axis=2).sum() > 100


def test_headless_export_equals_the_screen_after_a_warm_up(window, qtbot, settle, renderer, tmp_path) -> None:
    """The same renderer drawing the step a second time (layout already settled) still matches."""
    a, b, _, _ = screen_and_headless(window, qtbot, settle, renderer, tmp_path, settle_layout=True)
    assert (a == b).all(), f"{int((a != b).any(axis=2).sum())} pixels differ"


# --------------------------------------------------------------------------- cancel, refusal
@pytest.mark.parametrize("fmt", ["png", "gif", "mp4"])
def test_cancelled_export_leaves_nothing(renderer, tmp_path, fmt) -> None:
    m = model_for("conv-half-padding")
    m.set_step(7)
    seen: list[int] = []

    def progress(done: int, total: int) -> bool:
        seen.append(done)
        return done < 2  # cancel once two frames are done

    target = tmp_path / ("frames" if fmt == "png" else f"anim.{fmt}")
    with pytest.raises(export.ExportCancelled):
        export.export(m, renderer(), fmt, target, steps=range(0, 10), progress=progress)
    assert seen[-2:] == [1, 2] and set(seen[:-2]) == {0}  # a GIF ticks 0 while it works out its palette
    assert listing(tmp_path) == []
    assert m.step == 7


@pytest.mark.parametrize("fmt", ["png", "gif", "mp4", "svg"])
@pytest.mark.parametrize("where", ["missing-folder", "file-as-folder"])
def test_unwritable_path_is_refused_clearly(renderer, tmp_path, fmt, where) -> None:
    m = model_for("conv-stride2")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    parent = tmp_path / "missing" / "deeper" if where == "missing-folder" else blocker
    steps = range(0, 3) if fmt in ("gif", "mp4", "png") else None
    with pytest.raises(export.ExportError) as err:
        export.export(m, renderer(), fmt, parent / f"out.{fmt}", steps=steps)
    assert not isinstance(err.value, export.ExportCancelled)
    message = str(err.value)
    assert str(parent) in message and "\n" not in message
    assert "does not exist" in message or "cannot write" in message
    assert listing(tmp_path) == ["not-a-folder"] and blocker.read_text() == "x"


def test_gui_export_failure_is_shown_and_the_scenario_stays(window, tmp_path) -> None:
    m = window.model
    m.set_step(5)
    params, x, step = m.params, np.array(m.x), m.step
    path = tmp_path / "nowhere" / "anim.gif"
    assert window.files.run_export("gif", str(path), range(0, 4)) is False
    error = window.findChild(QLabel, "error")
    assert error.isVisible()
    assert error.text().startswith("Export failed: ")
    assert "does not exist" in error.text()
    assert (m.params, m.step) == (params, step)
    np.testing.assert_array_equal(m.x, x)
    assert window.renderer.frame.step_index == step
    assert listing(tmp_path) == []
    # A good export afterwards clears the message and writes the frames.
    good = tmp_path / "anim.gif"
    assert window.files.run_export("gif", str(good), range(0, 4))
    assert not error.isVisible()
    assert gif_frames(good) == 4
    assert m.step == step


def test_gui_export_without_a_path_asks_for_one(window) -> None:
    assert window.files.run_export("png", "", range(0, 1)) is False
    assert "choose where" in window.controls.error.text()


def test_closing_a_used_offscreen_renderer_does_not_crash(cli) -> None:
    """Regression (fixed in 48e30c9): pyqtgraph's ``GraphicsView.close`` clears the scene, then
    ``setViewport(None)`` resizes the view and ``SceneRenderer.resizeEvent`` touched the deleted items:
    a segfault (run in a child process so a crash cannot take the test run down)."""
    run, tmp = cli["close-renderer"]
    assert (tmp / "one.png").is_file()
    assert run.returncode == 0 and "closed" in run.stdout, f"exit code {run.returncode}"


def test_gui_export_never_moves_the_stage(window, qtbot, settle, tmp_path) -> None:
    """Export draws from a copy of the lesson: no step signal, the stage keeps its frame, and the
    exported picture of the current step is the stage's picture."""
    m = window.model
    assert m.load(scenario.load_preset("conv-stride2-padding").params)
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(window)
    shown = window.renderer.frame
    moved: list[int] = []
    m.step_changed.connect(moved.append)
    redrawn: list[object] = []
    original = window.renderer.show_frame
    window.renderer.show_frame = lambda f: (redrawn.append(f), original(f))  # type: ignore[method-assign]
    try:
        assert window.files.run_export("png", str(tmp_path / "frames"), range(0, m.n_steps))
        assert window.files.run_export("png", str(tmp_path / "now.png"), range(3, 4))
    finally:
        window.renderer.show_frame = original  # type: ignore[method-assign]
        m.step_changed.disconnect(moved.append)
    assert moved == [] and redrawn == []
    assert window.renderer.frame is shown and m.step == 3
    assert len(list((tmp_path / "frames").iterdir())) == m.n_steps
    screen = export._rgb(export.grab(window.renderer))
    picture = export._rgb(QImage(str(tmp_path / "now.png")))
    assert screen.shape == picture.shape
    assert (screen == picture).all(), f"{int((screen != picture).any(axis=2).sum())} pixels differ"


@pytest.mark.parametrize("size", [(321, 181), (320, 180)])
def test_an_mp4_of_odd_sides_gets_even_ones(renderer, tmp_path, size) -> None:
    """H.264 needs even sides: an odd side repeats its edge row or column (the export dialog's stage
    can be any size); even sides are kept."""
    m = model_for("conv-stride2")
    out = export.export(m, renderer(size), "mp4", tmp_path / "a.mp4", steps=range(0, 3))
    assert mp4_frames(out) == (3, (size[0] + size[0] % 2, size[1] + size[1] % 2))
