"""``viclip push``: uploading a converted ViCLIP folder to the Hugging Face Hub (also ``hub_scripts/push_to_hub.py``).

The folder is checked before anything is sent: every expected file is there, its remote code imports no ``viclip``,
and the model, config and processor load. ``--dry-run`` stops after the check and lists what would be uploaded.
The upload is one commit holding exactly the listed files; the card's usage example is pointed at the repo id.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .conversion.converter import REMOTE_CODE_FILES
from .conversion.errors import ConversionError
from .conversion.verification import check_remote_code_imports, quiet_loading

REQUIRED_FILES = (
    "config.json",
    "processor_config.json",
    "tokenizer_config.json",
    "README.md",
    *REMOTE_CODE_FILES,
)
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")


class PushError(Exception):
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
            f"{folder} is not a converted ViCLIP folder: missing {', '.join(missing)} (run viclip convert)"
        )
    try:
        check_remote_code_imports(folder)
    except ConversionError as error:
        raise PushError(str(error)) from None
    if not load:
        return
    from transformers import AutoModel, AutoProcessor

    import viclip  # noqa: F401 - registers the Auto classes

    try:
        with quiet_loading():
            model = AutoModel.from_pretrained(folder)
            AutoProcessor.from_pretrained(folder)
    except Exception as error:  # any load failure is reported as one line
        raise PushError(
            f"{folder} does not load: {type(error).__name__}: {str(error).splitlines()[0]}"
        ) from None
    if type(model).__name__ != "ViCLIPModel":
        raise PushError(f"{folder} loads as {type(model).__name__}, not ViCLIPModel")


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
    api=None,
) -> str:
    """Creates the repo (and branch) if needed and uploads the folder as one commit. Returns the commit URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    folder = Path(folder)
    api = api or HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    if revision is not None:
        api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
    operations = []
    for item in list_upload_files(folder):
        if item.path_in_repo == "README.md":
            content = card_for_repo(item.local_path.read_text(), repo_id).encode()
            operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=content))
        else:
            operations.append(
                CommitOperationAdd(path_in_repo=item.path_in_repo, path_or_fileobj=str(item.local_path))
            )
    info = api.create_commit(
        repo_id,
        operations,
        commit_message=commit_message or "Upload ViCLIP converted with viclip convert",
        repo_type="model",
        revision=revision,
    )
    return getattr(info, "commit_url", str(info))


def _format_size(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def build_parser(prog: str = "viclip push") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Upload a folder written by `viclip convert` to the Hub."
    )
    parser.add_argument("folder", help="the converted folder")
    parser.add_argument("--repo-id", required=True, help="e.g. your-name/ViCLIP-L-14-InternVid-10M-FLT")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--revision", help="branch to push to (created if missing; default: main)")
    parser.add_argument("--commit-message", help="commit message")
    parser.add_argument("--token", help="Hub token (default: the logged-in one / HF_TOKEN)")
    parser.add_argument(
        "--dry-run", action="store_true", help="check the folder loads and list what would be uploaded"
    )
    return parser


def main(argv: list[str] | None = None, prog: str = "viclip push") -> int:
    """Checks then uploads; errors are one line on stderr and exit status 1."""
    args = build_parser(prog).parse_args(argv)
    try:
        check_folder(args.folder)
        files = list_upload_files(args.folder)
        if args.dry_run:
            where = f"{args.repo_id}" + (f"@{args.revision}" if args.revision else "")
            print(f"dry run: {args.folder} loads; would upload {len(files)} files to {where}"
                  f"{' (private)' if args.private else ''}:")  # fmt: skip
            for item in files:
                print(f"  {item.path_in_repo}  {_format_size(item.size)}")
            return 0
        url = push_folder(
            args.folder,
            args.repo_id,
            private=args.private,
            revision=args.revision,
            commit_message=args.commit_message,
            token=args.token,
        )
    except PushError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # Hub/network errors: one line, no traceback
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"{prog}: error: upload failed: {type(error).__name__}: {message}", file=sys.stderr)
        return 1
    print(f"uploaded {len(files)} files from {args.folder} to {args.repo_id}: {url}")
    return 0
