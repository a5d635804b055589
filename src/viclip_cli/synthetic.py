"""Generate a synthetic InternVid: small h264 videos of moving coloured shapes with InternVid-format annotations.

Each source video is cut into clips; in each clip one shape crosses the frame in one direction, and its caption
says so ("a red circle moves to the left"). Everything is seeded and deterministic. Python API:
viclip.data.generate_synthetic_internvid.
"""

from __future__ import annotations

import argparse

from .options import add_quiet_argument, check_output_dir, positive_int

EXTRA = None
HELP = "generate synthetic InternVid-format videos and annotations"
EPILOG = "example: viclip synthetic --output-dir data/ --num-videos 32 --size 64"


def parse_video_size(text: str) -> int | tuple[int, int]:
    try:
        if "x" in text.lower():
            width, height = text.lower().split("x")
            return int(width), int(height)
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size must be N or WxH (e.g. 64 or 1280x720), got {text!r}"
        ) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "--output-dir", required=True, help="folder to write videos/ and annotations.jsonl into"
    )
    parser.add_argument("--num-videos", type=positive_int, default=8, help="source videos (default: 8)")
    parser.add_argument(
        "--clips-per-video", type=positive_int, default=4, help="clips per video (default: 4)"
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each source video (default: 4)")
    parser.add_argument(
        "--size", type=parse_video_size, default=64, help="N or WxH, e.g. 64 or 1280x720 (default: 64)"
    )
    parser.add_argument("--fps", type=float, default=8.0, help="frames per second (default: 8)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--held-out-videos", type=int, default=0, help="videos written to held_out.jsonl instead (default: 0)"
    )
    parser.add_argument(
        "--precut", action="store_true", help="write one file per clip instead of whole videos"
    )
    parser.add_argument(
        "--keyframe-interval", type=float, default=2.0, help="seconds between keyframes (default: 2)"
    )
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from viclip.data.synthetic import generate_synthetic_internvid

    result = generate_synthetic_internvid(
        check_output_dir(args.output_dir),
        num_videos=args.num_videos,
        clips_per_video=args.clips_per_video,
        seconds=args.seconds,
        size=args.size,
        fps=args.fps,
        seed=args.seed,
        held_out_videos=args.held_out_videos,
        precut=args.precut,
        keyframe_interval=args.keyframe_interval,
        progress=not args.quiet,
    )
    print(f"wrote {len(result.video_paths)} videos to {result.video_dir}")
    print(f"wrote {result.num_clips} annotations to {result.annotations}")
    if result.held_out_annotations:
        print(f"wrote {result.num_held_out_clips} held-out annotations to {result.held_out_annotations}")
    return 0
