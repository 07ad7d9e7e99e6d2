"""Hyperparameter search over a Dask cluster, through joblib's Dask backend."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV

from skattn import AttentionSelfTrainingClassifier
from skattn.model_selection import SemiSupervisedKFold, labeled_scorer

distributed = pytest.importorskip("distributed")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_grid_search_on_a_local_dask_cluster_matches_the_sequential_one():
    X, y = make_moons(n_samples=160, noise=0.1, random_state=0)
    y_partial = np.where(np.arange(160) % 4 == 0, y, -1)

    def search(**kwargs):
        return GridSearchCV(
            AttentionSelfTrainingClassifier(
                d_token=8, n_heads=2, max_epochs=3, max_iter=1, random_state=0
            ),
            {"threshold": [0.6, 0.9]},
            cv=SemiSupervisedKFold(n_splits=2),
            scoring=labeled_scorer("accuracy"),
            **kwargs,
        ).fit(X, y_partial)

    sequential = search()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_backend("dask"),
    ):
        on_cluster = search(n_jobs=-1)
    assert len(tasks.data) >= 4  # 2 candidates x 2 folds ran as cluster tasks
    np.testing.assert_array_equal(
        on_cluster.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(on_cluster.predict_proba(X), sequential.predict_proba(X))
