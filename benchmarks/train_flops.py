"""Work per training row: the matrix FLOPs each network of speed.py spends per row it trains on.

Training throughput (rows per second) compares methods whose networks do
very different amounts of work per row. This counts that work: every
torch method of ``speed.py`` fits once, on the same data and with the same
settings, under :class:`torch.utils.flop_counter.FlopCounterMode`, and its
matrix FLOPs (matrix products and attention, forward and backward, over the
whole ``fit``, pretraining and pseudo-labeling included) are divided by the
rows fed to its training steps, as ``speed.py`` counts them. Attention runs
through PyTorch's math kernel here, the one form the counter sees; the
element-wise work (norms, activations, dropout) is not counted. Counts do
not depend on the machine. With ``speed.csv`` from the same code, the
report also gives the GFLOP/s each method sustained in that run and the
rate skattn would need for a throughput ratio (``--ratio``, default 3)
against TabNet, next to this machine's ceiling: the rate of one large
float32 matrix product (2048 x 2048 x 2048), timed here. Usage::

    python benchmarks/train_flops.py --speed-csv benchmarks/results/speed.csv \\
        --out benchmarks/results/train_flops.md
"""

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import speed
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

TORCH_METHODS = [*speed.SKATTN, "TabNet", "skorch MLP"]
# The ceiling: the best of CEILING_REPEATS float32 products of two N x N matrices.
CEILING_N, CEILING_REPEATS = 2048, 20


def count(method, data, epochs):
    """``(matrix FLOPs of one fit, rows fed to its training steps)`` for ``method``."""
    args = argparse.Namespace(epochs=epochs, device="cpu", quick=False, tabnet_rows="labeled")
    fit, _, stats = speed.METHODS[method](args)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model = fit(data)
    return counter.get_total_flops(), stats(model, data)["train_rows"]


def sgemm_rate():
    """GFLOP/s of the ceiling's float32 matrix product (see CEILING_N)."""
    n = CEILING_N
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(CEILING_REPEATS):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def report(table, command, epochs, ratio, ceiling):
    lines = [
        "# Matrix FLOPs per training row",
        "",
        f"`{command}`",
        "",
        f"Data and settings of `speed.py` ({speed.DATASET}, {100 * speed.FRACTION:g}% labels, "
        f"split 0; E = {epochs} epochs; AttentionSelfTraining with its defaults). FLOPs of matrix "
        "products and attention, forward and backward, over each whole fit, divided by "
        "the rows fed to its training steps; element-wise work is not counted.",
        "",
        "| method | training rows | GFLOP in fit | MFLOP per training row | vs TabNet |"
        + (" train rows/s (speed.csv) | GFLOP/s sustained |" if "rows_s" in table else ""),
        "| --- | --- | --- | --- | --- |" + (" --- | --- |" if "rows_s" in table else ""),
    ]
    tabnet = table.loc["TabNet", "per_row"]
    for method, row in table.iterrows():
        cells = [
            f"{row.rows:,.0f}",
            f"{row.flops / 1e9:,.1f}",
            f"{row.per_row / 1e6:.3f}",
            f"{row.per_row / tabnet:.1f}x",
        ]
        if "rows_s" in table:
            cells += [f"{row.rows_s:,.0f}", f"{row.rows_s * row.per_row / 1e9:.1f}"]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    if "rows_s" in table:
        needed = ratio * table.loc["TabNet", "rows_s"]
        lines += ["", f"For {ratio:g}x TabNet's training rows/s ({needed:,.0f} rows/s):", ""]
        for method in ("AttentionSelfTraining", "AttentionClassifier"):
            rate = needed * table.loc[method, "per_row"] / 1e9
            lines.append(f"- {method} would sustain {rate:.1f} GFLOP/s of matrix work.")
    lines += [
        "",
        f"This machine's ceiling: {ceiling:.0f} GFLOP/s for one {CEILING_N} x {CEILING_N} x "
        f"{CEILING_N} float32 matrix product ({torch.get_num_threads()} torch threads, "
        f"best of {CEILING_REPEATS}).",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--speed-csv", help="speed.py's records, for the rates sustained")
    parser.add_argument("--ratio", type=float, default=3.0)
    parser.add_argument("--out", help="write the markdown report here")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    data = speed._data(quick=False)
    rows = {}
    for method in TORCH_METHODS:
        flops, train_rows = count(method, data, args.epochs)
        rows[method] = dict(flops=flops, rows=train_rows, per_row=flops / train_rows)
        print(f"{method:22s} {flops / train_rows / 1e6:8.3f} MFLOP per training row", flush=True)
    table = pd.DataFrame(rows).T
    if args.speed_csv:
        rates = pd.read_csv(args.speed_csv).set_index("method")["train_rows_per_s"]
        table["rows_s"] = rates.reindex(table.index)
    command = shlex.join(["python", "benchmarks/train_flops.py", *sys.argv[1:]])
    text = report(table, command, args.epochs, args.ratio, sgemm_rate())
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
