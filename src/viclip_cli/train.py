"""Train or fine-tune ViCLIP with Accelerate: the contrastive recipe of the paper, from one CPU to many GPU nodes.

    viclip train --config synthetic_cpu
    viclip train --config internvid10m_flt_b16 --video-root /data/internvid/videos --per-device-batch-size 256
    viclip train --config finetune_clips --init-from FOLDER --train-clips clips.csv --eval-clips val.csv
    viclip train --config run.yaml --resume latest
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m viclip_cli train --config ...
    torchrun --nproc_per_node 2 -m viclip_cli train --config ...     (several processes on CPU)

--config is a YAML/JSON file of TrainingConfig fields or a built-in config (finetune_clips, finetune_small,
internvid10m_flt_b16, internvid10m_flt_l14, synthetic_cpu). Any field can be overridden on the command line with
--key value (--learning-rate 1e-4, --freeze-text false, --betas 0.9 0.95; --learning_rate is accepted too) and
cleared with --key null (--train-annotations null, --model-size none); --print-config shows the result. The settings viclip finetune-classifier shares have the same names there.
"""

from __future__ import annotations

import argparse

from .base import UsageError
from .options import check_output_dir

EXTRA = "train"
HELP = "train or fine-tune ViCLIP with Accelerate (YAML configs, checkpoints, resume)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="NAME_OR_PATH", help="a built-in config name or a YAML/JSON file")
    parser.add_argument(
        "--resume", metavar="CHECKPOINT", help='"latest" or a checkpoint folder to resume from'
    )
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.epilog = (
        "Any other --key value overrides a TrainingConfig field, dashed or with underscores: --learning-rate 1e-4, "
        '--per-device-batch-size 64, --model-size small, --model-config \'{"vision_config": {"num_frames": 16}}\', '
        "--init-from FOLDER, --train-clips clips.csv, --mask-ratio 0.9, --drop-path-rate 0.1, --logging-steps 10 "
        "(see --print-config); --key null clears a field the config set (--model-size null)."
    )
    accept_overrides(parser)


def accept_overrides(parser: argparse.ArgumentParser) -> None:
    """Collect the arguments `parser` does not know into ``args.overrides`` (``--key value`` pairs of a
    dataclass, checked later by `transformers.HfArgumentParser`) instead of failing on them.

    argparse cannot express "any other option" (``nargs=REMAINDER`` does not start at an option), so this
    parser keeps what `parse_known_args` leaves over; a subparser is always called through it.
    """
    parse_known_args = parser.parse_known_args

    def parse_known_args_with_overrides(args=None, namespace=None):
        namespace, extras = parse_known_args(args, namespace)
        namespace.overrides = [*getattr(namespace, "overrides", []), *extras]
        return namespace, []

    parser.set_defaults(overrides=[])
    parser.parse_known_args = parse_known_args_with_overrides


def run(args: argparse.Namespace) -> int:
    import json
    import os

    from viclip.training.config import (
        ConfigError,
        parse_training_config,
        read_config_file,
        resolve_config_path,
    )

    overrides = [arg for arg in args.overrides if arg != "--"]
    if args.resume:
        overrides += ["--resume-from", args.resume]
    try:
        values, source = {}, "config"
        if args.config:
            path = resolve_config_path(args.config)
            values, source = read_config_file(path), str(path)
        config = parse_training_config(values, overrides, source=source)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    check_run(config)

    import contextlib

    from viclip.data.run_lock import run_lock
    from viclip.training import train

    main_process = os.environ.get("RANK", "0") == "0"
    # A second `viclip train` into the folder while this one runs is refused at once (the main process holds the
    # folder's run lock; the other processes of this run write there too and do not take it).
    with run_lock(config.output_dir) if main_process else contextlib.nullcontext():
        result = train(config)
    if main_process:  # one line per run, not per process
        print(f"trained {result.step} steps; the model is in {result.final_dir}")
    return 0


def check_run(config) -> None:
    """The whole run is checked before anything is generated, built or written (exit 2, nothing written)."""
    import os

    from viclip.training.config import ConfigError
    from viclip.training.validation import validate_run

    check_output_dir(config.output_dir, "--output_dir")
    try:  # only the main process refuses an existing run: it may have started before another process looks
        validate_run(config, check_output_dir=os.environ.get("RANK", "0") == "0")
    except ConfigError as error:
        raise UsageError(str(error)) from None
