"""The attention network for tables: tokenizer, encoder, head on CLS."""

import torch
from torch import nn

from .encoder import TransformerEncoder
from .grouped import PatchTokenizer, SequenceTokenizer
from .latent import LatentReconstructionHead, LatentTokens
from .members import Members
from .reconstruction import GroupReconstructionHead, ReconstructionHead
from .tokenizer import FeatureTokenizer

TOKENIZER_KINDS = ("feature", "patch", "sequence")


def make_tokenizer(
    kind="feature",
    *,
    d_token,
    n_num_features=0,
    cat_cardinalities=(),
    input_shape=None,
    patch_size=None,
):
    """The tokenizer of ``kind``: one token per column, per image patch or per sequence step.

    ``"feature"`` reads ``n_num_features`` and ``cat_cardinalities``;
    ``"patch"`` reads ``input_shape`` = (channels, height, width) and
    ``patch_size``; ``"sequence"`` reads ``input_shape`` = (n_steps, d_step).

    Examples
    --------
    >>> make_tokenizer("patch", d_token=8, input_shape=(1, 8, 8), patch_size=2).n_tokens
    17
    """
    if kind == "feature":
        return FeatureTokenizer(
            n_num_features=n_num_features, cat_cardinalities=cat_cardinalities, d_token=d_token
        )
    if kind == "patch":
        return PatchTokenizer(image_shape=input_shape, patch_size=patch_size, d_token=d_token)
    if kind == "sequence":
        return SequenceTokenizer(sequence_shape=input_shape, d_token=d_token)
    raise ValueError(f"tokenizer kind {kind!r} is not one of {TOKENIZER_KINDS}")


def _reconstruction_head(tokenizer, d_token, latents=None, n_heads=1):
    if latents is not None:
        return LatentReconstructionHead(
            n_num_features=tokenizer.n_num_features,
            cat_cardinalities=tokenizer.cat_cardinalities,
            n_latents=latents.n_latents,
            d_token=d_token,
            n_heads=n_heads,
        )
    if isinstance(tokenizer, FeatureTokenizer):
        return ReconstructionHead(
            n_num_features=tokenizer.n_num_features,
            cat_cardinalities=tokenizer.cat_cardinalities,
            d_token=d_token,
        )
    return GroupReconstructionHead(
        value_token=tokenizer.value_token,
        value_slot=tokenizer.value_slot,
        group_size=tokenizer.group_size,
        d_token=d_token,
    )


def run_step(module, step, x_num, x_cat):
    """``step(model, x_num, x_cat)`` run inside ``module``'s forward pass.

    A training step that calls several parts of the network (the encoder,
    the reconstruction head, the head) runs through here: a data-parallel
    wrapper (:class:`~torch.nn.parallel.DistributedDataParallel`) forwards
    only calls of ``forward`` to the model, and synchronises only the
    gradients of what it saw run. Without a wrapper, ``step`` simply runs.

    Examples
    --------
    >>> import torch
    >>> model = FTTransformer(n_num_features=2, d_out=3)
    >>> run_step(model, lambda m, x_num, x_cat: m.encode(x_num, x_cat)[0].shape,
    ...          torch.randn(4, 2), torch.zeros(4, 0, dtype=torch.long))
    torch.Size([4, 3, 32])
    """
    return module(x_num, x_cat, step=step)


