"""The command line: ``python -m skattn fit | predict | demo``."""

import argparse
import ast
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from . import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    __version__,
    load,
)

ESTIMATORS = {
    "classifier": AttentionClassifier,
    "self-training": AttentionSelfTrainingClassifier,
    "fine-tune": FineTuneClassifier,
    "regressor": AttentionRegressor,
}

DESCRIPTION = """\
Attention networks for tables with a few labels and many unlabeled rows.

  python -m skattn fit data.csv --target label --out model.skattn
  python -m skattn predict model.skattn new.csv --out predictions.csv
  python -m skattn demo

In the target column, an empty cell or -1 marks an unlabeled row. Models are
saved without pickle (skattn.load never runs code from a file); a name ending
in .joblib or .pkl saves and loads with joblib (pickle) instead."""

# Model files that joblib writes and reads: pickles, which run code on load.
PICKLE_SUFFIXES = (".joblib", ".pkl")


class UsageError(Exception):
    """A mistake in the command or its files, reported in one line."""


def read_csv(path):
    """The rows of a CSV file, or a one-line error."""
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not a readable CSV file: {error}") from None


def split_target(data, target, path, *, regression):
    """X and y from a table; empty cells and -1 in the target mark unlabeled rows.

    Classification labels unlabeled rows -1 (scikit-learn's convention),
    regression gives them NaN and leaves them out.
    """
    if target not in data.columns:
        raise UsageError(
            f"column {target!r} is not in {path}; its columns are: {', '.join(map(str, data))}"
        )
    column = data[target]
    unlabeled = column.isna().to_numpy() | column.isin([-1, "-1"]).to_numpy()
    X = data.drop(columns=target)
    if regression:
        y = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        if np.isnan(y[~unlabeled]).any():
            raise UsageError(f"column {target!r} holds text; a regressor needs numbers")
        return X[~unlabeled], y[~unlabeled], unlabeled
    labels = column[~unlabeled]
    if pd.api.types.is_numeric_dtype(labels) and (labels == labels.round()).all():
        y = np.full(len(column), -1, dtype=np.int64)
        y[~unlabeled] = labels.astype(np.int64)
    else:
        y = np.full(len(column), -1, dtype=object)
        y[~unlabeled] = labels.to_numpy(dtype=object)
    return X, y, unlabeled


def parse_params(items):
    """``NAME=VALUE`` pairs as keyword arguments (values read as Python literals)."""
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--param {item!r}: write NAME=VALUE, e.g. --param max_epochs=50")
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value  # a bare word such as gradual
    return params


def fit(args):
    data = read_csv(args.data)
    regression = args.estimator == "regressor"
    X, y, unlabeled = split_target(data, args.target, args.data, regression=regression)
    name = args.estimator
    if name == "auto":
        name = "self-training" if unlabeled.any() else "classifier"
    if name == "classifier" and unlabeled.any():
        X, y = X[~unlabeled], y[~unlabeled]
    estimator = ESTIMATORS[name]()
    params = parse_params(args.param)
    unknown = sorted(set(params) - set(estimator.get_params()))
    if unknown:
        raise UsageError(
            f"{type(estimator).__name__} has no parameter {', '.join(unknown)}; "
            f"see python -m skattn fit --help"
        )
    # --param wins over the options it repeats (--param random_state=3).
    estimator.set_params(**{"random_state": args.random_state, "verbose": args.verbose, **params})
    estimator.fit(X, y)
    if args.out.endswith(PICKLE_SUFFIXES):
        joblib.dump(estimator, args.out)
    else:
        estimator.save(args.out)
    n_unlabeled = int(unlabeled.sum())
    print(
        f"Fitted {type(estimator).__name__} on {len(data)} rows ({len(data) - n_unlabeled} "
        f"labeled, {n_unlabeled} unlabeled) and {X.shape[1]} columns; saved to {args.out}"
    )


def load_model(path):
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    if not str(path).endswith(PICKLE_SUFFIXES):
        try:
            return load(path)
        except ValueError as error:
            raise UsageError(str(error)) from None
    try:
        model = joblib.load(path)
    except Exception as error:  # joblib raises many kinds on a foreign file
        raise UsageError(f"{path} is not a model file saved by skattn ({error})") from None
    if not hasattr(model, "predict") or not hasattr(model, "n_features_in_"):
        raise UsageError(f"{path} does not hold a fitted skattn model")
    return model


def predict(args):
    model = load_model(args.model)
    data = read_csv(args.data)
    columns = getattr(model, "feature_names_in_", None)
    if columns is not None:
        missing = [str(c) for c in columns if c not in data.columns]
        if missing:
            raise UsageError(f"{args.data} lacks the model's columns: {', '.join(missing)}")
        data = data[list(columns)]
    result = pd.DataFrame({"prediction": model.predict(data)})
    if args.proba:
        if not hasattr(model, "predict_proba"):
            raise UsageError("--proba needs a classifier")
        proba = model.predict_proba(data)
        for j, label in enumerate(model.classes_):
            result[f"proba_{label}"] = proba[:, j]
    result.to_csv(args.out or sys.stdout, index=False)


