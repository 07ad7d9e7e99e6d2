"""The documentation builds without a warning, and the getting-started page runs."""

import ast
import inspect
import re
import shutil
from pathlib import Path

import pytest

import skattn

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


def test_getting_started_code_runs(tmp_path, monkeypatch):
    # The page a new user follows: install, fit with -1 rows, explain, save, tune.
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    text = (ROOT / "docs" / "getting_started.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the page saves model.joblib
    namespace = {}
    for block in blocks:
        exec(block, namespace)  # our own documentation
    assert 0.8 < namespace["semi"].score(namespace["X_test"], namespace["y_test"]) <= 1.0
    assert (tmp_path / "model.skattn").is_file()


ESTIMATORS = [name for name in skattn.__all__ if inspect.isclass(getattr(skattn, name))]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_documented_defaults_match_the_signature(name):
    # Self-training defaults live in the signatures and in the shared docs
    # (skattn._docstring.SELF_TRAINING_DEFAULTS): a change to one must reach the other.
    docscrape = pytest.importorskip("numpydoc.docscrape")
    cls = getattr(skattn, name)
    signature = inspect.signature(cls.__init__).parameters
    for parameter in docscrape.ClassDoc(cls)["Parameters"]:
        if "default=" not in parameter.type:
            continue
        documented = parameter.type.split("default=", 1)[1].strip()
        for argument in (part.strip() for part in parameter.name.split(",")):
            actual = signature[argument].default
            try:
                expected = ast.literal_eval(documented)
            except ValueError:  # an expression, such as d_ffn_factor's 4/3
                expected = eval(documented, {})  # our own docstrings
            assert actual == expected, f"{name}({argument}=...): {actual!r} vs {documented}"
