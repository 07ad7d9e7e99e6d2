"""The estimators a model file may name: each registers itself where it is defined."""

ESTIMATORS: dict[str, type] = {}


def persistable(cls):
    """Class decorator: let :func:`skattn.load` rebuild ``cls`` from a model file.

    A file names its estimator's class, and only a registered class is ever
    built from that name.

    Examples
    --------
    >>> from skattn import AttentionClassifier
    >>> ESTIMATORS["AttentionClassifier"] is AttentionClassifier
    True
    """
    ESTIMATORS[cls.__name__] = cls
    return cls
