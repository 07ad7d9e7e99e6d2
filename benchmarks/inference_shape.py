"""What batches of one shape cost at predict time: padded against unpadded, side by side.

Since issue 21 every forward pass at predict time has the same number of
rows (the last batch is padded with copies of its last row), so that a
row's prediction never depends on the rows predicted beside it. This
measures the price: ``predict_proba`` of ``AttentionClassifier`` (defaults,
2 epochs on 5,000 rows of a 20-feature ``make_classification`` table) on 1
row, 20 rows and 100,000 rows, with the padding and without it (the same
fitted model; the padding switched off by wrapping
``skattn._base.inference_batches``). The two run interleaved, ``--calls``
times each (the median is reported), in one process. Usage::

    python benchmarks/inference_shape.py --out benchmarks/results/inference_shape.md

Time it on an otherwise idle machine.
"""

import argparse
import os
import platform
import statistics
import time

import torch
from sklearn.datasets import make_classification

import skattn._base as base
from skattn import AttentionClassifier

PADDED = base.inference_batches


def unpadded(inputs, device, size=None, *, pad=False):
    return PADDED(inputs, device, size, pad=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--out", help="Markdown report to write")
    args = parser.parse_args()
    X, y = make_classification(
        n_samples=105_000, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    clf = AttentionClassifier(max_epochs=2, random_state=0).fit(X[:5000], y[:5000])
    sizes = {"1 row": 1, "20 rows": 20, "100,000 rows": 100_000}
    repeats = {1: 200, 20: 200, 100_000: 1}  # calls of a timed block
    times = {(name, kind): [] for name in sizes for kind in ("padded", "unpadded")}
    clf.predict_proba(X[-1000:])  # warm-up
    for _ in range(args.calls):
        for name, n_rows in sizes.items():
            rows = X[-n_rows:]
            for kind, batches in (("padded", PADDED), ("unpadded", unpadded)):
                base.inference_batches = batches
                start = time.perf_counter()
                for _ in range(repeats[n_rows]):
                    clf.predict_proba(rows)
                times[name, kind].append((time.perf_counter() - start) / repeats[n_rows])
    base.inference_batches = PADDED
    lines = [
        "# Inference in batches of one shape: what the padding costs",
        "",
        f"`python benchmarks/inference_shape.py --calls {args.calls}`: AttentionClassifier "
        "(defaults, 2 epochs on 5,000 rows, 20 features), `predict_proba`, the median of "
        f"{args.calls} timed calls per cell; padded and unpadded interleaved, same model.",
        f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads.",
        "",
        "| rows per call | padded (now) | unpadded (before) | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for name, n_rows in sizes.items():
        padded = statistics.median(times[name, "padded"])
        plain = statistics.median(times[name, "unpadded"])
        unit = (
            f"{padded * 1e3:.2f} ms | {plain * 1e3:.2f} ms"
            if n_rows < 1000
            else f"{n_rows / padded:,.0f} rows/s | {n_rows / plain:,.0f} rows/s"
        )
        lines.append(f"| {name} | {unit} | {padded / plain:.2f}x time |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w") as file:
            file.write(report)


if __name__ == "__main__":
    main()
