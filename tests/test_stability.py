"""Many fits in one process; predictions from many threads at once."""

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification

from skattn import (
    AttentionClassifier,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    MaskedAttentionPretrainer,
)

NET = dict(d_token=8, n_heads=2, max_epochs=1)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=120, n_features=6, n_classes=3, n_informative=4, random_state=0
    )
    return X, y, np.where(np.arange(len(y)) % 4 == 0, y, -1)


def resident_mib():
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads Linux's /proc")
def test_fifty_fit_predict_cycles_do_not_grow_memory(data):
    X, y, y_partial = data
    cycles = [
        (AttentionClassifier(**NET), y, "predict_proba"),
        (AttentionSelfTrainingClassifier(**NET, max_iter=1), y_partial, "predict_proba"),
        (FineTuneClassifier(**NET, pretrain_epochs=1, max_iter=1), y_partial, "predict"),
        (MaskedAttentionPretrainer(**NET), None, "transform"),
    ]
    sizes = []
    for cycle in range(50):
        estimator, target, method = cycles[cycle % len(cycles)]
        fitted = clone(estimator).set_params(random_state=cycle).fit(X, target)
        getattr(fitted, method)(X)
        gc.collect()
        sizes.append(resident_mib())
    # The first cycles warm up torch's and the allocator's caches.
    growth = max(sizes[20:]) - sizes[19]
    # Measured: under 0.1 MiB; a model kept alive per cycle would add hundreds of KiB.
    assert growth < 4, f"resident memory grew {growth:.1f} MiB over cycles 20-50: {sizes}"


@pytest.mark.parametrize("method", ["predict_proba", "explain"])
def test_predictions_from_threads_equal_single_threaded_ones(data, method):
    X, y, _ = data
    # Dropout on, so a network left in training mode would show.
    clf = AttentionClassifier(
        d_token=8, n_heads=2, max_epochs=2, ffn_dropout=0.5, random_state=0
    ).fit(X, y)
    chunks = np.array_split(X, 16)
    expected = [getattr(clf, method)(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            results = list(pool.map(getattr(clf, method), chunks))
            for got, want in zip(results, expected, strict=True):
                np.testing.assert_array_equal(got, want)
