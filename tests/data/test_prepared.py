"""load_prepared: the same examples as load_internvid, disjoint shards across ranks x workers, exact resume."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from viclip.data import SkipStats, internvid_collate, load_internvid, load_prepared
from viclip.data import prepared as prepared_module


def _load(prepared, processor, **kwargs):
    return load_prepared(prepared.folder, processor=processor, **kwargs)


def test_examples_carry_the_fields_of_load_internvid(prepared, processor):
    example = next(iter(_load(prepared, processor, training=False)))
    assert example["pixel_values_videos"].shape == (4, 3, 32, 32)
    assert example["input_ids"].shape == example["attention_mask"].shape == (32,)
    for key in ("caption", "youtube_id", "start_sec", "end_sec", "row_index"):
        assert key in example
    assert "frames" not in example


def test_evaluation_pixels_match_load_internvid_on_the_same_rows(prepared, processor):
    source = {
        e["row_index"]: e["pixel_values_videos"]
        for e in load_internvid(
            data_files=prepared.annotations, video_root=prepared.source.video_root, processor=processor,
            training=False, num_shards=1,
        )
    }  # fmt: skip
    ours = {e["row_index"]: e["pixel_values_videos"] for e in _load(prepared, processor, training=False)}
    assert sorted(ours) == sorted(source) == prepared.source.good_rows
    for row, pixels in ours.items():
        cosine = torch.nn.functional.cosine_similarity(pixels.flatten(), source[row].flatten(), dim=0)
        assert cosine >= 0.98, (row, cosine.item())


def test_every_row_exactly_once_across_two_ranks_and_two_workers(prepared, processor):
    seen = []
    for rank in range(2):
        ds = _load(prepared, processor, rank=rank, world_size=2)
        loader = DataLoader(ds, batch_size=3, num_workers=2, collate_fn=internvid_collate)
        seen += [int(i) for batch in loader for i in batch["row_index"]]
    assert sorted(seen) == prepared.source.good_rows


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_ranks_read_disjoint_shard_files_whatever_the_file_count(
    prepared, processor, world_size, monkeypatch
):
    decoded = []
    real = prepared_module.decode_jpeg_frame
    monkeypatch.setattr(prepared_module, "decode_jpeg_frame", lambda data: decoded.append(data) or real(data))
    num_files = len(list((prepared.folder / "shards").glob("*.parquet")))
    assert num_files % world_size or world_size == 2  # 7 files: 3 and 4 ranks do not divide them
    seen, frames = [], 0
    for rank in range(world_size):
        rows = [e["row_index"] for e in _load(prepared, processor, rank=rank, world_size=world_size, seed=3)]
        assert rows, f"rank {rank} got no clip"
        seen += rows
        frames += len(decoded)
        decoded.clear()
    assert sorted(seen) == prepared.source.good_rows  # each clip once, and decoded by one rank only
    assert frames == len(prepared.source.good_rows) * 4


def test_more_ranks_than_shard_files_is_refused(prepared, processor):
    with pytest.raises(ValueError, match="shard files for 99 ranks"):
        _load(prepared, processor, rank=0, world_size=99)


def test_stats_count_the_examples_of_a_pass(prepared, processor):
    stats = SkipStats()
    list(_load(prepared, processor, stats=stats))
    assert stats.num_examples == len(prepared.source.good_rows) and stats.num_skipped == 0


@pytest.mark.parametrize("stop_after", [1, 5, 9])
def test_resumed_shuffled_stream_continues_with_the_next_row(prepared, processor, stop_after):
    def load():
        return _load(prepared, processor, shuffle_buffer_size=3, seed=7)

    full = [e["row_index"] for e in load()]
    ds = load()
    iterator = iter(ds)
    head = [next(iterator)["row_index"] for _ in range(stop_after)]
    resumed = load()
    resumed.load_state_dict(ds.state_dict())
    assert head + [e["row_index"] for e in resumed] == full
    assert full != sorted(full)


def test_training_pixels_are_augmented_and_seeded_per_row(prepared, processor):
    def pixels(seed):
        torch.manual_seed(seed)
        return {e["row_index"]: e["pixel_values_videos"] for e in _load(prepared, processor, shuffle=False)}

    first, again = pixels(0), pixels(0)
    evaluation = {
        e["row_index"]: e["pixel_values_videos"] for e in _load(prepared, processor, training=False)
    }
    assert all(torch.equal(first[r], again[r]) for r in first)
    assert any(not torch.equal(first[r], evaluation[r]) for r in first)


def test_a_corrupt_stored_frame_is_counted_not_raised(prepared, processor, monkeypatch):
    def broken(data):
        raise RuntimeError("corrupt JPEG")

    monkeypatch.setattr(prepared_module, "decode_jpeg_frame", broken)
    stats = SkipStats()
    assert list(_load(prepared, processor, stats=stats)) == []
    assert stats.skipped() == {"processing_error": len(prepared.source.good_rows)}


def test_hub_repo_goes_through_load_dataset_like_a_folder(prepared, processor, monkeypatch):
    import huggingface_hub

    calls = []
    real = prepared_module.load_dataset
    files = sorted(p.relative_to(prepared.folder).as_posix() for p in prepared.folder.rglob("*.parquet"))
    monkeypatch.setattr(
        huggingface_hub.HfApi,
        "list_repo_files",
        lambda self, repo, **kw: ["README.md", "manifest.json", *files],
    )
    monkeypatch.setattr(
        huggingface_hub,
        "hf_hub_download",
        lambda repo, filename, **kw: str(prepared.folder / filename) if repo == "user/prepared" else None,
    )

    def fake_load_dataset(path, **kwargs):
        calls.append((path, kwargs["data_files"]))
        return real(str(prepared.folder), **kwargs)

    monkeypatch.setattr(prepared_module, "load_dataset", fake_load_dataset)
    rows = [e["row_index"] for e in load_prepared("user/prepared", processor=processor, shuffle=False)]
    assert calls == [("user/prepared", files)]
    assert sorted(rows) == prepared.source.good_rows


def test_push_uploads_the_shards_card_and_manifest(prepared, monkeypatch):
    import huggingface_hub

    uploads = {}
    monkeypatch.setattr(
        huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: f"https://hf.co/{repo_id}"
    )
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", lambda self, **kw: uploads.update(kw))
    from viclip.data import push_prepared

    assert push_prepared(prepared.folder, "user/prepared") == "https://hf.co/user/prepared"
    assert uploads["repo_type"] == "dataset" and uploads["folder_path"] == str(prepared.folder)
    assert "shards/*.parquet" in uploads["allow_patterns"] and "README.md" in uploads["allow_patterns"]


def test_training_from_shards_lowers_the_loss(prepared, processor):
    from viclip import ViCLIPModel
    from viclip_testing import tiny_config

    torch.manual_seed(0)
    model = ViCLIPModel(tiny_config(num_frames=4)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = DataLoader(_load(prepared, processor), batch_size=8, collate_fn=internvid_collate)
    batch = next(iter(loader))
    inputs = {k: batch[k] for k in ("pixel_values_videos", "input_ids", "attention_mask")}
    losses = []
    for _ in range(8):
        loss = model(**inputs, return_loss=True).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("training", [True, False])
def test_reader_pixels_equal_the_video_processor_on_the_same_frames(prepared, processor, training):
    import pyarrow.parquet as pq

    row = pq.read_table(next((prepared.folder / "shards").glob("*.parquet"))).to_pylist()[0]
    transform = prepared_module.PreparedExampleTransform(processor, training=training)
    decoded = [prepared_module.decode_jpeg_frame(row["frames"][i]) for i in row["frame_order"][:4]]
    channels_last = torch.stack([f.permute(1, 2, 0) for f in decoded]).permute(0, 3, 1, 2)
    seed = 1234 if training else None
    expected = processor.video_processor(
        torch.stack(decoded),
        do_sample_frames=False,
        do_train_augmentation=training,
        seed=seed,
        return_tensors="pt",
    )["pixel_values_videos"][0]
    assert torch.equal(transform.pixel_values(channels_last, seed), expected)


def test_the_frame_count_comes_from_the_manifest_that_prepare_wrote(prepared):
    """No num_frames to give again: the shards were prepared for a 4-frame model, so examples have 4 frames."""
    example = next(iter(load_prepared(prepared.folder, training=False)))
    assert example["pixel_values_videos"].shape[:2] == (4, 3)


def test_a_processor_of_another_frame_count_than_the_shards_is_refused(prepared):
    from viclip.processing import ViCLIPProcessor

    with pytest.raises(ValueError, match=r"prepared for 4 frames per clip but the processor gives 8"):
        load_prepared(prepared.folder, processor=ViCLIPProcessor())


def test_a_model_folder_gives_its_processor(prepared, four_frame_model_dir):
    example = next(iter(load_prepared(prepared.folder, processor=four_frame_model_dir, training=False)))
    assert example["pixel_values_videos"].shape == (4, 3, 32, 32)  # the tiny model's 32x32 frames
