"""Fine-tuning a pretrained attention encoder on few labels."""

import copy
import inspect
from numbers import Real

import numpy as np
import torch
from sklearn.base import _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
)

from ._base import BaseAttentionEstimator
from ._data import make_encoder
from ._docstring import SELF_TRAINING_DEFAULTS, shared_docs_with
from ._registry import persistable
from ._sparse import take_rows
from .nn import FTTransformer, PretrainedEncoderModel
from .pretraining import MaskedAttentionPretrainer
from .self_training import AttentionSelfTrainingClassifier
from .supervised import AttentionRegressor, check_regression_target
from .training import EncoderFreezing, unfreeze_every

# The network's shape comes from the pretrained model, never from the fine-tuner.
SHAPE_PARAMS = ("d_token", "n_blocks", "n_heads", "d_ffn_factor")

_FINE_TUNE_DOCS = """pretrained : MaskedAttentionPretrainer, fitted skattn estimator, \
torch.nn.Module or None, default=None
        Where the encoder comes from. None pretrains a
        :class:`MaskedAttentionPretrainer` on all rows of X inside ``fit``
        (unlabeled ones included; fitted as ``pretrainer_``). A fitted
        skattn estimator lends its tokenizer, encoder and column handling
        (it must have seen the same columns) and its network shape
        (``d_token``, ``n_blocks``, ``n_heads``, ``d_ffn_factor``, which then
        override this estimator's own); it may be wrapped in
        :class:`~sklearn.frozen.FrozenEstimator`. Either way, clones (as in
        :class:`~sklearn.model_selection.GridSearchCV`) share the fitted
        model and ``fit`` never changes it. A ``torch.nn.Module`` is an external
        encoder: called as ``module(x_num, x_cat)`` on a batch (standardised
        numeric values, NaN where missing, and categorical codes) it must
        return token embeddings (batch, n_tokens, d_token); a copy of it is
        trained under an attention-pooling head
        (:class:`skattn.nn.PretrainedEncoderModel`), without the
        reconstruction term.

    pretrain_epochs : int, default=100
        Epochs of the pretraining when ``pretrained`` is None. Where
        pretraining helps, shorter pretraining gained much less (figures:
        "Why the defaults are what they are" on the benchmarks page); fewer
        epochs shorten the fit.

    freeze : {"none", "gradual"}, default="none"
        Train everything from the first epoch; or start with the head and
        unfreeze the blocks from the top (the last block, then the ones
        below, then the tokenizer) at even steps over the first three
        quarters of ``max_epochs``, which it then runs in full (so no rows
        are held out for early stopping: nothing stops on them).
        ``"gradual"`` is the case of an encoder pretrained on a larger
        table (``pretrained=``; ``large26``'s 15,000 rows, a task of 1,500
        of them, 2 splits, ``benchmarks/results/transfer_freeze.md``):
        59.9% and 72.4% at 1% and 10% labels against 55.1% and 67.6% with
        ``"none"`` and 55.9% and 69.9% without pretraining. Pretrained on
        the rows themselves, a 2-split screen of 14 sets of the benchmark
        suite gave +1.18 +- 0.76 points at 1% labels and +0.24 +- 0.45 at
        10%, in about 1.45x the CPU time: worth a try with very few labels
        (``benchmarks/results/ablation_knobs_issue29.md``).
        Training the head alone, or the encoder at a lower learning rate,
        paid in neither case (same files) and is not offered."""


_FINE_TUNE_CONSTRAINTS = {
    "pretrained": [HasMethods(["fit"]), torch.nn.Module, None],
    "pretrain_epochs": [Interval(Real, 1, None, closed="left")],
    "freeze": [StrOptions({"none", "gradual"})],
}


def _clone_sharing_pretrained(estimator):
    """``__sklearn_clone__`` of the fine-tuners: clones share the fitted pretrained model.

    A fitted pretrained model is data, not a hyperparameter to reset:
    clones (GridSearchCV, cross_val_score) share it; fit never trains it.
    """
    params = estimator.get_params(deep=False)
    pretrained = params.pop("pretrained")
    return type(estimator)(
        pretrained=pretrained, **{k: clone(v, safe=False) for k, v in params.items()}
    )


