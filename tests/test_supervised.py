"""What users rely on from AttentionClassifier and AttentionRegressor."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification, make_moons
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skattn import AttentionClassifier, AttentionRegressor, MaskedAttentionPretrainer

SMALL = dict(d_token=16, n_heads=2, max_epochs=30, random_state=0)


@pytest.fixture(scope="module")
def moons():
    return make_moons(n_samples=400, noise=0.1, random_state=0)


@pytest.fixture(scope="module")
def fitted(moons):
    X, y = moons
    return AttentionClassifier(**SMALL).fit(X, y)


def test_learns_a_problem_a_linear_model_cannot(moons):
    X, y = moons
    X_test, y_test = make_moons(n_samples=400, noise=0.1, random_state=1)
    clf = AttentionClassifier(max_epochs=60, random_state=0).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.95


def test_uses_a_categorical_column_that_carries_the_signal():
    rng = np.random.RandomState(0)
    n = 400
    colour = rng.choice(["red", "green", "blue", "black"], size=n)
    X = pd.DataFrame({"noise": rng.randn(n), "colour": colour})
    y = np.isin(colour, ["red", "blue"]).astype(int)
    clf = AttentionClassifier(**SMALL).fit(X[:300], y[:300])
    assert clf.score(X[300:], y[300:]) >= 0.95


def test_string_labels_round_trip(moons):
    X, y = moons
    labels = np.array(["left", "right"])[y]
    clf = AttentionClassifier(**SMALL).fit(X, labels)
    assert list(clf.classes_) == ["left", "right"]
    assert set(clf.predict(X)) <= {"left", "right"}


def test_predict_proba_is_float64_and_sums_to_one(fitted, moons):
    proba = fitted.predict_proba(moons[0])
    assert proba.dtype == np.float64
    assert proba.shape == (400, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(1)], fitted.predict(moons[0]))


def test_zero_weight_rows_do_not_influence_the_fit(moons):
    X, y = moons
    corrupted = y.copy()
    wrong = np.arange(len(y)) % 3 != 0  # two labels in three are flipped
    corrupted[wrong] = 1 - corrupted[wrong]
    ignored = AttentionClassifier(**SMALL).fit(X, corrupted, sample_weight=(~wrong).astype(float))
    trusted = AttentionClassifier(**SMALL).fit(X, corrupted)
    assert ignored.score(X, y) >= 0.9
    assert trusted.score(X, y) < 0.5


def test_regressor_ignores_rows_of_zero_weight():
    # The regressor's loss once summed its rows and ignored their weights.
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = X[:, 0].copy()
    wrong = rng.rand(400) < 0.4
    corrupted = np.where(wrong, -X[:, 0], y)
    ignored = AttentionRegressor(**SMALL).fit(X, corrupted, sample_weight=(~wrong).astype(float))
    trusted = AttentionRegressor(**SMALL).fit(X, corrupted)
    assert ignored.score(X, y) > 0.9
    assert trusted.score(X, y) < 0.6


def test_heavily_weighted_class_dominates():
    X, y = make_classification(n_samples=300, n_features=5, class_sep=0.3, random_state=0)
    plain = AttentionClassifier(**SMALL).fit(X, y)
    heavy = AttentionClassifier(**SMALL, class_weight={0: 50.0, 1: 1.0}).fit(X, y)
    # Measured: 72% of rows predicted as class 0 against 52% without weights.
    assert np.mean(heavy.predict(X) == 0) > np.mean(plain.predict(X) == 0) + 0.15
    balanced = AttentionClassifier(**SMALL, class_weight="balanced").fit(X, y)
    assert balanced.score(X, y) > 0.6


def test_regressor_fits_a_nonlinear_target_at_any_scale():
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(500, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    reg = AttentionRegressor(**{**SMALL, "max_epochs": 80}).fit(X[:400], y[:400])
    assert reg.score(X[400:], y[400:]) > 0.9
    scaled = AttentionRegressor(**{**SMALL, "max_epochs": 80}).fit(X[:400], 1e6 * y[:400] + 3e6)
    np.testing.assert_allclose(
        scaled.predict(X[400:]), 1e6 * reg.predict(X[400:]) + 3e6, rtol=1e-3, atol=1e3
    )


def test_predictions_do_not_depend_on_the_rows_predicted_with_them():
    # To a float32 tolerance here; the test below asks for the same bits.
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    reg = AttentionRegressor(max_epochs=5, random_state=0).fit(X, y + X[:, 0])
    one_by_one = np.concatenate([reg.predict(X[[i]]) for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, reg.predict(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_rows", [1, 7, 600])
def test_a_row_gets_the_same_bits_whatever_rows_are_predicted_beside_it(n_rows):
    # Inference runs in batches of one shape, so no kernel rounds a row's
    # numbers differently for a batch of 1 row and one of 20 (600 rows: the
    # rows after the first batch's 512 fill a padded one).
    X, y = make_classification(n_samples=600, n_features=5, random_state=0)
    reg = AttentionRegressor(max_epochs=2, random_state=0).fit(X, y + X[:, 0])
    pretrainer = MaskedAttentionPretrainer(d_token=16, max_epochs=2, random_state=0).fit(X)
    rows = np.arange(len(X) - n_rows, len(X))
    for alone, together in [
        (reg.predict(X[rows]), reg.predict(X)[rows]),
        (pretrainer.transform(X[rows]), pretrainer.transform(X)[rows]),
    ]:
        np.testing.assert_array_equal(alone, together)


def test_same_random_state_gives_identical_predictions(moons):
    X, y = moons
    first = AttentionClassifier(**SMALL).fit(X, y).predict_proba(X)
    second = AttentionClassifier(**SMALL).fit(X, y).predict_proba(X)
    other = AttentionClassifier(**{**SMALL, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_fit_does_not_change_the_global_torch_seed(moons):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AttentionClassifier(**{**SMALL, "max_epochs": 2}).fit(*moons)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_joblib_round_trip_predicts_identically(fitted, moons, tmp_path):
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(moons[0]), fitted.predict_proba(moons[0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fitted_model_predicts_after_load(moons):
    X, y = moons
    clf = AttentionClassifier(**{**SMALL, "device": "cuda"}).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)


def test_cuda_fitted_model_loads_on_a_machine_without_cuda(fitted, moons, monkeypatch):
    # Pretend the model was trained on CUDA, then load it where CUDA is absent:
    # the weights are remapped to the CPU with a warning and predict works.
    clf = pickle.loads(pickle.dumps(fitted))
    clf.device_ = clf.net_.device = "cuda"
    payload = io.BytesIO()
    joblib.dump(clf, payload)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    payload.seek(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = joblib.load(payload)
    assert any("CUDA" in str(warning.message) for warning in caught)
    assert loaded.device_ == "cpu"
    np.testing.assert_array_equal(loaded.predict(moons[0]), fitted.predict(moons[0]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda_is_a_clear_error(moons):
    with pytest.raises(ValueError, match="CUDA is not available"):
        AttentionClassifier(device="cuda").fit(*moons)


def test_works_in_pipeline_grid_search_and_cross_validation(moons):
    X, y = moons
    pipe = make_pipeline(FunctionTransformer(), AttentionClassifier(**{**SMALL, "max_epochs": 5}))
    search = GridSearchCV(pipe, {"attentionclassifier__d_token": [8, 16]}, cv=2).fit(X, y)
    assert search.best_params_["attentionclassifier__d_token"] in (8, 16)
    scores = cross_val_score(clone(pipe), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(scores > 0.5)


def test_early_stopping_stops_early_and_writes_no_files(moons, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = moons
    stopped = AttentionClassifier(
        **{**SMALL, "early_stopping": True, "max_epochs": 500, "n_iter_no_change": 3}
    ).fit(X, y)
    assert stopped.n_iter_ < 500
    assert list(tmp_path.iterdir()) == []
    full = AttentionClassifier(**{**SMALL, "max_epochs": 7, "early_stopping": False}).fit(X, y)
    assert full.n_iter_ == 7
    small_auto = AttentionClassifier(**{**SMALL, "max_epochs": 7}).fit(X, y)
    assert small_auto.n_iter_ == 7  # "auto" needs 1000 rows to hold some out


X4 = np.arange(40, dtype=float).reshape(10, 4)
Y4 = np.array([0, 1] * 5)


def test_incompatible_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="divisible"):
        AttentionClassifier(d_token=10, n_heads=4).fit(X4, Y4)


def test_no_warnings_on_a_clean_fit(moons):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AttentionClassifier(**{**SMALL, "max_epochs": 2}).fit(*moons).predict(moons[0])


def test_each_member_of_the_ensemble_learns_from_its_own_loss():
    from skattn.training import TabularNet

    net = TabularNet(
        torch.nn.Linear,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__reduction="none",
        module__in_features=1,
        module__out_features=1,
    ).initialize()
    torch.manual_seed(0)
    y_pred, y = torch.randn(6, 4, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    weight = torch.tensor([1.0, 2, 0, 1, 1, 3])
    loss = net.get_loss(y_pred, y, X={"sample_weight": weight})
    each = torch.stack(
        [torch.nn.functional.cross_entropy(y_pred[:, k], y, reduction="none") for k in range(4)]
    )  # not the loss of the members' mean prediction
    torch.testing.assert_close(loss, (each.mean(dim=0) * weight).sum() / weight.sum())


def test_classifier_is_an_ensemble_whose_members_differ(moons):
    X, y = moons
    clf = AttentionClassifier(**SMALL).fit(X, y)
    module = clf.net_.module_
    assert module.n_members == 4
    inputs = {key: torch.as_tensor(value) for key, value in clf.encoder_.transform(X).items()}
    with torch.inference_mode():
        embeddings = module.eval().embed(inputs["x_num"], inputs["x_cat"])
        each = module.members.unflatten(module.read_out(embeddings))
    proba = torch.softmax(each, dim=-1).numpy()
    assert np.abs(proba[:, 1:] - proba[:, :1]).max() > 0.01
