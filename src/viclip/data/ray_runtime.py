"""Ray for the data jobs (preparation, downloads): a local instance by default, or a cluster by address.

``pip install 'viclip[data]'`` brings ``ray[data]``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator


def import_ray():
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            "this job runs on Ray Data: pip install 'viclip[data]' (ray[data] >= 2.40)"
        ) from error
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[None]:
    """Use the Ray instance already initialised in this process, or start one for the block and stop it after.

    Args:
        address: a cluster (``"ray://host:10001"``, ``"host:6379"`` or ``"auto"``); ``None`` starts a local
            instance embedded in this process, with every core unless ``num_cpus`` says otherwise.
        num_cpus: cores of the local instance (ignored with ``address``: the cluster has its own).
    """
    ray = import_ray()
    if ray.is_initialized():
        yield
        return
    if address is not None and num_cpus is not None:
        logging.getLogger(__name__).warning(
            "num_cpus=%s ignored: the cluster at %s sets its own", num_cpus, address
        )
    init_ray(address=address, num_cpus=None if address is not None else num_cpus)
    try:
        yield
    finally:
        ray.shutdown()


# Ray's C++ core worker writes to the driver's stderr without a Python logger: at error level, a line per
# Ray Data actor pool about "constructor arguments in the object store" (ray-project/ray#53727; every pool, since
# Ray Data passes its map transformer by reference; a viclip user cannot act on it). Only its level hides it.
_BACKEND_LOG_LEVEL = "RAY_BACKEND_LOG_LEVEL"
_BACKEND_LEVEL_NOTICE = "Set ray log level from environment variable"


def init_ray(**init_kwargs) -> None:
    """``ray.init(**init_kwargs)`` for a command: no dashboard, Ray's worker logs not forwarded, only its Python
    warnings, and none of the notices :func:`quiet_ray_logging` drops. Unless the user set
    ``RAY_BACKEND_LOG_LEVEL``, the C++ core worker logs only fatal errors (see ``_BACKEND_LOG_LEVEL``), and the
    one line it prints when it reads that level is dropped from what ``ray.init`` writes to stderr."""
    ray = import_ray()
    quiet_ray_logging()
    init_kwargs = {
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        **init_kwargs,
    }
    if _BACKEND_LOG_LEVEL in os.environ:
        ray.init(**init_kwargs)
        return
    os.environ[_BACKEND_LOG_LEVEL] = "fatal"
    try:
        with _stderr_without(_BACKEND_LEVEL_NOTICE):
            ray.init(**init_kwargs)
    finally:
        del os.environ[_BACKEND_LOG_LEVEL]


@contextlib.contextmanager
def _stderr_without(text: str) -> Iterator[None]:
    """Within the block, file descriptor 2 (C++ code writes there, not to ``sys.stderr``) goes to a temporary
    file; after it, that output is written to stderr without the lines holding ``text``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if text not in line))
            sys.stderr.flush()


def cluster_cpus() -> int:
    """Cores of the Ray instance in use (at least 1)."""
    ray = import_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def quiet_ray_data() -> None:
    """The jobs show their own progress bar; Ray Data's per-operator bars would print over it. Ray Data's memory
    hint ("set `memory=...` in the appropriate function or method call") names an argument the user cannot set
    through viclip: its detector is left out (the others stay)."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    config = getattr(context, "issue_detectors_config", None)
    if config is not None:
        config.detectors = [d for d in config.detectors if d.__name__ != "HighMemoryIssueDetector"]


# Ray's notices that a viclip user cannot act on, by the logger that emits them and a part of the text.
_RAY_NOTICES = {
    "ray._private.authentication.authentication_token_setup": "Token authentication is enabled",
    "ray.data._internal.progress": "Progress bars disabled",
    "ray.data._internal.execution.streaming_executor": "execution finished in",
}


class _DropNotice(logging.Filter):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def quiet_ray_logging() -> None:
    """Before ``ray.init``: Ray's own notices stay out of a command's output (its other warnings and errors pass):
    the token-authentication notice of every local start, Ray Data's "progress bars disabled" and "execution
    finished" lines. Idempotent. (The core worker's C++ lines have no Python logger: :func:`init_ray` sets
    their level.)
    """
    for name, text in _RAY_NOTICES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNotice) for f in logger.filters):
            logger.addFilter(_DropNotice(text))
