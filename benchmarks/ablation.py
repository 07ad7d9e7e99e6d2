"""Ablation table: skattn variants against a reference run, paired cell by cell.

Each CSV holds raw rows of ``semi_supervised.py``; every skattn method in
the ``--variants`` files is a variant (a run with ``--param`` names its
method after the parameters). A cell is a (dataset, fraction, split); a
variant is compared only on the cells it shares with the reference's single
skattn method (``--reference-method``, where the reference file holds
several, as the suite's results table does). Usage::

    python benchmarks/semi_supervised.py --methods "skattn SelfTraining" \
        --param retrieval_neighbors=32 --repeats 2 --out retrieval.md
    python benchmarks/ablation.py --reference defaults.csv \
        --variants retrieval.csv --out ablation.md
"""

import argparse

import pandas as pd

KEYS = ["dataset", "fraction", "repeat"]


def _skattn_rows(paths):
    rows = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    return rows[rows["method"].str.startswith("skattn")]


def ablation(reference, variants):
    """Markdown lines: per variant and fraction, the paired difference in test accuracy."""
    lines = [
        "| variant | labels | cells | datasets | difference +- s.e. (points) "
        "| wins / losses (cells) | fit time / reference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, rows in variants:
        shared = rows.index.intersection(reference.index)
        paired = rows.loc[shared, "test"] - reference.loc[shared, "test"]
        for fraction, diff in paired.groupby(level="fraction"):
            part = diff.index
            ratio = rows.loc[part, "seconds"].sum() / reference.loc[part, "seconds"].sum()
            lines.append(
                f"| {name} | {100 * fraction:g}% | {len(diff)} "
                f"| {diff.index.get_level_values('dataset').nunique()} "
                f"| {diff.mean():+.2f} +- {diff.sem():.2f} "
                f"| {int((diff > 0).sum())} / {int((diff < 0).sum())} | {ratio:.2f} |"
            )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--variants", nargs="+", required=True, metavar="CSV")
    parser.add_argument("--reference-method", default="skattn SelfTraining")
    parser.add_argument("--out")
    args = parser.parse_args()
    reference = _skattn_rows([args.reference])
    if reference["method"].nunique() > 1:
        reference = reference[reference["method"] == args.reference_method]
    reference = reference.set_index(KEYS)
    rows = _skattn_rows(args.variants)
    variants = [(name, part.set_index(KEYS)) for name, part in rows.groupby("method", sort=False)]
    text = "\n".join(ablation(reference, variants)) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
