"""Saving fitted estimators to a file and loading them back, without pickle.

A model file is written by :func:`torch.save` and read back by
``torch.load(weights_only=True)``, whose unpickler builds only tensors and
plain containers: loading never runs code from the file. The file holds::

    {"format": "skattn", "format_version": 1, "skattn_version": "0.1.0",
     "meta": <JSON text>, "tensors": {key: Tensor}, "checksum": <sha256 hex>}

``meta`` describes the estimator: its class (one of skattn's public
estimators), ``get_params()``, its fitted attributes, and its network's
constructor arguments and per-epoch history. What JSON cannot hold is a
tagged object ``{"$type": ...}``; numeric arrays and the network's weights
are tensors, referenced from the JSON by key. Objects are rebuilt only from
the allow-lists below, never from a name read in the file. The checksum
covers everything else: it detects corruption and edits, not malice (anyone
can recompute it); safety comes from never unpickling.
"""

import hashlib
import json
import re
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ._arrays import ArrayEncoder
from ._data import TabularEncoder
from ._device import seeded
from ._registry import ESTIMATORS
from ._version import __version__
from .nn import FTTransformer

FORMAT = "skattn"
FORMAT_VERSION = 1
_TAG = "$type"

# The only classes a file can name: ESTIMATORS (registered by each estimator) and these.
_OBJECTS = {cls.__name__: cls for cls in (TabularEncoder, ArrayEncoder)}

# What a pickle or a joblib file starts with: pickle protocol 2+, or the
# gzip, zlib, bz2, xz and lz4 streams joblib compresses into.
_PICKLE_STARTS = (b"\x80", b"\x1f\x8b", b"\x78", b"BZh", b"\xfd7zXZ", b"\x04\x22\x4d\x18")
_ZIP_START = b"PK\x03\x04"  # torch.save writes a zip archive


def save(estimator, path):
    """Write a fitted skattn estimator to ``path``; see ``BaseAttentionEstimator.save``."""
    if type(estimator) not in ESTIMATORS.values():
        raise TypeError(
            f"skattn.save stores skattn's own estimators, not {type(estimator).__name__}; "
            "use joblib.dump for other objects."
        )
    check_is_fitted(estimator)
    tensors = {}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skattn_version": __version__,
        "meta": json.dumps(_encode(estimator, "", tensors)),
        "tensors": tensors,
    }
    payload["checksum"] = checksum(payload)
    torch.save(payload, path)


def load(path):
    """Load an estimator saved by ``estimator.save(path)``, without unpickling anything.

    The file is read with ``torch.load(weights_only=True)``, which builds
    only tensors and plain containers, and the estimator is rebuilt from
    JSON through an allow-list of skattn's classes: loading never runs code
    from the file, whoever wrote it (``joblib.load`` is pickle, which does).
    The stored checksum detects a file changed or damaged after saving; it
    is no defence against a malicious file (its author can recompute it),
    never unpickling is. A model saved on a GPU loads on the CPU when CUDA
    is missing, with a warning.

    Parameters
    ----------
    path : str or path-like
        A file written by ``save``.

    Returns
    -------
    estimator : skattn estimator
        Fitted as when saved: same parameters, fitted attributes and
        predictions.

    Raises
    ------
    ValueError
        If the file is not a skattn model file (a joblib or pickle file
        included), was changed or damaged after saving (its checksum does
        not match), or comes from a newer major skattn version or a newer
        file format.

    See Also
    --------
    skattn.AttentionClassifier.save : Writes the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> import skattn
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = skattn.AttentionClassifier(d_token=8, max_epochs=2, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     clf.save(os.path.join(folder, "iris.skattn"))
    ...     loaded = skattn.load(os.path.join(folder, "iris.skattn"))
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    payload = _read(path)
    _check_header(payload, path)
    if payload["checksum"] != checksum(payload):
        raise ValueError(
            f"{path} was changed or damaged after it was saved: its checksum does not "
            "match its content."
        )
    try:
        record = json.loads(payload["meta"])
        if not (isinstance(record, dict) and record.get(_TAG) == "estimator"):
            raise ValueError("it holds no estimator")
        return _decode(record, payload["tensors"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as error:
        raise ValueError(f"{path} is not a valid skattn model file: {error}") from None


def checksum(payload) -> str:
    """SHA-256 of a payload's header, metadata and tensors (dtype, shape and bytes)."""
    digest = hashlib.sha256()
    for field in ("format", "format_version", "skattn_version", "meta"):
        digest.update(json.dumps(payload[field]).encode())
    for key, tensor in sorted(payload["tensors"].items()):
        digest.update(json.dumps([key, str(tensor.dtype), list(tensor.shape)]).encode())
        if tensor.numel():  # an empty tensor has no bytes (nor a stride to view them)
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _read(path):
    with open(path, "rb") as file:
        start = file.read(len(_ZIP_START))
    if start != _ZIP_START:
        hint = (
            "; it looks like a pickle or joblib file: use joblib.load for joblib files, "
            "only if you trust them (loading a pickle runs code from the file)"
            if start.startswith(_PICKLE_STARTS)
            else ""
        )
        raise ValueError(f"{path} is not a skattn model file (written by estimator.save){hint}.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # whatever torch's safe reader refuses is not ours
        raise ValueError(
            f"{path} is not a skattn model file (written by estimator.save): torch's "
            f"weights-only reader refused it ({type(error).__name__})."
        ) from None


def _check_header(payload, path):
    if not (isinstance(payload, dict) and payload.get("format") == FORMAT):
        raise ValueError(
            f"{path} is not a skattn model file (written by estimator.save): it holds "
            "other torch data."
        )
    saved_by = payload.get("skattn_version")
    format_version = payload.get("format_version")
    if not (isinstance(saved_by, str) and re.match(r"\d+\.", saved_by)):
        raise ValueError(f"{path} is not a valid skattn model file: no skattn version.")
    if not isinstance(format_version, int) or format_version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by skattn {saved_by} in file format {format_version}; "
            f"this skattn {__version__} reads format {FORMAT_VERSION} and older: "
            "upgrade skattn to load it."
        )
    if _major(saved_by) > _major(__version__):
        raise ValueError(
            f"{path} was written by skattn {saved_by}, a newer major version than this "
            f"skattn {__version__}: upgrade skattn to load it."
        )
    fields = {"meta": str, "tensors": dict, "checksum": str}
    if not all(isinstance(payload.get(key), kind) for key, kind in fields.items()) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor)
        for key, value in payload["tensors"].items()
    ):
        raise ValueError(f"{path} is not a valid skattn model file: fields are missing.")


