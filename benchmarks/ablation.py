"""Ablation table: skattn variants against a reference run, paired cell by cell.

Each CSV holds raw rows of ``semi_supervised.py``; every skattn method in
the ``--variants`` files is a variant (a run with ``--param`` names its
method after the parameters). A cell is a (dataset, fraction, split); a
variant is compared only on the cells it shares with the reference's single
skattn method (``--reference-method``, where the reference file holds
several, as the suite's results table does). Usage::

    python benchmarks/semi_supervised.py --methods "skattn SelfTraining" \
        --param adaptive_propagation=False --repeats 2 --out fixed.md
    python benchmarks/ablation.py --reference defaults.csv \
        --variants fixed.csv --out ablation.md
"""

import argparse

import pandas as pd

KEYS = ["dataset", "fraction", "repeat"]


def _skattn_rows(paths):
    rows = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    return rows[rows["method"].str.startswith("skattn")]


def ablation(reference, variants):
    """Markdown lines: per variant and fraction, the paired difference in test accuracy.

    Fit time is compared as wall time and as CPU time (``cpu``); the latter
    is the one to read when the variant and the reference ran at different
    times on a shared machine. ``per-set choice`` is the most that choosing
    between the variant and the reference per dataset could gain: the mean
    over datasets of the variant's lead where it leads, 0 elsewhere, picked
    in hindsight (so noise inflates it). A rule that makes the choice from
    the training data, labels or none, gains at most that.
    """
    lines = [
        "| variant | labels | cells | datasets | difference +- s.e. (points) "
        "| wins / losses (cells) | per-set choice (hindsight) "
        "| fit time / reference | CPU time / reference |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, rows in variants:
        for fraction, diff in _paired(rows, reference).groupby(level="fraction"):
            part = diff.index
            lines.append(
                f"| {name} | {100 * fraction:g}% | {len(diff)} "
                f"| {diff.index.get_level_values('dataset').nunique()} "
                f"| {diff.mean():+.2f} +- {diff.sem():.2f} "
                f"| {int((diff > 0).sum())} / {int((diff < 0).sum())} "
                f"| {diff.groupby(level='dataset').mean().clip(lower=0).mean():+.2f} "
                f"| {_ratio(rows, reference, part, 'seconds')} "
                f"| {_ratio(rows, reference, part, 'cpu')} |"
            )
    return lines


def per_dataset(reference, variants):
    """Markdown lines: each variant's paired difference per dataset and fraction."""
    lines = []
    for name, rows in variants:
        paired = _paired(rows, reference)
        fractions = sorted(paired.index.get_level_values("fraction").unique())
        lines += [
            "",
            f"{name} minus the reference, mean +- s.e. over splits (points), and CPU time "
            "/ reference:",
            "",
            "| dataset | "
            + " | ".join(f"{100 * f:g}% labels | CPU ratio" for f in fractions)
            + " |",
            "| --- |" + " --- | --- |" * len(fractions),
        ]
        for dataset, by_dataset in paired.groupby(level="dataset"):
            cells = [dataset]
            for fraction in fractions:
                diff = by_dataset.xs(fraction, level="fraction", drop_level=False)
                error = f" +- {diff.sem():.1f}" if len(diff) > 1 else ""
                cells += [
                    f"{diff.mean():+.1f}{error}" if len(diff) else "",
                    _ratio(rows, reference, diff.index, "cpu") if len(diff) else "",
                ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _paired(rows, reference):
    shared = rows.index.intersection(reference.index)
    return rows.loc[shared, "test"] - reference.loc[shared, "test"]


def _ratio(rows, reference, cells, column):
    if column not in rows or column not in reference:
        return ""
    total = reference.loc[cells, column].sum()
    # A reference rebuilt from stored probabilities has no fit times (zeros).
    return f"{rows.loc[cells, column].sum() / total:.2f}" if total > 0 else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--variants", nargs="+", required=True, metavar="CSV")
    parser.add_argument("--reference-method", default="skattn SelfTraining")
    parser.add_argument("--per-dataset", action="store_true", help="add a table per variant")
    parser.add_argument("--out")
    args = parser.parse_args()
    reference = _skattn_rows([args.reference])
    if reference["method"].nunique() > 1:
        reference = reference[reference["method"] == args.reference_method]
    reference = reference.set_index(KEYS)
    rows = _skattn_rows(args.variants)
    rows = rows[rows["method"] != args.reference_method]  # a file may hold both
    variants = [(name, part.set_index(KEYS)) for name, part in rows.groupby("method", sort=False)]
    lines = ablation(reference, variants)
    if args.per_dataset:
        lines += per_dataset(reference, variants)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
