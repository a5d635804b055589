#!/usr/bin/env bash
# The GPU checks of "embeddings at scale", in one device run (about 6 minutes on one H200 with 16 CPUs):
# 1. model FLOPs utilisation of ViCLIP-L/14 bf16 at batch 8-128, eager sdpa and torch.compile (target >= 50%);
# 2. `viclip embed` on that GPU with the machine's CPUs decoding 10 s 640x360 H.264 videos: the summary's
#    "model actors busy" share says whether decoding ever starves the model (target: it never does).
# Usage, from the repository root with the package installed (`pip install -e ".[embed]"`):
#   bash benchmarks/gpu_embedding_check.sh [PEAK_TFLOPS]      # default 989 (dense bf16, H100/H200 SXM)
set -euo pipefail
peak="${1:-989}"
cpus="$(nproc)"
python benchmarks/bench_inference.py --device cuda --sizes l14 --dtypes bf16 --attn sdpa \
    --batch-sizes 8 32 64 128 --compile --peak-tflops "$peak" --markdown
python benchmarks/bench_embed.py --size l14 --dtype bfloat16 --num-gpus 1 --num-cpus "$cpus" \
    --num-videos 256 --batch-size 64 --optimize compile
