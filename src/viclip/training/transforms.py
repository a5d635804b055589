"""Training-example transforms beyond `viclip.data.ViCLIPExampleTransform`."""

from __future__ import annotations

from typing import Any

from ..data import ViCLIPExampleTransform


class RandomFramesTransform(ViCLIPExampleTransform):
    """Training frame sampling without crop/flip: a flip would turn "moves to the left" into a lie."""

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        clip = {"path": row["video_path"], "start_sec": row["clip_start_sec"], "end_sec": row["clip_end_sec"]}
        pixel_values = self.processor.video_processor(
            clip,
            sampling="random",
            do_train_augmentation=False,
            seed=self._example_seed(row["row_index"]),
            num_threads=self.decode_threads,
            return_tensors="pt",
        )["pixel_values_videos"][0]
        text = self.processor(text=row["caption"], return_tensors="pt")
        return {
            "pixel_values_videos": pixel_values,
            "input_ids": text["input_ids"][0],
            "attention_mask": text["attention_mask"][0],
            "caption": row["caption"],
        }
