"""The dataset card of a prepared folder says where its clips came from: InternVid or the user's caption list."""

from viclip.data.prepared_format import dataset_card

SETTINGS = {"num_frames": 8, "train_choices": 2, "jpeg_quality": 90, "short_side": 256}


def manifest(annotations: dict) -> dict:
    return {"settings": SETTINGS, "annotations": annotations, "rows_read": 5, "rows_written": 4,
            "rows_skipped": {"missing_video": 1}}  # fmt: skip


def test_a_folder_prepared_from_a_caption_list_names_the_list_and_not_internvid():
    card = dataset_card(manifest({"clips": "/data/lists/my_clips.csv", "max_rows": None}))
    assert "# Training-ready video clips from a caption list (viclip prepared shards)" in card
    assert "4 clips written from 5 caption-list rows (`my_clips.csv`); skipped: missing_video=1." in card
    assert "InternVid" not in card and "internvid" not in card
    assert "path: shards/shard-*.parquet" in card


def test_a_folder_prepared_from_internvid_annotations_keeps_the_internvid_card():
    card = dataset_card(manifest({"data_files": ["/a.jsonl"], "path": None, "name": None, "split": None}))
    assert "# Training-ready InternVid clips (viclip prepared shards)" in card
    assert "4 clips written from 5 annotation rows; skipped: missing_video=1." in card
    assert "- internvid" in card and "CC BY-NC-SA 4.0" in card
