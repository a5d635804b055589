"""Run by test_resume.py: a deterministic tiny training run that records the rows of every batch.

    resume_run.py OUT_DIR RECORD_FILE [--kill-after-save STEP] [--resume]

With ``--kill-after-save`` the process SIGKILLs itself right after writing that step's checkpoint.
"""

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[2])]
from tiny_data import REGULARISATION, tiny_model, tiny_stream, tiny_train_config  # noqa: E402

from viclip.training import (  # noqa: E402
    ViCLIPDataCollator,
    checkpointing,
    train,
)


class RecordingCollator(ViCLIPDataCollator):
    def __init__(self, record: Path):
        super().__init__(return_loss=False)
        self.record = record

    def __call__(self, examples):
        with open(self.record, "a") as f:
            f.write(json.dumps([int(e["row"]) for e in examples]) + "\n")
        return super().__call__(examples)


def run_config(out_dir: Path, resume: bool):
    return tiny_train_config(
        out_dir, max_steps=5, save_steps=2, save_total_limit=1, gradient_accumulation_steps=2,
        per_device_batch_size=3, resume_from="latest" if resume else None, learning_rate=5e-4,
    )  # fmt: skip


def run(out_dir: Path, record: Path, resume: bool = False) -> None:
    train(
        run_config(out_dir, resume),
        model=tiny_model(seed=1, **REGULARISATION),
        train_dataset=tiny_stream(14, num_shards=2),
        collate_fn=RecordingCollator(record),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("record", type=Path)
    parser.add_argument("--kill-after-save", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.kill_after_save:
        save = checkpointing.CheckpointManager.save

        def save_then_die(self, accelerator, step, state):
            path = save(self, accelerator, step, state)
            if step == args.kill_after_save:
                os.kill(os.getpid(), signal.SIGKILL)
            return path

        checkpointing.CheckpointManager.save = save_then_die
    run(args.out_dir, args.record, args.resume)


if __name__ == "__main__":
    main()
