"""Check skattn's CUDA path end to end on one GPU, in one table.

Every check runs, whatever the others did, and becomes a row of one markdown
table (check, PASS or FAIL, what was measured, seconds); a check that raises
is a FAIL row with the error's message. The script exits with 1 if any row
failed. The checks, on generated data (``make_classification``, seeded):

- **fit/predict NAME**, for every estimator in ``skattn.__all__``: fits with
  ``device=DEVICE`` (semi-supervised classifiers with 10% of the labels,
  the rest -1; the pretrainer on X alone), the fitted network's parameters
  are all on that device, and ``predict_proba`` / ``predict`` / ``transform``
  return finite values of the right shape.
- **mixed_precision=False / True**: ``AttentionClassifier`` fits the same
  data twice, in float32 and with bfloat16 autocast; fit time and test
  accuracy of each. True passes when its accuracy is within 5 points of
  float32's.
- **predict_proba throughput**: rows per second on one large array (200,000
  rows), best of 3 calls; on CUDA, every batch must be copied from pinned
  memory (``skattn._base.inference_batches``; calls to ``pin_memory`` are
  counted), on the CPU none is.
- **save/load without CUDA**: a classifier fitted on the device, saved with
  ``joblib.dump`` and with ``est.save(".skattn")``, is loaded by a fresh
  Python process with ``CUDA_VISIBLE_DEVICES=""``, whose ``predict_proba``
  (written to a file) must equal the device's within 1e-5.
- **large26: DEVICE vs cpu**: ``AttentionSelfTrainingClassifier(random_state=0)``
  with its defaults on ``large26`` of shared/BENCHMARKS.md (split 0, 10% of
  each class labeled), fitted on the device, then on the CPU: both fit
  times, their ratio, both test accuracies (within 5 points of each other).
- **accelerate launch**: ``examples/data_parallel.py`` under ``accelerate
  launch --num_processes 1`` exits 0 and says it trained on the device.

Usage, on a machine with a CUDA GPU (meant to take under 8 minutes on one;
not yet timed on one)::

    pip install -e ".[distributed]"   # accelerate, for the last check
    python benchmarks/gpu_check.py --out gpu_check.md

``--device`` picks the torch device (default ``cuda``). ``--quick`` runs
the same checks with small data and networks and few epochs (large26 cut to
1,300 rows, too few to learn from): ``--device cpu --quick`` is the dry run
the test suite makes on a CPU-only machine, where large26 compares the CPU
with itself. Timings need a machine with nothing else running.
"""

import argparse
import contextlib
import inspect
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from unittest import mock

import joblib
import numpy as np
import torch
from _suite import LARGE, load, splits
from sklearn.base import is_classifier, is_regressor
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import skattn
from skattn import AttentionClassifier, AttentionSelfTrainingClassifier
from skattn._device import resolve_device

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = [name for name in skattn.__all__ if inspect.isclass(getattr(skattn, name))]


@dataclass(frozen=True)
class Sizes:
    """Data and training sizes of a run; the defaults are the GPU run's."""

    rows: int = 5000  # training + test rows of the estimator and save/load checks
    settings: dict = field(default_factory=lambda: dict(max_epochs=10, pretrain_epochs=10))
    mixed_rows: int = 20_000
    mixed_epochs: int = 20
    predict_rows: int = 200_000
    large26_rows: int = 20_000
    large26_settings: dict = field(default_factory=dict)  # the defaults
    example_fast: bool = False


TINY = dict(d_token=8, n_heads=2, n_blocks=1)  # the network of the dry run
QUICK = Sizes(
    rows=400,
    settings=dict(**TINY, max_epochs=2, pretrain_epochs=1, max_iter=1),
    mixed_rows=800,
    mixed_epochs=10,
    predict_rows=10_000,
    large26_rows=1300,
    large26_settings=dict(**TINY, max_epochs=2, max_iter=1),
    example_fast=True,
)


class CheckFailed(Exception):
    """A check ran but measured something wrong; the message says what."""


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


# --- data ---------------------------------------------------------------------