class _PretrainedWeights:
    """Where a fine-tuned network starts: the weight source a fine-tuner hands to its fit.

    From the estimator's ``pretrained``: a fitted skattn estimator lends its
    tokenizer, column handling, network shape and weights; None pretrains a
    :class:`MaskedAttentionPretrainer` on ``rows`` (the rows given to fit
    when None); a torch module is an external encoder, wrapped in a copy
    under a pooling head. See ``BaseAttentionEstimator._fit`` for how the
    base uses it.
    """

    def __init__(self, estimator, rows=None):
        self.estimator, self.rows = estimator, rows
        source = _unfrozen(estimator.pretrained)
        fitted = isinstance(source, BaseAttentionEstimator) and hasattr(source, "tokenizer_")
        # Patches or steps must be cut as the pretrained model cut them.
        self.tokenizer = source.tokenizer_ if fitted else None
        self.source = None  # the fitted estimator, or a PretrainedEncoderModel

    def encoder(self, X, sample_weight, seed):
        """The column handling: the pretrained model's (pretraining first if needed)."""
        estimator = self.estimator
        if isinstance(estimator.pretrained, torch.nn.Module):
            encoder = make_encoder(estimator.tokenizer_, estimator.patch_size)
            encoder.fit(X, sample_weight)
            self.source = _external_model(estimator.pretrained, encoder.transform(X[:2]))
            return encoder
        rows = X if self.rows is None else self.rows
        self.source = _pretrained_estimator(estimator, rows, seed)
        return copy.deepcopy(self.source.encoder_)

    def module(self, params):
        """The network class and its arguments: the pretrained shape, or the external encoder."""
        if isinstance(self.source, PretrainedEncoderModel):
            d_token = self.source.query.numel()
            return PretrainedEncoderModel, dict(
                encoder=self.source.encoder, d_token=d_token, d_out=params["d_out"]
            )
        estimator = self.estimator
        # The pretrained network's shape: one encoder and one head (an
        # ensemble of members was measured on networks trained from scratch).
        params.pop("n_members", None)
        params.update({key: getattr(self.source, key) for key in SHAPE_PARAMS})
        # The pretrained network's tokens, latent or not, whatever max_tokens says.
        estimator.max_tokens_ = getattr(self.source, "max_tokens_", None)
        estimator.n_latents_ = params["n_latents"] = getattr(self.source, "n_latents_", 0)
        return FTTransformer, params

    @property
    def spends_every_epoch(self):
        """Whether the fit runs all its epochs (gradual unfreezing): then no rows are
        held out for early stopping, since nothing would stop on them."""
        return self.estimator.freeze == "gradual"

    def callbacks(self, max_epochs, previous):
        """The freezing schedule's callbacks (none unless ``freeze="gradual"``)."""
        if not self.spends_every_epoch:
            return ()
        module = self._module() if previous is None else previous.module_
        n_parts = len(module.pretrained_parts())
        return (EncoderFreezing(unfreeze_every=unfreeze_every(max_epochs, n_parts)),)

    def initialise(self, net):
        """Load the pretrained weights into the new net (an external encoder is in it already)."""
        source = self._module()
        if isinstance(source, PretrainedEncoderModel):
            return
        net.initialize()
        for part in ("tokenizer", "encoder", "latents"):
            if getattr(source, part, None) is not None:
                getattr(net.module_, part).load_state_dict(getattr(source, part).state_dict())
        if net.module_.reconstruction is not None and source.reconstruction is not None:
            net.module_.reconstruction.load_state_dict(source.reconstruction.state_dict())
        # fit() must keep the loaded weights instead of initialising again.
        net.warm_start = True

    def _module(self):
        source = self.source
        return source if isinstance(source, PretrainedEncoderModel) else source.net_.module_


def _pretrained_estimator(estimator, X, seed):
    """The fitted skattn estimator to start from: ``pretrained``, or a pretrainer fitted on X."""
    if estimator.pretrained is None:
        params = {
            key: value
            for key, value in estimator.get_params(deep=False).items()
            if key in inspect.signature(MaskedAttentionPretrainer).parameters
        }
        params.update(
            max_epochs=int(estimator.pretrain_epochs),
            random_state=seed,
            tokenizer=estimator.tokenizer_,
        )
        estimator.pretrainer_ = MaskedAttentionPretrainer(**params).fit(X)
        if estimator.pretrainer_.net_.interrupted_:
            # Nothing is fine-tuned yet: stop the whole fit, keep what was pretrained.
            raise KeyboardInterrupt("pretraining was interrupted; it is kept in pretrainer_")
        return estimator.pretrainer_
    source = _unfrozen(estimator.pretrained)
    if not isinstance(source, BaseAttentionEstimator):
        raise TypeError(
            "pretrained must be a fitted skattn estimator (for example a "
            "MaskedAttentionPretrainer), a torch.nn.Module that returns token "
            f"embeddings, or None; got {type(source).__name__}."
        )
    check_is_fitted(source, msg="pretrained is not fitted: call its fit first.")
    names = getattr(source, "feature_names_in_", None)
    own_names = getattr(estimator, "feature_names_in_", None)
    if source.n_features_in_ != estimator.n_features_in_ or (
        names is not None and (own_names is None or list(names) != list(own_names))
    ):
        raise ValueError(
            f"X has {estimator.n_features_in_} columns but pretrained was fitted on "
            f"{source.n_features_in_} columns"
            + ("" if names is None else f" named {list(names)}")
            + ": fine-tune on the columns it was pretrained on."
        )
    return source


