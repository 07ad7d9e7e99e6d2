"""The command line: fit a CSV with unlabeled cells, predict another, clear errors."""

import argparse
import io
import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

import skattn
from skattn import AttentionClassifier, AttentionSelfTrainingClassifier
from skattn._cli import demo, hide_labels, main

FAST = ["--param", "max_epochs=3", "--param", "max_iter=1", "--verbose", "0"]


@pytest.fixture
def table(tmp_path):
    X, y = make_classification(
        n_samples=120, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )
    data = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    data["colour"] = np.where(X[:, 0] > 0, "red", "blue")
    label = np.where(y == 1, "yes", "no").astype(object)
    label[20:80] = None  # empty cells: unlabeled
    label[80:100] = -1  # -1 cells: unlabeled too
    data["label"] = pd.Series(label, dtype=object)
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    return path, data


def test_fit_treats_empty_and_minus_one_cells_as_unlabeled(table, tmp_path, capsys):
    path, _ = table
    out = tmp_path / "model.joblib"
    assert main(["fit", str(path), "--target", "label", "--out", str(out), *FAST]) == 0
    assert "40 labeled, 80 unlabeled" in capsys.readouterr().out
    import joblib

    model = joblib.load(out)
    assert isinstance(model, AttentionSelfTrainingClassifier)
    assert set(model.classes_) == {"no", "yes"}
    assert list(model.feature_names_in_) == ["a", "b", "c", "d", "colour"]
    assert (model.labeled_iter_[20:100] != 0).all()


def test_predict_writes_labels_and_probabilities(table, tmp_path, capsys):
    path, data = table
    out = tmp_path / "model.joblib"
    main(["fit", str(path), "--target", "label", "--out", str(out), *FAST])
    new = tmp_path / "new.csv"
    data.drop(columns="label").iloc[::-1].to_csv(new, index=False)  # any column order
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(out), str(new), "--proba", "--out", str(predictions)]) == 0
    result = pd.read_csv(predictions)
    assert list(result.columns) == ["prediction", "proba_no", "proba_yes"]
    assert len(result) == len(data)
    assert set(result["prediction"]) <= {"no", "yes"}
    np.testing.assert_allclose(result[["proba_no", "proba_yes"]].sum(axis=1), 1.0, rtol=1e-5)


def test_a_param_overrides_an_option_of_the_same_name(table, tmp_path):
    path, _ = table
    out = tmp_path / "model.joblib"
    args = ["fit", str(path), "--target", "label", "--out", str(out), *FAST]
    assert main([*args, "--param", "random_state=3"]) == 0
    import joblib

    assert joblib.load(out).random_state == 3


def test_classifier_learns_from_labeled_rows_only(table, tmp_path):
    path, _ = table
    out = tmp_path / "model.joblib"
    args = ["fit", str(path), "--target", "label", "--out", str(out), "--estimator", "classifier"]
    assert main([*args, "--param", "max_epochs=2", "--verbose", "0"]) == 0
    import joblib

    assert isinstance(joblib.load(out), AttentionClassifier)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "{data}", "--target", "labl"], "column 'labl' is not in"),
        (["fit", "{missing}", "--target", "label"], "no such file"),
        (["fit", "{data}", "--target", "label", "--param", "max_epochs"], "write NAME=VALUE"),
        (["fit", "{data}", "--target", "label", "--param", "epochz=3"], "has no parameter epochz"),
        (["predict", "{data}", "{data}"], "is not a skattn model file"),
        (["predict", "{missing}", "{data}"], "no such file"),
    ],
)
def test_bad_input_gives_one_clear_line(table, tmp_path, capsys, argv, message):
    path, _ = table
    argv = [a.format(data=path, missing=tmp_path / "nope.csv") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_models_are_saved_without_pickle_unless_asked(table, tmp_path, monkeypatch, capsys):
    path, data = table
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(path), "--target", "label", *FAST]) == 0
    model = skattn.load(tmp_path / "model.skattn")  # the default --out
    assert list(model.classes_) == ["no", "yes"]
    new = tmp_path / "new.csv"
    data.drop(columns="label").to_csv(new, index=False)
    capsys.readouterr()
    assert main(["predict", "model.skattn", str(new)]) == 0
    predicted = pd.read_csv(io.StringIO(capsys.readouterr().out))["prediction"]
    np.testing.assert_array_equal(predicted, model.predict(data.drop(columns="label")))
    # A pickle under a name that does not say so is refused, not unpickled.
    (tmp_path / "disguised.skattn").write_bytes(pickle.dumps(model))
    assert main(["predict", "disguised.skattn", str(new)]) == 2
    assert "use joblib.load for joblib files" in capsys.readouterr().err


def test_predict_names_the_missing_columns(table, tmp_path, capsys):
    path, data = table
    out = tmp_path / "model.joblib"
    main(["fit", str(path), "--target", "label", "--out", str(out), *FAST])
    new = tmp_path / "new.csv"
    data.drop(columns=["label", "colour"]).to_csv(new, index=False)
    assert main(["predict", str(out), str(new)]) == 2
    assert "lacks the model's columns: colour" in capsys.readouterr().err


def test_a_binary_file_is_not_a_csv(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert main(["fit", str(path), "--target", "label"]) == 2
    assert "is not a readable CSV file" in capsys.readouterr().err


def test_module_entry_point_has_help():
    result = subprocess.run(
        [sys.executable, "-m", "skattn", "fit", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--target" in result.stdout
    assert "unlabeled" in result.stdout


# The demo's contenders, in the order of its table.
DEMO_METHODS = [
    "AttentionSelfTrainingClassifier",
    "SelfTrainingClassifier(HistGradientBoosting)",
    "LogisticRegression (scaled)",
    "MLPClassifier (scaled)",
]


def test_demo_prints_a_row_per_method_and_the_label_counts(capsys):
    # The real demo trains with the defaults for seconds; 2 epochs and 1 round show its table.
    demo(argparse.Namespace(verbose=0), self_training_params={"max_epochs": 2, "max_iter": 1})
    out = capsys.readouterr().out
    assert "21 labeled and 405 unlabeled (-1) training rows, 143 test rows" in out
    for name in DEMO_METHODS:
        assert re.search(rf"^{re.escape(name)} +21 labeled.* [01]\.\d{{3}} +\d+\.\d$", out, re.M)
    assert re.search(r"^Most accurate here: .+", out, re.M)


def test_hidden_labels_keep_a_share_of_each_class_and_two_at_least():
    y = np.array([0] * 95 + [1] * 5 + [2] * 900)
    y_partial = hide_labels(y, 0.05, random_state=0)
    assert np.bincount(y_partial[y_partial != -1]).tolist() == [5, 2, 45]
    assert ((y_partial == -1) | (y_partial == y)).all()
    np.testing.assert_array_equal(y_partial, hide_labels(y, 0.05, random_state=0))
