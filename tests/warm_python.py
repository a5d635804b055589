"""``python -c CODE ARGS...`` and ``python SCRIPT ARGS...`` for the tests whose subject is a process that dies (a
SIGKILL, a crash in native code, a full disk), forked from a warm interpreter instead of started cold.

A cold start imports torch, transformers and viclip again: about 5 CPU seconds, which made those process starts a
large share of the suite's time on 2 cores. Here a ``multiprocessing`` fork server per test process imports them
once (:data:`PRELOAD`); each run is a fork of it that takes the caller's working directory, environment and argv,
runs the code as ``__main__`` and exits with the status CPython would give it: ``SystemExit``'s code, 1 after an
uncaught exception (its traceback on stderr), ``-N`` when signal N ends it. Stdout and stderr are pipes, read as
text.

Environment variables read at import time keep the values the server started with, which are the test process's
own (tests/conftest.py sets them before anything is imported). Tests of import-time behaviour, or that change such a
variable, start a real interpreter with ``subprocess``.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
from pathlib import Path

PRELOAD = [
    "torch",
    "transformers",
    "av",
    "datasets",
    "viclip",
    "viclip_cli",
    "viclip.embedding",
    "viclip.data",
]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run_as_main(argv: list[str], cwd: str, env: dict[str, str], stdout, stderr, new_session: bool):
    """The forked child: becomes ``python *argv`` run in ``cwd`` with ``env`` and its output written to the
    ``stdout`` and ``stderr`` pipe ends, then exits without returning."""
    status = 1
    try:
        if new_session:
            os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        for fd, pipe_end in ((1, stdout), (2, stderr)):
            os.dup2(pipe_end.fileno(), fd)
            pipe_end.close()
        if argv[0] == "-c":
            source, filename, sys.argv = argv[1], "<string>", ["-c", *argv[2:]]
            sys.path.insert(0, "")
        else:
            filename, sys.argv = str(Path(argv[0]).resolve()), list(argv)
            source = Path(filename).read_text()
            sys.path.insert(0, str(Path(filename).parent))
        main = types.ModuleType("__main__")
        main.__dict__.update(__file__=filename, __builtins__=__builtins__)
        sys.modules["__main__"] = main
        try:
            exec(compile(source, filename, "exec"), main.__dict__)
            status = 0
        except SystemExit as stop:
            status = _exit_status(stop.code)
        except BaseException:
            traceback.print_exc()
        atexit._run_exitfuncs()
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status)


class _Reader(threading.Thread):
    """Drains one pipe, as ``communicate`` does, so that a chatty child never blocks on a full pipe."""

    def __init__(self, pipe_end):
        super().__init__(daemon=True)
        self.pipe_end, self.chunks = pipe_end, []

    def run(self) -> None:
        while chunk := os.read(self.pipe_end.fileno(), 1 << 16):
            self.chunks.append(chunk)
        self.pipe_end.close()

    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")


class WarmProcess:
    """A started run: ``pid``, ``poll()``, ``wait(timeout)``, ``send_signal``, ``kill``, like ``subprocess.Popen``;
    ``stdout``/``stderr`` give what it wrote so far."""

    def __init__(self, argv: list[str], *, cwd: str | Path | None = None, env: dict[str, str] | None = None,
                 start_new_session: bool = False):  # fmt: skip
        self.args = list(argv)
        (out_r, out_w), (err_r, err_w) = _context.Pipe(duplex=False), _context.Pipe(duplex=False)
        settings = (str(cwd or os.getcwd()), dict(os.environ if env is None else env), out_w, err_w)
        self._process = _context.Process(target=_run_as_main, args=(self.args, *settings, start_new_session))
        try:
            self._process.start()
        finally:
            out_w.close()
            err_w.close()
        self.pid = self._process.pid
        self._readers = (_Reader(out_r), _Reader(err_r))
        for reader in self._readers:
            reader.start()

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self._process.exitcode

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait_for_file(self, path: str | Path, seconds: float = 60) -> None:
        """Returns once the run has made ``path`` (its sign that it got somewhere); fails the test if the run ends
        or ``seconds`` pass first."""
        deadline = time.monotonic() + seconds
        while not Path(path).exists():
            assert self.poll() is None, f"the run ended before {path} appeared: {self.communicate()}"
            assert time.monotonic() < deadline, f"{path} never appeared"
            time.sleep(0.02)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Waits for the end of the run and of its output (a process it started may still hold the pipes)."""
        self.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        return self.stdout, self.stderr

    @property
    def stdout(self) -> str:
        return self._readers[0].text()

    @property
    def stderr(self) -> str:
        return self._readers[1].text()


def run(argv: list[str], *, timeout: float | None = None, cwd: str | Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:  # fmt: skip
    """Like ``subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=timeout)``."""
    process = WarmProcess(argv, cwd=cwd, env=env)
    try:
        stdout, stderr = process.communicate(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return subprocess.CompletedProcess([sys.executable, *argv], process.returncode, stdout, stderr)
