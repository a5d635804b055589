"""Score (video, text) pairs with ViCLIP: VBench's consistency dimensions exactly, or captioned clips for curation.

--protocol vbench reproduces VBench 0.1.5's overall_consistency / temporal_style (its frames, transform and raw
cosine) and writes OUTPUT_PATH/NAME_eval_results.json in VBench's layout. Inputs as VBench: --videos-path (a video or
a folder; the prompt is the file name without "-<n>", or --prompt / --prompt-file), or --full-info with VBench's
standard prompt JSON.

--protocol viclip (the default) scores a clip list with a text or caption column (or InternVid rows with
--video-root) with the paper's evaluation preprocessing; --output-dir writes every input column plus viclip_score as
a Parquet dataset (resumable; --min-score keeps the rows at or above it), and the summary prints the distribution.
Next to the raw cosine it gives viclip_percentile, the share of reference captions (--reference-captions: the packaged
set, a file, or 'self', other captions of the input) whose cosine with the clip is lower; --min-percentile keeps rows
at or above it. --protocol vbench reproduces VBench's raw cosine only and refuses the percentile flags.
"""

from __future__ import annotations

import argparse
import sys

from .base import CommandError, UsageError
from .options import (
    add_decode_limit_arguments,
    add_engine_arguments,
    add_model_arguments,
    add_quiet_argument,
    check_model_reference,
    check_output_dir,
    check_output_file,
    engine_options,
    resolve_device,
)

EXTRA = None
# --output-dir writes Parquet (pyarrow), --plot draws with matplotlib: only those runs need them.
FLAG_EXTRAS = {"output_dir": ("data", ("pyarrow",)), "plot": ("eval", ("matplotlib",))}
HELP = "score (video, text) pairs: VBench's ViCLIP dimensions exactly, or captioned clips for curation"
EPILOG = (
    "examples: viclip score --protocol vbench --videos-path videos/ --model ./ViCLIP-L-14 --output-path out --name run1\n"
    "          viclip score --protocol vbench --full-info VBench_full_info.json --videos-path videos/ "
    "--dimension temporal_style --model DIR --output-path out --name run1\n"
    "          viclip score --inputs clips.csv --model DIR --output-dir scored/ --min-score 0.25 --plot scores.png\n"
    "          viclip score --inputs clips.csv --model DIR --output-dir kept/ --reference-captions self "
    "--min-percentile 0.9"
)
DIMENSIONS = ("overall_consistency", "temporal_style")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "--protocol", choices=["viclip", "vbench"], default="viclip", help="(default: viclip)"
    )
    vbench = parser.add_argument_group("vbench protocol")
    vbench.add_argument("--videos-path", default=None, metavar="PATH", help="a video or a folder of videos")
    vbench.add_argument("--prompt", default=None, help="the prompt of the one video of --videos-path")
    vbench.add_argument("--prompt-file", default=None, metavar="JSON", help="{video file name: prompt}")
    vbench.add_argument("--full-info", default=None, metavar="JSON", help="VBench's full-info prompt list")
    vbench.add_argument("--dimension", default="overall_consistency", help=f"one of {', '.join(DIMENSIONS)}")
    vbench.add_argument(
        "--output-path", default=None, metavar="DIR", help="where NAME_eval_results.json goes"
    )
    vbench.add_argument("--name", default="results", help="the results file's prefix (default: results)")
    pairs = parser.add_argument_group("viclip protocol")
    pairs.add_argument(
        "--inputs",
        default=None,
        metavar="LIST",
        help="a clip list with a text/caption column, InternVid rows, or a `viclip prepare` folder",
    )
    pairs.add_argument("--video-root", default=None, metavar="DIR", help="base folder of the list's videos")
    pairs.add_argument(
        "--output-dir", default=None, metavar="DIR", help="a Parquet dataset of the scored rows"
    )
    pairs.add_argument("--min-score", type=float, default=None, help="keep only rows scoring at least this")
    pairs.add_argument(
        "--min-percentile",
        type=float,
        default=None,
        metavar="P",
        help="keep only rows whose viclip_percentile (0 to 1) is at least P",
    )
    pairs.add_argument(
        "--reference-captions",
        default="default",
        metavar="FILE|self|default",
        help="what viclip_percentile ranks a caption against: the packaged ~1,000 captions (default), a file "
        "(one caption per line, or a list's text/caption column), or 'self' (other captions of --inputs)",
    )
    pairs.add_argument(
        "--reference-size",
        type=int,
        default=1000,
        metavar="N",
        help="with --reference-captions self: N other captions per row (default: 1000)",
    )
    pairs.add_argument(
        "--reference-seed",
        type=int,
        default=0,
        help="with --reference-captions self: the sampling seed (default: 0)",
    )
    pairs.add_argument("--plot", default=None, metavar="PNG", help="histograms of the scores and percentiles")
    add_model_arguments(parser)
    add_engine_arguments(parser)
    add_decode_limit_arguments(parser)
    add_quiet_argument(parser)


