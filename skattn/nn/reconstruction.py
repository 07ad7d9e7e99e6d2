"""Masked-feature corruption and the head that reconstructs masked features."""

import torch
import torch.nn.functional as F
from torch import nn

from .tokenizer import MISSING_CODE, N_RESERVED_CODES


def mask_features(x_num, x_cat, *, p: float, generator: torch.Generator | None = None):
    """Hide a random share ``p`` of the present feature values.

    A hidden value is shown to the network as missing (NaN, or
    :data:`MISSING_CODE`), so the tokenizer's learned "missing" embeddings
    play the role of BERT's ``[MASK]`` token.

    Parameters
    ----------
    x_num : Tensor of shape (batch, n_num), float
    x_cat : Tensor of shape (batch, n_cat), int64
    p : float
        Probability that a present value is hidden.
    generator : torch.Generator, optional
        Source of randomness (on the tensors' device).

    Returns
    -------
    x_num, x_cat : Tensors
        Copies with the hidden values replaced.
    hidden_num, hidden_cat : bool Tensors of the input shapes
        Which values were hidden.

    Examples
    --------
    >>> import torch
    >>> x_num, x_cat = torch.ones(2, 3), torch.full((2, 1), 2)
    >>> masked_num, _, hidden_num, _ = mask_features(x_num, x_cat, p=1.0)
    >>> bool(hidden_num.all()), bool(masked_num.isnan().all())
    (True, True)
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{p=} must be in [0, 1]")

    def draw(like):
        return torch.rand(like.shape, generator=generator, device=like.device) < p

    hidden_num = draw(x_num) & ~torch.isnan(x_num)
    hidden_cat = draw(x_cat) & (x_cat != MISSING_CODE)
    x_num = torch.where(hidden_num, torch.full_like(x_num, float("nan")), x_num)
    x_cat = torch.where(hidden_cat, torch.full_like(x_cat, MISSING_CODE), x_cat)
    return x_num, x_cat, hidden_num, hidden_cat


def swap_features(x_num, x_cat, *, p: float, generator: torch.Generator | None = None):
    """Replace a random share ``p`` of the values by the same feature's value in another row.

    The corruption of VIME and SCARF: a corrupted value is plausible for its
    feature, so telling it apart needs the other features of the row.

    Parameters
    ----------
    x_num : Tensor of shape (batch, n_num), float
    x_cat : Tensor of shape (batch, n_cat), int64
    p : float
        Probability that a value is replaced.
    generator : torch.Generator, optional

    Returns
    -------
    x_num, x_cat : Tensors
        Copies with the replaced values.
    changed_num, changed_cat : bool Tensors of the input shapes
        Where a value was replaced by a different one.

    Examples
    --------
    >>> import torch
    >>> x_num, x_cat = torch.arange(8.0).view(4, 2), torch.zeros(4, 0, dtype=torch.long)
    >>> new_num, _, changed_num, _ = swap_features(x_num, x_cat, p=1.0)
    >>> bool((new_num[changed_num] != x_num[changed_num]).all())
    True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{p=} must be in [0, 1]")

    def swap(x):
        donors = torch.randint(len(x), x.shape, generator=generator, device=x.device)
        chosen = torch.rand(x.shape, generator=generator, device=x.device) < p
        new = torch.where(chosen, torch.gather(x, 0, donors), x)
        same = (
            (new == x) | (torch.isnan(new) & torch.isnan(x)) if x.is_floating_point() else new == x
        )
        return new, ~same

    (x_num, changed_num), (x_cat, changed_cat) = swap(x_num), swap(x_cat)
    return x_num, x_cat, changed_num, changed_cat


