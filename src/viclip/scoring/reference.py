"""Calibrated scores: where a caption's cosine with its clip falls among a reference set of other captions.

``viclip_percentile`` of a (clip, caption) pair is the share of the reference captions whose cosine with the clip is
below the caption's own cosine, ties (within ``TIE_TOLERANCE``) counting half: a caption identical to a reference
caption gets half a reference's share for it, never a full one. It is monotone in the raw score for a given clip and
lies in [0, 1]. It removes what a raw cosine mixes in: how much the clip resembles any caption at all.

The reference set is the packaged default (``reference_captions.txt``: the Kinetics-700 class names in the ActionCLIP
templates and the synthetic shape captions, written by ``scripts/make_reference_captions.py``), a user's file, or ``self``: N other captions of the same input. Its text
features are computed once per model and cached as safetensors under :func:`default_cache_dir`, keyed by the model
fingerprint and the set's sha256.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ViCLIPError
from ..inference.store import atomic_write_bytes

DEFAULT_REFERENCE_VERSION = "viclip-reference-captions/1"
DEFAULT_REFERENCE_FILE = "reference_captions.txt"
DEFAULT_SELF_SIZE = 1000
MIN_REFERENCE_CAPTIONS = 10
TIE_TOLERANCE = 1e-6
PERCENTILE_COLUMN = "viclip_percentile"


class ReferenceCaptionsError(ViCLIPError, ValueError):
    """A reference caption set that cannot be used (empty, not UTF-8, too few captions)."""


@dataclass(frozen=True)
class ReferenceSet:
    """The captions a score is ranked against. With ``exclude_own`` (the ``self`` set) each row is ranked against
    ``size`` of ``captions`` other than its own text; otherwise against all of them."""

    name: str
    captions: tuple[str, ...]
    version: str = ""
    size: int = 0
    exclude_own: bool = False

    @property
    def sha256(self) -> str:
        text = "\n".join(self.captions) + f"\nsize={self.size} exclude_own={self.exclude_own}"
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """What the output records so runs can be compared (and a resumed run refused when it changed)."""
        return {
            "reference": self.name,
            "reference_version": self.version,
            "reference_sha256": self.sha256,
            "reference_size": self.size,
        }

    def percentiles(
        self, scores: np.ndarray, reference_scores: np.ndarray, texts: Sequence[str]
    ) -> np.ndarray:
        """The rows' percentiles from their raw ``scores`` (R,) and their clips' cosines with ``captions`` (R, M)."""
        reference_scores = np.asarray(reference_scores, dtype=np.float64)
        if self.exclude_own:  # each row: the pool less its own text, or less the spare when not in it
            reference_scores = reference_scores.copy()
            position = {caption: i for i, caption in enumerate(self.captions)}
            for row, text in enumerate(texts):
                reference_scores[row, position.get(text, len(self.captions) - 1)] = np.nan
        return percentile_ranks(np.asarray(scores, dtype=np.float64), reference_scores)


def percentile_ranks(scores: np.ndarray, reference_scores: np.ndarray) -> np.ndarray:
    """``(below + ties / 2) / count`` per row: ``below`` the reference cosines lower than the score by more than
    ``TIE_TOLERANCE``, ``ties`` those within it; NaN references are not counted."""
    scores = scores[:, None]
    valid = ~np.isnan(reference_scores)
    with np.errstate(invalid="ignore"):
        below = (reference_scores < scores - TIE_TOLERANCE) & valid
        tied = (np.abs(reference_scores - scores) <= TIE_TOLERANCE) & valid
    return (below.sum(1) + 0.5 * tied.sum(1)) / valid.sum(1)


def default_reference() -> ReferenceSet:
    """The packaged default set (about 1,000 captions), with its version."""
    text = resources.files(__package__).joinpath(DEFAULT_REFERENCE_FILE).read_text(encoding="utf-8")
    captions = tuple(line for line in text.splitlines() if line.strip())
    return ReferenceSet("default", captions, DEFAULT_REFERENCE_VERSION, len(captions))


def read_reference_captions(path: str | os.PathLike) -> ReferenceSet:
    """A user's reference set: one caption per line, or a caption list's ``text``/``caption`` column
    (``.csv``/``.tsv``/``.jsonl``). Refused in one line naming the file when empty, not UTF-8 or under 10 captions."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"reference captions {path}: no such file")
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReferenceCaptionsError(
            f"reference captions {path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    if not raw.strip():
        raise ReferenceCaptionsError(f"reference captions {path}: empty file")
    if path.suffix.lower() in (".csv", ".tsv", ".jsonl", ".json"):
        captions = _list_captions(path)
    else:
        captions = [line.strip() for line in raw.splitlines() if line.strip()]
    captions = list(dict.fromkeys(captions))
    if len(captions) < MIN_REFERENCE_CAPTIONS:
        raise ReferenceCaptionsError(
            f"reference captions {path}: {len(captions)} distinct captions, at least {MIN_REFERENCE_CAPTIONS} needed"
        )
    return ReferenceSet(
        str(path),
        tuple(captions),
        f"file sha256 {hashlib.sha256(raw.encode()).hexdigest()[:16]}",
        len(captions),
    )


def _list_captions(path: Path) -> list[str]:
    from ..data.video_list import read_list_rows
    from .inputs import TEXT_COLUMNS

    captions = []
    for where, row in read_list_rows(path):
        column = next((c for c in TEXT_COLUMNS if c in row), None)
        if column is None:
            raise ReferenceCaptionsError(f"{where}: no text column (one of {', '.join(TEXT_COLUMNS)})")
        if isinstance(row[column], str) and row[column].strip():
            captions.append(row[column].strip())
    return captions


def self_reference(texts: Sequence[str], size: int = DEFAULT_SELF_SIZE, seed: int = 0) -> ReferenceSet:
    """``size`` captions of the input itself, sampled with ``seed``; each row is ranked against ``size`` of them
    other than its own text (a pool of ``size + 1``: the row's own text is dropped, or else the spare)."""
    if size < MIN_REFERENCE_CAPTIONS:
        raise ReferenceCaptionsError(
            f"--reference-size {size}: at least {MIN_REFERENCE_CAPTIONS} captions needed"
        )
    distinct = sorted(set(texts))
    if len(distinct) - 1 < MIN_REFERENCE_CAPTIONS:
        raise ReferenceCaptionsError(
            f"reference captions self: the input has {len(distinct)} distinct captions, so each row has "
            f"{max(len(distinct) - 1, 0)} others; at least {MIN_REFERENCE_CAPTIONS} needed (give --reference-captions "
            "default or a file)"
        )
    pool = random.Random(seed).sample(distinct, min(size + 1, len(distinct)))
    return ReferenceSet(
        f"self (seed {seed})", tuple(pool), f"self/seed={seed}", min(size, len(pool) - 1), True
    )


def resolve_reference(
    reference: str | os.PathLike | ReferenceSet | None, texts: Sequence[str], size: int, seed: int
) -> ReferenceSet | None:
    """``"default"``, ``"self"``, a file, a :class:`ReferenceSet`, or ``None`` (no percentiles)."""
    if reference is None or isinstance(reference, ReferenceSet):
        return reference
    if reference == "default":
        return default_reference()
    if reference == "self":
        return self_reference(texts, size, seed)
    return read_reference_captions(reference)


def default_cache_dir() -> Path:
    """``$VICLIP_CACHE/reference-features``, else ``$HF_HOME/viclip/reference-features`` (as the OpenVINO cache)."""
    if os.environ.get("VICLIP_CACHE"):
        return Path(os.environ["VICLIP_CACHE"]) / "reference-features"
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "viclip" / "reference-features"


def reference_features(
    reference: ReferenceSet,
    fingerprint: str,
    encode: Callable[[Sequence[str]], np.ndarray],
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """The ``(len(captions), dim)`` text features of the set for the model ``fingerprint``: read from the cache, or
    encoded by ``encode`` once and written there atomically as safetensors."""
    from safetensors.numpy import load_file, save

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"{fingerprint}-{reference.sha256[:24]}.safetensors"
    if path.is_file():
        try:
            features = load_file(str(path))["features"]
            if len(features) == len(reference.captions):
                return features
        except Exception:  # a damaged cache file is rebuilt, never trusted
            pass
    features = np.ascontiguousarray(encode(list(reference.captions)), dtype=np.float32)
    metadata = {"model_fingerprint": fingerprint, **{k: str(v) for k, v in reference.describe().items()}}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, save({"features": features}, metadata=metadata))
    except OSError:  # an unwritable cache costs time, not the run
        pass
    return features
