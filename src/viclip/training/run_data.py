"""The data of a training run: the training stream (`load_internvid`, `load_clips` or `load_prepared`, split across processes) and
the held-out examples, both made with the run's processor; and the synthetic data a config may ask for first."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from ..processing import ViCLIPProcessor
from .config import ConfigError, TrainingConfig
from .stream import InMemoryStream

if TYPE_CHECKING:
    from accelerate import Accelerator
    from datasets import IterableDataset

    from ..data import SkipStats


def generate_synthetic_data(config: TrainingConfig, accelerator: Accelerator) -> TrainingConfig:
    """With a `synthetic` section, generate its data once (main process) and point the config's paths at it."""
    if not config.synthetic:
        return config
    from ..data.synthetic import generate_synthetic_internvid

    options = dict(config.synthetic)
    out_dir = Path(options.pop("out_dir", Path(config.output_dir) / "synthetic-data"))
    options.setdefault("held_out_videos", 0)
    if accelerator.is_main_process and not (out_dir / "annotations.jsonl").is_file():
        generate_synthetic_internvid(out_dir, progress=config.progress, **options)
    accelerator.wait_for_everyone()
    config.train_annotations = config.train_annotations or str(out_dir / "annotations.jsonl")
    config.video_root = config.video_root or str(out_dir / "videos")
    if options["held_out_videos"] and config.eval_annotations is None:
        config.eval_annotations = str(out_dir / "held_out.jsonl")
    return config


def build_train_dataset(
    config: TrainingConfig, processor: ViCLIPProcessor, accelerator: Accelerator
) -> tuple[IterableDataset | InMemoryStream, SkipStats]:
    """`load_internvid` over the training annotations (or `load_prepared` over `train_shards`) with the model's
    `processor`, split across processes; returns (dataset, stats)."""
    from datasets.distributed import split_dataset_by_node

    from ..data import SkipStats, ViCLIPExampleTransform, load_clips, load_internvid
    from .transforms import RandomFramesTransform

    if config.train_shards:
        return _prepared_train_dataset(config, processor, accelerator)
    if not config.train_clips and not (config.train_annotations and config.video_root):
        raise ConfigError(
            "train_clips, or train_annotations and video_root, are required (or a `synthetic` section)"
        )
    world, workers = accelerator.num_processes, max(config.num_workers, 1)
    num_shards = world * workers * max(1, math.ceil(16 / (world * workers)))
    stats = SkipStats()
    transform_cls = ViCLIPExampleTransform if config.augment else RandomFramesTransform
    transform = transform_cls(
        processor,
        training=True,
        clean_captions=config.clean_captions,
        seed=config.seed,  # per-example augmentation seeds come from (seed, row index): resumable
    )
    order = dict(
        transform=transform,
        shuffle=config.shuffle_buffer > 0,
        shuffle_buffer_size=max(config.shuffle_buffer, 1),
        seed=config.seed,
        num_shards=num_shards,
        stats=stats,
    )
    if config.train_clips:
        dataset = load_clips(config.train_clips, video_root=config.video_root, **order)
    else:
        dataset = load_internvid(data_files=config.train_annotations, video_root=config.video_root, **order)
    if world > 1:
        dataset = split_dataset_by_node(dataset, rank=accelerator.process_index, world_size=world)
    if config.cache_examples:
        examples = list(tqdm(dataset, desc="decoding the training split", disable=not config.progress))
        stats.log_summary(prefix="training split cached")
        dataset = InMemoryStream(examples, seed=config.seed, shuffle=True)
    return dataset, stats


def _prepared_train_dataset(
    config: TrainingConfig, processor: ViCLIPProcessor, accelerator: Accelerator
) -> tuple[IterableDataset | InMemoryStream, SkipStats]:
    from ..data import SkipStats, load_prepared

    if not config.augment:
        raise ConfigError(
            "augment=false is not available with train_shards (prepared clips are read augmented)"
        )
    stats = SkipStats()
    dataset = load_prepared(
        config.train_shards,
        training=True,
        processor=processor,
        clean_captions=config.clean_captions,
        shuffle=config.shuffle_buffer > 0,
        shuffle_buffer_size=max(config.shuffle_buffer, 1),
        seed=config.seed,
        stats=stats,
        rank=accelerator.process_index,
        world_size=accelerator.num_processes,
        augmentation_seed=config.seed,  # per-example seeds from (seed, row index): resumable
    )
    if config.cache_examples:
        examples = list(tqdm(dataset, desc="decoding the training split", disable=not config.progress))
        stats.log_summary(prefix="training split cached")
        dataset = InMemoryStream(examples, seed=config.seed, shuffle=True)
    return dataset, stats


def build_eval_examples(config: TrainingConfig, processor: ViCLIPProcessor) -> list[dict[str, Any]]:
    """The held-out split (`eval_annotations` or `eval_clips`) as a list (every process holds all of it; it is
    meant to be small)."""
    from ..data import load_clips, load_internvid

    options = dict(
        training=False, shuffle=False, processor=processor, clean_captions=config.clean_captions, num_shards=1
    )
    if config.eval_clips:
        dataset = load_clips(config.eval_clips, video_root=config.eval_video_root, **options)
    else:
        video_root = config.eval_video_root or config.video_root
        dataset = load_internvid(data_files=config.eval_annotations, video_root=video_root, **options)
    examples = []
    for example in dataset:
        examples.append(example)
        if config.eval_max_clips and len(examples) >= config.eval_max_clips:
            break
    return examples
