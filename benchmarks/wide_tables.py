"""Wide tables: epoch time and peak memory against the number of columns, and latents' accuracy.

Two parts, each run in fresh Python processes (``--worker``) so that every
peak resident memory (``ru_maxrss``) is the run's own:

* **scaling**: synthetic 5,000-row tables (``make_classification``, a tenth
  of the columns informative) with 64, 128, 256, 512 and 1,024 numeric
  columns; ``AttentionClassifier`` with its defaults (labels on all rows,
  ``max_tokens="auto"``, early stopping on its held-out tenth) for
  ``--epochs`` epochs. Reported: seconds per training epoch (skorch's
  ``dur``, the mean over the epochs), the whole fit (which also computes
  ``feature_importances_``), peak RSS, the latents in use, and the growth
  1,024 / 64 columns. With ``--full`` the same with ``max_tokens=None``
  (one token per column, as before latents) at the widths of ``--full``.
* **accuracy**: what chose ``max_tokens="auto"``: test accuracy and fit
  time of one token per column against latent tokens on sklearn's digits
  (64 columns) and on a synthetic 4,000 x 128 table, 20 epochs, a quarter
  of the rows held out for testing.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/wide_tables.py --out benchmarks/results/wide_tables.md

``--out`` also writes ``wide_tables.csv`` beside the report. ``--parts``
runs ``scaling`` or ``accuracy`` alone. Time it on an otherwise idle
machine; threads are whatever ``OMP_NUM_THREADS`` says (the report states
it).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

WIDTHS = (64, 128, 256, 512, 1024)
N_ROWS = 5000
ACCURACY_RUNS = [
    ("digits", None),
    ("digits", 16),
    ("digits", 32),
    ("synthetic-128", None),
    ("synthetic-128", 32),
    ("synthetic-128", 64),
]
ACCURACY_EPOCHS = 20


def _synthetic(n_rows, n_columns, seed=0):
    from sklearn.datasets import make_classification

    return make_classification(
        n_rows, n_columns, n_informative=max(2, n_columns // 10), random_state=seed
    )


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scaling(spec):
    from skattn import AttentionClassifier

    X, y = _synthetic(N_ROWS, spec["width"])
    params = {} if spec["max_tokens"] == "auto" else {"max_tokens": spec["max_tokens"]}
    start = time.perf_counter()
    clf = AttentionClassifier(max_epochs=spec["epochs"], random_state=0, **params).fit(X, y)
    fit_s = time.perf_counter() - start
    epochs = [epoch["dur"] for epoch in clf.net_.history if "train_loss" in epoch]
    return dict(
        epoch_s=float(np.mean(epochs)),
        fit_s=fit_s,
        n_latents=clf.n_latents_,
        peak_mib=_peak_mib(),
    )


def _accuracy(spec):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from skattn import AttentionClassifier

    if spec["data"] == "digits":
        X, y = load_digits(return_X_y=True)
    else:
        X, y = _synthetic(4000, 128)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    start = time.perf_counter()
    clf = AttentionClassifier(
        max_epochs=ACCURACY_EPOCHS, max_tokens=spec["max_tokens"], random_state=0
    ).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    epochs = [epoch["dur"] for epoch in clf.net_.history if "train_loss" in epoch]
    return dict(
        accuracy=clf.score(X_test, y_test),
        fit_s=fit_s,
        epoch_s=float(np.mean(epochs)),
        n_epochs=len(epochs),
        n_latents=clf.n_latents_,
        peak_mib=_peak_mib(),
    )


def _run(spec):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode:
        return {**spec, "error": f"exit {done.returncode}"}
    return {**spec, **json.loads(done.stdout.strip().splitlines()[-1])}


def _report(scaling, accuracy, threads):
    lines = [
        "# Wide tables",
        "",
        "Written by `benchmarks/wide_tables.py` on "
        f"{platform.machine()} ({os.cpu_count()} cores, shared with other jobs), "
        f"torch threads: OMP_NUM_THREADS={threads}.",
        "",
    ]
    if scaling:
        table = pd.DataFrame(scaling)
        table["max_tokens"] = [str(value) for value in table["max_tokens"]]
        lines += [
            f"## Epoch time and peak memory ({N_ROWS:,} rows, labels on all rows)",
            "",
            "`AttentionClassifier` defaults (`max_tokens` as shown), "
            f"{table['epochs'].iloc[0]} epochs; epoch s: skorch's `dur` per training epoch "
            "(mean); fit s: the whole fit with `feature_importances_`; peak MiB: the "
            "process's `ru_maxrss`.",
            "",
            "| columns | max_tokens | latents | epoch s | fit s | peak MiB |",
            "| ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for row in table.itertuples():
            if hasattr(row, "error") and isinstance(row.error, str):
                lines.append(f"| {row.width} | {row.max_tokens} | | {row.error} | | |")
                continue
            lines.append(
                f"| {row.width} | {row.max_tokens} | {row.n_latents} | {row.epoch_s:.2f} | "
                f"{row.fit_s:.1f} | {row.peak_mib:.0f} |"
            )
        auto = table[table["max_tokens"] == "auto"].set_index("width")
        if {64, 1024} <= set(auto.index) and "epoch_s" in auto:
            lines += [
                "",
                f"Growth 1,024 / 64 columns with the defaults: epoch time "
                f"{auto.loc[1024, 'epoch_s'] / auto.loc[64, 'epoch_s']:.1f}x (target: at "
                f"most 20x); peak memory at 1,024 columns "
                f"{auto.loc[1024, 'peak_mib']:.0f} MiB (target: under 2,048).",
            ]
    if accuracy:
        lines += [
            "",
            f"## One token per column or latent tokens ({ACCURACY_EPOCHS} epochs)",
            "",
            "Test accuracy on a stratified quarter of the rows; digits: sklearn's 8x8 "
            "digits as 64 columns; synthetic-128: `make_classification(4000, 128, "
            "n_informative=12)`.",
            "",
            "| data | max_tokens | latents | accuracy | epoch s | fit s |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for row in accuracy:
            if "error" in row:
                lines.append(f"| {row['data']} | {row['max_tokens']} | | {row['error']} | | |")
                continue
            lines.append(
                f"| {row['data']} | {row['max_tokens']} | {row['n_latents']} | "
                f"{row['accuracy']:.3f} | {row['epoch_s']:.2f} | {row['fit_s']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/wide_tables.md")
    parser.add_argument("--parts", nargs="+", default=["scaling", "accuracy"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--full", type=int, nargs="*", default=[64, 128, 256])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        result = _scaling(spec) if spec["part"] == "scaling" else _accuracy(spec)
        print(json.dumps(result))
        return
    scaling, accuracy = [], []
    if "scaling" in args.parts:
        specs = [dict(part="scaling", width=w, max_tokens="auto") for w in WIDTHS]
        specs += [dict(part="scaling", width=w, max_tokens=None) for w in args.full]
        for spec in specs:
            scaling.append(_run({**spec, "epochs": args.epochs}))
            print(scaling[-1], flush=True)
    if "accuracy" in args.parts:
        for data, max_tokens in ACCURACY_RUNS:
            accuracy.append(_run(dict(part="accuracy", data=data, max_tokens=max_tokens)))
            print(accuracy[-1], flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_report(scaling, accuracy, os.environ.get("OMP_NUM_THREADS", "default")))
    pd.DataFrame(scaling + accuracy).to_csv(out.with_suffix(".csv"), index=False)
    print(out.read_text())


if __name__ == "__main__":
    main()
