"""Supervised accuracy of skattn's defaults next to scikit-learn, in one run.

For scikit-learn's digits and breast cancer sets and three stratified 75/25
splits (``StratifiedShuffleSplit(n_splits=3, test_size=0.25, random_state=0)``),
fit ``AttentionClassifier()`` with default hyperparameters, a
``HistGradientBoostingClassifier`` and a standardised ``MLPClassifier``, and
report mean test accuracy and fit time. Usage::

    python benchmarks/supervised.py [--out benchmarks/results/supervised.md]
        [--param name=value ...]

``--param`` overrides an AttentionClassifier hyperparameter (for tuning
studies; the results table is made with none).
"""

import argparse
import ast
import platform
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skattn import AttentionClassifier

DATASETS = {"breast_cancer": load_breast_cancer, "digits": load_digits}


def methods(params):
    return {
        "AttentionClassifier": lambda seed: AttentionClassifier(random_state=seed, **params),
        "HistGradientBoosting": lambda seed: HistGradientBoostingClassifier(random_state=seed),
        "MLP": lambda seed: make_pipeline(
            StandardScaler(), MLPClassifier(max_iter=500, random_state=seed)
        ),
    }


def run(params):
    rows = []
    splitter = StratifiedShuffleSplit(n_splits=3, test_size=0.25, random_state=0)
    for name, load in DATASETS.items():
        X, y = load(return_X_y=True)
        for method, make in methods(params).items():
            scores, times = [], []
            for repeat, (train, test) in enumerate(splitter.split(X, y)):
                start = time.perf_counter()
                model = make(repeat).fit(X[train], y[train])
                times.append(time.perf_counter() - start)
                scores.append(model.score(X[test], y[test]))
            rows.append(
                (name, method, 100 * np.mean(scores), 100 * np.std(scores), np.mean(times))
            )
            print(
                f"{name:14s} {method:22s} {rows[-1][2]:6.2f} ± {rows[-1][3]:4.2f}  "
                f"{rows[-1][4]:7.2f} s",
                flush=True,
            )
    return rows


def table(rows, params):
    lines = [
        "# Supervised accuracy: skattn defaults vs scikit-learn",
        "",
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}. "
        f"AttentionClassifier parameters: {params or 'defaults'}.",
        "Mean test accuracy over 3 stratified 75/25 splits (± std), mean fit time.",
        "",
        "| dataset | method | accuracy % | fit time (s) |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {d} | {m} | {a:.1f} ± {s:.1f} | {t:.1f} |" for d, m, a, s, t in rows]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write a markdown table here")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    params = {}
    for item in args.param:
        key, value = item.split("=", 1)
        params[key] = ast.literal_eval(value)
    rows = run(params)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table(rows, params))


if __name__ == "__main__":
    main()
