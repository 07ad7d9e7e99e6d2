"""The labels-only member of self-training, and the rules it was chosen among (issue 29).

For every split of the public suite, fits ``AttentionSelfTrainingClassifier()``
and keeps the class probabilities, on the training and test rows, of its
self-trained network alone and of its labels-only member (``labels_only_``,
the ``max_iter=0`` fit), one ``.npz`` per split under ``--out``. ``--report``
then combines them offline by each candidate rule, from the training rows
alone, and compares the rules' test accuracy with both members, per
(dataset, fraction) cell. The rule ``tempered`` is the estimator's own
(``predict_proba``), computed with its own function; ``--check`` confirms
that on the first split by refitting.

    cd benchmarks
    OMP_NUM_THREADS=1 python labels_only_member.py --out member/ --datasets pima crx
    python labels_only_member.py --report member/ --markdown member.md

``--refit-member member/ --out other/ --param NAME=VALUE`` refits only the
labels-only member of the stored splits with other parameters (the
self-trained network does not depend on it), so that a member can be
compared with the estimator's own on the same self-trained networks:

    OMP_NUM_THREADS=1 python labels_only_member.py --refit-member member/ \
        --out budget/ --param max_epochs=100 --param n_iter_no_change=10 --param tol=None
    python labels_only_member.py --report budget/

``--members K`` refits it as an ensemble of K members instead of
``AttentionClassifier``'s 4 (what the ensemble costs and buys).
"""

import argparse
import ast
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from _suite import DATASETS, load, pending

from skattn import AttentionSelfTrainingClassifier
from skattn._base import softmax
from skattn.self_training import _temperature, combine_members


def collect(datasets, fractions, out):
    for X, y, repeat, train, test, y_partial, path in pending(datasets, fractions, out):
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AttentionSelfTrainingClassifier(random_state=repeat)
            model.fit(X.iloc[train], y_partial)
        fit_seconds = time.process_time() - start
        probas = {}
        for part, rows in (("train", train), ("test", test)):
            probas[f"st_{part}"] = softmax(model._forward(X.iloc[rows]))
            probas[f"lab_{part}"] = model.labels_only_.predict_proba(X.iloc[rows])
            probas[f"est_{part}"] = model.predict_proba(X.iloc[rows])
        np.savez(path, train=train, test=test, y_partial=y_partial, y=y, cpu=fit_seconds, **probas)
        print(path.stem, flush=True)


def refit_member(stored_directory, datasets, out, params, members=None):
    """Copy the stored splits to ``out`` with a labels-only member fitted with ``params``
    (and ``members`` ensemble members, when given)."""
    if members is not None:
        with mock.patch("skattn.supervised.ENSEMBLE_MEMBERS", members):
            return refit_member(stored_directory, datasets, out, params)
    out.mkdir(parents=True, exist_ok=True)
    for name in datasets:
        paths = sorted(Path(stored_directory).glob(f"{name}_0.*.npz"))
        paths = [p for p in paths if not (out / p.name).exists()]
        if not paths:
            continue
        X, _ = load(name)
        for path in paths:
            d = dict(np.load(path))
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                member = AttentionSelfTrainingClassifier(
                    random_state=int(path.stem.rsplit("_", 1)[1]), max_iter=0, **params
                ).fit(X.iloc[d["train"]], d["y_partial"])
            d["member_cpu"] = time.process_time() - start
            for part in ("train", "test"):
                d[f"lab_{part}"] = member.predict_proba(X.iloc[d[part]])
            np.savez(out / path.name, **d)
            print(path.stem, flush=True)


def stored_temperature(st_train, lab_train, pool):
    """The estimator's ``temperature_``, from the members' stored probabilities on the pool."""
    return _temperature(np.log(st_train[pool]), lab_train[pool].max(axis=1).mean())


def rules(st_train, lab_train, pool):
    """Each candidate rule: a function of (self-trained, labels-only) probabilities."""
    temperature = stored_temperature(st_train, lab_train, pool)

    def tempered(st, lab):  # the estimator's rule where the pool-shift test finds no shift
        return combine_members(np.log(st), temperature, lab, 0.5)

    return {
        "self-trained": lambda st, lab: st,
        "labels only": lambda st, lab: lab,
        "mean": lambda st, lab: (st + lab) / 2,
        "weights 1:3": lambda st, lab: st / 4 + 3 * lab / 4,
        "geometric mean": lambda st, lab: np.log(st) + np.log(lab),
        "tempered": tempered,
    }


