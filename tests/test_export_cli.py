"""``convviz export`` on the command line: every argument checked with its range (one line naming the
option), a long export announced, Ctrl+C and SIGTERM ending it cleanly (exit 130/143, nothing left),
a killed run's leftovers removed by the next export; a Ctrl+C in the window is never swallowed."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gui import app
from gui.models import frames_io, outfiles, scenario
from gui.models.lesson import Lesson

ROOT = Path(__file__).resolve().parent.parent
GOOD = ["export", "--preset", "conv-stride2", "--format", "json", "--out"]


def cli(capsys, argv: list[str]) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """Run ``convviz ARGV`` in this process: exit code and the lines written to stderr."""
    try:
        code = app.main(["convviz", *argv])
    except SystemExit as stop:  # argparse ends the process on a bad argument
        code = int(stop.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--loop", "-1", "from 0 to 65535"),
    ("--loop", "70000", "from 0 to 65535"),
    ("--loop", "1.5", "whole number"),
    ("--size", "abc", "1280x720"),
    ("--size", "32x32", "64 to 8192"),
    ("--size", "1280x720x2", "1280x720"),
    ("--scale", "0", "from 1 to 4"),
    ("--scale", "5", "from 1 to 4"),
    ("--scale", "abc", "from 1 to 4"),
    ("--scale", "nan", "from 1 to 4"),
    ("--fps", "0", "from 0.1 to 60"),
    ("--fps", "61", "from 0.1 to 60"),
    ("--steps", "5", "START:STOP"),
    ("--steps", "a:b", "START:STOP"),
    ("--steps=", "-1:3", "START:STOP"),  # a value starting with "-" is given as --steps=-1:3
    ("--format", "bmp", "invalid choice"),
    ("--theme", "neon", "invalid choice"),
    ("--out", " ", "must name a file"),
    ("--preset", "", "must name a file"),
])
def test_each_argument_is_checked_and_its_error_names_it(capsys, tmp_path, option, value, words) -> None:
    """Regression: ``--loop -1``/``--loop 70000`` ended in an OverflowError traceback from the GIF writer;
    ``--size abc`` did not name the option."""
    argv = ["export", "--preset", "conv-stride2", "--format", "gif", "--out", str(tmp_path / "a.gif")]
    if option in ("--format", "--out", "--preset"):
        at = argv.index(option) + 1
        argv[at] = value
    elif option.endswith("="):
        argv.append(option + value)
        option = option[:-1]
    else:
        argv += [option, value]
    code, lines = cli(capsys, argv)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"convviz export: argument {option}") and words in lines[0], lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_missing_argument_is_named(capsys, tmp_path) -> None:
    code, lines = cli(capsys, ["export", "--preset", "conv-stride2", "--format", "gif"])
    assert code == 2 and len(lines) == 1 and "--out" in lines[0]


@pytest.mark.parametrize(("argv", "words"), [
    (["--steps", "50:60"], "--steps"),  # well formed, but this animation has 4 steps
    (["--preset", "no-such-preset"], "--preset"),
    (["--scenario", "/no/such/file.json"], "--scenario"),
])
def test_values_checked_against_the_scenario_name_the_option(capsys, tmp_path, argv, words) -> None:
    base = [*GOOD, str(tmp_path / "a.json")]
    if argv[0] in ("--preset", "--scenario"):
        base[1:3] = argv
    else:
        base += argv
    code, lines = cli(capsys, base)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"convviz export: {words}"), lines[0]
    assert list(tmp_path.iterdir()) == []


def test_the_boundary_values_are_accepted(capsys, tmp_path) -> None:
    code, lines = cli(capsys, ["export", "--preset", "conv-stride2", "--format", "gif", "--out",
                               str(tmp_path / "a.gif"), "--loop", "65535", "--fps", "60", "--size", "64x64",
                               "--steps", ":2"])
    assert code == 0, lines
    assert lines == [f"wrote {tmp_path / 'a.gif'}"]


# --------------------------------------------------------------------------- signals
#: Exports long enough to be stopped in the middle: (format, output name), a run each.
LONG = ["export", "--preset", "lenet5-c1", "--steps", "0:3000", "--size", "320x240"]
RUNS = [(fmt, sig, n) for sig in (signal.SIGINT, signal.SIGTERM)
        for fmt, repeats in (("gif", 3), ("png", 1), ("mp4", 1), ("pdf", 1), ("json", 1))
        for n in range(repeats)]


def out_name(fmt: str) -> str:
    return "frames" if fmt == "png" else f"long.{fmt}"


def stop_after_first_frame(fmt: str, sig: int, folder: Path) -> tuple[int, list[str]]:
    """Start an export in a child process, send ``sig`` once it says its first frame is done (the
    announcement of a long export), and wait for it to end: its exit code and stderr lines."""
    cmd = [sys.executable, "main.py", *LONG, "--format", fmt, "--out", str(folder / out_name(fmt))]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while (line := lines.get(timeout=120)) is not None:
            seen.append(line)
            if "frames, about" in line:
                proc.send_signal(sig)
                break
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=30)
    proc.stderr.close()  # type: ignore[union-attr]
    while (line := lines.get_nowait() if not lines.empty() else None) is not None:
        seen.append(line)
    return code, [s for s in seen if s.strip()]


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> dict[tuple[str, int, int], tuple[int, list[str], Path]]:
    """Every run of ``RUNS`` (and a SIGKILLed GIF and PNG folder), in parallel child processes."""
    runs = [*RUNS, ("gif", signal.SIGKILL, 0), ("png", signal.SIGKILL, 0)]
    folders = {r: tmp_path_factory.mktemp(f"{r[0]}-{int(r[1])}-{r[2]}") for r in runs}
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {r: pool.submit(stop_after_first_frame, r[0], r[1], folders[r]) for r in runs}
        return {r: (*f.result(), folders[r]) for r, f in futures.items()}


@pytest.mark.parametrize(("fmt", "sig", "n"), RUNS,
                         ids=[f"{f}-{signal.Signals(s).name}-{n}" for f, s, n in RUNS])
def test_a_signal_ends_the_export_cleanly(stopped, fmt, sig, n) -> None:
    code, lines, folder = stopped[(fmt, sig, n)]
    assert code == 128 + sig, (code, lines)
    assert lines[0].startswith("convviz export: 3,000 frames, about "), lines
    what = "interrupted (Ctrl+C)" if sig == signal.SIGINT else "stopped by SIGTERM"
    assert lines[1:] == [f"convviz export: {what}; nothing was written"], lines
    assert list(folder.iterdir()) == []  # no file, no temporary, no folder


@pytest.mark.parametrize("fmt", ["gif", "png"])
def test_leftovers_of_a_killed_export_are_removed_by_the_next(stopped, fmt) -> None:
    """SIGKILL cannot be caught: the run leaves its temporary (named after its process id); the next
    export into the folder recognises it and removes it."""
    code, _, folder = stopped[(fmt, signal.SIGKILL, 0)]
    assert code == -signal.SIGKILL
    left = [p.name for p in folder.iterdir()]
    assert len(left) == 1 and outfiles.LEFTOVER.match(left[0]), left
    m = Lesson()
    assert scenario.apply(m, scenario.load_preset("conv-stride2"))
    frames_io.write_frames_json(m, folder / "next.json", range(0, 2))
    assert [p.name for p in folder.iterdir()] == ["next.json"]
    assert json.loads((folder / "next.json").read_text("utf-8"))["format"] == "convviz-frames"


CTRL_C_IN_A_SLOT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui import app
qt = QApplication([])
sys.excepthook = app.report_exception  # as app.main installs it

def slot():
    raise KeyboardInterrupt  # what Python's SIGINT handler raises in whatever Python code runs

QTimer.singleShot(0, slot)
QTimer.singleShot(10000, lambda: qt.exit(5))  # a safety net, never reached when all is well
code = qt.exec()
assert not app.ERROR_LOG, app.ERROR_LOG
sys.exit(code)
"""


