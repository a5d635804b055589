"""Complete Hub folders: weights, config with ``auto_map``, processor, remote code and a model card, written atomically.

Every folder the library saves (``viclip convert``, ``viclip train``'s ``final/``, ``viclip finetune-classifier``)
is written here, so each one loads with ``AutoModel``/``AutoProcessor`` (with the package, or through
``trust_remote_code`` without it) and ``viclip push`` accepts it.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ViCLIPError

# The files a Hub folder carries so that it loads through trust_remote_code without the viclip package.
REMOTE_CODE_FILES = (
    "configuration_viclip.py",
    "modeling_viclip.py",
    "video_processing_viclip.py",
    "processing_viclip.py",
)
_FORBIDDEN_TOP_LEVEL = {"viclip"}

# Model class name -> the Auto class that loads it.
AUTO_CLASS_OF_MODEL = {
    "ViCLIPModel": "AutoModel",
    "ViCLIPForVideoClassification": "AutoModelForVideoClassification",
}


class HubFolderError(ViCLIPError):
    """A Hub folder could not be written or is not self-contained; the message is one line."""


def check_remote_code_imports(folder: str | Path) -> list[str]:
    """Checks every ``.py`` file of a folder imports only its siblings and installed top-level packages, never
    ``viclip``. Returns the third-party top-level packages imported (a loading machine needs them).

    Raises:
        HubFolderError: naming the file and the offending import.
    """
    folder = Path(folder)
    siblings = {path.stem for path in folder.glob("*.py")}
    third_party: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                module = (node.module or "").split(".")[0]
                if node.level != 1 or module not in siblings:
                    raise HubFolderError(
                        f"{path.name} imports {'.' * node.level}{node.module or ''}, which is not a file of {folder}"
                    )
                continue
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in _FORBIDDEN_TOP_LEVEL:
                    raise HubFolderError(
                        f"{path.name} imports {name}: remote code must not need the viclip package"
                    )
                if top not in sys.stdlib_module_names and top != "__future__":
                    third_party.add(top)
    return sorted(third_party)


@contextmanager
def auto_class(obj: object, name: str) -> Iterator[None]:
    """Sets ``obj._auto_class`` on the instance for the block.

    A per-instance ``_auto_class`` makes transformers write ``auto_map`` and copy the defining files (and their
    sibling imports) without marking the classes themselves for remote code in this process.
    """
    obj._auto_class = name
    try:
        yield
    finally:
        del obj._auto_class


@contextmanager
def atomic_folder(target: str | Path, *, force: bool = False) -> Iterator[Path]:
    """A temporary sibling of ``target`` that becomes ``target`` when the block succeeds and vanishes otherwise.

    An existing ``target`` is replaced only with ``force`` (and only once the new folder is complete); parent
    folders created for it are removed again on failure.

    Raises:
        HubFolderError: ``target`` exists (without ``force``) or is a file.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise HubFolderError(f"output path {target} exists and is not a folder")
    if target.exists() and not force:
        raise HubFolderError(f"output folder {target} already exists; pass --force to replace it")
    parent = target.absolute().parent
    created_parents = [p for p in [parent, *parent.parents] if not p.exists()]  # innermost first
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result should look like any new folder
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        for path in created_parents:
            try:
                path.rmdir()
            except OSError:
                break
        raise
    backup = None
    if target.exists():
        backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
        os.replace(target, backup / "folder")
    os.replace(work, target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def write_processor(folder: Path, processor) -> None:
    """Saves ``processor`` (a `ViCLIPProcessor`) with ``auto_map`` and its remote-code files."""
    from transformers.dynamic_module_utils import custom_object_save

    video_processor = processor.video_processor
    with auto_class(video_processor, "AutoVideoProcessor"):
        custom_object_save(video_processor, folder, config=video_processor)
    with auto_class(processor, "AutoProcessor"):
        processor.save_pretrained(folder)


def finish_folder(folder: Path, model_card: str) -> list[str]:
    """Writes the card and checks the remote code is complete and self-contained. Returns the file names."""
    (folder / "README.md").write_text(model_card, encoding="utf-8")
    missing = [name for name in REMOTE_CODE_FILES if not (folder / name).is_file()]
    if missing:
        raise HubFolderError(f"the remote-code files {missing} were not written to {folder}")
    check_remote_code_imports(folder)
    return sorted(path.name for path in folder.iterdir())


def save_hub_folder(
    model,
    processor,
    output_dir: str | Path,
    *,
    model_card: str | None = None,
    max_shard_size: int | str = "2GB",
    force: bool = False,
) -> list[str]:
    """Saves a trained `ViCLIPModel` or `ViCLIPForVideoClassification` with its processor as a complete Hub folder.

    The folder (safetensors weights, config with ``auto_map``, processor and tokenizer, remote code, ``README.md``)
    appears at ``output_dir`` only when complete; an existing folder is replaced only with ``force``.
    ``model_card`` defaults to `model_card.build_trained_model_card`. Returns the file names.

    Raises:
        HubFolderError: the model class has no Auto class, or the folder cannot be written.
    """
    from .model_card import build_trained_model_card

    class_name = type(model).__name__
    if class_name not in AUTO_CLASS_OF_MODEL:
        raise HubFolderError(
            f"cannot save a {class_name} as a ViCLIP Hub folder; expected one of {sorted(AUTO_CLASS_OF_MODEL)}"
        )
    if model_card is None:
        model_card = build_trained_model_card(model, repo_id=Path(output_dir).name)
    from transformers.dynamic_module_utils import custom_object_save

    config = model.config
    auto_map = getattr(config, "auto_map", None)
    with atomic_folder(output_dir, force=force) as work:
        try:
            with auto_class(model, AUTO_CLASS_OF_MODEL[class_name]), auto_class(config, "AutoConfig"):
                custom_object_save(model, work, config=config)  # the code files, and auto_map in the config
                model.save_pretrained(work, max_shard_size=max_shard_size)
        finally:
            config.auto_map = auto_map  # the in-memory model stays as it was
        write_processor(work, processor)
        files = finish_folder(work, model_card)
    return files
