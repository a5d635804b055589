"""Fixtures of the documentation tests: the page kit (a tiny model folder, three videos, a clips CSV), made once per
session, and the snippet server (tests/docs/snippet_runner.py) that runs a page's blocks."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]

# test_snippets.py imports the runner by this name (it is a script the server runs, not a package module).
_spec = importlib.util.spec_from_file_location("snippet_runner", HERE / "snippet_runner.py")
snippet_runner = importlib.util.module_from_spec(_spec)
sys.modules["snippet_runner"] = snippet_runner
_spec.loader.exec_module(snippet_runner)

PAGE_TIMEOUT_S = 300
KIT_VIDEOS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (40, 70, 235)}


def square_moving_right(color: tuple[int, int, int], num_frames: int = 16, size=(64, 48)) -> list[np.ndarray]:
    """Frames of a ``color`` square crossing a dark frame from left to right."""
    width, height = size
    frames = []
    for i in range(num_frames):
        frame = np.full((height, width, 3), 16, dtype=np.uint8)
        x = round(i * (width - 16) / (num_frames - 1))
        frame[16:32, x : x + 16] = color
        frames.append(frame)
    return frames


@pytest.fixture(scope="session")
def snippet_kit(tmp_path_factory) -> Path:
    """What every page's folder starts with: ``model/`` (a tiny ViCLIP with its processor), ``videos/`` (red, green,
    blue: 2 s, 8 fps, 64x48 H.264) and ``clips.csv`` (path,start_sec,end_sec,caption over the three)."""
    import torch

    from viclip import ViCLIPModel, ViCLIPProcessor
    from viclip.data.synthetic import write_video
    from viclip_testing import tiny_config

    kit = tmp_path_factory.mktemp("snippet-kit")
    torch.manual_seed(0)
    config = tiny_config()
    ViCLIPModel(config).eval().save_pretrained(kit / "model")
    ViCLIPProcessor.for_model(image_size=32, num_frames=8).save_pretrained(kit / "model")
    (kit / "videos").mkdir()
    rows = ["path,start_sec,end_sec,caption"]
    for name, color in KIT_VIDEOS.items():
        write_video(kit / "videos" / f"{name}.mp4", square_moving_right(color), fps=8)
        rows.append(f"videos/{name}.mp4,0,2,a {name} square moves right")
    (kit / "clips.csv").write_text("\n".join(rows) + "\n")
    return kit


# One torch thread: the models are tiny, and a second thread only spins (measured: a 2-step `viclip train` of the
# kit's model took 1.2 CPU s on one thread, 1.3-3.1 CPU s on two, on a shared 2-core machine).
TORCH_THREADS = 1


@pytest.fixture(scope="session")
def snippet_server(tmp_path_factory) -> Iterator[subprocess.Popen]:
    """The fork server with torch, transformers, datasets and viclip imported once (one per xdist worker)."""
    work = tmp_path_factory.mktemp("snippet-server")
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(TORCH_THREADS),
        "MKL_NUM_THREADS": str(TORCH_THREADS),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
    }
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(HERE / "snippet_runner.py"), "serve", str(work)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        cwd=work,
    )
    server.log_path = work / "server.log"
    ready = server.stdout.readline()
    if not ready:
        server.wait()
        pytest.fail(f"the snippet server did not start:\n{server.log_path.read_text()[-4000:]}")
    yield server
    server.stdin.close()
    server.wait(timeout=30)
    log.close()


@pytest.fixture
def run_page(snippet_kit, snippet_server, tmp_path) -> Callable[..., tuple[dict, list[dict]]]:
    """``run_page(page_file, blocks)``: runs the blocks in a fresh copy of the kit; returns the server's answer
    (``exit_code``, ``timed_out``) and one result per block (see ``snippet_runner.BlockResult``)."""

    def run(page_file: Path, blocks: list, timeout: float = PAGE_TIMEOUT_S) -> tuple[dict, list[dict]]:
        folder, log_dir = tmp_path / "page", tmp_path / "log"
        shutil.copytree(snippet_kit, folder, copy_function=os.link)
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HF_HOME": str(folder / ".cache" / "huggingface"),
            "VICLIP_CACHE": str(folder / ".cache" / "viclip"),
        }
        request = {
            "page_file": str(page_file),
            "folder": str(folder),
            "log_dir": str(log_dir),
            "env": env,
            "threads": TORCH_THREADS,
            "timeout": timeout,
            "blocks": [asdict(block) for block in blocks],
        }
        snippet_server.stdin.write(json.dumps(request) + "\n")
        snippet_server.stdin.flush()
        answer = snippet_server.stdout.readline()
        if not answer:
            pytest.fail(f"the snippet server stopped:\n{snippet_server.log_path.read_text()[-4000:]}")
        results_path = log_dir / "results.json"
        results = json.loads(results_path.read_text()) if results_path.exists() else []
        for result in results:
            if result["status"] == "running":  # cut short (a timeout, a crash): what it printed so far
                for stream in ("stdout", "stderr"):
                    output = log_dir / f"{result['line']}.{stream[3:]}"
                    result[stream] = output.read_text(errors="replace")[-6000:] if output.exists() else ""
        return json.loads(answer), results

    return run


def pytest_terminal_summary(terminalreporter) -> None:
    """Lists the skipped blocks with their reasons (from the page tests' ``skipped_blocks`` property)."""
    skipped = [
        line
        for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
        for name, lines in getattr(report, "user_properties", [])
        if name == "skipped_blocks"
        for line in lines
    ]
    if skipped:
        terminalreporter.write_sep("-", f"{len(skipped)} documentation blocks skipped")
        for line in skipped:
            terminalreporter.write_line(line)
