"""Training checkpoints: `accelerator.save_state` every N steps, written atomically, keeping the last K.

A checkpoint is written into ``checkpoints/.tmp-step-XXXXXXXX`` and renamed to
``checkpoints/step-XXXXXXXX`` only once every process has finished writing, so a run killed at any moment
leaves either a complete checkpoint or none (a stale ``.tmp-*`` folder is removed by the next save).
Besides Accelerate's files (model, optimiser, scheduler, RNG of every process), each process writes
``trainer_state_rank{R}.json``: the step and its data-stream position. Checkpoints are expected on a
filesystem every process can see (one node, or a shared filesystem across nodes).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..errors import ViCLIPError

logger = logging.getLogger(__name__)

_STEP_DIR = re.compile(r"^step-(\d+)$")
TRAINER_STATE = "trainer_state_rank{rank}.json"


class CheckpointError(ViCLIPError, RuntimeError):
    """A checkpoint that cannot be resumed (missing, incomplete, or from a different world size)."""


class CheckpointManager:
    """Saves and finds checkpoints under ``{output_dir}/checkpoints``.

    Args:
        output_dir: the run folder.
        save_total_limit: how many of the most recent checkpoints to keep.
    """

    def __init__(self, output_dir: str | os.PathLike, save_total_limit: int = 3):
        if save_total_limit < 1:
            raise ValueError(f"save_total_limit must be >= 1, got {save_total_limit}")
        self.root = Path(output_dir) / "checkpoints"
        self.save_total_limit = save_total_limit

    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints as ``(step, path)``, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            match = _STEP_DIR.match(path.name)
            if match and path.is_dir():
                found.append((int(match.group(1)), path))
        return sorted(found)

    def latest(self) -> Path | None:
        """The most recent complete checkpoint, or None."""
        found = self.checkpoints()
        return found[-1][1] if found else None

    def resolve(self, resume_from: str) -> Path:
        """``"latest"`` or a checkpoint folder -> the folder, with a clear error when there is none."""
        if resume_from == "latest":
            path = self.latest()
            if path is None:
                raise CheckpointError(f"--resume latest: no checkpoint in {self.root}")
            return path
        path = Path(resume_from)
        if not path.is_dir():
            raise CheckpointError(f"checkpoint folder not found: {path}")
        return path

    def save(self, accelerator: Any, step: int, trainer_state: dict[str, Any]) -> Path:
        """Save the Accelerate state plus this process's `trainer_state`; every process must call it."""
        final = self.root / f"step-{step:08d}"
        tmp = self.root / f".tmp-step-{step:08d}"
        if accelerator.is_main_process:
            self.root.mkdir(parents=True, exist_ok=True)
            for stale in self.root.glob(".tmp-step-*"):
                shutil.rmtree(stale, ignore_errors=True)
        accelerator.wait_for_everyone()
        accelerator.save_state(output_dir=str(tmp), safe_serialization=True)
        tmp.mkdir(parents=True, exist_ok=True)
        state_path = tmp / TRAINER_STATE.format(rank=accelerator.process_index)
        state = {"step": step, "num_processes": accelerator.num_processes, **trainer_state}
        with open(state_path, "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            if final.exists():  # the same step saved again after a resume
                shutil.rmtree(final)
            os.replace(tmp, final)
            self._prune()
            logger.info("saved checkpoint %s", final)
        accelerator.wait_for_everyone()
        return final

    def load(self, accelerator: Any, path: str | os.PathLike) -> dict[str, Any]:
        """Restore the Accelerate state from `path` and return this process's trainer state."""
        path = Path(path)
        state_path = path / TRAINER_STATE.format(rank=accelerator.process_index)
        if not state_path.is_file():
            raise CheckpointError(f"{path} is not a complete viclip checkpoint: {state_path.name} is missing")
        state = json.loads(state_path.read_text())
        if state.get("num_processes") != accelerator.num_processes:
            raise CheckpointError(
                f"{path} was written by {state.get('num_processes')} processes; this run has "
                f"{accelerator.num_processes} (the data-stream positions are per process)"
            )
        accelerator.load_state(str(path))
        return state

    def _prune(self) -> None:
        for _, path in self.checkpoints()[: -self.save_total_limit]:
            shutil.rmtree(path, ignore_errors=True)
