"""Benchmark results files: written atomically, summarised for the terminal and for a model card."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULTS_FORMAT = "viclip-benchmark-results/1"


def write_results(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``results`` (with a format tag and the viclip version) as indented JSON, atomically."""
    from ...version import __version__
    from ..tasks import write_json

    return write_json({"format": RESULTS_FORMAT, "viclip_version": __version__, **results}, path)


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """A results file written by :func:`write_results` (a clear error for anything else)."""
    path = Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read benchmark results {str(path)!r}: {error}") from None
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{str(path)!r} is not a viclip benchmark results file (format {RESULTS_FORMAT!r})")
    return results


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _coverage(data: dict[str, Any], evaluated_key: str, total_key: str) -> str:
    return f"{data[evaluated_key]:,} of {data[total_key]:,} videos ({100 * data['evaluated_fraction']:.1f}%)"


def results_table_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    """``(what, value)`` rows for a model card's results table, from one benchmark results file.

    Kinetics: one row "top-1 / top-5 / AVG"; MSR-VTT: R@1/5/10 in both directions, plain and dual-softmax.
    The evaluated fraction of the split is part of each value, so a partial run never looks complete.
    """
    benchmark = results.get("benchmark", "?")
    metrics = results.get("metrics") or {}
    data = results.get("data") or {}
    if benchmark.startswith("Kinetics"):
        value = " / ".join(_pct(metrics.get(k)) for k in ("top1", "top5", "avg"))
        coverage = _coverage(data, "num_evaluated", "num_rows")
        return [(f"{benchmark} zero-shot top-1 / top-5 / AVG", f"{value} ({coverage})")]
    if benchmark.startswith("MSR-VTT"):
        rows = []
        coverage = _coverage(data, "num_evaluated_videos", "num_videos")
        for key, name in (("plain", ""), ("dual_softmax", ", dual softmax")):
            scores = metrics.get(key) or {}
            for direction, label in (("t2v", "text-to-video"), ("v2t", "video-to-text")):
                value = " / ".join(_pct(scores.get(f"{direction}_R@{k}")) for k in (1, 5, 10))
                rows.append((f"{benchmark} {label} R@1 / R@5 / R@10{name}", f"{value} ({coverage})"))
        return rows
    raise ValueError(f"unknown benchmark {benchmark!r} in the results")


def results_markdown_table(results: dict[str, Any]) -> str:
    """:func:`results_table_rows` as a Markdown table, with the model and protocol it was measured with."""
    lines = ["| Benchmark | Result |", "| --- | --- |"]
    lines += [f"| {what} | {value} |" for what, value in results_table_rows(results)]
    model = results.get("model") or {}
    protocol = results.get("protocol") or {}
    lines.append("")
    lines.append(
        f"Measured with `viclip evaluate` ({protocol.get('frames', '?')} frames, {protocol.get('dtype', '?')}) "
        f"on {model.get('name') or 'this model'}"
        + (f" at {model['revision']}" if model.get("revision") else "")
        + "."
    )
    return "\n".join(lines)
