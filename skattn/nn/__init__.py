"""Pure PyTorch building blocks of skattn (no scikit-learn, no skorch)."""

from .attention import (
    ATTENTION_KINDS,
    MultiheadCrossAttention,
    MultiheadSelfAttention,
    sparsemax,
)
from .encoder import TransformerBlock, TransformerEncoder
from .grouped import GroupTokenizer, PatchTokenizer, SequenceTokenizer
from .latent import LatentReconstructionHead, LatentTokens
from .members import Members
from .model import (
    TOKENIZER_KINDS,
    FTTransformer,
    PretrainedEncoderModel,
    make_tokenizer,
    run_step,
)
from .reconstruction import (
    CategoryReadout,
    GroupReconstructionHead,
    ReconstructionHead,
    mask_features,
    swap_features,
)
from .tokenizer import (
    BAG_STRIDE,
    MISSING_CODE,
    N_RESERVED_CODES,
    UNKNOWN_CODE,
    FeatureTokenizer,
)

__all__ = [
    "ATTENTION_KINDS",
    "BAG_STRIDE",
    "MISSING_CODE",
    "N_RESERVED_CODES",
    "TOKENIZER_KINDS",
    "UNKNOWN_CODE",
    "CategoryReadout",
    "FTTransformer",
    "FeatureTokenizer",
    "GroupReconstructionHead",
    "GroupTokenizer",
    "LatentReconstructionHead",
    "LatentTokens",
    "Members",
    "MultiheadCrossAttention",
    "MultiheadSelfAttention",
    "PatchTokenizer",
    "PretrainedEncoderModel",
    "ReconstructionHead",
    "SequenceTokenizer",
    "TransformerBlock",
    "TransformerEncoder",
    "make_tokenizer",
    "mask_features",
    "run_step",
    "sparsemax",
    "swap_features",
]
