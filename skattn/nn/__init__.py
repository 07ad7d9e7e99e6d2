"""Pure PyTorch building blocks of skattn (no scikit-learn, no skorch)."""

from .attention import ATTENTION_KINDS, MultiheadSelfAttention, sparsemax
from .encoder import TransformerBlock, TransformerEncoder
from .model import FTTransformer, PretrainedEncoderModel
from .reconstruction import ReconstructionHead, mask_features, swap_features
from .tokenizer import MISSING_CODE, N_RESERVED_CODES, UNKNOWN_CODE, FeatureTokenizer

__all__ = [
    "ATTENTION_KINDS",
    "MISSING_CODE",
    "N_RESERVED_CODES",
    "UNKNOWN_CODE",
    "FTTransformer",
    "FeatureTokenizer",
    "MultiheadSelfAttention",
    "PretrainedEncoderModel",
    "ReconstructionHead",
    "TransformerBlock",
    "TransformerEncoder",
    "mask_features",
    "sparsemax",
    "swap_features",
]