def _engine(args: argparse.Namespace, num_clips: int):
    """The engine settings for ``num_clips`` clips (``--engine auto`` chooses) and the choice, with its reason."""
    from viclip.inference.engine_choice import choose_engine_settings

    options = engine_options(args)
    requested = options.pop("engine")
    return choose_engine_settings(requested, **options, batch_size=args.batch_size, num_clips=num_clips)


def _check(args: argparse.Namespace) -> None:
    from pathlib import Path

    for flag in ("inputs", "videos_path", "prompt_file", "full_info", "video_root"):
        value = getattr(args, flag)
        if value is not None and not Path(value).exists():
            raise UsageError(f"--{flag.replace('_', '-')} {value!r} does not exist")
    check_model_reference(args.model)
    if args.protocol == "vbench":
        given = [
            f
            for f in ("inputs", "output_dir", "min_score", "min_percentile", "video_root")
            if getattr(args, f) is not None
        ]
        if given:
            raise UsageError(
                f"--{given[0].replace('_', '-')} is for --protocol viclip; vbench takes --videos-path"
            )
        if args.reference_captions != "default":
            raise UsageError(
                "--reference-captions is for --protocol viclip: vbench reproduces VBench's raw cosine, which has "
                "no percentile"
            )
        if args.videos_path is None:
            raise UsageError("--protocol vbench needs --videos-path")
        if args.dimension not in DIMENSIONS:
            raise UsageError(
                f"VBench computes {' and '.join(DIMENSIONS)} with ViCLIP, not --dimension {args.dimension!r}"
            )
        if args.full_info is not None and (args.prompt is not None or args.prompt_file is not None):
            raise UsageError("--full-info names the prompts: drop --prompt/--prompt-file")
        if args.output_path is not None:
            check_output_dir(args.output_path, "--output-path")
    else:
        given = [
            f
            for f in ("videos_path", "prompt", "prompt_file", "full_info", "output_path")
            if getattr(args, f)
        ]
        if given:
            raise UsageError(f"--{given[0].replace('_', '-')} is for --protocol vbench")
        if args.inputs is None:
            raise UsageError("--protocol viclip needs --inputs (a clip list with a text or caption column)")
        if args.output_dir is not None:
            check_output_dir(args.output_dir)
        for flag in ("min_score", "min_percentile"):
            if getattr(args, flag) is not None and args.output_dir is None:
                raise UsageError(
                    f"--{flag.replace('_', '-')} selects rows for --output-dir: give --output-dir"
                )
        if args.min_percentile is not None and not 0.0 <= args.min_percentile <= 1.0:
            raise UsageError(f"--min-percentile must be between 0 and 1, got {args.min_percentile}")
        if args.reference_captions not in ("default", "self") and not Path(args.reference_captions).is_file():
            raise UsageError(
                f"--reference-captions {args.reference_captions!r}: no such file (or give 'default' or 'self')"
            )
        if args.reference_size < 10:
            raise UsageError(f"--reference-size must be at least 10, got {args.reference_size}")
    check_output_file(args.plot, "--plot")


def run(args: argparse.Namespace) -> int:
    _check(args)
    engine_options(args)  # the engine flags checked before any work
    device = resolve_device(args.device) if args.device is not None and not args.ray_address else args.device
    optimize = None if args.optimize == "none" else args.optimize
    if args.protocol == "vbench":
        return _run_vbench(args, device, optimize)
    return _run_pairs(args, device, optimize)


def _warn(args: argparse.Namespace, failures) -> None:
    for failure in failures:
        print(f"{args._prog}: warning: skipped {failure.describe()}: {failure.error}", file=sys.stderr)


def _limits(args: argparse.Namespace) -> dict:
    return {"decode_timeout": args.decode_timeout, "max_pixels": args.max_pixels}


