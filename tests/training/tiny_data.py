"""Tiny models and tiny learnable video-text data for the training tests (also imported by the
subprocess scripts the tests launch)."""

from __future__ import annotations

import torch
from datasets import Dataset

from viclip import ViCLIPModel
from viclip.training import TrainingConfig
from viclip_testing import tiny_config

NUM_FRAMES = 4
BOS, EOS = 49406, 49407
REGULARISATION = {"mask_ratio": 0.5, "drop_path_rate": 0.1}
"""What `tiny_train_config` trains with: a model passed to `train` is built with it (`tiny_model(**REGULARISATION)`)."""


def tiny_model(seed: int = 0, **vision_overrides) -> ViCLIPModel:
    torch.manual_seed(seed)
    return ViCLIPModel(tiny_config(num_frames=NUM_FRAMES, **vision_overrides)).eval()


def tiny_examples(num: int, num_classes: int = 4, seed: int = 0) -> list[dict]:
    """Clips whose class is a bright patch position; their caption is one class token. Learnable in a
    few steps; each example carries its ``row`` index to check the stream order."""
    generator = torch.Generator().manual_seed(seed)
    examples = []
    for row in range(num):
        label = row % num_classes
        video = 0.1 * torch.randn(NUM_FRAMES, 3, 32, 32, generator=generator)
        y, x = divmod(label, 2)
        video[:, :, 16 * y : 16 * y + 16, 16 * x : 16 * x + 16] += 1.0
        length = 3 + label % 2  # texts of different lengths exercise the padding
        ids = [BOS, 320 + label] + [330 + label] * (length - 3) + [EOS]
        examples.append(
            {"row": row, "pixel_values_videos": video, "input_ids": ids, "attention_mask": [1] * len(ids)}
        )
    return examples


def tiny_stream(num: int, num_shards: int = 1, seed: int = 0):
    """A `datasets` IterableDataset (resumable through ``state_dict``) over `tiny_examples`."""
    examples = tiny_examples(num, seed=seed)
    columns = {key: [e[key] for e in examples] for key in examples[0]}
    columns["pixel_values_videos"] = [e["pixel_values_videos"].numpy() for e in examples]
    return Dataset.from_dict(columns).with_format("torch").to_iterable_dataset(num_shards=num_shards)


def tiny_train_config(tmp_path, **overrides) -> TrainingConfig:
    values = dict(
        output_dir=str(tmp_path / "run"),
        **REGULARISATION,
        freeze_text=False,
        gradient_checkpointing=False,
        attn_implementation="eager",
        learning_rate=2e-3,
        warmup_steps=1,
        per_device_batch_size=4,
        max_steps=6,
        save_steps=0,
        logging_steps=1,
        report_to="none",
        progress=False,
        seed=0,
    )
    values.update(overrides)
    return TrainingConfig(**values)


def tiny_batch(num: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """A collated batch of `tiny_examples`."""
    from viclip.training import ViCLIPDataCollator

    batch = ViCLIPDataCollator(return_loss=False)(tiny_examples(num, seed=seed))
    return batch
