"""Ray's own notices (token authentication, "progress bars disabled", "execution finished", the memory hint of
an argument viclip users cannot set, the C++ core worker's line about an actor pool's constructor arguments) stay
out of a job's output; Ray's other warnings pass, and a RAY_BACKEND_LOG_LEVEL the user set is kept."""

from __future__ import annotations

import logging
import os

import pytest

import warm_python
from viclip.data.ray_runtime import quiet_ray_logging

pytest.importorskip("ray")

JOB = """
import os, sys
import ray, ray.data
from viclip.data.ray_runtime import quiet_ray_data, ray_session


class Identity:  # an actor pool: Ray's C++ core worker logs a line about its constructor arguments
    def __call__(self, batch):
        return batch


with ray_session(num_cpus=1):
    quiet_ray_data()
    assert os.environ.get("RAY_BACKEND_LOG_LEVEL") in (None, "error")  # set for ray.init only
    print("a line of the job's own", file=sys.stderr, flush=True)
    pool = ray.data.ActorPoolStrategy(size=1)
    print(ray.data.range(4).map_batches(lambda b: b).map_batches(Identity, compute=pool).count())
"""
NOTICES = (
    "Token authentication",
    "Progress bars disabled",
    "execution finished",
    "issue detection",
    "constructor arguments in the object store",  # the core worker's, ray-project/ray#53727
    "Set ray log level",  # what the core worker prints when it reads RAY_BACKEND_LOG_LEVEL
)


def test_a_ray_job_prints_none_of_rays_notices():
    result = warm_python.run(["-c", JOB], timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"
    assert "a line of the job's own" in result.stderr
    for notice in NOTICES:
        assert notice not in result.stderr, result.stderr


def test_a_backend_log_level_the_user_set_is_kept():
    env = {**os.environ, "RAY_BACKEND_LOG_LEVEL": "error"}
    result = warm_python.run(["-c", JOB], timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "constructor arguments in the object store" in result.stderr  # the user asked for error lines


def test_only_the_notices_are_dropped(caplog):
    quiet_ray_logging()
    quiet_ray_logging()  # idempotent: one filter per logger
    logger = logging.getLogger("ray._private.authentication.authentication_token_setup")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING, logger=logger.name):
        logger.warning("Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled")
        logger.warning("the token file is unreadable")
    assert [record.getMessage() for record in caplog.records] == ["the token file is unreadable"]


def test_the_memory_hint_detector_is_left_out_and_the_others_kept():
    import ray.data

    from viclip.data.ray_runtime import quiet_ray_data

    context = ray.data.DataContext.get_current()
    saved = list(context.issue_detectors_config.detectors)
    try:
        quiet_ray_data()
        names = [d.__name__ for d in context.issue_detectors_config.detectors]
        assert "HighMemoryIssueDetector" not in names and "HashShuffleAggregatorIssueDetector" in names
    finally:
        context.issue_detectors_config.detectors = saved
