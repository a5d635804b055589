"""Kinetics zero-shot benchmark: the official CSV and layouts, the class lists, metrics against a direct
computation for ViCLIP and an image CLIP, missing videos counted, and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from viclip.data.synthetic import write_video
from viclip.evaluation.benchmarks import (
    find_kinetics_clip,
    guess_kinetics_variant,
    kinetics_class_names,
    plot_per_class_accuracy,
    read_kinetics_csv,
    results_table_rows,
)
from viclip.evaluation.benchmarks.kinetics import evaluate_kinetics
from viclip.evaluation.benchmarks.video_files import VideoFileIndex
from viclip.evaluation.templates import ACTIONCLIP_TEMPLATES
from viclip.inference import load_embedder, paper_video_processor
from viclip.processing import VideoClip, clean_caption
from viclip_cli import main

CLASSES = ["abseiling", "air drumming", "passing American football (in game)", "zumba", "yoga", "dying hair"]


def _clip(path: Path, color, seconds: float = 2.0, fps: int = 8) -> Path:
    frames = []
    for i in range(int(seconds * fps)):
        frame = np.full((40, 48, 3), color, dtype=np.uint8)
        frame[8:16, (3 * i) % 40 : (3 * i) % 40 + 8] = 255
        frames.append(frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, frames, fps=fps)
    return path


@pytest.fixture(scope="module")
def kinetics_set(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A validate.csv in the official format, videos in the usual layouts, one missing and one broken."""
    root = tmp_path_factory.mktemp("kinetics")
    videos = root / "val"
    _clip(videos / "abseiling" / "aaa_000010_000020.mp4", (200, 30, 30))  # per-class folder
    _clip(videos / "air_drumming" / "bbb_000003_000013.mp4", (30, 200, 30))  # underscore folder name
    _clip(videos / "ccc_000000_000010.webm", (30, 30, 200))  # flat, another extension
    _clip(videos / "whole" / "ddd.mp4", (200, 200, 30), seconds=4.0)  # a whole video + time range
    (videos / "zumba").mkdir()
    (videos / "zumba" / "fff_000001_000011.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video" * 4)
    csv_path = root / "validate.csv"
    csv_path.write_text(
        "label,youtube_id,time_start,time_end,split\n"
        "abseiling,aaa,10,20,validate\n"
        "air drumming,bbb,3,13,validate\n"
        '"passing American football (in game)",ccc,0,10,validate\n'
        "yoga,ddd,1,3,validate\n"
        "dying hair,eee,5,15,validate\n"  # no file anywhere
        "zumba,fff,1,11,validate\n"  # undecodable
    )
    classes = root / "classes.txt"
    classes.write_text("\n".join(CLASSES) + "\n")
    return csv_path, videos, classes


@pytest.fixture(scope="module")
def tiny_clip_model_dir(tmp_path_factory) -> Path:
    """A random tiny transformers CLIPModel saved with the packaged CLIP tokenizer."""
    from transformers import CLIPConfig, CLIPModel

    from viclip.processing.processing_viclip import load_default_tokenizer

    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 32,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    folder = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).eval().save_pretrained(folder)
    load_default_tokenizer().save_pretrained(folder)
    return folder


def test_the_official_csv_is_read_with_its_clip_names(kinetics_set):
    rows = read_kinetics_csv(kinetics_set[0])
    assert [r.label for r in rows][:3] == ["abseiling", "air drumming", "passing American football (in game)"]
    assert rows[0].clip_stem == "aaa_000010_000020"
    assert (rows[3].time_start, rows[3].time_end, rows[3].line) == (1, 3, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("label,youtube_id,start\nyoga,x,1\n", "no column(s) ['time_start', 'time_end']"),
        ("label,youtube_id,time_start,time_end\nyoga,x,one,3\n", "line 2: time_start='one'"),
        (
            "label,youtube_id,time_start,time_end\nyoga,x,5,3\n",
            "line 2: time_end 3 is not after time_start 5",
        ),
        (
            "label,youtube_id,time_start,time_end\nyoga,x,1,3\nyoga,y,nan,3\n",
            "line 3: time_start='nan' is not",
        ),
        ("label,youtube_id,time_start,time_end\nyoga,x,1,inf\n", "line 2: time_end='inf' is not a whole"),
        ("label,youtube_id,time_start,time_end\nyoga,x,1,3\n  ,y,1,3\n", "line 3: empty label or youtube_id"),
        ("label,youtube_id,time_start,time_end\n", "no rows below the header"),
        (
            b"label,youtube_id,time_start,time_end\ncaf\xe9,x,1,3\n",
            "bad.csv:2: not UTF-8 text (byte 0xe9 at column 4)",
        ),
    ],
)
def test_a_bad_csv_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ValueError, match=r"bad\.csv") as error:
        read_kinetics_csv(path)
    assert message in str(error.value)


