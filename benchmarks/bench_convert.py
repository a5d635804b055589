"""Time and peak memory of converting a full-size ViCLIP-L/14 checkpoint, against a naive conversion.

A random L/14 checkpoint with the released keys and shapes (tests/assets/viclip-l14_state_dict_shapes.json) is saved
the released way (``torch.save({'model': state_dict})``, float32, 1.7 GB). Each conversion then runs in its own child
process; its peak RSS is read two ways: ``VmHWM`` reported by the child itself and ``getrusage(RUSAGE_CHILDREN)``
in a one-child wrapper process. Targets: under 60 s and at most 1.5x the checkpoint's size.

Baseline ("naive"): ``torch.load`` without mmap, the same key mapping, ``safetensors.torch.save_file`` (which
serialises every tensor to bytes before writing).

    python benchmarks/bench_convert.py [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from viclip.inference.dtype_choice import cpu_kind

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "tests" / "assets" / "viclip-l14_state_dict_shapes.json"

MAKE_CHECKPOINT = """
import json, sys, torch
shapes = json.load(open(sys.argv[1]))["state_dict_shapes"]
generator = torch.Generator().manual_seed(0)
state_dict = {k: (torch.randn(s, generator=generator) * 0.02) for k, s in shapes.items()}
state_dict["temp"] = torch.tensor(0.01)
torch.save({"model": state_dict}, sys.argv[2])
"""

# Each conversion child prints a JSON line with its own peak RSS (VmHWM) and the seconds the conversion took.
CONVERT_OURS = """
import json, sys, time
start = time.perf_counter()
from viclip.conversion import convert_checkpoint
convert_checkpoint(sys.argv[1], sys.argv[2], progress=False)
seconds = time.perf_counter() - start
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "vmhwm_kb": hwm}))
"""

CONVERT_NAIVE = """
import json, os, sys, time
start = time.perf_counter()
import torch
from safetensors.torch import save_file
from viclip import ViCLIPConfig, convert_original_state_dict
state_dict = torch.load(sys.argv[1], map_location="cpu", weights_only=True)["model"]
converted = convert_original_state_dict(state_dict, ViCLIPConfig.from_preset("viclip-l14"))
os.makedirs(sys.argv[2])
save_file({k: v.contiguous() for k, v in converted.items()}, os.path.join(sys.argv[2], "model.safetensors"),
          metadata={"format": "pt"})
seconds = time.perf_counter() - start
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "vmhwm_kb": hwm}))
"""

# Runs one command and prints its stdout, then the peak RSS of its only child (kB) from getrusage.
WRAPPER = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(result.stderr)
print(result.stdout.strip().splitlines()[-1] if result.returncode == 0 else "{}")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(result.returncode)
"""


def run_measured(script: str, *args: str) -> dict:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, sys.executable, "-c", script, *args], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"child failed:\n{result.stderr[-3000:]}")
    report_line, rusage_kb = result.stdout.strip().splitlines()[-2:]
    report = json.loads(report_line)
    return {
        "wall_s": wall,
        "convert_s": report["seconds"],
        "peak_rss_gb": int(report["vmhwm_kb"]) * 1024 / 1e9,
        "rusage_peak_gb": int(rusage_kb) * 1024 / 1e9,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", help="where to write the 1.7 GB checkpoint and outputs (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    work = Path(args.workdir or tempfile.mkdtemp(prefix="viclip-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / "viclip-l14-random.pth"  # a neutral name: no release is guessed for the card
    try:
        if not checkpoint.exists():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", MAKE_CHECKPOINT, str(SHAPES), str(checkpoint)], check=True)
            print(f"made a random L/14 checkpoint in {time.perf_counter() - start:.1f} s")
        size_gb = checkpoint.stat().st_size / 1e9
        print(f"checkpoint: {checkpoint.name}, {size_gb:.2f} GB")

        results = {}
        for name, script in [("viclip convert", CONVERT_OURS), ("naive baseline", CONVERT_NAIVE)]:
            if name == "naive baseline" and args.skip_baseline:
                continue
            output = work / name.replace(" ", "-")
            shutil.rmtree(output, ignore_errors=True)
            results[name] = run_measured(script, str(checkpoint), str(output))
            r = results[name]
            print(
                f"{name:15s} wall {r['wall_s']:6.1f} s (conversion {r['convert_s']:6.1f} s), "
                f"peak RSS {r['peak_rss_gb']:.2f} GB = {r['peak_rss_gb'] / size_gb:.2f}x checkpoint "
                f"(getrusage {r['rusage_peak_gb']:.2f} GB)"
            )
        ours = results["viclip convert"]
        if "naive baseline" in results:
            base = results["naive baseline"]
            print(
                f"ratio ours/baseline: time {ours['wall_s'] / base['wall_s']:.2f}x, "
                f"peak RSS {ours['peak_rss_gb'] / base['peak_rss_gb']:.2f}x"
            )
        time_ok = ours["wall_s"] < 60
        memory_ok = ours["peak_rss_gb"] <= 1.5 * size_gb
        print(f"targets: time < 60 s: {'PASS' if time_ok else 'FAIL'}; "
              f"peak RSS <= 1.5x checkpoint ({1.5 * size_gb:.2f} GB): {'PASS' if memory_ok else 'FAIL'}")  # fmt: skip
        return 0 if time_ok and memory_ok else 1
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
