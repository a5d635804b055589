"""The ``viclip`` command line: one module per command, one registry, one error policy.

A top-level package beside the library, not inside it: ``import viclip`` registers ViCLIP with transformers (and so
imports torch and transformers, a few seconds), and importing any ``viclip.<sub>`` module runs the package root
first. Living outside ``viclip``, ``viclip --help``, ``viclip <command> --help`` and every argparse usage error answer
without importing ``viclip``, torch or transformers; a command imports the library when it runs.

Each command module (``viclip_cli/<name>.py``) defines

- ``HELP``: the one-line summary shown by ``viclip --help``;
- ``configure(parser)``: adds its arguments to the ``argparse`` parser made for it;
- ``run(args) -> int``: does the work, importing torch/transformers and the library inside the function only.

Policy (``viclip_cli.base``, ``exit_status``): what was given is wrong (a flag, a setting, an input file, an output
in the way) exits 2 with one line; a run on valid inputs that fails while working exits 1 with one line naming the
file and the cause; ``--debug`` shows the traceback instead. The library never imports from this package.
"""

from __future__ import annotations

# command path -> module. A two-word path ("evaluate", "kinetics") is a subcommand of the first word.
COMMANDS: dict[tuple[str, ...], str] = {
    ("convert",): "viclip_cli.convert",
    ("push",): "viclip_cli.push",
    ("synthetic",): "viclip_cli.synthetic",
    ("download",): "viclip_cli.download",
    ("prepare",): "viclip_cli.prepare",
    ("train",): "viclip_cli.train",
    ("finetune-classifier",): "viclip_cli.finetune_classifier",
    ("classify",): "viclip_cli.classify",
    ("embed",): "viclip_cli.embed",
    ("index",): "viclip_cli.index",
    ("search",): "viclip_cli.search",
    ("serve",): "viclip_cli.serve",
    ("score",): "viclip_cli.score",
    ("evaluate", "classification"): "viclip_cli.evaluate_classification",
    ("evaluate", "retrieval"): "viclip_cli.evaluate_retrieval",
    ("evaluate", "kinetics"): "viclip_cli.evaluate_kinetics",
    ("evaluate", "msrvtt"): "viclip_cli.evaluate_msrvtt",
    ("demo",): "viclip_cli.demo",
}

GROUP_HELP: dict[str, str] = {
    "evaluate": "evaluate a model: the paper's Kinetics and MSR-VTT protocols, or your own labelled/captioned lists",
}

from .base import main  # noqa: E402  (the registry above is what main reads)

__all__ = ["COMMANDS", "GROUP_HELP", "main"]