def test_the_packaged_class_lists_are_the_official_ones():
    lists = {variant: kinetics_class_names(variant) for variant in (400, 600, 700)}
    assert {variant: len(names) for variant, names in lists.items()} == {400: 400, 600: 600, 700: 700}
    assert lists[400][0] == "abseiling" and lists[400][-1] == "zumba" and "dying hair" in lists[400]
    assert "dyeing hair" in lists[600] and "arresting" in lists[700] and "arresting" not in lists[600]
    assert guess_kinetics_variant(["abseiling", "Dying_Hair"]) == 400
    assert guess_kinetics_variant(["bull fighting"]) == 600
    assert guess_kinetics_variant(["arresting"]) == 700
    assert guess_kinetics_variant(["not a kinetics class"]) is None


def test_clips_are_found_in_every_usual_layout(kinetics_set):
    csv_path, videos, _ = kinetics_set
    rows = read_kinetics_csv(csv_path)
    index = VideoFileIndex(videos)
    found = [find_kinetics_clip(row, index) for row in rows]
    assert found[0] == VideoClip(videos / "abseiling" / "aaa_000010_000020.mp4")
    assert found[2] == VideoClip(videos / "ccc_000000_000010.webm")
    assert found[3] == VideoClip(videos / "whole" / "ddd.mp4", 1, 3)  # the whole video, read over the range
    assert found[4] is None


def _direct_scores(video_embeds: torch.Tensor, text_embeds: torch.Tensor) -> torch.Tensor:
    """Mean over templates of the cosine similarity, written out from scratch."""
    text = F.normalize(text_embeds, dim=-1).reshape(len(CLASSES), len(ACTIONCLIP_TEMPLATES), -1)
    video = F.normalize(video_embeds, dim=-1)
    return torch.stack([(video @ text[c].T).mean(dim=1) for c in range(len(CLASSES))], dim=1)


def _direct_topk(scores: torch.Tensor, labels: list[int], k: int) -> float:
    order = scores.argsort(dim=1, descending=True)[:, :k]
    return 100.0 * sum(int(label in row.tolist()) for row, label in zip(order, labels)) / len(labels)


def _evaluated_clips(videos: Path) -> list[VideoClip]:
    return [
        VideoClip(videos / "abseiling" / "aaa_000010_000020.mp4"),
        VideoClip(videos / "air_drumming" / "bbb_000003_000013.mp4"),
        VideoClip(videos / "ccc_000000_000010.webm"),
        VideoClip(videos / "whole" / "ddd.mp4", 1, 3),
    ]


PROMPTS = [clean_caption(t.format(c)) for c in CLASSES for t in ACTIONCLIP_TEMPLATES]
LABELS = [0, 1, 2, 4]


def _check_against_direct(results, video_embeds, text_embeds):
    scores = _direct_scores(video_embeds, text_embeds)
    metrics = results["metrics"]
    assert metrics["top1"] == pytest.approx(_direct_topk(scores, LABELS, 1))
    assert metrics["top5"] == pytest.approx(_direct_topk(scores, LABELS, 5))
    assert metrics["avg"] == pytest.approx((metrics["top1"] + metrics["top5"]) / 2)
    yoga = results["per_class"]["yoga"]
    assert yoga["num_videos"] == 1 and yoga["top1"] == pytest.approx(_direct_topk(scores[3:], [4], 1))
    assert results["per_class"]["dying hair"] == {"num_videos": 0, "top1": None, "top5": None, "avg": None}
    data = results["data"]
    assert (data["num_rows"], data["num_evaluated"], data["num_missing"], data["num_undecodable"]) == (
        6,
        4,
        1,
        1,
    )
    assert data["evaluated_fraction"] == pytest.approx(4 / 6)
    assert data["missing"] == ["eee_000005_000015"]
    assert data["undecodable"][0]["clip"].endswith("fff_000001_000011.mp4")


