"""Fixtures shared by test modules."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tests with one torch thread, then restore the setting.

    Networks of a few dozen rows gain nothing from a second thread, and on a
    busy two-core machine threads waiting for each other made each fit 20x
    slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
