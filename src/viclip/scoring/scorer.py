"""Text-video similarity for (clip, text) pairs at scale, on the inference engine.

Each distinct clip is decoded and embedded once (decoding in CPU tasks, the model in actors, or in-process), each
distinct text is encoded once in the driver by the text tower alone, and a pair's score is the cosine of the two
L2-normalised float32 features (no temperature), as VBench and the InternVid curation compute it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..inference.dtype_choice import choose_dtype
from ..inference.engine import BatchSource, EngineSettings, WorkerSettings, embed_batches
from ..inference.loading import ModelSpec, resolve_model
from ..inference.prepared import READ_COLUMNS, decode_prepared_batch
from ..inference.store import Failure, clip_key
from ..processing.video_reading import DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS
from .inputs import ScoringRow
from .protocols import ScoringProtocol, scoring_protocol

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11 on

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredRow:
    """The outcome of one input row: its index among the inputs, its score (``None`` when its clip failed)."""

    index: int
    score: float | None
    failure: Failure | None = None


@dataclass
class ScoreResult:
    """Every row's score (``None`` for the rows of a clip that failed), the failures and the workers' timings."""

    rows: list[ScoringRow]
    scores: list[float | None]
    failures: list[Failure] = field(default_factory=list)
    model: str = ""
    model_revision: str = ""
    protocol: dict[str, Any] = field(default_factory=dict)
    model_seconds: float = 0.0
    input_wait_seconds: float = 0.0

    @property
    def valid_scores(self) -> np.ndarray:
        return np.asarray([s for s in self.scores if s is not None], dtype=np.float64)

    def quantiles(
        self, points: Sequence[float] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    ) -> dict[float, float]:
        values = self.valid_scores
        return {} if not len(values) else {q: float(np.quantile(values, q)) for q in points}

    def summary(self) -> str:
        scored = len(self.valid_scores)
        text = f"{len(self.rows)} pairs: {scored} scored, {len(self.rows) - scored} failed"
        if scored:
            text += f"; mean {self.valid_scores.mean():.4f}; " + score_distribution(self.valid_scores)
        return text


def score_distribution(values: np.ndarray) -> str:
    """``min / p10 / p25 / median / p75 / p90 / max`` of the scores, one line."""
    names = ("min", "p10", "p25", "median", "p75", "p90", "max")
    points = np.quantile(values, (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0))
    return " ".join(f"{name} {value:.4f}" for name, value in zip(names, points))


def text_features(spec: ModelSpec, processor: Any, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """``(len(texts), dim)`` L2-normalised float32 features of ``texts`` from the text tower alone (float32, CPU;
    texts cost little next to videos, and float32 is what VBench uses)."""
    import torch
    import torch.nn.functional as F

    if (
        spec.model is not None
    ):  # an eval float32 copy unless it is one already: the caller's model is untouched
        model, project = spec.load(torch.float32, next(spec.model.parameters()).device), None
    else:
        from transformers.utils import logging as hf_logging

        from ..modeling import ViCLIPTextModelWithProjection

        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()  # the load report lists the vision tower as unused: expected here
        hf_logging.disable_progress_bar()
        try:
            model = ViCLIPTextModelWithProjection.from_pretrained(spec.folder, dtype=torch.float32).eval()
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        project = True
    device = next(model.parameters()).device
    config = model.config
    vocab_size = getattr(config, "text_config", config).vocab_size
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            ids = processor(text=list(texts[start : start + batch_size]), return_tensors="pt")["input_ids"]
            if int(ids.max()) >= vocab_size:
                raise ValueError(
                    f"the tokenizer produced token id {int(ids.max())} but the model's vocabulary has {vocab_size} "
                    "tokens: the processor does not belong to this model"
                )
            ids = ids.to(device)
            if project:
                features = model(input_ids=ids).text_embeds
            else:
                features = model.get_text_features(input_ids=ids).pooler_output
            chunks.append(F.normalize(features.float(), dim=-1).cpu().numpy())
    return np.concatenate(chunks)


class Scorer:
    """A model, its processor and a scoring protocol, resolved once; scores rows on the inference engine.

    The text tower is loaded once and each distinct text is encoded once per scorer (cached across calls).

    Args:
        model: a saved ViCLIP folder, a Hub id, or a ``ViCLIPModel`` (then pass ``processor``).
        protocol: ``"viclip"`` (the model's video processor, the paper's evaluation) or ``"vbench"`` (VBench
            0.1.5's frames and transform, to reproduce its ``overall_consistency`` / ``temporal_style``).
        engine: where decoding and the model run (default: ``EngineSettings()``).
        dtype: the video tower's compute dtype; texts are always encoded in float32.
        decode_timeout, max_pixels: every decode's deadline (seconds) and pixel budget; a clip past either is
            listed as failed (see :func:`viclip.processing.read_video_clip`).
    """

    def __init__(
        self,
        model: Any,
        *,
        processor: Any = None,
        protocol: str | ScoringProtocol = "viclip",
        engine: EngineSettings | None = None,
        dtype: str = "float32",
        device: str | None = None,
        optimize: str | None = None,
        decode_timeout: float | None = DEFAULT_DECODE_TIMEOUT,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ):
        self.spec, self.processor = resolve_model(model, processor)
        if isinstance(protocol, str):
            protocol = scoring_protocol(
                protocol, self.processor, decode_timeout=decode_timeout, max_pixels=max_pixels
            )
        self.protocol = protocol
        self.engine = engine or EngineSettings()
        self.dtype_choice = choose_dtype(dtype, device, optimize=optimize)  # dtype='auto': bf16 where native
        self.dtype = self.dtype_choice.dtype
        self.device, self.optimize = device, optimize
        self._text_features: dict[str, np.ndarray] = {}

    def text_features(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` L2-normalised float32 features, each new text encoded once."""
        new = [text for text in dict.fromkeys(texts) if text not in self._text_features]
        if new:
            self._text_features.update(zip(new, text_features(self.spec, self.processor, new)))
        return (
            np.stack([self._text_features[text] for text in texts]) if texts else np.zeros((0, 1), np.float32)
        )

    def iter_scores(
        self,
        rows: Sequence[ScoringRow],
        timings: dict[str, float] | None = None,
        prepared_files: Sequence[str] | None = None,
    ) -> Iterator[ScoredRow]:
        """The rows' scores as their clips come back from the model workers (any order).

        ``timings``, if given, receives the workers' summed ``model_sec`` and ``input_wait_sec``;
        ``prepared_files``: the rows' clips are read from these prepared shards instead of their videos.
        """
        texts = list(dict.fromkeys(row.text for row in rows))
        features = dict(zip(texts, self.text_features(texts)))
        clips = list(dict.fromkeys(row.clip for row in rows))
        if not clips:
            return
        clip_id = {clip: i for i, clip in enumerate(clips)}
        rows_of_clip: dict[int, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            rows_of_clip[clip_id[row.clip]].append(index)
        source = (
            self._source(clips) if prepared_files is None else self._prepared_source(clips, prepared_files)
        )
        # The shards' rows come back by their key, not a clip id.
        by_key = (
            {}
            if prepared_files is None
            else {clip_key(c.path, c.start_sec, c.end_sec): i for i, c in enumerate(clips)}
        )
        done: set[int] = set()
        for batch in embed_batches(source, self._worker(), self.engine):
            if timings is not None:
                for name in ("model_sec", "input_wait_sec"):
                    timings[name] = timings.get(name, 0.0) + float(np.sum(batch[name]))
            if "clip_id" in batch:
                ids = batch["clip_id"]
            else:  # prepared shards: the clip by its key
                keys = zip(batch["path"], batch["start_sec"], batch["end_sec"])
                ids = [by_key[clip_key(path, start, end)] for path, start, end in keys]
            for position, cid in enumerate(ids):
                if int(cid) in done:  # a clip twice in the shards is scored once
                    continue
                done.add(int(cid))
                clip, error = clips[int(cid)], str(batch["error"][position])
                failure = Failure(clip.path, clip.start_sec, clip.end_sec, error) if error else None
                embedding = None if error else np.asarray(batch["embedding"][position], dtype=np.float32)
                for index in rows_of_clip[int(cid)]:
                    score = None if embedding is None else float(embedding @ features[rows[index].text])
                    yield ScoredRow(index, score, failure)

    def scores(
        self,
        rows: Sequence[ScoringRow],
        *,
        progress: bool = True,
        timings: dict[str, float] | None = None,
        prepared_files: Sequence[str] | None = None,
    ) -> Iterator[ScoredRow]:
        """:meth:`iter_scores` with a progress bar over the rows."""
        from tqdm.auto import tqdm

        with tqdm(total=len(rows), desc="scoring", unit="pair", disable=not progress or not rows) as bar:
            for scored in self.iter_scores(rows, timings, prepared_files):
                bar.update(1)
                yield scored

    def _source(self, clips: Sequence[Any]) -> BatchSource:
        nan = float("nan")
        return BatchSource(
            self.protocol.decode,
            rows={
                "path": np.asarray([c.path for c in clips], dtype=object).astype(str),
                "start_sec": np.asarray(
                    [nan if c.start_sec is None else c.start_sec for c in clips], np.float64
                ),
                "end_sec": np.asarray([nan if c.end_sec is None else c.end_sec for c in clips], np.float64),
                "clip_id": np.arange(len(clips), dtype=np.int64),
            },
            decode_kwargs=self.protocol.decode_kwargs,
        )

    def _prepared_source(self, clips: Sequence[Any], files: Sequence[str]) -> BatchSource:
        if self.protocol.name != "viclip":
            raise ValueError(
                "prepared shards hold the frames of the viclip protocol; --protocol vbench reads the videos"
            )
        keys = {clip_key(c.path, c.start_sec, c.end_sec) for c in clips}
        return BatchSource(
            decode_prepared_batch,
            parquet_files=list(files),
            columns=READ_COLUMNS,
            decode_kwargs={"video_processor": self.protocol.normaliser, "todo": keys},
        )

    def _worker(self) -> WorkerSettings:
        engine = self.engine
        return WorkerSettings(
            self.spec,
            self.protocol.normaliser,
            self.dtype,
            self.device,
            None if engine.runner == "local" or engine.num_gpus else engine.cpus_per_actor,
            self.optimize,
            engine.batch_size,
        )


class ScorerSettings(TypedDict, total=False):
    """The keywords of :class:`Scorer` after ``model``, which :func:`score_pairs` and ``score_to_folder`` take."""

    processor: Any
    protocol: str | ScoringProtocol
    engine: EngineSettings | None
    dtype: str
    device: str | None
    optimize: str | None
    decode_timeout: float | None
    max_pixels: int | None


def score_pairs(
    rows: Sequence[ScoringRow],
    model: Any,
    *,
    progress: bool = True,
    prepared_files: Sequence[str] | None = None,
    **settings: Unpack[ScorerSettings],
) -> ScoreResult:
    """Score every (clip, text) row: the cosine of ViCLIP's video and text features.

    Args:
        rows: :class:`~.inputs.ScoringRow` s (:func:`~.inputs.read_scoring_inputs` reads lists and pairs).
        model: a :class:`Scorer`, or a saved ViCLIP folder, a Hub id or a ``ViCLIPModel`` (then pass
            ``processor``) for a new one with ``settings`` (:class:`ScorerSettings`).
        prepared_files: the shards the rows were read from (``read_scoring_inputs(folder).prepared_files``).

    Unreadable videos are not fatal: their rows score ``None`` and are listed in ``failures``.
    """
    scorer = model if isinstance(model, Scorer) else Scorer(model, **settings)
    scores: list[float | None] = [None] * len(rows)
    failures: dict[Failure, None] = {}
    timings: dict[str, float] = {}
    for scored in scorer.scores(rows, progress=progress, timings=timings, prepared_files=prepared_files):
        scores[scored.index] = scored.score
        if scored.failure is not None:
            failures[scored.failure] = None
    for failure in failures:
        logger.warning("skipped %s: %s", failure.describe(), failure.error)
    return ScoreResult(
        list(rows),
        scores,
        list(failures),
        scorer.spec.name,
        scorer.spec.revision,
        scorer.protocol.describe(),
        timings.get("model_sec", 0.0),
        timings.get("input_wait_sec", 0.0),
    )
