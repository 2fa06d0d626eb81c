"""Train LeNet-5 on scikit-learn's handwritten digits with the engine's own forward and backward passes.

``python -m engine.train`` writes, into ``resources/`` (or ``--out``):

* ``lenet5_digits.npz``: the weights, ``w{k}``/``b{k}`` for layer ``k`` in
  ``Network.init_weights`` layout;
* ``lenet5_digits.json``: seed, split (the held-out indices), epochs, held-out
  accuracy, training time and the preprocessing;
* ``digit_samples.npz``: two held-out digits per class that it reads right, already prepared
  (``labels (20,)``, ``images (20, 32, 32)``).

The data are ``sklearn.datasets.load_digits`` (1,797 8×8 digits, shipped
inside scikit-learn: no download); scikit-learn is imported only when the data
are loaded (``pip install convviz[train]``). A seeded stratified fifth of the
digits is held out and never trained on. Every epoch redraws every training
digit (``engine.augment``) before ``engine.preprocess.digit_input``. NumPy only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import augment as aug
from .netgrad import Grads, backward_batch, forward_batch, softmax_cross_entropy
from .network import Network, lenet5
from .preprocess import BOX, INK_LEVEL, SIZE, digit_input
from .strokes import PEN_RADIUS, STROKE_LEVEL

__all__ = ["Adam", "Digits", "accuracy", "held_out", "load_digits", "main", "prepare", "train"]

Weights = list[tuple[np.ndarray, np.ndarray] | None]
RESOURCES = Path(__file__).resolve().parents[1] / "resources"
HELD_OUT = 0.2
#: The share of training digits redrawn each epoch (the others are only shifted).
KEEP_AUGMENTED = 0.75


@dataclass(frozen=True)
class Digits:
    """The 8×8 digits and their labels, split.

    Attributes
    ----------
    images : ndarray, shape (N, 8, 8)
        Grey 0–16, ink bright.
    labels : ndarray of int, shape (N,)
    train, test : ndarray of int
        Indices of the training and held-out digits.
    """

    images: np.ndarray
    labels: np.ndarray
    train: np.ndarray
    test: np.ndarray


def load_digits(seed: int, held_out: float = HELD_OUT) -> Digits:
    """scikit-learn's digits with a seeded stratified split (``held_out`` of each class).

    Raises
    ------
    ImportError
        Without scikit-learn; the message says how to install it.
    """
    try:
        from sklearn.datasets import load_digits as _load  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError("training needs scikit-learn's digits: pip install 'convviz[train]'") from None
    data = _load()
    images, labels = np.asarray(data.images, dtype=float), np.asarray(data.target, dtype=int)
    rng = np.random.default_rng(seed)
    test = []
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        test.extend(idx[: round(held_out * idx.size)].tolist())
    test_idx = np.array(sorted(test))
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx)
    return Digits(images, labels, train_idx, test_idx)


def prepare(digit8: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """LeNet-5's input ``(1, 32, 32)`` for an 8×8 digit: as is (no ``rng``) or redrawn at random."""
    img = aug.render(digit8)
    if rng is None or rng.random() >= KEEP_AUGMENTED:
        x = digit_input(aug.thickness(img, aug.PEN_LEVEL))
        if rng is None:
            return x
    else:
        x = digit_input(aug.augment(img, rng))
    return aug.shift(x, *(int(v) for v in rng.integers(-2, 3, size=2)))


def held_out(digits: Digits) -> tuple[np.ndarray, np.ndarray]:
    """The held-out inputs ``(N, 1, 32, 32)`` and labels ``(N,)``, prepared without augmentation."""
    x = np.stack([prepare(digits.images[i]) for i in digits.test])
    return x, digits.labels[digits.test]


