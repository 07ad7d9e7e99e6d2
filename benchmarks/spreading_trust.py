"""How far to trust label spreading, chosen with and without labels (issue 29, item 4).

Self-training weighs label spreading by ``propagation_weight`` times a
trust in [0, 1] (``adaptive_propagation``), today from a cross-validated
test on the labeled rows (:func:`skattn.self_training.spreading_trust`).
With 2 labels a class that test has 2 folds of 1 row a class. This script
compares, on every split of the public suite, three estimates of that
trust against the trust that the split's hidden labels give (the oracle:
spreading against a logistic regression, both from the given labels,
scored on every unlabeled training row):

- ``labels``: the test of the labeled rows (the default);
- ``tasks``: label-free, on tasks generated from the rows as STUNT does
  (Nam et al., 2023): k-means with as many clusters as classes on a random
  20-50% of the columns gives each row a pseudo-class; as many rows a
  pseudo-class as the split has labels a class keep their pseudo-class, and
  spreading and a logistic regression (all columns) predict the rest;
- ``blend``: the two averaged.

Each estimate turns a shortfall of spreading against the linear model into
a trust with the same rule (``TRUST_MARGIN``). Reported: the mean absolute
error against the oracle, the correlation, and how often each says
"trust nothing" where the oracle trusts fully or the reverse. With
``--spreading-pays``, also the correlation, over (dataset, fraction)
cells, of each mean trust with what label spreading buys self-training
(its test accuracy with the defaults minus that with
``propagation_weight=0``, paired by split): the trust that matters.

    cd benchmarks
    DS="$(python -c "import _suite; print(' '.join(_suite.PUBLIC))") motif60"
    OMP_NUM_THREADS=1 python spreading_trust.py --datasets $DS --csv trust.csv \
        --spreading-pays results/self_training_issue29.csv results/knob_propagation0_issue29.csv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _suite import DATASETS, each_split, encoder
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skattn._spreading import spread_labels, spreading_trust, trust_from_shortfall

N_TASKS = 5
# Rows scored per generated task: enough for a low-noise accuracy.
TASK_ROWS = 2000
ESTIMATES = ("oracle", "labels", "tasks", "blend")


def _linear(points, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(max_iter=1000).fit(points, target)


def oracle_trust(points, y_partial, y_true, n_classes):
    """Spreading against the linear model on every unlabeled row, hidden labels known."""
    labeled, pool = y_partial >= 0, y_partial < 0
    spread = spread_labels(points, y_partial, n_classes).argmax(axis=1)
    linear = _linear(points[labeled], y_partial[labeled]).predict(points[pool])
    shortfall = np.mean(linear == y_true[pool]) - np.mean(spread[pool] == y_true[pool])
    return trust_from_shortfall(shortfall), shortfall


def task_trust(points, y_partial, n_classes, *, n_tasks=N_TASKS, seed=0):
    """Label-free: spreading against the linear model on k-means pseudo-tasks (STUNT)."""
    rng = np.random.RandomState(seed)
    counts = np.bincount(y_partial[y_partial >= 0], minlength=n_classes)
    per_class = max(1, int(np.median(counts[counts > 0])))
    shortfalls = []
    for _ in range(n_tasks):
        n_columns = max(1, int(rng.uniform(0.2, 0.5) * points.shape[1]))
        columns = rng.choice(points.shape[1], n_columns, replace=False)
        task = KMeans(n_classes, n_init=1, random_state=rng.randint(2**31)).fit_predict(
            points[:, columns]
        )
        given = np.full(len(task), -1)
        for c in np.unique(task):
            members = np.flatnonzero(task == c)
            keep = rng.choice(members, min(per_class, len(members)), replace=False)
            given[keep] = c
        if len(np.unique(given[given >= 0])) < 2:
            continue
        hidden = np.flatnonzero(given < 0)
        hidden = hidden[rng.permutation(len(hidden))[:TASK_ROWS]]
        spread = spread_labels(points, given, n_classes).argmax(axis=1)
        linear = _linear(points[given >= 0], given[given >= 0]).predict(points[hidden])
        shortfalls.append(
            np.mean(linear == task[hidden]) - np.mean(spread[hidden] == task[hidden])
        )
    shortfall = float(np.mean(shortfalls)) if shortfalls else 0.0
    return trust_from_shortfall(shortfall), shortfall


def collect(datasets, fractions, csv):
    done = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    for name, X, y, fraction, repeat, train, _test, y_partial in each_split(datasets, fractions):
        key = (name, fraction, repeat)
        if len(done) and (done[["dataset", "fraction", "repeat"]] == key).all(1).any():
            continue
        points = encoder(X).fit_transform(X.iloc[train]).astype(np.float64)
        n_classes = len(np.unique(y))
        oracle, oracle_shortfall = oracle_trust(points, y_partial, y[train], n_classes)
        tasks, tasks_shortfall = task_trust(points, y_partial, n_classes, seed=repeat)
        labels = spreading_trust(points, y_partial, n_classes, seed=repeat)
        row = dict(
            dataset=name,
            fraction=fraction,
            repeat=repeat,
            n_labeled=int((y_partial >= 0).sum()),
            oracle=oracle,
            oracle_shortfall=oracle_shortfall,
            labels=labels,
            tasks=tasks,
            tasks_shortfall=tasks_shortfall,
            blend=(labels + tasks) / 2,
        )
        print(row, flush=True)
        done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
        done.to_csv(csv, index=False)
    return done


def spreading_pays(rows, reference, without):
    """Correlation over cells of each mean trust with what spreading buys, in points."""
    key = ["dataset", "fraction", "repeat"]
    reference = pd.read_csv(reference).query("method == 'skattn SelfTraining'")
    paired = pd.read_csv(without).merge(reference, on=key, suffixes=("_without", ""))
    paired["pays"] = paired.test - paired.test_without
    cells = paired.merge(rows, on=key).groupby(["dataset", "fraction"]).mean(numeric_only=True)
    lines = [
        f"Paired splits: {len(paired)}. Correlation over cells of the mean trust with "
        "the points that spreading buys:",
        "",
        "| labels | oracle | labels | tasks | blend |",
        "| --- | --- | --- | --- | --- |",
    ]
    for fraction, part in [*cells.groupby(level="fraction"), ("all", cells)]:
        label = fraction if isinstance(fraction, str) else f"{fraction:.0%}"
        values = [np.corrcoef(part.pays, part[e])[0, 1] for e in ESTIMATES]
        lines.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return "\n".join(lines)


def report(rows):
    lines = [
        "| labels | estimate | mean abs. error | correlation | trusts 0 where oracle 1 "
        "| trusts 1 where oracle 0 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for fraction, part in rows.groupby("fraction"):
        for estimate in ESTIMATES[1:]:
            error = (part[estimate] - part.oracle).abs().mean()
            correlation = np.corrcoef(part[estimate], part.oracle)[0, 1]
            wrong_off = int(((part[estimate] == 0) & (part.oracle == 1)).sum())
            wrong_on = int(((part[estimate] == 1) & (part.oracle == 0)).sum())
            lines.append(
                f"| {fraction:.0%} | {estimate} | {error:.3f} | {correlation:.2f} "
                f"| {wrong_off} of {len(part)} | {wrong_on} of {len(part)} |"
            )
    per_set = rows.groupby(["dataset", "fraction"])[["oracle", "labels", "tasks"]].mean()
    return "\n".join(lines) + "\n\nMean trust per cell:\n\n" + per_set.round(2).to_markdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.10, 0.01])
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--spreading-pays", nargs=2, metavar=("DEFAULTS_CSV", "WITHOUT_CSV"))
    args = parser.parse_args()
    rows = collect(args.datasets, args.fractions, args.csv)
    print(report(rows))
    if args.spreading_pays:
        print("\n" + spreading_pays(rows, *args.spreading_pays))


if __name__ == "__main__":
    main()
