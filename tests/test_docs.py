"""The documentation builds without a warning (the examples' code is not run here)."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_sphinx_build_is_warning_free(tmp_path):
    sphinx = pytest.importorskip("sphinx.cmd.build")
    # Sphinx writes generated pages next to the sources: build a copy.
    for part in ("docs", "examples", "benchmarks/results"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("_build"))
    shutil.copy(ROOT / "CHANGELOG.md", tmp_path)
    args = ["-W", "--keep-going", "-q", "-D", "plot_gallery=0"]
    status = sphinx.build_main([*args, str(tmp_path / "docs"), str(tmp_path / "html")])
    assert status == 0
    assert (tmp_path / "html" / "api.html").is_file()
    generated = tmp_path / "html" / "generated"
    assert (generated / "skattn.AttentionSelfTrainingClassifier.html").is_file()
