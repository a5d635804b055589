"""The default engine of an embedding job: in process on a small GPU-less machine, Ray with a cluster or GPUs."""

from __future__ import annotations

import pytest

from viclip.inference.engine_choice import RAY_MIN_CLIPS, RAY_MIN_CPUS, choose_engine


def test_one_small_machine_without_a_gpu_runs_in_process_with_every_core():
    choice = choose_engine(None, cpus=2)
    assert (choice.engine, choice.model_cpus) == ("local", 2)
    assert choice.summary() == (
        "engine: in this process, the model on 2 core(s) "
        "(no GPU and 2 core(s): in process the model gets them all (Ray ran 0.46x on 2))"
    )


def test_a_cluster_gpus_or_many_cores_run_on_ray():
    assert choose_engine(None, cpus=2, ray_address="auto").engine == "ray"
    gpus = choose_engine(None, cpus=16, num_gpus=2)
    assert (gpus.engine, gpus.model_cpus) == ("ray", 1) and "2 GPU(s)" in gpus.reason
    many = choose_engine(None, cpus=RAY_MIN_CPUS)
    assert (many.engine, many.model_cpus) == ("ray", RAY_MIN_CPUS // 2)
    assert choose_engine(None, cpus=RAY_MIN_CPUS - 1).engine == "local"


def test_a_small_job_runs_in_process_even_on_many_cores():
    assert choose_engine(None, cpus=64, num_clips=RAY_MIN_CLIPS - 1).engine == "local"
    assert choose_engine(None, cpus=64, num_clips=RAY_MIN_CLIPS).engine == "ray"


def test_engine_flag_forces_the_engine_and_local_refuses_a_cluster_or_gpus():
    assert choose_engine("ray", cpus=2).engine == "ray"
    assert choose_engine("local", cpus=32).model_cpus == 32
    with pytest.raises(ValueError, match="takes neither ray_address nor num_gpus"):
        choose_engine("local", cpus=2, num_gpus=1)
    with pytest.raises(ValueError, match="engine must be one of"):
        choose_engine("threads", cpus=2)
    with pytest.raises(ValueError, match="cpus must be at least 1"):
        choose_engine(None, cpus=0)


def test_engine_settings_take_the_choice_and_an_explicit_actor_size(monkeypatch):
    from viclip.inference import engine_choice

    monkeypatch.setattr(engine_choice, "machine_cpus", lambda: 16)
    settings, choice = engine_choice.choose_engine_settings(None, batch_size=4)
    assert (settings.runner, settings.cpus_per_actor, settings.batch_size) == ("ray", 8, 4)
    assert choice.reason == "no GPU and 16 cores: 8 decode in parallel while the model runs"
    settings, choice = engine_choice.choose_engine_settings("auto", cpus_per_actor=3, num_clips=100)
    assert (settings.runner, settings.cpus_per_actor, choice.model_cpus) == ("ray", 3, 3)
    settings, choice = engine_choice.choose_engine_settings("local", cpus_per_actor=3)
    assert (settings.runner, choice.model_cpus) == ("local", 16)
