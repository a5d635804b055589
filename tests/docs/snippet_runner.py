"""Runs the ```python and ```bash blocks of a Markdown page (see tests/docs/test_snippets.py for the conventions).

Two halves:

- the test side (:func:`read_blocks`) reads a page into :class:`Block` s;
- the server side (``python snippet_runner.py serve WORK_DIR``) imports torch, transformers, datasets and viclip
  once, then for each page asked on stdin forks a child that runs the page's blocks in the page's folder and
  answers one JSON line on stdout. A fork costs nothing and shares nothing back: the next page starts from the
  clean, preloaded server again, not from what the last page left in memory.

In the child, python blocks run in one namespace (``__name__ == "__main__"``), compiled against the page's own
file so that a traceback shows the page's line. Bash blocks run with ``bash -e``; a block whose lines are all
either plain ``viclip`` commands or shell lines that set no shell state runs those ``viclip`` lines in-process
through ``viclip_cli.main(argv)`` (same code, same exit status, no interpreter start) and the rest with bash.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

RUN_LANGUAGES = ("python", "bash")
SKIP_MARKER = re.compile(r"^\s*<!--\s*skip\s*:(?P<reason>.*?)-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class SnippetPageError(ValueError):
    """A page's blocks cannot be read (an unclosed fence, a skip marker without a reason)."""


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: its language, its first line's number (the fence is line ``line - 1``)."""

    language: str
    line: int
    source: str
    skip_reason: str | None = None

    @property
    def runs(self) -> bool:
        return self.language in RUN_LANGUAGES and self.skip_reason is None

    @property
    def first_line(self) -> str:
        return next((text.strip() for text in self.source.splitlines() if text.strip()), "")


def read_blocks(text: str, page: str) -> list[Block]:
    """The fenced blocks of a Markdown page, in order; ``page`` names the page in errors."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        language = opening["info"].strip().split(" ")[0].lower()
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].strip().startswith(fence[0] * len(fence))),
            None,
        )
        if end is None:
            raise SnippetPageError(f"{page}:{index + 1}: the ```{language} block is never closed")
        skip_reason = None
        if index > 0 and (marker := SKIP_MARKER.match(lines[index - 1])):
            skip_reason = marker["reason"].strip()
            if not skip_reason:
                raise SnippetPageError(f"{page}:{index}: a skip marker needs its reason: <!-- skip: why -->")
        indent = len(opening["indent"])
        source = "\n".join(text_line[indent:] for text_line in lines[index + 1 : end])
        blocks.append(Block(language, index + 2, source + "\n", skip_reason))
        index = end + 1
    return blocks


# ---- bash blocks: which lines may run in-process -------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Part of a bash block: ``argv`` of one ``viclip`` command run in-process, or a ``script`` run by bash."""

    line: int
    argv: list[str] | None = None
    script: str | None = None

    @property
    def shown(self) -> str:
        return (
            "viclip " + shlex.join(self.argv)
            if self.argv is not None
            else self.script.strip().splitlines()[0]
        )


_SHELL_STATE = re.compile(
    r"^\s*(cd|pushd|popd|export|unset|set|shopt|source|\.|alias|trap|declare|local|readonly|exec|function)(\s|$)"
    r"|^\s*[A-Za-z_][A-Za-z0-9_]*=|\(\)",
    re.MULTILINE,
)
_NOT_PLAIN = set("|&;<>()$`*?[]{}~\\!")


def _commands(source: str) -> list[tuple[int, str]]:
    """The logical lines of a shell block with their 0-based first line: continuations joined, a heredoc's body
    kept with the line that opens it."""
    lines = source.splitlines()
    commands: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        start, text = index, lines[index]
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1] + " " + lines[index].lstrip()
        if heredoc := re.search(r"<<-?\s*['\"]?(\w+)['\"]?", text):
            while index + 1 < len(lines) and lines[index].strip() != heredoc[1]:
                index += 1
                text += "\n" + lines[index]
        commands.append((start, text))
        index += 1
    return commands


def _strip_comment(text: str) -> str:
    quote = None
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip()
    return text.rstrip()