class CategoryReadout(nn.Module):
    """Logits over each categorical feature's codes: one linear map per feature.

    The maps of features whose code counts round up to the same power of
    two are stacked into one padded weight tensor and applied together, so
    a table of many categorical columns costs a few batched products per
    step instead of one small layer per column (on 60 columns, a third of a
    self-training step went to the per-column layers). Padding codes get a
    logit of minus infinity, so they never take probability.

    Parameters
    ----------
    cat_cardinalities : sequence of int
        Known categories per categorical feature (reserved codes on top).
    d_token : int

    Examples
    --------
    >>> import torch
    >>> readout = CategoryReadout([3, 1], d_token=8)
    >>> [logits.shape for logits in readout(torch.randn(4, 2, 8))]
    [torch.Size([4, 5]), torch.Size([4, 3])]
    >>> hidden = torch.tensor([[True, False]] * 4)
    >>> readout.losses(torch.randn(4, 2, 8), torch.full((4, 2), 2), hidden).shape
    torch.Size([4])
    """

    def __init__(self, cat_cardinalities, d_token: int):
        super().__init__()
        self.sizes = [int(c) + N_RESERVED_CODES for c in cat_cardinalities]
        # Drawn feature by feature, as nn.Linear(d_token, size) would draw them.
        drawn = [nn.Linear(d_token, size) for size in self.sizes]
        groups = {}
        for j, size in enumerate(self.sizes):
            groups.setdefault(1 << (size - 1).bit_length(), []).append(j)
        self.groups = [(padded, features) for padded, features in sorted(groups.items())]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for g, (padded, features) in enumerate(self.groups):
            weight = torch.zeros(len(features), padded, d_token)
            bias = torch.zeros(len(features), padded)
            padding = torch.full((len(features), padded), float("-inf"))
            for i, j in enumerate(features):
                weight[i, : self.sizes[j]] = drawn[j].weight.detach()
                bias[i, : self.sizes[j]] = drawn[j].bias.detach()
                padding[i, : self.sizes[j]] = 0.0
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))
            # A buffer, not in the bias: weight decay would turn -inf into NaN.
            self.register_buffer(f"padding_{g}", padding, persistent=False)
            self.register_buffer(f"features_{g}", torch.tensor(features), persistent=False)

    def _group_logits(self, cat_tokens, g):
        tokens = cat_tokens[:, getattr(self, f"features_{g}")]  # (batch, n_group, d)
        logits = torch.einsum("bfd,fcd->bfc", tokens, self.weights[g]) + self.biases[g]
        return logits + getattr(self, f"padding_{g}")

    def forward(self, cat_tokens: torch.Tensor):
        """A list of logits (batch, n_codes_j), one per feature, from tokens (batch, n_cat, d)."""
        logits = [None] * len(self.sizes)
        for g, (_, features) in enumerate(self.groups):
            group = self._group_logits(cat_tokens, g)
            for i, j in enumerate(features):
                logits[j] = group[:, i, : self.sizes[j]]
        return logits

    def losses(self, cat_tokens, x_cat, hidden_cat) -> torch.Tensor:
        """Cross-entropy of every hidden value, one group of features at a time (1-D)."""
        losses = [cat_tokens.new_zeros(0)]
        for g, _ in enumerate(self.groups):
            features = getattr(self, f"features_{g}")
            hidden = hidden_cat[:, features]
            logits = self._group_logits(cat_tokens, g)[hidden]
            losses.append(F.cross_entropy(logits, x_cat[:, features][hidden], reduction="none"))
        return torch.cat(losses)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Models saved before the maps were stacked hold one nn.Linear per feature.
        if f"{prefix}0.weight" in state_dict:
            for g, (_, features) in enumerate(self.groups):
                weight = self.weights[g].detach().clone()
                bias = self.biases[g].detach().clone()
                for i, j in enumerate(features):
                    weight[i, : self.sizes[j]] = state_dict.pop(f"{prefix}{j}.weight")
                    bias[i, : self.sizes[j]] = state_dict.pop(f"{prefix}{j}.bias")
                state_dict[f"{prefix}weights.{g}"] = weight
                state_dict[f"{prefix}biases.{g}"] = bias
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class _ReconstructionLosses(nn.Module):
    """The two losses of a head whose ``forward`` reads values back from output tokens."""

    def loss(self, tokens, x_num, x_cat, hidden_num, hidden_cat) -> torch.Tensor:
        """Mean reconstruction loss over the hidden values.

        Squared error for numeric values (which are standardised), cross
        entropy for categorical ones; zero when nothing was hidden.
        """
        num_pred, cat_losses = self.read_back(tokens, x_cat, hidden_cat)
        losses = torch.cat([((num_pred - torch.nan_to_num(x_num)) ** 2)[hidden_num], cat_losses])
        return losses.mean() if losses.numel() else tokens.sum() * 0.0

    def detection_loss(self, tokens, changed_num, changed_cat) -> torch.Tensor:
        """Binary cross-entropy of telling, from the output tokens, which values changed."""
        logits = self.detection_logits(tokens)
        changed = torch.cat([changed_num, changed_cat], dim=1).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, changed)


