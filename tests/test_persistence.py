"""skattn.load(estimator.save(path)): the same model back, and never code from the file."""

import json
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator

import skattn
from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)
from skattn._persistence import checksum
from skattn.exceptions import InconsistentVersionWarning

ROOT = Path(__file__).resolve().parents[1]
NET = dict(d_token=8, n_heads=2, max_epochs=2, random_state=0)
ROUNDS = dict(max_iter=1, epochs_per_round=1)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
# One label in ten; -1 (or NaN for a regressor) marks the unlabeled rows.
Y_PARTIAL = np.where(np.arange(150) % 10 == 0, Y_IRIS, -1)


def _frame():
    X = pd.DataFrame(X_IRIS[:, :2], columns=["length", "width"])
    X["colour"] = np.array(["red", "green", None], dtype=object)[Y_IRIS]
    X["size"] = pd.Categorical(np.array([3, 1, 2])[Y_IRIS])
    X["flag"] = np.arange(150) % 2 == 0
    y = np.array(["setosa", "versicolor", "virginica"], dtype=object)[Y_IRIS]
    model = AttentionClassifier(
        **{**NET, "random_state": np.random.RandomState(0)},
        class_weight={"setosa": 2.0, "versicolor": 1.0, "virginica": 1.0},
    )
    return model, X, y


def _images():
    X, y = load_digits(return_X_y=True)
    return AttentionClassifier(**NET, tokenizer="patch"), X[:100].reshape(-1, 8, 8), y[:100]


def _pretrained():
    pretrainer = MaskedAttentionPretrainer(**NET).fit(X_IRIS)
    model = FineTuneClassifier(pretrained=FrozenEstimator(pretrainer), **NET, **ROUNDS)
    return model, X_IRIS, Y_PARTIAL


# name -> (unfitted estimator, X, y); a fixture fits each once.
CASES = {
    "classifier": lambda: (AttentionClassifier(**NET), X_IRIS, Y_IRIS),
    "regressor": lambda: (AttentionRegressor(**NET), X_IRIS[:, :3], X_IRIS[:, 3]),
    "self-training": lambda: (
        AttentionSelfTrainingClassifier(**NET, **ROUNDS, threshold=0.4),
        X_IRIS,
        Y_PARTIAL,
    ),
    "pretrainer": lambda: (MaskedAttentionPretrainer(**NET), X_IRIS, None),
    "fine-tune classifier": lambda: (
        FineTuneClassifier(**NET, **ROUNDS, pretrain_epochs=1),
        X_IRIS,
        Y_PARTIAL,
    ),
    "fine-tune regressor": lambda: (
        FineTuneRegressor(**NET, pretrain_epochs=1),
        X_IRIS[:, :3],
        np.where(Y_PARTIAL >= 0, X_IRIS[:, 3], np.nan),
    ),
    "fine-tune from a frozen pretrainer": _pretrained,
    "dataframe with categories": _frame,
    "images": _images,
    "latent tokens": lambda: (AttentionClassifier(**NET, max_tokens=2), X_IRIS, Y_IRIS),
    "latent tokens, self-training": lambda: (
        AttentionSelfTrainingClassifier(**NET, **ROUNDS, max_tokens=2, threshold=0.4),
        X_IRIS,
        Y_PARTIAL,
    ),
    "sequences": lambda: (AttentionRegressor(**NET), X_IRIS.reshape(150, 2, 2), X_IRIS[:, 0]),
}


@pytest.fixture(scope="module", params=list(CASES))
def fitted(request):
    """(fitted estimator, X, y) for each case."""
    model, X, y = CASES[request.param]()
    return model.fit(X, y), X, y


def round_trip(model, tmp_path):
    model.save(tmp_path / "model.skattn")
    return skattn.load(tmp_path / "model.skattn")


def outputs(model, X):
    """Everything a fitted model computes from X."""
    results = {}
    for method in ("predict", "predict_proba", "transform", "attention_maps"):
        if hasattr(model, method):
            results[method] = getattr(model, method)(X)
    if hasattr(model, "explain"):
        results["explain"] = model.explain(X[:5], method="gradient")
    return results


