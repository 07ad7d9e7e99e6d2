"""How much memory a network needs per row, and how much the machine has.

The estimates are rough on purpose (a factor of two either way): they exist
to refuse, before training, a configuration that cannot fit (one token per
column of a very wide table, with a large batch), and to size the batches
of explanations, whose attention maps grow with the square of the tokens.
"""

import os
from dataclasses import dataclass

import torch

# Float32 tensors the size of the tokens (batch, n_tokens, d_token) that one
# block keeps for the backward pass (norms, q/k/v, context, residuals, their
# gradients), and the same for the feed-forward hidden layer (batch,
# n_tokens, d_ffn). Counted generously from the code, not yet calibrated
# against measured peak memory.
TOKEN_TENSORS = 24
FFN_TENSORS = 12
# Without gradients (predict), a block holds a few of them at a time.
INFERENCE_TENSORS = 6
# Explicit attention weights (batch, n_heads, n_tokens, n_tokens): scores,
# softmax, dropout, gradients. The fused kernel ("self" attention without
# dropout) never holds them.
SCORE_TENSORS = 4
# A training step may use this share of the available memory.
USABLE_SHARE = 0.8
# Memory for one batch of predictions or of explanations.
INFERENCE_BYTES = 512 * 2**20


@dataclass(frozen=True)
class NetworkShape:
    """What the memory of a forward pass depends on.

    Examples
    --------
    >>> shape = NetworkShape.from_params(dict(n_num_features=1000, cat_cardinalities=[],
    ...                                       n_latents=0, d_token=32, n_blocks=2, n_heads=4,
    ...                                       d_ffn_factor=4 / 3, attention="sparse"))
    >>> shape.n_tokens, round(shape.bytes_per_row(training=True) / 2**20)
    (1001, 132)
    """

    n_tokens: int
    n_columns: int
    n_latents: int
    d_token: int
    d_ffn: int
    n_heads: int
    n_blocks: int
    explicit_scores: bool
    n_members: int = 1

    @classmethod
    def from_params(cls, params: dict) -> "NetworkShape":
        """From :class:`~skattn.nn.FTTransformer` keyword arguments."""
        kind = params.get("tokenizer", "feature")
        n_latents = params.get("n_latents", 0) or 0
        n_num = params.get("n_num_features", 0)
        if kind == "patch":
            _, height, width = params["input_shape"]
            n_tokens = 1 + (height // params["patch_size"]) * (width // params["patch_size"])
        elif kind == "sequence":
            n_tokens = 1 + params["input_shape"][0]
        else:
            n_cat = len(params.get("cat_cardinalities", ()))
            n_tokens = 1 + (n_latents or n_num) + n_cat
        attention = params.get("attention", "self")
        return cls(
            n_tokens=n_tokens,
            n_columns=n_num if n_latents else 0,
            n_latents=n_latents,
            d_token=params.get("d_token", 32),
            d_ffn=max(1, round(params.get("d_token", 32) * params.get("d_ffn_factor", 4 / 3))),
            n_heads=params.get("n_heads", 4),
            n_blocks=params.get("n_blocks", 2),
            # The fused kernel takes no padding mask on every backend.
            explicit_scores=attention != "self" or kind == "sequence",
            n_members=params.get("n_members", 1),
        )

    def bytes_per_row(self, *, training: bool, need_weights: bool = False) -> int:
        """Bytes one row needs in a forward pass (and backward, when ``training``)."""
        tokens = self.n_tokens
        if training:
            dense = TOKEN_TENSORS * tokens * self.d_token + FFN_TENSORS * tokens * self.d_ffn
            blocks = self.n_blocks
        else:
            dense = INFERENCE_TENSORS * tokens * max(self.d_token, self.d_ffn)
            blocks = 1  # one block's temporaries at a time
        scores = 0
        if self.explicit_scores or need_weights:
            scores = SCORE_TENSORS * self.n_heads * tokens**2
        if need_weights:  # every block's maps are returned
            scores += self.n_blocks * self.n_heads * tokens**2
        # The column tokens that latents summarise, and their cross-attention.
        columns = self.n_columns * (TOKEN_TENSORS // 2 * self.d_token)
        if need_weights:
            columns += 2 * self.n_heads * (1 + self.n_latents) * self.n_columns
        # The blocks see each row once per member.
        return 4 * (self.n_members * blocks * (dense + scores) + columns)


def available_bytes(device: str) -> int:
    """Memory a fit may use now: free GPU memory, or the host's available memory.

    On the host, the smaller of ``MemAvailable`` (Linux; free pages
    elsewhere) and a cgroup's remaining limit.
    """
    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    candidates = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    if not candidates:
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    try:
        with (
            open("/sys/fs/cgroup/memory.max") as limit,
            open("/sys/fs/cgroup/memory.current") as current,
        ):
            text = limit.read().strip()
            if text != "max":
                candidates.append(int(text) - int(current.read()))
    except (OSError, ValueError):
        pass
    return max(0, min(candidates))


def rows_within(budget: int, bytes_per_row: int, rows: int) -> int:
    """``rows``, or fewer so that they fit in ``budget`` bytes (at least one).

    Examples
    --------
    >>> rows_within(2**20, 1024, 512), rows_within(2**20, 2**16, 512)
    (512, 16)
    """
    return int(max(1, min(rows, budget // max(1, bytes_per_row))))
