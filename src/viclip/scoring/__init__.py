# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""ViCLIP as an instrument: text-video similarity for (video, text) pairs at scale (``score_pairs``; the
``viclip`` protocol or VBench 0.1.5's exactly; with a calibrated percentile among reference captions), curation of
captioned clips (``score_to_folder``), and a differentiable reward for video generation (``ViCLIPReward``). Names
are imported lazily.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "ScoringRow": "inputs",
    "read_scoring_inputs": "inputs",
    "PROTOCOLS": "protocols",
    "scoring_protocol": "protocols",
    "ReferenceSet": "reference",
    "default_reference": "reference",
    "percentile_ranks": "reference",
    "read_reference_captions": "reference",
    "self_reference": "reference",
    "ScoreResult": "scorer",
    "Scorer": "scorer",
    "score_pairs": "scorer",
    "CurationResult": "curation",
    "score_to_folder": "curation",
    "ViCLIPReward": "reward",
    "PromptedVideo": "vbench",
    "custom_inputs": "vbench",
    "full_info_inputs": "vbench",
    "read_vbench_frames": "vbench",
    "vbench_frame_indices": "vbench",
    "write_vbench_results": "vbench",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .curation import CurationResult, score_to_folder
    from .inputs import ScoringRow, read_scoring_inputs
    from .protocols import PROTOCOLS, scoring_protocol
    from .reference import (
        ReferenceSet,
        default_reference,
        percentile_ranks,
        read_reference_captions,
        self_reference,
    )
    from .reward import ViCLIPReward
    from .scorer import Scorer, ScoreResult, score_pairs
    from .vbench import (
        PromptedVideo,
        custom_inputs,
        full_info_inputs,
        read_vbench_frames,
        vbench_frame_indices,
        write_vbench_results,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
