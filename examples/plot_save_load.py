"""
Save, load and predict on a CPU
===============================

A fitted estimator is saved with ``save`` and loaded with ``skattn.load`` in
another process, as on a machine without a GPU: a model fitted on CUDA
loads there too (its weights come back on the CPU, and ``device_`` says
so). The loaded model predicts the same probabilities as the one in memory.
The file holds tensors and JSON, no pickle: loading it never runs code from
it. (``joblib.dump`` works too, but a joblib file is a pickle, which runs
code when loaded: load only files you trust.)
``SKATTN_EXAMPLE_FAST=1`` runs a shorter version (the test suite does).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from skattn import AttentionSelfTrainingClassifier

FAST = os.environ.get("SKATTN_EXAMPLE_FAST") == "1"

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
y_partial = np.where(np.random.RandomState(0).rand(len(y_train)) < 0.1, y_train, -1)
clf = AttentionSelfTrainingClassifier(
    max_epochs=3 if FAST else 30, max_iter=1 if FAST else 10, random_state=0
).fit(X_train, y_partial)
print(f"fitted on {clf.device_}, test accuracy {clf.score(X_test, y_test):.3f}")

folder = Path(tempfile.mkdtemp())
clf.save(folder / "model.skattn")
X_test.to_csv(folder / "new.csv", index=False)
print(f"model file: {(folder / 'model.skattn').stat().st_size / 1024:.0f} KiB")

# A fresh Python process that sees no GPU loads the file and predicts.
script = """
import sys, numpy as np, pandas as pd, skattn
model = skattn.load(sys.argv[1] + "/model.skattn")
np.save(sys.argv[1] + "/proba.npy", model.predict_proba(pd.read_csv(sys.argv[1] + "/new.csv")))
print("loaded on", model.device_)
"""
environment = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
result = subprocess.run(
    [sys.executable, "-c", script, str(folder)], env=environment, capture_output=True, text=True
)
print(result.stdout.strip() or result.stderr)
loaded = np.load(folder / "proba.npy")
in_memory = clf.predict_proba(X_test)
print(f"largest difference between the two: {np.abs(loaded - in_memory).max():.2e}")

fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
ax.scatter(in_memory[:, 1], loaded[:, 1], s=12)
ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
ax.set(xlabel="P(benign), model in memory", ylabel="P(benign), loaded in a new process")
ax.set_title("The loaded model predicts the same")
plt.show()