def table_data(n_rows, seed=0):
    """A 4-class, 20-feature table split 75/25, with 10% of the training labels kept."""
    X, y = make_classification(
        n_samples=n_rows, n_features=20, n_informative=10, n_classes=4,
        n_clusters_per_class=1, class_sep=2.0, random_state=seed,
    )  # fmt: skip
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=seed)
    keep = np.random.RandomState(seed).rand(len(y_train)) < 0.1
    return dict(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        y_partial=np.where(keep, y_train, -1),
        y_value=X_train[:, :3].sum(axis=1) + y_train,  # a regression target
    )


def large26(n_rows):
    """large26 of shared/BENCHMARKS.md (its first ``n_rows`` in the dry run), split 0."""
    X, y = load(LARGE)
    X, y = X.to_numpy()[:n_rows], y[:n_rows]
    _, train, test, y_partial = next(splits(y, 0.10, n_repeats=1))
    return dict(X_train=X[train], y_partial=y_partial, X_test=X[test], y_test=y[test])


# --- the checks: each returns what it measured, or raises ---------------------


def network(sizes):
    """The network-shape settings of a run (none, the defaults, on the GPU)."""
    return {key: value for key, value in sizes.settings.items() if key in TINY}


def make(name, device, settings):
    """A public estimator on ``device``, with those of ``settings`` it takes."""
    cls = getattr(skattn, name)
    params = cls().get_params()
    return cls(random_state=0, device=device, **{k: v for k, v in settings.items() if k in params})


def parameter_devices(estimator, device):
    """The devices holding the fitted network's parameters; all must match ``device``."""
    wanted = torch.device(device)
    found = {p.device for p in estimator.net_.module_.parameters()}
    wrong = [d for d in found if d.type != wanted.type or wanted.index not in (None, d.index)]
    require(found and not wrong, f"parameters on {sorted(map(str, found))}, not on {device}")
    return ", ".join(sorted(map(str, found)))


def check_estimator(name, device, sizes, data):
    estimator = make(name, device, sizes.settings)
    X, n_test = data["X_test"], len(data["X_test"])
    if "threshold" in estimator.get_params():  # self-training knobs: -1 is unlabeled
        estimator.fit(data["X_train"], data["y_partial"])
    elif is_classifier(estimator):
        estimator.fit(data["X_train"], data["y_train"])
    elif is_regressor(estimator):
        estimator.fit(data["X_train"], data["y_value"])
    else:
        estimator.fit(data["X_train"])
    where = parameter_devices(estimator, device)
    if hasattr(estimator, "predict_proba"):
        method, output = "predict_proba", estimator.predict_proba(X)
        require(output.shape == (n_test, len(estimator.classes_)), f"shape {output.shape}")
        require(np.allclose(output.sum(axis=1), 1), "probabilities do not sum to 1")
    elif hasattr(estimator, "predict"):
        method, output = "predict", estimator.predict(X)
        require(output.shape == (n_test,), f"predict shape {output.shape}")
    else:
        method, output = "transform", estimator.transform(X)
        require(output.ndim == 2 and len(output) == n_test, f"transform shape {output.shape}")
    require(np.isfinite(output).all(), f"{method} is not finite")
    return f"parameters on {where}; {method} {output.shape} finite"


def check_mixed_precision(mixed, device, sizes, data, measured):
    clf = AttentionClassifier(
        max_epochs=sizes.mixed_epochs, early_stopping=False, mixed_precision=mixed,
        random_state=0, device=device, **network(sizes),
    )  # fmt: skip
    start = time.perf_counter()
    clf.fit(data["X_train"], data["y_train"])
    seconds = time.perf_counter() - start
    accuracy = clf.score(data["X_test"], data["y_test"])
    measured[mixed] = seconds, accuracy
    figures = f"fit {seconds:.2f} s, test accuracy {accuracy:.3f}"
    if not mixed or False not in measured:
        return figures
    full_seconds, full_accuracy = measured[False]
    ratio = seconds / full_seconds
    figures += f" (float32: {full_seconds:.2f} s, {full_accuracy:.3f}; time x{ratio:.2f})"
    require(accuracy >= full_accuracy - 0.05, f"{figures}: more than 5 points below float32")
    return figures


