"""Ctrl-C during fit keeps a usable model; warm_start continues from it."""

import signal
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from skorch import NeuralNet

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    MaskedAttentionPretrainer,
    self_training,
)
from skattn.exceptions import FitInterruptedWarning

NET = dict(d_token=16, n_heads=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    y_partial = np.where(np.arange(len(y)) % 5 == 0, y, -1)
    return X, y, y_partial


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """Python's own SIGINT handler (KeyboardInterrupt), whatever ran before.

    In the whole suite a library used by an earlier test can leave another
    handler installed; seen in CI, where the signal then went unnoticed and
    the fit ran to its end.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def press_ctrl_c_at(monkeypatch, step):
    """Deliver SIGINT (what Ctrl-C sends) in the ``step``-th training step."""
    train_step = NeuralNet.train_step
    steps = []

    def counting_train_step(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == step:
            signal.raise_signal(signal.SIGINT)
        return train_step(self, *args, **kwargs)

    monkeypatch.setattr(NeuralNet, "train_step", counting_train_step)


def first_valid_loss(clf):
    return clf.net_.history[0, "valid_loss"]


def test_interrupted_fit_keeps_best_weights_and_warm_start_resumes(monkeypatch, data):
    X, y, _ = data
    clf = AttentionClassifier(**NET, max_epochs=40, early_stopping=True, batch_size=32)
    # 270 training rows in batches of 32: 9 steps per epoch; stop in epoch 6.
    press_ctrl_c_at(monkeypatch, 50)
    with pytest.warns(FitInterruptedWarning, match="interrupted.*warm_start=True"):
        clf.fit(X, y)
    monkeypatch.undo()
    assert clf.n_iter_ == 5  # completed epochs
    best = min(epoch["valid_loss"] for epoch in clf.net_.history if "valid_loss" in epoch)
    assert clf.score(X, y) > 0.6  # usable: far above chance (1/3)

    fresh = AttentionClassifier(**NET, max_epochs=1, early_stopping=True, batch_size=32)
    fresh.fit(X, y)
    resumed = clf.set_params(warm_start=True, max_epochs=1).fit(X, y)
    # Resumed training starts where the interrupted one stood, not from scratch.
    assert first_valid_loss(resumed) < first_valid_loss(fresh)
    assert first_valid_loss(resumed) < best * 1.2


def test_early_stopping_is_no_interruption(data):
    X, y, y_partial = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        clf = AttentionClassifier(**NET, early_stopping=True, n_iter_no_change=1, max_epochs=50)
        assert clf.fit(X, y).n_iter_ < 50
        # Self-training goes on to its rounds after an early-stopped round 0
        # (k_best: every round labels rows, however confident the network).
        semi = AttentionSelfTrainingClassifier(
            **NET,
            early_stopping=True,
            n_iter_no_change=1,
            max_epochs=50,
            max_iter=2,
            criterion="k_best",
        ).fit(X, y_partial)
    assert len(semi.net_.history) < 50
    assert semi.n_iter_ == 2


def test_warm_start_needs_the_same_columns_and_classes(data):
    X, y, _ = data
    clf = AttentionClassifier(**NET, max_epochs=2).fit(X, y)
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X, np.where(y == 2, 1, y))
    with pytest.raises(ValueError, match="features"):
        clf.fit(X[:, :4], y)


def test_warm_start_on_an_unfitted_estimator_is_an_ordinary_fit(data):
    X, y, _ = data
    warm = AttentionRegressor(**NET, max_epochs=3, warm_start=True).fit(X, y.astype(float))
    cold = AttentionRegressor(**NET, max_epochs=3).fit(X, y.astype(float))
    np.testing.assert_array_equal(warm.predict(X), cold.predict(X))


def test_warm_start_keeps_the_regression_target_scale(data):
    X, y, _ = data
    reg = AttentionRegressor(**NET, max_epochs=20).fit(X, y * 100.0)
    before = reg.score(X, y * 100.0)
    # A continued fit on a subset keeps the scaling the weights were trained with.
    reg.set_params(warm_start=True, max_epochs=1, lr=1e-5).fit(X[:100], y[:100] * 100.0)
    assert reg.score(X, y * 100.0) == pytest.approx(before, abs=0.05)


def test_self_training_interrupted_in_a_round_stops_there(monkeypatch, data):
    X, _, y_partial = data
    clf = AttentionSelfTrainingClassifier(**NET, max_epochs=3, max_iter=5, threshold=0.5)
    # 300 rows in batches of 37: 9 steps per epoch; round 0 takes 3 epochs
    # (steps 1-27), round 1 one epoch (28-36).
    press_ctrl_c_at(monkeypatch, 32)
    with pytest.warns(FitInterruptedWarning):
        clf.fit(X, y_partial)
    assert clf.termination_condition_ == "interrupted"
    assert clf.n_iter_ == 1
    assert set(np.unique(clf.labeled_iter_)) <= {-1, 0, 1}
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_self_training_interrupted_before_the_rounds(monkeypatch, data):
    X, _, y_partial = data
    press_ctrl_c_at(monkeypatch, 3)
    clf = AttentionSelfTrainingClassifier(**NET, max_epochs=5, max_iter=5)
    with pytest.warns(FitInterruptedWarning):
        clf.fit(X, y_partial)
    assert (clf.n_iter_, clf.termination_condition_) == (0, "interrupted")
    np.testing.assert_array_equal(clf.transduction_, y_partial)
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_self_training_interrupted_between_trainings(monkeypatch, data):
    X, _, y_partial = data

    def ctrl_c(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)

    # Label spreading runs after round 0's training, before the first round.
    monkeypatch.setattr(self_training, "spread_labels", ctrl_c)
    clf = AttentionSelfTrainingClassifier(**NET, max_epochs=2, max_iter=3)
    with pytest.warns(FitInterruptedWarning):
        clf.fit(X, y_partial)
    assert (clf.n_iter_, clf.termination_condition_) == (0, "interrupted")
    assert clf.predict(X).shape == (len(X),)


def test_interrupted_pretraining_stops_the_fine_tuning_fit(monkeypatch, data):
    X, _, y_partial = data
    press_ctrl_c_at(monkeypatch, 3)
    clf = FineTuneClassifier(**NET, pretrain_epochs=20, max_epochs=5, max_iter=1)
    with pytest.warns(FitInterruptedWarning), pytest.raises(KeyboardInterrupt):
        clf.fit(X, y_partial)
    monkeypatch.undo()
    # What was pretrained is kept, and can be fine-tuned from.
    assert isinstance(clf.pretrainer_, MaskedAttentionPretrainer)
    tuned = FineTuneClassifier(pretrained=clf.pretrainer_, max_epochs=3, max_iter=1)
    assert tuned.fit(X, y_partial).predict(X).shape == (len(X),)


def test_warm_start_fine_tuning_skips_pretraining(data):
    X, _, y_partial = data
    clf = FineTuneClassifier(**NET, pretrain_epochs=2, max_epochs=2, max_iter=1).fit(X, y_partial)
    pretrainer, first_loss = clf.pretrainer_, clf.net_.history[0, "train_loss"]
    clf.set_params(warm_start=True).fit(X, y_partial)
    assert clf.pretrainer_ is pretrainer
    assert clf.net_.history[0, "train_loss"] < first_loss


def test_interrupted_pretrainer_is_usable(monkeypatch, data):
    X, _, _ = data
    press_ctrl_c_at(monkeypatch, 5)
    with pytest.warns(FitInterruptedWarning):
        pretrainer = MaskedAttentionPretrainer(**NET, max_epochs=30).fit(X)
    assert len(pretrainer.loss_history_) < 30
    assert np.isfinite(pretrainer.transform(X)).all()
