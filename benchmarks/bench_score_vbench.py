"""``viclip score --protocol vbench`` against VBench's own ``overall_consistency`` loop: per-video agreement and speed.

Both score the same 8 generated-style videos (H.264 with B-frames, 512x320, 16 frames at 8 fps, prompts in the file
names) with the same random ViCLIP-L/14 weights (saved as a Hub folder for us and as the original ``.pth`` for
VBench's vendored ViCLIP), fp32 on the CPU, in one run, the two sides alternating round by round (``--rounds``):

    python benchmarks/bench_score_vbench.py --vbench /path/to/site-packages --bpe bpe_simple_vocab_16e6.txt.gz \
        --rounds 3

VBench's side needs what VBench needs (decord, einops, timm); ``import clip`` (imported but unused by the two
dimensions) and ``pkg_resources`` (a version check) are stubbed when missing. Without ``--vbench`` only our side
runs (its timings and the bf16/compile variants). Both sides get their model loaded before the clock starts. Prints
per-video |diff|, our time split (video tower, text tower, the rest: decoding, transform, transfers) and the ratios.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import types
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from viclip.inference.dtype_choice import cpu_kind

PROMPTS = [
    "a cat wearing sunglasses on a beach",
    "a red car driving through snow",
    "fireworks over a city at night",
    "a panda eating bamboo, oil painting",
    "waves crashing on rocks, slow motion",
    "an astronaut riding a horse",
    "a timelapse of clouds over mountains",
    "a dog running in a park, in super slow motion",
]


def write_videos(folder: Path, frames: int = 16, size: tuple[int, int] = (512, 320)) -> list[Path]:
    import av

    width, height = size
    rng = np.random.default_rng(0)
    paths = []
    for number, prompt in enumerate(PROMPTS):
        path = folder / f"{prompt}-0.mp4"
        base = rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=8)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"x264-params": "bframes=3:keyint=8"}
            for i in range(frames):
                frame = av.VideoFrame.from_ndarray(np.roll(base, (i + number) * 6, axis=1), format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 8)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        paths.append(path)
    return paths


SMOKE_CONFIG = {
    "vision_config": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
    },
    "text_config": {
        "hidden_size": 48,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 96,
    },
    "projection_dim": 32,
}


def make_weights(folder: Path, smoke: bool = False) -> tuple[Path, Path]:
    """A seeded random L/14 (or, ``smoke``, a tiny model at the same 224 px and 14 px patches): a Hub folder and
    the same weights as the original ``{"model": state_dict}`` file."""
    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor, to_original_state_dict

    torch.manual_seed(0)
    config = ViCLIPConfig(**SMOKE_CONFIG) if smoke else ViCLIPConfig()
    model = ViCLIPModel(config).eval()
    hub = folder / "viclip-l14"
    model.save_pretrained(hub)
    ViCLIPProcessor().save_pretrained(hub)
    original = folder / "ViClip-random.pth"
    torch.save({"model": to_original_state_dict(model.state_dict(), config)}, original)
    return hub, original


def _stub_missing(name: str, **attributes) -> None:
    try:
        importlib.import_module(name)
    except ImportError:
        sys.modules[name] = types.SimpleNamespace(**attributes)


def vbench_loop(vbench_path: str, bpe: Path, original: Path, videos: list[Path]) -> Callable[[], tuple]:
    """VBench's ``overall_consistency`` loop on ``videos`` with its model built now: a function that runs one
    round and returns its scores and seconds. Each round encodes its texts again, as ours does: VBench's text
    cache (a mutable default argument) would otherwise keep them from the previous round."""
    sys.path.insert(0, vbench_path)
    import packaging.version

    _stub_missing("clip")
    _stub_missing("pkg_resources", packaging=packaging)
    from vbench import overall_consistency as module
    from vbench.third_party.ViCLIP.simple_tokenizer import SimpleTokenizer
    from vbench.third_party.ViCLIP.viclip import ViCLIP
    from vbench.utils import CACHE_DIR

    # VBench's text encoder builds a second tokenizer from its cache folder, where VBench downloads the file.
    cached = Path(CACHE_DIR) / "ViCLIP" / "bpe_simple_vocab_16e6.txt.gz"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bpe, cached)
    tokenizer = SimpleTokenizer(str(bpe))
    model = ViCLIP(tokenizer=tokenizer, pretrain=str(original)).eval()
    video_dict = [{"prompt": p, "video_list": [str(v)]} for p, v in zip(PROMPTS, videos)]

    def run_round() -> tuple[list[float], float]:
        module.get_text_features.__defaults__[0].clear()
        start = time.perf_counter()
        _, results = module.overall_consistency(model, video_dict, tokenizer, "cpu")
        return [r["video_results"] for r in results], time.perf_counter() - start

    return run_round


def our_scores(
    model, processor, videos: list[Path], dtype: str, optimize: str | None, batch_size: int = 8
) -> dict:
    """``viclip score --protocol vbench``'s scorer on the loaded model (as VBench's loop gets it): scores, seconds
    in all, of the text tower and of the video tower (the rest is decoding, the transform and transfers)."""
    from viclip.inference import EngineSettings
    from viclip.processing import VideoClip
    from viclip.scoring import Scorer, ScoringRow

    rows = [ScoringRow(VideoClip(str(v)), p) for p, v in zip(PROMPTS, videos)]
    engine = EngineSettings(runner="local", batch_size=batch_size)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    scorer = Scorer(
        model, processor=processor, protocol="vbench", engine=engine, dtype=dtype, optimize=optimize
    )
    scorer.text_features(PROMPTS)
    text = time.perf_counter() - start
    scores = [0.0] * len(rows)
    for scored in scorer.iter_scores(rows, timings):
        scores[scored.index] = scored.score
    total = time.perf_counter() - start
    return {"scores": scores, "seconds": total, "text": text, "video_tower": timings["model_sec"]}


def _report(name: str, run: dict, reference: dict | None = None) -> None:
    rest = run["seconds"] - run["text"] - run["video_tower"]
    line = (
        f"{name}: {run['seconds']:.2f} s for {len(run['scores'])} videos (video tower {run['video_tower']:.2f} s "
        f"{run['video_tower'] / run['seconds']:.0%}, text {run['text']:.2f} s {run['text'] / run['seconds']:.0%}, "
        f"decode + transform + rest {rest:.2f} s {rest / run['seconds']:.0%})"
    )
    if reference is not None:
        worst = max(abs(a - b) for a, b in zip(run["scores"], reference["scores"]))
        line += f"; {reference['seconds'] / run['seconds']:.2f}x fp32, largest |score - fp32| {worst:.2e}"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vbench", default=None, help="the folder from which `import vbench` works")
    parser.add_argument(
        "--bpe",
        type=Path,
        default=Path.home() / ".cache/vbench/ViCLIP/bpe_simple_vocab_16e6.txt.gz",
        help="CLIP's bpe_simple_vocab_16e6.txt.gz for VBench's tokenizer (VBench downloads it to this default)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="timed fp32 rounds of each side, alternating (median)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=8, help="our videos per forward pass (viclip's default 8)"
    )
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the bf16 + --optimize compile variant"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny model, our side only: checks the script runs"
    )
    args = parser.parse_args()
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    if args.smoke:
        args.vbench = None
    if args.vbench is not None and not args.bpe.is_file():
        parser.error(f"--bpe {args.bpe} does not exist: VBench's tokenizer needs CLIP's BPE file")
    from viclip import ViCLIPModel, ViCLIPProcessor

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        videos = write_videos(tmp)
        hub, original = make_weights(tmp, args.smoke)
        model, processor = ViCLIPModel.from_pretrained(hub).eval(), ViCLIPProcessor.from_pretrained(hub)
        theirs_round = None
        if args.vbench is not None:
            theirs_round = vbench_loop(args.vbench, args.bpe, original, videos)
        # The two sides alternate round by round, each going first in turn, so that a slower stretch of a shared
        # machine does not land on one side only.
        runs, theirs_runs = [], []
        for round_number in range(args.rounds):
            ours_first = round_number % 2 == 0
            if theirs_round is not None and not ours_first:
                theirs_runs.append(theirs_round())
            runs.append(our_scores(model, processor, videos, "float32", None, args.batch_size))
            if theirs_round is not None and ours_first:
                theirs_runs.append(theirs_round())
        # The median round, whole (its total and its own split); an even count takes the slower middle one.
        fp32 = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
        _report("viclip score --protocol vbench, fp32", fp32)
        bf16 = our_scores(model, processor, videos, "bfloat16", None, args.batch_size)
        _report("  --dtype bfloat16", bf16, fp32)
        if not args.no_compile:
            _report(
                "  --dtype bfloat16 --optimize compile (compiling included: each job compiles once)",
                our_scores(model, processor, videos, "bfloat16", "compile", args.batch_size),
                fp32,
            )
        if theirs_round is None:
            print("VBench's side skipped: pass --vbench PATH (the folder from which `import vbench` works)")
            return
        theirs = theirs_runs[0][0]
        theirs_sec = sorted(seconds for _, seconds in theirs_runs)[len(theirs_runs) // 2]
        diffs = [abs(a - b) for a, b in zip(fp32["scores"], theirs)]
        print(f"VBench overall_consistency loop (fp32): {theirs_sec:.2f} s for {len(videos)} videos")
        if args.rounds > 1:
            print(
                "  rounds (ours / VBench's, s): "
                + ", ".join(f"{run['seconds']:.1f} / {sec:.1f}" for run, (_, sec) in zip(runs, theirs_runs))
            )
        print(f"  per-video |ours - VBench|: max {max(diffs):.2e}, mean {np.mean(diffs):.2e}")
        print(
            f"  speed: fp32 {theirs_sec / fp32['seconds']:.2f}x, bf16 {theirs_sec / bf16['seconds']:.2f}x VBench's loop"
        )


if __name__ == "__main__":
    main()
