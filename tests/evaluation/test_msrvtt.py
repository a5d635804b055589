"""MSR-VTT 1k-A benchmark: the JSFusion CSV, the original dual softmax and itm_eval on a fixed matrix, metrics
against a direct computation, missing videos counted, and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from viclip.data.synthetic import write_video
from viclip.evaluation.benchmarks import evaluate_msrvtt, read_msrvtt_csv
from viclip.evaluation.benchmarks.msrvtt import ORIGINAL_DUAL_SOFTMAX_TEMPERATURE
from viclip.evaluation.benchmarks.results import results_table_rows
from viclip.evaluation.retrieval import retrieval_metrics
from viclip.inference import load_embedder, paper_video_processor
from viclip.processing import clean_caption
from viclip_cli import main

CAPTIONS = {
    "video7010": "A man is playing the guitar, on stage.",
    "video7011": "a dog runs across a snowy yard",
    "video7012": "Cooking pasta in a big pot!",
    "video7013": "two people are talking (interview)",
    "video7014": "a red car drives down the road",  # no file
    "video7015": "children play football",  # undecodable
}


@pytest.fixture(scope="module")
def msrvtt_set(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("msrvtt")
    videos = root / "videos" / "all"
    videos.mkdir(parents=True)
    colors = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
    for n, color in enumerate(colors):
        frames = []
        for i in range(12):
            frame = np.full((40, 48, 3), color, dtype=np.uint8)
            frame[10:18, (4 * i + 7 * n) % 40 : (4 * i + 7 * n) % 40 + 8] = 255
            frames.append(frame)
        write_video(videos / f"video70{10 + n}.mp4", frames, fps=6)
    (videos / "video7015.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video" * 4)
    csv_path = root / "MSRVTT_JSFUSION_test.csv"
    lines = ["key,vid_key,video_id,sentence"]
    for n, (video_id, sentence) in enumerate(CAPTIONS.items()):
        text = f'"{sentence}"' if "," in sentence else sentence
        lines.append(f"ret{n},msr{video_id[5:]},{video_id},{text}")
    csv_path.write_text("\n".join(lines) + "\n")
    return csv_path, videos


def test_the_jsfusion_csv_is_read(msrvtt_set):
    pairs = read_msrvtt_csv(msrvtt_set[0])
    assert [p.video_id for p in pairs] == list(CAPTIONS)
    assert pairs[0].sentence == "A man is playing the guitar, on stage." and pairs[0].line == 2


def test_a_csv_without_the_columns_is_one_clear_error(tmp_path):
    path = tmp_path / "captions.csv"
    path.write_text("id,caption\n1,a dog\n")
    with pytest.raises(ValueError, match=r"captions\.csv: not an MSR-VTT JSFusion CSV"):
        read_msrvtt_csv(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "key,vid_key,video_id,sentence\nret0,msr7,video7, \n",
            "captions.csv line 2: empty video_id or sentence",
        ),
        ("key,vid_key,video_id,sentence\n", "captions.csv: no rows below the header"),
    ],
)
def test_an_empty_caption_or_no_rows_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "captions.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_msrvtt_csv(path)


def test_the_values_are_read_without_their_spaces(tmp_path):
    path = tmp_path / "captions.csv"
    path.write_text("key,vid_key,video_id,sentence\nret0,msr7, video7 ,  a cat  \n")
    assert [(p.video_id, p.sentence, p.line) for p in read_msrvtt_csv(path)] == [("video7", "a cat", 2)]


def _original_itm_eval(scores_i2t: np.ndarray, scores_t2i: np.ndarray) -> dict[str, float]:
    """The original tasks/retrieval_utils.py itm_eval for one caption per video: argsort ranks, R@1/5/10."""

    def recalls(scores):
        ranks = np.array([np.where(np.argsort(row)[::-1] == i)[0][0] for i, row in enumerate(scores)])
        return [100.0 * np.mean(ranks < k) for k in (1, 5, 10)]

    txt = recalls(scores_i2t)
    img = recalls(scores_t2i)
    return {
        "txt_r1": txt[0],
        "txt_r5": txt[1],
        "txt_r10": txt[2],
        "img_r1": img[0],
        "img_r5": img[1],
        "img_r10": img[2],
    }


def test_dual_softmax_equals_the_original_formula_on_a_fixed_matrix():
    generator = torch.Generator().manual_seed(0)
    similarity = torch.randn(60, 60, generator=generator) * 2 + torch.eye(60) * 1.5  # (texts, videos)
    # evaluation_video_clip: i2t_scores is (videos, texts); both re-ranked matrices are built from it.
    i2t = similarity.T
    i2t_dsl = i2t * i2t.softmax(dim=0)
    i2t_dsl_t = i2t.T * i2t.T.softmax(dim=0)
    original_plain = _original_itm_eval(i2t.numpy(), i2t.T.numpy())
    original_dsl = _original_itm_eval(i2t_dsl.numpy(), i2t_dsl_t.numpy())

    plain = retrieval_metrics(similarity)
    dsl = retrieval_metrics(similarity, use_dual_softmax=True, temperature=ORIGINAL_DUAL_SOFTMAX_TEMPERATURE)
    for ours, original in ((plain, original_plain), (dsl, original_dsl)):
        for k in (1, 5, 10):
            assert ours[f"v2t_R@{k}"] == pytest.approx(original[f"txt_r{k}"])
            assert ours[f"t2v_R@{k}"] == pytest.approx(original[f"img_r{k}"])
    assert dsl["t2v_R@1"] != plain["t2v_R@1"]  # the matrix is one where the re-ranking matters


def test_metrics_equal_a_direct_computation_and_missing_videos_are_counted(msrvtt_set, tiny_model_dir):
    csv_path, videos = msrvtt_set
    embedder = load_embedder(tiny_model_dir)
    results = evaluate_msrvtt(
        embedder, read_msrvtt_csv(csv_path), videos, batch_size=3, num_workers=2, progress=False
    )

    data = results["data"]
    assert (data["num_videos"], data["num_evaluated_videos"], data["num_evaluated_captions"]) == (6, 4, 4)
    assert (data["num_missing"], data["num_undecodable"], data["missing"]) == (1, 1, ["video7014"])
    assert data["undecodable"][0]["clip"].endswith("video7015.mp4")
    assert data["evaluated_fraction"] == pytest.approx(4 / 6)

    model = embedder.model
    clips = [videos / f"video70{10 + n}.mp4" for n in range(4)]
    pixels = paper_video_processor(32, 8)(videos=clips, return_tensors="pt")["pixel_values_videos"]
    captions = [clean_caption(sentence) for sentence in list(CAPTIONS.values())[:4]]
    assert captions[0] == "a man is playing the guitar on stage"
    tokens = embedder.processor(text=captions, return_tensors="pt")
    with torch.no_grad():
        video = F.normalize(model.get_video_features(pixel_values_videos=pixels).pooler_output, dim=-1)
        text = F.normalize(model.get_text_features(**tokens).pooler_output, dim=-1)
    similarity = text @ video.T
    original = _original_itm_eval(similarity.T.numpy(), similarity.numpy())
    plain, dsl = results["metrics"]["plain"], results["metrics"]["dual_softmax"]
    assert plain["t2v_R@1"] == pytest.approx(original["img_r1"])
    assert plain["v2t_R@1"] == pytest.approx(original["txt_r1"])
    ranks = (similarity >= similarity.diag()[:, None]).sum(dim=1).double()
    assert plain["t2v_mean_rank"] == pytest.approx(float(ranks.mean()))
    assert plain["t2v_median_rank"] == pytest.approx(float(ranks.quantile(0.5)))
    reranked = similarity * similarity.softmax(dim=0)
    dsl_ranks = (reranked >= reranked.diag()[:, None]).sum(dim=1)
    assert dsl["t2v_R@1"] == pytest.approx(100.0 * float((dsl_ranks <= 1).double().mean()))


def test_the_command_runs_end_to_end(msrvtt_set, tiny_model_dir, tmp_path, capsys):
    csv_path, videos = msrvtt_set
    output = tmp_path / "out" / "msrvtt.json"
    argv = [
        "evaluate",
        "msrvtt",
        "--csv",
        str(csv_path),
        "--video-root",
        str(videos.parent),
        "--model",
        str(tiny_model_dir),
        "--device",
        "cpu",
        "--output",
        str(output),
        "--quiet",
    ]
    assert main(argv) == 0
    results = json.loads(output.read_text())
    assert results["benchmark"] == "MSR-VTT 1k-A" and results["model"]["kind"] == "viclip"
    assert set(results["metrics"]) == {"plain", "dual_softmax"}
    assert "softmax(dim=0)" in results["protocol"]["dual_softmax"]
    rows = dict(results_table_rows(results))
    assert len(rows) == 4 and all(value.endswith("(4 of 6 videos (66.7%))") for value in rows.values())
    out = capsys.readouterr().out
    assert "MSR-VTT 1k-A text-to-video R@1 / R@5 / R@10, dual softmax" in out
    assert "skipped 1 missing and 1 undecodable video(s)" in out
