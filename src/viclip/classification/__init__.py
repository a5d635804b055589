"""Fine-tuned video classification with ViCLIP: labelled video data, multi-view testing, the Trainer recipe.

The model class, ``ViCLIPForVideoClassification``, lives in :mod:`viclip.modeling` (it travels to the Hub
as remote code with the other ViCLIP classes) and is re-exported here.
"""

from ..modeling import ViCLIPForVideoClassification
from .data import (
    LabelledVideoDataset,
    VideoClassificationCollator,
    VideoClassificationTransform,
    load_video_classification_dataset,
    prepare_for_training,
)
from .multiview import multiview_frames, multiview_pixel_values, spatial_crops
from .synthetic import SyntheticActionLists, write_synthetic_action_dataset

__all__ = [
    "LabelledVideoDataset",
    "SyntheticActionLists",
    "ViCLIPForVideoClassification",
    "VideoClassificationCollator",
    "VideoClassificationTransform",
    "load_video_classification_dataset",
    "multiview_frames",
    "multiview_pixel_values",
    "prepare_for_training",
    "spatial_crops",
    "write_synthetic_action_dataset",
]
