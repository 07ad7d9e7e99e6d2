"""Self-supervised pretraining of the attention encoder on X alone."""

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAttentionEstimator, FitJob
from ._data import check_X
from ._docstring import shared_docs_with
from ._registry import persistable
from .training import Objective, PretrainingLoss, PretrainingNet


@persistable
@shared_docs_with(
    max_epochs=100,
    max_epochs_doc="Maximum number of passes over the rows.",
)
class MaskedAttentionPretrainer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseAttentionEstimator
):
    """Learn the structure of X without labels; transform rows into CLS embeddings.

    ``fit(X)`` trains the attention encoder on a self-supervised task: in
    every row 30%% of the values are replaced by the same feature's value
    in another row, and the network must tell
    which values were replaced and reconstruct them. ``y`` is ignored, so
    the pretrainer sits in a :class:`~sklearn.pipeline.Pipeline` in front of
    any classifier, -1 labels included. The fitted encoder is what
    :class:`FineTuneClassifier` and :class:`FineTuneRegressor` start from.

    Parameters
    ----------
    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    encoder_ : TabularEncoder
        Column handling (vocabularies, scaling) learned from X; a model
        fine-tuned from this one reuses it.

    loss_history_ : list of float
        Pretraining loss (detection plus reconstruction) per epoch.

    %(fitted_attributes)s

    See Also
    --------
    FineTuneClassifier : Fine-tunes this encoder on labels.

    Notes
    -----
    The loss is ``L_detect + L_rec``: binary cross-entropy of detecting each
    replaced value (VIME [1]_; the values are replaced as in SCARF [2]_),
    and squared error (numeric) or cross-entropy (categorical) of
    reconstructing it. With ``early_stopping``, the loss on held-out rows
    decides when to stop. The share of values replaced is no parameter:
    0.15 and 0.5 instead of 0.3 were level on the benchmark suite (2
    splits, 14 sets, fine-tuned: +0.31 +- 0.53 and -0.54 +- 0.58 points at
    1%% labels, +0.14 +- 0.55 and +0.11 +- 0.59 at 10%%).

    References
    ----------
    .. [1] Yoon et al. "VIME: Extending the Success of Self- and
       Semi-supervised Learning to Tabular Domain". NeurIPS 2020.
    .. [2] Bahri et al. "SCARF: Self-Supervised Contrastive Learning using
       Random Feature Corruption". ICLR 2022.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skattn import MaskedAttentionPretrainer
    >>> X, _ = load_iris(return_X_y=True)
    >>> pretrainer = MaskedAttentionPretrainer(d_token=8, max_epochs=3, random_state=0)
    >>> pretrainer.fit_transform(X).shape
    (150, 8)
    >>> pretrainer.get_feature_names_out()[:2].tolist()
    ['maskedattentionpretrainer0', 'maskedattentionpretrainer1']
    """

    def __init__(
        self,
        *,
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain on the rows of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            NaN marks a missing value.
        y : None
            Ignored (labels, -1 or not, are not used).

        Returns
        -------
        self : MaskedAttentionPretrainer
            The fitted pretrainer.
        """
        self._fit(X)
        self.loss_history_ = [
            float(epoch["train_loss"]) for epoch in self.net_.history if "train_loss" in epoch
        ]
        self._n_features_out = self.d_token
        return self

    def _job(self, X, y, sample_weight):
        return FitJob(
            target=None,
            sample_weight=sample_weight,
            d_out=0,  # no head: the pretrainer embeds rows
            objective=Objective(PretrainingNet, PretrainingLoss, reconstruction=True),
        )

    def transform(self, X):
        """The CLS embedding of each row.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        embedding : ndarray of shape (n_samples, d_token), float64
        """
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self._network_outputs(self.encoder_.transform(X), embed=True)
