"""What the pipeline's digit panel shows: class probabilities as bars, and a saliency map. No Qt.

``predict`` turns a network's class scores into a ``Prediction``: the softmax
probabilities, the winner, and one ``ClassBar`` per class with every word the
bars show (``"7"``, ``"97.3%"``, the winner marked). ``saliency`` is the
gradient of one class score with respect to the input picture (the engine's
whole-network backward pass, ``engine.netgrad``), with its title and the
symmetric colour levels the picture is drawn with (positive: more ink there
raises the score; negative: lowers it). The Qt widgets paint these and decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import network as nw
from engine.netgrad import network_backward

from .digits import softmax

__all__ = [
    "MAX_CLASSES", "ClassBar", "Kernels", "Prediction", "Saliency", "class_gradient", "headline", "kernels",
    "predict", "saliency",
]

#: Most classes drawn as labelled bars (a longer output vector is not a class score list).
MAX_CLASSES = 32


@dataclass(frozen=True)
class ClassBar:
    """One class's bar.

    Attributes
    ----------
    label : str
        The class, e.g. ``"7"``.
    probability : float
        Its softmax probability, 0 to 1 (the bar's length).
    text : str
        The number written beside the bar, e.g. ``"97.3%"`` (``"<0.1%"`` for a sliver).
    winner : bool
        The most probable class (the first, when several tie).
    """

    label: str
    probability: float
    text: str
    winner: bool


@dataclass(frozen=True, eq=False)
class Prediction:
    """The classes the network's scores pick.

    Attributes
    ----------
    scores : ndarray, shape (N,)
        The last layer's outputs (logits).
    probabilities : ndarray, shape (N,)
        ``softmax(scores)``.
    winner : int
    bars : list of ClassBar
        One per class, class 0 first.
    headline : str
        E.g. ``"LeNet-5 reads 7 (97.3%)"``.
    """

    scores: np.ndarray
    probabilities: np.ndarray
    winner: int
    bars: list[ClassBar]
    headline: str


@dataclass(frozen=True, eq=False)
class Saliency:
    """The gradient of one class score with respect to the input.

    Attributes
    ----------
    target : int
        The class whose score is differentiated.
    gradient : ndarray, shape (C, H, W)
        ``d score[target] / d x``.
    picture : ndarray, shape (H, W)
        What is drawn: the gradient summed over channels.
    levels : (float, float)
        ``(−m, m)`` with ``m`` the largest magnitude (1 when all are zero), so 0 is the middle colour.
    ink : ndarray, shape (H, W)
        The input, averaged over channels and scaled to 0–1 (0 where it is constant): drawn as a
        faint shadow over the gradient so the digit can be found in it.
    title : str
    """

    target: int
    gradient: np.ndarray
    picture: np.ndarray
    levels: tuple[float, float]
    ink: np.ndarray
    title: str


@dataclass(frozen=True, eq=False)
class Kernels:
    """The first convolution's kernels, drawn as small signed pictures.

    Attributes
    ----------
    kernels : ndarray, shape (n, kh, kw)
        Each kernel summed over its input channels (one channel for LeNet-5's C1).
    levels : (float, float)
        ``(−m, m)``, ``m`` the largest magnitude: one colour scale for all, 0 in the middle.
    title : str
        E.g. ``"Layer 1's 6 trained 5×5 kernels"``.
    """

    kernels: np.ndarray
    levels: tuple[float, float]
    title: str


def kernels(index: int, w: np.ndarray, trained: bool) -> Kernels:
    """The kernels ``w (C_out, C_in, kh, kw)`` of layer ``index`` (0-based) as ``Kernels``."""
    k = np.asarray(w, dtype=float).sum(axis=1)
    m = float(np.abs(k).max()) if k.size else 0.0
    n, kh, kw = k.shape
    what = "trained" if trained else "random"
    title = (f"Layer {index + 1}'s {n} {what} {kh}×{kw} kernels (open layer {index + 1} in the main window "
             "to read their numbers)")
    return Kernels(k, (-m, m) if m > 0 else (-1.0, 1.0), title)


def percent(p: float) -> str:
    """A probability as legible text: ``"97.3%"``, ``"100%"``, ``"<0.1%"`` or ``"0%"``."""
    if p <= 0.0:
        return "0%"
    if p < 0.0005:
        return "<0.1%"
    if p >= 0.9995:
        return "100%" if p >= 1.0 else ">99.9%"
    return f"{100 * p:.1f}%"


def predict(scores: np.ndarray, name: str = "the network") -> Prediction | None:
    """Probabilities, winner and bars for class scores ``(N,)``; None when they are no class list.

    Parameters
    ----------
    scores : ndarray, shape (N,)
        ``2 <= N <= MAX_CLASSES``; class ``k`` is labelled ``str(k)``.
    name : str
        Who reads, for the headline.
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1 or not 2 <= s.size <= MAX_CLASSES or not np.isfinite(s).all():
        return None
    p = softmax(s)
    winner = int(np.argmax(p))
    bars = [ClassBar(str(k), float(v), percent(float(v)), k == winner) for k, v in enumerate(p)]
    return Prediction(s, p, winner, bars, f"{name} reads {winner} ({percent(float(p[winner]))})")


def headline(prediction: Prediction | None, blank: bool) -> str:
    """The digit panel's headline: what the network reads, or what to do.

    Parameters
    ----------
    prediction : Prediction or None
        None when the last stage is no list of class scores.
    blank : bool
        Nothing is drawn and the input is all zeros.
    """
    if prediction is None:
        return "No class scores: the last stage is not a short vector"
    return "Draw a digit on the canvas" if blank else prediction.headline


def class_gradient(net: nw.Network, weights: list[tuple[np.ndarray, np.ndarray] | None],
                   outputs: list[np.ndarray], target: int) -> np.ndarray:
    """``d outputs[-1][target] / dx``: how each input cell moves one class score.

    Parameters
    ----------
    net, weights, outputs
        A working network, its weights and ``net.forward``'s stage outputs.
    target : int
        Index into the last output, which must be a vector ``(N,)``.

    Returns
    -------
    ndarray, shape ``net.input_shape``
    """
    last = outputs[-1]
    if len(outputs) != len(net.layers) + 1 or last.ndim != 1 or not 0 <= target < last.size:
        raise ValueError(f"class {target} is not an element of the network's output")
    seed = np.zeros_like(last)
    seed[target] = 1.0
    return network_backward(net, weights, outputs, seed)[1]


def saliency(net: nw.Network, weights: list[tuple[np.ndarray, np.ndarray] | None],
             outputs: list[np.ndarray], target: int) -> Saliency:
    """The gradient of class score ``target`` with respect to the input, ready to draw.

    Parameters
    ----------
    net, weights, outputs
        A working network, its weights and ``net.forward``'s stage outputs.
    target : int
        A class (index into the last output).
    """
    g = class_gradient(net, weights, outputs, target)
    picture = g.sum(axis=0)
    m = float(np.abs(picture).max())
    levels = (-m, m) if m > 0 else (-1.0, 1.0)
    x = outputs[0].mean(axis=0)
    span = float(x.max() - x.min())
    ink = (x - x.min()) / span if span > 0 else np.zeros_like(x)
    title = (f"d score[{target}] / d input: + where ink raises the score, − where it lowers it "
             "(the input shaded over it)")
    return Saliency(target, g, picture, levels, ink, title)
