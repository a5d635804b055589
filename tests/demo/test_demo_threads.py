"""The demo's numbers do not depend on the machine's core count: it trains and evaluates on a fixed thread count."""

from __future__ import annotations

import torch

from viclip import demo


def test_the_synthetic_demo_runs_on_a_fixed_torch_thread_count_and_restores_the_callers(
    tmp_path, monkeypatch
):
    seen = []
    monkeypatch.setattr(
        demo, "run_synthetic_demo", lambda *args, **kwargs: seen.append(torch.get_num_threads())
    )
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        demo.run_demo(tmp_path / "out", steps=1)
        assert seen == [demo.DEMO_TORCH_THREADS] == [2]
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
