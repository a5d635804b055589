"""MSR-VTT 1k-A zero-shot text-video retrieval, the ViCLIP paper's protocol: R@1/5/10, MdR, MnR, both directions,
plain and with the original dual-softmax re-ranking, side by side.

Data: MSRVTT_JSFUSION_test.csv (key,vid_key,video_id,sentence; 1000 captions, one per video) and a folder with
the videos named {video_id}.mp4 (any video extension, searched recursively). Videos that are missing or cannot be
decoded leave the gallery with their captions, are counted and listed; the output says what fraction of the
1000 videos the numbers cover (a smaller gallery makes retrieval easier: compare only complete runs).

Protocol (as the original InternVideo1/Pretrain/ViCLIP evaluation_video_clip):
  frames         8 per video, the whole video in 8 equal segments, the middle frame of each ("middle")
  resize         straight to (224, 224) (the model's image size), bicubic, no antialias, no crop
  normalisation  ViCLIP: ImageNet mean/std; CLIP models: their own mean/std
  texts          each caption cleaned with pre_text (lowercase, punctuation removed)
  scores         cosine similarity of the L2-normalised embeddings (get_sim with temp=1)
  dual softmax   scores * scores.softmax(dim=0), the softmax over the queries of each direction, on the raw
                 cosine similarities, exactly as the original (no temperature; CAMoE's x100 is NOT applied)
  metrics        R@K in percent, median (MdR) and mean (MnR) rank; ties count against the query
Deliberate differences: PyAV decoding (the original used decord); float32 by default (the paper ran bf16
autocast: --dtype bfloat16); MdR/MnR are added (the original reports R@K only).

--model takes a ViCLIP folder/Hub id or any transformers CLIPModel (frames embedded one by one, the L2-normalised
frame embeddings averaged). The results JSON holds the protocol, both metric sets, the missing videos and the
model revision.
"""

from __future__ import annotations

import argparse

from ._benchmark import add_data_arguments, add_run_arguments
from .options import add_model_arguments

EXTRA = "eval"
HELP = "MSR-VTT 1k-A retrieval R@1/5/10, MdR, MnR with and without dual softmax (ViCLIP or CLIP models)"
EPILOG = (
    "example: viclip evaluate msrvtt --csv MSRVTT_JSFUSION_test.csv --video-root MSRVTT/videos/all "
    "--model ./viclip-l14 --output msrvtt.json"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    add_data_arguments(
        parser,
        "--csv",
        "MSRVTT_JSFUSION_test.csv (the 1k-A split)",
        "folder holding video{N}.mp4 (searched recursively)",
    )
    add_model_arguments(parser)
    add_run_arguments(parser, plot=False)


def run(args: argparse.Namespace) -> int:
    from ._benchmark import checked_inputs, run_benchmark

    listing, video_root = checked_inputs(args, "--csv")

    from viclip.evaluation.benchmarks import evaluate_msrvtt, read_msrvtt_csv

    pairs = read_msrvtt_csv(listing)
    return run_benchmark(
        args,
        lambda embedder, **run: evaluate_msrvtt(embedder, pairs, video_root, **run),
        data={"csv": str(listing), "video_root": str(video_root)},
    )
