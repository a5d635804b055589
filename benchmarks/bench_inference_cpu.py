"""CPU inference of ViCLIP video embeddings: the package's variants against the original code's bf16 autocast.

Same random weights in every variant (the original's vision tower gets them through
``viclip.to_original_state_dict``), batch 1, 8x224 frames. Each variant is first called ``--warmup`` times
(compilation, oneDNN's first-call set-up), then the variants run interleaved, round after round, each round in
a rotated order, so that a shared machine's load and the position in a round hit them alike. The table gives
the median wall and CPU (process) seconds per video, the speed-up over the original's bf16 autocast as the
median of the per-round ratios (paired within a round: what drifts between rounds cancels) and the cosine of
each embedding to the package's float32 result. Set ``OMP_WAIT_POLICY=passive`` on a loaded machine so that
waiting threads do not count as CPU time.

    python benchmarks/bench_inference_cpu.py --original ../shared/reference/original-viclip       # L/14, 2 threads
    python benchmarks/bench_inference_cpu.py --original DIR --size b16 --rounds 5 --variants bf16 bf16-compile
    python benchmarks/bench_inference_cpu.py --variants bf16-compile --rounds 3 --profile   # where the time goes

The original code needs ``einops`` and ``timm`` (``pip install einops timm``; ``--extra-path DIR`` adds a folder
where they are installed). Variants:

- ``original-autocast``: the original VisionTransformer, float32 weights, ``torch.autocast("cpu", bfloat16)``.
- ``fp32``: the package, float32 weights (the accuracy reference).
- ``bf16``: the package, bfloat16 weights, sdpa (``VideoTextEmbedder(..., dtype=torch.bfloat16)``).
- ``bf16-compile``: the same through ``torch.compile`` (``optimize="compile"``).
- ``int8-dynamic``: float32 model with ``torch.ao.quantization.quantize_dynamic`` int8 Linear layers.
- ``int8-per-channel``: the same with per-channel int8 weights.
- ``openvino``: the package's ``optimize="openvino"`` (float32 on OpenVINO; ``pip install 'viclip[cpu]'``).
- ``onnx-int8``: the package's ``optimize="onnx-int8"`` (int8 on ONNX Runtime; ``pip install 'viclip[cpu]'``).

The header names the CPU kind (torch's capability, native bf16 or not, the model name): figures of one kind do not
carry over to another (docs/cpu.md). On a CPU without native bf16 compare the paths that avoid bf16:

    python benchmarks/bench_inference_cpu.py --size b16 --variants fp32 onnx-int8 openvino int8-per-channel --rounds 5

To see what an AVX2-only CPU would do on an AVX-512 one, cap torch and oneDNN (ONNX Runtime's kernels cannot be
capped: they follow cpuid; see docs/cpu.md):

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/bench_inference_cpu.py --size b16 \\
        --variants fp32 bf16 --rounds 3
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from viclip import ViCLIPConfig, ViCLIPModel, to_original_state_dict
from viclip.inference import optimize_for_inference
from viclip.inference.dtype_choice import cpu_has_vnni, cpu_kind

PRESETS = {"l14": "viclip-l14", "b16": "viclip-b16"}
VARIANTS = (
    "original-autocast",
    "fp32",
    "bf16",
    "bf16-compile",
    "int8-dynamic",
    "int8-per-channel",
    "openvino",
    "onnx-int8",
)


def load_original_vision(original_dir: Path, model: ViCLIPModel, size: str) -> torch.nn.Module:
    """The original code's vision tower (``viclip_vision.py``, loaded by path), holding ``model``'s weights."""
    path = original_dir / "viclip" / "viclip_vision.py"
    if not path.is_file():
        raise SystemExit(f"--original {original_dir}: no viclip/viclip_vision.py there")
    spec = importlib.util.spec_from_file_location("original_viclip_vision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # timm's register_model looks the module up
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", FutureWarning
            )  # timm's deprecated import paths, used by the original
            spec.loader.exec_module(module)
    except ImportError as error:
        raise SystemExit(
            f"the original code needs einops and timm ({error}); pip install einops timm"
        ) from None
    build = module.clip_joint_l14 if size == "l14" else module.clip_joint_b16
    # As the original ViCLIP builds it for inference (drop path is off in eval mode).
    vision = build(
        pretrained=False, input_resolution=224, kernel_size=1, center=True, num_frames=8, drop_path=0.1
    )
    state = to_original_state_dict(model.state_dict(), model.config)
    vision.load_state_dict(
        {k[len("vision_encoder.") :]: v for k, v in state.items() if k.startswith("vision_encoder.")}
    )
    return vision.eval()


def build_variants(names, model: ViCLIPModel, original_dir: Path | None, size: str) -> dict:
    """name -> a function pixels (B, T, C, H, W) float32 -> features."""
    runners = {}
    for name in names:
        if name == "original-autocast":
            if original_dir is None:
                raise SystemExit(
                    "the original-autocast variant needs --original DIR (the original code's folder)"
                )
            vision = load_original_vision(original_dir, model, size)

            def run(x, vision=vision):
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return vision(x.permute(0, 2, 1, 3, 4).contiguous())

        elif name == "fp32":

            def run(x, m=model):
                return m.get_video_features(pixel_values_videos=x).pooler_output

        elif name in ("bf16", "bf16-compile"):
            bf16 = ViCLIPModel(model.config).eval()
            bf16.load_state_dict(model.state_dict())
            bf16 = bf16.to(torch.bfloat16)
            if name == "bf16-compile":
                bf16 = optimize_for_inference(bf16, "compile")

            def run(x, m=bf16):
                return m.get_video_features(pixel_values_videos=x.to(torch.bfloat16)).pooler_output

        elif name in ("int8-dynamic", "int8-per-channel"):
            fp32 = ViCLIPModel(model.config).eval()
            fp32.load_state_dict(model.state_dict())
            qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
            layers = {torch.nn.Linear: qconfig} if name == "int8-per-channel" else {torch.nn.Linear}
            quantized = torch.ao.quantization.quantize_dynamic(fp32, layers, dtype=torch.qint8)

            def run(x, m=quantized):
                return m.get_video_features(pixel_values_videos=x).pooler_output

        elif name in ("openvino", "onnx-int8"):
            fp32 = ViCLIPModel(model.config).eval()
            fp32.load_state_dict(model.state_dict())
            on_runtime = optimize_for_inference(fp32, name)

            def run(x, m=on_runtime):
                return m.get_video_features(pixel_values_videos=x).pooler_output

        else:
            raise SystemExit(f"unknown variant {name!r}; choose from {VARIANTS}")
        runners[name] = run
    return runners


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, default=None, help="the original ViCLIP code's folder")
    parser.add_argument("--extra-path", type=Path, default=None, help="a folder to import einops/timm from")
    parser.add_argument("--size", choices=list(PRESETS), default="l14")
    parser.add_argument(
        "--variants", nargs="+", default=["original-autocast", "bf16", "bf16-compile", "int8-dynamic"]
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (each runs every variant once)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed calls of each variant before the rounds"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the rounds, where each variant's time goes (one profiled call)",
    )
    args = parser.parse_args(argv)
    if args.extra_path:
        sys.path.insert(0, str(args.extra_path))
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ViCLIPModel(ViCLIPConfig.from_preset(PRESETS[args.size])).eval()
    # Random weights leave the temporal table at zero; give it values so that the frames matter.
    with torch.no_grad():
        next(p for n, p in model.named_parameters() if n.endswith("temporal_embedding")).normal_(std=0.02)
    pixels = torch.randn(1, 8, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    print(
        f"ViCLIP {args.size}, batch 1, 8x224, {args.threads} threads, torch {torch.__version__}, "
        f"{args.rounds} rounds\nCPU: {cpu_kind().describe()}, {'' if cpu_has_vnni() else 'no '}VNNI",
        flush=True,
    )

    runners = build_variants(args.variants, model, args.original, args.size)
    with torch.inference_mode():
        reference = F.normalize(
            model.get_video_features(pixel_values_videos=pixels).pooler_output.float(), dim=-1
        )
        cosine, times, cpu_times = {}, {name: [] for name in runners}, {name: [] for name in runners}
        for name, run in runners.items():  # warm-up (and compilation), not timed
            start = time.perf_counter()
            cosine[name] = float((F.normalize(run(pixels).float(), dim=-1) * reference).sum())
            for _ in range(args.warmup - 1):
                run(pixels)
            print(
                f"  warm-up {name}: {time.perf_counter() - start:.1f} s, cosine to fp32 {cosine[name]:.6f}",
                flush=True,
            )
        names = list(runners)
        for round_index in range(args.rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                start, cpu_start = time.perf_counter(), time.process_time()
                runners[name](pixels)
                times[name].append(time.perf_counter() - start)
                cpu_times[name].append(time.process_time() - cpu_start)
            print(
                f"  round {round_index + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names),
                flush=True,
            )

    baseline = "original-autocast" if "original-autocast" in times else names[0]

    def paired_speedup(values: dict[str, list[float]], name: str) -> float:
        return statistics.median(b / v for b, v in zip(values[baseline], values[name]))

    print("\n| variant | s/video | speed-up | CPU s/video | speed-up in CPU time | cosine to fp32 |")
    print("|---|---|---|---|---|---|")
    for name in names:
        wall, cpu = statistics.median(times[name]), statistics.median(cpu_times[name])
        print(
            f"| {name} | {wall:.2f} | {paired_speedup(times, name):.2f}x | {cpu:.2f} | "
            f"{paired_speedup(cpu_times, name):.2f}x | {cosine[name]:.5f} |"
        )
    print(
        f"(medians over {args.rounds} rounds; speed-up = median over rounds of {baseline}'s time / the variant's "
        "time in the same round; CPU time is less sensitive to other load)"
    )
    if args.profile:
        with torch.inference_mode():
            for name in names:
                print_profile(name, runners[name], pixels)
    return 0


def print_profile(name: str, run, pixels: torch.Tensor, top: int = 5) -> None:
    """The ops that take the most self CPU time in one call of ``run``, in seconds and share of the call."""
    with torch.profiler.profile() as profile:
        start = time.perf_counter()
        run(pixels)
        wall = time.perf_counter() - start
    events = sorted(profile.key_averages(), key=lambda e: -e.self_cpu_time_total)[:top]
    total = sum(e.self_cpu_time_total for e in profile.key_averages())
    print(f"\n{name}: one profiled call, {wall:.2f} s")
    for event in events:
        seconds = event.self_cpu_time_total / 1e6
        print(f"  {seconds:6.3f} s  {event.self_cpu_time_total / total:4.0%}  {event.key} (x{event.count})")


if __name__ == "__main__":
    sys.exit(main())