def test_viclip_metrics_equal_a_direct_computation(kinetics_set, tiny_model_dir):
    csv_path, videos, _ = kinetics_set
    embedder = load_embedder(tiny_model_dir)
    results = evaluate_kinetics(
        embedder, read_kinetics_csv(csv_path), videos, CLASSES, batch_size=3, num_workers=2, progress=False
    )
    model = embedder.model
    pixels = paper_video_processor(32, 8)(videos=_evaluated_clips(videos), return_tensors="pt")[
        "pixel_values_videos"
    ]
    tokens = embedder.processor(text=PROMPTS, return_tensors="pt")
    with torch.no_grad():
        video_embeds = model.get_video_features(pixel_values_videos=pixels).pooler_output
        text_embeds = model.get_text_features(**tokens).pooler_output
    _check_against_direct(results, video_embeds, text_embeds)
    assert (
        results["protocol"]["frames"] == 8 and results["protocol"]["interpolation"] == "bicubic, no antialias"
    )
    assert results["protocol"]["normalisation"]["mean"] == pytest.approx([0.485, 0.456, 0.406])


def test_image_clip_metrics_equal_a_direct_computation(kinetics_set, tiny_clip_model_dir):
    from transformers import AutoTokenizer, CLIPModel

    csv_path, videos, _ = kinetics_set
    embedder = load_embedder(tiny_clip_model_dir)
    results = evaluate_kinetics(
        embedder, read_kinetics_csv(csv_path), videos, CLASSES, batch_size=2, num_workers=1, progress=False
    )
    model = CLIPModel.from_pretrained(tiny_clip_model_dir).eval()
    processor = paper_video_processor(
        32, 8, image_mean=(0.48145466, 0.4578275, 0.40821073), image_std=(0.26862954, 0.26130258, 0.27577711)
    )
    pixels = processor(videos=_evaluated_clips(videos), return_tensors="pt")["pixel_values_videos"]
    tokens = AutoTokenizer.from_pretrained(tiny_clip_model_dir)(PROMPTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        frames = model.get_image_features(pixel_values=pixels.flatten(0, 1)).pooler_output
        video_embeds = F.normalize(frames, dim=-1).reshape(4, 8, -1).mean(dim=1)
        text_embeds = model.get_text_features(**tokens).pooler_output
    _check_against_direct(results, video_embeds, text_embeds)
    assert results["model"]["kind"] == "clip"
    assert "mean of the L2-normalised per-frame" in results["protocol"]["frame_pooling"]


def _command(annotations, video_root, model) -> list[str]:
    """``viclip evaluate kinetics`` with its three required flags."""
    return ["evaluate", "kinetics", "--annotations", str(annotations), "--video-root", str(video_root),
            "--model", str(model)]  # fmt: skip


def test_the_command_runs_end_to_end(kinetics_set, tiny_model_dir, tmp_path, capsys):
    csv_path, videos, classes = kinetics_set
    output, plot = tmp_path / "k.json", tmp_path / "k.png"
    argv = [
        *_command(csv_path, videos, tiny_model_dir),
        "--classes",
        str(classes),
        "--device",
        "cpu",
        "--output",
        str(output),
        "--plot",
        str(plot),
        "--quiet",
        "--num-workers",
        "2",
    ]
    assert main(argv) == 0
    results = json.loads(output.read_text())
    assert results["format"] == "viclip-benchmark-results/1"
    assert results["benchmark"] == "Kinetics (6 classes)" and results["data"]["classes"] == str(classes)
    assert results["model"]["name"] == str(tiny_model_dir) and results["model"]["revision"] is None
    assert len(results["per_class"]) == 6 and results["data"]["num_missing"] == 1
    assert len(results["protocol"]["templates"]) == 16
    assert plot.stat().st_size > 0
    out = capsys.readouterr().out
    assert "zero-shot top-1 / top-5 / AVG" in out and "4 of 6 videos (66.7%)" in out
    ((what, value),) = results_table_rows(results)
    assert what == "Kinetics (6 classes) zero-shot top-1 / top-5 / AVG" and value.endswith(
        "(4 of 6 videos (66.7%))"
    )


def test_the_per_class_plot_names_the_worst_and_best_of_many_classes(tmp_path):
    per_class = {f"class {i}": {"num_videos": 2, "top1": float(i % 100), "top5": 100.0} for i in range(100)}
    per_class["class 7"] = {"num_videos": 0, "top1": None, "top5": None, "avg": None}
    results = {"benchmark": "Kinetics-400", "metrics": {"top1": 49.5}, "per_class": per_class}
    path = plot_per_class_accuracy(results, tmp_path / "plots" / "k400.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and not list(path.parent.glob(".*tmp*"))


def test_labels_outside_every_official_list_need_classes(kinetics_set, tiny_model_dir, tmp_path, capsys):
    csv_path = tmp_path / "custom.csv"
    csv_path.write_text("label,youtube_id,time_start,time_end,split\nmy action,aaa,10,20,val\n")
    assert main(_command(csv_path, kinetics_set[1], tiny_model_dir)) == 2
    assert "--classes FILE" in capsys.readouterr().err
