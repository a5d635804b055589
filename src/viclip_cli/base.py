"""The dispatcher and the one error policy of every ``viclip`` command."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import NoReturn

EXIT_OK, EXIT_RUNTIME_ERROR, EXIT_USAGE_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

# pyproject.toml's extras -> the modules they install (tests/commands/test_extras.py checks that the two agree).
# A command module declares ``EXTRA``: None (the core install is enough), an extra's name, or a tuple of names.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "data": ("datasets", "pyarrow", "ray"),
    "train": ("datasets", "pyarrow", "ray", "accelerate"),
    "eval": ("datasets", "pyarrow", "evaluate", "matplotlib"),
    "embed": ("datasets", "pyarrow", "ray", "faiss"),
    "download": ("yt_dlp",),
    "serve": ("datasets", "pyarrow", "ray", "faiss", "fastapi", "uvicorn"),
    "tensorboard": ("tensorboard",),
}


class UsageError(Exception):
    """What was given is wrong (a flag, a setting, an input file, an output in the way): one line, exit status 2."""


class CommandError(Exception):
    """The work failed on valid inputs (nothing could be decoded, a download failed, a check of the result
    failed): one line naming the file and the cause, exit status 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and ``--help`` is unchanged)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
    )


def build_parser() -> ArgumentParser:
    """The whole ``viclip`` parser. Imports every command module, none of which imports torch at load time."""
    from . import COMMANDS, GROUP_HELP

    parser = ArgumentParser(prog="viclip", description="ViCLIP and InternVid for the Hugging Face ecosystem.")
    _add_debug(parser)
    top = parser.add_subparsers(
        dest="command", metavar="<command>", required=True, parser_class=ArgumentParser
    )
    groups: dict[str, argparse._SubParsersAction] = {}
    for path, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        if len(path) == 1:
            sub = top.add_parser(path[0], help=module.HELP, description=_description(module))
        else:
            group, name = path
            if group not in groups:
                group_parser = top.add_parser(group, help=GROUP_HELP[group], description=GROUP_HELP[group])
                groups[group] = group_parser.add_subparsers(
                    dest=f"{group}_command", metavar="<task>", required=True, parser_class=ArgumentParser
                )
            sub = groups[group].add_parser(name, help=module.HELP, description=_description(module))
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
        _add_debug(sub)
        module.configure(sub)
        sub.set_defaults(_module=module, _prog=sub.prog)
    return parser


