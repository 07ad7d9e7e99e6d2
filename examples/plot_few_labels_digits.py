"""
How many labels do you need? Self-training against supervised learning on digits
================================================================================

scikit-learn's 8x8 digits with 20 to 200 labeled training images and every
other training image unlabeled (-1). :class:`skattn.AttentionSelfTrainingClassifier`
learns from all of them (4x4 patches as tokens, the default for images);
:class:`skattn.AttentionClassifier` and a logistic regression see the labeled
images only; scikit-learn's
:class:`~sklearn.semi_supervised.SelfTrainingClassifier` wraps the logistic
regression with the same -1 convention. The curve shows what the unlabeled
images are worth at each number of labels.
``SKATTN_EXAMPLE_FAST=1`` runs a smoke version (the test suite does).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import SelfTrainingClassifier

from skattn import AttentionClassifier, AttentionSelfTrainingClassifier

FAST = os.environ.get("SKATTN_EXAMPLE_FAST") == "1"
N_LABELS = [20, 50] if FAST else [20, 50, 200]
EPOCHS = dict(max_epochs=3, max_iter=1) if FAST else {}

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.images, digits.target, test_size=0.25, stratify=digits.target, random_state=0
)
order = np.random.RandomState(0).permutation(len(y_train))

methods = {
    "skattn self-training (labels + unlabeled)": lambda X, y: AttentionSelfTrainingClassifier(
        tokenizer="patch", random_state=0, **EPOCHS
    ).fit(X, y),
    "scikit-learn SelfTraining(LogReg)": lambda X, y: SelfTrainingClassifier(
        LogisticRegression(max_iter=1000), threshold=0.9
    ).fit(X.reshape(len(X), -1), y),
    "skattn AttentionClassifier (labels only)": lambda X, y: AttentionClassifier(
        tokenizer="patch", random_state=0, max_epochs=EPOCHS.get("max_epochs", 100)
    ).fit(X[y != -1], y[y != -1]),
    "LogisticRegression (labels only)": lambda X, y: LogisticRegression(max_iter=1000).fit(
        X[y != -1].reshape(-1, 64), y[y != -1]
    ),
}

scores = {name: [] for name in methods}
for n_labels in N_LABELS:
    y_partial = np.full(len(y_train), -1)
    y_partial[order[:n_labels]] = y_train[order[:n_labels]]
    for name, fit in methods.items():
        model = fit(X_train, y_partial)
        flat = name.startswith(("scikit", "Logistic"))  # they read flat rows of 64 pixels
        X_eval = X_test.reshape(len(X_test), -1) if flat else X_test
        scores[name].append(model.score(X_eval, y_test))
    print(f"{n_labels:4d} labels: " + ", ".join(f"{s[-1]:.3f}" for s in scores.values()))

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for name, values in scores.items():
    ax.plot(N_LABELS, values, marker="o", label=name)
ax.set(xscale="log", xlabel="labeled training images (of 1347)", ylabel="test accuracy")
ax.set_xticks(N_LABELS, [str(n) for n in N_LABELS])
ax.minorticks_off()
ax.legend(fontsize=8)
ax.set_title("Digits: accuracy against the number of labels")
plt.show()
