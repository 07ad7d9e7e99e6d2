"""Several networks in one: members that share the encoder (TabM, Gorishniy et al., 2025)."""

import math

import torch
from torch import nn


class Members(nn.Module):
    """``n_members`` views of one encoder, each with a head of its own.

    Each member scales the tokens by its own vector of random signs before
    the shared blocks (TabM-mini's adapter), so the members read different
    inputs with the same weights, and each member's linear head reads its
    own CLS embedding. The rows of a batch are repeated once per member,
    member by member within a row: ``(batch * n_members, ...)``.

    Parameters
    ----------
    d_token : int
    d_out : int
    n_members : int

    Examples
    --------
    >>> members = Members(d_token=8, d_out=3, n_members=4)
    >>> tokens = members.split(torch.randn(5, 6, 8))
    >>> tokens.shape
    torch.Size([20, 6, 8])
    >>> members.head(tokens[:, 0]).shape, members.merge(members.head(tokens[:, 0])).shape
    (torch.Size([20, 3]), torch.Size([5, 3]))
    """

    def __init__(self, *, d_token, d_out, n_members):
        super().__init__()
        self.n_members = n_members
        self.scales = nn.Parameter(torch.randint(0, 2, (n_members, d_token)).float() * 2 - 1)
        bound = 1 / math.sqrt(d_token)  # nn.Linear's initialisation, per member
        self.weight = nn.Parameter(torch.empty(n_members, d_token, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_members, d_out).uniform_(-bound, bound))

    def split(self, tokens):
        """(batch, n_tokens, d) -> (batch * n_members, n_tokens, d), each member's scaled copy."""
        return (tokens[:, None] * self.scales[None, :, None]).flatten(0, 1)

    def repeat(self, rows):
        """A per-row tensor (a padding mask) repeated once per member, or None."""
        return None if rows is None else rows.repeat_interleave(self.n_members, dim=0)

    def head(self, embeddings):
        """(batch * n_members, d) CLS embeddings -> (batch * n_members, d_out)."""
        x = self.unflatten(torch.relu(embeddings))
        return (torch.einsum("bkd,kdo->bko", x, self.weight) + self.bias).flatten(0, 1)

    def unflatten(self, values):
        """(batch * n_members, ...) -> (batch, n_members, ...)."""
        return values.unflatten(0, (-1, self.n_members))

    def merge(self, values):
        """The members' mean: (batch * n_members, ...) -> (batch, ...)."""
        return self.unflatten(values).mean(dim=1)
