"""What users rely on from AttentionSelfTrainingClassifier."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.semi_supervised import SelfTrainingClassifier

from skattn import AttentionClassifier, AttentionSelfTrainingClassifier
from skattn.model_selection import SemiSupervisedKFold, labeled_scorer

NET = dict(d_token=16, n_heads=2, max_epochs=30, random_state=0)
SMALL = dict(**NET, epochs_per_round=3)


@pytest.fixture(scope="module")
def few_labels():
    """Two moons, 6 labels per class, 388 unlabeled rows, and a test set."""
    X, y = make_moons(n_samples=400, noise=0.1, random_state=0)
    rng = np.random.RandomState(0)
    labeled = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 6, replace=False) for c in (0, 1)]
    )
    y_partial = np.full_like(y, -1)
    y_partial[labeled] = y[labeled]
    X_test, y_test = make_moons(n_samples=400, noise=0.1, random_state=1)
    return X, y, y_partial, X_test, y_test


@pytest.fixture(scope="module")
def fitted(few_labels):
    X, _, y_partial, _, _ = few_labels
    return AttentionSelfTrainingClassifier(**SMALL).fit(X, y_partial)


def test_unlabeled_rows_raise_accuracy(few_labels, fitted):
    X, y, y_partial, X_test, y_test = few_labels
    has_label = y_partial != -1
    supervised = AttentionClassifier(**NET).fit(X[has_label], y[has_label])
    # Measured: 0.845 against 0.83 for the same network on the 12 labels alone.
    assert fitted.score(X_test, y_test) > supervised.score(X_test, y_test)


def test_label_spreading_makes_pseudo_labels_more_accurate(few_labels, fitted):
    X, y, y_partial, _, _ = few_labels
    network_only = AttentionSelfTrainingClassifier(**SMALL, propagation_weight=0.0)
    network_only.fit(X, y_partial)
    # Measured on these moons: 0.986 with spreading, 0.840 without.
    accuracies = [
        np.mean(model.transduction_[model.labeled_iter_ > 0] == y[model.labeled_iter_ > 0])
        for model in (fitted, network_only)
    ]
    assert accuracies[0] >= accuracies[1] + 0.05


def test_fitted_attributes_follow_scikit_learn(few_labels, fitted):
    _, y, y_partial, _, _ = few_labels
    has_label = y_partial != -1
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    np.testing.assert_array_equal(fitted.transduction_[has_label], y[has_label])
    assert np.all(fitted.labeled_iter_[has_label] == 0)
    assert np.all(fitted.labeled_iter_[~has_label] != 0)
    pseudo = fitted.labeled_iter_ > 0
    assert np.all(fitted.transduction_[~has_label & ~pseudo] == -1)
    assert set(fitted.transduction_[pseudo]) <= {0, 1}
    assert 1 <= fitted.n_iter_ <= 10
    assert fitted.termination_condition_ in {"max_iter", "no_change", "all_labeled"}


def test_history_reports_each_round(fitted):
    history = fitted.pseudo_label_history_
    assert [entry["round"] for entry in history] == list(range(1, fitted.n_iter_ + 1))
    for entry in history:
        assert entry["n_pseudo_labeled"] == np.sum(fitted.labeled_iter_ == entry["round"])
        assert sum(entry["class_counts"].values()) == entry["n_pseudo_labeled"]
        if entry["n_pseudo_labeled"]:
            assert 0.5 < entry["mean_confidence"] <= 1.0


def test_rounds_continue_training_instead_of_restarting(few_labels):
    X, _, y_partial, _, _ = few_labels
    clf = AttentionSelfTrainingClassifier(
        **{**SMALL, "max_epochs": 10, "early_stopping": False}, max_iter=3, threshold=0.0
    ).fit(X, y_partial)
    # One history, growing by epochs_per_round epochs per round with new labels.
    rounds_with_labels = sum(entry["n_pseudo_labeled"] > 0 for entry in clf.pseudo_label_history_)
    assert len(clf.net_.history) == 10 + 3 * rounds_with_labels


def test_k_best_labels_k_rows_per_round(few_labels):
    X, _, y_partial, _, _ = few_labels
    clf = AttentionSelfTrainingClassifier(
        **{**NET, "max_epochs": 3}, criterion="k_best", k_best=7, max_iter=2, epochs_per_round=1
    ).fit(X, y_partial)
    assert [entry["n_pseudo_labeled"] for entry in clf.pseudo_label_history_] == [7, 7]
    assert clf.termination_condition_ == "max_iter"


def test_pseudo_labels_pass_the_threshold_and_none_means_no_change(few_labels, fitted):
    for entry in fitted.pseudo_label_history_:
        if entry["n_pseudo_labeled"]:
            assert entry["mean_confidence"] > min(entry["thresholds"])
    X, _, y_partial, _, _ = few_labels
    unsure = AttentionSelfTrainingClassifier(
        **{**SMALL, "max_epochs": 1}, threshold=0.999, adaptive_threshold=False
    ).fit(X, y_partial)
    assert unsure.termination_condition_ == "no_change"
    assert unsure.n_iter_ == 1
    assert np.all(unsure.labeled_iter_[y_partial == -1] == -1)


def test_a_round_labels_each_class_at_most_in_proportion_to_its_labels():
    # Class-balanced quotas (CAST): the rows that pass the thresholds are
    # shared out by the classes' shares of the labels, so a class that fills
    # the pool cannot flood a round with its pseudo-labels (and their errors).
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(0, 1, (600, 2)), rng.normal(8, 1, (60, 2))])
    y = np.repeat([0, 1], [600, 60])
    y_partial = np.full_like(y, -1)
    for c in (0, 1):
        y_partial[rng.choice(np.flatnonzero(y == c), 10, replace=False)] = c
    clf = AttentionSelfTrainingClassifier(**SMALL, max_iter=1).fit(X, y_partial)
    first = clf.pseudo_label_history_[0]
    n_pool = int((y_partial == -1).sum())
    assert first["n_pseudo_labeled"] > 0
    assert first["class_counts"][0] <= np.ceil(n_pool / 2)


def test_density_ranks_the_rows_a_class_quota_takes():
    from skattn._selection import balanced_densest

    # One class, labeled around 0; of three equally confident candidates the
    # quota of 2 takes the two nearest the labels, not the outlier at 10.
    points = np.array([[0.0], [0.1], [10.0], [0.2], [-0.1]])
    chosen = balanced_densest(
        points,
        candidates=np.array([1, 2, 3]),
        confidence=np.array([0.9, 0.9, 0.9]),
        prediction=np.array([0, 0, 0]),
        labeled=np.array([0, 4]),
        labels=np.array([0, 0]),
        n_classes=1,
        quota_rows=2,
    )
    np.testing.assert_array_equal(chosen, [0, 2])


def test_rows_above_the_thresholds_never_end_the_rounds():
    from skattn._selection import balanced_densest

    # One candidate among three classes: its class's quota rounds to 0 (the
    # remainder goes to class 0), yet a row passed, so the round takes it
    # rather than end the rounds with "no_change".
    chosen = balanced_densest(
        np.array([[0.0], [1.0], [2.0], [3.0]]),
        candidates=np.array([3]),
        confidence=np.array([0.9]),
        prediction=np.array([2]),
        labeled=np.array([0, 1, 2]),
        labels=np.array([0, 1, 2]),
        n_classes=3,
    )
    np.testing.assert_array_equal(chosen, [0])


def test_max_iter_none_runs_until_all_labeled(few_labels):
    X, _, y_partial, _, _ = few_labels
    clf = AttentionSelfTrainingClassifier(
        **{**NET, "max_epochs": 3},
        criterion="k_best",
        k_best=200,
        max_iter=None,
        epochs_per_round=1,
    ).fit(X, y_partial)
    assert clf.termination_condition_ == "all_labeled"
    assert clf.n_iter_ == 2
    assert np.all(clf.labeled_iter_ >= 0)


def test_matches_scikit_learn_warnings_and_errors(few_labels):
    X, y, y_partial, _, _ = few_labels
    quick = {**NET, "max_epochs": 1}
    for estimator in (
        SelfTrainingClassifier(AttentionClassifier(**quick), max_iter=1),
        AttentionSelfTrainingClassifier(**quick, max_iter=1),
    ):
        with pytest.warns(UserWarning, match="y contains no unlabeled samples"):
            estimator.fit(X, y)
        with pytest.warns(UserWarning, match="k_best is larger"):
            estimator.set_params(criterion="k_best", k_best=1000).fit(X, y_partial)
        with pytest.raises(ValueError, match="dtype object"):
            estimator.fit(X, np.where(y_partial == -1, "-1", y_partial.astype(str)))
        estimator.set_params(criterion="threshold")


def test_string_labels_with_object_dtype(few_labels):
    X, _, y_partial, _, _ = few_labels
    names = np.array(["left", "right"], dtype=object)
    y_named = np.where(y_partial == -1, -1, names[np.clip(y_partial, 0, 1)]).astype(object)
    clf = AttentionSelfTrainingClassifier(**{**SMALL, "max_epochs": 3}, max_iter=1).fit(X, y_named)
    assert list(clf.classes_) == ["left", "right"]
    assert set(clf.predict(X)) <= {"left", "right"}


def test_a_class_with_one_labeled_row_still_trains():
    X, y = make_moons(n_samples=60, noise=0.1, random_state=0)
    y_partial = np.full_like(y, -1)
    y_partial[np.flatnonzero(y == 0)[:20]] = 0
    y_partial[np.flatnonzero(y == 1)[0]] = 1
    clf = AttentionSelfTrainingClassifier(**{**SMALL, "max_epochs": 3}, max_iter=1)
    assert clf.fit(X, y_partial).predict(X).shape == (60,)


def test_missing_values_in_unlabeled_rows(few_labels):
    X, _, y_partial, _, _ = few_labels
    X = X.copy()
    X[(y_partial == -1) & (np.arange(len(X)) % 4 == 0), 1] = np.nan
    clf = AttentionSelfTrainingClassifier(**{**SMALL, "max_epochs": 3}, max_iter=1)
    assert np.all(np.isfinite(clf.fit(X, y_partial).predict_proba(X)))


def test_joblib_round_trip(fitted, few_labels, tmp_path):
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        loaded.predict_proba(few_labels[0]), fitted.predict_proba(few_labels[0])
    )


def test_splitter_keeps_unlabeled_rows_in_training_and_tests_on_labels():
    y = np.array([0, 1] * 10 + [-1] * 30)
    for train, test in SemiSupervisedKFold(n_splits=4).split(np.zeros((50, 1)), y):
        assert set(np.flatnonzero(y == -1)) <= set(train)
        assert np.all(y[test] != -1)
        assert not set(train) & set(test)


def test_scorer_ignores_unlabeled_rows(fitted, few_labels):
    X, y, y_partial, _, _ = few_labels
    has_label = y_partial != -1
    score = labeled_scorer("accuracy")(fitted, X, y_partial)
    assert score == fitted.score(X[has_label], y[has_label])


def test_grid_search_over_a_pipeline_with_unlabeled_rows(few_labels):
    X, _, y_partial, _, _ = few_labels
    pipe = make_pipeline(
        FunctionTransformer(),
        AttentionSelfTrainingClassifier(**{**SMALL, "max_epochs": 5}, max_iter=1),
    )
    search = GridSearchCV(
        pipe,
        {"attentionselftrainingclassifier__threshold": [0.8, 0.95]},
        cv=SemiSupervisedKFold(n_splits=3, shuffle=True, random_state=0),
        scoring=labeled_scorer("accuracy"),
    ).fit(X, y_partial)
    assert search.best_params_["attentionselftrainingclassifier__threshold"] in (0.8, 0.95)
    assert 0.0 <= search.best_score_ <= 1.0


def test_label_spreading_in_blocks_keeps_the_classes_apart():
    import torch

    from skattn.self_training import spread_labels

    rng = np.random.RandomState(0)
    clusters = np.arange(3000) % 2
    x_num = rng.normal(size=(3000, 2)) + 4 * clusters[:, None]
    target = np.where(rng.rand(3000) < 0.05, clusters, -1)
    inputs = {"x_num": torch.tensor(x_num), "x_cat": torch.zeros(3000, 0, dtype=torch.long)}
    whole = spread_labels(inputs, torch.tensor(target), 2)
    blocked = spread_labels(inputs, torch.tensor(target), 2, block_rows=400, seed=1)
    for distributions in (whole, blocked):
        reached = np.isclose(distributions.sum(axis=1), 1.0)  # else all zeros
        assert np.all(reached | (distributions.sum(axis=1) == 0))
        assert reached.mean() > 0.95
        assert np.mean(distributions[reached].argmax(axis=1) == clusters[reached]) > 0.99
    assert not np.allclose(whole, blocked)  # 8 graphs of 375 rows, not one


def test_label_spreading_that_misleads_loses_its_weight():
    # The class is the sign of one column; twenty noise columns make the
    # nearest neighbours of a row arbitrary, while a linear model finds it.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 21))
    y = (X[:, 0] > 0).astype(int)
    y_partial = np.where(np.arange(400) < 60, y, -1)
    misled = AttentionSelfTrainingClassifier(**SMALL, max_iter=1, adaptive_propagation=True)
    misled.fit(X, y_partial)
    assert misled.propagation_trust_ < 0.5


def test_label_spreading_that_finds_the_classes_keeps_its_weight(few_labels):
    X, _, y_partial, _, _ = few_labels
    clf = AttentionSelfTrainingClassifier(**SMALL, max_iter=1, adaptive_propagation=True)
    assert clf.fit(X, y_partial).propagation_trust_ == 1.0


def test_spreading_trust_on_more_rows_than_a_block():
    from skattn.self_training import spreading_trust

    rng = np.random.RandomState(0)
    clusters = np.arange(3000) % 2
    clustered = rng.normal(size=(3000, 2)) + 6 * clusters[:, None]
    # The class is the sign of one column, hidden among twenty noise columns.
    noisy = rng.normal(size=(3000, 21))
    sign = (noisy[:, 0] > 0).astype(int)
    labeled = rng.rand(3000) < 0.3
    assert spreading_trust(clustered, np.where(labeled, clusters, -1), 2, block_rows=400) == 1.0
    assert spreading_trust(noisy, np.where(labeled, sign, -1), 2, block_rows=400) < 0.5


def test_consistency_cannot_teach_one_class_to_every_row():
    # A network that predicts one class everywhere, aligned to the labels'
    # class shares, is confident about no row: FixMatch's consistency term
    # then has no target to spread that class with (issue 28's collapse).
    import torch

    from skattn.training._semi import align_distribution

    prior = torch.full((3,), 1 / 3)
    collapsed = torch.softmax(torch.tensor([[4.0, 0.0, 0.0]]).repeat(256, 1), dim=1)
    assert float(align_distribution(collapsed, prior).max()) < 0.34
    # A batch that agrees with the prior keeps its confident rows.
    varied = torch.eye(3).repeat(10, 1) * 0.9 + 0.1 / 3
    assert torch.allclose(align_distribution(varied, prior), varied, atol=1e-6)


@pytest.mark.usefixtures("one_torch_thread")
def test_unlabeled_rows_of_a_wide_table_do_not_unlearn_the_labels():
    # 200 columns of which 10 informative, 4 labels per class, 588 unlabeled
    # rows: before distribution alignment, consistency pushed one class onto
    # every row until the network predicted 4 of its 12 labels wrong (and
    # one class for 97% of the rows); with it, all 12 are kept (first phase
    # and one round: max_iter=0 is the labels-only fit).
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=600,
        n_features=200,
        n_informative=10,
        n_redundant=0,
        n_classes=3,
        random_state=1,
    )
    rng = np.random.RandomState(0)
    labeled = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 4, replace=False) for c in range(3)]
    )
    y_partial = np.full_like(y, -1)
    y_partial[labeled] = y[labeled]
    clf = AttentionSelfTrainingClassifier(max_iter=1, random_state=0).fit(X, y_partial)
    # The self-trained network's own outputs: predict also averages in the
    # labels-only member, which would hide the collapse.
    assert np.mean(clf._forward(X[labeled]).argmax(axis=1) == y[labeled]) == 1.0


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_adaptive_thresholds_stay_above_chance(n_classes):
    # FlexMatch lowers the threshold of a class the network is unsure about;
    # its floor was threshold / 2, 0.375: chance with 3 classes (every flat
    # prediction passed it, and round 1 pseudo-labeled 71% of a 500-column
    # table at 36% accuracy) and below chance with 2.
    from skattn.self_training import _Rounds

    clf = AttentionSelfTrainingClassifier(threshold=0.75)
    clf.classes_ = np.arange(n_classes)
    rounds = _Rounds(clf, np.zeros(4), np.ones(4))
    confidence = np.array([0.99] * 50 + [0.8])
    prediction = np.array([0] * 50 + [1])
    thresholds = rounds._class_thresholds(confidence, prediction, np.zeros(n_classes, int))
    chance = 1 / n_classes
    assert thresholds[0] == 0.75
    assert thresholds.min() >= chance + (0.75 - chance) / 2 - 1e-12


def test_the_labels_only_member_is_the_max_iter_0_fit(few_labels, fitted):
    X, _, y_partial, X_test, _ = few_labels
    labels_only = AttentionSelfTrainingClassifier(**SMALL, max_iter=0).fit(X, y_partial)
    # Equal up to the last bits: with two threads, a full CI run saw 7.7e-7 apart.
    np.testing.assert_allclose(
        fitted.labels_only_.predict_proba(X_test), labels_only.predict_proba(X_test), atol=1e-5
    )
    # Without rounds (max_iter=0, or no unlabeled row) there is no member.
    for name in ("labels_only_", "temperature_", "pseudo_label_trust_", "pool_shift_"):
        assert not hasattr(labels_only, name)


def test_predictions_average_the_tempered_network_and_the_labels_only_one(few_labels, fitted):
    from skattn._base import softmax

    X_test = few_labels[3]
    assert fitted.temperature_ >= 1.0
    assert 0.0 <= fitted.pseudo_label_trust_ <= 1.0
    # Labels drawn at random: a linear model cannot tell the unlabeled rows
    # from the labeled ones (its cross-validated AUC, 0.24 here, is biased
    # low with 12 labeled rows), and the two members weigh the same.
    assert fitted.pool_shift_ < 0.6
    assert fitted.self_trained_weight_ == 0.5
    expected = (
        softmax(fitted._forward(X_test) / fitted.temperature_)
        + fitted.labels_only_.predict_proba(X_test)
    ) / 2
    np.testing.assert_allclose(fitted.predict_proba(X_test), expected)
    np.testing.assert_array_equal(fitted.predict(X_test), fitted.classes_[expected.argmax(axis=1)])


def test_tempering_matches_the_labels_only_confidence_on_the_unlabeled_rows(few_labels, fitted):
    from skattn._base import softmax

    X, _, y_partial, _, _ = few_labels
    pool = X[y_partial == -1]
    tempered = softmax(fitted._forward(pool) / fitted.temperature_).max(axis=1).mean()
    labels_only = fitted.labels_only_.predict_proba(pool).max(axis=1).mean()
    if fitted.temperature_ > 1.0:
        assert tempered == pytest.approx(labels_only, abs=1e-6)
    else:  # the self-trained network was no more confident: left as it is
        assert tempered <= labels_only


@pytest.mark.usefixtures("one_torch_thread")
def test_unlabeled_rows_from_another_distribution_leave_the_labels_only_fit():
    # 16 labels on x0 > 0; 600 unlabeled rows almost all on class 0's side.
    # Aligned to the labels' class shares, self-training pseudo-labels half
    # of them class 1 and moves its boundary (the self-trained network alone:
    # 0.645, 0.836, 0.842 with random_state 0-2). A linear model tells the pool
    # from the labeled rows (AUC 0.91), so the prediction is the labels-only
    # fit's (0.933 / 0.926 / 0.934): within a point of it, as the issue asks;
    # averaged with equal weights, as before the pool-shift test, it was
    # 0.753 / 0.870 / 0.899.
    rng = np.random.RandomState(1)

    def draw(n, shifted):
        X = rng.normal(size=(n, 6))
        if shifted:
            X[:, 0] = -1.5 + 0.7 * rng.normal(size=n)
        return X, (X[:, 0] > 0).astype(int)

    X_labeled, y_labeled = draw(16, False)
    X_pool, _ = draw(600, True)
    X_test, y_test = draw(1000, False)
    clf = AttentionSelfTrainingClassifier(random_state=0).fit(
        np.vstack([X_labeled, X_pool]), np.r_[y_labeled, np.full(600, -1)]
    )
    alone = np.mean(clf.classes_[clf._forward(X_test).argmax(axis=1)] == y_test)
    assert clf.pool_shift_ > 0.8
    assert clf.self_trained_weight_ < 0.5
    assert clf.score(X_test, y_test) >= clf.labels_only_.score(X_test, y_test) - 0.01
    assert clf.score(X_test, y_test) >= alone + 0.05


def test_member_survives_both_file_formats(fitted, few_labels, tmp_path):
    X_test = few_labels[3]
    fitted.save(tmp_path / "model.skattn")
    joblib.dump(fitted, tmp_path / "model.joblib")
    from skattn import load

    for loaded in (load(tmp_path / "model.skattn"), joblib.load(tmp_path / "model.joblib")):
        assert loaded.temperature_ == fitted.temperature_
        assert loaded.pseudo_label_trust_ == fitted.pseudo_label_trust_
        assert loaded.pool_shift_ == fitted.pool_shift_
        assert loaded.self_trained_weight_ == fitted.self_trained_weight_
        np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted.predict_proba(X_test))


def test_refit_without_rounds_drops_the_member(few_labels):
    X, _, y_partial, _, _ = few_labels
    clf = AttentionSelfTrainingClassifier(**{**SMALL, "max_epochs": 3}, max_iter=1)
    assert hasattr(clf.fit(X, y_partial), "labels_only_")
    assert not hasattr(clf.set_params(max_iter=0).fit(X, y_partial), "labels_only_")
