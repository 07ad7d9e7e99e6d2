"""Rows attend to rows: a context from the nearest labeled rows and their labels."""

import torch
from torch import nn


class RowRetrieval(nn.Module):
    """Add to each row's embedding a context read from labeled rows (TabR).

    A row's embedding ``e`` (the CLS output) becomes a query ``q =
    key(norm(e))``; each candidate row (a labeled or pseudo-labeled row)
    has a key computed the same way and a label ``y``. Among the
    ``n_neighbors`` candidates nearest to ``q``, the row attends with
    weights ``softmax(-||q - k||^2)`` to the values ``label_embedding(y) +
    value(k - q)``, and the weighted sum is added to ``e``: label
    propagation learned end to end, in the spirit of TabR (Gorishniy et
    al., 2023) and ModernNCA (Ye et al., 2024).

    During training the candidates are passed in (the labeled rows of the
    batch, with ``exclude`` masking each row's own copy); at prediction time
    they are the stored ``memory_keys`` and ``memory_labels``
    (:meth:`remember`). With no candidates the embedding is returned as is.

    Parameters
    ----------
    d_token : int
        Embedding size.
    n_classes : int
        Number of labels.
    n_neighbors : int, default=32
        Candidates each row attends to (its nearest): bounds the memory and
        time of a prediction to (rows x n_neighbors x d_token), whatever the
        number of stored rows.

    Examples
    --------
    >>> import torch
    >>> retrieval = RowRetrieval(d_token=8, n_classes=3, n_neighbors=4)
    >>> candidates = torch.randn(10, 8)
    >>> retrieval.remember(candidates, torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]))
    >>> retrieval(torch.randn(5, 8)).shape
    torch.Size([5, 8])
    >>> retrieval.memory_keys.shape
    torch.Size([10, 8])
    """

    def __init__(self, *, d_token: int, n_classes: int, n_neighbors: int = 32):
        super().__init__()
        if n_neighbors < 1:
            raise ValueError(f"{n_neighbors=} must be positive")
        self.n_neighbors = n_neighbors
        self.norm = nn.LayerNorm(d_token)
        self.key = nn.Linear(d_token, d_token)
        self.label_embedding = nn.Embedding(n_classes, d_token)
        self.value = nn.Sequential(
            nn.Linear(d_token, d_token), nn.ReLU(), nn.Linear(d_token, d_token, bias=False)
        )
        self.register_buffer("memory_keys", torch.empty(0, d_token))
        self.register_buffer("memory_labels", torch.empty(0, dtype=torch.long))
        self.register_buffer("memory_ids", torch.empty(0, dtype=torch.long))
        # Stored rows are data, not architecture: a saved model's memory has
        # its own size, which the buffers take on when it is loaded.
        self.register_load_state_dict_pre_hook(_fit_memory_to_state)

    def keys(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Keys (and queries) of embedded rows, (n_rows, d_token)."""
        return self.key(self.norm(embeddings))

    @torch.no_grad()
    def remember(self, embeddings: torch.Tensor, labels: torch.Tensor, ids=None):
        """Store the candidates of later predictions: embedded rows and their labels.

        ``ids`` (default: 0, 1, ...) name the rows in :meth:`attend`'s answer.
        """
        self.memory_keys = self.keys(embeddings).detach()
        device = self.memory_keys.device
        self.memory_labels = labels.to(device=device, dtype=torch.long)
        self.memory_ids = (
            torch.arange(len(labels), device=device)
            if ids is None
            else torch.as_tensor(ids, device=device, dtype=torch.long)
        )

    def attend(self, queries, keys, exclude=None):
        """Each query's attention over its nearest keys: ``(weights, positions)``.

        Both are (n_rows, min(n_neighbors, n_keys)); ``positions`` index
        ``keys``, nearest first, and the weights of a row sum to one (or to
        zero where ``exclude`` hides every key from it).
        """
        scores = -torch.cdist(queries.float(), keys.float()).square()
        if exclude is not None:
            scores = scores.masked_fill(exclude, float("-inf"))
        scores, positions = scores.topk(min(self.n_neighbors, len(keys)), dim=1)
        # A row with every candidate excluded (a batch with one labeled row)
        # gets no context rather than NaN.
        allowed = torch.isfinite(scores)
        weights = torch.softmax(scores.masked_fill(~allowed, -1e4), dim=1) * allowed
        return weights, positions

    def forward(self, embeddings, keys=None, labels=None, exclude=None):
        """Embeddings (n_rows, d_token) plus the context retrieved for them.

        ``keys`` (n_candidates, d_token) from :meth:`keys` and ``labels``
        (n_candidates,) replace the memory; ``exclude`` (n_rows,
        n_candidates), True where a row must not see a candidate (itself).
        """
        if keys is None:
            keys, labels = self.memory_keys, self.memory_labels
        if len(keys) == 0:
            return embeddings
        queries = self.keys(embeddings)
        weights, nearest = self.attend(queries, keys, exclude)
        values = self.label_embedding(labels[nearest]) + self.value(
            keys[nearest] - queries.unsqueeze(1)
        )
        return embeddings + (weights.unsqueeze(-1).to(values.dtype) * values).sum(dim=1)


def _fit_memory_to_state(module, state_dict, prefix, *args):
    for name in ("memory_keys", "memory_labels", "memory_ids"):
        stored = state_dict.get(prefix + name)
        if stored is not None:
            setattr(module, name, torch.empty_like(stored, device=getattr(module, name).device))
