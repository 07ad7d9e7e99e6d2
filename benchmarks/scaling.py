"""Scaling with the number of rows: fit time per epoch and peak memory.

Synthetic rows (``make_classification``: 20 features, 10 informative, 3
classes), 10% of them labeled (drawn with ``RandomState(0)``), the rest -1,
for n from 1e3 to 1e6. ``AttentionSelfTrainingClassifier`` (2 epochs of
round 0, then 1 round of pseudo-labels with 1 epoch: 3 epochs, each one
pass over all rows plus labeled draws; the k-NN label spreading of
``propagation_weight`` runs once per fit) and, to show that graph's cost,
the same with ``propagation_weight=0``; beside them ``LabelSpreading``
(knn and rbf kernels; rbf is skipped where its dense n x n float64 affinity
alone would pass 8 GiB) and ``SelfTrainingClassifier`` around
``HistGradientBoostingClassifier``.

Every (method, n) runs in a fresh subprocess, so its peak resident memory
(``ru_maxrss``) is that fit's; the baseline is the resident memory after
the method's imports and the data. skattn's time per epoch is the mean of
skorch's per-epoch ``dur`` (from n = 1e4 on, 1000 labeled rows switch on
early stopping, so an epoch also scores the held-out tenth of the labeled
rows); ``overhead s`` is the fit's wall time minus its epochs (encoding,
k-NN label spreading, pseudo-label scoring, feature importances), of which
``spreading s`` is the label spreading. The other methods have no epochs:
their fit time is plotted. Usage::

    python benchmarks/scaling.py --out benchmarks/results/scaling.md

``--methods`` and ``--sizes`` run a part, ``--quick`` runs n = 1000 and
3000 only, ``--timeout`` bounds each fit (seconds; a fit that runs past it
is recorded as a timeout).
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
from _suite import peak_mib, rss_mib

N_FEATURES = 20
N_INFORMATIVE = 10
N_CLASSES = 3
LABELED_FRACTION = 0.1
# LabelSpreading(kernel="rbf") holds dense n x n float64 matrices.
RBF_LIMIT_BYTES = 8 * 2**30
# LabelSpreading(kernel="knn") searches neighbours exactly (brute force above
# 15 features): time in the square of the rows; 1e6 would take hours here.
KNN_LIMIT_ROWS = 100_000
# The targets for skattn.
TARGET_RATIO, TARGET_RATIO_FROM, TARGET_PEAK_MIB = 110, 10_000, 2048

METHODS = {
    "skattn": "skattn",
    "skattn-nospread": "skattn (no spreading)",
    "spreading-knn": "LabelSpreading (knn)",
    "spreading-rbf": "LabelSpreading (rbf)",
    "selftraining-hgb": "SelfTraining (HGB)",
}
SKATTN = ["skattn", "skattn-nospread"]
COLUMNS = [
    "method",
    "n",
    "fit_s",
    "s_per_epoch",
    "us_per_row",
    "overhead_s",
    "spreading_s",
    "peak_mib",
    "baseline_mib",
    "peak_minus_baseline_mib",
    "status",
    "epochs",
    "pass_rows",
    "epoch_durations",
    "torch_version",
    "torch_threads",
]


# ---------------------------------------------------------------- worker side


def emit(**record):
    """One JSON line on stdout: progress, or the final record."""
    print(json.dumps(record), flush=True)


def make_data(n):
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n,
        n_features=N_FEATURES,
        n_informative=N_INFORMATIVE,
        n_classes=N_CLASSES,
        random_state=0,
    )
    labeled = np.random.RandomState(0).choice(n, size=int(LABELED_FRACTION * n), replace=False)
    y_partial = np.full(n, -1)
    y_partial[labeled] = y[labeled]
    return X, y_partial


def prepare_skattn(**params):
    """Import skattn; return ``fit(X, y) -> record`` and the torch facts."""
    import torch

    import skattn.self_training as self_training

    clf = self_training.AttentionSelfTrainingClassifier(
        random_state=0,
        max_epochs=2,
        epochs_per_round=1,
        max_iter=1,
        **params,
    )
    timings = {}
    spread_labels = self_training.spread_labels

    def timed_spread_labels(*args, **kwargs):
        # Round 0's epochs are done: say so, in case the graph runs past the timeout.
        emit(stage="k-NN spreading", epoch_durations=clf.net_.history[:, "dur"])
        start = time.perf_counter()
        distributions = spread_labels(*args, **kwargs)
        timings["spreading_s"] = time.perf_counter() - start
        return distributions

    # The rounds look spread_labels up in skattn.self_training at call time.
    self_training.spread_labels = timed_spread_labels

    def fit(X, y):
        start = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - start
        durations = clf.net_.history[:, "dur"]
        # Validation batches (early stopping) sit beside the training ones.
        n_valid = sum(b.get("valid_batch_size", 0) for b in clf.net_.history[0, "batches"])
        pass_rows = len(y) - n_valid
        s_per_epoch = float(np.mean(durations))
        return dict(
            fit_s=fit_s,
            s_per_epoch=s_per_epoch,
            us_per_row=1e6 * s_per_epoch / pass_rows,
            overhead_s=fit_s - float(np.sum(durations)),
            spreading_s=timings.get("spreading_s", 0.0),
            epochs=len(durations),
            pass_rows=pass_rows,
            epoch_durations=[round(d, 4) for d in durations],
        )

    return fit, dict(torch_version=torch.__version__, torch_threads=torch.get_num_threads())


def prepare_sklearn(method):
    """Import scikit-learn's estimator; return ``fit(X, y) -> record``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

    estimator = {
        "spreading-knn": lambda: LabelSpreading(kernel="knn", n_neighbors=7),
        "spreading-rbf": lambda: LabelSpreading(kernel="rbf"),
        "selftraining-hgb": lambda: SelfTrainingClassifier(
            HistGradientBoostingClassifier(random_state=0), threshold=0.9
        ),
    }[method]

    def fit(X, y):
        start = time.perf_counter()
        estimator().fit(X, y)
        return dict(fit_s=time.perf_counter() - start)

    return fit, {}


