"""How noisy a cross-fitted check on the labeled rows would be (issue 29, item 1).

The check: hold out labeled rows, fit self-training and the labels-only
fit on the rest, and trust the pseudo-labels where self-training is more
accurate on the held-out rows. Cross-fitted over folds, every labeled row
is held out once, so the check sees ``n_labeled`` rows. The difference of
two classifiers' accuracy on n rows has a standard error of about
``sqrt(d / n)``, where d is the share of rows on which they disagree.

From the stored members of ``labels_only_member.py --out`` (the estimator
and its labels-only member on the test rows), per (dataset, fraction) cell:
the true effect (the estimator's test accuracy minus the member's), the
disagreement d, and the check's standard error with the cell's labeled
rows. The bound is optimistic: the check's models would be fitted on
fewer labels than the estimator's.

    cd benchmarks
    python cross_fit_noise.py member/ --markdown noise.md
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from labels_only_member import stored


def cells(directory):
    rows = []
    for keys, d, predicted in stored(directory):
        y_test = d["y"][d["test"]]
        mine, member = predicted["test"]["tempered"], predicted["test"]["labels only"]
        rows.append(
            dict(
                **keys,
                n_labeled=int((d["y_partial"] != -1).sum()),
                effect=100 * (np.mean(mine == y_test) - np.mean(member == y_test)),
                disagreement=np.mean(mine != member),
            )
        )
    frame = pd.DataFrame(rows).groupby(["dataset", "fraction"]).mean().drop(columns="repeat")
    frame["check s.e."] = 100 * np.sqrt(frame["disagreement"] / frame["n_labeled"])
    frame["detectable"] = frame["effect"].abs() > 2 * frame["check s.e."]
    return frame


def report(frame):
    lines = [
        "| labels | cells | median labeled rows | median check s.e. (points) "
        "| median abs. effect | cells whose effect exceeds 2 s.e. |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for fraction, group in frame.groupby(level="fraction"):
        lines.append(
            f"| {fraction:.0%} | {len(group)} | {group['n_labeled'].median():.0f} "
            f"| {group['check s.e.'].median():.1f} | {group['effect'].abs().median():.1f} "
            f"| {int(group['detectable'].sum())} |"
        )
    return "\n".join(lines) + "\n\n" + frame.round(2).to_markdown() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    text = report(cells(args.directory))
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
