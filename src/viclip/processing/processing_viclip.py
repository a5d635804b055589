"""ViCLIPProcessor: the ViCLIP video processor and the CLIP BPE tokenizer (context length 32) in one.

Copied into Hub model folders as remote code: imports only the standard library, transformers and
sibling modules of this folder. The packaged tokenizer files are only needed by the no-argument
constructor; a saved processor folder carries its own tokenizer files.
"""

from pathlib import Path
from typing import Any

from transformers import CLIPTokenizer
from transformers.feature_extraction_utils import BatchFeature
from transformers.processing_utils import ProcessingKwargs, ProcessorMixin, Unpack

from .text_cleaning import clean_text as _clean_text
from .video_processing_viclip import ViCLIPVideoProcessor, ViCLIPVideoProcessorKwargs

CONTEXT_LENGTH = 32
TOKENIZER_DIR = Path(__file__).resolve().parent / "tokenizer"


def load_default_tokenizer(context_length: int = CONTEXT_LENGTH) -> CLIPTokenizer:
    """The CLIP BPE tokenizer (49408 tokens) shipped with the package, loaded offline.

    It pads with ``<|endoftext|>`` (the original pads with 0; the model pools at the first end-of-text
    token, so padding never matters) and truncates to ``context_length`` ending with ``<|endoftext|>``.
    Text must be cleaned with ``clean_text`` first to match the original ids on unusual text;
    ``ViCLIPProcessor`` does that.
    """
    if not (TOKENIZER_DIR / "tokenizer.json").is_file():
        raise OSError(
            f"the packaged ViCLIP tokenizer is missing from {TOKENIZER_DIR}; install the viclip package, or load a "
            "saved processor with ViCLIPProcessor.from_pretrained(folder)"
        )
    return CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR), model_max_length=context_length)


class ViCLIPProcessorKwargs(ProcessingKwargs, total=False):
    videos_kwargs: ViCLIPVideoProcessorKwargs
    _defaults = {
        "text_kwargs": {"padding": "max_length", "truncation": True, "max_length": CONTEXT_LENGTH},
    }


class ViCLIPProcessor(ProcessorMixin):
    r"""Prepares text and videos for ``ViCLIPModel``.

    ``processor(text=..., videos=..., return_tensors="pt")`` returns ``input_ids`` and ``attention_mask``
    of shape ``(batch, 32)`` and ``pixel_values_videos`` of shape ``(batch, num_frames, 3, H, W)``.
    Text is cleaned like the original tokenizer (ftfy, HTML unescape, whitespace, lowercase) unless
    ``clean_text=False``. Video arguments (``start_sec``, ``end_sec``, ``sampling``, ``seed``, ...) are
    passed to the video processor.

    ``ViCLIPProcessor()`` builds the default (evaluation) processor with the packaged tokenizer, offline.

    Args:
        video_processor: a ``ViCLIPVideoProcessor`` (default: the evaluation defaults).
        tokenizer: a ``CLIPTokenizer`` with the CLIP BPE vocabulary (default: the packaged one).
        clean_text: apply the original text cleaning before tokenising.
    """

    valid_processor_kwargs = ViCLIPProcessorKwargs

    def __init__(
        self,
        video_processor: ViCLIPVideoProcessor | None = None,
        tokenizer: CLIPTokenizer | None = None,
        clean_text: bool = True,
        **kwargs: Any,
    ) -> None:
        if video_processor is None:
            video_processor = ViCLIPVideoProcessor()
        if tokenizer is None:
            tokenizer = load_default_tokenizer()
        self.clean_text = clean_text
        super().__init__(video_processor, tokenizer, **kwargs)

    @classmethod
    def for_model(cls, image_size: int = 224, num_frames: int = 8, **video_kwargs: Any) -> "ViCLIPProcessor":
        """The default processor for a model of the given ``image_size`` and ``num_frames``."""
        video_processor = ViCLIPVideoProcessor.for_model(image_size, num_frames, **video_kwargs)
        return cls(video_processor=video_processor, tokenizer=load_default_tokenizer())

    def __call__(
        self,
        text: str | list[str] | None = None,
        videos: Any = None,
        **kwargs: Unpack[ViCLIPProcessorKwargs],
    ) -> BatchFeature:
        if text is None and videos is None:
            raise ValueError("ViCLIPProcessor needs text, videos, or both")
        merged = self._merge_kwargs(
            ViCLIPProcessorKwargs, tokenizer_init_kwargs=self.tokenizer.init_kwargs, **kwargs
        )
        data: dict[str, Any] = {}
        if text is not None:
            data.update(self.tokenizer(self._prepare_text(text), **merged["text_kwargs"]))
        if videos is not None:
            data.update(self.video_processor(videos, **merged["videos_kwargs"]))
        return_tensors = merged["text_kwargs"].get("return_tensors") or merged["videos_kwargs"].get(
            "return_tensors"
        )
        metadata = data.pop("video_metadata", None)
        features = BatchFeature(data, tensor_type=return_tensors)
        if metadata is not None:
            features["video_metadata"] = metadata
        return features

    def _prepare_text(self, text: str | list[str]) -> str | list[str]:
        texts = [text] if isinstance(text, str) else text
        if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
            raise TypeError(f"text must be a str or a list of str, got {type(text).__name__}")
        if self.clean_text:
            texts = [_clean_text(t) for t in texts]
        return texts[0] if isinstance(text, str) else list(texts)

    @property
    def model_input_names(self) -> list[str]:
        return ["input_ids", "attention_mask", "pixel_values_videos"]


__all__ = ["ViCLIPProcessor", "load_default_tokenizer"]
