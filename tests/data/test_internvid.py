"""load_internvid: local files and the Hub through one code path, skip accounting, workers, ranks, resume."""

from __future__ import annotations

import logging

import datasets
import pytest
import torch
from datasets.distributed import split_dataset_by_node
from torch.utils.data import DataLoader

from viclip.data import AnnotationFilter, SkipStats, internvid_collate, load_internvid
from viclip.data import internvid as internvid_module

from .conftest import read_jsonl


def _load(broken, processor, **kwargs):
    kwargs.setdefault("data_files", broken.annotations)
    kwargs.setdefault("num_shards", 4)
    kwargs.setdefault("shuffle_buffer_size", 4)
    return load_internvid(video_root=broken.video_root, processor=processor, **kwargs)


def test_examples_carry_model_inputs_and_row_ids(synthetic, processor):
    ds = load_internvid(
        data_files=synthetic.annotations, video_root=synthetic.video_dir, processor=processor, training=False
    )
    assert isinstance(ds, datasets.IterableDataset)
    examples = sorted(ds, key=lambda e: e["row_index"])
    rows = read_jsonl(synthetic.annotations)
    assert len(examples) == len(rows)
    first, row = examples[0], rows[0]
    assert first["pixel_values_videos"].shape == (4, 3, 32, 32)
    assert first["pixel_values_videos"].dtype == torch.float32
    assert first["input_ids"].shape == first["attention_mask"].shape == (32,)
    assert first["input_ids"][0].item() == 49406  # <|startoftext|>
    assert first["caption"] == row["Caption"]
    assert first["youtube_id"] == row["YoutubeID"]
    assert first["start_timestamp"] == row["Start_timestamp"] == "00:00:00.050"
    assert first["start_sec"] == pytest.approx(0.05)
    assert first["end_sec"] == pytest.approx(0.95)
    assert first["video_path"].endswith(f"{row['YoutubeID']}.mp4")


def test_jsonl_and_parquet_give_identical_examples(broken, processor):
    from_jsonl = list(_load(broken, processor, training=False))
    from_parquet = list(_load(broken, processor, training=False, data_files=broken.parquet))
    assert len(from_jsonl) == len(from_parquet) == len(broken.good_rows)
    for a, b in zip(from_jsonl, from_parquet):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], torch.Tensor):
                assert torch.equal(a[key], b[key]), key
            else:
                assert a[key] == b[key], key


def test_bad_rows_are_skipped_counted_by_reason_and_named_in_the_log(broken, processor, caplog):
    stats = SkipStats()
    with caplog.at_level(logging.DEBUG, logger="viclip.data"):
        examples = list(_load(broken, processor, stats=stats, training=False))
    assert sorted(e["row_index"] for e in examples) == broken.good_rows
    assert stats.skipped() == broken.reasons
    assert stats.num_examples == len(broken.good_rows)
    assert stats.counts()["shards_done"] == 4
    skip_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped row")]
    for index, reason in broken.bad_rows.items():
        assert any(
            line.startswith(f"skipped row {index} ") and f": {reason}: " in line for line in skip_lines
        )
    assert any("truncVid000" in line and "corrupt_video" in line for line in skip_lines)
    assert any("InternVid: all 4 shards read" in r.getMessage() for r in caplog.records)


def test_two_dataloader_workers_on_two_ranks_see_every_row_exactly_once(broken, processor):
    stats = SkipStats()
    seen = []
    for rank in range(2):
        ds = split_dataset_by_node(_load(broken, processor, stats=stats), rank=rank, world_size=2)
        for batch in DataLoader(ds, batch_size=3, num_workers=2):
            assert batch["pixel_values_videos"].shape[1:] == (4, 3, 32, 32)
            seen += batch["row_index"].tolist()
    assert sorted(seen) == broken.good_rows
    # the workers counted into the caller's stats through shared memory
    assert stats.skipped() == broken.reasons
    assert stats.num_examples == len(broken.good_rows)


def test_ranks_get_disjoint_rows(broken, processor):
    per_rank = [
        {e["row_index"] for e in split_dataset_by_node(_load(broken, processor), rank=r, world_size=2)}
        for r in range(2)
    ]
    assert not per_rank[0] & per_rank[1]
    assert sorted(per_rank[0] | per_rank[1]) == broken.good_rows


@pytest.mark.parametrize("stop_after", [1, 5, 9])
def test_resumed_stream_continues_with_the_next_row(broken, processor, stop_after):
    full = [e["row_index"] for e in _load(broken, processor)]
    ds = _load(broken, processor)
    iterator = iter(ds)
    head = [next(iterator)["row_index"] for _ in range(stop_after)]
    state = ds.state_dict()
    resumed = _load(broken, processor)
    resumed.load_state_dict(state)
    tail = [e["row_index"] for e in resumed]
    assert head + tail == full


def test_shuffle_is_seeded(broken, processor):
    order = [e["row_index"] for e in _load(broken, processor, seed=1)]
    assert order == [e["row_index"] for e in _load(broken, processor, seed=1)]
    assert order != [e["row_index"] for e in _load(broken, processor, seed=2)]
    in_order = [e["row_index"] for e in _load(broken, processor, shuffle=False, num_shards=1)]
    assert in_order == broken.good_rows


