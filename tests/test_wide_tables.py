"""Wide tables: latent tokens above max_tokens columns, explanations per column, bounded memory."""

import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from skattn import (
    AttentionClassifier,
    AttentionRegressor,
    AttentionSelfTrainingClassifier,
    FineTuneClassifier,
    FineTuneRegressor,
    MaskedAttentionPretrainer,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RNG = np.random.RandomState(0)
X_WIDE = RNG.normal(size=(400, 100))
Y_WIDE = (X_WIDE[:, 7] > 0).astype(int)  # only column 7 matters


@pytest.fixture(scope="module")
def wide():
    return AttentionClassifier(max_tokens=16, d_token=16, max_epochs=15, random_state=0).fit(
        X_WIDE, Y_WIDE
    )


@pytest.mark.parametrize(
    "estimator",
    [
        AttentionClassifier,
        AttentionRegressor,
        AttentionSelfTrainingClassifier,
        MaskedAttentionPretrainer,
        FineTuneClassifier,
        FineTuneRegressor,
    ],
)
def test_every_estimator_takes_max_tokens(estimator):
    assert estimator().get_params()["max_tokens"] == "auto"
    assert estimator(max_tokens=8).get_params()["max_tokens"] == 8


def test_narrow_tables_keep_a_token_per_column():
    X, y = load_iris(return_X_y=True)
    clf = AttentionClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert (clf.max_tokens_, clf.n_latents_) == (64, 0)
    assert clf.net_.module_.latents is None


@pytest.mark.parametrize(("max_tokens", "n_latents"), [("auto", 64), (None, 0), (8, 8)])
def test_max_tokens_sets_the_latents(max_tokens, n_latents):
    X = RNG.normal(size=(40, 70))
    clf = AttentionClassifier(max_tokens=max_tokens, d_token=8, max_epochs=1, random_state=0)
    clf.fit(X, X[:, 0] > 0)
    assert clf.n_latents_ == n_latents
    assert clf.feature_importances_.shape == (70,)


def test_latent_model_finds_the_informative_column(wide):
    assert wide.score(X_WIDE, Y_WIDE) > 0.9
    for method in ("attention", "gradient"):
        shares = wide.explain(X_WIDE[:50], method=method)
        assert shares.shape == (50, 100)
        np.testing.assert_allclose(shares.sum(axis=1), 1.0)
        assert shares.mean().to_numpy().argmax() == 7, method
    assert wide.feature_importances_.argmax() == 7
    np.testing.assert_allclose(wide.feature_importances_.sum(), 1.0)


def test_attention_maps_reach_the_columns_through_the_latents(wide):
    maps = wide.attention_maps(X_WIDE[:5])
    assert maps.shape == (5, wide.n_blocks, wide.n_heads, 100)  # rows, blocks, heads, columns
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, atol=1e-5)


def test_categorical_columns_keep_their_own_tokens():
    X = pd.DataFrame(RNG.normal(size=(60, 30)), columns=[f"n{j}" for j in range(30)])
    X["colour"] = np.array(["red", "green", "blue"], dtype=object)[np.arange(60) % 3]
    y = np.arange(60) % 2
    clf = AttentionClassifier(max_tokens=4, d_token=8, max_epochs=1, random_state=0).fit(X, y)
    assert clf.n_latents_ == 4
    assert list(clf.explain(X[:3]).columns) == list(X.columns)
    assert clf.attention_maps(X[:3]).shape == (3, clf.n_blocks, clf.n_heads, 31)


def test_self_training_reconstructs_through_the_latents():
    X = RNG.normal(size=(80, 40))
    y = np.where(np.arange(80) % 4 == 0, (X[:, 0] > 0).astype(int), -1)
    clf = AttentionSelfTrainingClassifier(
        max_tokens=8, d_token=8, max_epochs=2, max_iter=1, epochs_per_round=1, random_state=0
    ).fit(X, y)
    assert clf.n_latents_ == 8
    assert type(clf.net_.module_.reconstruction).__name__ == "LatentReconstructionHead"


PEAK_SCRIPT = """
import os, resource, sys, threading, time
LIMIT = {limit}
def watchdog():
    while True:
        with open("/proc/self/status") as status:
            rss = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmRSS"))
        if rss > LIMIT:
            print("over", rss, flush=True)
            os._exit(3)
        time.sleep(0.05)
threading.Thread(target=watchdog, daemon=True).start()
import numpy as np, torch
torch.set_num_threads(1)
from skattn import AttentionClassifier
X = np.random.RandomState(0).normal(size=(500, 1024)).astype(np.float32)
clf = AttentionClassifier(max_epochs=1, random_state=0).fit(X, X[:, 0] > 0)
clf.predict_proba(X)
print(clf.n_latents_, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_wide_table_fits_in_bounded_memory():
    limit = 2 * 2**30
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PEAK_SCRIPT.format(limit=limit))],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    n_latents, peak = map(int, done.stdout.split()[-2:])
    assert n_latents == 64
    assert peak < limit
    assert time.perf_counter() - start < 120  # 17 s on a 2-core CPU
