"""Run by test_distributed.py: two CPU processes (gloo, through `accelerate.debug_launcher`) train one
step of a tiny ViCLIP on halves of a batch; rank 0 writes the loss and the DDP-averaged gradients."""

import sys
from pathlib import Path

import torch
from accelerate import Accelerator, debug_launcher
from safetensors.torch import save_file

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[2])]
from tiny_data import tiny_batch, tiny_model  # noqa: E402

from viclip.training import ContrastiveTrainingModule, gathered_contrastive_loss  # noqa: E402


def worker(out_path: str) -> None:
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    rank, world = accelerator.process_index, accelerator.num_processes
    assert world == 2, world
    module = accelerator.prepare(ContrastiveTrainingModule(tiny_model().train()))
    batch = tiny_batch(8)
    local = {k: v[rank * 4 : (rank + 1) * 4] for k, v in batch.items()}
    video, text, scale = module(**local)
    loss, logits = gathered_contrastive_loss(video, text, scale)
    accelerator.backward(loss)
    if accelerator.is_main_process:
        tensors = {"loss": loss.detach(), "logits": logits.detach(), "world": torch.tensor(world)}
        for name, param in accelerator.unwrap_model(module).model.named_parameters():
            tensors[f"grad.{name}"] = param.grad.detach().clone()
        save_file(tensors, out_path)
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    debug_launcher(worker, args=(sys.argv[1],), num_processes=2)
