"""Retrieval's memory: the labeled rows a prediction may attend to."""

import torch
from skorch.callbacks import Callback

from .._sparse import take_rows

# Most rows kept as retrieval candidates: a prediction scores every one of
# them (n_rows x MAX_MEMORY_ROWS distances), and the memory holds d_token
# floats per row (1.3 MB at d_token=32).
MAX_MEMORY_ROWS = 10_000
# Rows per forward pass while embedding the candidates.
CHUNK_ROWS = 1024


class RetrievalMemory(Callback):
    """Store the labeled rows as :class:`~skattn.nn.RowRetrieval`'s candidates.

    At the end of every training phase (``fit``, ``partial_fit``), the rows
    of the training data with a label or a pseudo-label (target >= 0) are
    embedded with the final weights, in eval mode, and stored in the
    network with their labels and row numbers (``X["row"]`` where given,
    else positions): predictions attend to them. Above
    ``max_rows`` rows, a random subset of that many is kept.

    Parameters
    ----------
    max_rows : int, default=MAX_MEMORY_ROWS
    random_state : int, default=0
        Seeds the subset.
    """

    def __init__(self, *, max_rows=MAX_MEMORY_ROWS, random_state=0):
        self.max_rows = max_rows
        self.random_state = random_state

    def on_train_end(self, net, X=None, y=None, **kwargs):
        module = net.plain_module()
        if X is None or getattr(module, "retrieval", None) is None:
            return
        rows = torch.nonzero(torch.as_tensor(y) >= 0).flatten()
        if len(rows) > self.max_rows:
            generator = torch.Generator().manual_seed(self.random_state)
            keep = torch.randperm(len(rows), generator=generator)[: self.max_rows]
            rows = rows[keep.sort().values]
        module.eval()
        embeddings = []
        with torch.no_grad(), net.autocast():
            for chunk in rows.split(CHUNK_ROWS):
                x_num = take_rows(X["x_num"], chunk).to(net.device)
                x_cat = take_rows(X["x_cat"], chunk).to(net.device)
                embeddings.append(module.embed(x_num, x_cat).float())
            d_token = module.retrieval.key.in_features
            module.retrieval.remember(
                torch.cat(embeddings)
                if embeddings
                else torch.empty(0, d_token, device=net.device),
                torch.as_tensor(y)[rows],
                ids=torch.as_tensor(X["row"])[rows] if "row" in X else rows,
            )
