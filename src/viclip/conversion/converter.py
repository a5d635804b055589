"""Converting an original ViCLIP checkpoint into a Hugging Face folder, atomically.

The folder holds ``config.json`` (with ``auto_map``), safetensors weights, the processor (tokenizer files and
``processor_config.json`` sized for the model), the remote-code files and a ``README.md`` model card. Everything is
written into a temporary sibling folder that is renamed at the end, so a failure leaves nothing behind and an
existing folder is only replaced with ``force=True``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers.dynamic_module_utils import custom_object_save

from ..hub.folder import HubFolderError, atomic_folder, auto_class, finish_folder, write_processor
from ..hub.model_card import (
    RELEASES,
    Release,
    build_model_card,
    guess_release,
    size_label,
    with_evaluation_results,
)
from ..modeling.configuration_viclip import ViCLIPConfig
from ..modeling.modeling_viclip import ViCLIPModel
from ..modeling.original_state_dict import (
    StateDictMismatchError,
    convert_original_state_dict,
    expected_model_shapes,
)
from .checkpoint import load_checkpoint
from .errors import ConversionError
from .safetensors_writer import parse_size, write_model_weights
from .sizing import resolve_config, tokenizer_mismatch
from .verification import VerificationReport, verify_folder

# A checkpoint whose keys start so is already a ViCLIPModel state dict (a folder saved by this library).
_MODEL_PREFIXES = ("vision_model.", "text_model.", "visual_projection.", "text_projection.")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class ConversionResult:
    """What `convert_checkpoint` wrote."""

    output_dir: Path
    config: ViCLIPConfig
    preset: str | None
    release: Release | None
    layout: str
    files: list[str]
    num_parameters: int
    seconds: float
    verification: VerificationReport | None = None


def parse_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ConversionError(f"unsupported dtype {dtype}; choose one of {sorted(DTYPES)}")
        return dtype
    if dtype not in DTYPES:
        raise ConversionError(f"unsupported dtype {dtype!r}; choose one of {sorted(DTYPES)}")
    return DTYPES[dtype]


def _resolve_release(name: str | None, checkpoint: Path, preset: str | None) -> Release | None:
    if name is None:
        return guess_release(checkpoint, preset)
    if name == "none":
        return None
    if name not in RELEASES:
        raise ConversionError(f"unknown release {name!r}; choose one of {sorted(RELEASES)} or 'none'")
    release = RELEASES[name]
    if release.preset != preset:
        raise ConversionError(
            f"release {name} is a {release.preset} model, but the checkpoint converts as {preset}"
        )
    return release


def convert_checkpoint(
    checkpoint: str | Path,
    output_dir: str | Path,
    *,
    size: str | None = None,
    config: str | Path | ViCLIPConfig | None = None,
    dtype: str | torch.dtype = "float32",
    max_shard_size: int | str = "2GB",
    force: bool = False,
    verify: bool = False,
    release: str | None = None,
    evaluation_tables: Sequence[str] = (),
    progress: bool = True,
    allow_vocab_mismatch: bool = False,
) -> ConversionResult:
    """Converts an original ViCLIP checkpoint (any layout, see `load_checkpoint`) into a Hugging Face folder.

    Args:
        checkpoint: the ``.pth`` / ``.safetensors`` file (or an ``-hf`` folder).
        output_dir: the folder to create; it must not exist unless ``force``.
        size: "l" or "b" (default: detected from the shapes); ``config`` instead for any other size.
        config: a `ViCLIPConfig` or the path of its JSON.
        dtype: stored weight dtype: "float32" (the releases' precision), "bfloat16" or "float16".
        max_shard_size: above it the weights are sharded with an index (e.g. "2GB").
        force: replace an existing ``output_dir``.
        verify: reload the written folder and check it reproduces the converted model, also through
            ``trust_remote_code`` in a process without viclip (see `verify_folder`).
        release: a key of `RELEASES` naming the training data for the model card ("none": unknown); default: guessed
            from the file name.
        evaluation_tables: Markdown tables of results measured on this model (see
            `viclip.evaluation.benchmarks.results_markdown_table`), added to the model card.
        progress: show tqdm progress.
        allow_vocab_mismatch: convert a model whose text vocabulary the packaged CLIP tokenizer does not fit
            (e.g. a test checkpoint fed token ids directly) with a warning, instead of refusing it: the folder's
            processor cannot tokenize text for it, and ``verify`` skips its real-text check.

    Raises:
        ConversionError: with a one-line message; nothing is left at ``output_dir`` (an existing folder is kept).
            `VerificationError` (a subclass) when ``verify`` finds that the written folder differs.
    """
    start = time.perf_counter()
    checkpoint, output_dir = Path(checkpoint), Path(output_dir)
    if output_dir.exists() and not force:
        raise ConversionError(f"output folder {output_dir} already exists; pass --force to replace it")
    if output_dir.exists() and not output_dir.is_dir():
        raise ConversionError(f"output path {output_dir} exists and is not a folder")
    torch_dtype = parse_dtype(dtype)
    parse_size(max_shard_size)

    loaded = load_checkpoint(checkpoint)
    if config is None and size is None and checkpoint.is_dir() and (checkpoint / "config.json").is_file():
        config = checkpoint / "config.json"  # a saved Hub folder carries its own size
    shapes = {key: tuple(tensor.shape) for key, tensor in loaded.state_dict.items()}
    model_config, preset = resolve_config(shapes, size=size, config=config)
    chosen_release = _resolve_release(release, checkpoint, preset)
    vocab_problem = tokenizer_mismatch(model_config)
    if vocab_problem and not allow_vocab_mismatch:
        raise ConversionError(
            f"{checkpoint}: {vocab_problem}: the converted folder could not read text. Pass "
            "--allow-vocab-mismatch to convert it anyway (the text tower then takes token ids only)"
        )
    state_dict = _model_state_dict(loaded, model_config, config, preset)
    num_parameters = sum(tensor.numel() for tensor in state_dict.values())

    try:
        with atomic_folder(output_dir, force=force) as work:
            write_folder(work, state_dict, model_config, dtype=torch_dtype, max_shard_size=max_shard_size,
                         progress=progress)  # fmt: skip
            report = (
                verify_folder(work, state_dict, model_config, torch_dtype, real_text=not vocab_problem)
                if verify
                else None
            )
            provenance = (
                f"Converted from `{checkpoint.name}` with `viclip convert`: every original weight mapped to exactly "
                "one weight of this model (the packed attention projections split), none left over."
            )
            if report is not None:
                provenance += (
                    " `--verify` reloaded this folder with `AutoModel` (with the `viclip` package and through "
                    "`trust_remote_code` without it) and found outputs equal to the converted model's "
                    f"({report.summary()}). The outputs were not compared with the original code here."
                )
            if vocab_problem:
                provenance += (
                    f" Its text tower cannot read text through the bundled tokenizer: {vocab_problem}; feed it "
                    "token ids of its own vocabulary."
                )
            card = build_model_card(
                model_size=size_label(model_config),
                image_size=model_config.vision_config.image_size,
                num_frames=model_config.vision_config.num_frames,
                num_parameters=num_parameters,
                dtype=str(torch_dtype).removeprefix("torch."),
                provenance=provenance,
                release=chosen_release,
                repo_id=output_dir.name,
            )
            files = finish_folder(work, with_evaluation_results(card, evaluation_tables))
    except HubFolderError as error:
        raise ConversionError(str(error)) from None
    except ConversionError as error:  # from writing or verifying: name the checkpoint (the type says which)
        raise type(error)(f"{checkpoint}: {error}") from None
    if vocab_problem:  # said once the folder exists, not before a failure
        warnings.warn(
            f"{output_dir}: {vocab_problem}: converted as asked (--allow-vocab-mismatch), but its processor cannot "
            "tokenize text for this model",
            UserWarning,
            stacklevel=2,
        )
    return ConversionResult(
        output_dir=output_dir,
        config=model_config,
        preset=preset,
        release=chosen_release,
        layout=loaded.layout,
        files=files,
        num_parameters=num_parameters,
        seconds=time.perf_counter() - start,
        verification=report,
    )


def _model_state_dict(
    loaded, model_config: ViCLIPConfig, config, preset: str | None
) -> dict[str, torch.Tensor]:
    """The `ViCLIPModel` state dict of a loaded checkpoint: mapped from the original names, or taken as it is when
    the checkpoint already is one (a folder saved by this library, e.g. `viclip train`'s ``final/``)."""
    source = f"--config {config}" if isinstance(config, (str, Path)) else (preset or "the given config")
    state_dict = loaded.state_dict
    try:
        if not any(key.startswith(_MODEL_PREFIXES) for key in state_dict):
            return convert_original_state_dict(state_dict, model_config)
        expected = expected_model_shapes(model_config)
        missing = sorted(set(expected) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(expected))
        mismatched = sorted(
            f"{key}: {tuple(state_dict[key].shape)} vs {expected[key]}"
            for key in set(expected) & set(state_dict)
            if tuple(state_dict[key].shape) != expected[key]
        )
    except StateDictMismatchError as error:
        raise ConversionError(f"{loaded.path} does not fit {source}: {error}") from None
    problems = [
        f"{title} ({len(keys)}): {', '.join(keys[:10])}{', ...' if len(keys) > 10 else ''}"
        for title, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches", mismatched),
        )
        if keys
    ]
    if problems:
        raise ConversionError(
            f"{loaded.path} holds ViCLIPModel weights that do not fit {source}: {'; '.join(problems)}"
        )
    return dict(state_dict)


def write_folder(
    folder: Path,
    state_dict: Mapping[str, torch.Tensor],
    config: ViCLIPConfig,
    *,
    dtype: torch.dtype = torch.float32,
    max_shard_size: int | str = "2GB",
    progress: bool = True,
) -> None:
    """Writes the weights, the config with ``auto_map``, the processor and the remote code into ``folder``.

    ``state_dict`` is a `ViCLIPModel` state dict; tensors are streamed to disk one by one (no model is built, so a
    full-size checkpoint converts in about its own size of memory). `hub.folder.finish_folder` adds the card.
    """
    from ..processing import ViCLIPProcessor

    folder.mkdir(parents=True, exist_ok=True)
    write_model_weights(folder, state_dict, dtype, max_shard_size, progress=progress)

    config.architectures = ["ViCLIPModel"]
    config.dtype = str(dtype).removeprefix("torch.")
    with torch.device("meta"):
        model_stub = ViCLIPModel(config)
    with auto_class(model_stub, "AutoModel"), auto_class(config, "AutoConfig"):
        custom_object_save(model_stub, folder, config=config)
        config.save_pretrained(folder)
    vision = config.vision_config
    write_processor(folder, ViCLIPProcessor.for_model(vision.image_size, vision.num_frames))
