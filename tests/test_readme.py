"""The README's commands are the ones CI and users run; keep them in step."""

import re
from pathlib import Path

from skattn._cli import main

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command():
    readme_commands = _bash_blocks((ROOT / "README.md").read_text())
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands[1] in ci_lines


def test_quickstart_runs_and_prints_scores(capsys):
    assert "python -m skattn demo" in _bash_blocks((ROOT / "README.md").read_text())[0]
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"AttentionClassifier test accuracy: 0\.9\d\d", out)
