import math

import pytest
import torch

from viclip.evaluation.templates import ACTIONCLIP_TEMPLATES, expand_templates, resolve_templates
from viclip.evaluation.zero_shot import ZeroShotClassifier, template_averaged_scores, topk_accuracy


def test_actionclip_templates_are_the_papers_sixteen():
    assert len(ACTIONCLIP_TEMPLATES) == 16
    assert ACTIONCLIP_TEMPLATES[0] == "a photo of action {}"
    assert ACTIONCLIP_TEMPLATES[7] == "{}"
    assert ACTIONCLIP_TEMPLATES[-1] == "The woman is {}"
    assert resolve_templates(None) == ACTIONCLIP_TEMPLATES
    assert resolve_templates("single") == ("{}",)
    assert resolve_templates("a video of {}") == ("a video of {}",)


def test_prompts_are_class_major():
    assert expand_templates(["run", "jump"], ["a {}", "{}!"]) == ["a run", "run!", "a jump", "jump!"]


@pytest.mark.parametrize("templates", [[], ["no placeholder"], ["{} and {}"]])
def test_bad_templates_are_rejected(templates):
    with pytest.raises(ValueError, match="template"):
        resolve_templates(templates)


def test_empty_label_list_is_rejected():
    with pytest.raises(ValueError, match="at least one label"):
        expand_templates([], ["{}"])


# video [1, 0]; class A prompts [1, 0] and [0, 3]; class B prompts [1, 1] and [-2, 0]
VIDEO = torch.tensor([[2.0, 0.0]])
TEXT = torch.tensor([[1.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-2.0, 0.0]])


def test_template_averaging_equals_hand_computation():
    expected = torch.tensor([[(1.0 + 0.0) / 2, (1 / math.sqrt(2) - 1.0) / 2]])
    scores = template_averaged_scores(VIDEO, TEXT.reshape(2, 2, 2))
    torch.testing.assert_close(scores, expected)
    classifier = ZeroShotClassifier.from_text_embeddings(["A", "B"], ["{}", "a {}"], TEXT, logit_scale=100.0)
    torch.testing.assert_close(classifier.scores(VIDEO), expected)
    torch.testing.assert_close(classifier.probabilities(VIDEO), (100 * expected).softmax(-1))


def test_template_averaging_differs_from_renormalised_mean_embedding():
    # CLIP-style: normalise the mean prompt embedding -> class A would score 1/sqrt(2), not 0.5
    classifier = ZeroShotClassifier.from_text_embeddings(["A", "B"], ["{}", "a {}"], TEXT)
    assert classifier.scores(VIDEO)[0, 0].item() == pytest.approx(0.5)


def test_from_encoder_calls_the_encoder_on_every_prompt():
    seen = []

    def encode(prompts):
        seen.extend(prompts)
        return torch.stack([TEXT[["A", "a A", "B", "a B"].index(p)] for p in prompts])

    classifier = ZeroShotClassifier.from_encoder(encode, ["A", "B"], ["{}", "a {}"], batch_size=3)
    assert seen == ["A", "a A", "B", "a B"]
    assert classifier.predict(VIDEO, top_k=1)[0][0][0] == "A"


def test_topk_accuracy_and_avg_hand_computed():
    scores = torch.tensor(
        [
            [0.9, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0],  # true 0: rank 1
            [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],  # true 5: rank 6
            [0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1],  # true 1, tied with 0: rank 2 (pessimistic)
            [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],  # true 2: rank 5
        ]
    )
    out = topk_accuracy(scores, [0, 5, 1, 2])
    assert out == {"top1": 25.0, "top5": 75.0, "avg": 50.0}


def test_top_k_beyond_the_number_of_classes_is_not_applicable():
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])
    out = topk_accuracy(scores, [0, 2], ks=(1, 3, 5))
    assert out["top1"] == 50.0 and out["top3"] == 100.0
    assert out["top5"] is None and out["avg"] is None
