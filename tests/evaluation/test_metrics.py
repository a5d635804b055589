import evaluate
import pytest

from viclip.evaluation.metrics import RetrievalRecall, ZeroShotAccuracy, load_metric


def test_zero_shot_accuracy_metric_matches_hand_values_with_batches():
    metric = load_metric("zero_shot_accuracy")
    metric.add_batch(predictions=[[0.9, 0.1, 0.0], [0.2, 0.3, 0.5]], references=[0, 0])
    metric.add_batch(predictions=[[0.1, 0.2, 0.7]], references=[1])
    assert metric.compute(ks=(1, 2)) == {"top1": pytest.approx(100 / 3), "top2": pytest.approx(200 / 3)}


def test_retrieval_metric_has_both_directions_and_several_captions():
    metric = RetrievalRecall()
    out = metric.compute(predictions=[[0.9, 0.1], [0.2, 0.5], [0.3, 0.3]], references=[0, 0, 1], ks=(1,))
    assert out["t2v_R@1"] == pytest.approx(100 / 3)
    assert out["v2t_R@1"] == 50.0
    assert out["v2t_median_rank"] == 1.5


def test_metrics_combine_with_evaluate():
    combined = evaluate.combine([ZeroShotAccuracy()])
    out = combined.compute(predictions=[[0.1, 0.9], [0.8, 0.2]], references=[1, 1])
    assert out["top1"] == 50.0
    assert out["top5"] is None and out["avg"] is None  # 2 classes: top-5 does not apply


def test_unknown_metric_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="retrieval_recall"):
        load_metric("bleu")


def test_ragged_rows_are_rejected():
    with pytest.raises(ValueError):
        RetrievalRecall().compute(predictions=[[0.1, 0.2], [0.3]], references=[0, 1])
