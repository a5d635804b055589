"""Registration of viclip's classes with transformers, run once by ``import viclip`` (as out-of-tree packages do).

Importing any ``viclip`` module runs the package root first, so every process that uses viclip has registered
before it loads a folder: `AutoConfig`, `AutoModel`, `AutoModelForVideoClassification`, `AutoVideoProcessor`,
`AutoProcessor` and the "zero-shot-video-classification" pipeline then work on a saved ViCLIP folder without
``trust_remote_code``. The price: ``import viclip`` imports torch and transformers (see the README).
"""

from __future__ import annotations


def register_with_transformers() -> None:
    """Registers the configurations, models, video processor, processor and pipeline task (the package root calls
    it once)."""
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForVideoClassification,
        AutoProcessor,
        AutoVideoProcessor,
    )
    from transformers.pipelines import PIPELINE_REGISTRY

    from .evaluation.pipeline import TASK, ZeroShotVideoClassificationPipeline
    from .modeling import (
        ViCLIPConfig,
        ViCLIPForVideoClassification,
        ViCLIPModel,
        ViCLIPTextConfig,
        ViCLIPTextModel,
        ViCLIPVisionConfig,
        ViCLIPVisionModel,
    )
    from .processing.processing_viclip import ViCLIPProcessor
    from .processing.video_processing_viclip import ViCLIPVideoProcessor

    for config_class in (ViCLIPConfig, ViCLIPVisionConfig, ViCLIPTextConfig):
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    AutoModel.register(ViCLIPConfig, ViCLIPModel, exist_ok=True)
    AutoModel.register(ViCLIPVisionConfig, ViCLIPVisionModel, exist_ok=True)
    AutoModel.register(ViCLIPTextConfig, ViCLIPTextModel, exist_ok=True)
    AutoModelForVideoClassification.register(ViCLIPConfig, ViCLIPForVideoClassification, exist_ok=True)
    AutoVideoProcessor.register(ViCLIPConfig, ViCLIPVideoProcessor, exist_ok=True)
    AutoProcessor.register(ViCLIPConfig, ViCLIPProcessor, exist_ok=True)
    PIPELINE_REGISTRY.register_pipeline(
        TASK, pipeline_class=ZeroShotVideoClassificationPipeline, pt_model=ViCLIPModel, type="multimodal"
    )