def test_a_ctrl_c_in_a_qt_slot_ends_the_app() -> None:
    """A KeyboardInterrupt raised inside a slot reaches ``sys.excepthook``, not the code that would
    stop: the app's hook ends the event loop with 130 and one line, instead of showing it as a
    problem and running on (in a child process: ending the event loop is for good)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", CTRL_C_IN_A_SLOT], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 130, run.stderr
    assert run.stderr.strip() == "convviz: interrupted"


def test_cli_out_ending_in_a_slash_writes_a_folder(capsys, tmp_path) -> None:
    """Regression: ``--out frames/`` with one step wrote a file called ``frames``."""
    code, lines = cli(capsys, ["export", "--preset", "conv-stride2", "--format", "png", "--out",
                               f"{tmp_path}/frames/", "--steps", "2:3", "--size", "320x240"])
    assert code == 0, lines
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["frame_0000.png"]
    code, lines = cli(capsys, ["export", "--preset", "conv-stride2", "--format", "gif", "--out",
                               f"{tmp_path}/anim/"])
    assert code == 1 and len(lines) == 1 and "names a folder" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_the_export_dialog_says_how_long_a_long_export_takes(window, tmp_path, monkeypatch) -> None:
    """The progress dialog names the frame count first, then (after the first frame) an estimate."""
    from gui.controllers import document

    said: list[str] = []

    class Recording(document.QProgressDialog):  # type: ignore[misc,name-defined]
        def __init__(self, text: str, *args: object) -> None:
            super().__init__(text, *args)
            said.append(text)

        def setLabelText(self, text: str) -> None:
            said.append(text)
            super().setLabelText(text)

    monkeypatch.setattr(document, "QProgressDialog", Recording)
    m = window.model
    assert m.load(scenario.load_preset("lenet5-c1").params)
    assert window.files.run_export("json", str(tmp_path / "long.json"), range(0, 120))
    assert said[0] == "Exporting 120 frames…"
    assert len(said) == 2 and said[1].startswith("Exporting 120 frames, about ") and said[1].endswith("…")
