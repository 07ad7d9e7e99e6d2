"""Feature tokenizer: one token per input column, plus a CLS token."""

import math

import torch
from torch import nn

#: Code of a missing categorical value (NaN/None) in the ``x_cat`` input.
MISSING_CODE = 0
#: Code of a category not seen during fit in the ``x_cat`` input.
UNKNOWN_CODE = 1
#: Number of reserved codes; known category ``k`` has code ``k + N_RESERVED_CODES``.
N_RESERVED_CODES = 2
#: Columns of ``x_cat`` beyond the categorical features hold further categories
#: of a feature, as ``feature * BAG_STRIDE + code`` (-1: none): an embedding bag.
BAG_STRIDE = 2**32


def _uniform_(tensor: torch.Tensor, d: int) -> torch.Tensor:
    bound = 1 / math.sqrt(d)
    return nn.init.uniform_(tensor, -bound, bound)


class FeatureTokenizer(nn.Module):
    """Turn numeric and categorical features into a sequence of tokens.

    Numeric feature ``j`` with value ``x`` becomes ``x * W_j + b_j``; a NaN
    becomes the learned "missing" token of that feature. Categorical feature
    ``j`` with code ``c`` becomes ``E_j[c] + b_j``, where code
    :data:`MISSING_CODE` and :data:`UNKNOWN_CODE` index learned embeddings of
    their own. A learned CLS token is prepended, as in FT-Transformer
    (Gorishniy et al., 2021). A row may hold several categories of one
    feature (a one-hot block with two 1s): ``x_cat``'s columns after the
    features then name further ``(feature, code)`` pairs as ``feature *
    BAG_STRIDE + code`` (-1 for none), whose embeddings are added to the
    feature's token (an embedding bag).

    Parameters
    ----------
    n_num_features : int
        Number of numeric features.
    cat_cardinalities : sequence of int
        Number of known categories of each categorical feature (the reserved
        codes come on top).
    d_token : int
        Size of every token.

    Examples
    --------
    >>> import torch
    >>> tokenizer = FeatureTokenizer(n_num_features=2, cat_cardinalities=[3], d_token=8)
    >>> x_num = torch.tensor([[0.5, float("nan")]])
    >>> x_cat = torch.tensor([[2]])
    >>> tokenizer(x_num, x_cat).shape
    torch.Size([1, 4, 8])
    """

    def __init__(self, *, n_num_features: int, cat_cardinalities, d_token: int):
        super().__init__()
        cat_cardinalities = [int(c) for c in cat_cardinalities]
        if n_num_features < 0 or any(c < 0 for c in cat_cardinalities):
            raise ValueError(f"{n_num_features=} and {cat_cardinalities=} must be non-negative")
        if n_num_features + len(cat_cardinalities) == 0:
            raise ValueError("FeatureTokenizer needs at least one feature")
        if d_token < 1:
            raise ValueError(f"{d_token=} must be positive")
        self.n_num_features = n_num_features
        self.cat_cardinalities = cat_cardinalities
        self.n_cat_features = len(cat_cardinalities)
        self.d_token = d_token

        self.num_weight = nn.Parameter(_uniform_(torch.empty(n_num_features, d_token), d_token))
        self.num_bias = nn.Parameter(_uniform_(torch.empty(n_num_features, d_token), d_token))
        self.num_missing = nn.Parameter(_uniform_(torch.empty(n_num_features, d_token), d_token))
        sizes = torch.tensor([c + N_RESERVED_CODES for c in cat_cardinalities])
        offsets = torch.cumsum(sizes, 0) - sizes
        self.register_buffer("cat_offsets", offsets, persistent=False)
        self.cat_embedding = nn.Embedding(int(sizes.sum()), d_token)
        _uniform_(self.cat_embedding.weight, d_token)
        self.cat_bias = nn.Parameter(_uniform_(torch.empty(self.n_cat_features, d_token), d_token))
        self.cls = nn.Parameter(_uniform_(torch.empty(d_token), d_token))

    @property
    def n_tokens(self) -> int:
        """Number of tokens produced per row, CLS included."""
        return 1 + self.n_num_features + self.n_cat_features

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Tokenize a batch.

        Parameters
        ----------
        x_num : Tensor of shape (batch, n_num_features), float
            Scaled numeric features; NaN marks a missing value.
        x_cat : Tensor of shape (batch, n_cat_features + n_extra), int64
            Category codes (see :data:`MISSING_CODE`, :data:`UNKNOWN_CODE`),
            then any further categories of a feature (:data:`BAG_STRIDE`).

        Returns
        -------
        Tensor of shape (batch, 1 + n_num_features + n_cat_features, d_token)
            The CLS token first, then numeric, then categorical tokens.
        """
        batch = x_num.shape[0] if self.n_num_features else x_cat.shape[0]
        tokens = [self.cls.expand(batch, 1, self.d_token)]
        if self.n_num_features:
            missing = torch.isnan(x_num).unsqueeze(-1)
            values = torch.nan_to_num(x_num, nan=0.0).unsqueeze(-1)
            num_tokens = values * self.num_weight + self.num_bias
            tokens.append(torch.where(missing, self.num_missing, num_tokens))
        if self.n_cat_features:
            codes, extra = x_cat[:, : self.n_cat_features], x_cat[:, self.n_cat_features :]
            cat_tokens = self.cat_embedding(codes + self.cat_offsets) + self.cat_bias
            if extra.shape[1]:
                cat_tokens = cat_tokens + self._bag(extra)
            tokens.append(cat_tokens)
        return torch.cat(tokens, dim=1)

    def _bag(self, extra: torch.Tensor) -> torch.Tensor:
        """The summed embeddings of further categories, (batch, n_cat_features, d_token)."""
        present = extra >= 0
        feature = torch.where(present, extra // BAG_STRIDE, 0)
        code = torch.where(present, extra % BAG_STRIDE, 0)
        embedded = self.cat_embedding(self.cat_offsets[feature] + code) * present.unsqueeze(-1)
        bag = embedded.new_zeros(extra.shape[0], self.n_cat_features, self.d_token)
        return bag.scatter_add(1, feature.unsqueeze(-1).expand_as(embedded), embedded)

    def padding_mask(self, x_num: torch.Tensor, x_cat: torch.Tensor):
        """None: every column's token counts (a missing value has its own token)."""
        return None

    def reference_tokens(self) -> torch.Tensor:
        """Each column's token at its mean value or with no category, CLS first."""
        return torch.cat([self.cls[None], self.num_bias, self.cat_bias])