def plain_viclip_argv(command: str) -> list[str] | None:
    """The arguments of ``viclip ARGS`` written without any shell feature (no redirection, pipe, variable, glob,
    substitution), or None."""
    command = _strip_comment(command.strip())
    if not command.startswith("viclip ") or "\n" in command:
        return None
    unquoted = re.sub(r"'[^']*'|\"[^\"$`\\]*\"", "", command)
    if _NOT_PLAIN & set(unquoted):
        return None
    return shlex.split(command)[1:]


def plan_bash(source: str, first_line: int) -> list[Step]:
    """A bash block as steps: its plain ``viclip`` lines in-process and the shell lines between them in bash, or
    the whole block in bash when a shell line keeps state for later lines (``cd``, a variable, a function) or
    spans lines (a loop, an ``if``)."""
    whole = [Step(first_line, script=source)]
    steps: list[Step] = []
    pending: list[tuple[int, str]] = []

    def flush() -> bool:
        if not pending:
            return True
        script = "\n".join(text for _, text in pending)
        if _SHELL_STATE.search(script) or not _complete(script):
            return False
        steps.append(Step(first_line + pending[0][0], script=script + "\n"))
        pending.clear()
        return True

    for offset, text in _commands(source):
        if not text.strip() or text.strip().startswith("#"):
            continue
        argv = plain_viclip_argv(text)
        if argv is None:
            pending.append((offset, text))
            continue
        if not flush():
            return whole
        steps.append(Step(first_line + offset, argv=argv))
    if not flush():
        return whole
    return steps if any(step.argv is not None for step in steps) else whole


def _complete(script: str) -> bool:
    """Whether a piece of shell is complete on its own (``bash -n``: no loop or ``if`` left open)."""
    return subprocess.run(["bash", "-n", "-c", script], capture_output=True).returncode == 0


# ---- the server and its children --------------------------------------------------------------------------------


@dataclass
class BlockResult:
    line: int
    language: str
    first_line: str
    status: str  # "passed", "failed", "skipped", "shown" (not a language that runs), "running", "not run"
    seconds: float = 0.0
    cpu_s: float = 0.0  # user + system, with the processes the block started
    detail: str = ""  # the reason of a skip, the step that failed
    stdout: str = ""
    stderr: str = ""
    steps: list[str] = field(default_factory=list)  # "in-process: viclip ..." / "bash: ..."


PRELOADED = (
    "numpy", "av", "PIL.Image", "torch", "transformers", "datasets", "pyarrow", "accelerate", "viclip",
    "viclip_cli",
)  # fmt: skip


