"""
Data-parallel training on several GPUs
======================================

``data_parallel=True`` trains over the processes that the launcher of
Hugging Face Accelerate starts, one per GPU, through skorch's Accelerate
support (``pip install 'skattn[distributed]'``). Every process runs this
whole script on the same data. Each takes its share of every epoch's
batches, and the gradients are averaged across the processes at every step
(PyTorch's ``DistributedDataParallel``), so every process ends with the same
model; the main process reports and saves it. Run it with::

    accelerate launch --multi_gpu --num_processes 2 examples/data_parallel.py

On a machine without GPUs the same command starts two CPU processes (``--cpu``
alone would start one). With plain ``python``, it trains in one process. The
test suite runs it on two CPU processes. ``SKATTN_EXAMPLE_FAST=1`` runs a
shorter version.
"""

import os
import tempfile

import numpy as np
from accelerate import PartialState
from accelerate.utils import gather_object
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skattn import AttentionSelfTrainingClassifier

FAST = os.environ.get("SKATTN_EXAMPLE_FAST") == "1"

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
y_partial = np.where(np.random.RandomState(0).rand(len(y_train)) < 0.1, y_train, -1)

clf = AttentionSelfTrainingClassifier(
    data_parallel=True, max_epochs=3 if FAST else "auto", max_iter=1 if FAST else 5, random_state=0
).fit(X_train, y_partial)

# Every process holds the same fitted model, so they predict alike.
process = PartialState()
predictions = gather_object([clf.predict(X_test)])
agree = all(np.array_equal(prediction, predictions[0]) for prediction in predictions)
steps = sum("train_loss" in batch for batch in clf.net_.history[0, "batches"])
process.print(
    f"{process.num_processes} process(es) on {clf.device_}, {steps} steps each in an epoch; "
    f"predictions agree: {agree}; test accuracy {clf.score(X_test, y_test):.3f}"
)

# Save once, from the main process.
if process.is_main_process:
    path = os.path.join(tempfile.mkdtemp(), "digits.skattn")
    clf.save(path)
    print(f"saved to {path}")