class FTTransformer(nn.Module):
    """Feature-token transformer with a prediction head on the CLS token.

    Every input column becomes a token (:class:`FeatureTokenizer`; or every
    image patch, or every sequence step, see :func:`make_tokenizer`), a stack
    of pre-norm self-attention blocks mixes them (:class:`TransformerEncoder`)
    and a head maps the CLS output to ``d_out`` numbers (logits for a
    classifier, a standardised target for a regressor).

    Parameters
    ----------
    n_num_features : int, default=0
        Number of numeric features (``tokenizer="feature"``).
    cat_cardinalities : sequence of int, default=()
        Number of known categories per categorical feature.
    d_out : int
        Output size; 0 builds no head (``self.head`` is None): a network
        that only encodes and embeds, as pretraining needs.
    d_token : int, default=32
        Token size.
    n_blocks : int, default=2
        Number of transformer blocks.
    n_heads : int, default=4
        Attention heads per block; must divide ``d_token``.
    d_ffn_factor : float, default=4/3
        Feed-forward hidden size as a multiple of ``d_token``.
    ffn_dropout : float
        Dropout rates (see :class:`TransformerBlock`).
    attention : {"self", "sparse"}, default="self"
        The kind of attention in every block (:class:`MultiheadSelfAttention`).
    reconstruction : bool, default=False
        Add a :class:`ReconstructionHead` (``self.reconstruction``) that reads
        each feature back from its output token, for masked-feature
        objectives.
    tokenizer : {"feature", "patch", "sequence"}, default="feature"
        How ``x_num`` (and ``x_cat``) become tokens (:func:`make_tokenizer`).
    input_shape : tuple of int, optional
        (channels, height, width) of an image, or (n_steps, d_step) of a
        sequence; ``x_num`` then holds the values flattened in that order.
    patch_size : int, optional
        Side of an image patch.
    n_latents : int, default=0
        When positive (``tokenizer="feature"`` only), ``n_latents`` learned
        latent tokens summarise the numeric column tokens by cross-attention
        (:class:`LatentTokens`) and the blocks run over CLS, the latents and
        the categorical tokens: cost linear in the numeric columns. The
        reconstruction head then reads each column back through its own
        query (:class:`LatentReconstructionHead`). 0: one token per column.
    n_members : int, default=1
        When above 1, the network is an ensemble of that many members that
        share the blocks (:class:`Members`): in training mode the output
        is (batch, n_members, d_out), one output per member, each trained
        with its own loss; in eval mode it is the members' mean.
        :meth:`encode`, :meth:`embed` and :meth:`read_out` then work on
        each member's copy of the rows, (batch * n_members, ...), member by
        member within a row; :meth:`merge_members` averages them.

    Examples
    --------
    >>> import torch
    >>> model = FTTransformer(n_num_features=3, cat_cardinalities=[4], d_out=2)
    >>> logits, maps = model(torch.randn(5, 3), torch.full((5, 1), 2),
    ...                      return_attention=True)
    >>> logits.shape, maps.shape
    (torch.Size([5, 2]), torch.Size([5, 2, 4, 5, 5]))
    >>> wide = FTTransformer(n_num_features=500, d_out=2, n_latents=16)
    >>> wide(torch.randn(5, 500), torch.zeros(5, 0, dtype=torch.long),
    ...      return_attention=True)[1].shape  # CLS and 16 latents
    torch.Size([5, 2, 4, 17, 17])
    """

    def __init__(
        self,
        *,
        n_num_features: int = 0,
        cat_cardinalities=(),
        d_out: int,
        d_token: int = 32,
        n_blocks: int = 2,
        n_heads: int = 4,
        d_ffn_factor: float = 4 / 3,
        ffn_dropout: float = 0.1,
        reconstruction: bool = False,
        attention: str = "self",
        tokenizer: str = "feature",
        input_shape=None,
        patch_size=None,
        n_latents: int = 0,
        n_members: int = 1,
    ):
        super().__init__()
        if d_out < 0:
            raise ValueError(f"{d_out=} must not be negative")
        self.tokenizer = make_tokenizer(
            tokenizer,
            d_token=d_token,
            n_num_features=n_num_features,
            cat_cardinalities=cat_cardinalities,
            input_shape=input_shape,
            patch_size=patch_size,
        )
        self.encoder = TransformerEncoder(
            n_blocks=n_blocks,
            d_token=d_token,
            n_heads=n_heads,
            d_ffn=max(1, round(d_token * d_ffn_factor)),
            ffn_dropout=ffn_dropout,
            attention=attention,
        )
        # With members, each member's head (Members) replaces this one.
        self.head = (
            nn.Sequential(nn.ReLU(), nn.Linear(d_token, d_out))
            if d_out and n_members == 1
            else None
        )
        # Created after the other parts, so that without latents every
        # parameter is initialised exactly as before they existed.
        self.n_latents = n_latents
        self.latents = None
        if n_latents:
            if tokenizer != "feature" or not n_num_features:
                raise ValueError(
                    f"{n_latents=} summarises numeric column tokens: it needs "
                    f"tokenizer='feature' and numeric features, not {tokenizer=} "
                    f"with {n_num_features=}"
                )
            self.latents = LatentTokens(
                n_columns=n_num_features,
                n_latents=n_latents,
                d_token=d_token,
                n_heads=n_heads,
                d_ffn=max(1, round(d_token * d_ffn_factor)),
                ffn_dropout=ffn_dropout,
            )
        self.reconstruction = (
            _reconstruction_head(self.tokenizer, d_token, self.latents, n_heads)
            if reconstruction
            else None
        )
        if n_members > 1 and not d_out:
            raise ValueError(f"{n_members=} needs a head (d_out > 0)")
        self.n_members = n_members
        self.members = (
            Members(d_token=d_token, d_out=d_out, n_members=n_members) if n_members > 1 else None
        )

    def summarise(self, tokens: torch.Tensor, *, need_weights=False):
        """The blocks' input from the tokenizer's output (through :class:`LatentTokens`).

        Returns the tokens, (batch, 1 + n_latents + n_cat, d_token) with
        latents or the input itself without, and the latents' attention over
        the numeric columns, (batch, n_heads, 1 + n_latents, n_num_features),
        when asked and latents are in use (else None). With members, the
        tokens are repeated once per member (:meth:`Members.split`).
        """
        cross = None
        if self.latents is not None:
            tokens, cross = self.latents(tokens, need_weights=need_weights)
        if self.members is not None:
            tokens = self.members.split(tokens)
        return tokens, cross

    def padding_mask(self, x_num: torch.Tensor, x_cat: torch.Tensor):
        """The tokenizer's padding mask for the blocks' rows (once per member), or None."""
        mask = self.tokenizer.padding_mask(x_num, x_cat)
        return mask if self.members is None else self.members.repeat(mask)

    def merge_members(self, values: torch.Tensor) -> torch.Tensor:
        """The members' mean of rows (batch * n_members, ...); without members, unchanged."""
        return values if self.members is None else self.members.merge(values)

    def encode(self, x_num: torch.Tensor, x_cat: torch.Tensor, *, need_weights=False):
        """Output tokens (batch, n_tokens, d_token) and, if asked, attention maps.

        With latents, the tokens are CLS, the latents and the categorical
        columns, and the maps are over those tokens.
        """
        return self.encoder(
            self.summarise(self.tokenizer(x_num, x_cat))[0],
            need_weights=need_weights,
            mask=self.padding_mask(x_num, x_cat),
        )

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """The vector the head reads from output tokens: the CLS token's."""
        return tokens[:, 0]

    def read_out(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The output from CLS embeddings (each member's, with members)."""
        if self.members is not None:
            return self.members.head(embeddings)
        if self.head is None:
            raise ValueError("This network has no head (d_out=0): it only encodes and embeds.")
        return self.head(embeddings)

    def pretrained_parts(self):
        """The parts a fine-tuner may freeze, top first (the last block with the final norm)."""
        blocks = list(self.encoder.blocks)
        return [
            nn.ModuleList([blocks[-1], self.encoder.norm]),
            *reversed(blocks[:-1]),
            *([self.latents] if self.latents is not None else []),
            self.tokenizer,
        ]

    def embed(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """The CLS token's output (batch, d_token); the last block computes it alone."""
        tokens, _ = self.encoder(
            self.summarise(self.tokenizer(x_num, x_cat))[0],
            cls_only=True,
            mask=self.padding_mask(x_num, x_cat),
        )
        return tokens[:, 0]

    def forward(
        self, x_num: torch.Tensor, x_cat: torch.Tensor, *, return_attention=False, step=None
    ):
        """Predict from a batch.

        Parameters
        ----------
        x_num : Tensor of shape (batch, n_num_features), float
        x_cat : Tensor of shape (batch, n_cat_features), int64
        return_attention : bool, default=False
            Also return the attention maps.
        step : callable, optional
            Training only: return ``step(self, x_num, x_cat)`` instead
            (:func:`run_step`).

        Returns
        -------
        out : Tensor of shape (batch, d_out)
        maps : Tensor of shape (batch, n_blocks, n_heads, n_tokens, n_tokens)
            Only when ``return_attention``; token 0 is CLS, then the numeric
            and the categorical features in input order.
        """
        if step is not None:
            return step(self, x_num, x_cat)
        if return_attention:
            tokens, maps = self.encode(x_num, x_cat, need_weights=True)
            out, maps = self.read_out(tokens[:, 0]), self.merge_members(maps)
        else:
            out = self.read_out(self.embed(x_num, x_cat))
        if self.members is not None:
            # Training: each member's output, for its own loss; else their mean.
            out = self.members.unflatten(out) if self.training else self.members.merge(out)
        return (out, maps) if return_attention else out


class PretrainedEncoderModel(nn.Module):
    """An external token encoder with an attention-pooling head on top.

    The encoder is any module called as ``encoder(x_num, x_cat)`` (the
    standardised numeric values, NaN where missing, and the categorical
    codes of a batch) that returns token embeddings of shape (batch,
    n_tokens, d_token), or a tuple that starts with them. A learned query
    attends over the tokens (softmax of ``norm(t_i) . q / sqrt(d)``) and the
    head reads the weighted sum.

    Parameters
    ----------
    encoder : torch.nn.Module
        The pretrained token encoder.
    d_token : int
        Size of its tokens.
    d_out : int
        Output size.

    The external tokens need not match the input columns, so there is no
    reconstruction head (``self.reconstruction`` is None).

    Examples
    --------
    >>> import torch
    >>> class Tokens(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(1, 8)
    ...     def forward(self, x_num, x_cat):
    ...         return self.linear(x_num.unsqueeze(-1))
    >>> model = PretrainedEncoderModel(encoder=Tokens(), d_token=8, d_out=3)
    >>> model(torch.randn(5, 4), torch.zeros(5, 0, dtype=torch.long)).shape
    torch.Size([5, 3])
    """

    def __init__(self, *, encoder: nn.Module, d_token: int, d_out: int):
        super().__init__()
        self.encoder = encoder
        self.query = nn.Parameter(torch.randn(d_token) / d_token**0.5)
        self.norm = nn.LayerNorm(d_token)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(d_token, d_out))
        self.reconstruction = None

    def encode(self, x_num: torch.Tensor, x_cat: torch.Tensor, *, need_weights=False):
        tokens = self.encoder(x_num, x_cat)
        return (tokens[0] if isinstance(tokens, tuple | list) else tokens), None

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        scores = self.norm(tokens) @ self.query * tokens.shape[-1] ** -0.5
        return (torch.softmax(scores, dim=1).unsqueeze(-1) * tokens).sum(dim=1)

    def read_out(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.head(embeddings)

    def pretrained_parts(self):
        return [self.encoder]

    def embed(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        return self.pool(self.encode(x_num, x_cat)[0])

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor, *, step=None):
        if step is not None:
            return step(self, x_num, x_cat)
        return self.head(self.embed(x_num, x_cat))