# The demo keeps this share of each class's training labels (at least 2 per class).
DEMO_LABEL_FRACTION = 0.05


def hide_labels(y, fraction, *, random_state):
    """``y`` with -1 for all but ``fraction`` of each class's rows (at least 2 kept per class)."""
    rng = np.random.default_rng(random_state)
    y_partial = np.full_like(y, -1)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        keep = rng.choice(rows, max(2, round(fraction * len(rows))), replace=False)
        y_partial[keep] = label
    return y_partial


def demo(args, *, self_training_params=None):
    """The README's quickstart: breast cancer with 5% of the training labels.

    AttentionSelfTrainingClassifier with its defaults learns from the labeled
    and the unlabeled (-1) rows, next to scikit-learn's self-training around
    gradient boosting on the same rows, and a logistic regression and an MLP
    on the labeled rows alone; it prints each one's test accuracy and fit time.
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.semi_supervised import SelfTrainingClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    y_partial = hide_labels(y_train, DEMO_LABEL_FRACTION, random_state=0)
    labeled = y_partial != -1
    n_labeled, n_unlabeled = int(labeled.sum()), int((~labeled).sum())
    print(
        f"Breast cancer: {n_labeled} labeled and {n_unlabeled} unlabeled (-1) training rows, "
        f"{len(y_test)} test rows"
    )
    self_training = AttentionSelfTrainingClassifier(
        random_state=0, verbose=args.verbose, **(self_training_params or {})
    )
    methods = [  # name, estimator, whether it learns from the -1 rows too
        ("AttentionSelfTrainingClassifier", self_training, True),
        (
            "SelfTrainingClassifier(HistGradientBoosting)",
            SelfTrainingClassifier(HistGradientBoostingClassifier(), threshold=0.9),
            True,
        ),
        (
            "LogisticRegression (scaled)",
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
            False,
        ),
        (
            "MLPClassifier (scaled)",
            make_pipeline(StandardScaler(), MLPClassifier(max_iter=500, random_state=0)),
            False,
        ),
    ]
    print(f"\n{'method':<45} {'trained on':<22} {'test accuracy':>13} {'fit seconds':>11}")
    accuracies = {}
    for name, estimator, uses_unlabeled in methods:
        rows = slice(None) if uses_unlabeled else labeled
        start = time.perf_counter()
        estimator.fit(X_train[rows], y_partial[rows])
        seconds = time.perf_counter() - start
        accuracies[name] = estimator.score(X_test, y_test)
        trained_on = f"{n_labeled} labeled" + (f" + {n_unlabeled} -1" if uses_unlabeled else "")
        print(f"{name:<45} {trained_on:<22} {accuracies[name]:>13.3f} {seconds:>11.1f}")
    best = max(accuracies.values())
    winners = " and ".join(name for name, accuracy in accuracies.items() if accuracy == best)
    print(
        f"\nMost accurate here: {winners} (one split; one test row is "
        f"{100 / len(y_test):.1f} points of accuracy)"
    )


def make_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skattn",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skattn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit_parser = commands.add_parser(
        "fit",
        help="train on a CSV file and save the model",
        description="Train on a CSV file and save the fitted model. Rows whose "
        "target cell is empty or -1 are unlabeled: with any of them, the default estimator "
        "learns from them too (self-training).",
    )
    fit_parser.add_argument("data", help="CSV file with a header row")
    fit_parser.add_argument("--target", required=True, help="name of the label column")
    fit_parser.add_argument(
        "--out",
        default="model.skattn",
        help="where to save the model; a name ending in .joblib or .pkl saves a pickle",
    )
    fit_parser.add_argument(
        "--estimator",
        choices=["auto", *ESTIMATORS],
        default="auto",
        help="auto: self-training when some rows are unlabeled, else classifier; "
        "classifier and regressor learn from labeled rows only",
    )
    fit_parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter of the estimator, e.g. --param max_epochs=50 (repeatable)",
    )
    fit_parser.add_argument("--random-state", type=int, default=0)
    fit_parser.add_argument(
        "-v", "--verbose", type=int, default=1, help="0 silent, 1 progress bar, 2 log lines"
    )
    fit_parser.set_defaults(run=fit)

    predict_parser = commands.add_parser(
        "predict",
        help="predict the rows of a CSV file with a saved model",
        description="Predict with a model saved by 'fit' and write CSV (to standard output "
        "unless --out). A model file is a pickle: load only files you trust.",
    )
    predict_parser.add_argument("model", help="file written by python -m skattn fit")
    predict_parser.add_argument("data", help="CSV file with the model's columns")
    predict_parser.add_argument("--out", help="CSV file to write (default: standard output)")
    predict_parser.add_argument(
        "--proba", action="store_true", help="add a probability column per class"
    )
    predict_parser.set_defaults(run=predict)

    demo_parser = commands.add_parser(
        "demo",
        help="5%% of a bundled dataset's labels: skattn next to scikit-learn",
        description=demo.__doc__,
    )
    demo_parser.add_argument("-v", "--verbose", type=int, default=0)
    demo_parser.set_defaults(run=demo)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as error:
        # The estimators' own messages on bad data are written for users.
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0
