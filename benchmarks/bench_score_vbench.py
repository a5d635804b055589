"""``viclip score --protocol vbench`` against VBench's own ``overall_consistency`` loop: per-video agreement and speed.

Both score the same 8 generated-style videos (H.264 with B-frames, 512x320, 16 frames at 8 fps, prompts in the file
names) with the same random ViCLIP-L/14 weights (saved as a Hub folder for us and as the original ``.pth`` for
VBench's vendored ViCLIP), fp32 on the CPU, in one run:

    python benchmarks/bench_score_vbench.py --vbench /path/to/site-packages   # where `import vbench` finds it

VBench's side needs what VBench needs (decord, einops, timm); ``import clip`` (imported but unused by the two
dimensions) and ``pkg_resources`` (a version check) are stubbed when missing. Without ``--vbench`` only our side
runs (its timings and the bf16/compile variants). Prints per-video |diff|, the time split (decoding and transform vs
model vs text) and the speed ratios.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
import types
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

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


def make_weights(folder: Path) -> tuple[Path, Path]:
    """A seeded random L/14: a Hub folder and the same weights as the original ``{"model": state_dict}`` file."""
    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor, to_original_state_dict

    torch.manual_seed(0)
    config = ViCLIPConfig()
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


def vbench_scores(vbench_path: str, original: Path, videos: list[Path]) -> tuple[list[float], float]:
    """VBench's ``overall_consistency`` loop on ``videos``: per-video scores and seconds."""
    sys.path.insert(0, vbench_path)
    import packaging.version

    _stub_missing("clip")
    _stub_missing("pkg_resources", packaging=packaging)
    from vbench.overall_consistency import overall_consistency
    from vbench.third_party.ViCLIP.simple_tokenizer import SimpleTokenizer
    from vbench.third_party.ViCLIP.viclip import ViCLIP

    bpe = (
        Path(importlib.import_module("vbench.third_party.ViCLIP").__file__).parent
        / "bpe_simple_vocab_16e6.txt.gz"
    )
    tokenizer = SimpleTokenizer(str(bpe)) if bpe.is_file() else SimpleTokenizer()
    model = ViCLIP(tokenizer=tokenizer, pretrain=str(original)).eval()
    video_dict = [{"prompt": p, "video_list": [str(v)]} for p, v in zip(PROMPTS, videos)]
    start = time.perf_counter()
    _, results = overall_consistency(model, video_dict, tokenizer, "cpu")
    return [r["video_results"] for r in results], time.perf_counter() - start


def our_scores(hub: Path, videos: list[Path], dtype: str, optimize: str | None) -> tuple[list[float], float]:
    from viclip.inference import EngineSettings
    from viclip.processing import VideoClip
    from viclip.scoring import ScoringRow, score_pairs

    rows = [ScoringRow(VideoClip(str(v)), p) for p, v in zip(PROMPTS, videos)]
    engine = EngineSettings(runner="local", batch_size=8)
    start = time.perf_counter()
    result = score_pairs(
        rows, str(hub), protocol="vbench", engine=engine, dtype=dtype, optimize=optimize, progress=False
    )
    return [float(s) for s in result.scores], time.perf_counter() - start


def time_split(hub: Path, videos: list[Path]) -> dict[str, float]:
    """Seconds for decoding + transform of all videos, the text tower on all prompts, and the video tower."""
    from viclip import ViCLIPModel, ViCLIPProcessor
    from viclip.inference import ModelSpec
    from viclip.scoring.scorer import text_features
    from viclip.scoring.vbench import read_vbench_frames, vbench_resize_crop

    start = time.perf_counter()
    frames = torch.stack([vbench_resize_crop(read_vbench_frames(v)) for v in videos])
    decode = time.perf_counter() - start
    spec = ModelSpec("l14", "local", "-", folder=str(hub))
    start = time.perf_counter()
    text_features(spec, ViCLIPProcessor.from_pretrained(hub), PROMPTS)
    text = time.perf_counter() - start
    model = ViCLIPModel.from_pretrained(hub).eval()
    with torch.inference_mode():
        pixels = (frames.float() / 255 - 0.45) / 0.27
        start = time.perf_counter()
        model.get_video_features(pixel_values_videos=pixels)
        video = time.perf_counter() - start
    return {"decode_and_transform": decode, "text_tower": text, "video_tower": video}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vbench", default=None, help="the folder from which `import vbench` works")
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds of each side (median)")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        videos = write_videos(tmp)
        hub, original = make_weights(tmp)
        ours, ours_times = None, []
        for _ in range(args.rounds):
            ours, seconds = our_scores(hub, videos, "float32", None)
            ours_times.append(seconds)
        ours_sec = statistics.median(ours_times)
        print(f"viclip score --protocol vbench (fp32): {ours_sec:.2f} s for {len(videos)} videos")
        split = time_split(hub, videos)
        total = sum(split.values())
        print("  time split: " + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in split.items()))
        bf16, bf16_sec = our_scores(hub, videos, "bfloat16", None)
        print(
            f"  bf16: {bf16_sec:.2f} s, {ours_sec / bf16_sec:.2f}x fp32; largest |score - fp32| "
            f"{max(abs(a - b) for a, b in zip(bf16, ours)):.2e}"
        )
        compiled, compiled_sec = our_scores(hub, videos, "bfloat16", "compile")
        print(
            f"  bf16 + compile (first call compiles): {compiled_sec:.2f} s; largest |score - fp32| "
            f"{max(abs(a - b) for a, b in zip(compiled, ours)):.2e}"
        )
        if args.vbench is None:
            print("VBench's side skipped: pass --vbench PATH (the folder from which `import vbench` works)")
            return
        theirs_times, theirs = [], None
        for _ in range(args.rounds):
            theirs, seconds = vbench_scores(args.vbench, original, videos)
            theirs_times.append(seconds)
        theirs_sec = statistics.median(theirs_times)
        diffs = [abs(a - b) for a, b in zip(ours, theirs)]
        print(f"VBench overall_consistency loop (fp32): {theirs_sec:.2f} s")
        print(f"  per-video |ours - VBench|: max {max(diffs):.2e}, mean {np.mean(diffs):.2e}")
        print(f"  speed: fp32 {theirs_sec / ours_sec:.2f}x, bf16 {theirs_sec / bf16_sec:.2f}x VBench's loop")


if __name__ == "__main__":
    main()
