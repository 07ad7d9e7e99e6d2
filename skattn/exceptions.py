"""Warnings and errors skattn raises, so users can filter or catch them by class."""


class FitInterruptedWarning(UserWarning):
    """Training was stopped by a KeyboardInterrupt (Ctrl-C).

    The estimator is usable: it keeps the best weights so far (or the last
    ones without early stopping), and ``warm_start=True`` continues from
    them.

    Examples
    --------
    >>> import warnings
    >>> from skattn.exceptions import FitInterruptedWarning
    >>> warnings.simplefilter("ignore", FitInterruptedWarning)
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator pickled by one skattn version is unpickled by another.

    As scikit-learn's own warning of that name: a pickle (``joblib.dump``)
    holds the estimator's internals, which may change between versions, so
    the unpickled model may fail or predict differently. Refit it, or move
    it between versions with ``estimator.save`` and :func:`skattn.load`.

    Attributes
    ----------
    estimator_name : str
        Class of the unpickled estimator.
    original_version : str
        skattn version that pickled it.
    current_version : str
        skattn version that unpickled it.

    Examples
    --------
    >>> from skattn.exceptions import InconsistentVersionWarning
    >>> str(InconsistentVersionWarning("AttentionClassifier", "0.0.9", "0.1.0"))[:60]
    'AttentionClassifier was pickled by skattn 0.0.9 and is unpic'
    """

    def __init__(self, estimator_name, original_version, current_version):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"{self.estimator_name} was pickled by skattn {self.original_version} and is "
            f"unpickled by skattn {self.current_version}; the model may not work or may "
            "predict differently. Refit it, or save it with estimator.save and read it "
            "back with skattn.load, which checks the version."
        )


class InsufficientMemoryError(MemoryError, ValueError):
    """A training step would need more memory than the machine has available.

    Raised by ``fit`` before training, with a message that says what the
    step would need, what is available, and what to change: a smaller
    ``batch_size``, or ``max_tokens`` so that latent tokens summarise the
    columns of a wide table. A :class:`MemoryError` and a
    :class:`ValueError` (the configuration does not suit the machine).

    Examples
    --------
    >>> from skattn.exceptions import InsufficientMemoryError
    >>> issubclass(InsufficientMemoryError, MemoryError)
    True
    >>> issubclass(InsufficientMemoryError, ValueError)
    True
    """
