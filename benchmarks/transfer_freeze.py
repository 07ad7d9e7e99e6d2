"""Fine-tuning an encoder pretrained on a larger table: what ``freeze`` is for.

``FineTuneClassifier(pretrained=None)`` pretrains on the rows it is given;
``freeze="gradual"`` is meant for an encoder pretrained on more rows than
the task has. This measures that case on ``large26`` (16 numeric
columns, 26 classes): per split of the suite's protocol, a
``MaskedAttentionPretrainer`` learns from all 15,000 training rows (no
labels), and the task is a table of ``--task-rows`` of those rows with 1%
or 10% of each class labeled (at least 2). Every method sees the same task
table and is scored on the split's 5,000 test rows:

- ``none``, ``gradual``: ``FineTuneClassifier(pretrained=p, freeze=...)``;
- ``own rows``: ``FineTuneClassifier()``, pretrained on the task table itself;
- ``no pretraining``: ``AttentionSelfTrainingClassifier()``.

``results/transfer_freeze.md`` also holds two options this run measured
and that were then removed for paying nowhere: training the head alone
(``freeze="encoder"``) and ``encoder_lr=1e-4``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/transfer_freeze.py --repeats 2 --out transfer.md
"""

import argparse
import platform
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _suite import keep_labels, load, splits
from sklearn.frozen import FrozenEstimator

from skattn import AttentionSelfTrainingClassifier, FineTuneClassifier, MaskedAttentionPretrainer


def methods(pretrainer, seed):
    tuned = dict(pretrained=FrozenEstimator(pretrainer), random_state=seed)
    return {
        "none": lambda: FineTuneClassifier(**tuned),
        "gradual": lambda: FineTuneClassifier(**tuned, freeze="gradual"),
        "own rows": lambda: FineTuneClassifier(random_state=seed),
        "no pretraining": lambda: AttentionSelfTrainingClassifier(random_state=seed),
    }


def run(repeats, fractions, task_rows):
    X, y = load("large26")
    records = []
    for repeat, train, test, _ in splits(y, 0.1, repeats):
        start = time.process_time()
        pretrainer = MaskedAttentionPretrainer(random_state=repeat).fit(X.iloc[train])
        print(f"split {repeat}: pretrained in {time.process_time() - start:.0f} CPU s", flush=True)
        rng = np.random.RandomState(repeat)
        task = rng.choice(train, task_rows, replace=False)
        for fraction in fractions:
            y_partial = keep_labels(y[task], fraction, rng)
            for name, make in methods(pretrainer, repeat).items():
                start = time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = make().fit(X.iloc[task], y_partial)
                accuracy = 100 * np.mean(model.predict(X.iloc[test]) == y[test])
                cpu = time.process_time() - start
                records.append(
                    dict(fraction=fraction, repeat=repeat, method=name, test=accuracy, cpu=cpu)
                )
                print(f"f={fraction} r={repeat} {name:16s} {accuracy:5.1f} {cpu:6.1f} CPU s")
    return pd.DataFrame(records)


def report(records, task_rows):
    table = records.pivot_table(index="method", columns="fraction", values=["test", "cpu"])
    lines = [
        "# Fine-tuning an encoder pretrained on a larger table",
        "",
        f"`python benchmarks/transfer_freeze.py`: `large26`, a task table of {task_rows} "
        f"training rows, the encoder pretrained on all 15,000; "
        f"{records['repeat'].nunique()} splits. Machine: {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads. Test accuracy %, mean over splits "
        "(CPU seconds of the fine-tuning fit, the pretraining not included).",
        "",
        "| method | " + " | ".join(f"{f:.0%} labels" for f in table["test"].columns) + " |",
        "| --- | " + " | ".join("---" for _ in table["test"].columns) + " |",
    ]
    for method in records["method"].unique():
        cells = [
            f"{table['test'].loc[method, f]:.1f} ({table['cpu'].loc[method, f]:.0f} s)"
            for f in table["test"].columns
        ]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--task-rows", type=int, default=1500)
    parser.add_argument("--out")
    args = parser.parse_args()
    records = run(args.repeats, args.fractions, args.task_rows)
    text = report(records, args.task_rows)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        records.to_csv(args.out.rsplit(".", 1)[0] + ".csv", index=False)


if __name__ == "__main__":
    main()
