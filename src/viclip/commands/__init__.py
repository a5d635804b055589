"""The ``viclip`` command line: one module per command, one registry, one error policy.

Each command module (``viclip/commands/<name>.py``) defines

- ``HELP``: the one-line summary shown by ``viclip --help``;
- ``configure(parser)``: adds its arguments to the ``argparse`` parser made for it;
- ``run(args) -> int``: does the work, importing torch/transformers and the library inside the function only.

Policy (``viclip.commands.base``): a usage error (bad flag, bad value, missing input file given on the command line)
exits 2 with one line; a runtime error exits 1 with one line naming the file and the cause; ``--debug`` shows the
traceback instead. ``viclip --help``, ``viclip <command> --help`` and every argparse usage error answer without
importing torch or transformers. The library never imports from this package.
"""

from __future__ import annotations

# command path -> module. A two-word path ("evaluate", "kinetics") is a subcommand of the first word.
COMMANDS: dict[tuple[str, ...], str] = {
    ("convert",): "viclip.commands.convert",
    ("push",): "viclip.commands.push",
    ("synthetic",): "viclip.commands.synthetic",
    ("download",): "viclip.commands.download",
    ("prepare",): "viclip.commands.prepare",
    ("train",): "viclip.commands.train",
    ("finetune-classifier",): "viclip.commands.finetune_classifier",
    ("classify",): "viclip.commands.classify",
    ("embed",): "viclip.commands.embed",
    ("index",): "viclip.commands.index",
    ("search",): "viclip.commands.search",
    ("evaluate", "classification"): "viclip.commands.evaluate_classification",
    ("evaluate", "retrieval"): "viclip.commands.evaluate_retrieval",
    ("evaluate", "kinetics"): "viclip.commands.evaluate_kinetics",
    ("evaluate", "msrvtt"): "viclip.commands.evaluate_msrvtt",
    ("demo",): "viclip.commands.demo",
}

GROUP_HELP: dict[str, str] = {
    "evaluate": "evaluate a model: the paper's Kinetics and MSR-VTT protocols, or your own labelled/captioned lists",
}

from .base import main  # noqa: E402  (the registry above is what main reads)

__all__ = ["COMMANDS", "GROUP_HELP", "main"]
