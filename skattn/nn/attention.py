"""Attention kinds. Every attention computation in skattn lives here."""

import torch
import torch.nn.functional as F
from torch import nn


class MultiheadSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention.

    Parameters
    ----------
    d_token : int
        Size of each token; must be divisible by ``n_heads``.
    n_heads : int
        Number of attention heads.
    dropout : float
        Dropout on the attention weights during training.

    Examples
    --------
    >>> import torch
    >>> attention = MultiheadSelfAttention(d_token=8, n_heads=2, dropout=0.0)
    >>> out, weights = attention(torch.randn(3, 5, 8), need_weights=True)
    >>> out.shape, weights.shape
    (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]))
    """

    def __init__(self, *, d_token: int, n_heads: int, dropout: float):
        super().__init__()
        if n_heads < 1 or d_token % n_heads:
            raise ValueError(f"{d_token=} must be divisible by {n_heads=}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{dropout=} must be in [0, 1)")
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_token, 3 * d_token)
        self.out = nn.Linear(d_token, d_token)

    def forward(self, x: torch.Tensor, *, need_weights: bool = False, n_queries=None):
        """Attend every token (or the first ``n_queries``) to every token.

        Parameters
        ----------
        x : Tensor of shape (batch, n_tokens, d_token)
        need_weights : bool
            Also return the attention weights (slower: the fused kernel does
            not expose them).
        n_queries : int, optional
            Compute the output of the first ``n_queries`` tokens only (the
            CLS token, when only the prediction is needed).

        Returns
        -------
        out : Tensor of shape (batch, n_queries or n_tokens, d_token)
        weights : Tensor of shape (batch, n_heads, n_queries or n_tokens, n_tokens) or None
            Row ``i`` of a head is the distribution of token ``i``'s attention
            over all tokens; each row sums to one.
        """
        batch, n_tokens, d_token = x.shape
        q, k, v = (
            self.qkv(x)
            .view(batch, n_tokens, 3, self.n_heads, d_token // self.n_heads)
            .permute(2, 0, 3, 1, 4)
        )
        if n_queries is not None:
            q, n_tokens = q[:, :, :n_queries], n_queries
        dropout = self.dropout if self.training else 0.0
        if need_weights:
            scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5
            weights = torch.softmax(scores, dim=-1)
            context = F.dropout(weights, dropout, self.training) @ v
        else:
            weights = None
            context = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        context = context.transpose(1, 2).reshape(batch, n_tokens, d_token)
        return self.out(context), weights
