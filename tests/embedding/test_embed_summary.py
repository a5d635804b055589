"""viclip embed's exit status, warnings and summary are honest (issue 24 #5-#8)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import av
import pytest

from viclip.embedding import embed_videos, load_embeddings
from viclip.embedding.inputs import probe_extent
from viclip.inference import engine_choice
from viclip.processing import ClipRangeWarning

from .conftest import FPS, frames_with_square
from .conftest import run_cli as run


def write_truncated_video(path: Path, seconds: float = 10.0, keep: float = 0.55) -> Path:
    """An mp4 whose index (moov, written first) declares ``seconds`` but whose data is cut after ``keep`` of the
    file: the frames stop early, as in a download that died."""
    whole = path.with_name(f"whole-{path.name}")
    frames = frames_with_square(round(seconds * FPS), (200, 40, 40))
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "bf": "0", "g": str(2 * FPS)}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    data = whole.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    whole.unlink()
    return path


def test_embed_exits_1_when_the_only_input_is_unreadable(capsys, tiny_model_dir, tmp_path):
    bad = tmp_path / "only.mp4"
    bad.write_bytes(b"not a video at all")
    out_dir = tmp_path / "emb"
    code, out, err = run(capsys, "embed", "--inputs", bad, "--model", tiny_model_dir, "--output-dir", out_dir,
                         "--engine", "local", "--quiet")  # fmt: skip
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == (
        f"viclip embed: error: no video could be embedded (1 failed, listed in {out_dir / 'failures.jsonl'})"
    )


def test_embed_exits_1_when_the_clip_list_holds_only_a_header(capsys, tiny_model_dir, tmp_path):
    clips = tmp_path / "clips.csv"
    clips.write_text("path,start_sec,end_sec\n")
    code, out, err = run(capsys, "embed", "--inputs", clips, "--model", tiny_model_dir, "--output-dir",
                         tmp_path / "emb", "--engine", "local", "--quiet")  # fmt: skip
    assert code == 1 and out == ""
    assert (
        err.strip() == f"viclip embed: error: no video could be embedded (--inputs '{clips}' names no clip)"
    )


def test_a_rerun_with_everything_already_done_still_exits_0(capsys, video_dir, tiny_model_dir, tmp_path):
    argv = ["embed", "--inputs", video_dir / "red.mp4", "--model", tiny_model_dir, "--output-dir",
            tmp_path / "emb", "--engine", "local", "--quiet"]  # fmt: skip
    assert run(capsys, *argv)[0] == 0
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("1 clips: 0 embedded, 1 already done, 0 failed")


@pytest.mark.parametrize("engine", ["local", pytest.param("ray", marks=pytest.mark.slow)])
def test_each_embed_warning_is_printed_once(
    engine, request, monkeypatch, capsys, video_dir, tiny_model_dir, tmp_path
):
    monkeypatch.setattr(engine_choice, "machine_cpus", lambda: 2)
    if engine == "ray":
        request.getfixturevalue("ray_local")
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(video_dir / "red.mp4", folder / "red.mp4")
    shutil.copy(video_dir / "broken.mp4", folder / "broken.mp4")
    code, out, err = run(capsys, "embed", "--inputs", folder, "--model", tiny_model_dir, "--output-dir",
                       tmp_path / "emb", "--engine", engine, "--quiet")  # fmt: skip
    assert code == 0, err
    assert err.count("broken.mp4: VideoDecodeError") == 1, err
    where = (
        "in this process, the model on 2 core(s)" if engine == "local" else "on Ray, the model on 1 core(s)"
    )
    assert out.strip().endswith(f"engine: {where} (--engine {engine})")
    assert [line for line in err.splitlines() if "broken.mp4" in line] == [
        line for line in err.splitlines() if line.startswith("viclip embed: warning: skipped ")
    ]


def test_summary_counts_an_unreadable_file_as_a_clip_and_as_failed(
    capsys, video_dir, tiny_model_dir, tmp_path
):
    # With windows, a file that cannot be probed has no windows: it is still one clip asked for, and failed.
    code, out, _ = run(capsys, "embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir",
                       tmp_path / "emb", "--window", "1", "--engine", "local", "--quiet")  # fmt: skip
    assert code == 0
    assert out.startswith("14 clips: 12 embedded, 0 already done, 2 failed")  # 3 x 2 s and 6 s: 12 windows


def test_summary_never_says_the_model_ran_when_it_never_ran(video_dir, tiny_model_dir, tmp_path):
    result = embed_videos([video_dir / "broken.mp4", video_dir / "empty.mp4"], str(tiny_model_dir),
                          tmp_path / "emb", engine="local", progress=False)  # fmt: skip
    assert (result.num_clips, result.num_embedded, len(result.failures)) == (2, 0, 2)
    assert result.model_busy_fraction is None
    assert "the model ran" not in result.summary()


def test_a_truncated_video_gets_windows_clamped_to_its_real_frames_with_a_clip_range_warning(
    tiny_model_dir, tmp_path
):
    video = write_truncated_video(tmp_path / "cut.mp4")
    extent = probe_extent(str(video))
    assert extent.declared == 10.0 and 1.0 < extent.duration < 9.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = embed_videos(video, str(tiny_model_dir), tmp_path / "emb", window_sec=1.0, engine="local",
                              progress=False)  # fmt: skip
    notes = [str(w.message) for w in caught if issubclass(w.category, ClipRangeWarning)]
    assert notes == [
        f"{video}: the file's frames stop at {extent.duration:.3f} s but it declares 10.000 s (truncated?); "
        f"its windows are clamped to [0, {extent.duration:.3f}) s"
    ]
    assert result.failures == [] and result.num_embedded == result.num_clips
    table, _ = load_embeddings(tmp_path / "emb")
    assert max(table.column("end_sec").to_pylist()) == pytest.approx(extent.duration, abs=1e-3)
