"""Converting an original ViCLIP checkpoint into a Hugging Face folder, atomically.

The folder holds ``config.json`` (with ``auto_map``), safetensors weights, the processor (tokenizer files and
``processor_config.json`` sized for the model), the remote-code files and a ``README.md`` model card. Everything is
written into a temporary sibling folder that is renamed at the end, so a failure leaves nothing behind and an
existing folder is only replaced with ``force=True``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers.dynamic_module_utils import custom_object_save

from ..model_card import RELEASES, Release, build_model_card, guess_release
from ..modeling.configuration_viclip import ViCLIPConfig
from ..modeling.modeling_viclip import ViCLIPModel
from ..modeling.original_state_dict import StateDictMismatchError, convert_original_state_dict
from .checkpoint import load_checkpoint
from .errors import ConversionError
from .safetensors_writer import parse_size, write_model_weights
from .sizing import resolve_config
from .verification import VerificationReport, check_remote_code_imports, verify_folder

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
REMOTE_CODE_FILES = (
    "configuration_viclip.py",
    "modeling_viclip.py",
    "video_processing_viclip.py",
    "processing_viclip.py",
)


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


def _size_label(config: ViCLIPConfig, preset: str | None) -> str:
    if preset is not None:
        return {"viclip-l14": "L/14", "viclip-b16": "B/16"}[preset]
    vision = config.vision_config
    return f"custom (vision width {vision.hidden_size}, {vision.num_hidden_layers} layers, patch {vision.patch_size})"


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
    progress: bool = True,
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
        progress: show tqdm progress.

    Raises:
        ConversionError: with a one-line message; nothing is left at ``output_dir`` (an existing folder is kept).
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
    shapes = {key: tuple(tensor.shape) for key, tensor in loaded.state_dict.items()}
    model_config, preset = resolve_config(shapes, size=size, config=config)
    chosen_release = _resolve_release(release, checkpoint, preset)
    try:
        state_dict = convert_original_state_dict(loaded.state_dict, model_config)
    except StateDictMismatchError as error:
        source = f"--config {config}" if isinstance(config, (str, Path)) else (preset or "the given config")
        raise ConversionError(f"{checkpoint} does not fit {source}: {error}") from None
    num_parameters = sum(tensor.numel() for tensor in state_dict.values())

    with _atomic_folder(output_dir) as work:
        files = write_folder(
            work,
            state_dict,
            model_config,
            dtype=torch_dtype,
            max_shard_size=max_shard_size,
            card=build_model_card(
                model_size=_size_label(model_config, preset),
                image_size=model_config.vision_config.image_size,
                num_frames=model_config.vision_config.num_frames,
                num_parameters=num_parameters,
                dtype=str(torch_dtype).removeprefix("torch."),
                source_name=checkpoint.name,
                release=chosen_release,
                repo_id=output_dir.name,
            ),
            progress=progress,
        )
        report = verify_folder(work, state_dict, model_config, torch_dtype) if verify else None
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


def write_folder(
    folder: Path,
    state_dict: Mapping[str, torch.Tensor],
    config: ViCLIPConfig,
    *,
    dtype: torch.dtype = torch.float32,
    max_shard_size: int | str = "2GB",
    card: str | None = None,
    progress: bool = True,
) -> list[str]:
    """Writes a loadable folder (weights, config with ``auto_map``, processor, remote code, card) into ``folder``.

    ``state_dict`` is a `ViCLIPModel` state dict; tensors are streamed to disk one by one. Returns the file names.
    """
    from ..processing import ViCLIPProcessor

    folder.mkdir(parents=True, exist_ok=True)
    write_model_weights(folder, state_dict, dtype, max_shard_size, progress=progress)

    config.architectures = ["ViCLIPModel"]
    config.dtype = str(dtype).removeprefix("torch.")
    # Per-instance `_auto_class` makes transformers write `auto_map` and copy the defining files (and their sibling
    # imports) without marking the classes themselves for remote code in this process.
    with torch.device("meta"):
        model_stub = ViCLIPModel(config)
    with _auto_class(model_stub, "AutoModel"), _auto_class(config, "AutoConfig"):
        custom_object_save(model_stub, folder, config=config)
        config.save_pretrained(folder)

    vision = config.vision_config
    processor = ViCLIPProcessor.for_model(vision.image_size, vision.num_frames)
    video_processor = processor.video_processor
    with _auto_class(video_processor, "AutoVideoProcessor"):
        custom_object_save(video_processor, folder, config=video_processor)
    with _auto_class(processor, "AutoProcessor"):
        processor.save_pretrained(folder)

    if card is not None:
        (folder / "README.md").write_text(card)
    missing = [name for name in REMOTE_CODE_FILES if not (folder / name).is_file()]
    if missing:
        raise ConversionError(f"the remote-code files {missing} were not written to {folder}")
    check_remote_code_imports(folder)
    return sorted(path.name for path in folder.iterdir())


class _auto_class:
    """Sets ``obj._auto_class`` on the instance for the duration of a ``with`` block."""

    def __init__(self, obj: object, name: str) -> None:
        self.obj, self.name = obj, name

    def __enter__(self) -> None:
        self.obj._auto_class = self.name

    def __exit__(self, *exc: object) -> None:
        del self.obj._auto_class


class _atomic_folder:
    """A temporary sibling of ``target`` that becomes ``target`` when the block succeeds and vanishes otherwise.

    Parent folders created for it are removed again on failure.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.created_parents: list[Path] = []
        self.work: Path | None = None

    def __enter__(self) -> Path:
        parent = self.target.absolute().parent
        missing = [p for p in [parent, *parent.parents] if not p.exists()]
        parent.mkdir(parents=True, exist_ok=True)
        self.created_parents = missing  # innermost first
        self.work = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=parent))
        umask = os.umask(0)
        os.umask(umask)
        self.work.chmod(
            0o777 & ~umask
        )  # mkdtemp makes it private; the result should look like any new folder
        return self.work

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.work is not None
        if exc_type is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            for path in self.created_parents:
                try:
                    path.rmdir()
                except OSError:
                    break
            return
        backup = None
        if self.target.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.work.parent))
            os.replace(self.target, backup / "folder")
        os.replace(self.work, self.target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
