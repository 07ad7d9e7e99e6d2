"""Self-training's pool-shift test on the suite, whose labels are drawn at random (issue 29).

``AttentionSelfTrainingClassifier`` weighs its self-trained network by
``self_trained_weight_``: 1/2, falling to 0 when a linear model tells the
unlabeled rows from the labeled ones (``pool_shift_``). On the benchmark
suite the labels are drawn at random, so the test should find no shift.
For every split this script reads ``pool_shift_`` and the weight from a fit
cut short (one epoch, one round: the test reads the encoded rows, not the
network), and with ``--stored`` (the ``.npz`` files of
``labels_only_member.py``: both members' probabilities, fitted with the
equal weights of before) the test accuracy that the weight gives against
equal weights.

    cd benchmarks
    DS="$(python -c "import _suite; print(' '.join(_suite.PUBLIC))") motif60"
    OMP_NUM_THREADS=1 python pool_shift.py --datasets $DS --csv shift.csv --stored member/
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _suite import DATASETS, each_split
from labels_only_member import stored_temperature

from skattn import AttentionSelfTrainingClassifier
from skattn.self_training import combine_members


def stored_accuracy(path, weight):
    """Test accuracy % of the stored members combined with the self-trained weight."""
    d = dict(np.load(path))
    st = {part: np.clip(d[f"st_{part}"], 1e-12, 1) for part in ("train", "test")}
    temperature = stored_temperature(st["train"], d["lab_train"], d["y_partial"] == -1)
    proba = combine_members(np.log(st["test"]), temperature, d["lab_test"], weight)
    return 100 * np.mean(proba.argmax(axis=1) == d["y"][d["test"]])


def collect(datasets, fractions, stored):
    rows = []
    for name, X, _y, fraction, repeat, train, _test, y_partial in each_split(datasets, fractions):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AttentionSelfTrainingClassifier(max_epochs=1, max_iter=1, random_state=repeat)
            model.fit(X.iloc[train], y_partial)
        row = dict(
            dataset=name,
            fraction=fraction,
            repeat=repeat,
            pool_shift=model.pool_shift_,
            weight=model.self_trained_weight_,
        )
        path = stored / f"{name}_{fraction}_{repeat}.npz" if stored else None
        if path is not None and path.exists():
            row["equal weights"] = stored_accuracy(path, 0.5)
            row["with the weight"] = stored_accuracy(path, model.self_trained_weight_)
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--stored", type=Path, help="labels_only_member.py's .npz directory")
    args = parser.parse_args()
    rows = collect(args.datasets, args.fractions, args.stored)
    rows.to_csv(args.csv, index=False)
    print(rows.groupby("fraction").mean(numeric_only=True).drop(columns="repeat").round(3))
    print(rows[rows.weight < 0.5].to_string())


if __name__ == "__main__":
    main()
