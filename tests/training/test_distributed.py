"""Two processes (CPU, gloo, via `accelerate.debug_launcher`) train exactly like one process on the
concatenated batch: the contrastive loss gathers features across processes with gradient."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from tiny_data import tiny_batch, tiny_model

from viclip.training import ContrastiveTrainingModule, gathered_contrastive_loss

SCRIPT = Path(__file__).parent / "scripts" / "ddp_equivalence.py"


def test_two_processes_match_one_process_on_the_combined_batch(tmp_path):
    out = tmp_path / "ddp.safetensors"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    distributed = load_file(out)
    assert int(distributed["world"]) == 2

    module = ContrastiveTrainingModule(tiny_model().train())
    loss, logits = gathered_contrastive_loss(*module(**tiny_batch(8)))
    loss.backward()

    torch.testing.assert_close(distributed["loss"], loss.detach(), atol=1e-5, rtol=1e-5)
    assert distributed["logits"].shape == (8, 8)  # every process saw the global batch
    torch.testing.assert_close(distributed["logits"], logits.detach(), atol=1e-5, rtol=1e-5)
    for name, param in module.model.named_parameters():
        torch.testing.assert_close(distributed[f"grad.{name}"], param.grad, atol=1e-5, rtol=1e-5, msg=name)
