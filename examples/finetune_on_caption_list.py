"""Fine-tune a converted ViCLIP on your own captioned clips with `transformers.Trainer`, then measure retrieval.

The data is a caption list, the format `viclip evaluate retrieval`, `viclip score` and `viclip embed` read: CSV, TSV
or JSON Lines with ``path`` (relative to the list's folder, or --video-root), optional ``start_sec``/``end_sec``
and ``caption`` (a clip may have several rows, one per caption):

    path,start_sec,end_sec,caption
    videos/red.mp4,0,2,a red square moves right

`viclip.data.load_clips` streams it as training examples (random frames, RandomResizedCrop + flip, a missing or
broken video skipped and counted); `ViCLIPDataCollator` batches them with ``return_loss=True``, so `ViCLIPModel`
returns its contrastive loss. The held-out list is scored as `viclip evaluate retrieval` does (several captions per
video). The same run without Trainer: `viclip train --config finetune_clips --init-from MODEL --train-clips LIST`.

    python examples/finetune_on_caption_list.py --model path/to/viclip-b16 --train-clips my/train.csv \
        --eval-clips my/val.csv --max-steps 500 --batch-size 32 --output-dir runs/trainer-clips
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from transformers import Trainer, TrainingArguments

from viclip import ViCLIPModel
from viclip.data import SkipStats, load_clips, read_captioned_videos
from viclip.data.model_processor import load_model_processor
from viclip.evaluation import evaluate_retrieval
from viclip.hub import save_hub_folder
from viclip.inference import VideoTextEmbedder
from viclip.training import ViCLIPDataCollator, build_optimizer, trainer_precision_flags


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="converted ViCLIP folder or Hub id")
    parser.add_argument("--train-clips", required=True, help="caption list to train on (.csv, .tsv, .jsonl)")
    parser.add_argument("--eval-clips", help="held-out caption list for retrieval after training")
    parser.add_argument("--video-root", help="folder of relative video paths (default: the list's folder)")
    parser.add_argument("--output-dir", default="runs/trainer-clips")
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=4e-6, help="ViCLIP's fine-tuning stage: 4e-6")
    parser.add_argument("--weight-decay", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    torch.manual_seed(args.seed)
    model = ViCLIPModel.from_pretrained(args.model)
    processor = load_model_processor(
        args.model, model.config
    )  # the folder's frames, checked against the model
    stats = SkipStats()
    train_dataset = load_clips(
        args.train_clips, video_root=args.video_root, processor=processor, seed=args.seed, stats=stats
    )  # a stream: Trainer reshuffles its virtual shards every epoch (set_epoch)
    training_args = TrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        max_steps=args.max_steps,  # a stream has no length
        learning_rate=args.learning_rate,
        adam_beta2=0.98,
        adam_epsilon=1e-6,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, args.max_steps // 10),
        logging_steps=max(1, args.max_steps // 10),
        save_strategy="no",
        remove_unused_columns=False,  # keep the video and caption columns for the collator
        dataloader_drop_last=True,  # a contrastive batch of 1 teaches nothing
        dataloader_pin_memory=torch.cuda.is_available(),
        report_to=[],
        seed=args.seed,
        **trainer_precision_flags("auto"),
    )
    # viclip train's AdamW groups: no decay on biases, 1-D parameters, the temperature and embedding tables.
    optimizer = build_optimizer(model, args.learning_rate, (0.9, 0.98), 1e-6, args.weight_decay)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        data_collator=ViCLIPDataCollator(pad_token_id=processor.tokenizer.pad_token_id),
        optimizers=(optimizer, None),
    )
    result = trainer.train()
    skipped = {k: v for k, v in stats.counts().items() if v and k not in ("examples", "shards_done")}
    print(
        f"trained {result.global_step} steps, loss {result.training_loss:.3f}; skipped rows: {skipped or 'none'}"
    )
    final = Path(args.output_dir) / "final"
    save_hub_folder(model, processor, final, force=True)
    print(f"saved a Hub folder to {final}")
    metrics: dict = {"training_loss": result.training_loss, "skipped": skipped}
    if args.eval_clips:
        embedder = VideoTextEmbedder(model.eval(), processor)
        gallery = read_captioned_videos(args.eval_clips)
        metrics.update(evaluate_retrieval(embedder, gallery, progress=False))
        print(
            f"held-out retrieval ({metrics['num_captions']} captions, {metrics['num_videos']} videos): "
            f"text->video R@1 {metrics['t2v_R@1']:.1f}%, video->text R@1 {metrics['v2t_R@1']:.1f}%"
        )
    return metrics


if __name__ == "__main__":
    main()
    sys.exit(0)
