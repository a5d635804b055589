"""Fine-tune ViCLIP with `transformers.Trainer` on an InternVid-format captioned set.

`ViCLIPModel` is used unchanged: `ViCLIPDataCollator` stacks the videos, pads the texts and sets
``return_loss=True``, so the model returns its contrastive loss (within each device's batch; the
Accelerate loop, `viclip train`, gathers over devices). Keep ``remove_unused_columns=False``.

    python examples/finetune_with_trainer.py --model path/to/viclip-b16 \
        --annotations data/train.jsonl --video-root data/videos --out runs/trainer-finetune

Without --model and data it trains a small ViCLIP on generated synthetic moving shapes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from transformers import Trainer, TrainingArguments

from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor
from viclip.data import generate_synthetic_internvid, load_internvid
from viclip.training import ViCLIPDataCollator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="converted ViCLIP folder or Hub id (default: a small random ViCLIP)")
    parser.add_argument("--annotations", help="InternVid-format JSON Lines (default: synthetic data)")
    parser.add_argument("--video-root")
    parser.add_argument("--out", default="runs/trainer-finetune")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    args = parser.parse_args(argv)

    if args.model:
        model = ViCLIPModel.from_pretrained(args.model)
        processor = ViCLIPProcessor.from_pretrained(args.model)
    else:
        config = ViCLIPConfig.from_preset(
            "viclip-b16",
            vision_config={"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 2,
                           "num_attention_heads": 4, "image_size": 64, "patch_size": 16},
            text_config={"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4},
            projection_dim=64,
            logit_scale_init_value=2.6593,
        )  # fmt: skip
        model = ViCLIPModel(config)
        processor = ViCLIPProcessor.for_model(image_size=64, num_frames=8)
        args.learning_rate = max(args.learning_rate, 5e-4)
    if args.annotations is None:
        synthetic = generate_synthetic_internvid(tempfile.mkdtemp(prefix="viclip-synthetic-"), num_videos=8)
        args.annotations, args.video_root = str(synthetic.annotations), str(synthetic.video_dir)
    vision = model.config.vision_config
    train_dataset = load_internvid(
        data_files=args.annotations,
        video_root=args.video_root,
        processor=processor,
        num_frames=vision.num_frames,
        image_size=vision.image_size,
        streaming=False,  # map-style: Trainer knows its length; failed decodes are dropped below
    )
    collator = ViCLIPDataCollator(pad_token_id=processor.tokenizer.pad_token_id)

    def collate(examples):
        return collator([e for e in examples if e.get("pixel_values_videos") is not None])

    training_args = TrainingArguments(
        output_dir=args.out,
        per_device_train_batch_size=args.batch_size,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        weight_decay=0.2,
        adam_beta2=0.98,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, args.max_steps // 10),
        logging_steps=5,
        save_strategy="no",
        remove_unused_columns=False,  # keep the video and caption columns for the collator
        report_to=[],
        bf16=False,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        data_collator=collate,
        processing_class=processor,
    )
    trainer.train()
    trainer.save_model(args.out)  # model + processor: AutoModel / AutoProcessor.from_pretrained(args.out)
    print(f"saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
