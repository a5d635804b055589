"""Ray for the data jobs (preparation, downloads): a local instance by default, or a cluster by address.

``pip install 'viclip[data]'`` brings ``ray[data]``.
"""

from __future__ import annotations

import contextlib
import logging
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
    quiet_ray_logging()
    ray.init(
        address=address,
        num_cpus=None if address is not None else num_cpus,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


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
    finished" lines. Idempotent. (The core worker's C++ line about actor constructor arguments in the object store,
    ray-project/ray#53727, goes to stderr without a Python logger; ``RAY_BACKEND_LOG_LEVEL=fatal`` hides it, and
    prints a line of its own.)
    """
    for name, text in _RAY_NOTICES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNotice) for f in logger.filters):
            logger.addFilter(_DropNotice(text))