def assert_same(a, b, where="estimator"):
    """Equal values of the same types, all the way down."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, BaseEstimator):  # skattn estimators and FrozenEstimator
        assert_same(
            {k: v for k, v in vars(a).items() if k != "net_"},
            {k: v for k, v in vars(b).items() if k != "net_"},
            where,
        )
        if hasattr(a, "net_"):
            assert_same_network(a.net_, b.net_, where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(key, next(k for k in b if k == key), f"{where}[{key!r}] key")
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple | pd.Index) or (
        isinstance(a, np.ndarray) and a.dtype == object
    ):
        assert getattr(a, "dtype", None) == getattr(b, "dtype", None), where
        assert getattr(a, "shape", len(a)) == getattr(b, "shape", len(b)), where
        for i, (item_a, item_b) in enumerate(zip(list(a), list(b), strict=True)):
            assert_same(item_a, item_b, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, np.random.RandomState):
        assert_same(a.get_state(), b.get_state(), where)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif hasattr(a, "__dict__"):  # the column encoders
        assert_same(vars(a), vars(b), where)
    else:
        assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"


def assert_same_network(a, b, where):
    assert a.module is b.module, where
    assert_same(a.get_params_for("module"), b.get_params_for("module"), f"{where} module")
    state_a, state_b = a.module_.state_dict(), b.module_.state_dict()
    assert list(state_a) == list(state_b), where
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), f"{where} weights {name}"
    epochs = [{k: v for k, v in epoch.items() if k != "batches"} for epoch in a.history]
    assert_same(epochs, list(b.history), f"{where} history")


def test_loaded_model_computes_exactly_what_the_saved_one_did(fitted, tmp_path):
    model, X, y = fitted
    loaded = round_trip(model, tmp_path)
    assert_same(outputs(model, X), outputs(loaded, X))
    if y is not None:
        labeled = ~pd.isna(y) & (np.asarray(y, dtype=object) != -1)
        assert loaded.score(X[labeled], y[labeled]) == model.score(X[labeled], y[labeled])


def test_loaded_model_keeps_parameters_and_fitted_attributes(fitted, tmp_path):
    model = fitted[0]
    loaded = round_trip(model, tmp_path)
    # Every parameter and every fitted attribute (classes_, feature_names_in_,
    # transduction_, pseudo_label_history_, encoder_, pretrainer_, the network).
    assert_same(model, loaded)
    assert_same(model.get_params(), loaded.get_params())


def test_loaded_model_clones_and_refits_like_the_original(fitted, tmp_path):
    model, X, y = fitted
    loaded = round_trip(model, tmp_path)
    refit = clone(loaded).fit(X, y)
    assert_same(outputs(clone(model).fit(X, y), X), outputs(refit, X))


def test_loaded_model_pickles_with_joblib(fitted, tmp_path):
    model, X, _ = fitted
    loaded = round_trip(model, tmp_path)
    joblib.dump(loaded, tmp_path / "model.joblib")
    assert_same(outputs(model, X), outputs(joblib.load(tmp_path / "model.joblib"), X))


def test_a_loaded_pretrainer_fine_tunes_like_the_original(tmp_path):
    pretrainer = MaskedAttentionPretrainer(**NET).fit(X_IRIS)
    loaded = round_trip(pretrainer, tmp_path)
    for wrap in (lambda model: model, FrozenEstimator):
        tuned = [
            FineTuneClassifier(pretrained=wrap(p), **NET, **ROUNDS).fit(X_IRIS, Y_PARTIAL)
            for p in (pretrainer, loaded)
        ]
        np.testing.assert_array_equal(
            tuned[0].predict_proba(X_IRIS), tuned[1].predict_proba(X_IRIS)
        )


def test_a_fresh_process_without_cuda_predicts_the_same(tmp_path):
    model = AttentionClassifier(**NET).fit(X_IRIS, Y_IRIS)
    model.save(tmp_path / "model.skattn")
    np.save(tmp_path / "X.npy", X_IRIS)
    script = (
        "import sys, numpy as np, skattn\n"
        "model = skattn.load(sys.argv[1])\n"
        "np.save(sys.argv[3], model.predict_proba(np.load(sys.argv[2])))\n"
    )
    paths = [str(tmp_path / name) for name in ("model.skattn", "X.npy", "proba.npy")]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script, *paths], env=env, check=True, cwd=ROOT)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), model.predict_proba(X_IRIS))


def rewrite(path, edit, *, new_checksum=True):
    """Change a saved file's metadata (``edit(meta, payload)``), as a tamperer would."""
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["meta"])
    edit(meta, payload)
    payload["meta"] = json.dumps(meta)
    if new_checksum:
        payload["checksum"] = checksum(payload)
    torch.save(payload, path)


@pytest.fixture(scope="module")
def classifier():
    return AttentionClassifier(**NET).fit(X_IRIS, Y_IRIS)


def test_a_model_saved_on_cuda_loads_on_the_cpu_with_a_warning(classifier, tmp_path, monkeypatch):
    path = tmp_path / "model.skattn"
    classifier.save(path)

    def on_cuda(meta, payload):
        meta["params"]["device"] = meta["attributes"]["device_"] = "cuda"

    rewrite(path, on_cuda)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="saved on cuda, but CUDA is not available"):
        loaded = skattn.load(path)
    assert loaded.device_ == "cpu"
    assert str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X_IRIS), classifier.predict_proba(X_IRIS))


def test_an_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        AttentionClassifier().save(tmp_path / "model.skattn")
    assert not (tmp_path / "model.skattn").exists()


