"""Every public estimator's outputs, pinned: a refactor must not change what a fit learns.

The fingerprint (``tests/data/fingerprint.npz``) holds the predictions,
probabilities and embeddings of each public estimator with
``random_state=0`` on two public sets (breast cancer, numeric; tic-tac-toe,
nine categorical columns: the UCI Tic-Tac-Toe Endgame set, as shipped by
KEEL) at 1% and 10% labels. It was recorded before the estimator layer was
restructured (issue 21). Record it again only for a change that is meant
to change what a fit learns, and say why in the commit::

    python tests/test_fingerprint.py --record

Labels are compared exactly; numbers to 1e-4: another CPU's kernels round
the last bits differently, and training carries that along (on the AMD
EPYC machines of December 2026 four probabilities of an unchanged main
moved by up to 6.5e-5), while one epoch of a different computation moves
them far more.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.frozen import FrozenEstimator
from threadpoolctl import threadpool_limits

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)

DATA = Path(__file__).parent / "data"
FINGERPRINT = DATA / "fingerprint.npz"
SMALL = dict(d_token=16, n_heads=2, random_state=0)


def datasets():
    """``{name: (X, y)}``: a numeric set and a categorical one, y in 0..K-1."""
    X, y = load_breast_cancer(return_X_y=True)
    frame = pd.read_csv(DATA / "tic_tac_toe.csv")
    categorical = frame.drop(columns="class").astype(object)
    return {
        "breast_cancer": (X, y),
        "tic_tac_toe": (categorical, (frame["class"] == "positive").to_numpy(int)),
    }


def labeled_rows(y, fraction):
    """A share ``fraction`` of each class (at least 2 rows), drawn with ``RandomState(0)``."""
    rng = np.random.RandomState(0)
    keep = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        keep[rng.choice(members, max(2, round(fraction * len(members))), replace=False)] = True
    return keep


def outputs(X, y, fraction):
    """``{name: array}``: what every public estimator learns from this set and share of labels."""
    keep = labeled_rows(y, fraction)
    partial = np.where(keep, y, -1)
    target = np.where(keep, y.astype(float), np.nan)
    rows = X[keep] if isinstance(X, np.ndarray) else X.loc[keep]
    # At 10%, early stopping on held-out labeled rows; at 1%, fixed epochs.
    stopping = dict(early_stopping=True, validation_fraction=0.2) if fraction > 0.05 else {}
    rounds = dict(max_iter=2, epochs_per_round=2)
    result = {}

    def classifier(name, clf):
        result[f"{name}.proba"] = clf.predict_proba(X)
        result[f"{name}.predict"] = clf.predict(X)

    supervised = AttentionClassifier(**SMALL, max_epochs=6, **stopping)
    classifier("classifier", supervised.fit(rows, y[keep]))
    result["regressor.predict"] = (
        AttentionRegressor(**SMALL, max_epochs=6, **stopping).fit(rows, y[keep]).predict(X)
    )
    self_training = AttentionSelfTrainingClassifier(**SMALL, max_epochs=6, **rounds, **stopping)
    classifier("self_training", self_training.fit(X, partial))
    result["self_training.labeled_iter"] = self_training.labeled_iter_
    fine_tune = FineTuneClassifier(**SMALL, pretrain_epochs=3, max_epochs=6, **rounds, **stopping)
    classifier("fine_tune", fine_tune.fit(X, partial))
    pretrainer = MaskedAttentionPretrainer(**SMALL, max_epochs=4).fit(X)
    result["pretrainer.transform"] = pretrainer.transform(X)
    gradual = FineTuneClassifier(
        **SMALL,
        pretrained=FrozenEstimator(pretrainer),
        freeze="gradual",
        max_epochs=6,
        **rounds,
        **stopping,
    )
    classifier("fine_tune_pretrained", gradual.fit(X, partial))
    fine_tune_regressor = FineTuneRegressor(**SMALL, pretrain_epochs=3, max_epochs=6, **stopping)
    result["fine_tune_regressor.predict"] = fine_tune_regressor.fit(X, target).predict(X)
    return result


def fingerprint():
    """Every set at both shares of labels, fitted with one thread in every pool.

    One OpenMP and BLAS thread as well as one torch thread: on tic-tac-toe's
    one-hot rows many neighbours of label spreading are tied, and which of
    them scikit-learn's threaded search keeps depends on the threads.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            return {
                f"{name}.{fraction}.{key}": value
                for name, (X, y) in datasets().items()
                for fraction in (0.01, 0.1)
                for key, value in outputs(X, y, fraction).items()
            }
    finally:
        torch.set_num_threads(threads)


def differences(current, recorded):
    """``{key: why}`` for each output that differs from the recorded one."""
    found = {}
    for key in sorted(set(current) | set(recorded)):
        if key not in current or key not in recorded:
            found[key] = "missing now" if key not in current else "not recorded"
            continue
        now, before = current[key], recorded[key]
        if before.dtype.kind in "iu":
            if not np.array_equal(now, before):
                found[key] = f"{int(np.sum(now != before))} of {before.size} labels differ"
        elif not np.allclose(now, before, rtol=1e-5, atol=1e-4):
            found[key] = f"largest difference {np.max(np.abs(now - before)):.3g}"
    return found


def test_fit_learns_what_it_learned():
    with np.load(FINGERPRINT) as recorded:
        assert differences(fingerprint(), dict(recorded)) == {}


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        raise SystemExit("usage: python tests/test_fingerprint.py --record")
    np.savez_compressed(FINGERPRINT, **fingerprint())
    print(f"wrote {FINGERPRINT}")
