"""AttentionClassifier on the labels: one network against an ensemble of members (issue 29).

Fits ``AttentionClassifier()`` with its defaults on the labeled rows of
every split of the public suite, once per ``--members`` value (the number
of members sharing the encoder, :class:`skattn.nn.Members`; 1 is a single
network, the default before issue 29), side by side in one process, and
records test accuracy and CPU seconds of each fit. ``--report`` shows them
per (dataset, fraction) cell beside the anchors of ``semi_supervised.py``.
``--self-training`` fits ``AttentionSelfTrainingClassifier(max_iter=0)``
instead, on all training rows: the labels-only member that self-training
fits beside its own network (its training budget, ``max_epochs="auto"``,
and the labeled rows' column statistics), so that the member's share of a
self-training fit can be measured.

    cd benchmarks
    DS="$(python -c "import _suite; print(' '.join(_suite.PUBLIC))") motif60"
    OMP_NUM_THREADS=1 python labels_network.py --members 1 4 --csv members.csv --datasets $DS
    OMP_NUM_THREADS=1 python labels_network.py --self-training --csv member.csv --datasets $DS
    python labels_network.py --report members.csv --anchors results/anchors_issue29.csv
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _suite import DATASETS, each_split

import skattn.supervised
from skattn import AttentionClassifier
from skattn import AttentionSelfTrainingClassifier as SelfTraining


def collect(datasets, fractions, members, csv, self_training=False):
    done = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
    for name, X, y, fraction, repeat, train, test, y_partial in each_split(datasets, fractions):
        key = (name, fraction, repeat)
        if len(done) and (done[["dataset", "fraction", "repeat"]] == key).all(1).any():
            continue
        labeled = y_partial != -1
        rows = []
        for k in members:
            skattn.supervised.ENSEMBLE_MEMBERS = k
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self_training:
                    model = SelfTraining(max_iter=0, random_state=repeat)
                    model.fit(X.iloc[train], y_partial)
                else:
                    model = AttentionClassifier(random_state=repeat)
                    model.fit(X.iloc[train][labeled], y_partial[labeled])
            cpu = time.process_time() - start
            test_accuracy = 100 * np.mean(model.predict(X.iloc[test]) == y[test])
            rows.append(
                dict(
                    dataset=name,
                    fraction=fraction,
                    repeat=repeat,
                    members=k,
                    test=test_accuracy,
                    cpu=cpu,
                )
            )
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
        done.to_csv(csv, index=False)
        print(*key, [round(r["test"], 1) for r in rows], flush=True)


def report(csv, anchors=None):
    frame = pd.read_csv(csv)
    index = ["dataset", "fraction"]
    accuracy = frame.pivot_table(index=index, columns="members", values="test")
    accuracy.columns = [f"{k} member{'s' * (k > 1)}" for k in accuracy.columns]
    cpu = frame.pivot_table(index=index, columns="members", values="cpu")
    cpu.columns = [f"CPU s, {k}" for k in cpu.columns]
    cells = accuracy.join(cpu)
    if anchors is not None:
        anchor = pd.read_csv(anchors).pivot_table(index=index, columns="method", values="test")
        cells = cells.join(anchor[[c for c in anchor.columns if "labels" in c]])
    means = cells.groupby(level="fraction").mean()
    text = cells.round(1).to_markdown() + "\n\nMean over datasets:\n\n"
    return text + means.round(2).to_markdown() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--members", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--self-training", action="store_true", help="the labels-only member")
    parser.add_argument("--csv", type=Path, help="fit and append the rows to this file")
    parser.add_argument("--report", type=Path, help="show the rows of this file")
    parser.add_argument("--anchors", type=Path, help="semi_supervised.py raw rows to show beside")
    args = parser.parse_args()
    if args.csv:
        collect(args.datasets, args.fractions, args.members, args.csv, args.self_training)
    if args.report:
        print(report(args.report, args.anchors))


if __name__ == "__main__":
    main()
