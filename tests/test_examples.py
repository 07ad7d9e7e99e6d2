"""Every example runs (in its fast smoke mode), so none rots."""

import runpy
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # examples end with plt.show(); draw off screen

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs(path, monkeypatch, capsys):
    monkeypatch.setenv("SKATTN_EXAMPLE_FAST", "1")
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out