def _description(module: ModuleType) -> str:
    doc = (module.__doc__ or module.HELP).strip()
    return doc


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # A warning meant for the user (a clamped clip range, a skipped file) is one note line, not a source location.
    print(f"note: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Runs ``viclip <command> ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    prog: str = args._prog
    debug = getattr(args, "debug", False)
    if missing := missing_extras(args._module) or missing_flag_extras(args._module, args):
        print(f"{prog}: error: {missing}", file=sys.stderr)
        return EXIT_USAGE_ERROR
    try:
        with warnings.catch_warnings(), quiet_dependencies(getattr(args, "quiet", False)):
            if not debug:
                warnings.showwarning = _print_warning
            return int(args._module.run(args) or EXIT_OK)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if debug:
            raise
        code = exit_status(error)
        print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
        return code


def missing_extras(module: ModuleType) -> str | None:
    """The one-line message naming the extras a command needs and lacks (checked before any work), or None."""
    extras = module.EXTRA if isinstance(module.EXTRA, tuple) else (module.EXTRA,) if module.EXTRA else ()
    absent = {
        extra: [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]
        for extra in extras
    }
    lacking = [extra for extra in extras if absent[extra]]
    if not lacking:
        return None
    modules = sorted({name for extra in lacking for name in absent[extra]})
    named = " and ".join(f"'{extra}'" for extra in lacking)
    return (
        f"this command needs the {named} extra{'s' if len(lacking) > 1 else ''} ({', '.join(modules)} not "
        f"installed): pip install 'viclip[{','.join(lacking)}]'"
    )


def missing_flag_extras(module: ModuleType, args: argparse.Namespace) -> str | None:
    """The one-line message for a flag whose work needs modules of an extra the command otherwise does not.

    A command module may declare ``FLAG_EXTRAS = {"plot": ("eval", ("matplotlib",))}``: flag destination -> (the
    extra to install, the modules the flag's work imports); checked, like ``EXTRA``, before any work."""
    for flag, (extra, modules) in getattr(module, "FLAG_EXTRAS", {}).items():
        if getattr(args, flag, None) is None:
            continue
        absent = [name for name in modules if importlib.util.find_spec(name) is None]
        if absent:
            return (
                f"--{flag.replace('_', '-')} needs the '{extra}' extra ({', '.join(absent)} not installed): "
                f"pip install 'viclip[{extra}]'"
            )
    return None


@contextlib.contextmanager
def quiet_dependencies(quiet: bool) -> Iterator[None]:
    """``--quiet`` silences the dependencies' bars too (transformers' "Loading weights", the Hub's downloads), in
    this process and in the workers it starts (through ``HF_HUB_DISABLE_PROGRESS_BARS``); restored afterwards."""
    if not quiet:
        yield
        return
    saved = os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    loaded = [
        name for name in ("huggingface_hub", "transformers") if name in sys.modules
    ]  # else: read at import
    hub_was_on = transformers_was_on = True
    if "huggingface_hub" in loaded:
        from huggingface_hub import utils as hub_utils

        hub_was_on = not hub_utils.are_progress_bars_disabled()
        hub_utils.disable_progress_bars()
    if "transformers" in loaded:
        from transformers.utils import logging as transformers_logging

        transformers_was_on = transformers_logging.is_progress_bar_enabled()
        transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
        else:
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = saved
        if "huggingface_hub" in loaded and hub_was_on:
            hub_utils.enable_progress_bars()
        if "transformers" in loaded and transformers_was_on:
            transformers_logging.enable_progress_bar()


def exit_status(error: BaseException) -> int:
    """The one exit-code rule of every command.

    2 (`EXIT_USAGE_ERROR`): what was given is wrong, and the run stopped before its work or as it met the mistake:
    a flag or setting (a config key, an augment conflict), an input file given (missing, unreadable, not UTF-8, a
    missing CSV column, a bad timestamp), or an output in the way (an existing folder without --force, a folder
    written with another --window or --short-side, a path that cannot be created). Fix it and run again.
    `UsageError`, every `ValueError` (the library's checks of settings and input files raise it or a subclass:
    ConfigError, AnnotationError, EmbeddingMismatchError, StateDictMismatchError, UnicodeDecodeError) and
    `FileNotFoundError` (an input that is not there: an empty video folder, a folder that is not an index).

    1 (`EXIT_RUNTIME_ERROR`): the run started on valid inputs and failed while working (no video could be
    decoded, a download or upload failed, a written folder failed its check, the disk filled up, a bug):
    `CommandError` and everything else. What was finished is kept; a rerun resumes where the command can.
    """
    if isinstance(error, UsageError):
        return EXIT_USAGE_ERROR
    if isinstance(error, CommandError):
        return EXIT_RUNTIME_ERROR
    return EXIT_USAGE_ERROR if isinstance(error, (ValueError, FileNotFoundError)) else EXIT_RUNTIME_ERROR


def one_line(error: BaseException) -> str:
    """An exception as one line: its own message for the library's errors, the type for anything unexpected."""
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (UsageError, CommandError)):
        return text
    known = (OSError, ValueError, LookupError, RuntimeError, TypeError)
    if isinstance(error, known) and type(error).__module__ == "builtins":
        return text
    if type(error).__module__.startswith("viclip"):
        return text
    return f"{type(error).__name__}: {text} (run with --debug for the traceback)"
