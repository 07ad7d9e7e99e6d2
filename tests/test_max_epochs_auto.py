"""Training schedules: max_epochs="auto" (30 epochs on small sets, a budget of steps on
larger ones) and the end of training on a plateau of the training loss."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from skattn import AttentionClassifier, AttentionSelfTrainingClassifier, FineTuneClassifier


@pytest.mark.parametrize(
    ("batch_size", "epochs"),
    [(16, 30), (2, 10)],  # 48 rows: 3 steps an epoch (capped at 30), 24 steps (240 / 24)
)
def test_auto_epochs_follow_steps_per_epoch(batch_size, epochs):
    X, y = make_classification(
        n_samples=60, n_features=3, n_informative=2, n_redundant=0, random_state=0
    )
    clf = AttentionClassifier(
        d_token=8,
        n_blocks=1,
        max_epochs="auto",
        batch_size=batch_size,
        early_stopping=False,
        random_state=0,
    )
    clf.fit(X[:48], y[:48])
    assert clf.n_iter_ == epochs


def test_self_training_trains_large_sets_for_fewer_epochs():
    X, y = make_classification(n_samples=4800, n_features=4, random_state=0)
    y = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    # tol=None: the whole budget, not an earlier plateau.
    clf = AttentionSelfTrainingClassifier(
        d_token=8, n_blocks=1, max_iter=1, epochs_per_round=1, tol=None, random_state=0
    )
    clf.fit(X, y)
    assert clf.max_epochs == "auto"
    # 4800 rows in batches of 256: 18.75 steps an epoch, 240 steps in 13 epochs,
    # then one epoch per round run.
    assert len(clf.net_.history) == 13 + clf.n_iter_


def test_gradual_unfreezing_uses_the_resolved_epochs():
    X, y = make_classification(
        n_samples=60, n_features=3, n_informative=2, n_redundant=0, random_state=0
    )
    clf = FineTuneClassifier(
        d_token=8,
        n_blocks=1,
        pretrain_epochs=1,
        max_epochs="auto",
        freeze="gradual",
        max_iter=0,
        tol=None,
        random_state=0,
    )
    clf.fit(X, y)
    assert len(clf.net_.history) == 30


@pytest.mark.parametrize(("tol", "epochs"), [(None, 12), (0.01, 3)])
def test_training_ends_on_a_plateau_of_the_training_loss(tol, epochs):
    # A learning rate too small to move the loss: every epoch after the first
    # misses the tolerance, so two misses end training after epoch 3.
    X, y = make_classification(n_samples=60, n_features=3, n_informative=2, n_redundant=0)
    clf = AttentionClassifier(
        d_token=8,
        n_blocks=1,
        ffn_dropout=0.0,
        lr=1e-9,
        batch_size=60,
        max_epochs=12,
        early_stopping=False,
        tol=tol,
        n_iter_no_change=2,
        random_state=0,
    )
    clf.fit(X, y)
    assert clf.n_iter_ == epochs


def test_a_falling_loss_trains_up_to_max_epochs():
    X, y = make_classification(n_samples=60, n_features=3, n_informative=2, n_redundant=0)
    clf = AttentionClassifier(
        d_token=8, n_blocks=1, lr=1e-2, max_epochs=8, tol=1e-4, n_iter_no_change=5, random_state=0
    )
    clf.fit(X, y)
    assert clf.n_iter_ == 8


@pytest.mark.parametrize(("n_classes", "epochs"), [(2, 6), (24, 16)])
def test_many_classes_get_more_steps(n_classes, epochs):
    # 3000 rows in batches of 64: 240 steps in 6 epochs; 24 classes are
    # three times 8, so three times the steps.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 2))
    y = np.arange(3000) % n_classes
    clf = AttentionClassifier(
        d_token=8,
        n_blocks=1,
        batch_size=64,
        max_epochs="auto",
        early_stopping=False,
        tol=None,
        random_state=0,
    )
    assert clf.fit(X, y).n_iter_ == epochs