@contextlib.contextmanager
def counting_pinned_copies():
    """Count the calls to ``Tensor.pin_memory`` in the block: a list of their row counts."""
    calls, pin_memory = [], torch.Tensor.pin_memory

    def counted(tensor, *args, **kwargs):
        calls.append(len(tensor))
        return pin_memory(tensor, *args, **kwargs)

    with mock.patch.object(torch.Tensor, "pin_memory", counted):
        yield calls


def check_throughput(device, sizes, data):
    clf = AttentionClassifier(max_epochs=1, random_state=0, device=device, **network(sizes))
    clf.fit(data["X_train"], data["y_train"])
    X, _ = make_classification(n_samples=sizes.predict_rows, n_features=20, random_state=1)
    X = X.astype(np.float32)
    with counting_pinned_copies() as pinned:
        clf.predict_proba(X[:10_000])  # also the untimed first call
    times = []
    for _ in range(3):
        start = time.perf_counter()
        proba = clf.predict_proba(X)
        times.append(time.perf_counter() - start)
    require(proba.shape == (len(X), len(clf.classes_)), f"predict_proba shape {proba.shape}")
    require(np.isfinite(proba).all(), "predict_proba is not finite")
    on_gpu = torch.device(clf.device_).type == "cuda"
    # Two tensors (numeric and categorical columns) per batch of rows.
    require(bool(pinned) == on_gpu, f"{len(pinned)} pinned copies on {clf.device_}")
    copies = f"{len(pinned)} pinned copies for 10,000 rows" if on_gpu else "no pinning on cpu"
    return f"{len(X) / min(times):,.0f} rows/s on {len(X):,} rows (best of 3); {copies}"


LOADER = """
import json, sys, joblib, numpy as np, torch, skattn
folder = sys.argv[1]
X = np.load(f"{folder}/X.npy")
report = {"cuda": torch.cuda.is_available()}
for name, load in [("joblib", joblib.load), ("skattn", skattn.load)]:
    model = load(f"{folder}/model.{name}")
    np.save(f"{folder}/proba_{name}.npy", model.predict_proba(X))
    report[name] = model.device_
with open(f"{folder}/report.json", "w") as out:
    json.dump(report, out)
"""


def check_save_load(device, sizes, data):
    clf = AttentionClassifier(max_epochs=2, random_state=0, device=device, **network(sizes))
    clf.fit(data["X_train"], data["y_train"])
    proba = clf.predict_proba(data["X_test"])
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/X.npy", data["X_test"])
        joblib.dump(clf, f"{folder}/model.joblib")
        clf.save(f"{folder}/model.skattn")
        environment = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        done = subprocess.run(
            [sys.executable, "-c", LOADER, folder],
            capture_output=True, text=True, env=environment, timeout=300,
        )  # fmt: skip
        require(done.returncode == 0, f"loader exited {done.returncode}: {last_line(done.stderr)}")
        report = json.loads(Path(folder, "report.json").read_text())
        differences = {
            name: float(np.abs(np.load(f"{folder}/proba_{name}.npy") - proba).max())
            for name in ("joblib", "skattn")
        }
    require(not report["cuda"], "CUDA was visible to the loading process")
    figures = (
        f"fitted on {clf.device_}, loaded on {report['joblib']} (joblib) and "
        f"{report['skattn']} (.skattn); max |proba difference| "
        f"joblib {differences['joblib']:.1e}, .skattn {differences['skattn']:.1e}"
    )
    require(max(differences.values()) <= 1e-5, f"{figures}: above 1e-5")
    return figures


