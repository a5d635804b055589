"""Every ViCLIP model class follows the transformers conventions generic code relies on (Trainer, PEFT, Auto
classes, export): main input, input embeddings, save/load, output flags, attention backends, checkpointing."""

import inspect

import pytest
import torch
from torch import nn
from transformers import AutoModel, AutoModelForVideoClassification

from viclip import (
    ViCLIPConfig,
    ViCLIPForVideoClassification,
    ViCLIPModel,
    ViCLIPTextModel,
    ViCLIPTextModelWithProjection,
    ViCLIPVisionModel,
    ViCLIPVisionModelWithProjection,
)

VOCAB, LAYERS, HEADS, FRAMES, PATCHES = 99, 2, 4, 2, 4
VIDEO_TOKENS = 1 + PATCHES * FRAMES
TEXT_TOKENS = 7

VIDEO_CLASSES = [ViCLIPVisionModel, ViCLIPVisionModelWithProjection, ViCLIPForVideoClassification]
TEXT_CLASSES = [ViCLIPTextModel, ViCLIPTextModelWithProjection]
ALL_CLASSES = [ViCLIPModel, *VIDEO_CLASSES, *TEXT_CLASSES]
# How a folder saved by each class loads back without naming the class.
AUTO_LOADER = {
    ViCLIPModel: AutoModel,
    ViCLIPVisionModel: AutoModel,
    ViCLIPTextModel: AutoModel,
    ViCLIPForVideoClassification: AutoModelForVideoClassification,
}


def small_config() -> ViCLIPConfig:
    tower = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
    }
    return ViCLIPConfig(
        vision_config={**tower, "image_size": 16, "patch_size": 8, "num_frames": FRAMES},
        text_config={**tower, "vocab_size": VOCAB, "max_position_embeddings": 8, "pad_token_id": 0,
                     "bos_token_id": VOCAB - 2, "eos_token_id": VOCAB - 1},
        projection_dim=24,
        num_labels=3,
    )  # fmt: skip


def build(model_class, attn_implementation: str = "sdpa", seed: int = 0) -> nn.Module:
    config = small_config()
    config = {ViCLIPVisionModel: config.vision_config, ViCLIPTextModel: config.text_config}.get(
        model_class, config
    )
    config._attn_implementation = attn_implementation
    torch.manual_seed(seed)
    return model_class(config).eval()


def inputs_for(model_class, batch_size: int = 2) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    inputs = {}
    if model_class not in VIDEO_CLASSES:
        input_ids = torch.randint(1, VOCAB - 2, (batch_size, TEXT_TOKENS), generator=generator)
        input_ids[:, -1] = VOCAB - 1  # end of text: the largest id, where the text is pooled
        inputs["input_ids"] = input_ids
    if model_class not in TEXT_CLASSES:
        inputs["pixel_values_videos"] = torch.randn(batch_size, FRAMES, 3, 16, 16, generator=generator)
    return inputs


def tensors(output) -> list[torch.Tensor]:
    """Every tensor of a (nested) model output, in order."""
    flat = output.to_tuple() if hasattr(output, "to_tuple") else output
    found = []
    for item in flat:
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, tuple | list):
            found.extend(tensors(item))
    return found


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_main_input_name_is_the_first_forward_argument(model_class):
    first_argument = list(inspect.signature(model_class.forward).parameters)[1]
    assert model_class.main_input_name == first_argument
    expected = "pixel_values_videos" if model_class in VIDEO_CLASSES else "input_ids"
    assert model_class.main_input_name == expected


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_input_embeddings_are_the_token_table_or_the_patch_convolution(model_class):
    model = build(model_class)
    embeddings = model.get_input_embeddings()
    if model_class in VIDEO_CLASSES:
        assert isinstance(embeddings, nn.Conv3d) and embeddings.out_channels == 32
        return
    assert isinstance(embeddings, nn.Embedding) and embeddings.num_embeddings == VOCAB
    replacement = nn.Embedding(VOCAB, 32)
    model.set_input_embeddings(replacement)
    assert model.get_input_embeddings() is replacement


@pytest.mark.parametrize("model_class", [ViCLIPModel, *TEXT_CLASSES])
def test_resize_token_embeddings_grows_the_text_vocabulary(model_class):
    model = build(model_class)
    before = model.get_input_embeddings().weight.detach().clone()
    model.resize_token_embeddings(VOCAB + 10)
    assert model.config.get_text_config().vocab_size == VOCAB + 10
    weight = model.get_input_embeddings().weight
    assert weight.shape == (VOCAB + 10, 32)
    assert torch.equal(weight[:VOCAB], before)
    inputs = inputs_for(model_class)
    inputs["input_ids"][:, 1] = VOCAB + 5  # a new token
    with torch.no_grad():
        assert torch.isfinite(tensors(model(**inputs))[0]).all()


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_save_and_load_round_trip_without_missing_or_unexpected_keys(model_class, tmp_path):
    model = build(model_class)
    model.save_pretrained(tmp_path)
    loader = AUTO_LOADER.get(model_class, model_class)
    loaded, info = loader.from_pretrained(tmp_path, output_loading_info=True)
    assert type(loaded) is model_class
    assert {key: value for key, value in info.items() if value} == {}
    with torch.no_grad():
        for expected, actual in zip(
            tensors(model(**inputs_for(model_class))),
            tensors(loaded.eval()(**inputs_for(model_class))),
            strict=True,
        ):
            assert torch.equal(expected, actual)


