"""Pure PyTorch building blocks of skattn (no scikit-learn, no skorch)."""

from .attention import MultiheadSelfAttention
from .encoder import TransformerBlock, TransformerEncoder
from .model import FTTransformer, PretrainedEncoderModel
from .reconstruction import ReconstructionHead, mask_features, swap_features
from .tokenizer import MISSING_CODE, N_RESERVED_CODES, UNKNOWN_CODE, FeatureTokenizer

__all__ = [
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
    "swap_features",
]