def stored(directory):
    """Per stored split: its name parts, its arrays, and each rule's predicted classes
    (``{part: {rule: classes}}`` for the training and test rows)."""
    for path in sorted(Path(directory).glob("*.npz")):
        d = dict(np.load(path))
        name, fraction, repeat = path.stem.rsplit("_", 2)
        st = {part: np.clip(d[f"st_{part}"], 1e-12, 1) for part in ("train", "test")}
        found = rules(st["train"], d["lab_train"], d["y_partial"] == -1)
        predicted = {
            part: {
                rule: combine(st[part], d[f"lab_{part}"]).argmax(axis=1)
                for rule, combine in found.items()
            }
            for part in ("train", "test")
        }
        if "est_test" in d:  # the fitted estimator's own predictions (pool-shift weight included)
            for part in ("train", "test"):
                predicted[part]["estimator"] = d[f"est_{part}"].argmax(axis=1)
        yield dict(dataset=name, fraction=float(fraction), repeat=int(repeat)), d, predicted


def score(directory):
    rows = []
    for keys, d, predicted in stored(directory):
        y_test = d["y"][d["test"]]
        rows.append(
            {**keys, **{rule: 100 * np.mean(c == y_test) for rule, c in predicted["test"].items()}}
        )
    return pd.DataFrame(rows)


def records(directory):
    """Per split, as semi_supervised.py's raw rows: the estimator and its two members."""
    rows = []
    for keys, d, predicted in stored(directory):
        y, pool = d["y"], d["y_partial"] == -1
        for method, rule in METHODS.items():
            if rule == "tempered" and "estimator" in predicted["test"]:
                rule = "estimator"
            test, train = predicted["test"][rule], predicted["train"][rule]
            rows.append(
                dict(
                    n_rows=len(y),
                    **keys,
                    n_labeled=int((~pool).sum()),
                    method=method,
                    test=100 * np.mean(test == y[d["test"]]),
                    transductive=100 * np.mean(train[pool] == y[d["train"]][pool]),
                    seconds=np.nan,
                    # The estimator's fit, both members included (stored since issue 29's members).
                    cpu=float(d["cpu"]) if "cpu" in d and method == ESTIMATOR else np.nan,
                )
            )
    return pd.DataFrame(rows)


# The rows records() writes: the estimator's own predictions (stored since the
# CAST change; recombined by the rule "tempered" from older files), and its members'.
ESTIMATOR = "skattn SelfTraining"
METHODS = {
    ESTIMATOR: "tempered",
    "skattn SelfTraining, network alone": "self-trained",
    "skattn SelfTraining, labels-only member": "labels only",
}


def report(frame):
    cells = frame.groupby(["dataset", "fraction"]).mean().drop(columns="repeat")
    candidates = [c for c in cells.columns if c != "labels only"]
    lines = ["| rule | labels | cells | mean | cells > 1 point below labels only | cells above |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for fraction, group in cells.groupby(level="fraction"):
        for rule in ["labels only", *candidates]:
            below = int((group[rule] < group["labels only"] - 1).sum())
            above = int((group[rule] > group["labels only"]).sum())
            lines.append(
                f"| {rule} | {fraction:.0%} | {len(group)} | {group[rule].mean():.2f} "
                f"| {below} | {above} |"
            )
    per_cell = cells[["self-trained", "labels only", "tempered"]].copy()
    per_cell["tempered - labels only"] = per_cell["tempered"] - per_cell["labels only"]
    return "\n".join(lines) + "\n\n" + per_cell.round(1).to_markdown() + "\n"


def check(directory):
    """Refit the first stored split: the estimator's predict_proba is the rule ``tempered``."""
    path = sorted(Path(directory).glob("*.npz"))[0]
    name, _, repeat = path.stem.rsplit("_", 2)
    X, _ = load(name)
    d = np.load(path)
    model = AttentionSelfTrainingClassifier(random_state=int(repeat))
    model.fit(X.iloc[d["train"]], d["y_partial"])
    found = rules(np.clip(d["st_train"], 1e-12, 1), d["lab_train"], d["y_partial"] == -1)
    offline = found["tempered"](np.clip(d["st_test"], 1e-12, 1), d["lab_test"])
    np.testing.assert_allclose(model.predict_proba(X.iloc[d["test"]]), offline, atol=1e-6)
    print(f"{path.stem}: predict_proba equals the rule 'tempered'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--out", type=Path, help="fit and store the members' probabilities")
    parser.add_argument("--report", type=Path, help="score the rules on stored probabilities")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--records", type=Path, help="write semi_supervised.py's raw rows here")
    parser.add_argument("--refit-member", type=Path, help="stored splits to refit the member of")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--members", type=int, help="ensemble members of the refitted member")
    args = parser.parse_args()
    if args.refit_member:
        params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
        refit_member(args.refit_member, args.datasets, args.out, params, args.members)
    elif args.out:
        collect(args.datasets, args.fractions, args.out)
    if args.report:
        if args.check:
            check(args.report)
        text = report(score(args.report))
        print(text)
        if args.markdown:
            args.markdown.write_text(text)
        if args.records:
            records(args.report).to_csv(args.records, index=False)


if __name__ == "__main__":
    main()
