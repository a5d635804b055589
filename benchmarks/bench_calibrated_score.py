"""Raw cosine vs viclip_percentile as a filter: matched (clip, caption) pairs against the same clips with shuffled
captions, on the demo's held-out clips scored by the demo's trained model.

Prints the ROC AUC of each score (matched vs shuffled), then the share of matched pairs kept and shuffled pairs
dropped by one threshold chosen on half the clips (best balanced accuracy) and applied to the other half, both ways,
and by the fixed percentile threshold 0.9. Percentiles against the packaged reference set and against ``self`` (the
held-out captions themselves).

    .venv/bin/viclip demo --output-dir /tmp/demo          # once: trains the model, writes the held-out clips
    .venv/bin/python benchmarks/bench_calibrated_score.py --demo-dir /tmp/demo
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from viclip.demo import read_held_out_clips
from viclip.inference import EngineSettings
from viclip.inference.dtype_choice import cpu_kind
from viclip.scoring import Scorer, ScoringRow, score_pairs


def roc_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """P(positive > negative), ties half (the Mann-Whitney statistic)."""
    difference = positives[:, None] - negatives[None, :]
    return float(((difference > 0).sum() + 0.5 * (difference == 0).sum()) / difference.size)


def best_threshold(positives: np.ndarray, negatives: np.ndarray) -> float:
    """The threshold (keep >= it) with the best balanced accuracy on these pairs."""
    candidates = np.unique(np.concatenate([positives, negatives]))
    accuracy = [((positives >= t).mean() + (negatives < t).mean()) / 2 for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def kept_dropped(positives: np.ndarray, negatives: np.ndarray, threshold: float) -> str:
    return f"kept {100 * (positives >= threshold).mean():5.1f} % matched, dropped {100 * (negatives < threshold).mean():5.1f} % shuffled"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", required=True, help="the --output-dir of a finished `viclip demo`")
    parser.add_argument("--seed", type=int, default=0, help="the caption shuffle and the halves")
    args = parser.parse_args()
    report = json.loads((Path(args.demo_dir) / "report.json").read_text())
    data = Path(args.demo_dir) / "run" / "synthetic-data"
    clips = read_held_out_clips(data / "held_out.jsonl", data / "videos")
    rng = np.random.default_rng(args.seed)
    captions = [c.caption for c in clips]
    shuffled = list(captions)
    while any(a == b for a, b in zip(shuffled, captions)):  # no clip keeps its own caption
        rng.shuffle(shuffled)
    rows = [ScoringRow(c.clip, c.caption) for c in clips] + [
        ScoringRow(c.clip, t) for c, t in zip(clips, shuffled)
    ]
    n = len(clips)
    halves = np.array_split(rng.permutation(n), 2)
    print(f"model {report['hub_folder']} ({report['train_steps']} steps), {n} held-out clips")
    print(f"CPU kind: {torch.backends.cpu.get_cpu_capability()}, {cpu_kind().model_name}")
    scorer = Scorer(report["hub_folder"], engine=EngineSettings(runner="local", batch_size=8))
    columns = {}
    for reference in ("default", "self"):
        scorer.reference = reference
        result = score_pairs(rows, scorer, progress=False)
        columns.setdefault("raw cosine", np.asarray(result.scores, dtype=np.float64))
        columns[f"percentile ({reference})"] = np.asarray(result.percentiles, dtype=np.float64)
    for name, values in columns.items():
        matched, other = values[:n], values[n:]
        print(f"\n{name}: ROC AUC {roc_auc(matched, other):.4f}")
        for fit, test in ((0, 1), (1, 0)):
            threshold = best_threshold(matched[halves[fit]], other[halves[fit]])
            print(
                f"  threshold {threshold:.4f} from half {fit}, on half {test}: "
                + kept_dropped(matched[halves[test]], other[halves[test]], threshold)
            )
        if name.startswith("percentile"):
            for half in (0, 1):
                print(
                    f"  fixed 0.9 on half {half}: "
                    + kept_dropped(matched[halves[half]], other[halves[half]], 0.9)
                )


if __name__ == "__main__":
    main()
