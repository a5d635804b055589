"""Text-video similarity for (clip, text) pairs at scale, on the inference engine.

Each distinct clip is decoded and embedded once (decoding in CPU tasks, the model in actors, or in-process), each
distinct text is encoded once in the driver by the text tower alone, and a pair's score is the cosine of the two
L2-normalised float32 features (no temperature), as VBench and the InternVid curation compute it.
"""

from __future__ import annotations

import logging
import os
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
from ..inference.text_padding import trim_after_end_of_text
from ..processing.video_reading import DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS
from .inputs import ScoringRow
from .protocols import ScoringProtocol, scoring_protocol
from .reference import DEFAULT_SELF_SIZE, ReferenceSet, reference_features, resolve_reference

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11 on

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredRow:
    """The outcome of one input row: its index among the inputs, its score and percentile among the reference
    captions (``None`` when its clip failed; the percentile also when the scorer has no reference set)."""

    index: int
    score: float | None
    failure: Failure | None = None
    percentile: float | None = None


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
    percentiles: list[float | None] = field(default_factory=list)
    reference: dict[str, Any] = field(default_factory=dict)  # the reference set's name, version, sha256, size

    @property
    def valid_scores(self) -> np.ndarray:
        return np.asarray([s for s in self.scores if s is not None], dtype=np.float64)

    @property
    def valid_percentiles(self) -> np.ndarray:
        return np.asarray([p for p in self.percentiles if p is not None], dtype=np.float64)

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
        if len(self.valid_percentiles):
            text += "\npercentiles: " + score_distribution(self.valid_percentiles)
            text += f" (reference: {describe_reference(self.reference)})"
        return text


def describe_reference(info: dict[str, Any]) -> str:
    """``name, N captions, version, sha256 prefix`` of a reference set's ``describe()``."""
    return (
        f"{info.get('reference')}, {info.get('reference_size')} captions, {info.get('reference_version')}, "
        f"sha256 {str(info.get('reference_sha256'))[:12]}"
    )


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
            ids = trim_after_end_of_text({"input_ids": ids})["input_ids"].to(device)
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
        reference: what ``percentile`` ranks a score against (see :mod:`.reference`): ``"default"`` (the packaged
            captions), ``"self"`` (``reference_size`` other captions of the scored rows, sampled with
            ``reference_seed``), a caption file, a :class:`~.reference.ReferenceSet`, or ``None`` (no percentiles).
        reference_cache: where the reference features are cached per model (default
            :func:`~.reference.default_cache_dir`).
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
        reference: str | os.PathLike | ReferenceSet | None = "default",
        reference_size: int = DEFAULT_SELF_SIZE,
        reference_seed: int = 0,
        reference_cache: str | os.PathLike | None = None,
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
        self.reference, self.reference_size, self.reference_seed = reference, reference_size, reference_seed
        self.reference_cache = reference_cache
        self._reference_features: dict[str, np.ndarray] = {}

    def reference_for(self, rows: Sequence[ScoringRow]) -> ReferenceSet | None:
        """The reference set these rows are ranked against (``self`` samples their texts)."""
        texts = [row.text for row in rows]
        return resolve_reference(self.reference, texts, self.reference_size, self.reference_seed)

    def reference_features(self, reference: ReferenceSet) -> np.ndarray:
        """The set's text features for this model: from memory, the cache folder, or encoded once."""
        if reference.sha256 not in self._reference_features:
            encode = lambda texts: text_features(self.spec, self.processor, texts)  # noqa: E731
            self._reference_features[reference.sha256] = reference_features(
                reference, self.spec.fingerprint, encode, self.reference_cache
            )
        return self._reference_features[reference.sha256]

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
        reference: ReferenceSet | str | None = "auto",
    ) -> Iterator[ScoredRow]:
        """The rows' scores (and percentiles) as their clips come back from the model workers (any order).

        ``timings``, if given, receives the workers' summed ``model_sec`` and ``input_wait_sec``;
        ``prepared_files``: the rows' clips are read from these prepared shards instead of their videos;
        ``reference``: the set to rank against (``"auto"``: :meth:`reference_for` the rows).
        """
        if isinstance(reference, str):
            reference = self.reference_for(rows)
        ranked = None if reference is None else self.reference_features(reference).T
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
            embeddings = np.asarray(batch["embedding"], dtype=np.float32)
            # The batch's cosines with every reference caption: one matrix product.
            reference_scores = None if ranked is None else embeddings @ ranked
            for position, cid in enumerate(ids):
                if int(cid) in done:  # a clip twice in the shards is scored once
                    continue
                done.add(int(cid))
                clip, error = clips[int(cid)], str(batch["error"][position])
                failure = Failure(clip.path, clip.start_sec, clip.end_sec, error) if error else None
                indices = rows_of_clip[int(cid)]
                if error:
                    yield from (ScoredRow(index, None, failure) for index in indices)
                    continue
                row_texts = [rows[index].text for index in indices]
                scores = np.stack([features[text] for text in row_texts]) @ embeddings[position]
                percentiles = [None] * len(indices)
                if reference_scores is not None:
                    repeated = np.broadcast_to(reference_scores[position], (len(indices), ranked.shape[1]))
                    percentiles = reference.percentiles(scores, repeated, row_texts).tolist()
                for index, score, percentile in zip(indices, scores.tolist(), percentiles):
                    yield ScoredRow(index, score, None, percentile)

    def scores(
        self,
        rows: Sequence[ScoringRow],
        *,
        progress: bool = True,
        timings: dict[str, float] | None = None,
        prepared_files: Sequence[str] | None = None,
        reference: ReferenceSet | str | None = "auto",
    ) -> Iterator[ScoredRow]:
        """:meth:`iter_scores` with a progress bar over the rows."""
        from tqdm.auto import tqdm

        with tqdm(total=len(rows), desc="scoring", unit="pair", disable=not progress or not rows) as bar:
            for scored in self.iter_scores(rows, timings, prepared_files, reference):
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
    reference: str | os.PathLike | ReferenceSet | None
    reference_size: int
    reference_seed: int
    reference_cache: str | os.PathLike | None


def score_pairs(
    rows: Sequence[ScoringRow],
    model: Any,
    *,
    progress: bool = True,
    prepared_files: Sequence[str] | None = None,
    **settings: Unpack[ScorerSettings],
) -> ScoreResult:
    """Score every (clip, text) row: the cosine of ViCLIP's video and text features, and its percentile among
    the scorer's reference captions (``settings["reference"]``, default the packaged set; see :mod:`.reference`).

    Args:
        rows: :class:`~.inputs.ScoringRow` s (:func:`~.inputs.read_scoring_inputs` reads lists and pairs).
        model: a :class:`Scorer`, or a saved ViCLIP folder, a Hub id or a ``ViCLIPModel`` (then pass
            ``processor``) for a new one with ``settings`` (:class:`ScorerSettings`).
        prepared_files: the shards the rows were read from (``read_scoring_inputs(folder).prepared_files``).

    Unreadable videos are not fatal: their rows score ``None`` and are listed in ``failures``.
    """
    scorer = model if isinstance(model, Scorer) else Scorer(model, **settings)
    scores: list[float | None] = [None] * len(rows)
    percentiles: list[float | None] = [None] * len(rows)
    failures: dict[Failure, None] = {}
    timings: dict[str, float] = {}
    reference = scorer.reference_for(rows)
    for scored in scorer.scores(
        rows, progress=progress, timings=timings, prepared_files=prepared_files, reference=reference
    ):
        scores[scored.index], percentiles[scored.index] = scored.score, scored.percentile
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
        percentiles,
        {} if reference is None else reference.describe(),
    )
