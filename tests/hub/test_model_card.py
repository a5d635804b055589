"""Model cards: Hub metadata, release guessing, published results, and claims limited to what was checked."""

from __future__ import annotations

import pytest

from viclip.hub.model_card import (
    RELEASES,
    build_model_card,
    build_trained_model_card,
    guess_release,
    parse_card_metadata,
)


@pytest.mark.parametrize(
    "filename, preset, release",
    [
        ("ViClip-InternVid-10M-FLT.pth", "viclip-l14", "l14-internvid-10m-flt"),
        ("ViCLIP-B_InternVid-FLT-10M.pth", "viclip-b16", "b16-internvid-10m-flt"),
        ("ViCLIP-L_InternVid-DIV-10M.pth", "viclip-l14", "l14-internvid-10m-div"),
        ("ViCLIP-L_WebVid-10M.pth", "viclip-l14", "l14-webvid-10m"),
        ("ViCLIP-L_InternVid-10M.pth", "viclip-l14", "l14-internvid-10m"),
        ("ViCLIP-B_InternVid-200M.pth", "viclip-b16", "b16-internvid-200m"),
        ("my_finetune.pth", "viclip-l14", None),
        ("ViClip-InternVid-10M-FLT.pth", None, None),
    ],
)
def test_release_is_guessed_from_the_file_name(filename, preset, release):
    guessed = guess_release(filename, preset)
    assert (guessed.key if guessed else None) == release


def test_released_l14_card_has_metadata_and_published_results():
    card = build_model_card(
        model_size="L/14", image_size=224, num_frames=8, num_parameters=427_590_145, dtype="float32",
        provenance="Converted from `ViClip-InternVid-10M-FLT.pth`.", release=RELEASES["l14-internvid-10m-flt"], repo_id="me/viclip",
    )  # fmt: skip
    metadata = parse_card_metadata(card)
    assert metadata["datasets"] == ["OpenGVLab/InternVid"]
    assert metadata["license"] == "apache-2.0" and metadata["library_name"] == "transformers"
    assert "# ViCLIP-L/14 trained on InternVid-10M-FLT" in card
    assert "| Kinetics-400 | 64.80 | 75.70 |" in card and "| Kinetics-700 | 54.30 | 66.38 |" in card
    assert "| 42.4 | 41.3 |" in card
    assert "| 1 | [8] A man in a gray sweater plays fetch" in card and "| 0.8333 |" in card
    assert 'from_pretrained("me/viclip", trust_remote_code=True)' in card


def test_unpublished_release_card_names_its_data_without_results():
    card = build_model_card(
        model_size="L/14", image_size=224, num_frames=8, num_parameters=1, dtype="float32",
        provenance="Converted.", release=RELEASES["l14-webvid-10m"],
    )  # fmt: skip
    assert "trained on WebVid-10M" in card and "Published results" not in card
    assert "datasets" not in parse_card_metadata(card)


def test_converted_card_claims_no_comparison_with_the_original_code(converted_tiny, tmp_path):
    verified = (converted_tiny / "README.md").read_text()
    assert "--verify" in verified and "were not compared with the original code" in verified
    assert "checked against the original code" not in verified


def test_card_of_a_conversion_without_verify_claims_no_check(tmp_path):
    from viclip.commands import main
    from viclip_testing import TINY_CHECKPOINT

    config = tmp_path / "config.json"
    from viclip_testing import tiny_dev_config

    tiny_dev_config().to_json_file(config)
    out = tmp_path / "plain"
    assert (
        main(
            [
                "convert",
                "--checkpoint",
                str(TINY_CHECKPOINT),
                "--output-dir",
                str(out),
                "--config",
                str(config),
                "--quiet",
            ]
        )
        == 0
    )
    card = (out / "README.md").read_text()
    assert "verify" not in card.lower() and "original code" not in card
    assert "every original weight mapped to exactly one weight" in card


def test_trained_model_card_names_the_classifier_labels(tiny_classifier):
    card = build_trained_model_card(tiny_classifier, repo_id="me/classifier")
    assert parse_card_metadata(card)["pipeline_tag"] == "video-classification"
    assert "predicts 2 classes: left, right" in card
    assert "Published results" not in card and "original code" not in card