class ValueTokens(torch.nn.Module):
    """An external encoder: one token per numeric value."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 8)

    def forward(self, x_num, x_cat):
        return self.linear(torch.nan_to_num(x_num).unsqueeze(-1))


class MyClassifier(AttentionClassifier):
    """A user's subclass: its code is not skattn's to rebuild."""


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (FineTuneClassifier(pretrained=ValueTokens(), **NET, **ROUNDS), r"pretrained is a .*"),
        (MyClassifier(**NET), "not MyClassifier"),
    ],
    ids=["torch module as pretrained", "subclass"],
)
def test_code_cannot_be_saved_without_pickle(model, message, tmp_path):
    model.fit(X_IRIS, Y_PARTIAL)
    with pytest.raises(TypeError, match=message) as error:
        model.save(tmp_path / "model.skattn")
    assert "joblib.dump" in str(error.value)


NOT_OURS = {
    "text": lambda path, _: path.write_text("length,width\n1,2\n"),
    "random bytes": lambda path, _: path.write_bytes(np.random.RandomState(0).bytes(1000)),
    "torch weights": lambda path, _: torch.save({"weight": torch.zeros(3)}, path),
    "torch list": lambda path, _: torch.save([1, 2, 3], path),
    "joblib": lambda path, model: joblib.dump(model, path),
    "compressed joblib": lambda path, model: joblib.dump(model, path, compress=3),
}


@pytest.mark.parametrize("kind", list(NOT_OURS))
def test_files_that_are_not_ours_are_refused(kind, classifier, tmp_path):
    path = tmp_path / "model.file"
    NOT_OURS[kind](path, classifier)
    with pytest.raises(ValueError, match="is not a skattn model file") as error:
        skattn.load(path)
    if "joblib" in kind:
        assert "use joblib.load for joblib files, only if you trust them" in str(error.value)


def _edit_meta(meta, payload):
    meta["attributes"]["classes_"]["dtype"] = "<i4"


def _edit_weight(meta, payload):
    name = next(key for key in payload["tensors"] if key.startswith("net_."))
    payload["tensors"][name].view(-1)[0] += 1e-3


@pytest.mark.parametrize("edit", [_edit_meta, _edit_weight], ids=["metadata", "a weight"])
def test_a_file_changed_after_saving_is_refused(edit, classifier, tmp_path):
    path = tmp_path / "model.skattn"
    classifier.save(path)
    rewrite(path, edit, new_checksum=False)
    with pytest.raises(ValueError, match="changed or damaged after it was saved"):
        skattn.load(path)


def test_a_truncated_file_is_refused(classifier, tmp_path):
    path = tmp_path / "model.skattn"
    classifier.save(path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="is not a skattn model file"):
        skattn.load(path)


def _set(field, value):
    def edit(meta, payload):
        payload[field] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("skattn_version", "99.0.0"), "newer major version"),
        (_set("format_version", 2), "file format 2"),
    ],
    ids=["newer major version", "newer format"],
)
def test_a_file_from_a_newer_skattn_is_refused(edit, message, classifier, tmp_path):
    path = tmp_path / "model.skattn"
    classifier.save(path)
    rewrite(path, edit)
    with pytest.raises(ValueError, match=f"{message}.*upgrade skattn"):
        skattn.load(path)


def test_a_file_from_an_older_minor_version_loads(classifier, tmp_path):
    path = tmp_path / "model.skattn"
    classifier.save(path)
    rewrite(path, _set("skattn_version", "0.0.1"))
    np.testing.assert_array_equal(skattn.load(path).predict(X_IRIS), classifier.predict(X_IRIS))


def _name_class(meta, payload):
    meta["class"] = "os.system"


def _name_object(meta, payload):
    meta["attributes"]["encoder_"]["class"] = "subprocess.Popen"


@pytest.mark.parametrize("edit", [_name_class, _name_object], ids=["estimator", "object"])
def test_a_file_naming_other_classes_is_refused(edit, classifier, tmp_path):
    # The checksum is recomputed: only the allow-list stands between the file and an import.
    path = tmp_path / "model.skattn"
    classifier.save(path)
    rewrite(path, edit)
    with pytest.raises(ValueError, match=r"not a valid skattn model file.*(os\.system|Popen)"):
        skattn.load(path)


class RunsCode:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def test_loading_a_malicious_file_runs_no_code(tmp_path):
    marker = tmp_path / "code-ran"
    # The payload is live: plain pickle runs it.
    pickle.loads(pickle.dumps(RunsCode(marker)))
    assert marker.exists()
    marker.unlink()
    files = {
        "torch": lambda path: torch.save(
            {"format": "skattn", "format_version": 1, "meta": RunsCode(marker)}, path
        ),
        "pickle": lambda path: path.write_bytes(pickle.dumps(RunsCode(marker))),
        "joblib": lambda path: joblib.dump(RunsCode(marker), path),
    }
    for kind, write in files.items():
        path = tmp_path / f"{kind}.file"
        write(path)
        with pytest.raises(ValueError, match="is not a skattn model file"):
            skattn.load(path)
        assert not marker.exists(), kind


def test_unpickling_warns_when_the_skattn_version_differs(classifier, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(pickle.dumps(classifier))  # same version: silent
    with monkeypatch.context() as patch:
        patch.setattr(skattn._base, "__version__", "0.0.1")
        pickled = pickle.dumps(classifier)
    with pytest.warns(InconsistentVersionWarning, match="pickled by skattn 0.0.1") as record:
        unpickled = pickle.loads(pickled)
    assert record[0].message.current_version == skattn.__version__
    assert "_skattn_version" not in vars(unpickled)
    assert "_skattn_version" not in vars(classifier)