class ReconstructionHead(_ReconstructionLosses):
    """Predict each feature's value from its own output token.

    Numeric feature ``j`` is read back by a linear map of token ``j``;
    categorical feature ``j`` by a linear map to logits over its codes
    (a :class:`CategoryReadout`).

    Parameters
    ----------
    n_num_features : int
    cat_cardinalities : sequence of int
        Known categories per categorical feature (reserved codes on top).
    d_token : int

    Examples
    --------
    >>> import torch
    >>> head = ReconstructionHead(n_num_features=2, cat_cardinalities=[3], d_token=8)
    >>> tokens = torch.randn(4, 4, 8)  # CLS, 2 numeric, 1 categorical
    >>> x_num, x_cat = torch.randn(4, 2), torch.full((4, 1), 2)
    >>> hidden = torch.ones(4, 2, dtype=torch.bool), torch.ones(4, 1, dtype=torch.bool)
    >>> head.loss(tokens, x_num, x_cat, *hidden).ndim
    0
    """

    def __init__(self, *, n_num_features: int, cat_cardinalities, d_token: int):
        super().__init__()
        self.n_num_features = n_num_features
        self.num_weight = nn.Parameter(torch.randn(n_num_features, d_token) / d_token**0.5)
        self.num_bias = nn.Parameter(torch.zeros(n_num_features))
        self.cat_heads = CategoryReadout(cat_cardinalities, d_token)
        self.detector = nn.Linear(d_token, 1)

    def _num_pred(self, tokens):
        num_tokens = tokens[:, 1 : 1 + self.n_num_features]
        return (num_tokens * self.num_weight).sum(-1) + self.num_bias

    def forward(self, tokens: torch.Tensor):
        """Reconstruct from tokens of shape (batch, 1 + n_num + n_cat, d_token).

        Returns the numeric predictions, shape (batch, n_num), and a list of
        categorical logits, each of shape (batch, n_codes_j).
        """
        return self._num_pred(tokens), self.cat_heads(tokens[:, 1 + self.n_num_features :])

    def read_back(self, tokens, x_cat, hidden_cat):
        """The numeric predictions and the cross-entropy of each hidden categorical value."""
        cat_tokens = tokens[:, 1 + self.n_num_features :]
        return self._num_pred(tokens), self.cat_heads.losses(cat_tokens, x_cat, hidden_cat)

    def detection_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_num + n_cat) that each value was changed."""
        return self.detector(tokens[:, 1:]).squeeze(-1)


class GroupReconstructionHead(_ReconstructionLosses):
    """Predict each value from the token of its group (an image patch, a sequence step).

    A linear map shared by all tokens reads a token's ``group_size`` values
    (and whether each was changed) back, as a masked autoencoder does
    (He et al., 2022); the token's position embedding tells the groups
    apart.

    Parameters
    ----------
    value_token, value_slot : LongTensor of shape (n_values,)
        The token holding each value and the value's place in its group
        (a :class:`~skattn.nn.grouped.GroupTokenizer`'s attributes).
    group_size : int
    d_token : int

    Examples
    --------
    >>> import torch
    >>> from skattn.nn.grouped import PatchTokenizer
    >>> tokenizer = PatchTokenizer(image_shape=(1, 4, 4), patch_size=2, d_token=8)
    >>> head = GroupReconstructionHead(value_token=tokenizer.value_token,
    ...                                value_slot=tokenizer.value_slot,
    ...                                group_size=4, d_token=8)
    >>> num_pred, cat_logits = head(torch.randn(3, 5, 8))
    >>> num_pred.shape, cat_logits
    (torch.Size([3, 16]), [])
    """

    def __init__(self, *, value_token, value_slot, group_size: int, d_token: int):
        super().__init__()
        self.n_num_features = len(value_token)
        self.register_buffer("value_token", value_token.clone(), persistent=False)
        self.register_buffer("value_slot", value_slot.clone(), persistent=False)
        self.values = nn.Linear(d_token, group_size)
        self.detector = nn.Linear(d_token, group_size)

    def _per_value(self, layer, tokens):
        return layer(tokens)[:, self.value_token, self.value_slot]

    def forward(self, tokens: torch.Tensor):
        """Numeric predictions (batch, n_values) and an empty list of categorical logits."""
        return self._per_value(self.values, tokens), []

    def read_back(self, tokens, x_cat, hidden_cat):
        """The numeric predictions, and no categorical values (a group holds numbers only)."""
        return self._per_value(self.values, tokens), tokens.new_zeros(0)

    def detection_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        return self._per_value(self.detector, tokens)