@pytest.mark.parametrize("model_class", [ViCLIPVisionModelWithProjection, ViCLIPTextModelWithProjection])
def test_with_projection_models_load_their_tower_from_a_tower_folder(model_class, tmp_path):
    model = build(model_class)
    assert model.base_model is getattr(model, model.base_model_prefix)
    model.base_model.save_pretrained(tmp_path)
    loaded, info = model_class.from_pretrained(tmp_path, output_loading_info=True)
    projection = "visual_projection" if model_class is ViCLIPVisionModelWithProjection else "text_projection"
    assert info["missing_keys"] == {f"{projection}.weight"} and not info["unexpected_keys"]
    for name, tensor in model.base_model.state_dict().items():
        assert torch.equal(loaded.base_model.state_dict()[name], tensor)


def tower_outputs(model_class, output):
    """The output that carries hidden states and attentions: for ViCLIPModel, each tower's."""
    if model_class is ViCLIPModel:
        return [(output.vision_model_output, VIDEO_TOKENS), (output.text_model_output, TEXT_TOKENS)]
    return [(output, TEXT_TOKENS if model_class in TEXT_CLASSES else VIDEO_TOKENS)]


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_hidden_states_and_attentions_have_one_entry_per_layer(model_class):
    model = build(model_class, attn_implementation="eager")
    with torch.no_grad():
        output = model(**inputs_for(model_class), output_hidden_states=True, output_attentions=True)
    for tower, length in tower_outputs(model_class, output):
        assert len(tower.hidden_states) == LAYERS + 1  # the embeddings, then each layer
        assert all(state.shape == (2, length, 32) for state in tower.hidden_states)
        assert len(tower.attentions) == LAYERS
        assert all(weights.shape == (2, HEADS, length, length) for weights in tower.attentions)
        torch.testing.assert_close(tower.attentions[0].sum(-1), torch.ones(2, HEADS, length))
    with torch.no_grad():
        plain = model(**inputs_for(model_class))
    for tower, _ in tower_outputs(model_class, plain):
        assert tower.hidden_states is None and tower.attentions is None


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_return_dict_false_gives_the_same_values_as_a_tuple(model_class):
    model = build(model_class)
    with torch.no_grad():
        as_dict = model(**inputs_for(model_class))
        as_tuple = model(**inputs_for(model_class), return_dict=False)
    assert isinstance(as_tuple, tuple)
    assert len(as_tuple) == len(as_dict.to_tuple())
    for expected, actual in zip(tensors(as_dict), tensors(as_tuple), strict=True):
        assert torch.equal(expected, actual)


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_eager_attention_matches_sdpa(model_class):
    eager, sdpa = build(model_class, "eager"), build(model_class, "sdpa")
    assert eager.config._attn_implementation == "eager" and sdpa.config._attn_implementation == "sdpa"
    with torch.no_grad():
        for expected, actual in zip(
            tensors(eager(**inputs_for(model_class))), tensors(sdpa(**inputs_for(model_class))), strict=True
        ):
            torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4)


def training_loss(model_class, model) -> torch.Tensor:
    inputs = inputs_for(model_class)
    if model_class is ViCLIPModel:
        return model(**inputs, return_loss=True).loss
    if model_class is ViCLIPForVideoClassification:
        return model(**inputs, labels=torch.tensor([0, 2])).loss
    return sum(tensor.sum() for tensor in tensors(model(**inputs)))


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_gradient_checkpointing_gives_the_same_gradients_for_every_parameter(model_class):
    gradients = []
    for checkpointing in (False, True):
        model = build(model_class).train()
        if checkpointing:
            model.activation_checkpointing_enable()
            assert model.is_activation_checkpointing
        training_loss(model_class, model).backward()
        gradients.append({name: param.grad for name, param in model.named_parameters()})
    plain, checkpointed = gradients
    assert all(grad is not None for grad in checkpointed.values()), [
        n for n, g in checkpointed.items() if g is None
    ]
    for name, grad in plain.items():
        torch.testing.assert_close(checkpointed[name], grad, msg=name)


@pytest.mark.parametrize("model_class", ALL_CLASSES)
def test_init_weights_cover_every_parameter(model_class):
    model = build(model_class)
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(float("nan"))
    for tensor in [*model.modules(), *model.parameters()]:
        if hasattr(tensor, "_is_hf_initialized"):
            del tensor._is_hf_initialized
    model.initialize_weights()
    assert [name for name, param in model.named_parameters() if param.isnan().any()] == []


@pytest.mark.parametrize("model_class", [ViCLIPVisionModel, ViCLIPVisionModelWithProjection])
def test_the_vision_tower_exports_with_torch_export(model_class):
    model = build(model_class)
    videos = inputs_for(model_class)["pixel_values_videos"]
    program = torch.export.export(model, args=(), kwargs={"pixel_values_videos": videos}, strict=False)
    with torch.no_grad():
        expected = tensors(model(pixel_values_videos=videos))
    actual = [out for out in program.module()(pixel_values_videos=videos).values() if out is not None]
    for want, got in zip(expected, actual, strict=True):
        torch.testing.assert_close(got, want)
