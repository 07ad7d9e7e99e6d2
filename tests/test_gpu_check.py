"""benchmarks/gpu_check.py: its CPU dry run passes, and a failed check is a FAIL row."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import skattn

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
ESTIMATORS = [name for name in skattn.__all__ if isinstance(getattr(skattn, name), type)]
# One row per estimator, then these, in this order.
CHECKS = [
    "mixed_precision=False",
    "mixed_precision=True",
    "predict_proba throughput",
    "save/load without CUDA",
    "large26: ",
    "accelerate launch",
]


def rows(output):
    """``(check, status, measured)`` of every row of the printed table."""
    found = re.findall(r"^\| (.+?) \| (PASS|FAIL) \| (.*) \| [\d.]+ \|$", output, re.MULTILINE)
    assert found, output
    return found


def test_cpu_dry_run_passes_every_check_and_names_every_estimator(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--quick", "--out", tmp_path / "t.md"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    found = rows(done.stdout)
    assert [status for _, status, _ in found] == ["PASS"] * len(found), done.stdout
    checks = [check for check, _, _ in found]
    assert checks[: len(ESTIMATORS)] == [f"fit/predict {name}" for name in ESTIMATORS]
    assert len(checks) == len(ESTIMATORS) + len(CHECKS)
    for check, expected in zip(checks[len(ESTIMATORS) :], CHECKS, strict=True):
        assert check.startswith(expected)
    # --out holds the same table.
    assert rows((tmp_path / "t.md").read_text()) == found


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_checks_on_a_missing_device_are_fail_rows_and_the_exit_code_says_so(monkeypatch, capsys):
    # In this process: every check fails at once, without a subprocess.
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # the script imports _suite
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    assert gpu_check.main(["--device", "cuda", "--quick"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    found = rows(out)
    assert len(found) == len(ESTIMATORS) + len(CHECKS)
    for check, status, measured in found:
        assert status == "FAIL", check
        assert measured.startswith("ValueError: device='cuda' was requested but CUDA is not")
