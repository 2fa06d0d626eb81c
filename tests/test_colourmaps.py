"""The stage's colour maps are pyqtgraph's, read from ``resources/colourmaps/luts.json`` without pyqtgraph.

The file holds each map's 256-entry lookup table (``ColorMap.getLookupTable(0, 1, 256)``); run this
module as a script to write it again: ``python tests/test_colourmaps.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg

from gui.models.choices import THEME_COLOUR_MAPS
from gui.scene.colour import apply_lut, lut_bytes
from gui.scene.theme import colour_map, load_colour_map

ROOT = Path(__file__).resolve().parents[1]
LUTS = ROOT / "resources" / "colourmaps" / "luts.json"


def map_names() -> list[str]:
    """Every colour map a theme names."""
    return sorted({n for maps in THEME_COLOUR_MAPS.values() for n in maps.values()})


def pyqtgraph_lut(name: str) -> np.ndarray:
    """pyqtgraph's own 256 RGBA bytes of map ``name``, shape (256, 4)."""
    return np.asarray(pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=True, mode="byte"), np.uint8)


def write_luts() -> None:
    """Write every theme's maps into ``LUTS`` (RGB bytes as hex; every map is opaque)."""
    maps = {}
    for name in map_names():
        lut = pyqtgraph_lut(name)
        assert (lut[:, 3] == 255).all(), name
        maps[name] = lut[:, :3].tobytes().hex()
    text = {"format": "convviz-colour-maps", "version": 1,
            "source": f"pyqtgraph {pg.__version__} ColorMap.getLookupTable(0, 1, 256)", "maps": maps}
    LUTS.write_text(json.dumps(text, indent=1) + "\n", encoding="utf-8")


def test_every_theme_map_is_pyqtgraphs() -> None:
    for name in map_names():
        assert np.array_equal(lut_bytes(load_colour_map(name)), pyqtgraph_lut(name)), name


def test_values_map_like_pyqtgraph() -> None:
    norm = np.linspace(0.0, 1.0, 1001).reshape(7, 143)
    for theme in THEME_COLOUR_MAPS:
        cm = colour_map(theme, "output")
        assert np.array_equal(apply_lut(cm, norm), apply_lut(pg.colormap.get(cm.name), norm)), theme


def test_main_window_starts_without_pyqtgraph() -> None:
    """The main window's whole import path (and building it) leaves pyqtgraph unloaded."""
    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "from gui.mainwindow import MainWindow\n"
            "app = QApplication([])\n"
            "w = MainWindow(); w.show(); app.processEvents()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyqtgraph'))\n"
            "w.close()\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


if __name__ == "__main__":
    write_luts()
    print(f"wrote {LUTS}")
