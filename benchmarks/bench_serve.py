"""Benchmark: `viclip serve` query latency over a 100k-moment index with the ViCLIP-L/14 text tower, on loopback.

The index holds random unit vectors of the L/14 width (768, exact inner product, as `viclip index --kind auto`
builds below 1M); the model has L/14's text tower (12 layers, width 768) with random weights (the speed does not
depend on the weights) and a one-layer vision tower (never run here). The server runs in this process (uvicorn
in a thread) and is queried over HTTP on 127.0.0.1 with distinct texts:

  single    one client, one query at a time: median and p95 latency of GET /api/search?text=...&top_k=12
  parts     the two halves of a query in-process: encoding the text, searching the index
  load      32 clients x 20 queries at once: all answered? median / p95 latency and throughput
  lock      the same load with the tokenizer's lock removed (what the lock costs), interleaved with the locked
            rounds so that load on a shared machine hits both alike

    python benchmarks/bench_serve.py [--moments 100000] [--queries 100] [--clients 32] [--per-client 20]
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import torch

from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor
from viclip.embedding import VectorIndex
from viclip.inference import VideoTextEmbedder
from viclip.serving import SearchService, Thumbnails, create_app, running

WORDS = [
    "a",
    "dog",
    "cat",
    "person",
    "car",
    "ball",
    "runs",
    "jumps",
    "swims",
    "red",
    "blue",
    "green",
    "beach",
    "snow",
    "city",
    "night",
    "kitchen",
    "goal",
]


def cpu_kind() -> str:
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    return f"{model}, {torch.backends.cpu.get_cpu_capability()}, torch threads {torch.get_num_threads()}"


def texts(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 9)))) + f" {seed}-{i}" for i in range(count)]


def build_service(moments: int) -> SearchService:
    torch.manual_seed(0)
    config = ViCLIPConfig.from_preset(
        "viclip-l14",
        vision_config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
                       "num_attention_heads": 2, "patch_size": 14},
    )  # fmt: skip
    embedder = VideoTextEmbedder(
        ViCLIPModel(config).eval(), ViCLIPProcessor.for_model(image_size=224, num_frames=8)
    )
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((moments, config.projection_dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    clips = {
        "path": [f"/videos/video_{i // 20:05d}.mp4" for i in range(moments)],
        "start_sec": [float(i % 20 * 4) for i in range(moments)],
        "end_sec": [float(i % 20 * 4 + 4) for i in range(moments)],
    }
    return SearchService(VectorIndex.build(vectors, clips, kind="auto"), embedder)


def encode_full_context(service: SearchService, text: str) -> torch.Tensor:
    """The baseline of the text half: the tower on all 32 tokens (before `trim_after_end_of_text`)."""
    ids = service.embedder.processor(text=[text], return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return service.embedder.model.get_text_features(input_ids=ids).pooler_output


def timed_query(http: httpx.Client, text: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = http.get("/api/search", params={"text": text, "top_k": 12})
    elapsed = time.perf_counter() - start
    ok = response.status_code == 200 and len(response.json()["results"]) == 12
    return elapsed, int(ok)


def load(url: str, clients: int, per_client: int, seed: int) -> tuple[list[float], int, float]:
    def session(number: int) -> list[tuple[float, int]]:
        with httpx.Client(base_url=url, timeout=120) as http:
            return [timed_query(http, t) for t in texts(per_client, seed * 1000 + number)]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [r for rows in pool.map(session, range(clients)) for r in rows]
    wall = time.perf_counter() - start
    return [t for t, _ in results], sum(ok for _, ok in results), wall


def ms(values: list[float], q: float) -> float:
    return float(np.quantile(values, q) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--moments", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100, help="single-client queries")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="load rounds per side (locked, unlocked)")
    args = parser.parse_args()

    print(f"CPU: {cpu_kind()}")
    service = build_service(args.moments)
    print(
        f"index: {len(service)} moments, {service.index.dim}-d, {service.index.kind}; text tower: L/14 shape"
    )
    for text in texts(5, 99):  # warm up
        service.search_text(text)
    encode, padded, search = [], [], []
    for text in texts(args.queries, 1):
        t0 = time.perf_counter()
        vector = service.encode_text(text)
        t1 = time.perf_counter()
        service.search_vector(vector, 12)
        t2 = time.perf_counter()
        encode_full_context(service, text)
        encode.append(t1 - t0)
        search.append(t2 - t1)
        padded.append(time.perf_counter() - t2)
    print(
        f"parts (in-process): encode text median {ms(encode, 0.5):.1f} ms (the full 32-token context: "
        f"{ms(padded, 0.5):.1f} ms, {ms(padded, 0.5) / ms(encode, 0.5):.2f}x), search {ms(search, 0.5):.1f} ms"
    )

    with tempfile.TemporaryDirectory() as thumbs, running(create_app(service, Thumbnails(thumbs))) as url:
        with httpx.Client(base_url=url, timeout=60) as http:
            for text in texts(5, 98):
                timed_query(http, text)
            single = [timed_query(http, text) for text in texts(args.queries, 2)]
        latencies = [t for t, _ in single]
        print(
            f"single client: {sum(ok for _, ok in single)}/{len(single)} answered, "
            f"median {ms(latencies, 0.5):.1f} ms, p95 {ms(latencies, 0.95):.1f} ms (HTTP on loopback)"
        )
        locked_lock = service._tokenizer_lock
        sides: dict[str, list[tuple[list[float], int, float]]] = {"locked": [], "unlocked": []}
        for round_number in range(args.rounds):
            for side in ("locked", "unlocked") if round_number % 2 == 0 else ("unlocked", "locked"):
                service._tokenizer_lock = locked_lock if side == "locked" else contextlib.nullcontext()
                try:
                    sides[side].append(load(url, args.clients, args.per_client, 10 + round_number))
                except Exception as error:  # an unlocked tokenizer may fail: that is what is measured
                    print(f"  {side} round {round_number + 1}: failed: {type(error).__name__}: {error}")
        service._tokenizer_lock = locked_lock
        total = args.clients * args.per_client
        for side, runs in sides.items():
            for latencies, answered, wall in runs:
                print(
                    f"{args.clients} clients x {args.per_client} ({side} tokenizer): {answered}/{total} answered, "
                    f"median {ms(latencies, 0.5):.0f} ms, p95 {ms(latencies, 0.95):.0f} ms, "
                    f"{len(latencies) / wall:.1f} queries/s"
                )
        if sides["locked"] and sides["unlocked"]:
            locked = statistics.median(len(r[0]) / r[2] for r in sides["locked"])
            unlocked = statistics.median(len(r[0]) / r[2] for r in sides["unlocked"])
            print(f"throughput locked / unlocked: {locked / unlocked:.2f}x")


if __name__ == "__main__":
    main()
