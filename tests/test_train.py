"""``python -m engine.train``: its files, its split, its determinism, and its message without scikit-learn."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import train
from engine.network import lenet5
from gui.models.digits import load_weights


def test_without_scikit_learn_training_says_how_to_install_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # not importable
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert train.main(["--epochs", "1", "--out", "unused"]) == 2
    assert "pip install 'convviz[train]'" in capsys.readouterr().err
    assert not Path("unused").exists()


def test_the_split_is_stratified_seeded_and_disjoint() -> None:
    pytest.importorskip("sklearn")
    a, c = train.load_digits(0), train.load_digits(1)
    assert a.test.tolist() == train.load_digits(0).test.tolist() != c.test.tolist()
    assert not set(a.train) & set(a.test) and len(a.train) + len(a.test) == 1797
    share = np.bincount(a.labels[a.test], minlength=10) / np.bincount(a.labels, minlength=10)
    assert np.allclose(share, 0.2, atol=0.01)


def test_augmentation_is_seeded_and_keeps_the_input_shape() -> None:
    digit = np.zeros((8, 8))
    digit[1:7, 3:5] = 16
    one = train.prepare(digit, np.random.default_rng(5))
    assert one.shape == (1, 32, 32) and one.max() == pytest.approx(1.0)
    np.testing.assert_array_equal(one, train.prepare(digit, np.random.default_rng(5)))
    assert not np.array_equal(one, train.prepare(digit, np.random.default_rng(6)))


@pytest.mark.slow
def test_one_epoch_writes_weights_a_record_and_samples(tmp_path: Path, capsys) -> None:
    pytest.importorskip("sklearn")
    assert train.main(["--epochs", "1", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "digit_samples.npz", "lenet5_digits.json", "lenet5_digits.npz"]
    record = json.loads((tmp_path / "lenet5_digits.json").read_text("utf-8"))
    assert record["seed"] == 3 and record["epochs"] == 1 and record["parameters"] == 61_706
    assert record["split"]["held_out_indices"] == train.load_digits(3).test.tolist()
    assert f"held-out accuracy {record['held_out_accuracy']:.4f}" in capsys.readouterr().out
    with np.load(tmp_path / "lenet5_digits.npz") as f:
        weights = load_weights(lenet5(), {k: f[k] for k in f.files})
    assert sum(p[0].size + p[1].size for p in weights if p is not None) == 61_706
    with np.load(tmp_path / "digit_samples.npz") as f:
        assert f["labels"].tolist() == [d for d in range(10) for _ in range(2)]
        assert f["images"].shape == (20, 32, 32)


def test_the_samples_skip_held_out_digits_the_network_misreads() -> None:
    labels = np.repeat(np.arange(10), 3)  # three held-out digits per class, in order
    digits = train.Digits(np.zeros((30, 8, 8)), labels, np.array([], int), np.arange(30))
    x = np.arange(30.0)[:, None, None, None] * np.ones((30, 1, 32, 32))
    guesses = labels.copy()
    guesses[0] = 6  # the first 0 is misread: the second and third are the samples
    guesses[3:5] = 2  # two 1s misread: too few read right, so the first two are kept
    got, images = train._samples(digits, x, guesses)
    assert got.tolist() == [d for d in range(10) for _ in range(2)]
    assert images[:, 0, 0].tolist()[:4] == [1.0, 2.0, 3.0, 4.0]