def _unfrozen(pretrained):
    return pretrained.estimator if isinstance(pretrained, FrozenEstimator) else pretrained


def _external_model(module, sample):
    """Check that ``module`` maps a batch to tokens; wrap a copy of it with a pooling head."""
    encoder = copy.deepcopy(module).cpu()
    was_training = encoder.training
    encoder.eval()
    with torch.no_grad():
        tokens, _ = PretrainedEncoderModel(encoder=encoder, d_token=1, d_out=1).encode(
            take_rows(sample["x_num"], slice(None)), take_rows(sample["x_cat"], slice(None))
        )
    encoder.train(was_training)
    if not isinstance(tokens, torch.Tensor) or tokens.ndim != 3:
        shape = getattr(tokens, "shape", type(tokens).__name__)
        raise TypeError(
            "A pretrained torch module must map (x_num, x_cat) to token embeddings of "
            f"shape (batch, n_tokens, d_token); it returned {shape}."
        )
    return PretrainedEncoderModel(encoder=encoder, d_token=tokens.shape[-1], d_out=1)


@persistable
@shared_docs_with(
    **SELF_TRAINING_DEFAULTS,
    max_epochs='"auto"',
    max_epochs_doc="Fine-tuning epochs before the first round of pseudo-labels (see\n"
    "        :class:`AttentionSelfTrainingClassifier`).",
    fine_tune_parameters=_FINE_TUNE_DOCS,
)
class FineTuneClassifier(AttentionSelfTrainingClassifier):
    """Pretrain an attention encoder on every row, then fine-tune it on the labels.

    With ``pretrained=None``, ``fit(X, y)`` first trains a
    :class:`MaskedAttentionPretrainer` on all rows of X (labeled or not),
    then fine-tunes its encoder with a classification head on the labeled
    rows. A pretrained model can also come from elsewhere: a pretrainer
    fitted on a larger unlabeled table with the same columns, or any fitted
    skattn estimator. When y holds -1 labels, fine-tuning is followed by the
    self-training rounds of :class:`AttentionSelfTrainingClassifier` (same
    knobs, same fitted attributes, same code).

    Parameters
    ----------
    %(fine_tune_parameters)s

    %(network_parameters)s

    %(training_parameters)s

    %(self_training_parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (never -1).

    pretrainer_ : MaskedAttentionPretrainer
        The pretrainer fitted inside ``fit`` (only when ``pretrained`` is None).

    transduction_, labeled_iter_, termination_condition_, pseudo_label_history_
        As in :class:`AttentionSelfTrainingClassifier`.

    %(explained_attributes)s

    %(fitted_attributes)s

    See Also
    --------
    MaskedAttentionPretrainer : The self-supervised pretraining alone.
    AttentionSelfTrainingClassifier : The same rounds without pretraining.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skattn import FineTuneClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> y_partial = np.where(np.arange(150) %% 10 == 0, y, -1)
    >>> clf = FineTuneClassifier(d_token=8, pretrain_epochs=3, max_epochs=5, max_iter=1,
    ...                          random_state=0).fit(X, y_partial)
    >>> clf.pretrainer_.n_features_in_, clf.predict(X[:3]).shape
    (4, (3,))
    """

    _parameter_constraints = {
        **AttentionSelfTrainingClassifier._parameter_constraints,
        **_FINE_TUNE_CONSTRAINTS,
    }
    # Fully labeled y is plain transfer learning here, not a mistake.
    _warns_without_unlabeled_rows = False
    __sklearn_clone__ = _clone_sharing_pretrained

    def __init__(
        self,
        *,
        pretrained=None,
        pretrain_epochs=100,
        freeze="none",
        d_token=32,
        n_blocks=2,
        n_heads=2,
        d_ffn_factor=4 / 3,
        ffn_dropout=0.1,
        attention="self",
        tokenizer="auto",
        patch_size=4,
        max_tokens="auto",
        onehot_blocks="auto",
        lr=1e-3,
        weight_decay=1e-4,
        batch_size="auto",
        max_epochs="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=0.01,
        device="auto",
        mixed_precision=False,
        data_parallel=False,
        random_state=None,
        verbose=0,
        warm_start=False,
        class_weight=None,
        threshold=0.75,
        criterion="threshold",
        k_best=10,
        max_iter=3,
        epochs_per_round=2,
        adaptive_threshold=True,
        consistency_weight=1.0,
        reconstruction_weight=1.0,
        mask_probability=0.3,
        propagation_weight=0.5,
        adaptive_propagation=True,
    ):
        super().__init__(
            d_token=d_token,
            n_blocks=n_blocks,
            n_heads=n_heads,
            d_ffn_factor=d_ffn_factor,
            ffn_dropout=ffn_dropout,
            attention=attention,
            tokenizer=tokenizer,
            patch_size=patch_size,
            max_tokens=max_tokens,
            onehot_blocks=onehot_blocks,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            mixed_precision=mixed_precision,
            data_parallel=data_parallel,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            class_weight=class_weight,
            threshold=threshold,
            criterion=criterion,
            k_best=k_best,
            max_iter=max_iter,
            epochs_per_round=epochs_per_round,
            adaptive_threshold=adaptive_threshold,
            consistency_weight=consistency_weight,
            reconstruction_weight=reconstruction_weight,
            mask_probability=mask_probability,
            propagation_weight=propagation_weight,
            adaptive_propagation=adaptive_propagation,
        )
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.freeze = freeze

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Pretrain on all rows (unless ``pretrained``), fine-tune on the labels, then self-train.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            All rows, labeled or not; NaN marks a missing value.
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabeled rows (an object array for string labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; on unlabeled rows they weigh the
            row's pseudo-label.

        Returns
        -------
        self : FineTuneClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, weights=_PretrainedWeights(self))


