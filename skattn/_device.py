"""Where a fit runs and how it is seeded: the torch device and the torch RNG."""

import contextlib

import torch


def resolve_device(device: str) -> str:
    """Turn the ``device`` hyperparameter into a concrete torch device string.

    ``"auto"`` is CUDA when available, else the CPU. A CUDA device asked for
    on a machine without CUDA is an error, not a silent fallback.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a torch device: {error}") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine; use device='auto' or device='cpu'."
        )
    return str(parsed)


@contextlib.contextmanager
def seeded(seed: int, device: str):
    """Seed torch for the block and restore the global RNG state afterwards.

    Examples
    --------
    >>> with seeded(0, "cpu"):
    ...     first = torch.rand(1)
    >>> with seeded(0, "cpu"):
    ...     bool(torch.rand(1) == first)
    True
    """
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