def _reference(args: argparse.Namespace) -> dict:
    return {
        "reference": args.reference_captions,
        "reference_size": args.reference_size,
        "reference_seed": args.reference_seed,
    }


def _run_vbench(args, device, optimize) -> int:
    from viclip.processing import VideoClip
    from viclip.scoring import ScoringRow, custom_inputs, full_info_inputs, score_pairs
    from viclip.scoring.vbench import vbench_results, write_vbench_results

    if args.full_info is not None:
        videos = full_info_inputs(args.full_info, args.videos_path, args.dimension)
    else:
        videos = custom_inputs(args.videos_path, args.prompt, args.prompt_file)
    rows = [ScoringRow(VideoClip(v.path), v.prompt) for v in videos]
    engine, choice = _engine(args, len(rows))
    result = score_pairs(
        rows,
        args.model,
        protocol="vbench",
        engine=engine,
        dtype="float32" if args.dtype == "auto" else args.dtype,  # VBench's numbers: float32 unless asked
        device=device,
        optimize=optimize,
        progress=not args.quiet,
        reference=None,  # VBench's numbers are raw cosines
        **_limits(args),
    )
    _warn(args, result.failures)
    scored = [(row.clip.path, score) for row, score in zip(rows, result.scores) if score is not None]
    if not scored:
        raise CommandError(f"no video of {args.videos_path} could be scored ({len(rows)} failed)")
    results = vbench_results(args.dimension, scored)
    print(f"{args.dimension}: {results[args.dimension][0]:.6f} ({result.summary()})\n{choice.summary()}")
    if args.output_path is not None:
        print(f"-> {write_vbench_results(args.output_path, args.name, results)}")
    return 0


def _run_pairs(args, device, optimize) -> int:
    import numpy as np

    from viclip.scoring import read_scoring_inputs

    read = read_scoring_inputs(args.inputs, args.video_root)
    engine, choice = _engine(args, len({row.clip for row in read.rows}))
    if args.output_dir is not None:
        from viclip.scoring import score_to_folder

        result = score_to_folder(
            read,
            args.model,
            args.output_dir,
            min_score=args.min_score,
            min_percentile=args.min_percentile,
            engine=engine,
            dtype=args.dtype,
            device=device,
            optimize=optimize,
            progress=not args.quiet,
            **_limits(args),
            **_reference(args),
        )
        scores, failures, summary = result.scores, result.failures, result.summary()
        percentiles = result.percentiles
    else:
        from viclip.scoring import score_pairs

        result = score_pairs(
            read.rows,
            args.model,
            engine=engine,
            dtype=args.dtype,
            device=device,
            optimize=optimize,
            progress=not args.quiet,
            prepared_files=read.prepared_files,
            **_limits(args),
            **_reference(args),
        )
        scores = [s for s in result.scores if s is not None]
        percentiles = [p for p in result.percentiles if p is not None]
        failures = [*result.failures]
        for where, reason in read.unmatched:
            print(f"{args._prog}: warning: skipped {where}: {reason}", file=sys.stderr)
        summary = result.summary()
    _warn(args, failures)
    from viclip.inference.dtype_choice import choose_dtype

    # The Scorer's own choice (the same function of the same arguments), said with its reason.
    print(f"{summary}\n{choice.summary()}\n{choose_dtype(args.dtype, device, optimize=optimize).summary()}")
    if not scores and failures:
        raise CommandError("no pair could be scored")
    if args.plot is not None and scores:
        print(f"-> {plot_histogram(np.asarray(scores), args.plot, np.asarray(percentiles))}")
    return 0


def plot_histogram(scores, path: str, percentiles=None) -> str:
    """Histograms of the raw scores and, when given, of the percentiles side by side."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(scores, "viclip_score (cosine)", "#3b6ea5")]
    if percentiles is not None and len(percentiles):
        panels.append((percentiles, "viclip_percentile (share of reference captions below)", "#c2603a"))
    figure, axes_list = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4), squeeze=False)
    for axes, (values, label, color) in zip(axes_list[0], panels):
        axes.hist(values, bins=min(50, max(10, len(values) // 5)), color=color)
        axes.axvline(float(np.median(values)), color="k", ls="--", label="median")
        axes.set_xlabel(label)
        axes.set_ylabel("pairs")
        axes.set_title(f"{len(values)} scored pairs")
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
