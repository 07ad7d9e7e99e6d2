"""Self-supervised pretraining: corrupted feature detection and reconstruction."""

import torch
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ..nn import MISSING_CODE, run_step, swap_features
from ._net import TabularNet

# Share of the values replaced in each row; no knob, since other shares were
# level (the screen: MaskedAttentionPretrainer's Notes).
CORRUPTION_PROBABILITY = 0.3


class PretrainingLoss(torch.nn.Module):
    """The pretraining objective of a batch of rows, computed with the model.

    Corrupts a share ``corruption_probability`` of the values
    (:func:`skattn.nn.swap_features`) and returns

    ``L = L_detect + L_rec``

    * ``L_detect``: binary cross-entropy of telling, per feature token,
      whether its value was replaced;
    * ``L_rec``: the replaced values reconstructed from their tokens
      (squared error for numeric, cross-entropy for categorical features).

    Called as ``loss(model, x_num, x_cat)`` on a model with a
    reconstruction head (through :func:`skattn.nn.run_step`).

    Examples
    --------
    >>> import torch
    >>> from skattn.nn import FTTransformer
    >>> model = FTTransformer(n_num_features=3, d_out=0, reconstruction=True)
    >>> loss = PretrainingLoss()(model, torch.randn(8, 3), torch.zeros(8, 0, dtype=torch.long))
    >>> loss.shape
    torch.Size([])
    """

    def __init__(self, corruption_probability=CORRUPTION_PROBABILITY):
        super().__init__()
        self.corruption_probability = corruption_probability

    def forward(self, model, x_num, x_cat):
        num, cat, changed_num, changed_cat = swap_features(
            x_num, x_cat, p=self.corruption_probability
        )
        tokens, _ = model.encode(num, cat)
        known_num = changed_num & ~torch.isnan(x_num)
        known_cat = changed_cat & (x_cat != MISSING_CODE)
        loss = model.reconstruction.loss(tokens, x_num, x_cat, known_num, known_cat)
        return loss + model.reconstruction.detection_loss(tokens, changed_num, changed_cat)


class PretrainingNet(TabularNet):
    """:class:`TabularNet` that learns from X alone: no target, its criterion reads the model.

    Training and validation minimise ``criterion`` (by default
    :class:`PretrainingLoss`) on the batch; the validation loss is the same
    objective on held-out rows.
    """

    def __init__(self, module, criterion=PretrainingLoss, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)

    def pretraining_loss(self, x):
        """The objective on a batch of encoded rows, through :func:`skattn.nn.run_step`."""
        return run_step(self.module_, self.criterion_, x["x_num"], x["x_cat"])

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        with self.autocast():
            loss = self.pretraining_loss(to_tensor(Xi, device=self.device))
        loss.backward()
        return {"loss": loss, "y_pred": None}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, _ = unpack_data(batch)
        with torch.no_grad(), self.autocast():
            loss = self.pretraining_loss(to_tensor(Xi, device=self.device))
        return {"loss": loss, "y_pred": None}
