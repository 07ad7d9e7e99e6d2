"""Fits that tests/test_distributed.py runs on two processes under ``accelerate launch``.

Each estimator trains with ``data_parallel=True`` and logs its epochs and
rounds (``verbose=2``); the main process writes,
as JSON to the path in ``sys.argv[1]``, each process's weights checksum and
steps per epoch, and the main process's predictions.
"""

import json
import sys

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer

from skattn import AttentionRegressor, FineTuneClassifier


def fits(**params):
    """``(name, fitted estimator)`` pairs; ``params`` are added to each estimator's."""
    X, y = load_breast_cancer(return_X_y=True)
    y_partial = np.where(np.arange(len(y)) % 5 == 0, y, -1)
    small = dict(
        d_token=8, n_heads=2, random_state=0, early_stopping=True, n_iter_no_change=2, **params
    )
    # Pretraining, gradual unfreezing (which holds out no rows) and a self-training
    # round; the regressor below stops early.
    yield (
        "fine_tune",
        # Spreading at full weight: after 4 epochs the network alone is too
        # unsure to pseudo-label any row, and the round must label some.
        FineTuneClassifier(
            **small,
            pretrain_epochs=2,
            max_epochs=4,
            freeze="gradual",
            max_iter=1,
            adaptive_propagation=False,
        ).fit(X, y_partial),
    )
    yield "regressor", AttentionRegressor(**small, max_epochs=3).fit(X, X[:, 0])


def train_steps(estimator):
    """Training steps in the first epoch (its other batches are validation batches)."""
    return sum("train_loss" in batch for batch in estimator.net_.history[0, "batches"])


def checksum(estimator):
    state = estimator.net_.module_.state_dict()
    return float(sum(value.double().abs().sum() for value in state.values()))


def main(path):
    # Imported here: pytest imports this module (for doctests) without accelerate too.
    from accelerate import PartialState
    from accelerate.utils import gather_object

    report = {}
    for name, estimator in fits(data_parallel=True, verbose=2):
        report[name] = {
            "checksums": gather_object([checksum(estimator)]),
            "steps": train_steps(estimator),
            "prediction": estimator.predict(load_breast_cancer().data[:50]).tolist(),
            "wrapped": isinstance(
                estimator.net_.module_, torch.nn.parallel.DistributedDataParallel
            ),
        }
    # After the fits: on a machine without GPUs, a PartialState() made first
    # would set up one process, not the launched CPU processes.
    process = PartialState()
    report["processes"] = process.num_processes
    if process.is_main_process:
        with open(path, "w") as file:
            json.dump(report, file)


if __name__ == "__main__":
    main(sys.argv[1])
