"""A picture of presenter mode (F5) at a lecture hall's 1920x1080, made by the app itself.

Run from the checkout (offscreen, no display needed)::

    .venv/bin/python benchmarks/presenter_screenshot.py --preset backprop-conv --step 12 \\
        --out resources/screenshot-presenter-backward.png

The window is built, put in presenter mode exactly as F5 does, given the whole
1920x1080 screen (Qt's offscreen platform with a screen of that
size) and grabbed once the stage has been laid out and painted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="backprop-conv")
    ap.add_argument("--step", type=int, default=12, help="0-based step")
    ap.add_argument("--size", default="1920x1080", metavar="WxH")
    ap.add_argument("--zoom", type=float, default=None, help="text zoom (default: presenter mode's own)")
    ap.add_argument("--theme", default=None)
    ap.add_argument("--view", choices=("flat", "stage"), default=None, help="default: the preset's own")
    ap.add_argument("--out", default=str(ROOT / "resources" / "screenshot-presenter-backward.png"))
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    if "QT_QPA_PLATFORM" not in os.environ:
        # Qt's offscreen platform with one screen of the hall's size: full screen is that size.
        screen = {"name": "hall", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96,
                  "logicalBaseDpi": 96, "dpr": 1}
        config = Path(tempfile.mkdtemp(prefix="convviz-")) / "screen.json"
        config.write_text(json.dumps({"windowFrameMargins": False, "screens": [screen]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"

    from gui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication(["convviz"])
    win = MainWindow(settings=None)
    if not win.files.open_preset(args.preset):
        sys.stderr.write(f"presenter_screenshot: {win.status.text()}\n")
        return 1
    if args.theme:
        win.set_theme(args.theme)
    if args.view:
        win.model.set_view(args.view)
    win.model.set_step(args.step)
    win.show()
    win.toggle_presenter()
    if args.zoom is not None:
        win.set_zoom(args.zoom)
    for _ in range(5):
        app.processEvents()
    if (win.width(), win.height()) != (width, height):  # a platform whose screen is another size
        win.showNormal()
        win.resize(width, height)
        for _ in range(5):
            app.processEvents()
    ok = win.grab().save(args.out)
    win.toggle_presenter()
    win.close()
    if not ok:
        sys.stderr.write(f"presenter_screenshot: could not write {args.out}\n")
        return 1
    print(f"wrote {args.out} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
