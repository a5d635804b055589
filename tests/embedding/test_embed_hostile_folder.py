"""`viclip embed` over a folder of damaged copies beside good videos: every file is embedded or listed."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np

from .conftest import run_cli


def test_embed_over_damaged_folder_embeds_or_lists_every_file(tmp_path, capsys, video_dir, tiny_model_dir):
    folder = tmp_path / "scraped"
    folder.mkdir()
    goods = sorted(video_dir.glob("*.mp4"))[:2]
    rng = np.random.default_rng(34)
    for good in goods:
        shutil.copy(good, folder / good.name)
        data = good.read_bytes()
        (folder / f"cut_{good.name}").write_bytes(data[:100])
        (folder / f"tail_{good.name}").write_bytes(
            data[:-256] + rng.integers(0, 256, 256, np.uint8).tobytes()
        )
        flipped = bytearray(data)
        for at in rng.integers(0, len(data), 30):
            flipped[at] ^= 0xFF
        (folder / f"flipped_{good.name}").write_bytes(bytes(flipped))
    out = tmp_path / "emb"
    code, stdout, stderr = run_cli(
        capsys,
        "embed",
        "--inputs",
        folder,
        "--output-dir",
        out,
        "--model",
        tiny_model_dir,
        "--engine",
        "local",
        "--quiet",
    )
    summary = re.search(r"(\d+) clips: (\d+) embedded, 0 already done, (\d+) failed", stdout + stderr)
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert code == 0
    assert int(summary[1]) == 8 == int(summary[2]) + len(failures)
    assert int(summary[3]) == len(failures) >= 2
    assert all(f["error"].startswith("VideoDecodeError") for f in failures)
