import math

import pytest
import torch

from viclip.evaluation.retrieval import dual_softmax, ranks_from_similarity, retrieval_metrics


def test_square_matrix_hand_computed_ranks():
    # texts x videos, caption i belongs to video i
    sim = torch.tensor(
        [
            [0.9, 0.1, 0.2],  # rank 1
            [0.8, 0.5, 0.1],  # video 0 ahead -> rank 2
            [0.7, 0.6, 0.3],  # both ahead -> rank 3
        ]
    )
    out = retrieval_metrics(sim, ks=(1, 2, 10))
    assert out["t2v_R@1"] == pytest.approx(100 / 3)
    assert out["t2v_R@2"] == pytest.approx(200 / 3)
    assert out["t2v_R@10"] is None  # 3 videos: R@10 does not apply
    assert out["t2v_median_rank"] == 2.0
    assert out["t2v_mean_rank"] == pytest.approx(2.0)
    # video -> text: columns. v0: [0.9, 0.8, 0.7] gold t0 -> 1; v1: [0.1, 0.5, 0.6] gold t1 -> 2;
    # v2: [0.2, 0.1, 0.3] gold t2 -> 1
    assert out["v2t_R@1"] == pytest.approx(200 / 3)
    assert out["v2t_median_rank"] == 1.0
    assert out["v2t_mean_rank"] == pytest.approx(4 / 3)


def test_ties_are_counted_against_the_correct_candidate():
    sim = torch.tensor([[0.5, 0.5, 0.5], [0.1, 0.2, 0.2], [0.0, 0.0, 0.9]])
    ranks = ranks_from_similarity(sim, torch.eye(3, dtype=torch.bool))
    assert ranks.tolist() == [3, 2, 1]


def test_constant_scores_give_the_worst_rank():
    out = retrieval_metrics(torch.zeros(4, 4))
    assert out["t2v_R@1"] == 0.0
    assert out["t2v_median_rank"] == 4.0
    assert out["v2t_mean_rank"] == 4.0


def test_several_captions_per_video_hand_computed():
    sim = torch.tensor(
        [
            [0.9, 0.1],  # caption of v0 -> rank 1
            [0.2, 0.5],  # caption of v0 -> rank 2
            [0.3, 0.3],  # caption of v1, tie with v0 -> rank 2 (pessimistic)
        ]
    )
    out = retrieval_metrics(sim, [0, 0, 1], ks=(1, 5))
    assert out["t2v_R@1"] == pytest.approx(100 / 3)
    assert out["t2v_R@5"] is None  # 2 videos
    assert out["t2v_median_rank"] == 2.0
    assert out["t2v_mean_rank"] == pytest.approx(5 / 3)
    # v0 over texts [0.9, 0.2, 0.3], gold {t0, t1}: best gold 0.9 -> rank 1 (its other caption never counts)
    # v1 over texts [0.1, 0.5, 0.3], gold {t2} 0.3: t1 ahead -> rank 2
    assert out["v2t_R@1"] == 50.0
    assert out["v2t_median_rank"] == 1.5  # even count: mean of the two middle ranks
    assert out["v2t_mean_rank"] == 1.5


def test_video_to_text_uses_best_caption_even_if_a_sibling_caption_scores_lower():
    # v0 has captions t0 and t1; t2 (of v1) outscores t1 but not t0
    sim = torch.tensor([[0.8, 0.0], [0.1, 0.0], [0.5, 0.9]])
    out = retrieval_metrics(sim, [0, 0, 1], ks=(1,))
    assert out["v2t_R@1"] == 100.0
    # text -> video for t1: v0 scores 0.1 > 0.0 -> rank 1
    assert out["t2v_R@1"] == 100.0


def test_dual_softmax_equals_hand_computation():
    sim = torch.tensor([[0.6, 0.1], [0.5, 0.4]])
    t = 10.0
    col0 = [math.exp(6), math.exp(5)]
    col1 = [math.exp(1), math.exp(4)]
    expected = torch.tensor(
        [
            [0.6 * col0[0] / sum(col0), 0.1 * col1[0] / sum(col1)],
            [0.5 * col0[1] / sum(col0), 0.4 * col1[1] / sum(col1)],
        ]
    )
    torch.testing.assert_close(dual_softmax(sim, t), expected)


def test_dual_softmax_demotes_a_hub_video():
    # video 0 is a "hub" that every caption likes; caption 1 belongs to video 1
    sim = torch.tensor([[0.6, 0.1], [0.5, 0.4]])
    plain = retrieval_metrics(sim, ks=(1,))
    reranked = retrieval_metrics(sim, ks=(1,), use_dual_softmax=True, temperature=10.0)
    assert plain["t2v_R@1"] == 50.0
    assert reranked["t2v_R@1"] == 100.0


@pytest.mark.parametrize(
    ("sim", "mapping", "message"),
    [
        (torch.zeros(2, 3), None, "pass text_to_video"),
        (torch.zeros(2, 2), [0], "has 1 entries"),
        (torch.zeros(2, 2), [0, 2], "outside"),
        (torch.zeros(2, 2), [0, 0], "videos \\[1\\] have no caption"),
        (torch.zeros(0, 2), [], "non-empty"),
    ],
)
def test_bad_inputs_give_clear_errors(sim, mapping, message):
    with pytest.raises(ValueError, match=message):
        retrieval_metrics(sim, mapping)


def test_recall_at_k_applies_only_with_at_least_k_candidates():
    sim = torch.eye(5)
    out = retrieval_metrics(sim, ks=(1, 5, 10))
    assert out["t2v_R@5"] == 100.0 and out["v2t_R@5"] == 100.0  # exactly 5 candidates: it applies
    assert out["t2v_R@10"] is None and out["v2t_R@10"] is None
    texts_for_two_videos = retrieval_metrics(torch.rand(6, 2), [0, 0, 0, 1, 1, 1], ks=(1, 5))
    assert texts_for_two_videos["t2v_R@5"] is None  # 2 videos to rank
    assert texts_for_two_videos["v2t_R@5"] is not None  # 6 captions to rank
