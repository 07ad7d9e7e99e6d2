"""
Tuning with unlabeled rows: a Pipeline, GridSearchCV and the -1-aware splitter
==============================================================================

A plain ``GridSearchCV`` would move unlabeled rows (``y == -1``) into test
folds, score them against the label -1, and take them away from the
training folds, where a semi-supervised estimator needs them.
:class:`skattn.model_selection.SemiSupervisedKFold` folds the labeled rows
only and keeps every unlabeled row in every training fold;
:func:`skattn.model_selection.labeled_scorer` scores labeled rows only.
Here they tune the threshold and the consistency weight of a
:class:`skattn.AttentionSelfTrainingClassifier` behind a column transformer,
on a DataFrame with a categorical column and missing values.
``SKATTN_EXAMPLE_FAST=1`` runs a smoke version (the test suite does).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skattn import AttentionSelfTrainingClassifier
from skattn.model_selection import SemiSupervisedKFold, labeled_scorer

FAST = os.environ.get("SKATTN_EXAMPLE_FAST") == "1"

X, y = load_wine(return_X_y=True, as_frame=True)
rng = np.random.RandomState(0)
X["region"] = pd.Categorical(np.where(X["alcohol"] > 13, "north", "south"))
X = X.mask(rng.rand(*X.shape) < 0.05)  # 5% missing values, categorical included
y_partial = np.where(rng.rand(len(y)) < 0.3, y, -1)
print(f"{np.sum(y_partial != -1)} labeled and {np.sum(y_partial == -1)} unlabeled rows")

# skattn reads categories and NaN itself; the column transformer stands for
# whatever preprocessing a pipeline of yours already has.
log_proline = make_column_transformer(
    (FunctionTransformer(np.log1p, feature_names_out="one-to-one"), ["proline"]),
    remainder="passthrough",
    verbose_feature_names_out=False,
).set_output(transform="pandas")
pipeline = make_pipeline(
    log_proline,
    AttentionSelfTrainingClassifier(
        max_epochs=3 if FAST else 30, max_iter=1 if FAST else 10, random_state=0
    ),
)
grid = {
    "attentionselftrainingclassifier__threshold": [0.75, 0.95],
    "attentionselftrainingclassifier__consistency_weight": [0.0, 1.0],
}
search = GridSearchCV(
    pipeline,
    grid,
    cv=SemiSupervisedKFold(n_splits=2 if FAST else 3, shuffle=True, random_state=0),
    scoring=labeled_scorer("accuracy"),
)
search.fit(X, y_partial)
print(f"best: {search.best_params_}, accuracy {search.best_score_:.3f}")

results = pd.DataFrame(search.cv_results_)
table = results.pivot_table(
    index="param_attentionselftrainingclassifier__threshold",
    columns="param_attentionselftrainingclassifier__consistency_weight",
    values="mean_test_score",
)
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
image = ax.imshow(table.to_numpy(), cmap="viridis")
ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
for (i, j), value in np.ndenumerate(table.to_numpy()):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="white")
ax.set(xlabel="consistency_weight", ylabel="threshold")
ax.set_title("Accuracy on held-out labeled rows")
fig.colorbar(image)
plt.show()
