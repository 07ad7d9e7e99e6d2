"""Digits with few labels: image patches against one token per pixel column.

``AttentionSelfTrainingClassifier`` with default hyperparameters, fed the
same rows of scikit-learn's digits either as a table of 64 columns
(``tokenizer="feature"``, 65 tokens) or as 8x8 images cut into patches
(``tokenizer="patch"``, patch sizes 2 and 4: 17 and 5 tokens). Splits and
label selection follow shared/BENCHMARKS.md (3 stratified 75/25 splits;
10% and 1% of each class labeled, at least 2). Label spreading on the
standardised pixels is run beside them for orientation. Usage::

    python benchmarks/digits_tokenizers.py --out benchmarks/results/digits_tokenizers.md
"""

import argparse
import platform
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _suite import load, splits
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

from skattn import AttentionSelfTrainingClassifier


def fit_skattn(tokenizer, patch_size=None):
    def fit(pixels, images, y_partial, seed):
        params = {} if patch_size is None else dict(patch_size=patch_size)
        clf = AttentionSelfTrainingClassifier(tokenizer=tokenizer, random_state=seed, **params)
        data = pixels if tokenizer == "feature" else images
        clf.fit(data[0], y_partial)
        return clf.predict(data[1])

    return fit


def fit_spreading(pixels, images, y_partial, seed):
    scaler = StandardScaler().fit(pixels[0])
    spreading = LabelSpreading(kernel="knn", n_neighbors=7).fit(
        scaler.transform(pixels[0]), y_partial
    )
    return spreading.predict(scaler.transform(pixels[1]))


METHODS = {
    "feature tokens (65)": fit_skattn("feature"),
    "patch 2x2 (17 tokens)": fit_skattn("patch", 2),
    "patch 4x4 (5 tokens)": fit_skattn("patch", 4),
    "LabelSpr(knn)": fit_spreading,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.10, 0.01])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    X, y = load("digits")
    pixels = X.to_numpy()
    images = pixels.reshape(-1, 8, 8)
    rows = []
    for fraction in args.fractions:
        for repeat, train, test, y_partial in splits(y, fraction, args.repeats):
            for method, fit in METHODS.items():
                start = time.perf_counter()
                predicted = fit(
                    (pixels[train], pixels[test]), (images[train], images[test]), y_partial, repeat
                )
                seconds = time.perf_counter() - start
                accuracy = float(np.mean(predicted == y[test]))
                rows.append(
                    dict(
                        fraction=fraction,
                        repeat=repeat,
                        method=method,
                        accuracy=accuracy,
                        seconds=seconds,
                    )
                )
                print(
                    f"{fraction:.0%} r{repeat} {method}: {accuracy:.4f} ({seconds:.1f} s)",
                    flush=True,
                )
    table = pd.DataFrame(rows)
    summary = table.groupby(["fraction", "method"], sort=False).agg(
        accuracy=("accuracy", "mean"), spread=("accuracy", "std"), seconds=("seconds", "mean")
    )
    lines = [
        "# Digits with few labels: patch tokens vs feature tokens",
        "",
        f"`python benchmarks/digits_tokenizers.py` ({args.repeats} splits; "
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}). Test accuracy % (mean ± sd over splits) and mean fit "
        "seconds of AttentionSelfTrainingClassifier with default hyperparameters.",
        "",
        "| labels | method | test accuracy % | fit s |",
        "| --- | --- | --- | --- |",
    ]
    for (fraction, method), row in summary.iterrows():
        lines.append(
            f"| {fraction:.0%} | {method} | {100 * row.accuracy:.1f} ± "
            f"{100 * row.spread:.1f} | {row.seconds:.1f} |"
        )
    print("\n".join(lines))
    if args.out:
        with open(args.out, "w") as file:
            file.write("\n".join(lines) + "\n")
        table.to_csv(args.out.replace(".md", ".csv"), index=False)


if __name__ == "__main__":
    main()
