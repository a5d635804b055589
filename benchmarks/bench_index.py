"""``VectorIndex`` search: exact (FAISS flat), IVF and HNSW against brute-force NumPy, in one run.

Random 768-d unit vectors drawn around random centres (embeddings of real videos cluster; uniformly random
high-dimensional vectors have no neighbours worth the name), queries drawn from the same mixture. Prints build
time, query latency (one query at a time, and a batch of queries), the speed-up over NumPy brute force and the
recall@10 of each index against the exact top 10.

    python benchmarks/bench_index.py                          # 100k vectors (a few minutes on 2 cores)
    python benchmarks/bench_index.py --num-vectors 1000000    # the issue's 1M (IVF/HNSW builds take minutes)
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from viclip.inference.dtype_choice import cpu_kind


def clustered_unit_vectors(count: int, dim: int, centres: np.ndarray, rng: np.random.Generator, noise: float):
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 65536):
        n = min(65536, count - start)
        block = centres[rng.integers(0, len(centres), n)] + noise * rng.standard_normal(
            (n, dim), dtype=np.float32
        )
        out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def numpy_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    start = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    return (time.perf_counter() - start) / repeat, result


def main(argv: list[str] | None = None) -> int:
    import faiss

    from viclip.embedding import VectorIndex

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-vectors", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--num-queries", type=int, default=200)
    parser.add_argument("--num-centres", type=int, default=2000)
    parser.add_argument("--noise", type=float, default=0.06, help="per-dimension noise around a centre")
    parser.add_argument(
        "--kinds", nargs="+", default=["exact", "ivf", "hnsw"], choices=["exact", "ivf", "hnsw"]
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    faiss.omp_set_num_threads(args.threads)
    k = 10

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((args.num_centres, args.dim), dtype=np.float32) / np.sqrt(args.dim)
    vectors = clustered_unit_vectors(
        args.num_vectors, args.dim, centres, rng, args.noise / np.sqrt(args.dim) * 8
    )
    queries = clustered_unit_vectors(
        args.num_queries, args.dim, centres, rng, args.noise / np.sqrt(args.dim) * 8
    )
    clips = {
        "path": [f"v{i // 100}.mp4" for i in range(args.num_vectors)],
        "start_sec": [float(i % 100) for i in range(args.num_vectors)],
    }
    clips["end_sec"] = [s + 4.0 for s in clips["start_sec"]]
    print(
        f"{args.num_vectors} vectors x {args.dim}, {args.num_queries} queries, k={k}, {args.threads} threads, "
        f"faiss {faiss.__version__}, {platform.processor() or 'CPU'}",
        flush=True,
    )

    numpy_single, _ = timed(lambda: [numpy_top_k(vectors, queries[i : i + 1], k) for i in range(20)])
    numpy_single /= 20
    numpy_batch, truth = timed(lambda: numpy_top_k(vectors, queries, k))
    rows = [("numpy brute force", 0.0, numpy_single, numpy_batch, 1.0)]
    for kind in args.kinds:
        build, index = timed(lambda kind=kind: VectorIndex.build(vectors, clips, kind=kind))
        single, _ = timed(lambda index=index: [index.index.search(queries[i : i + 1], k) for i in range(50)])
        single /= 50
        batch, (_, ids) = timed(lambda index=index: index.index.search(queries, k))
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(ids.tolist(), truth.tolist())])
        rows.append((f"{kind} {index.info['params'] or ''}".strip(), build, single, batch, recall))
        print(f"  {rows[-1][0]}: built in {build:.1f} s", flush=True)

    print(
        f"\n| index | build s | 1 query ms | speed-up | {args.num_queries} queries ms | speed-up | recall@10 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, build, single, batch, recall in rows:
        print(
            f"| {name} | {build:.1f} | {single * 1e3:.2f} | {numpy_single / single:.1f}x | {batch * 1e3:.1f} | "
            f"{numpy_batch / batch:.1f}x | {recall:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
