"""verbose: a bar in a terminal at 1, log lines at 2, silence at 0 and off a terminal."""

import io
import pickle
import sys

import numpy as np
import pytest
from sklearn.datasets import make_moons

from skattn import AttentionClassifier, AttentionSelfTrainingClassifier


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def moons():
    X, y = make_moons(n_samples=120, noise=0.1, random_state=0)
    return X, np.where(np.arange(120) < 20, y, -1)


def fit_self_training(X, y, verbose):
    return AttentionSelfTrainingClassifier(
        max_epochs=3, max_iter=2, epochs_per_round=1, verbose=verbose, random_state=0
    ).fit(X, y)


def test_bar_in_a_terminal_shows_epochs_losses_and_rounds(moons, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    model = fit_self_training(*moons, verbose=1)
    shown = terminal.getvalue()
    assert "AttentionSelfTrainingClassifier" in shown
    assert "3/3" in shown
    assert "train_loss=" in shown
    assert "round 1: +" in shown
    assert "pseudo-labels" in shown
    # The bar keeps standard output clean: only scikit-learn's line per round.
    assert_only_round_lines(capsys.readouterr().out)
    pickle.loads(pickle.dumps(model))  # no bar travels with the model


@pytest.mark.parametrize(("verbose", "in_terminal"), [(0, True), (1, False)])
def test_silent_at_zero_and_off_a_terminal(moons, monkeypatch, capsys, verbose, in_terminal):
    stream = Terminal() if in_terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    fit_self_training(*moons, verbose=verbose)
    assert stream.getvalue() == ""
    out = capsys.readouterr().out
    if verbose:  # scikit-learn's SelfTrainingClassifier prints a line per round
        assert_only_round_lines(out)
    else:
        assert out == ""


def assert_only_round_lines(out):
    lines = out.splitlines()
    assert lines
    assert all(line.startswith("End of iteration ") for line in lines)


def test_verbose_two_logs_epochs_and_rounds_anywhere(moons, capsys):
    fit_self_training(*moons, verbose=2)
    out = capsys.readouterr().out
    assert "train_loss" in out
    assert "round 1: +" in out


def test_supervised_bar_counts_epochs(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    X, y = make_moons(n_samples=60, random_state=0)
    AttentionClassifier(max_epochs=2, verbose=1, random_state=0).fit(X, y)
    assert "AttentionClassifier" in terminal.getvalue()
    assert "2/2" in terminal.getvalue()
