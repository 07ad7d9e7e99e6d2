"""Predict throughput on a 20-feature table: skattn's defaults next to the anchors, in one run.

The target of the speed issue: at least 100,000 rows per second on the CPU
for a 20-feature table with default hyperparameters. A synthetic table
(``make_classification``: 20 features, 3 classes); each method fits on
5,000 rows (10% labeled for the semi-supervised estimators; the number of
epochs does not change the cost of a prediction, so fits are short), then
predicts 100,000 other rows given as one NumPy array: ``predict_proba``
(``predict`` for regressors, ``transform`` for the pretrainer), input
validation and column handling included. One untimed call on 1,000 rows
first; then ``--calls`` timed calls, of which the median and the best are
reported. Every method runs in this one process, one after the other.

Usage::

    pip install --no-deps pytorch-tabnet   # for the TabNet anchor (optional)
    python benchmarks/predict_throughput.py --out benchmarks/results/predict_throughput.md

Time it on an otherwise idle machine.
"""

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _suite import fit_tabnet
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)

N_FIT, N_PREDICT, N_FEATURES = 5_000, 100_000, 20
TARGET = 100_000
SHORT = dict(max_epochs=2, random_state=0)


def _skattn(make, target="labels"):
    def fit(X, y, y_partial):
        model = make().fit(X, {"labels": y, "partial": y_partial, "numbers": X[:, 0]}[target])
        if isinstance(model, MaskedAttentionPretrainer):
            return model.transform
        return model.predict if target == "numbers" else model.predict_proba

    return fit


def _tabnet(X, y, y_partial):
    enc, model = fit_tabnet(pd.DataFrame(X), y, max_epochs=2)
    return lambda X: model.predict_proba(enc.transform(pd.DataFrame(X)).astype(np.float32))


def _sklearn(make):
    def fit(X, y, y_partial):
        return make().fit(X, y).predict_proba

    return fit


METHODS = {
    "AttentionClassifier": _skattn(lambda: AttentionClassifier(**SHORT)),
    "AttentionSelfTrainingClassifier": _skattn(
        lambda: AttentionSelfTrainingClassifier(**SHORT, max_iter=1), "partial"
    ),
    "FineTuneClassifier": _skattn(
        lambda: FineTuneClassifier(**SHORT, pretrain_epochs=2, max_iter=1), "partial"
    ),
    "AttentionRegressor": _skattn(lambda: AttentionRegressor(**SHORT), "numbers"),
    "FineTuneRegressor": _skattn(lambda: FineTuneRegressor(**SHORT, pretrain_epochs=2), "numbers"),
    "MaskedAttentionPretrainer (transform)": _skattn(lambda: MaskedAttentionPretrainer(**SHORT)),
    "TabNet": _tabnet,
    "MLPClassifier": _sklearn(
        lambda: make_pipeline(StandardScaler(), MLPClassifier(max_iter=20, random_state=0))
    ),
    "HistGradientBoosting": _sklearn(lambda: HistGradientBoostingClassifier(random_state=0)),
}


def measure(name, X, y, y_partial, X_new, calls):
    predict = METHODS[name](X, y, y_partial)
    predict(X_new[:1000])
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        predict(X_new)
        seconds.append(time.perf_counter() - start)
    return {
        "method": name,
        "median rows/s": len(X_new) / statistics.median(seconds),
        "best rows/s": len(X_new) / min(seconds),
    }


def report(table, args):
    lines = [
        "# Predict throughput on a 20-feature table",
        "",
        f"`python benchmarks/predict_throughput.py --calls {args.calls}"
        f"{' --out ' + args.out if args.out else ''}`",
        "",
        f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, device cpu. make_classification: "
        f"{N_FEATURES} features, 3 classes; fit on {N_FIT:,} rows, predict {N_PREDICT:,} "
        f"rows (one NumPy array) {args.calls} times after an untimed call on 1,000 rows. "
        "skattn estimators: default hyperparameters (2 epochs: training length does not "
        "change the cost of a prediction).",
        "",
        "| method | median rows/s | best rows/s | vs target (median) |",
        "| --- | --- | --- | --- |",
    ]
    for row in table.itertuples(index=False):
        lines.append(f"| {row.method} | {row[1]:,.0f} | {row[2]:,.0f} | {row[1] / TARGET:.2f}x |")
    lines += ["", f"Target: {TARGET:,} rows/s on the CPU with default hyperparameters."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--out", help="write the markdown table here (and a .csv beside it)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X_all, y_all = make_classification(
        n_samples=N_FIT + N_PREDICT,
        n_features=N_FEATURES,
        n_informative=10,
        n_classes=3,
        random_state=0,
    )
    X, y, X_new = X_all[:N_FIT], y_all[:N_FIT], X_all[N_FIT:]
    y_partial = np.where(np.random.RandomState(0).rand(N_FIT) < 0.1, y, -1)
    rows = []
    for name in args.methods:
        try:
            rows.append(measure(name, X, y, y_partial, X_new, args.calls))
        except ImportError as error:  # pytorch-tabnet is optional
            print(f"{name}: skipped ({error})")
            continue
        print(f"{name}: {rows[-1]['median rows/s']:,.0f} rows/s (median)", flush=True)
    table = pd.DataFrame(rows)
    text = report(table, args)
    print(text)
    if args.out:
        with open(args.out, "w") as file:
            file.write(text)
        table.to_csv(os.path.splitext(args.out)[0] + ".csv", index=False)


if __name__ == "__main__":
    main()
