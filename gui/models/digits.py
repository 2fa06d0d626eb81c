"""The trained LeNet-5 that reads digits: its weights, its input, its probabilities, sample digits.

Qt-free. The weights are ``resources/lenet5_digits.npz`` (written by
``python -m engine.train``, in ``Network.init_weights`` layout: arrays
``w0, b0, w3, b3, …`` named by layer index); the sample digits are
``resources/digit_samples.npz`` (``labels (K,)``, ``images (K, 32, 32)``,
held-out digits already in the training preprocessing). When the weights are
not shipped, ``trained_lenet5`` gives seeded random weights and
``is_trained()`` is False, so the app can say so.

A drawing canvas reads best with a pen about 1/20 to 1/10 of its side wide
(14–28 px on 280×280): ``benchmarks/bench_digits.py`` reads thinner strokes
less often. scikit-learn's writers put a bar on their 7s and no foot on their
1s; a 7 without a bar is often read as a 3.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import numpy as np

from engine.network import Network, lenet5
from engine.preprocess import digit_input as _digit_input

from . import resources

__all__ = [
    "SAMPLES_FILE",
    "WEIGHTS_FILE",
    "DigitPictureError",
    "Weights",
    "digit_input",
    "is_trained",
    "load_weights",
    "probabilities",
    "read_picture",
    "sample_digits",
    "softmax",
    "trained_lenet5",
]

WEIGHTS_FILE = "lenet5_digits.npz"
SAMPLES_FILE = "digit_samples.npz"
#: The largest picture ``read_picture`` decodes (4096×4096).
MAX_PICTURE_PIXELS = 4096 * 4096
#: Seed of the stand-in random weights used while no trained weights are shipped.
FALLBACK_SEED = 0

Weights = list[tuple[np.ndarray, np.ndarray] | None]


def load_weights(net: Network, arrays: dict[str, np.ndarray]) -> Weights:
    """Weights in ``init_weights`` layout from arrays named ``w{k}``/``b{k}`` by layer index ``k``.

    Raises
    ------
    ValueError
        When an array is missing or has the wrong shape (the message names it).
    """
    template = net.init_weights(0)
    out: Weights = []
    for k, pair in enumerate(template):
        if pair is None:
            out.append(None)
            continue
        loaded = []
        for name, want in ((f"w{k}", pair[0]), (f"b{k}", pair[1])):
            if name not in arrays:
                raise ValueError(f"the weights file has no {name!r} (layer {k + 1})")
            a = np.asarray(arrays[name], dtype=float)
            if a.shape != want.shape:
                raise ValueError(f"{name!r} has shape {a.shape}, layer {k + 1} needs {want.shape}")
            loaded.append(a)
        out.append((loaded[0], loaded[1]))
    return out


@functools.cache
def _load() -> tuple[Weights, bool]:
    """The shipped weights and True, or seeded random weights and False when none are shipped."""
    net = lenet5()
    try:
        path = resources.data_path(WEIGHTS_FILE)
    except KeyError:
        return net.init_weights(FALLBACK_SEED), False
    try:
        with np.load(path) as f:
            arrays = {name: f[name] for name in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"the shipped LeNet-5 weights ({path.name}) cannot be read: {exc}") from None
    return load_weights(net, arrays), True


def trained_lenet5() -> tuple[Network, Weights]:
    """LeNet-5 and its trained weights (fresh copies: the caller may change them).

    Returns
    -------
    (Network, list)
        ``engine.network.lenet5()`` and, per layer, ``(w, b)`` or None.
    """
    weights, _ = _load()
    return lenet5(), [None if p is None else (p[0].copy(), p[1].copy()) for p in weights]


def is_trained() -> bool:
    """True when the weights are the shipped trained ones, False for the random stand-in."""
    return _load()[1]


def digit_input(picture: np.ndarray) -> np.ndarray:
    """LeNet-5's input ``(1, 32, 32)`` for a grey picture ``(H, W)`` of one digit.

    Exactly the training preprocessing (``engine.preprocess.digit_input``):
    dark-on-light or light-on-dark detected, ink cropped, scaled into a 20×20
    box keeping its aspect ratio, centred by mass; ink 1 on 0. A blank picture
    gives zeros.
    """
    return _digit_input(picture)


def softmax(z: np.ndarray) -> np.ndarray:
    """``exp(z) / Σ exp(z)`` along the last axis, computed without overflow."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def probabilities(x: np.ndarray) -> np.ndarray:
    """The trained LeNet-5's class probabilities (softmax of its 10 scores).

    Parameters
    ----------
    x : ndarray, shape (1, 32, 32)
        From ``digit_input``.

    Returns
    -------
    ndarray, shape (10,)
        Probability of each digit 0–9; they sum to 1.
    """
    net, weights = lenet5(), _load()[0]
    return softmax(net.forward(x, weights)[-1])


@functools.cache
def _samples() -> tuple[tuple[int, np.ndarray], ...]:
    try:
        path = resources.data_path(SAMPLES_FILE)
    except KeyError:
        return ()
    with np.load(path) as f:
        labels, images = np.asarray(f["labels"], dtype=int), np.asarray(f["images"], dtype=float)
    return tuple((int(d), img) for d, img in zip(labels, images, strict=True))


def sample_digits() -> list[tuple[int, np.ndarray]]:
    """Held-out digits to start from: ``(digit, picture (32, 32))`` pairs, in 0–9 order.

    The pictures are already in the training preprocessing (ink 1 on 0):
    ``picture[None]`` is the network's input (``digit_input(picture)``, e.g.
    after drawing on it, crops its faint edge and is read as the same digit).
    Empty when no samples are shipped.
    """
    return [(d, img.copy()) for d, img in _samples()]


class DigitPictureError(ValueError):
    """A picture file that cannot be read; the message says why in plain words."""


def read_picture(path: str | Path) -> np.ndarray:
    """The grey levels ``(H, W)`` of a PNG, JPEG or BMP file (decoded by Pillow; transparency is paper).

    Raises
    ------
    DigitPictureError
        For a missing file, a folder, an unreadable, damaged or too large picture, or no Pillow.
    """
    p = Path(path)
    if not p.exists():
        raise DigitPictureError(f"there is no file {str(p)!r}")
    if p.is_dir():
        raise DigitPictureError(f"{str(p)!r} is a folder, not a picture")
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DigitPictureError("reading pictures needs Pillow: pip install 'convviz[export]'") from None
    try:
        with Image.open(p) as img:
            if img.format not in ("PNG", "JPEG", "BMP"):
                raise DigitPictureError(f"{p.name} is a {img.format} picture; use PNG, JPEG or BMP")
            if img.width * img.height > MAX_PICTURE_PIXELS:
                raise DigitPictureError(f"{p.name} is too large ({img.width}×{img.height} pixels); a digit "
                                        f"needs at most {MAX_PICTURE_PIXELS:,} pixels")
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = np.asarray(Image.alpha_composite(paper, rgba).convert("L"), dtype=float)
            else:
                grey = np.asarray(img.convert("L"), dtype=float)
    except UnidentifiedImageError:
        raise DigitPictureError(f"{p.name} is not a picture convviz can read (PNG, JPEG or BMP)") from None
    except Image.DecompressionBombError:
        raise DigitPictureError(f"{p.name} is too large to read") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged data
        raise DigitPictureError(f"{p.name} is damaged or incomplete and cannot be read ({exc})") from None
    return grey
