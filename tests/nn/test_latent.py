"""Latent tokens: many column tokens summarised by a few learned ones (no estimator)."""

import pytest
import torch

from skattn.nn import FTTransformer, LatentTokens, MultiheadCrossAttention


def test_cross_attention_weights_are_distributions_over_the_keys():
    attention = MultiheadCrossAttention(d_token=8, n_heads=2, dropout=0.0).eval()
    _, weights = attention(torch.randn(3, 4, 8), torch.randn(3, 50, 8), need_weights=True)
    assert weights.shape == (3, 2, 4, 50)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 4))


def test_fused_and_explicit_cross_attention_agree():
    attention = MultiheadCrossAttention(d_token=8, n_heads=2, dropout=0.0).eval()
    queries, keys = torch.randn(3, 4, 8), torch.randn(3, 50, 8)
    fused, _ = attention(queries, keys)
    explicit, _ = attention(queries, keys, need_weights=True)
    torch.testing.assert_close(fused, explicit)


def test_latent_tokens_pass_other_tokens_through():
    latents = LatentTokens(n_columns=20, n_latents=4, d_token=8, n_heads=2, d_ffn=8).eval()
    tokens = torch.randn(3, 1 + 20 + 2, 8)
    out, weights = latents(tokens, need_weights=True)
    assert out.shape == (3, 1 + 4 + 2, 8)
    assert weights.shape == (3, 2, 5, 20)
    torch.testing.assert_close(out[:, 5:], tokens[:, 21:])


def test_latent_network_sees_every_column():
    model = FTTransformer(n_num_features=300, d_out=2, n_latents=8).eval()
    x_num, x_cat = torch.randn(2, 300), torch.zeros(2, 0, dtype=torch.long)
    changed = x_num.clone()
    changed[:, 299] += 5.0
    assert not torch.allclose(model(x_num, x_cat), model(changed, x_cat))


def test_latent_network_embeds_as_it_encodes():
    model = FTTransformer(n_num_features=100, cat_cardinalities=[3], d_out=2, n_latents=8).eval()
    x_num, x_cat = torch.randn(4, 100), torch.full((4, 1), 3)
    tokens, _ = model.encode(x_num, x_cat)
    assert tokens.shape == (4, 1 + 8 + 1, 32)
    torch.testing.assert_close(model.embed(x_num, x_cat), tokens[:, 0])


def test_latent_reconstruction_reads_every_column_back():
    model = FTTransformer(
        n_num_features=100, cat_cardinalities=[3], d_out=2, n_latents=8, reconstruction=True
    )
    x_num, x_cat = torch.randn(4, 100), torch.full((4, 1), 3)
    tokens, _ = model.encode(x_num, x_cat)
    num_pred, cat_logits = model.reconstruction(tokens)
    assert num_pred.shape == (4, 100)
    assert cat_logits[0].shape == (4, 5)
    hidden = torch.ones(4, 100, dtype=torch.bool), torch.ones(4, 1, dtype=torch.bool)
    loss = model.reconstruction.loss(tokens, x_num, x_cat, *hidden)
    loss = loss + model.reconstruction.detection_loss(tokens, *hidden)
    loss.backward()
    assert model.latents.latents.grad is not None


def test_without_latents_the_network_is_unchanged():
    torch.manual_seed(0)
    before = FTTransformer(n_num_features=5, d_out=2).state_dict()
    torch.manual_seed(0)
    after = FTTransformer(n_num_features=5, d_out=2, n_latents=0).state_dict()
    assert list(before) == list(after)
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_latents_need_feature_tokens():
    with pytest.raises(ValueError, match="tokenizer='feature'"):
        FTTransformer(d_out=2, tokenizer="patch", input_shape=(1, 4, 4), patch_size=2, n_latents=4)