def test_training_uses_random_sampling_and_augmentation(broken, processor):
    train = {e["row_index"]: e for e in _load(broken, processor, training=True)}
    evaluation = {e["row_index"]: e for e in _load(broken, processor, training=False)}
    assert train.keys() == evaluation.keys()
    differing = sum(
        not torch.equal(train[i]["pixel_values_videos"], evaluation[i]["pixel_values_videos"]) for i in train
    )
    assert differing >= len(train) - 1
    again = {e["row_index"]: e for e in _load(broken, processor, training=False)}
    assert all(
        torch.equal(again[i]["pixel_values_videos"], evaluation[i]["pixel_values_videos"]) for i in again
    )


def test_clean_captions_applies_the_original_pre_text(tmp_path, synthetic, processor):
    rows = read_jsonl(synthetic.annotations)[:1]
    rows[0]["Caption"] = "A Red-Circle, moves (left)!"
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(map(__import__("json").dumps, rows)))
    cleaned = next(iter(load_internvid(data_files=path, video_root=synthetic.video_dir, processor=processor,
                                       clean_captions=True)))  # fmt: skip
    raw = next(iter(load_internvid(data_files=path, video_root=synthetic.video_dir, processor=processor)))
    assert cleaned["caption"] == "a red circle moves left"
    assert raw["caption"] == "A Red-Circle, moves (left)!"