def check_large26(device, sizes):
    data = large26(sizes.large26_rows)
    fits = []
    for where in (device, "cpu"):  # the device first: a device that fails stops here
        clf = AttentionSelfTrainingClassifier(
            random_state=0, device=where, **sizes.large26_settings
        )
        start = time.perf_counter()
        clf.fit(data["X_train"], data["y_partial"])
        fits.append((time.perf_counter() - start, clf.score(data["X_test"], data["y_test"])))
    (device_s, device_acc), (cpu_s, cpu_acc) = fits
    figures = (
        f"{len(data['y_partial']):,} training rows: {device} {device_s:.1f} s, cpu {cpu_s:.1f} s "
        f"(cpu/{device} x{cpu_s / device_s:.2f}); test accuracy {device} {device_acc:.3f}, "
        f"cpu {cpu_acc:.3f}"
    )
    require(device_acc >= cpu_acc - 0.05, f"{figures}: the device is 5 points below the CPU")
    return figures


def check_accelerate(device, sizes):
    require(
        find_spec("accelerate") is not None,
        "accelerate is not installed: pip install 'skattn[distributed]'",
    )
    # Launched on a device that does not exist, the example would train on the CPU.
    on_gpu = torch.device(resolve_device(device)).type == "cuda"
    with socket.socket() as sock:  # a free port for the launcher
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1"]
    launch += [] if on_gpu else ["--cpu"]
    launch += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    launch += ["--main_process_port", str(port), "examples/data_parallel.py"]
    environment = {**os.environ, "SKATTN_EXAMPLE_FAST": "1" if sizes.example_fast else "0"}
    if not on_gpu:
        environment["CUDA_VISIBLE_DEVICES"] = ""
    done = subprocess.run(
        launch, capture_output=True, text=True, env=environment, timeout=400, cwd=ROOT
    )
    require(done.returncode == 0, f"exited {done.returncode}: {last_line(done.stderr)}")
    summary = next((line for line in done.stdout.splitlines() if "process(es) on" in line), "")
    require(f"on {'cuda' if on_gpu else 'cpu'}" in summary, f"ran elsewhere: {summary!r}")
    return summary


# --- the runner -----------------------------------------------------------------


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def run(rows, check, function, *args):
    """Time ``function(*args)`` and add its row; a failure is a row, never the end of the run."""
    start = time.perf_counter()
    try:
        status, measured = "PASS", function(*args)
    except CheckFailed as failure:
        status, measured = "FAIL", str(failure)
    except Exception as error:  # any error a check meets is that check's result
        status, measured = "FAIL", f"{type(error).__name__}: {last_line(str(error) or '-')}"
    seconds = time.perf_counter() - start
    rows.append((check, status, measured.replace("|", "\\|"), seconds))
    print(f"[{len(rows)}] {check}: {status} ({seconds:.1f} s)", file=sys.stderr, flush=True)


def table(rows):
    lines = ["| check | status | measured | seconds |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {check} | {status} | {measured} | {s:.1f} |" for check, status, measured, s in rows
    ]
    return "\n".join(lines)


def header(args):
    cuda = torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA here"
    return (
        f"skattn {skattn.__version__}, torch {torch.__version__}, Python "
        f"{platform.python_version()}; --device {args.device} ({cuda}); "
        f"{'--quick sizes' if args.quick else 'full sizes'}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="torch device to check (default cuda)")
    parser.add_argument("--quick", action="store_true", help="small sizes: the CPU dry run")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    sizes, device = QUICK if args.quick else Sizes(), args.device
    data = table_data(sizes.rows)
    rows = []
    for name in ESTIMATORS:
        run(rows, f"fit/predict {name}", check_estimator, name, device, sizes, data)
    mixed_data, measured = table_data(sizes.mixed_rows), {}
    for mixed in (False, True):
        run(rows, f"mixed_precision={mixed}", check_mixed_precision, mixed, device, sizes,
            mixed_data, measured)  # fmt: skip
    run(rows, "predict_proba throughput", check_throughput, device, sizes, data)
    run(rows, "save/load without CUDA", check_save_load, device, sizes, data)
    run(rows, f"large26: {device} vs cpu", check_large26, device, sizes)
    run(rows, "accelerate launch", check_accelerate, device, sizes)
    report = f"{header(args)}\n\n{table(rows)}\n"
    print(report)
    if args.out:
        args.out.write_text(report)
    return int(any(status == "FAIL" for _, status, _, _ in rows))


if __name__ == "__main__":
    sys.exit(main())
