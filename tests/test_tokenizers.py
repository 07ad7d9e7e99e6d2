"""Images and sequences as input: patches and steps as tokens, for every estimator."""

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_regressor

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)

SMALL = dict(d_token=16, n_heads=2, max_epochs=2, random_state=0)
ESTIMATORS = [
    AttentionClassifier(**SMALL),
    AttentionRegressor(**SMALL),
    AttentionSelfTrainingClassifier(**SMALL, max_iter=1),
    FineTuneClassifier(**SMALL, pretrain_epochs=1, max_iter=1),
    FineTuneRegressor(**SMALL, pretrain_epochs=1),
]


def bright_corner_images(n=240, channels=None, seed=0):
    """8x8 noise images; class 1 has a bright top-left 4x4 corner."""
    rng = np.random.default_rng(seed)
    shape = (n, 8, 8) if channels is None else (n, channels, 8, 8)
    X = rng.normal(size=shape)
    y = np.arange(n) % 2
    X[y == 1, ..., :4, :4] += 1.5
    return X, y


def targets_for(estimator, y):
    if is_regressor(estimator):
        y = y.astype(float)
        if isinstance(estimator, FineTuneRegressor):
            y[::3] = np.nan
        return y
    if isinstance(estimator, AttentionSelfTrainingClassifier):
        y = y.copy()
        y[::3] = -1
    return y


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: type(est).__name__)
@pytest.mark.parametrize("channels", [None, 3])
def test_every_estimator_reads_images_as_patches(estimator, channels):
    X, y = bright_corner_images(n=60, channels=channels)
    est = clone(estimator).set_params(tokenizer="patch", patch_size=4)
    est.fit(X, targets_for(est, y))
    assert est.tokenizer_ == "patch"
    assert est.n_features_in_ == X[0].size
    assert est.net_.module_.tokenizer.n_tokens == 1 + 4
    assert est.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: type(est).__name__)
def test_every_estimator_reads_sequences_of_different_lengths(estimator):
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    X = [rng.normal(size=(3 + row % 5, 2)) + label for row, label in enumerate(y)]
    est = clone(estimator).fit(X, targets_for(estimator, y))
    assert est.tokenizer_ == "sequence"
    assert est.encoder_.input_shape_ == (7, 2)
    assert est.predict(X[:5]).shape == (5,)


def test_padding_steps_are_ignored():
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    X = [rng.normal(size=(3 + row % 5, 2)) + label for row, label in enumerate(y)]
    clf = AttentionClassifier(**SMALL).fit(X, y)
    for method in ("attention", "gradient"):
        shares = clf.explain(X[:1], method=method).to_numpy()[0]  # 3 of 7 steps
        assert np.all(shares[3:] == 0)
        assert np.all(shares[:3] > 0)
    assert np.all(clf.attention_maps(X[:1])[..., 3:] == 0)


def test_auto_tokenizer_follows_the_shape_of_X():
    X, y = bright_corner_images(n=40, channels=1)
    assert AttentionClassifier(**SMALL).fit(X, y).tokenizer_ == "patch"
    assert AttentionClassifier(**SMALL).fit(X[:, 0], y).tokenizer_ == "sequence"
    assert AttentionClassifier(**SMALL).fit(X.reshape(40, -1), y).tokenizer_ == "feature"


def test_patch_tokens_learn_and_point_at_the_informative_patch():
    X, y = bright_corner_images()
    clf = AttentionClassifier(
        d_token=16, n_heads=2, tokenizer="patch", patch_size=4, max_epochs=30, random_state=0
    ).fit(X[:160], y[:160])
    assert clf.score(X[160:], y[160:]) > 0.9
    for method in ("attention", "gradient"):
        attributions = clf.explain(X[160:], method=method)
        assert attributions.shape == (80, 64)
        np.testing.assert_allclose(attributions.sum(axis=1), 1.0)
    bright = clf.explain(X[160:][y[160:] == 1]).to_numpy().mean(axis=0).reshape(8, 8)
    assert bright[:4, :4].sum() > 0.4  # of four patches, the bright corner stands out
    maps = clf.attention_maps(X[:3])
    assert maps.shape == (3, 2, 2, 64)
    assert np.all(maps[..., :4] == maps[..., :1])  # pixels of one patch share its weight


def test_patch_size_must_divide_the_image_sides():
    X, y = bright_corner_images(n=20)
    with pytest.raises(ValueError, match="8x8 pixels cannot be cut into patches of 3x3"):
        AttentionClassifier(tokenizer="patch", patch_size=3).fit(X, y)


def test_images_and_sequences_at_predict_must_match_fit():
    X, y = bright_corner_images(n=20)
    images = AttentionClassifier(**SMALL, tokenizer="patch").fit(X, y)
    with pytest.raises(ValueError, match=r"images of shape \(1, 4, 8\).*fitted on images"):
        images.predict(X[:, :4])
    with pytest.raises(ValueError, match="expects images of shape"):
        images.predict(X.reshape(20, -1))
    sequences = AttentionClassifier(**SMALL).fit(X, y)  # 8 steps of 8 values
    with pytest.raises(ValueError, match="4 values per step, but the model was fitted on 8"):
        sequences.predict(X[:, :, :4])
    with pytest.raises(ValueError, match="16 steps, but the model was fitted on at most 8"):
        sequences.predict(np.concatenate([X, X], axis=1))
    with pytest.raises(ValueError, match="tokenizer='patch' for images"):
        AttentionClassifier(tokenizer="feature").fit(X, y)


def test_fine_tuning_cuts_images_as_the_pretrained_model_did():
    X, y = bright_corner_images(n=60)
    pretrainer = MaskedAttentionPretrainer(**SMALL, tokenizer="patch", patch_size=2).fit(X)
    assert pretrainer.transform(X[:3]).shape == (3, 16)
    clf = FineTuneClassifier(pretrained=pretrainer, max_epochs=2, max_iter=1).fit(X, y)
    assert clf.tokenizer_ == "patch"
    assert clf.net_.module_.tokenizer.n_tokens == 1 + 16


def test_an_image_model_survives_joblib(tmp_path):
    X, y = bright_corner_images(n=40)
    clf = AttentionClassifier(**SMALL, tokenizer="patch").fit(X, y)
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))


def test_image_attributions_plot_as_a_heatmap_over_the_image():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from skattn.inspection import plot_image_attributions

    X, y = bright_corner_images(n=20, channels=3)
    clf = AttentionClassifier(**SMALL, tokenizer="patch").fit(X, y)
    shares = clf.explain(X[:1]).iloc[0]
    ax = plot_image_attributions(X[0], shares)
    heat = ax.images[0].get_array()
    assert heat.shape == (8, 8)
    np.testing.assert_allclose(heat, shares.to_numpy().reshape(8, 8))
    with pytest.raises(ValueError, match="64 attributions for an image of 4x4 pixels"):
        plot_image_attributions(X[0, 0, :4, :4], shares)
    matplotlib.pyplot.close("all")