def test_filters_skip_rows_by_reason(broken, processor):
    rows = broken.rows
    unparsed = ("bad_timestamp", "empty_segment", "bad_score", "bad_text", "unreadable_row")
    parsed = [i for i in range(len(rows)) if broken.bad_rows.get(i) not in unparsed]
    threshold = sorted(rows[i]["UMT_Score"] for i in broken.good_rows)[len(broken.good_rows) // 2]
    stats = SkipStats()
    filters = AnnotationFilter(min_umt_score=threshold, min_caption_words=6)
    kept = list(_load(broken, processor, stats=stats, filters=filters))
    low_umt = [i for i in parsed if rows[i]["UMT_Score"] < threshold]
    short = [i for i in parsed if i not in low_umt and len(rows[i]["Caption"].split()) < 6]
    expected = [i for i in broken.good_rows if i not in low_umt and i not in short]
    assert short and low_umt and expected
    assert sorted(e["row_index"] for e in kept) == expected
    assert stats.counts()["low_umt_score"] == len(low_umt)
    assert stats.counts()["short_caption"] == len(short)


def test_duration_filter(broken, processor):
    stats = SkipStats()
    kept = list(_load(broken, processor, stats=stats, filters=AnnotationFilter(max_duration=1.0)))
    assert {e["youtube_id"] for e in kept}.isdisjoint({"precutVid01"})  # 2.5 s long
    assert stats.counts()["duration_out_of_bounds"] == 1


def test_map_style_dataset_drops_missing_rows_and_collate_drops_corrupt_videos(broken, processor):
    stats = SkipStats()
    ds = _load(broken, processor, streaming=False, stats=stats, training=False)
    assert isinstance(ds, datasets.Dataset)
    # rows with a file are kept at build time; the two broken files and the segment past the end of its
    # video fail only when decoded
    assert len(ds) == len(broken.good_rows) + 3
    assert stats.skipped() == {
        "missing_video": 1,
        "bad_timestamp": 1,
        "empty_segment": 1,
        "bad_score": 1,
        "bad_text": 1,
        "unreadable_row": 1,
    }
    seen = []
    for batch in DataLoader(ds, batch_size=4, collate_fn=internvid_collate):
        if batch is not None:
            assert batch["pixel_values_videos"].shape[1:] == (4, 3, 32, 32)
            seen += batch["row_index"].tolist()
    assert sorted(seen) == broken.good_rows
    assert stats.skipped()["corrupt_video"] == 2
    assert stats.skipped()["segment_out_of_range"] == 1


def test_hub_arguments_pass_through_to_load_dataset(monkeypatch, broken, processor):
    calls = []
    real_load_dataset = datasets.load_dataset

    def fake_load_dataset(path, name=None, **kwargs):
        calls.append((path, name, kwargs))
        return real_load_dataset(
            "parquet", data_files=str(broken.parquet), split="train", streaming=kwargs["streaming"]
        )

    monkeypatch.setattr(internvid_module, "load_dataset", fake_load_dataset)
    ds = load_internvid(video_root=broken.video_root, processor=processor, token="hf_secret", num_shards=2)
    assert sorted(e["row_index"] for e in ds) == broken.good_rows
    assert calls[0] == (
        "OpenGVLab/InternVid",
        "InternVid-10M",
        {"split": "FLT", "streaming": True, "token": "hf_secret"},
    )
    calls.clear()
    list(load_internvid("OpenGVLab/InternVid", "InternVid-10M", "AES", video_root=broken.video_root,
                        processor=processor, num_shards=1))  # fmt: skip
    assert calls[0][2]["split"] == "AES"
    calls.clear()
    info = load_internvid("OpenGVLab/InternVid-10M-FLT-INFO", None, "train", video_root=broken.video_root,
                          processor=processor, streaming=False, token="t")  # fmt: skip
    assert calls[0] == (
        "OpenGVLab/InternVid-10M-FLT-INFO",
        None,
        {"split": "train", "streaming": False, "token": "t"},
    )
    assert len(info) == len(broken.good_rows) + 3


def test_custom_transform_is_plugged_in(broken):
    def transform(row):
        return {
            "pixel_values_videos": torch.zeros(1),
            "input_ids": torch.zeros(1),
            "attention_mask": torch.ones(1),
        }

    examples = list(
        load_internvid(data_files=broken.annotations, video_root=broken.video_root, transform=transform)
    )
    # the custom transform never opens the files, so the corrupt ones (and the segment past the end) come through
    assert len(examples) == len(broken.good_rows) + 3


def test_settings_of_the_default_transform_next_to_a_transform_are_refused(broken, processor):
    """They were silently ignored: a transform does all the per-example work."""
    with pytest.raises(ValueError, match=r"either transform or processor, clean_captions \(settings"):
        load_internvid(data_files=broken.annotations, video_root=broken.video_root, transform=dict,
                       processor=processor, clean_captions=True)  # fmt: skip


def test_a_model_folder_gives_its_processor(synthetic, tmp_path):
    from viclip_testing import tiny_config

    tiny_config(num_frames=4).save_pretrained(tmp_path / "model")  # 4 frames of 32x32, no processor saved
    example = next(iter(load_internvid(data_files=synthetic.annotations, video_root=synthetic.video_dir,
                                       processor=tmp_path / "model", training=False)))  # fmt: skip
    assert example["pixel_values_videos"].shape == (4, 3, 32, 32)


def test_processing_errors_are_counted_not_raised(broken):
    def transform(row):
        raise RuntimeError("boom")

    stats = SkipStats()
    assert list(load_internvid(data_files=broken.annotations, video_root=broken.video_root, transform=transform,
                               stats=stats)) == []  # fmt: skip
    assert stats.counts()["processing_error"] == len(broken.good_rows) + 3


def test_bad_arguments_raise_clear_errors(tmp_path, broken, processor):
    with pytest.raises(FileNotFoundError, match=r"video_root .*nowhere"):
        load_internvid(data_files=broken.annotations, video_root=tmp_path / "nowhere", processor=processor)
    with pytest.raises(FileNotFoundError, match=r"missing\.jsonl"):
        load_internvid(data_files=tmp_path / "missing.jsonl", video_root=tmp_path, processor=processor)
    (tmp_path / "rows.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match=r"rows.csv.*JSON Lines .* or Parquet"):
        load_internvid(data_files=tmp_path / "rows.csv", video_root=tmp_path, processor=processor)
    with pytest.raises(ValueError, match="num_shards"):
        load_internvid(data_files=broken.annotations, video_root=tmp_path, processor=processor, num_shards=0)


def test_a_row_plan_survives_pickling_and_its_shards_read_every_row_once(broken, tmp_path):
    """The plan is what DataLoader workers receive (pickled): the same rows, each in the shard ``i % num_shards``."""
    import pickle

    from viclip.data.internvid import AnnotationSource, RowPlan, generate_rows

    plan = RowPlan(
        source=AnnotationSource.from_arguments(None, None, None, broken.annotations, None),
        row_filter=AnnotationFilter(),
        video_root=str(broken.video_root),
        shuffle=False,
        num_shards=3,
    )
    assert plan.source.data_files == (str(broken.annotations),)
    rows = list(generate_rows([0, 1, 2], pickle.loads(pickle.dumps(plan))))
    assert rows == list(generate_rows([0, 1, 2], plan))
    rows = [r for r in rows if r["row_index"] >= 0]  # without the three end-of-shard markers
    for shard in range(3):
        indices = [r["row_index"] for r in generate_rows([shard], plan) if r["row_index"] >= 0]
        assert indices and all(i % 3 == shard for i in indices)
    assert sorted(r["row_index"] for r in rows) == list(
        range(len(broken.annotations.read_bytes().splitlines()))
    )
    with pytest.raises(FileNotFoundError, match="video_root"):
        RowPlan(
            source=plan.source, row_filter=AnnotationFilter(), video_root=str(tmp_path / "no"), shuffle=False
        )


@pytest.mark.parametrize("streaming", [True, False])
def test_local_annotations_are_read_without_asking_the_hub_for_anything(
    broken, processor, monkeypatch, streaming
):
    import datasets.load

    # As for a user online (the suite runs offline): any request to the Hub fails the test.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    requests = []
    monkeypatch.setattr(
        datasets.load, "get_session", lambda: requests.append("session") or pytest.fail("Hub")
    )
    rows = [e["row_index"] for e in _load(broken, processor, streaming=streaming, training=False)]
    assert rows and not requests
    assert datasets.config.HF_UPDATE_DOWNLOAD_COUNTS  # restored for the user's own Hub loads