def worker(method, n):
    warnings.filterwarnings("ignore")
    if method in SKATTN:
        fit, facts = prepare_skattn(**({} if method == "skattn" else {"propagation_weight": 0}))
    else:
        fit, facts = prepare_sklearn(method)
    X, y = make_data(n)
    baseline = rss_mib()
    emit(stage="fit")
    record = fit(X, y)
    peak = peak_mib()
    emit(
        method=METHODS[method],
        n=n,
        **record,
        peak_mib=peak,
        baseline_mib=baseline,
        peak_minus_baseline_mib=peak - baseline,
        status="ok",
        **facts,
    )


# ---------------------------------------------------------------- parent side


def rbf_bytes(n):
    return n * n * 8


def last_record(stdout):
    """The last JSON line a worker printed (its result or its last progress)."""
    for line in reversed((stdout or "").splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return {}


def run_one(method, n, timeout):
    row = dict(method=METHODS[method], n=n)
    if method == "spreading-rbf" and rbf_bytes(n) > RBF_LIMIT_BYTES:
        return {**row, "status": f"skipped: would need ~{rbf_bytes(n) / 2**30:.0f} GiB"}
    if method == "spreading-knn" and n > KNN_LIMIT_ROWS:
        return {**row, "status": "skipped: exact k-NN search, quadratic in rows"}
    command = [sys.executable, os.path.abspath(__file__), "--worker", method, "--n", str(n)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        stdout = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        progress = last_record(stdout)
        stage = progress.pop("stage", "start")
        durations = progress.get("epoch_durations")
        if durations:  # skattn's round-0 epochs finished before the timeout
            row.update(s_per_epoch=float(np.mean(durations)), epoch_durations=durations)
        return {**row, "status": f"timeout after {timeout:.0f} s (in {stage})"}
    record = last_record(done.stdout)
    if done.returncode != 0 or record.get("status") != "ok":
        reason = (done.stderr or "").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        if done.returncode < 0:
            reason = [f"killed by signal {-done.returncode}"]
        return {**row, "status": f"error: {reason[0][:120]}"}
    return record


def machine_line(rows):
    try:
        with open("/proc/meminfo") as file:
            kib = next(int(line.split()[1]) for line in file if line.startswith("MemTotal:"))
        ram = f"{kib / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    torch_rows = [r for r in rows if r.get("torch_version")]
    torch_facts = (
        f"torch {torch_rows[0]['torch_version']}, {torch_rows[0]['torch_threads']} torch threads"
        if torch_rows
        else "torch not run"
    )
    threads = os.environ.get("OMP_NUM_THREADS")
    threads = f", OMP_NUM_THREADS={threads}" if threads else ""
    return f"{platform.platform()}, {os.cpu_count()} CPUs, {ram}, {torch_facts}{threads}"


def fmt(value, digits):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f"{value:.{digits}f}"


def skattn_summary(table):
    """Growth of s/epoch and the peak at the largest size, against the targets."""
    lines = []
    for label in (METHODS[m] for m in SKATTN):
        runs = table[(table.method == label) & table.s_per_epoch.notna()].sort_values("n")
        if runs.empty:
            continue
        by_n = runs.set_index("n")
        start = TARGET_RATIO_FROM if TARGET_RATIO_FROM in by_n.index else int(by_n.index[0])
        end = int(by_n.index[-1])
        ratio = by_n.s_per_epoch[end] / by_n.s_per_epoch[start]
        lines.append(
            f"- {label}: s/epoch grows {ratio:.1f}x from n={start:,} to n={end:,} "
            f"(rows {end / start:.0f}x; target ≤ {TARGET_RATIO}x from 1e4 to 1e6)."
        )
        peaks = table[(table.method == label) & table.peak_mib.notna()].sort_values("n")
        if not peaks.empty:
            peak = peaks.iloc[-1]
            lines.append(
                f"- {label}: peak memory {peak.peak_mib:.0f} MiB at n={int(peak.n):,} "
                f"({peak.peak_minus_baseline_mib:.0f} MiB above the baseline; "
                f"target < {TARGET_PEAK_MIB} MiB at 1e6)."
            )
    return lines


def plot(table, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(12, 4.8))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = dict(zip(METHODS.values(), cycle, strict=False))
    for label, runs in table.groupby("method", sort=False):
        runs = runs.sort_values("n")
        fitted = runs[runs.fit_s.notna()]
        ax_time.plot(fitted.n, fitted.fit_s, "o-", color=colors[label], label=f"{label}: fit s")
        if runs.s_per_epoch.notna().any():
            epochs = runs[runs.s_per_epoch.notna()]
            ax_time.plot(
                epochs.n,
                epochs.s_per_epoch,
                "s:",
                color=colors[label],
                label=f"{label}: s/epoch",
            )
        measured = runs[runs.peak_mib.notna()]
        ax_memory.plot(measured.n, measured.peak_mib, "o-", color=colors[label], label=label)
    for ax in (ax_time, ax_memory):
        lines = [line for line in ax.get_lines() if len(line.get_xdata())]
        # The reference starts from skattn's s/epoch where there is one.
        per_epoch = [line for line in lines if line.get_label().endswith("s/epoch")]
        lines = per_epoch or lines
        if not lines:
            continue
        n0 = min(min(line.get_xdata()) for line in lines)
        y0 = min(line.get_ydata()[0] for line in lines if line.get_xdata()[0] == n0)
        n = np.array([n0, table.n.max()], dtype=float)
        ax.plot(n, y0 * n / n0, "--", color="grey", label="slope 1 (linear)")
        ax.set(xscale="log", yscale="log", xlabel="rows n")
    ax_memory.axhline(TARGET_PEAK_MIB, color="grey", linestyle=":", label="2 GiB")
    ax_time.set(ylabel="seconds", title="Time: skattn s/epoch; fit s for every method")
    ax_memory.set(ylabel="peak resident memory (MiB)", title="Peak memory of the fit's process")
    ax_time.legend(fontsize=7)
    ax_memory.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(rows, args, command):
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table = table.astype({c: float for c in COLUMNS[2:10]})
    lines = [
        "# Scaling with the number of rows: time per epoch and peak memory",
        "",
        f"`{command}`",
        "",
        f"{machine_line(rows)}. make_classification: {N_FEATURES} features, "
        f"{N_CLASSES} classes, {LABELED_FRACTION:.0%} labeled. skattn: "
        "AttentionSelfTrainingClassifier(max_epochs=2, epochs_per_round=1, max_iter=1), "
        "s/epoch is the mean of its 3 epochs, µs/row that over the rows of one pass; "
        "overhead s = fit s minus the epochs (spreading s of it is the k-NN label "
        "spreading). Peak = ru_maxrss of the fit's own process; baseline = its resident "
        "memory after imports and data.",
        "",
        "| method | n | fit s | s/epoch | µs/row | overhead s | spreading s | peak MiB "
        "| peak-baseline MiB | status |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.method} | {row.n:,} | {fmt(row.fit_s, 2)} | {fmt(row.s_per_epoch, 3)} "
            f"| {fmt(row.us_per_row, 1)} | {fmt(row.overhead_s, 2)} "
            f"| {fmt(row.spreading_s, 2)} | {fmt(row.peak_mib, 0)} "
            f"| {fmt(row.peak_minus_baseline_mib, 0)} | {row.status} |"
        )
    summary = skattn_summary(table)
    if summary:
        lines += ["", *summary]
    if args.out:
        with open(args.out, "w") as file:
            file.write("\n".join(lines) + "\n")
        table.to_csv(args.out.replace(".md", ".csv"), index=False)
        plot(table, args.out.replace(".md", ".png"))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--quick", action="store_true", help="n = 1000 and 3000 only")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per fit")
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", choices=list(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.n)
        return
    command = shlex.join(["python", *sys.argv])
    sizes = [1000, 3000] if args.quick else sorted(args.sizes)
    rows = []
    for n in sizes:
        for method in args.methods:
            rows.append(run_one(method, n, args.timeout))
            row = rows[-1]
            print(
                f"n={n:,} {row['method']}: fit {fmt(row.get('fit_s'), 2) or '-'} s, "
                f"s/epoch {fmt(row.get('s_per_epoch'), 3) or '-'}, "
                f"peak {fmt(row.get('peak_mib'), 0) or '-'} MiB ({row['status']})",
                flush=True,
            )
            # Rewrite the files after every fit: a long run keeps what it measured.
            lines = report(rows, args, command)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