@persistable
@shared_docs_with(fine_tune_parameters=_FINE_TUNE_DOCS)
class FineTuneRegressor(AttentionRegressor):
    """Pretrain an attention encoder on every row, then fine-tune it on the targets.

    The regression counterpart of :class:`FineTuneClassifier`: rows whose
    target is NaN are unlabeled. With ``pretrained=None`` they join the
    pretraining (all rows of X); the fine-tuning uses the rows with a target.

    Parameters
    ----------
    %(fine_tune_parameters)s

    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    y_mean_, y_scale_ : float
        The target's weighted mean and standard deviation, used to scale it.

    pretrainer_ : MaskedAttentionPretrainer
        The pretrainer fitted inside ``fit`` (only when ``pretrained`` is None).

    %(explained_attributes)s

    %(fitted_attributes)s

    See Also
    --------
    FineTuneClassifier : The classifier, with self-training rounds.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from skattn import FineTuneRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> y_partial = np.where(np.arange(len(y)) %% 5 == 0, y, np.nan)
    >>> reg = FineTuneRegressor(d_token=8, pretrain_epochs=2, max_epochs=3,
    ...                         random_state=0).fit(X, y_partial)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **AttentionRegressor._parameter_constraints,
        **_FINE_TUNE_CONSTRAINTS,
    }
    __sklearn_clone__ = _clone_sharing_pretrained

    def __init__(
        self,
        *,
        pretrained=None,
        pretrain_epochs=100,
        freeze="none",
        d_token=32,
        n_blocks=2,
        n_heads=4,
        d_ffn_factor=4 / 3,
        ffn_dropout=0.1,
        attention="self",
        tokenizer="auto",
        patch_size=4,
        max_tokens="auto",
        onehot_blocks="auto",
        lr=1e-3,
        weight_decay=1e-4,
        batch_size="auto",
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=None,
        device="auto",
        mixed_precision=False,
        data_parallel=False,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        super().__init__(
            d_token=d_token,
            n_blocks=n_blocks,
            n_heads=n_heads,
            d_ffn_factor=d_ffn_factor,
            ffn_dropout=ffn_dropout,
            attention=attention,
            tokenizer=tokenizer,
            patch_size=patch_size,
            max_tokens=max_tokens,
            onehot_blocks=onehot_blocks,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            mixed_precision=mixed_precision,
            data_parallel=data_parallel,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.freeze = freeze

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Pretrain on all rows (unless ``pretrained``), fine-tune on rows with a target.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets; NaN marks an unlabeled row.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : FineTuneRegressor
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                "FineTuneRegressor requires y to be passed, but the target y is None."
            )
        weights = _PretrainedWeights(self)
        rows = self._check_fit_X(X, weights.tokenizer)
        y = check_regression_target(y, allow_nan=True)
        check_consistent_length(rows, y)
        sample_weight = _check_sample_weight(sample_weight, rows, dtype=np.float64)
        labeled = ~np.isnan(y)
        if not labeled.any():
            raise ValueError(
                "Input y contains NaN in every row: NaN marks an unlabeled row, and at "
                "least one row needs a target."
            )
        # Pretraining reads every row; fine-tuning, the rows with a target (checked
        # again by _fit: a DataFrame's must keep their column names).
        weights.rows = rows
        source = X if hasattr(X, "columns") else rows
        return self._fit(
            _safe_indexing(source, labeled), y[labeled], sample_weight[labeled], weights=weights
        )
