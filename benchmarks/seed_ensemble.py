"""AttentionClassifier on the labels, alone and as an ensemble of seeds (issue 29, item 2).

Fits ``AttentionClassifier()`` with its defaults on the labeled rows of
every split of the public suite, ``--members`` times with different seeds
(the first one is the split's seed, as ``semi_supervised.py`` uses), and
reports the test accuracy of the first member alone and of the averaged
probabilities of the first 2, 4, ... members: how much of the gap to an MLP
on the labels is variance that an ensemble removes. Probabilities are kept
per split under ``--out``, so a stopped run resumes.

    cd benchmarks
    DS="$(python -c "import _suite; print(' '.join(_suite.PUBLIC))") motif60"
    OMP_NUM_THREADS=1 python seed_ensemble.py --out ensemble/ --datasets $DS
    python seed_ensemble.py --report ensemble/ --anchors results/anchors_issue29.csv
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _suite import DATASETS, pending

from skattn import AttentionClassifier


def collect(datasets, fractions, members, out):
    for X, y, repeat, train, test, y_partial, path in pending(datasets, fractions, out):
        labeled = y_partial != -1
        probas = []
        for member in range(members):
            seed = repeat + 1000 * member  # member 0: the split's own seed
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = AttentionClassifier(random_state=seed)
                model.fit(X.iloc[train][labeled], y_partial[labeled])
            probas.append(model.predict_proba(X.iloc[test]))
        np.savez(path, proba=np.stack(probas), y_test=y[test])
        print(path.stem, flush=True)


def report(directory, anchors=None):
    rows = []
    for path in sorted(Path(directory).glob("*.npz")):
        d = np.load(path)
        name, fraction, repeat = path.stem.rsplit("_", 2)
        row = dict(dataset=name, fraction=float(fraction), repeat=int(repeat))
        n = len(d["proba"])
        for k in sorted({1, *(2**i for i in range(1, n.bit_length()) if 2**i <= n)}):
            mean = d["proba"][:k].mean(axis=0)
            row[f"{k} member{'s' * (k > 1)}"] = 100 * np.mean(mean.argmax(axis=1) == d["y_test"])
        rows.append(row)
    cells = pd.DataFrame(rows).groupby(["dataset", "fraction"]).mean().drop(columns="repeat")
    if anchors is not None:
        frame = pd.read_csv(anchors)
        index = ["dataset", "fraction"]
        cells = cells.join(frame.pivot_table(index=index, columns="method", values="test"))
    text = cells.round(1).to_markdown() + "\n\nMean over datasets:\n\n"
    return text + cells.groupby(level="fraction").mean().round(2).to_markdown() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--out", type=Path, help="fit and store the members' probabilities")
    parser.add_argument("--report", type=Path, help="score the stored probabilities")
    parser.add_argument("--anchors", type=Path, help="semi_supervised.py raw rows to show beside")
    args = parser.parse_args()
    if args.out:
        collect(args.datasets, args.fractions, args.members, args.out)
    if args.report:
        print(report(args.report, args.anchors))


if __name__ == "__main__":
    main()