def _major(version: str) -> int:
    return int(re.match(r"\d+", version).group())


def _join(path, name):
    return f"{path}.{name}" if path else str(name)


def _encode(value, path, tensors):
    """A JSON-able form of ``value``; arrays go into ``tensors`` under ``path``."""
    # Exact types: numpy's float64 and str_ subclass Python's float and str.
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [_encode(item, _join(path, i), tensors) for i, item in enumerate(value)]
    if type(value) is tuple:
        items = [_encode(item, _join(path, i), tensors) for i, item in enumerate(value)]
        return {_TAG: "tuple", "items": items}
    if type(value) is dict:
        if all(type(key) is str for key in value) and _TAG not in value:
            return {key: _encode(item, _join(path, key), tensors) for key, item in value.items()}
        items = [
            [_encode(key, _join(path, i), tensors), _encode(item, _join(path, i), tensors)]
            for i, (key, item) in enumerate(value.items())
        ]
        return {_TAG: "dict", "items": items}
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        return {_TAG: "scalar", "dtype": value.dtype.str, "value": value.item()}
    if type(value) is np.ndarray and value.dtype.kind in "biufcUO":
        return _encode_array(value, path, tensors)
    if type(value) is pd.Index:
        values, name = _encode([value.tolist(), value.name], path, tensors)
        return {_TAG: "index", "dtype": str(value.dtype), "values": values, "name": name}
    if type(value) is np.random.RandomState:
        return {_TAG: "random_state", "state": _encode(value.get_state(), path, tensors)}
    if type(value) is FrozenEstimator:
        return {_TAG: "frozen", "estimator": _encode(value.estimator, path, tensors)}
    if type(value) in ESTIMATORS.values():
        return _encode_estimator(value, path, tensors)
    if type(value) in _OBJECTS.values():
        state = _encode(vars(value), path, tensors)
        return {_TAG: "object", "class": type(value).__name__, "state": state}
    raise TypeError(
        f"{path} is a {type(value).__module__}.{type(value).__qualname__}, which skattn's "
        "save cannot store: it stores data (numbers, strings, arrays, skattn estimators), "
        "not code such as a torch module or a function. Use joblib.dump for this model "
        "(a pickle: load it only where you trust the file)."
    )


def _encode_array(array, path, tensors):
    record = {_TAG: "array", "dtype": array.dtype.str, "shape": list(array.shape)}
    if array.dtype.kind in "UO":
        record["values"] = _encode(array.ravel().tolist(), path, tensors)
        return record
    key = path if path not in tensors else f"{path}#{len(tensors)}"
    # A copy in native byte order (all torch reads); the recorded dtype restores the original.
    tensors[key] = torch.from_numpy(np.array(array, array.dtype.newbyteorder("="), order="C"))
    record["tensor"] = key
    return record


