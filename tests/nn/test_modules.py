"""The torch building blocks, used alone (no estimator)."""

import pytest
import torch

from skattn.nn import (
    ATTENTION_KINDS,
    MISSING_CODE,
    N_RESERVED_CODES,
    UNKNOWN_CODE,
    FeatureTokenizer,
    FTTransformer,
    MultiheadSelfAttention,
    PatchTokenizer,
    ReconstructionHead,
    sparsemax,
)


def test_attention_weights_are_distributions():
    attention = MultiheadSelfAttention(d_token=8, n_heads=2, dropout=0.0).eval()
    _, weights = attention(torch.randn(3, 5, 8), need_weights=True)
    assert weights.shape == (3, 2, 5, 5)
    assert torch.all(weights >= 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 5))


def test_fused_and_explicit_attention_agree():
    attention = MultiheadSelfAttention(d_token=8, n_heads=2, dropout=0.0).eval()
    x = torch.randn(4, 6, 8)
    fused, _ = attention(x)
    explicit, _ = attention(x, need_weights=True)
    torch.testing.assert_close(fused, explicit, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(d_token=10, n_heads=3, dropout=0.0), "divisible"),
        (dict(d_token=8, n_heads=2, dropout=1.0), "dropout"),
    ],
)
def test_attention_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiheadSelfAttention(**kwargs)


def test_tokenizer_uses_missing_token_for_nan_whatever_the_rest():
    tokenizer = FeatureTokenizer(n_num_features=2, cat_cardinalities=[], d_token=4)
    tokens = tokenizer(torch.tensor([[float("nan"), 1.0], [float("nan"), -3.0]]), None)
    torch.testing.assert_close(tokens[0, 1], tokenizer.num_missing[0])
    torch.testing.assert_close(tokens[0, 1], tokens[1, 1])
    assert not torch.allclose(tokens[0, 2], tokens[1, 2])


def test_tokenizer_gives_missing_and_unknown_categories_their_own_tokens():
    tokenizer = FeatureTokenizer(n_num_features=0, cat_cardinalities=[3], d_token=4)
    codes = torch.tensor([[MISSING_CODE], [UNKNOWN_CODE], [N_RESERVED_CODES], [N_RESERVED_CODES]])
    tokens = tokenizer(torch.empty(4, 0), codes)[:, 1]
    assert tokens.shape == (4, 4)
    assert len({tuple(token.tolist()) for token in tokens}) == 3


def test_tokenizer_needs_a_feature():
    with pytest.raises(ValueError, match="at least one feature"):
        FeatureTokenizer(n_num_features=0, cat_cardinalities=[], d_token=4)


def test_model_returns_attention_maps_without_changing_its_output():
    model = FTTransformer(n_num_features=3, cat_cardinalities=[4], d_out=2, n_blocks=2).eval()
    x_num, x_cat = torch.randn(5, 3), torch.full((5, 1), N_RESERVED_CODES)
    out = model(x_num, x_cat)
    out_again, maps = model(x_num, x_cat, return_attention=True)
    torch.testing.assert_close(out, out_again, rtol=1e-5, atol=1e-6)
    assert maps.shape == (5, 2, 4, 5, 5)  # batch, blocks, heads, CLS + 4 features


@pytest.mark.parametrize("n_blocks", [1, 3])
def test_prediction_computing_only_cls_in_the_last_block_is_exact(n_blocks):
    model = FTTransformer(n_num_features=4, cat_cardinalities=[3], d_out=3, n_blocks=n_blocks)
    model.eval()
    x_num, x_cat = torch.randn(7, 4), torch.full((7, 1), N_RESERVED_CODES + 1)
    tokens, _ = model.encode(x_num, x_cat)
    torch.testing.assert_close(model(x_num, x_cat), model.head(tokens[:, 0]))


def test_model_rows_do_not_influence_each_other():
    model = FTTransformer(n_num_features=3, cat_cardinalities=[], d_out=2).eval()
    x = torch.randn(6, 3)
    together = model(x, torch.empty(6, 0, dtype=torch.long))
    alone = model(x[:1], torch.empty(1, 0, dtype=torch.long))
    torch.testing.assert_close(together[:1], alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_every_attention_kind_gives_distributions_and_respects_the_mask(kind):
    torch.manual_seed(0)
    attention = MultiheadSelfAttention(d_token=8, n_heads=2, dropout=0.0, kind=kind).eval()
    x = torch.randn(3, 5, 8)
    mask = torch.tensor([True, True, False, True, True]).expand(3, 5)
    out, weights = attention(x, mask=mask, need_weights=True)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 5))
    assert torch.all(weights[..., 2] == 0)
    changed = x.clone()
    changed[:, 2] = 100.0  # a masked token has no influence on any other token
    out_changed, _ = attention(changed, mask=mask)
    present = [0, 1, 3, 4]
    torch.testing.assert_close(out_changed[:, present], out[:, present])


