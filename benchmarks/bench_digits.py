"""How well the shipped LeNet-5 reads digits that are not scikit-learn's: drawn strokes and font glyphs.

Run from the repository root (needs Pillow)::

    .venv/bin/python benchmarks/bench_digits.py [--weights FILE.npz] [--save FOLDER]

Two families of pictures, all dark ink on white paper on a 280×280 canvas,
each put through ``digit_input`` exactly as the app and ``convviz classify`` do:

* **strokes**: every digit as pen paths a person might draw with a mouse (two
  or three shapes per digit: a 1 with or without a flag, a 7 with or without
  a bar, a closed or open 4, …), drawn with Pillow's lines at three pen widths,
  each randomly turned (±10°), slanted, stretched and placed (seeded);
* **fonts**: the ten digits of the installed TrueType/OpenType fonts (DejaVu,
  URW, Noto) at one size; fonts are not handwriting, so this is the harder set.

It prints right/total per family and per digit and lists the misses.
``--save`` writes a contact sheet of the pictures with the network's answers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.network import lenet5  # noqa: E402
from gui.models.digits import digit_input, load_weights, softmax  # noqa: E402

SIDE = 280
FONTS = sorted(p for folder in ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype")
               for p in Path(folder).rglob("*") if p.suffix in (".ttf", ".otf")
               and not any(s in p.name for s in ("Symbol", "Math", "Fallback", "D050000L", "Z003")))

Path2 = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> Path2:
    """Points on an ellipse from angle ``a0`` to ``a1`` (degrees, anticlockwise as seen, y down)."""
    t = np.deg2rad(np.linspace(a0, a1, n))
    return list(zip(cx + rx * np.cos(t), cy - ry * np.sin(t), strict=True))


#: Pen paths per digit, in a unit box (x right, y down); each shape is a list of strokes.
SHAPES: dict[int, list[list[Path2]]] = {
    0: [[arc(0.5, 0.5, 0.3, 0.45, 90, 450)], [arc(0.5, 0.5, 0.35, 0.45, 100, 470)]],
    1: [[[(0.5, 0.05), (0.5, 0.95)]], [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)]],
        [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]]],
    2: [[[*arc(0.5, 0.3, 0.3, 0.25, 160, -20), (0.15, 0.95), (0.85, 0.95)]],
        [[*arc(0.5, 0.32, 0.32, 0.27, 170, -40), (0.2, 0.92), (0.4, 0.85), (0.85, 0.95)]]],
    3: [[arc(0.5, 0.27, 0.3, 0.22, 150, -90) + arc(0.5, 0.72, 0.33, 0.23, 90, -150)],
        [[(0.2, 0.05), (0.8, 0.05), (0.45, 0.4), *arc(0.5, 0.68, 0.33, 0.27, 80, -150)]]],
    4: [[[(0.65, 0.95), (0.65, 0.05), (0.15, 0.65), (0.85, 0.65)]],
        [[(0.2, 0.05), (0.15, 0.6), (0.85, 0.6)], [(0.65, 0.3), (0.65, 0.95)]]],
    5: [[[(0.8, 0.05), (0.25, 0.05), (0.22, 0.45), *arc(0.48, 0.68, 0.3, 0.27, 130, -150)]],
        [[(0.25, 0.05), (0.22, 0.45), *arc(0.48, 0.68, 0.3, 0.27, 130, -150)], [(0.25, 0.05), (0.8, 0.05)]]],
    6: [[arc(0.75, 0.55, 0.5, 0.5, 100, 200) + arc(0.5, 0.72, 0.27, 0.23, 180, -180)],
        [[(0.7, 0.05), (0.25, 0.6), *arc(0.5, 0.72, 0.27, 0.23, 160, -200)]]],
    7: [[[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
        [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.35, 0.5), (0.8, 0.5)]]],
    8: [[arc(0.5, 0.27, 0.25, 0.22, -90, 270) + arc(0.5, 0.72, 0.3, 0.25, 90, -270)],
        [arc(0.5, 0.27, 0.22, 0.22, 0, 360), arc(0.5, 0.72, 0.3, 0.25, 0, 360)]],
    9: [[[*arc(0.5, 0.3, 0.28, 0.23, 0, 360), (0.78, 0.3), (0.7, 0.95)]],
        [arc(0.5, 0.3, 0.28, 0.23, -10, 370) + arc(0.3, 0.3, 0.48, 0.65, 0, -70)]],
}


def draw_strokes(strokes: list[Path2], width: int, rng: np.random.Generator) -> np.ndarray:
    """One drawing: the strokes turned, slanted, stretched and placed at random, dark on white."""
    turn = np.deg2rad(rng.uniform(-10, 10))
    m = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    m = m @ np.array([[1.0, rng.uniform(-0.25, 0.1)], [0.0, 1.0]]) @ np.diag(
        [rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.1)])
    size = rng.uniform(120, 200)
    centre = np.array([SIDE / 2, SIDE / 2]) + rng.uniform(-30, 30, size=2)
    img = Image.new("L", (SIDE, SIDE), 255)
    pen = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [tuple(centre + size * (m @ (np.array(p) - 0.5))) for p in stroke]
        pen.line(pts, fill=0, width=width, joint="curve")
        for x, y in (pts[0], pts[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=0)
    return np.asarray(img, dtype=float)


def stroke_pictures(seed: int = 0, per_shape: int = 3) -> Iterator[tuple[str, int, np.ndarray]]:
    """``("pen W px", digit, picture)`` for every shape, pen width (6, 14, 24 px) and random placing."""
    rng = np.random.default_rng(seed)
    for digit, shapes in SHAPES.items():
        for shape in shapes:
            for width in (6, 14, 24):
                for _ in range(per_shape):
                    yield f"pen {width} px", digit, draw_strokes(shape, width, rng)


def font_pictures() -> Iterator[tuple[str, int, np.ndarray]]:
    """``("fonts", digit, picture)`` for every digit of every installed font."""
    for path in FONTS:
        font = ImageFont.truetype(str(path), 160)
        for digit in range(10):
            img = Image.new("L", (SIDE, SIDE), 255)
            ImageDraw.Draw(img).text((SIDE / 2, SIDE / 2), str(digit), fill=0, font=font, anchor="mm")
            yield f"fonts/{path.stem}", digit, np.asarray(img, dtype=float)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=ROOT / "resources" / "lenet5_digits.npz")
    ap.add_argument("--save", type=Path, help="folder for contact sheets (strokes.png, fonts.png)")
    args = ap.parse_args()
    net = lenet5()
    with np.load(args.weights) as f:
        weights = load_weights(net, {k: f[k] for k in f.files})
    for family, pictures in (("strokes", stroke_pictures()), ("fonts", font_pictures())):
        right, total, per_digit, misses, tiles = 0, 0, np.zeros((10, 2), int), [], []
        per_name: dict[str, list[int]] = {}
        for name, digit, pic in pictures:
            x = digit_input(pic)
            p = softmax(net.forward(x, weights)[-1])
            guess = int(p.argmax())
            ok = guess == digit
            right, total = right + ok, total + 1
            per_digit[digit] += (ok, 1)
            per_name.setdefault(name, [0, 0])
            per_name[name][0] += ok
            per_name[name][1] += 1
            if not ok:
                misses.append(f"{name}: {digit} read as {guess} ({p[guess]:.2f})")
            tiles.append((x[0], ok))
        print(f"{family}: {right}/{total} right ({right / total:.1%})")
        print("  per digit: " + ", ".join(f"{d}: {r}/{t}" for d, (r, t) in enumerate(per_digit)))
        if len(per_name) <= 5:
            print("  " + ", ".join(f"{n}: {r}/{t}" for n, (r, t) in per_name.items()))
        for m in misses[:40]:
            print("  miss " + m)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            _sheet(tiles, args.save / f"{family}.png")
    return 0


def _sheet(tiles: list[tuple[np.ndarray, bool]], path: Path, cols: int = 20) -> None:
    """The prepared inputs in a grid; a miss gets a grey frame."""
    rows = -(-len(tiles) // cols)
    sheet = np.zeros((rows * 34, cols * 34))
    for k, (t, ok) in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * 34:(r + 1) * 34, c * 34:(c + 1) * 34] = 0.0 if ok else 0.5
        sheet[r * 34 + 1:r * 34 + 33, c * 34 + 1:c * 34 + 33] = t
    Image.fromarray((sheet * 255).astype(np.uint8)).resize((cols * 68, rows * 68)).save(path)


if __name__ == "__main__":
    raise SystemExit(main())
