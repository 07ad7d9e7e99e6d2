"""The README's commands are the ones CI and users run; keep them in step."""

import argparse
import re
from pathlib import Path

from skattn._cli import demo

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command():
    readme_commands = _bash_blocks((ROOT / "README.md").read_text())
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands[1] in ci_lines


def _table(output):
    """The method and trained-on cells of the demo's table, without the numbers."""
    return [re.sub(r"( +[\d.]+){2}$", "", line) for line in output.splitlines()[2:7]]


def test_first_example_fits_with_a_few_labels():
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    namespace = {}
    exec(block.group(1), namespace)  # our own README
    assert 0 < (namespace["y_train"] != -1).mean() < 0.1
    assert 0.8 < namespace["clf"].score(namespace["X_test"], namespace["y_test"]) <= 1.0


def test_quickstart_shows_what_the_demo_prints(capsys):
    readme = (ROOT / "README.md").read_text()
    assert "python -m skattn demo" in _bash_blocks(readme)[0]
    pasted = re.search(r"```text\n(Breast cancer: .*?)```", readme, re.DOTALL).group(1)
    # Shorter training than the real demo: the same rows and methods, other numbers.
    demo(argparse.Namespace(verbose=0), self_training_params={"max_epochs": 2, "max_iter": 1})
    printed = capsys.readouterr().out
    assert pasted.splitlines()[0] == printed.splitlines()[0]  # the label counts
    assert _table(pasted) == _table(printed)
    assert "Most accurate here:" in pasted