class Adam:
    """Adam (Kingma & Ba) over weights in ``init_weights`` layout, updated in place."""

    def __init__(self, weights: Weights, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        arrays = [a for p in weights if p is not None for a in p]
        self.m = [np.zeros_like(a) for a in arrays]
        self.v = [np.zeros_like(a) for a in arrays]

    def step(self, weights: Weights, grads: Grads) -> None:
        """One update: ``weights`` (arrays changed in place) against ``grads`` (same layout)."""
        self.t += 1
        b1, b2 = self.betas
        arrays = [a for p in weights if p is not None for a in p]
        gs = [g for p in grads if p is not None for g in p]
        for a, g, m, v in zip(arrays, gs, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            mhat = m / (1 - b1 ** self.t)
            vhat = v / (1 - b2 ** self.t)
            a -= self.lr * mhat / (np.sqrt(vhat) + self.eps)


def accuracy(net: Network, weights: Weights, x: np.ndarray, labels: np.ndarray, batch: int = 256) -> float:
    """Fraction of ``x (N, 1, 32, 32)`` whose highest score is its label."""
    right = 0
    for i in range(0, len(x), batch):
        scores = forward_batch(net, weights, x[i:i + batch])[-1]
        right += int((scores.argmax(axis=1) == labels[i:i + batch]).sum())
    return right / len(x)


def train(digits: Digits, seed: int, epochs: int, batch: int = 32, lr: float = 2e-3,
          log: bool = True) -> tuple[Weights, list[float]]:
    """Train LeNet-5 on ``digits.train``, redrawn every epoch; the learning rate decays to a tenth.

    Returns
    -------
    (weights, losses)
        The trained weights and each epoch's mean training loss.
    """
    net = lenet5()
    weights = net.init_weights(seed)
    rng = np.random.default_rng(seed + 1)
    opt = Adam(weights, lr=lr)
    losses = []
    for epoch in range(epochs):
        opt.lr = lr * 0.1 ** (epoch / max(1, epochs - 1))
        order = rng.permutation(digits.train)
        x = np.stack([prepare(digits.images[i], rng) for i in order])
        y = digits.labels[order]
        total = 0.0
        for i in range(0, len(order), batch):
            outs = forward_batch(net, weights, x[i:i + batch])
            loss, d = softmax_cross_entropy(outs[-1], y[i:i + batch])
            grads, _ = backward_batch(net, weights, outs, d, input_grad=False)
            opt.step(weights, grads)
            total += loss * len(d)
        losses.append(total / len(order))
        if log:
            print(f"epoch {epoch + 1}/{epochs}: training loss {losses[-1]:.4f}", flush=True)
    return weights, losses


def _samples(digits: Digits, x: np.ndarray, guesses: np.ndarray, per_class: int = 2
             ) -> tuple[np.ndarray, np.ndarray]:
    """The first ``per_class`` held-out digits of each class that the network reads right (``guesses``
    ``(N,)`` are its answers for ``x``; a class with too few keeps its first ones): labels ``(10k,)``,
    images ``(10k, 32, 32)``."""
    labels = digits.labels[digits.test]
    picks: list[int] = []
    for d in range(10):
        ours = np.flatnonzero(labels == d)
        right = ours[guesses[ours] == d]
        picks.extend(int(i) for i in (right if right.size >= per_class else ours)[:per_class])
    return labels[picks], x[picks, 0]


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """One BLAS thread: the products here are small, and threads that wait for each other on a busy
    machine made a batch 5–15 times slower (threadpoolctl comes with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.train [--epochs N] [--seed S] [--out FOLDER]``."""
    ap = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESOURCES, help="folder for the weights (default resources/)")
    args = ap.parse_args(argv)
    try:
        digits = load_digits(args.seed)
    except ImportError as exc:
        print(f"python -m engine.train: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    with _one_blas_thread():
        weights, losses = train(digits, args.seed, args.epochs)
    seconds = time.perf_counter() - start
    net = lenet5()
    x_test, y_test = held_out(digits)
    acc = accuracy(net, weights, x_test, y_test)
    print(f"held-out accuracy {acc:.4f} ({round(acc * len(y_test))}/{len(y_test)}), "
          f"trained in {seconds:.0f} s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    arrays = {f"{n}{k}": a for k, p in enumerate(weights) if p is not None
              for n, a in zip("wb", p, strict=True)}
    np.savez_compressed(args.out / "lenet5_digits.npz", **arrays)  # type: ignore[arg-type]
    guesses = np.concatenate([forward_batch(net, weights, x_test[i:i + 256])[-1].argmax(axis=1)
                              for i in range(0, len(x_test), 256)])
    labels, images = _samples(digits, x_test, guesses)
    np.savez_compressed(args.out / "digit_samples.npz", labels=labels, images=images)
    record = {
        "network": "engine.network.lenet5()",
        "parameters": int(sum(net.param_counts())),
        "data": "sklearn.datasets.load_digits (1,797 8x8 digits)",
        "seed": args.seed,
        "epochs": args.epochs,
        "held_out_accuracy": acc,
        "held_out_count": len(y_test),
        "train_count": len(digits.train),
        "training_seconds": round(seconds, 1),
        "final_training_loss": round(losses[-1], 5),
        "preprocessing": {
            "input": f"{SIZE}x{SIZE}, ink 1 on background 0",
            "steps": "8x8 upsampled 4x (triangle filter, then a 7-tap blur), drawn with a pen (soft "
                     f"threshold at grey level {aug.PEN_LEVEL}); polarity from the border; crop to ink "
                     f"above {INK_LEVEL} of the brightest; longer side scaled to {BOX}, aspect ratio "
                     "kept; centre of mass at the centre; brightest ink 1; the ink's skeleton (above "
                     f"{STROKE_LEVEL} of the brightest) drawn over it with a round pen of radius "
                     f"{PEN_RADIUS} px (engine.preprocess.digit_input)",
            "augmentation": f"every epoch, {KEEP_AUGMENTED:.0%} of the digits: {aug.describe()}; "
                            "then every digit shifted by up to 2 px each way",
        },
        "optimizer": "Adam, batch 32, learning rate 2e-3 decaying to 2e-4",
        "split": {"held_out_fraction": HELD_OUT, "stratified": True,
                  "held_out_indices": digits.test.tolist()},
    }
    (args.out / "lenet5_digits.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
