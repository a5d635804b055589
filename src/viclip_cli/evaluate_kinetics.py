"""Kinetics-400/600/700 zero-shot action recognition, the ViCLIP paper's protocol (Table 1): top-1, top-5, AVG.

Data: the official annotation CSV (label,youtube_id,time_start,time_end,split) and a folder of videos in any
of the usual layouts: trimmed clips {youtube_id}_{start:06d}_{end:06d}.mp4 (flat or one folder per class, any
video extension), or whole videos {youtube_id}.mp4 read from time_start to time_end. Videos that are missing
or cannot be decoded are skipped, counted and listed; the output says what fraction of the split was evaluated.

Protocol (as the original InternVideo1/Pretrain/ViCLIP evaluation):
  frames         8 per video, one clip: 8 equal segments, the middle frame of each ("middle" sampling of
                 dataset/video_utils.py); ViCLIP models use their config's num_frames
  resize         straight to (224, 224) (the model's image size), bicubic, no antialias, no crop
  normalisation  ViCLIP: ImageNet mean/std; CLIP models: their own mean/std (the original create_dataset
                 chooses CLIP's for a "clip" encoder)
  texts          each class name in the 16 ActionCLIP templates, cleaned with pre_text (lowercase,
                 punctuation removed); a class scores the MEAN of the cosine similarities over templates
  metrics        top-1 and top-5 of the true class among all classes; AVG = (top-1 + top-5) / 2; overall and
                 per class (and the mean per-class top-1); ties count against the video
Deliberate differences: frames are decoded with PyAV (the original used decord), only the sampled frames;
float32 by default (the paper ran bf16 autocast: --dtype bfloat16); the class list is the official one
(--classes), not the set of labels present in the CSV.

--model takes a ViCLIP folder/Hub id or any transformers CLIPModel (e.g. openai/clip-vit-large-patch14): each
sampled frame is embedded and the L2-normalised frame embeddings are averaged (the pooling is written in the
results). The results JSON holds the protocol, the metrics, the missing videos and the model revision.
"""

from __future__ import annotations

import argparse

from ._benchmark import add_data_arguments, add_run_arguments
from .base import UsageError
from .options import add_model_arguments, require_file

EXTRA = "eval"
HELP = "Kinetics-400/600/700 zero-shot top-1/top-5/AVG, the paper's protocol (ViCLIP or CLIP models)"
EPILOG = (
    "example: viclip evaluate kinetics --annotations k400/annotations/val.csv --video-root k400/val "
    "--model ./viclip-l14 --classes 400 --output k400.json --plot k400_per_class.png"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    data = add_data_arguments(
        parser,
        "--annotations",
        "official Kinetics CSV, e.g. validate.csv",
        "folder holding the videos (searched recursively)",
    )
    data.add_argument(
        "--classes",
        metavar="400|600|700|FILE",
        help="the class list: 400, 600, 700 (the packaged official names) or a file with one name per line "
        "(default: the smallest official list holding every label of the CSV)",
    )
    add_model_arguments(parser)
    add_run_arguments(parser, plot=True)


def run(args: argparse.Namespace) -> int:
    from ._benchmark import checked_inputs, run_benchmark

    annotations, video_root = checked_inputs(args, "--annotations")

    from viclip.evaluation.benchmarks import (
        evaluate_kinetics,
        guess_kinetics_variant,
        kinetics_class_names,
        plot_per_class_accuracy,
        read_kinetics_csv,
    )

    rows = read_kinetics_csv(annotations)
    classes = args.classes
    if classes is None:
        classes = guess_kinetics_variant([row.label for row in rows])
        if classes is None:
            raise UsageError(
                f"the labels of {str(annotations)!r} are not all in the Kinetics-400, -600 or -700 class lists; "
                "give the class list with --classes FILE"
            )
    elif classes not in {"400", "600", "700"}:
        require_file(classes, "--classes")
    class_names = kinetics_class_names(classes)
    return run_benchmark(
        args,
        lambda embedder, **run: evaluate_kinetics(embedder, rows, video_root, class_names, **run),
        data={"annotations": str(annotations), "video_root": str(video_root), "classes": str(classes)},
        plot=plot_per_class_accuracy,
    )
