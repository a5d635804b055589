"""The ``viclip`` command: one entry point, one subcommand per job.

Each subcommand lives in the module that does the work and exposes ``main(argv) -> int``;
this file only dispatches, importing the module lazily so ``viclip --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "convert": ("viclip.conversion", "convert a released .pth checkpoint into a Hub folder"),
    "push": ("viclip.hub", "upload a converted folder to the Hugging Face Hub"),
    "synthetic": ("viclip.data.synthetic", "generate synthetic InternVid-format videos and annotations"),
    "download": ("viclip.data.download", "download InternVid clips with yt-dlp"),
    "train": ("viclip.training.train", "train or fine-tune ViCLIP with Accelerate"),
    "classify": ("viclip.evaluation.classify_cli", "zero-shot classify a video against labels"),
    "search": ("viclip.evaluation.search_cli", "text-video retrieval over a folder of videos"),
    "evaluate": ("viclip.evaluation.evaluate_cli", "zero-shot classification / retrieval metrics"),
    "finetune-classifier": ("viclip.classification.finetune", "fine-tune ViCLIPForVideoClassification"),
    "demo": ("viclip.demo", "run the end-to-end demo (synthetic data, or the real weights)"),
}


def _usage() -> str:
    width = max(map(len, SUBCOMMANDS))
    lines = ["usage: viclip <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    lines += ["", "Run `viclip <command> --help` for the options of one command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"viclip: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
