"""Latent tokens for wide tables: many column tokens in, a few learned tokens out.

Self-attention over one token per column costs ``O(n_columns ** 2)`` per
row. :class:`LatentTokens` lets a fixed number of learned latent tokens
(and the CLS token) cross-attend to the numeric column tokens once, as the
Perceiver does (Jaegle et al., 2021); the self-attention blocks then run
over CLS + latents (+ categorical tokens), so the cost is linear in the
columns. :class:`LatentReconstructionHead` goes the other way for
masked-feature objectives: each column's learned query cross-attends to the
output latents, and a :class:`~skattn.nn.ReconstructionHead` reads the
column's value from the result.
"""

import torch
from torch import nn

from .attention import MultiheadCrossAttention
from .encoder import Dropout, ReGLU
from .reconstruction import ReconstructionHead, _ReconstructionLosses
from .tokenizer import _uniform_


class LatentTokens(nn.Module):
    """Replace the numeric column tokens by ``n_latents`` learned latent tokens.

    The input is a tokenizer's output: the CLS token, ``n_columns`` numeric
    column tokens, then any other tokens (categorical columns). The CLS
    token and the latents, as queries, attend to the normalised column
    tokens (pre-norm, with a residual path), then pass a feed-forward
    network (ReGLU), as in a :class:`~skattn.nn.TransformerBlock`; the other
    tokens pass through unchanged.

    Parameters
    ----------
    n_columns : int
        Number of column tokens to summarise (after the CLS token).
    n_latents : int
        Number of latent tokens.
    d_token : int
        Token size.
    n_heads : int
        Attention heads; must divide ``d_token``.
    d_ffn : int
        Hidden size of the feed-forward network.
    ffn_dropout : float
        Dropout rates, as in :class:`~skattn.nn.TransformerBlock`.

    Examples
    --------
    >>> import torch
    >>> latents = LatentTokens(n_columns=100, n_latents=8, d_token=16, n_heads=2, d_ffn=16)
    >>> tokens = torch.randn(4, 1 + 100 + 3, 16)  # CLS, 100 numeric, 3 categorical
    >>> out, weights = latents(tokens, need_weights=True)
    >>> out.shape, weights.shape  # CLS, 8 latents, 3 categorical; CLS and latents over columns
    (torch.Size([4, 12, 16]), torch.Size([4, 2, 9, 100]))
    """

    def __init__(
        self,
        *,
        n_columns: int,
        n_latents: int,
        d_token: int,
        n_heads: int,
        d_ffn: int,
        ffn_dropout: float = 0.0,
    ):
        super().__init__()
        if n_columns < 1 or n_latents < 1:
            raise ValueError(f"{n_columns=} and {n_latents=} must be positive")
        self.n_columns = n_columns
        self.n_latents = n_latents
        self.latents = nn.Parameter(_uniform_(torch.empty(n_latents, d_token), d_token))
        self.query_norm = nn.LayerNorm(d_token)
        self.column_norm = nn.LayerNorm(d_token)
        self.attention = MultiheadCrossAttention(d_token=d_token, n_heads=n_heads, dropout=0.0)
        self.ffn_norm = nn.LayerNorm(d_token)
        self.ffn = nn.Sequential(
            nn.Linear(d_token, 2 * d_ffn), ReGLU(), Dropout(ffn_dropout), nn.Linear(d_ffn, d_token)
        )

    def forward(self, tokens: torch.Tensor, *, need_weights: bool = False):
        """Summarise tokens (batch, 1 + n_columns + n_other, d_token).

        Returns
        -------
        tokens : Tensor of shape (batch, 1 + n_latents + n_other, d_token)
            CLS, the latents, then the other tokens.
        weights : Tensor of shape (batch, n_heads, 1 + n_latents, n_columns) or None
            The attention of CLS (row 0) and of each latent over the columns.
        """
        cls, columns = tokens[:, :1], tokens[:, 1 : 1 + self.n_columns]
        queries = torch.cat([cls, self.latents.expand(len(tokens), -1, -1)], dim=1)
        attended, weights = self.attention(
            self.query_norm(queries), self.column_norm(columns), need_weights=need_weights
        )
        x = queries + attended
        x = x + self.ffn(self.ffn_norm(x))
        return torch.cat([x, tokens[:, 1 + self.n_columns :]], dim=1), weights


class LatentReconstructionHead(_ReconstructionLosses):
    """Read every feature back from the output tokens of a network with latents.

    Each numeric column has a learned query that cross-attends to the
    output CLS and latent tokens; the result is that column's output token,
    which a :class:`~skattn.nn.ReconstructionHead` reads (categorical
    columns keep their own tokens). The cost is linear in the columns.

    Parameters
    ----------
    n_num_features : int
        Numeric columns (summarised by ``n_latents`` latents).
    cat_cardinalities : sequence of int
        Known categories per categorical feature.
    n_latents : int
    d_token : int
    n_heads : int

    Examples
    --------
    >>> import torch
    >>> head = LatentReconstructionHead(n_num_features=100, cat_cardinalities=[3], n_latents=8,
    ...                                 d_token=16, n_heads=2)
    >>> num_pred, cat_logits = head(torch.randn(4, 1 + 8 + 1, 16))
    >>> num_pred.shape, cat_logits[0].shape
    (torch.Size([4, 100]), torch.Size([4, 5]))
    """

    def __init__(
        self, *, n_num_features: int, cat_cardinalities, n_latents: int, d_token: int, n_heads: int
    ):
        super().__init__()
        self.n_latents = n_latents
        self.queries = nn.Parameter(_uniform_(torch.empty(n_num_features, d_token), d_token))
        self.norm = nn.LayerNorm(d_token)
        self.attention = MultiheadCrossAttention(d_token=d_token, n_heads=n_heads, dropout=0.0)
        self.columns = ReconstructionHead(
            n_num_features=n_num_features, cat_cardinalities=cat_cardinalities, d_token=d_token
        )

    def column_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """One token per column: (batch, 1 + n_latents + n_cat, d) -> (batch, 1 + n_num + n_cat, d)

        (numeric columns' tokens from their queries; CLS and categorical tokens pass).
        """
        summary = tokens[:, : 1 + self.n_latents]
        queries = self.queries.expand(len(tokens), -1, -1)
        columns = queries + self.attention(queries, self.norm(summary))[0]
        return torch.cat([tokens[:, :1], columns, tokens[:, 1 + self.n_latents :]], dim=1)

    def forward(self, tokens: torch.Tensor):
        """Numeric predictions (batch, n_num) and the categorical logits, as ReconstructionHead."""
        return self.columns(self.column_tokens(tokens))

    def read_back(self, tokens, x_cat, hidden_cat):
        """As :meth:`ReconstructionHead.read_back`, from the columns' tokens."""
        return self.columns.read_back(self.column_tokens(tokens), x_cat, hidden_cat)

    def detection_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_num + n_cat) that each value was changed."""
        return self.columns.detection_logits(self.column_tokens(tokens))