def test_sparse_attention_gives_exact_zeros_and_softmax_does_not():
    torch.manual_seed(0)
    x = 3 * torch.randn(4, 12, 8)
    weights = {
        kind: MultiheadSelfAttention(d_token=8, n_heads=1, dropout=0.0, kind=kind)(
            x, need_weights=True
        )[1]
        for kind in ("self", "sparse")
    }
    assert (weights["sparse"] == 0).float().mean() > 0.3
    assert (weights["self"] > 0).all()


def test_sparsemax_is_a_projection_with_correct_gradients():
    scores = torch.tensor([[1.0, 0.5, -1.0], [0.2, 0.2, 0.2]])
    torch.testing.assert_close(
        sparsemax(scores), torch.tensor([[0.75, 0.25, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    )
    z = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sparsemax, (z,))


def test_unknown_attention_kind_is_refused():
    with pytest.raises(ValueError, match="attention kind 'linear'"):
        MultiheadSelfAttention(d_token=8, n_heads=2, dropout=0.0, kind="linear")


def test_a_pixel_changes_only_the_token_of_its_patch():
    tokenizer = PatchTokenizer(image_shape=(2, 4, 6), patch_size=2, d_token=8)
    images = torch.randn(3, 2, 4, 6)
    changed = images.clone()
    changed[:, 1, 2, 5] += 1.0  # channel 1, row 2, column 5: patch (1, 2), token 1 + 3 + 2
    difference = (tokenizer(changed.flatten(1)) - tokenizer(images.flatten(1))).abs().sum(-1)
    assert tokenizer.n_tokens == 7
    assert difference[:, 6].min() > 0
    assert torch.all(difference[:, :6] == 0)


def test_patches_at_different_places_get_different_tokens():
    tokenizer = PatchTokenizer(image_shape=(1, 4, 4), patch_size=2, d_token=8)
    tokens = tokenizer(torch.ones(1, 16))[0, 1:]  # four identical patches
    assert len({tuple(token.tolist()) for token in tokens}) == 4


def test_patch_size_must_divide_the_image():
    with pytest.raises(ValueError, match="must divide the image's height 8 and width 6"):
        PatchTokenizer(image_shape=(1, 8, 6), patch_size=4, d_token=8)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_padded_sequence_steps_get_no_attention_and_no_influence(kind):
    torch.manual_seed(0)
    model = FTTransformer(
        tokenizer="sequence", input_shape=(4, 2), d_out=2, attention=kind, d_token=8
    ).eval()
    x = torch.randn(3, 8)
    x[:, 4:] = float("nan")  # steps 2 and 3 are padding
    out, maps = model(x, None, return_attention=True)
    assert torch.all(maps[..., 3:] == 0)
    shorter = FTTransformer(
        tokenizer="sequence", input_shape=(2, 2), d_out=2, attention=kind, d_token=8
    ).eval()
    state = model.state_dict()
    state["tokenizer.position"] = state["tokenizer.position"][:2]
    shorter.load_state_dict(state)
    torch.testing.assert_close(shorter(x[:, :4], None), out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "tokens",
    [
        dict(tokenizer="patch", input_shape=(1, 4, 4), patch_size=2),
        dict(tokenizer="sequence", input_shape=(5, 3)),
    ],
)
def test_grouped_tokens_predict_cls_only_exactly_and_reconstruct_each_value(tokens):
    model = FTTransformer(d_out=3, reconstruction=True, **tokens).eval()
    n_values = model.tokenizer.n_num_features
    x = torch.randn(6, n_values)
    encoded, _ = model.encode(x, None)
    torch.testing.assert_close(model(x, None), model.head(encoded[:, 0]))
    moved = encoded.clone()
    moved[:, 2] += 1.0  # the second group's token
    changed = (model.reconstruction(moved)[0] != model.reconstruction(encoded)[0]).any(0)
    assert torch.equal(changed, model.tokenizer.value_token == 2)
    hidden = torch.rand(6, n_values) < 0.5
    no_cat = torch.zeros(6, 0, dtype=torch.bool)
    assert model.reconstruction.loss(encoded, x, None, hidden, no_cat) > 0
    assert model.reconstruction.detection_loss(encoded, hidden, no_cat) > 0


def test_a_model_without_outputs_embeds_and_says_it_has_no_head():
    model = FTTransformer(n_num_features=3, d_out=0, reconstruction=True)
    x_num, x_cat = torch.randn(4, 3), torch.zeros(4, 0, dtype=torch.long)
    assert model.embed(x_num, x_cat).shape == (4, 32)
    assert not any(name.startswith("head") for name, _ in model.named_parameters())
    with pytest.raises(ValueError, match="no head"):
        model(x_num, x_cat)
    with pytest.raises(ValueError, match="must not be negative"):
        FTTransformer(n_num_features=3, d_out=-1)


def test_category_readout_is_one_linear_map_per_feature_and_loads_old_files():
    # Cardinalities that share a padded size (3 and 4 codes pad to 8 with the
    # reserved ones) and one that does not, so several groups are stacked.
    cardinalities = [3, 40, 4, 1]
    head = ReconstructionHead(n_num_features=1, cat_cardinalities=cardinalities, d_token=8)
    torch.manual_seed(1)
    linears = [torch.nn.Linear(8, c + N_RESERVED_CODES) for c in cardinalities]
    old = {
        f"cat_heads.{j}.{name}": getattr(linear, name)
        for j, linear in enumerate(linears)
        for name in ("weight", "bias")
    }
    state = {k: v for k, v in head.state_dict().items() if not k.startswith("cat_heads.")}
    head.load_state_dict({**state, **old})  # the layout of files saved before stacking

    tokens = torch.randn(5, 1 + 1 + len(cardinalities), 8)
    _, logits = head(tokens)
    for j, linear in enumerate(linears):
        torch.testing.assert_close(logits[j], linear(tokens[:, 2 + j]))
    x_cat = torch.stack([torch.randint(2, c + 2, (5,)) for c in cardinalities], dim=1)
    hidden = torch.rand(5, len(cardinalities)) < 0.5
    hidden[0] = True
    expected = torch.cat(
        [
            torch.nn.functional.cross_entropy(
                linear(tokens[:, 2 + j][hidden[:, j]]), x_cat[hidden[:, j], j], reduction="none"
            )
            for j, linear in enumerate(linears)
        ]
    )
    _, losses = head.read_back(tokens, x_cat, hidden)
    torch.testing.assert_close(losses.sort().values, expected.sort().values)


def test_members_share_the_blocks_differ_and_predict_their_mean():
    torch.manual_seed(0)
    model = FTTransformer(n_num_features=3, cat_cardinalities=[4], d_out=2, n_members=4)
    x_num, x_cat = torch.randn(5, 3), torch.full((5, 1), N_RESERVED_CODES)
    # One set of blocks: the same parameter count as one network, plus each
    # member's signs and head, instead of four networks.
    single = FTTransformer(n_num_features=3, cat_cardinalities=[4], d_out=2)
    extra = sum(p.numel() for p in model.parameters()) - sum(
        p.numel() for p in single.parameters()
    )
    assert extra == 4 * 32 + 3 * (32 * 2 + 2)
    each = model.train()(x_num, x_cat)  # training: one output per member
    assert each.shape == (5, 4, 2)
    model.eval()
    each = model.members.unflatten(model.read_out(model.embed(x_num, x_cat)))
    assert (each[:, 1:] - each[:, :1]).abs().min() > 0  # the members differ
    out, maps = model(x_num, x_cat, return_attention=True)
    torch.testing.assert_close(out, each.mean(dim=1))
    torch.testing.assert_close(model(x_num, x_cat), out, rtol=1e-5, atol=1e-6)
    assert maps.shape == (5, 2, 4, 5, 5)
    torch.testing.assert_close(maps.sum(dim=-1), torch.ones(5, 2, 4, 5))


def test_members_keep_the_padding_of_each_row():
    torch.manual_seed(0)
    model = FTTransformer(tokenizer="sequence", input_shape=(4, 2), d_out=2, n_members=3).eval()
    x = torch.randn(3, 8)
    x[0, 4:] = float("nan")  # row 0: steps 2 and 3 are padding
    _, maps = model(x, None, return_attention=True)
    assert torch.all(maps[0, ..., 3:] == 0)
    assert torch.all(maps[1, ..., 3:] > 0)


def test_members_need_a_head():
    with pytest.raises(ValueError, match="n_members=2 needs a head"):
        FTTransformer(n_num_features=3, d_out=0, n_members=2)
