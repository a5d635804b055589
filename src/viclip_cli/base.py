"""The dispatcher and the one error policy of every ``viclip`` command."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from types import ModuleType
from typing import NoReturn

EXIT_OK, EXIT_RUNTIME_ERROR, EXIT_USAGE_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """The command line is wrong (a bad value, a missing input): one line, exit status 2."""


class CommandError(Exception):
    """The work failed (a bad file, a failed load): one line naming the file and the cause, exit status 1."""


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
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _print_warning
            return int(args._module.run(args) or EXIT_OK)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if debug:
            raise
        code = EXIT_USAGE_ERROR if isinstance(error, UsageError) else EXIT_RUNTIME_ERROR
        print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
        return code


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
