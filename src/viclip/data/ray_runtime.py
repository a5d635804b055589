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
    """The jobs show their own progress bar; Ray Data's per-operator bars would print over it."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
