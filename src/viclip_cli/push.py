"""Upload a ViCLIP Hub folder (written by viclip convert, viclip train or viclip finetune-classifier) to the Hub.

The folder is checked before anything is sent: every expected file is there, its remote code imports no viclip,
and the model, config and processor load. --dry-run stops after the check and lists what would be uploaded.

example: viclip push ViCLIP-L-14-10M-FLT --repo-id you/ViCLIP-L-14-InternVid-10M-FLT --dry-run"""

from __future__ import annotations

import argparse

from .base import UsageError

EXTRA = None
HELP = "upload a ViCLIP Hub folder to the Hugging Face Hub"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="the folder to upload")
    parser.add_argument("--repo-id", required=True, help="e.g. your-name/ViCLIP-L-14-InternVid-10M-FLT")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--revision", help="branch to push to (created if missing; default: main)")
    parser.add_argument("--commit-message", help="commit message")
    parser.add_argument("--token", help="Hub token (default: the logged-in one / HF_TOKEN)")
    parser.add_argument(
        "--dry-run", action="store_true", help="check the folder loads and list what would be uploaded"
    )
    parser.add_argument(
        "--results",
        action="append",
        default=[],
        metavar="FILE.json",
        help="a results file of `viclip evaluate kinetics|msrvtt --output`: its table goes into the uploaded model "
        "card (repeatable; the local folder is not changed)",
    )


def _format_size(size: float) -> str:
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from viclip.hub import PushError, check_folder, check_repo_id, list_upload_files, push_folder

    from .options import require_dir

    require_dir(args.folder)
    try:
        check_repo_id(args.repo_id)
    except PushError as error:
        raise UsageError(str(error)) from None
    from viclip.hub.model_card import with_evaluation_results

    from .convert import evaluation_tables

    tables = evaluation_tables(args.results)
    try:
        check_folder(args.folder)
    except PushError as error:  # the folder given is not a complete, self-contained Hub folder
        raise UsageError(str(error)) from None
    files = list_upload_files(args.folder)
    card = None
    if tables:
        card = with_evaluation_results((Path(args.folder) / "README.md").read_text(encoding="utf-8"), tables)
    if args.dry_run:
        where = args.repo_id + (f"@{args.revision}" if args.revision else "")
        private = " (private)" if args.private else ""
        print(f"dry run: {args.folder} loads; would upload {len(files)} files to {where}{private}:")
        for item in files:
            print(f"  {item.path_in_repo}  {_format_size(item.size)}")
        if tables:
            print(f"the uploaded README.md gets the results of {len(tables)} evaluation(s)")
        return 0
    url = push_folder(
        args.folder,
        args.repo_id,
        private=args.private,
        revision=args.revision,
        commit_message=args.commit_message,
        token=args.token,
        model_card=card,
    )
    print(f"uploaded {len(files)} files from {args.folder} to {args.repo_id}: {url}")
    return 0
