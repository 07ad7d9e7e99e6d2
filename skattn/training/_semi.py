"""Semi-supervised training: labeled and unlabeled streams, FixMatch-style
consistency and masked-feature reconstruction, in one skorch net."""

import math

import torch
import torch.nn.functional as F
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ..nn import mask_features, run_step
from ._net import TabularNet, TensorBatches

# Standard deviation of the weak view's noise, in standardised feature units.
WEAK_NOISE = 0.05
# Smallest batch-mean probability of a class that distribution alignment divides by.
MIN_CLASS_MEAN = 1e-6


def align_distribution(proba, class_prior):
    """Class probabilities rescaled so that their batch mean matches ``class_prior``.

    Distribution alignment (Berthelot et al., ReMixMatch, ICLR 2020): each
    row's probabilities are multiplied by ``class_prior / mean(proba)`` and
    renormalised. A network that predicts one class for every row gets
    back probabilities near the prior, so none of its rows is confident:
    consistency cannot teach a degenerate one-class prediction to the
    whole table. Rows that stand out from the batch keep their confidence.

    Parameters
    ----------
    proba : Tensor of shape (n_rows, n_classes)
    class_prior : Tensor of shape (n_classes,)
        Class shares of the labeled rows.

    Examples
    --------
    >>> import torch
    >>> collapsed = torch.tensor([[0.9, 0.05, 0.05]] * 3)
    >>> align_distribution(collapsed, torch.full((3,), 1 / 3)).max(dim=1).values
    tensor([0.3333, 0.3333, 0.3333])
    """
    aligned = proba * (class_prior / proba.mean(dim=0).clamp_min(MIN_CLASS_MEAN))
    return aligned / aligned.sum(dim=1, keepdim=True).clamp_min(MIN_CLASS_MEAN)


class LabeledUnlabeledBatches:
    """Batches that pair labeled rows with a pass over every row.

    An epoch is one pass over all rows, labeled or not (the stream that
    carries the unlabeled terms), in batches of ``batch_size``; each is
    concatenated with ``min(batch_size, n_labeled)`` labeled rows drawn at
    random (with replacement), so a few labels are seen in every step, as
    in FixMatch. In each batch, ``"stream"`` marks the rows of the pass.

    Parameters
    ----------
    X : dict of str to Tensor
        Inputs.
    y : Tensor
        Targets, -1 where a row has no (pseudo-)label.
    batch_size : int
    generator : torch.Generator

    Examples
    --------
    >>> import torch
    >>> X = {"v": torch.arange(6)}
    >>> y = torch.tensor([0, 1, -1, -1, -1, -1])
    >>> batches = LabeledUnlabeledBatches(X, y, batch_size=3, generator=torch.Generator())
    >>> len(batches), [int(b["stream"].sum()) for b, _ in batches]
    (2, [3, 3])
    """

    def __init__(self, X, y, *, batch_size, generator):
        self.X, self.y = X, y
        self.labeled = torch.nonzero(y >= 0).flatten()
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self):
        return max(1, math.ceil(len(self.y) / self.batch_size))

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.generator)
        n_labeled = min(self.batch_size, len(self.labeled))
        for step in range(len(self)):
            draw = torch.randint(len(self.labeled), (n_labeled,), generator=self.generator)
            stream = order[step * self.batch_size : (step + 1) * self.batch_size]
            rows = torch.cat([self.labeled[draw], stream])
            batch = {key: value[rows] for key, value in self.X.items()}
            batch["stream"] = torch.arange(len(rows)) >= n_labeled
            yield batch, self.y[rows]


