"""``--motion on|off|auto`` on the app and on ``convviz export``: the setting wins over the scenario's,
and a GIF exported with motion on holds the in-between pictures (counted), off holds one per step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gui.app import export_args, parse_args
from gui.models.motion import export_per_step

ROOT = Path(__file__).resolve().parent.parent


def test_the_command_line_takes_a_motion_setting() -> None:
    assert parse_args(["--preset", "conv-stride2", "--motion", "on"]).motion == "on"
    assert parse_args([]).motion is None
    a = export_args(["--preset", "conv-stride2", "--format", "gif", "--out", "x.gif", "--motion", "off"])
    assert a.motion == "off"
    with pytest.raises(SystemExit):
        export_args(["--preset", "conv-stride2", "--format", "gif", "--out", "x.gif", "--motion", "fast"])


def _gif(tmp: Path, *extra: str) -> int:
    out = tmp / f"m{'-'.join(extra) or 'default'}.gif"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "main.py", "export", "--preset", "conv-stride2", "--format", "gif",
                          "--out", str(out), "--size", "320x240", "--steps", "0:2", "--fps", "2", *extra],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    with Image.open(out) as im:
        return int(im.n_frames)


def test_export_motion_flag_sets_the_gif_frame_count(tmp_path: Path) -> None:
    per_step = export_per_step("on", 2.0)
    assert per_step > 1
    assert _gif(tmp_path, "--motion", "on") == 2 * per_step  # two steps, each with its in-between pictures
    assert _gif(tmp_path, "--motion", "off") == 2
    assert _gif(tmp_path) == 2  # the preset's own setting: auto, no presenter in an export
