"""Uploading a ViCLIP Hub folder (from `viclip convert`, `viclip train`, `viclip finetune-classifier`) to the Hub.

The folder is checked before anything is sent: every expected file is there, its remote code imports no ``viclip``,
and the model, config and processor load. ``--dry-run`` stops after the check and lists what would be uploaded.
The upload is one commit holding exactly the listed files; the card's usage example is pointed at the repo id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ViCLIPError
from .folder import AUTO_CLASS_OF_MODEL, REMOTE_CODE_FILES, HubFolderError, check_remote_code_imports

REQUIRED_FILES = (
    "config.json",
    "processor_config.json",
    "tokenizer_config.json",
    "README.md",
    *REMOTE_CODE_FILES,
)
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")


class PushError(ViCLIPError):
    """The folder cannot be pushed (missing files, does not load, Hub refused); the message is one line."""


@dataclass
class UploadFile:
    path_in_repo: str
    local_path: Path
    size: int


def list_upload_files(folder: str | Path) -> list[UploadFile]:
    """The files a push uploads: everything in the folder except hidden files and ``__pycache__``."""
    folder = Path(folder)
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(
            part.startswith(".") or part == "__pycache__" for part in relative.parts
        ):
            continue
        files.append(UploadFile(relative.as_posix(), path, path.stat().st_size))
    return files


def check_folder(folder: str | Path, load: bool = True) -> None:
    """Checks a converted folder is complete, its remote code is self-contained and (``load``) it loads.

    Raises:
        PushError: naming the missing file or the load failure.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PushError(f"folder {folder} does not exist")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    if missing:
        raise PushError(
            f"{folder} is not a ViCLIP Hub folder: missing {', '.join(missing)} (folders written by viclip convert, "
            "viclip train and viclip finetune-classifier have them; `viclip convert --checkpoint FOLDER` completes "
            "a folder saved otherwise)"
        )
    try:
        check_remote_code_imports(folder)
    except HubFolderError as error:
        raise PushError(str(error)) from None
    if not load:
        return
    import transformers
    from transformers.utils import logging as hf_logging

    architectures = json.loads((folder / "config.json").read_text()).get("architectures") or ["ViCLIPModel"]
    expected = architectures[0]
    if expected not in AUTO_CLASS_OF_MODEL:
        raise PushError(
            f"{folder}: config.json names architecture {expected}, not one of {sorted(AUTO_CLASS_OF_MODEL)}"
        )
    auto_model = getattr(transformers, AUTO_CLASS_OF_MODEL[expected])
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one-line errors, no loading bars
    try:
        model = auto_model.from_pretrained(folder)
        transformers.AutoProcessor.from_pretrained(folder)
    except Exception as error:  # any load failure is reported as one line
        raise PushError(
            f"{folder} does not load: {type(error).__name__}: {str(error).splitlines()[0]}"
        ) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if type(model).__name__ != expected:
        raise PushError(f"{folder} loads as {type(model).__name__}, not {expected}")


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` if the Hub accepts it (``namespace/name``); a `PushError` saying why not otherwise."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise PushError(f"repo id {repo_id!r} must look like 'your-name/model-name'")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise PushError(f"invalid repo id {repo_id!r}: {str(error).splitlines()[0]}") from None
    return repo_id


def card_for_repo(card: str, repo_id: str) -> str:
    """The model card with its usage example pointed at ``repo_id``."""
    return re.sub(r'from_pretrained\("[^"]*"', f'from_pretrained("{repo_id}"', card)


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    model_card: str | None = None,
    api=None,
) -> str:
    """Creates the repo (and branch) if needed and uploads the folder as one commit. Returns the commit URL.

    ``model_card`` replaces the folder's README.md in the upload (e.g. with evaluation results added); the card's
    usage example is pointed at ``repo_id`` either way.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    check_repo_id(repo_id)
    folder = Path(folder)
    api = api or HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    if revision is not None:
        api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
    operations = []
    for item in list_upload_files(folder):
        if item.path_in_repo == "README.md":
            card = model_card if model_card is not None else item.local_path.read_text(encoding="utf-8")
            content = card_for_repo(card, repo_id).encode()
            operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=content))
        else:
            operations.append(
                CommitOperationAdd(path_in_repo=item.path_in_repo, path_or_fileobj=str(item.local_path))
            )
    info = api.create_commit(
        repo_id,
        operations,
        commit_message=commit_message or "Upload ViCLIP with viclip push",
        repo_type="model",
        revision=revision,
    )
    return getattr(info, "commit_url", str(info))
