"""
The confidence threshold: how many pseudo-labels, how many of them right
========================================================================

:class:`skattn.AttentionSelfTrainingClassifier` pseudo-labels the unlabeled
rows it is confident about, round after round. A low ``threshold`` labels
more rows sooner, with more mistakes; a high one labels fewer and surer
rows. With ``adaptive_threshold=True`` (the default), a class the network
is still unsure about gets a lower threshold (never below half of it,
FlexMatch), so the pool empties at any threshold and the threshold matters
less; with ``False`` it is one bar for every class. With the true labels of
the unlabeled rows at hand (they are hidden from ``fit``),
``transduction_`` and ``labeled_iter_`` show how many rows were
pseudo-labeled and how many of them rightly; the test accuracy shows what
it costs. The breast cancer set with 5% of the training labels.
``SKATTN_EXAMPLE_FAST=1`` runs a smoke version (the test suite does).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from skattn import AttentionSelfTrainingClassifier

FAST = os.environ.get("SKATTN_EXAMPLE_FAST") == "1"
THRESHOLDS = [0.6, 0.99] if FAST else [0.55, 0.75, 0.9, 0.99]
EPOCHS = dict(max_epochs=3, max_iter=2) if FAST else {}

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
rng = np.random.RandomState(0)
y_partial = np.where(rng.rand(len(y_train)) < 0.05, y_train, -1)
unlabeled = y_partial == -1
print(f"{np.sum(~unlabeled)} labeled and {np.sum(unlabeled)} unlabeled training rows")

results = {}
for adaptive in (True, False):
    for threshold in THRESHOLDS:
        clf = AttentionSelfTrainingClassifier(
            threshold=threshold, adaptive_threshold=adaptive, random_state=0, **EPOCHS
        ).fit(X_train, y_partial)
        pseudo = unlabeled & (clf.labeled_iter_ > 0)
        right = clf.transduction_[pseudo] == y_train[pseudo]
        results[adaptive, threshold] = (
            pseudo.sum() / unlabeled.sum(),
            right.mean() if pseudo.any() else np.nan,
            clf.score(X_test, y_test),
        )
        share, correct, test = results[adaptive, threshold]
        print(
            f"adaptive={adaptive!s:5} threshold {threshold:.2f}: {share:6.1%} of the pool "
            f"pseudo-labeled, {correct:6.1%} of them right, test accuracy {test:.3f}"
        )

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", sharey=True)
for ax, adaptive in zip(axes, (True, False), strict=True):
    share, correct, test = np.array([results[adaptive, t] for t in THRESHOLDS]).T
    ax.plot(THRESHOLDS, share, marker="o", label="share of unlabeled rows pseudo-labeled")
    ax.plot(THRESHOLDS, correct, marker="s", label="pseudo-labels that are right")
    ax.plot(THRESHOLDS, test, marker="^", label="test accuracy")
    ax.set(xlabel="threshold", ylim=(0, 1.02), title=f"adaptive_threshold={adaptive}")
axes[0].legend(loc="lower left")
fig.suptitle("Breast cancer, 5% labels: the threshold's effect")
plt.show()
