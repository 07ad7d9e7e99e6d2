"""
Which columns drive the predictions: attention and gradient attributions
========================================================================

A DataFrame with numeric and categorical columns, where the label depends on
``a``, ``b`` and the category ``kind`` only. :meth:`explain` attributes each
prediction to the input columns, by attention rollout and by gradients;
:func:`skattn.inspection.plot_importances` draws both side by side.
``SKATTN_EXAMPLE_FAST=1`` runs a shorter version (the test suite does).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skattn import AttentionClassifier
from skattn.inspection import plot_importances

FAST = os.environ.get("SKATTN_EXAMPLE_FAST") == "1"

rng = np.random.RandomState(0)
X = pd.DataFrame(rng.normal(size=(1000, 5)), columns=["a", "noise1", "b", "noise2", "noise3"])
kind = rng.choice(["u", "v", "w"], size=len(X))
X.insert(2, "kind", pd.Categorical(kind))
y = (X["a"] + X["b"] + 1.5 * (kind == "u") > 0.5).astype(int)

clf = AttentionClassifier(max_epochs=5 if FAST else 60, random_state=0).fit(X[:800], y[:800])
print(f"test accuracy: {clf.score(X[800:], y[800:]):.3f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
for ax, method in zip(axes, ["attention", "gradient"], strict=True):
    attributions = clf.explain(X[800:], method=method)
    print(f"{method:>9}: " + ", ".join(f"{c}={v:.2f}" for c, v in attributions.mean().items()))
    plot_importances(attributions, ax=ax)
    ax.set_title(f"explain(X, method={method!r})")
plt.show()
