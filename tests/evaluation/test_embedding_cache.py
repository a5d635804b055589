import os

import pytest
import torch

from viclip.data.video_list import list_videos
from viclip.evaluation.embedding_cache import EmbeddingCache
from viclip.processing import VideoClip


class CountingEmbedder:
    """Stands in for the model: embeds a video as its file size, records what it decoded."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[str] = []
        self.fail_on = fail_on

    def __call__(self, items):
        for item in items:
            if self.fail_on and item.path.endswith(self.fail_on):
                raise RuntimeError(f"cannot decode {item.path}")
        self.calls.extend(os.path.basename(item.path) for item in items)
        return torch.tensor([[float(os.path.getsize(item.path)), 1.0] for item in items])


def _copy_videos(src, dst):
    dst.mkdir()
    for path in sorted(src.glob("*.mp4")):
        (dst / path.name).write_bytes(path.read_bytes())
    return list_videos(dst)


def test_second_run_reuses_the_cache_without_decoding(video_dir, tmp_path):
    items = list_videos(video_dir)
    assert [os.path.basename(i.path) for i in items] == ["blue.mp4", "green.mp4", "red.mp4"]
    embed = CountingEmbedder()
    first = EmbeddingCache(tmp_path / "c.safetensors", "model-a").embed(items, embed, batch_size=2)
    assert embed.calls == ["blue.mp4", "green.mp4", "red.mp4"]
    assert (first.num_computed, first.num_reused) == (3, 0)

    embed2 = CountingEmbedder()
    second = EmbeddingCache(tmp_path / "c.safetensors", "model-a").embed(items, embed2)
    assert embed2.calls == []
    assert (second.num_computed, second.num_reused) == (0, 3)
    torch.testing.assert_close(second.embeddings, first.embeddings)
    assert second.embeddings[:, 0].tolist() == [float(os.path.getsize(i.path)) for i in items]


def test_changed_file_is_recomputed_and_others_reused(video_dir, tmp_path):
    items = _copy_videos(video_dir, tmp_path / "v")
    cache = EmbeddingCache(tmp_path / "c.safetensors", "model-a")
    cache.embed(items, CountingEmbedder())
    green = tmp_path / "v" / "green.mp4"
    green.write_bytes(green.read_bytes() + b"\x00" * 10)  # new size and mtime
    embed = CountingEmbedder()
    result = cache.embed(items, embed)
    assert embed.calls == ["green.mp4"]
    assert result.embeddings[1, 0].item() == float(green.stat().st_size)


def test_same_size_touched_file_is_recomputed(video_dir, tmp_path):
    items = _copy_videos(video_dir, tmp_path / "v")
    cache = EmbeddingCache(tmp_path / "c.safetensors", "model-a")
    cache.embed(items, CountingEmbedder())
    stat = os.stat(items[0].path)
    os.utime(items[0].path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    embed = CountingEmbedder()
    cache.embed(items, embed)
    assert embed.calls == ["blue.mp4"]


def test_other_model_fingerprint_invalidates_everything(video_dir, tmp_path):
    items = list_videos(video_dir)
    EmbeddingCache(tmp_path / "c.safetensors", "model-a").embed(items, CountingEmbedder())
    embed = CountingEmbedder()
    EmbeddingCache(tmp_path / "c.safetensors", "model-b").embed(items, embed)
    assert len(embed.calls) == 3


def test_clip_windows_are_separate_entries(video_dir, tmp_path):
    path = str(video_dir / "red.mp4")
    items = [VideoClip(path), VideoClip(path, 0.0, 1.0), VideoClip(path, 0.0, 1.0)]
    embed = CountingEmbedder()
    result = EmbeddingCache(tmp_path / "c.safetensors", "m").embed(items, embed)
    assert len(embed.calls) == 2 and result.embeddings.shape == (3, 2)


def test_unreadable_video_is_skipped_or_raised(video_dir, broken_video, tmp_path):
    items = [*list_videos(video_dir), VideoClip(str(broken_video))]
    cache = EmbeddingCache(tmp_path / "c.safetensors", "m")
    with pytest.raises(RuntimeError, match=r"broken\.mp4"):
        cache.embed(items, CountingEmbedder(fail_on="broken.mp4"), batch_size=4)
    result = cache.embed(items, CountingEmbedder(fail_on="broken.mp4"), batch_size=4, skip_errors=True)
    assert [os.path.basename(i.path) for i in result.items] == ["blue.mp4", "green.mp4", "red.mp4"]
    assert result.failed[0][0].path == str(broken_video) and "cannot decode" in result.failed[0][1]


def test_missing_file_is_reported_before_any_work(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4"):
        EmbeddingCache(tmp_path / "c.safetensors", "m").embed(
            [VideoClip(str(tmp_path / "nope.mp4"))], CountingEmbedder()
        )
    assert not (tmp_path / "c.safetensors").exists()


def test_corrupt_cache_file_is_rebuilt(video_dir, tmp_path):
    (tmp_path / "c.safetensors").write_bytes(b"garbage")
    embed = CountingEmbedder()
    EmbeddingCache(tmp_path / "c.safetensors", "m").embed(list_videos(video_dir), embed)
    assert len(embed.calls) == 3
