# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""The paper's benchmarks, one function each: Kinetics-400/600/700 zero-shot and MSR-VTT 1k-A retrieval.

ViCLIP and image CLIP models (frames averaged) run through the same harness (``viclip.inference.load_embedder``).
Names are imported lazily, so importing the package loads neither torch nor transformers.
"""

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "EmbeddedClips": "embedding",
    "embed_clips": "embedding",
    "KineticsRow": "kinetics",
    "evaluate_kinetics": "kinetics",
    "find_kinetics_clip": "kinetics",
    "guess_kinetics_variant": "kinetics",
    "kinetics_class_names": "kinetics",
    "plot_per_class_accuracy": "kinetics",
    "read_kinetics_csv": "kinetics",
    "MSRVTTPair": "msrvtt",
    "evaluate_msrvtt": "msrvtt",
    "read_msrvtt_csv": "msrvtt",
    "read_results": "results",
    "results_markdown_table": "results",
    "results_table_rows": "results",
    "write_results": "results",
    "VideoFileIndex": "video_files",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .embedding import EmbeddedClips, embed_clips
    from .kinetics import (
        KineticsRow,
        evaluate_kinetics,
        find_kinetics_clip,
        guess_kinetics_variant,
        kinetics_class_names,
        plot_per_class_accuracy,
        read_kinetics_csv,
    )
    from .msrvtt import MSRVTTPair, evaluate_msrvtt, read_msrvtt_csv
    from .results import read_results, results_markdown_table, results_table_rows, write_results
    from .video_files import VideoFileIndex
