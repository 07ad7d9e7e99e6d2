"""Tokenizers that turn a group of values into one token: image patches, sequence steps.

Both read the flat ``x_num`` batch that every skattn network eats (an image
or a sequence flattened row by row, NaN for missing values) and return a CLS
token followed by one token per group, with learned position embeddings.
"""

import torch
from torch import nn

from .tokenizer import _uniform_


class GroupTokenizer(nn.Module):
    """Base class: one token per group of ``group_size`` values, plus a CLS token.

    A group's values ``g`` (NaN set to zero) and its missing-value indicators
    ``m`` become ``W [g, m] + b + p_t``, with ``p_t`` the learned embedding of
    the group's position ``t``. Subclasses say how ``x_num`` splits into
    groups (:meth:`groups`).

    Attributes
    ----------
    value_token : LongTensor of shape (n_values,)
        The token (1-based, after CLS) that holds each value of ``x_num``.
    value_slot : LongTensor of shape (n_values,)
        The value's place within its group.
    """

    def __init__(self, *, n_groups: int, group_size: int, d_token: int):
        super().__init__()
        if d_token < 1:
            raise ValueError(f"{d_token=} must be positive")
        self.n_groups = n_groups
        self.group_size = group_size
        self.d_token = d_token
        self.n_num_features = n_groups * group_size
        self.n_cat_features = 0
        self.linear = nn.Linear(2 * group_size, d_token)
        self.position = nn.Parameter(_uniform_(torch.empty(n_groups, d_token), d_token))
        self.cls = nn.Parameter(_uniform_(torch.empty(d_token), d_token))
        # Where each value of x_num lands: group the positions themselves.
        where = self.groups(torch.arange(self.n_num_features, dtype=torch.float64)[None])[0]
        value_token = torch.empty(self.n_num_features, dtype=torch.long)
        value_slot = torch.empty(self.n_num_features, dtype=torch.long)
        value_token[where.long()] = torch.arange(1, n_groups + 1)[:, None].expand_as(where)
        value_slot[where.long()] = torch.arange(group_size).expand_as(where)
        self.register_buffer("value_token", value_token, persistent=False)
        self.register_buffer("value_slot", value_slot, persistent=False)

    @property
    def n_tokens(self) -> int:
        """Number of tokens produced per row, CLS included."""
        return 1 + self.n_groups

    def groups(self, x_num: torch.Tensor) -> torch.Tensor:
        """Split ``x_num`` (batch, n_values) into (batch, n_groups, group_size)."""
        raise NotImplementedError

    def forward(self, x_num: torch.Tensor, x_cat=None) -> torch.Tensor:
        """Tokenize a batch: (batch, n_values) -> (batch, 1 + n_groups, d_token)."""
        groups = self.groups(x_num)
        missing = torch.isnan(groups)
        values = torch.cat([torch.nan_to_num(groups, nan=0.0), missing.to(groups.dtype)], dim=-1)
        tokens = self.linear(values) + self.position
        return torch.cat([self.cls.expand(len(x_num), 1, self.d_token), tokens], dim=1)

    def padding_mask(self, x_num: torch.Tensor, x_cat=None):
        """(batch, n_tokens) bool, False for tokens to ignore; None when all count."""
        return None

    def reference_tokens(self) -> torch.Tensor:
        """The tokens of an all-zero (mean) input, CLS first: (n_tokens, d_token)."""
        return torch.cat([self.cls[None], self.linear.bias + self.position])


class PatchTokenizer(GroupTokenizer):
    """Cut images into square patches, one token per patch (ViT, Dosovitskiy et al. 2021).

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of one image; ``x_num`` holds the
        image flattened in that order.
    patch_size : int
        Side of a patch; must divide height and width.
    d_token : int
        Size of every token.

    Examples
    --------
    >>> import torch
    >>> tokenizer = PatchTokenizer(image_shape=(1, 8, 8), patch_size=4, d_token=16)
    >>> tokenizer(torch.randn(2, 64)).shape  # CLS + 4 patches
    torch.Size([2, 5, 16])
    """

    def __init__(self, *, image_shape, patch_size: int, d_token: int):
        channels, height, width = (int(side) for side in image_shape)
        if patch_size < 1 or height % patch_size or width % patch_size:
            raise ValueError(
                f"{patch_size=} must divide the image's height {height} and width {width}"
            )
        self.image_shape = (channels, height, width)
        self.patch_size = patch_size
        super().__init__(
            n_groups=(height // patch_size) * (width // patch_size),
            group_size=channels * patch_size**2,
            d_token=d_token,
        )

    def groups(self, x_num):
        channels, height, width = self.image_shape
        p = self.patch_size
        images = x_num.reshape(len(x_num), channels, height // p, p, width // p, p)
        # Patches in row-major order, each flattened as (channel, row, column).
        return images.permute(0, 2, 4, 1, 3, 5).reshape(len(x_num), self.n_groups, -1)


class SequenceTokenizer(GroupTokenizer):
    """One token per step of a sequence; steps that are all NaN are padding.

    Parameters
    ----------
    sequence_shape : tuple of int
        ``(n_steps, d_step)``: the longest sequence and the values per step;
        ``x_num`` holds the sequence flattened step by step, shorter ones
        padded with NaN.
    d_token : int
        Size of every token.

    Examples
    --------
    >>> import torch
    >>> tokenizer = SequenceTokenizer(sequence_shape=(3, 2), d_token=8)
    >>> x = torch.tensor([[1.0, 2.0, 3.0, 4.0, float("nan"), float("nan")]])
    >>> tokenizer(x).shape, tokenizer.padding_mask(x)
    (torch.Size([1, 4, 8]), tensor([[ True,  True,  True, False]]))
    """

    def __init__(self, *, sequence_shape, d_token: int):
        n_steps, d_step = (int(side) for side in sequence_shape)
        if n_steps < 1 or d_step < 1:
            raise ValueError(f"{sequence_shape=} must hold positive sizes")
        self.sequence_shape = (n_steps, d_step)
        super().__init__(n_groups=n_steps, group_size=d_step, d_token=d_token)

    def groups(self, x_num):
        return x_num.reshape(len(x_num), *self.sequence_shape)

    def padding_mask(self, x_num, x_cat=None):
        present = ~torch.isnan(self.groups(x_num)).all(dim=-1)
        return torch.cat([present.new_ones(len(x_num), 1), present], dim=1)