def serve(work_dir: Path) -> None:
    """The fork server: one JSON request per line on stdin, one JSON answer per line on stdout."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what the preloaded libraries print goes to the server's log, not into the answers
    hf_link = work_dir / "hf"
    os.environ["HF_HOME"] = str(hf_link)  # a symlink each child points at its page's folder (read at import)
    for name in (
        "HF_DATASETS_CACHE",
        "HF_HUB_CACHE",
        "HF_MODULES_CACHE",
        "TRANSFORMERS_CACHE",
        "VICLIP_CACHE",
    ):
        os.environ.pop(name, None)
    _point(hf_link, work_dir / "hf-idle")
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    from transformers import AutoModel, AutoProcessor  # noqa: F401  (resolves the lazy Auto modules once)

    from viclip_cli.base import build_parser

    build_parser()  # imports every command module
    answers.write(json.dumps({"ready": True}) + "\n")
    for request_line in sys.stdin:
        request = json.loads(request_line)
        answers.write(json.dumps(_run_forked(request, hf_link)) + "\n")
    os._exit(0)  # nothing to finalise: skips the seconds that tearing down torch and friends takes


def _point(link: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    fresh = link.with_name(link.name + ".new")
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(target, target_is_directory=True)
    os.replace(fresh, link)


def _run_forked(request: dict, hf_link: Path) -> dict:
    pid = os.fork()
    if pid == 0:
        status = 3
        try:
            os.setsid()
            _point(hf_link, Path(request["env"]["HF_HOME"]))
            status = run_page(request)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    deadline = time.monotonic() + request["timeout"]
    while True:
        done, wait_status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            _kill_group(pid)
            return {"exit_code": None, "timed_out": True, "cpu_s": _cpu(usage)}
        time.sleep(0.05)
    _kill_group(pid)  # whatever a block started and left behind
    return {"exit_code": os.waitstatus_to_exitcode(wait_status), "timed_out": False, "cpu_s": _cpu(usage)}


def _cpu_so_far() -> float:
    import resource

    return sum(_cpu(resource.getrusage(who)) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def _cpu(usage) -> float:
    """CPU seconds of the page's child and the processes it waited for (user + system)."""
    return round(usage.ru_utime + usage.ru_stime, 2)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_page(request: dict) -> int:
    """In the forked child: run the page's blocks in order in its folder; stop at the first failure. Writes the
    results (``results.json`` in ``request["log_dir"]``) after each block, so a timeout still shows the block."""
    import torch

    folder, log_dir = Path(request["folder"]), Path(request["log_dir"])
    log_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    os.environ.update(request["env"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    torch.set_num_threads(request["threads"])
    namespace: dict = {"__name__": "__main__"}
    blocks = [Block(**block) for block in request["blocks"]]
    results = [
        BlockResult(b.line, b.language, b.first_line, _initial_status(b), detail=b.skip_reason or "")
        for b in blocks
    ]
    failed = False
    for block, result in zip(blocks, results):
        if not block.runs:
            continue
        result.status = "running"
        _write_results(log_dir, results)
        out_path, err_path = log_dir / f"{block.line}.out", log_dir / f"{block.line}.err"
        start, start_cpu = time.perf_counter(), _cpu_so_far()
        with _redirected(out_path, err_path):
            error = (
                _run_python(block, namespace, request["page_file"]) if block.language == "python" else None
            )
            if block.language == "bash":
                error = _run_bash(block, result)
        result.seconds = round(time.perf_counter() - start, 3)
        result.cpu_s = round(_cpu_so_far() - start_cpu, 3)
        result.stdout, result.stderr = _tail(out_path), _tail(err_path)
        result.status, result.detail = ("failed", error) if error else ("passed", "")
        if error:
            failed = True
            break
    _write_results(log_dir, results)
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    return 1 if failed else 0


def _initial_status(block: Block) -> str:
    if block.language not in RUN_LANGUAGES:
        return "shown"
    return "skipped" if block.skip_reason else "not run"


def _write_results(log_dir: Path, results: list[BlockResult]) -> None:
    path = log_dir / "results.json"
    path.with_suffix(".tmp").write_text(json.dumps([asdict(result) for result in results]))
    path.with_suffix(".tmp").replace(path)


class _redirected:
    """File descriptors 1 and 2 (and so print, tqdm, logging and subprocesses) into two files."""

    def __init__(self, out_path: Path, err_path: Path):
        self.paths = (out_path, err_path)

    def __enter__(self):
        sys.stdout.flush(), sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2))
        for fd, path in zip((1, 2), self.paths):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)

    def __exit__(self, *exc):
        sys.stdout.flush(), sys.stderr.flush()
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)


def _tail(path: Path, limit: int = 6000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _run_python(block: Block, namespace: dict, page_file: str) -> str | None:
    try:
        # Padded so that the code's line numbers are the page's: a traceback quotes the page itself.
        exec(compile("\n" * (block.line - 1) + block.source, page_file, "exec"), namespace)
    except SystemExit as stop:
        if stop.code in (None, 0):
            return None
        _print_traceback(stop)
        return f"the block called sys.exit({stop.code!r})"
    except BaseException as error:
        _print_traceback(error)
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None


def _print_traceback(error: BaseException) -> None:
    """The traceback from the block's own frames on (not this runner's ``exec``)."""
    traceback.print_exception(type(error), error, error.__traceback__.tb_next or error.__traceback__)


def _run_bash(block: Block, result: BlockResult) -> str | None:
    for step in plan_bash(block.source, block.line):
        if step.argv is not None:
            result.steps.append(f"in-process: {step.shown}")
            status = _run_viclip(step.argv)
        else:
            result.steps.append(f"bash: {step.shown}")
            padded = "\n" * (step.line - 1) + step.script  # bash's error messages then name the page's line
            status = subprocess.run(["bash", "-e", "-c", padded]).returncode
        if status != 0:
            return f"line {step.line}: `{step.shown}` exited with status {status}"
    return None


def _run_viclip(argv: list[str]) -> int:
    from viclip_cli import main

    try:
        return main(argv)
    except SystemExit as stop:  # argparse: --help or a usage error
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"] or len(sys.argv) != 3:
        sys.exit("usage: snippet_runner.py serve WORK_DIR")
    serve(Path(sys.argv[2]))
