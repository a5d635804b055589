"""A run SIGKILLed after a checkpoint and resumed with ``--resume latest`` ends with the same weights as
an uninterrupted run, and its data stream neither repeats nor skips rows."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import torch
from safetensors.torch import load_file

import warm_python

SCRIPT = Path(__file__).parent / "scripts" / "resume_run.py"


def _start(*args) -> warm_python.WarmProcess:
    return warm_python.WarmProcess([str(SCRIPT), *map(str, args)])


def _wait(process: warm_python.WarmProcess, expect_kill: bool = False) -> None:
    expected = -signal.SIGKILL if expect_kill else 0
    assert process.wait(timeout=300) == expected, process.stderr[-3000:]


def _batches(record: Path) -> list[list[int]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_sigkill_then_resume_latest_matches_the_uninterrupted_run(tmp_path):
    # 14 rows in batches of 3 (last partial batch dropped), 2 micro-batches per step, 5 steps, masking
    # and drop-path on: the run crosses an epoch boundary, and the kill comes right after the step-4
    # checkpoint. Every run is a single-threaded process of its own (identical float reductions).
    full = _start(tmp_path / "full", tmp_path / "full.jsonl")
    cut = _start(tmp_path / "cut", tmp_path / "cut.jsonl", "--kill-after-save", 4)
    _wait(full)
    _wait(cut, expect_kill=True)

    checkpoints = sorted(p.name for p in (tmp_path / "cut" / "run" / "checkpoints").iterdir())
    assert checkpoints == ["step-00000004"]  # atomic: no .tmp left; keep-last-1 pruned step 2
    assert not (tmp_path / "cut" / "run" / "final").exists()
    killed = _batches(tmp_path / "cut.jsonl")
    assert len(killed) == 8  # 4 steps x 2 micro-batches, nothing read ahead

    _wait(_start(tmp_path / "cut", tmp_path / "resumed.jsonl", "--resume"))
    full_batches = _batches(tmp_path / "full.jsonl")
    assert killed + _batches(tmp_path / "resumed.jsonl") == full_batches
    assert sorted(r for batch in full_batches[:4] for r in batch) == list(range(12))  # epoch 0: each row once

    expected = load_file(tmp_path / "full" / "run" / "final" / "model.safetensors")
    resumed = load_file(tmp_path / "cut" / "run" / "final" / "model.safetensors")
    assert expected.keys() == resumed.keys()
    for name in expected:
        torch.testing.assert_close(resumed[name], expected[name], atol=0, rtol=0, msg=name)