class SemiSupervisedNet(TabularNet):
    """:class:`TabularNet` that also learns from unlabeled rows.

    Each step minimises

    ``L = L_sup + consistency_weight * L_cons + reconstruction_weight * L_rec``

    * ``L_sup``: sample-weighted cross-entropy on rows with a label or a
      pseudo-label (pseudo-labels carry their weight in ``sample_weight``);
    * ``L_cons``: on every row, the prediction for a weak view (small
      noise) becomes the target for a strong view (a share
      ``mask_probability`` of the features hidden) when its confidence
      exceeds the threshold of its class, ``class_thresholds`` (a tensor
      the estimator updates between self-training rounds; FixMatch). With
      ``class_prior``, the weak view's probabilities are first aligned to
      it over the batch (:func:`align_distribution`);
    * ``L_rec``: on every row, the strong view's output tokens reconstruct
      the hidden feature values (squared error for numeric, cross-entropy
      for categorical features).
    """

    def __init__(
        self,
        *args,
        consistency_weight=1.0,
        reconstruction_weight=1.0,
        mask_probability=0.3,
        class_thresholds=None,
        class_prior=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.class_thresholds = class_thresholds
        self.class_prior = class_prior
        self.consistency_weight = consistency_weight
        self.reconstruction_weight = reconstruction_weight
        self.mask_probability = mask_probability

    @property
    def uses_unlabeled_rows(self):
        return self.consistency_weight > 0 or self.reconstruction_weight > 0

    def get_iterator(self, dataset, training=False):
        if training and self.uses_unlabeled_rows and bool(dataset.X["unlabeled"].any()):
            return LabeledUnlabeledBatches(
                dataset.X, dataset.y, batch_size=self.batch_size, generator=self.generator_
            )
        if training:
            labeled = dataset.y >= 0
            X = {key: value[labeled] for key, value in dataset.X.items()}
            return TensorBatches(
                X,
                dataset.y[labeled],
                batch_size=self.batch_size,
                shuffle=True,
                generator=self.generator_,
            )
        return super().get_iterator(dataset, training=False)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Validation and plain self-training see labeled rows only.
        y_true = to_tensor(y_true, device=self.device)
        labeled = y_true >= 0
        losses = self.criterion_(y_pred[labeled], y_true[labeled])
        weight = to_tensor(X["sample_weight"], device=self.device)[labeled]
        return (losses * weight).sum() / weight.sum().clamp_min(1e-12)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        x = to_tensor(Xi, device=self.device)
        y = to_tensor(yi, device=self.device)
        labeled = y >= 0

        def step(model, x_num, x_cat):
            if "stream" not in x:  # labeled rows only: no unlabeled terms
                with self.autocast():
                    embeddings = model.embed(x_num[labeled], x_cat[labeled])
                    y_pred = model.read_out(embeddings).float()
                return self._labeled_loss(y_pred, y, x, labeled), y_pred
            with self.autocast():
                y_pred, loss = self._semi_supervised_loss(model, x, y, labeled)
            return self._labeled_loss(y_pred, y, x, labeled) + loss, y_pred

        loss, y_pred = run_step(self.module_, step, x["x_num"], x["x_cat"])
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _labeled_loss(self, y_pred, y, x, labeled):
        return self.get_loss(y_pred, y[labeled], X={"sample_weight": x["sample_weight"][labeled]})

    def _semi_supervised_loss(self, model, x, y, labeled):
        """Predictions for the labeled rows, and the unlabeled terms of the pass's rows.

        The labeled rows and one strong view of the pass's rows (which serves
        both unlabeled terms) go through the network together: on small
        tables a step costs what its number of operations costs, whatever the
        rows, so one pass instead of two makes it about a third cheaper.
        """
        stream = x["stream"]
        x_num, x_cat = x["x_num"][stream], x["x_cat"][stream]
        strong_num, strong_cat, hidden_num, hidden_cat = mask_features(
            x_num, x_cat, p=self.mask_probability
        )
        n_labeled = int(labeled.sum())
        tokens, _ = model.encode(
            torch.cat([x["x_num"][labeled], strong_num]),
            torch.cat([x["x_cat"][labeled], strong_cat]),
        )
        logits = model.read_out(model.pool(tokens)).float()
        tokens = tokens[n_labeled:]
        loss = 0.0
        if self.reconstruction_weight > 0 and model.reconstruction is not None:
            reconstruction = model.reconstruction.loss(
                tokens, x_num, x_cat, hidden_num, hidden_cat
            )
            loss = loss + self.reconstruction_weight * reconstruction
        if self.consistency_weight > 0:
            # The weak view's prediction is a target, so it is made without
            # dropout (as at predict time) and without a graph.
            model.eval()
            with torch.no_grad():
                weak_num = x_num + WEAK_NOISE * torch.randn_like(x_num)
                weak_logits = model.read_out(model.embed(weak_num, x_cat))
                proba = torch.softmax(weak_logits.float(), dim=1)
                if self.class_prior is not None:
                    proba = align_distribution(proba, self.class_prior.to(self.device))
            model.train()
            confidence, target = proba.max(dim=1)
            confident = confidence > self.class_thresholds.to(self.device)[target]
            consistency = F.cross_entropy(logits[n_labeled:], target, reduction="none")
            loss = loss + self.consistency_weight * (consistency * confident).mean()
        return logits[:n_labeled], loss
