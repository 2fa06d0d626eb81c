"""Where a pipeline's weights come from: LeNet-5's trained ones where the stack matches it, else random.

``weights_for`` gives a working network its weights: with ``"trained"``
chosen, every leading layer that is the trained LeNet-5's own (same input
shape, same layers up to it) takes its trained weights
(``gui.models.digits``), and the layers from the first difference on take
seeded random ones (``Network.init_weights``); with ``"random"``, all are
random. ``weights_text`` says which, in words. No Qt.
"""

from __future__ import annotations

from typing import Literal

from engine import network as nw

from . import digits

__all__ = ["WEIGHTS_KINDS", "WeightsKind", "weights_for", "weights_text"]

#: Where the weights come from: LeNet-5's trained ones (where the stack matches it) or seeded random ones.
WeightsKind = Literal["trained", "random"]
WEIGHTS_KINDS: tuple[WeightsKind, ...] = ("trained", "random")


def weights_for(net: nw.Network, seed: int, kind: WeightsKind) -> tuple[digits.Weights, int]:
    """Weights for a working ``net`` and how many leading layers have trained ones.

    Parameters
    ----------
    net : Network
        Every layer works (``net.check()`` is None).
    seed : int
        Seed of the random weights.
    kind : {"trained", "random"}

    Returns
    -------
    weights : list
        ``init_weights`` layout: ``(w, b)`` per conv and dense layer, else None.
    n_trained : int
        The first ``n_trained`` layers carry the trained LeNet-5's weights.
    """
    weights = net.init_weights(seed)
    if kind != "trained":
        return weights, 0
    trained_net, trained = digits.trained_lenet5()
    if tuple(net.input_shape) != tuple(trained_net.input_shape):
        return weights, 0
    n = 0
    for mine, theirs in zip(net.layers, trained_net.layers, strict=False):
        if mine != theirs:
            break
        n += 1
    return trained[:n] + weights[n:], n


def weights_text(kind: WeightsKind, n_trained: int, n_layers: int, seed: int) -> str:
    """The weights' origin in words, e.g. ``"Random weights (seed 0)"``."""
    if kind == "random":
        return f"Random weights (seed {seed})"
    name = "LeNet-5 trained on handwritten digits" if digits.is_trained() else \
        "LeNet-5's stand-in weights: no trained weights are installed"
    if n_trained == 0:
        return f"Random weights (seed {seed}): the trained weights fit LeNet-5 only"
    if n_trained >= n_layers:
        return f"Trained weights ({name})"
    return f"Trained weights for layers 1–{n_trained} ({name}); random after (seed {seed})"