def _encode_estimator(estimator, path, tensors):
    params = estimator.get_params(deep=False)
    record = {
        _TAG: "estimator",
        "class": type(estimator).__name__,
        "params": {
            key: _encode(value, _join(path, key), tensors) for key, value in params.items()
        },
    }
    if not hasattr(estimator, "net_"):
        return record  # an unfitted estimator as a hyperparameter: its parameters say it all
    net = estimator.net_
    if net.module is not FTTransformer:
        raise TypeError(
            f"{type(estimator).__name__}{' at ' + path if path else ''} was fine-tuned from "
            "an external torch module, user code that skattn's save cannot store. Use "
            "joblib.dump for this model (a pickle: load it only where you trust the file)."
        )
    attributes = {
        name: value for name, value in vars(estimator).items() if name not in {*params, "net_"}
    }
    weights = {}
    for name, tensor in net.module_.state_dict().items():
        weights[name] = _join(path, f"net_.{name}")
        tensors[weights[name]] = tensor.detach().cpu()
    # Per-epoch history only: the per-batch rows grow with the data.
    history = [
        {key: value for key, value in epoch.items() if key != "batches"} for epoch in net.history
    ]
    record["attributes"] = _encode(attributes, path, tensors)
    record["net"] = {
        "module_params": _encode(net.get_params_for("module"), path, tensors),
        "batch_size": net.batch_size,
        "max_epochs": net.max_epochs,
        "random_state": net.random_state,
        "history": _encode(history, _join(path, "history"), tensors),
        "weights": weights,
    }
    return record


def _decode(value, tensors):
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [_decode(item, tensors) for item in value]
    if _TAG not in value:
        return {key: _decode(item, tensors) for key, item in value.items()}
    tag = value[_TAG]
    if tag == "tuple":
        return tuple(_decode(item, tensors) for item in value["items"])
    if tag == "dict":
        return {_decode(key, tensors): _decode(item, tensors) for key, item in value["items"]}
    if tag == "scalar":
        return _numpy_dtype(value["dtype"], "biufU").type(value["value"])
    if tag == "array":
        return _decode_array(value, tensors)
    if tag == "index":
        values = _decode(value["values"], tensors)
        return pd.Index(values, dtype=value["dtype"], name=_decode(value["name"], tensors))
    if tag == "random_state":
        random_state = np.random.RandomState()
        random_state.set_state(_decode(value["state"], tensors))
        return random_state
    if tag == "frozen":
        return FrozenEstimator(_decode(value["estimator"], tensors))
    if tag == "estimator":
        return _decode_estimator(value, tensors)
    if tag == "object" and value["class"] in _OBJECTS:
        instance = _OBJECTS[value["class"]].__new__(_OBJECTS[value["class"]])
        instance.__dict__.update(_attributes(value["state"], tensors))
        return instance
    raise ValueError(f"unknown entry {tag!r} {value.get('class', '')}")


def _numpy_dtype(name, kinds):
    dtype = np.dtype(name)
    if dtype.kind not in kinds:
        raise ValueError(f"unexpected dtype {name!r}")
    return dtype


def _decode_array(record, tensors):
    dtype = _numpy_dtype(record["dtype"], "biufcUO")
    shape = tuple(record["shape"])
    if dtype.kind == "O":
        # Filled item by item: np.array would turn nested lists into dimensions.
        values = _decode(record["values"], tensors)
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    if dtype.kind == "U":
        return np.array(record["values"], dtype=dtype).reshape(shape)
    return tensors[record["tensor"]].numpy().astype(dtype).reshape(shape)


def _attributes(record, tensors) -> dict:
    attributes = _decode(record, tensors)
    for name in attributes:
        if not (isinstance(name, str) and name.isidentifier() and not name.startswith("__")):
            raise ValueError(f"{name!r} is not an attribute name")
    return attributes


def _decode_estimator(record, tensors):
    name = record["class"]
    if name not in ESTIMATORS:
        raise ValueError(f"{name!r} is not a skattn estimator")
    cls = ESTIMATORS[name]
    params = _decode(record["params"], tensors)
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise ValueError(f"{name} has no parameters {sorted(unknown)} in this skattn version")
    estimator = cls(**params)
    if "attributes" in record:
        estimator.__dict__.update(_attributes(record["attributes"], tensors))
        estimator.net_ = _rebuild_net(estimator, record["net"], tensors)
    return estimator


def _rebuild_net(estimator, record, tensors):
    """The fitted network: a plain :class:`TabularNet` holding the saved weights."""
    device = estimator.device_
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"{type(estimator).__name__} was saved on {device}, but CUDA is not available "
            "here: it is loaded on the CPU.",
            UserWarning,
            stacklevel=5,  # the caller of load
        )
        device = "cpu"
    estimator.device_ = device
    net = estimator._inference_net(
        _decode(record["module_params"], tensors),
        batch_size=record["batch_size"],
        max_epochs=record["max_epochs"],
        seed=record["random_state"],
    )
    # Initialising draws weights (replaced below): leave the caller's torch RNG alone.
    with seeded(record["random_state"], device):
        net.initialize()
    net.module_.load_state_dict({name: tensors[key] for name, key in record["weights"].items()})
    net.history_.extend(_decode(record["history"], tensors))
    return net
