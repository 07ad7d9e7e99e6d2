"""Attention kinds. Every attention computation in skattn lives here."""

import torch
import torch.nn.functional as F
from torch import nn

ATTENTION_KINDS = ("self", "sparse")


def sparsemax(scores: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Euclidean projection of scores onto the probability simplex (Martins & Astudillo 2016).

    Like softmax, each slice along ``dim`` is non-negative and sums to one;
    unlike softmax, low scores get exactly zero. Differentiable (autograd
    follows the piecewise-linear formula). ``-inf`` scores get zero.

    Examples
    --------
    >>> import torch
    >>> sparsemax(torch.tensor([[2.0, 1.0, -1.0]]))
    tensor([[1., 0., 0.]])
    >>> sparsemax(torch.tensor([[1.0, 0.5, -1.0]]))
    tensor([[0.7500, 0.2500, 0.0000]])
    """
    scores = scores.transpose(dim, -1)
    # Masked (-inf) scores sort last and never enter the support.
    finite = torch.where(torch.isinf(scores), torch.full_like(scores, -1e4), scores)
    z = finite - finite.max(dim=-1, keepdim=True).values
    z_sorted, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    cumulative = z_sorted.cumsum(dim=-1)
    support = (1 + k * z_sorted > cumulative).sum(dim=-1, keepdim=True)
    tau = (cumulative.gather(-1, support - 1) - 1) / support.to(z.dtype)
    return torch.clamp(z - tau, min=0.0).transpose(dim, -1)


class MultiheadSelfAttention(nn.Module):
    """Multi-head self-attention of one of two kinds.

    * ``"self"``: scaled dot-product scores ``q_i . k_j / sqrt(d)``, softmax;
    * ``"sparse"``: the same scores, :func:`sparsemax`, so a token can get
      exactly zero weight.

    Parameters
    ----------
    d_token : int
        Size of each token; must be divisible by ``n_heads``.
    n_heads : int
        Number of attention heads.
    dropout : float
        Dropout on the attention weights during training.
    kind : {"self", "sparse"}, default="self"
        How scores are normalised.

    Examples
    --------
    >>> import torch
    >>> attention = MultiheadSelfAttention(d_token=8, n_heads=2, dropout=0.0, kind="sparse")
    >>> out, weights = attention(torch.randn(3, 5, 8), need_weights=True)
    >>> out.shape, weights.shape
    (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]))
    """

    def __init__(self, *, d_token: int, n_heads: int, dropout: float, kind: str = "self"):
        super().__init__()
        if n_heads < 1 or d_token % n_heads:
            raise ValueError(f"{d_token=} must be divisible by {n_heads=}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{dropout=} must be in [0, 1)")
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"attention kind {kind!r} is not one of {ATTENTION_KINDS}")
        self.n_heads = n_heads
        self.dropout = dropout
        self.kind = kind
        self.qkv = nn.Linear(d_token, 3 * d_token)
        self.out = nn.Linear(d_token, d_token)

    def forward(self, x: torch.Tensor, *, need_weights: bool = False, n_queries=None, mask=None):
        """Attend every token (or the first ``n_queries``) to every present token.

        Parameters
        ----------
        x : Tensor of shape (batch, n_tokens, d_token)
        need_weights : bool
            Also return the attention weights (slower: the fused kernel does
            not expose them).
        n_queries : int, optional
            Compute the output of the first ``n_queries`` tokens only (the
            CLS token, when only the prediction is needed).
        mask : bool Tensor of shape (batch, n_tokens), optional
            False marks a token no one may attend to (padding); it then has
            no influence on any output.

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
        key_mask = None if mask is None else mask[:, None, None, :]
        if self.kind == "self" and not need_weights:
            weights = None
            context = F.scaled_dot_product_attention(
                q, k, v, attn_mask=key_mask, dropout_p=dropout
            )
        else:
            scores = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5
            if key_mask is not None:
                scores = scores.masked_fill(~key_mask, float("-inf"))
            normalise = sparsemax if self.kind == "sparse" else torch.softmax
            weights = normalise(scores, dim=-1)
            context = F.dropout(weights, dropout, self.training) @ v
            weights = weights if need_weights else None
        context = context.transpose(1, 2).reshape(batch, n_tokens, d_token)
        return self.out(context), weights


class MultiheadCrossAttention(nn.Module):
    """Multi-head scaled dot-product attention of query tokens over other tokens.

    Queries come from one sequence (learned latent tokens, or each column's
    learned query), keys and values from another (the column tokens, or
    the latents): the cost is linear in either length, ``O(batch * n_queries
    * n_keys)``, where self-attention over the keys would be quadratic.
    Always softmax; the kinds of :class:`MultiheadSelfAttention` apply to
    self-attention only.

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
    >>> attention = MultiheadCrossAttention(d_token=8, n_heads=2, dropout=0.0)
    >>> out, weights = attention(torch.randn(3, 4, 8), torch.randn(3, 100, 8), need_weights=True)
    >>> out.shape, weights.shape
    (torch.Size([3, 4, 8]), torch.Size([3, 2, 4, 100]))
    """

    def __init__(self, *, d_token: int, n_heads: int, dropout: float):
        super().__init__()
        if n_heads < 1 or d_token % n_heads:
            raise ValueError(f"{d_token=} must be divisible by {n_heads=}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{dropout=} must be in [0, 1)")
        self.n_heads = n_heads
        self.dropout = dropout
        self.query = nn.Linear(d_token, d_token)
        self.key_value = nn.Linear(d_token, 2 * d_token)
        self.out = nn.Linear(d_token, d_token)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, *, need_weights: bool = False):
        """Attend each query token to every key token.

        Parameters
        ----------
        queries : Tensor of shape (batch, n_queries, d_token)
        keys : Tensor of shape (batch, n_keys, d_token)
            Also the values.
        need_weights : bool
            Also return the attention weights.

        Returns
        -------
        out : Tensor of shape (batch, n_queries, d_token)
        weights : Tensor of shape (batch, n_heads, n_queries, n_keys) or None
            Each row sums to one.
        """
        batch, n_queries, d_token = queries.shape
        d_head = d_token // self.n_heads
        q = self.query(queries).view(batch, n_queries, self.n_heads, d_head).transpose(1, 2)
        k, v = (
            self.key_value(keys)
            .view(batch, keys.shape[1], 2, self.n_heads, d_head)
            .permute(2, 0, 3, 1, 4)
        )
        dropout = self.dropout if self.training else 0.0
        if need_weights:
            weights = torch.softmax(q @ k.transpose(-2, -1) * d_head**-0.5, dim=-1)
            context = F.dropout(weights, dropout, self.training) @ v
        else:
            weights = None
            context = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        context = context.transpose(1, 2).reshape(batch, n_queries, d_token)
        return self.out(context), weights
