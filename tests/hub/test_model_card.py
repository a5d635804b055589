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
    from viclip_cli import main
    from viclip_testing import convert_tiny_argv, tiny_dev_config

    config = tmp_path / "config.json"
    tiny_dev_config().to_json_file(config)
    out = tmp_path / "plain"
    assert main([*convert_tiny_argv(out, config), "--quiet"]) == 0
    card = (out / "README.md").read_text()
    assert "--verify" not in card and "checked" not in card and "compared" not in card
    assert "every original weight mapped to exactly one weight" in card


def test_trained_model_card_names_the_classifier_labels(tiny_classifier):
    card = build_trained_model_card(tiny_classifier, repo_id="me/classifier")
    assert parse_card_metadata(card)["pipeline_tag"] == "video-classification"
    assert "predicts 2 classes: left, right" in card
    assert "Published results" not in card and "checked against" not in card


def _kinetics_results(tmp_path, top1: float):
    from viclip.evaluation.benchmarks import write_results

    results = {
        "benchmark": "Kinetics-400",
        "metrics": {"top1": top1, "top5": 80.0, "avg": (top1 + 80.0) / 2},
        "data": {"num_evaluated": 3, "num_rows": 4, "evaluated_fraction": 0.75},
        "model": {"name": "me/viclip", "revision": "abc123"},
        "protocol": {"frames": 8, "dtype": "float32"},
    }
    return write_results(results, tmp_path / f"k400-{top1}.json")


def test_results_file_given_to_convert_fills_the_card(tmp_path, tiny_config_json):
    from viclip_cli import main
    from viclip_testing import convert_tiny_argv

    results = _kinetics_results(tmp_path, 60.0)
    out = tmp_path / "with-results"
    assert main([*convert_tiny_argv(out, tiny_config_json), "--results", str(results), "--quiet"]) == 0
    card = (out / "README.md").read_text()
    assert "## Evaluation results (measured with viclip)" in card
    assert (
        "| Kinetics-400 zero-shot top-1 / top-5 / AVG | 60.00 / 80.00 / 70.00 (3 of 4 videos (75.0%)) |"
        in card
    )
    assert card.index("## Evaluation results") < card.index("## License and citation")


def test_results_replace_an_earlier_evaluation_section():
    from viclip.hub.model_card import with_evaluation_results

    card = "# T\n\n## Usage\n\nx\n\n## License and citation\n\nApache\n"
    once = with_evaluation_results(card, ["| a | 1 |"])
    twice = with_evaluation_results(once, ["| a | 2 |"])
    assert twice.count("## Evaluation results") == 1 and "| a | 2 |" in twice and "| a | 1 |" not in twice
    assert twice.endswith("## License and citation\n\nApache\n")


def test_a_file_that_is_not_a_results_file_is_a_usage_error(tmp_path, capsys, tiny_config_json):
    from viclip_cli import main
    from viclip_testing import convert_tiny_argv

    bogus = tmp_path / "r.json"
    bogus.write_text("{}")
    out = tmp_path / "x"
    assert main([*convert_tiny_argv(out, tiny_config_json), "--results", str(bogus)]) == 2
    assert "is not a viclip benchmark results file" in capsys.readouterr().err
    assert not out.exists()
