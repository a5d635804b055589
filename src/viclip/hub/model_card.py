"""The README.md model card of a converted ViCLIP folder: Hub metadata, usage, provenance and published results.

Published numbers come from the InternVid paper / original repository (see the release table below); a card only
shows them for the release they were measured on, never for other weights.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LICENSE = "apache-2.0"
PIPELINE_TAG = "video-classification"
TAGS = ["video", "video-text-retrieval", "zero-shot", "clip", "viclip", "internvid", "custom_code"]
INTERNVID_DATASET = "OpenGVLab/InternVid"

DEMO_CAPTIONS = [
    "A playful dog and its owner wrestle in the snowy yard, chasing each other with joyous abandon.",
    "A man in a gray coat walks through the snowy landscape, pulling a sleigh loaded with toys.",
    "A person dressed in a blue jacket shovels the snow-covered pavement outside their house.",
    "A pet dog excitedly runs through the snowy yard, chasing a toy thrown by its owner.",
    "A person stands on the snowy floor, pushing a sled loaded with blankets, preparing for a fun-filled ride.",
    "A man in a gray hat and coat walks through the snowy yard, carefully navigating around the trees.",
    "A playful dog slides down a snowy hill, wagging its tail with delight.",
    "A person in a blue jacket walks their pet on a leash, enjoying a peaceful winter walk among the trees.",
    "A man in a gray sweater plays fetch with his dog in the snowy yard, throwing a toy and watching it run.",
    "A person bundled up in a blanket walks through the snowy landscape, enjoying the serene winter scenery.",
]


@dataclass(frozen=True)
class PublishedResults:
    """Zero-shot numbers published for one release (top-1 / AVG = mean of top-1 and top-5, in %)."""

    action_recognition: dict[str, tuple[float, float]]
    msrvtt_r1: tuple[float, float]  # text->video, video->text
    demo_top5: list[tuple[int, float]]  # (caption index, probability) on example1.mp4, demo preprocessing


@dataclass(frozen=True)
class Release:
    """One released ViCLIP checkpoint."""

    key: str
    preset: str
    training_data: str
    datasets: tuple[str, ...] = (INTERNVID_DATASET,)
    results: PublishedResults | None = None
    patterns: tuple[str, ...] = field(default=())  # regexes on the lowercased file name that identify it

    @property
    def title(self) -> str:
        size = "L/14" if self.preset == "viclip-l14" else "B/16"
        return f"ViCLIP-{size} trained on {self.training_data}"


_L_FLT = PublishedResults(
    action_recognition={
        "Kinetics-400": (64.80, 75.70),
        "Kinetics-600": (62.20, 73.53),
        "Kinetics-700": (54.30, 66.38),
    },
    msrvtt_r1=(42.4, 41.3),
    demo_top5=[(8, 0.8333), (0, 0.1266), (3, 0.0368), (2, 0.0030), (6, 0.0003)],
)
_B_FLT = PublishedResults(
    action_recognition={"Kinetics-400": (58.52, 71.11)},
    msrvtt_r1=(38.6, 38.5),
    demo_top5=[(0, 0.8192), (8, 0.1084), (3, 0.0676), (6, 0.0047), (2, 0.0002)],
)
RELEASES: dict[str, Release] = {
    r.key: r
    for r in [
        Release(
            "l14-internvid-10m-flt", "viclip-l14", "InternVid-10M-FLT", results=_L_FLT, patterns=(r"flt",)
        ),
        Release("l14-internvid-10m-div", "viclip-l14", "InternVid-10M-DIV", patterns=(r"div",)),
        Release("l14-webvid-10m", "viclip-l14", "WebVid-10M", datasets=(), patterns=(r"webvid",)),
        Release("l14-internvid-10m", "viclip-l14", "InternVid-10M", patterns=(r"internvid.?10m",)),
        Release("l14-internvid-50m", "viclip-l14", "InternVid-50M", patterns=(r"50m",)),
        Release("l14-internvid-200m", "viclip-l14", "InternVid-200M", patterns=(r"200m",)),
        Release(
            "b16-internvid-10m-flt", "viclip-b16", "InternVid-10M-FLT", results=_B_FLT, patterns=(r"flt",)
        ),
        Release("b16-internvid-200m", "viclip-b16", "InternVid-200M", patterns=(r"200m",)),
    ]
}


def guess_release(checkpoint: str | Path, preset: str | None) -> Release | None:
    """The release a checkpoint file name points to (e.g. ``ViClip-InternVid-10M-FLT.pth`` + L/14), if any.

    The first matching pattern in table order wins, so "FLT" and "DIV" are tried before the plain "10M".
    """
    if preset is None:
        return None
    name = Path(checkpoint).name.lower()
    for release in RELEASES.values():
        if release.preset == preset and any(re.search(p, name) for p in release.patterns):
            return release
    return None


def card_metadata(release: Release | None, pipeline_tag: str = PIPELINE_TAG) -> dict:
    """The YAML front matter of the card (Hub metadata)."""
    metadata: dict = {"license": LICENSE, "library_name": "transformers", "pipeline_tag": pipeline_tag}
    datasets = list(release.datasets) if release is not None else []
    if datasets:
        metadata["datasets"] = datasets
    metadata["tags"] = list(TAGS)
    return metadata


def _usage(repo_id: str) -> str:
    return f"""```python
import torch
from transformers import AutoModel, AutoProcessor

model = AutoModel.from_pretrained("{repo_id}", trust_remote_code=True).eval()
processor = AutoProcessor.from_pretrained("{repo_id}", trust_remote_code=True)

captions = ["a dog plays in the snow", "a man shovels snow"]
inputs = processor(text=captions, videos="video.mp4", return_tensors="pt")  # 8 frames, ImageNet mean/std
with torch.no_grad():
    probs = model(**inputs).logits_per_video.softmax(dim=-1)
```

With the `viclip` package installed (`import viclip`), `trust_remote_code` is not needed. The remote code reads
videos with PyAV and cleans text with ftfy (`pip install av ftfy`). `processor(videos=..., start_sec=..., end_sec=...)`
reads a clip of a longer video; `sampling="demo", resample=2, antialias=False` reproduces the original demo."""


def _results_section(results: PublishedResults) -> str:
    lines = [
        "## Published results",
        "",
        "Numbers published with the original release (InternVid paper and OpenGVLab/InternVideo), not re-measured here.",
        "",
        "Zero-shot action recognition (8 frames, one clip, 16 templates, mean of cosine similarities over templates):",
        "",
        "| Dataset | Top-1 (%) | AVG (top-1, top-5) (%) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {top1:.2f} | {avg:.2f} |" for name, (top1, avg) in results.action_recognition.items()
    ]
    t2v, v2t = results.msrvtt_r1
    lines += [
        "",
        "Zero-shot retrieval, MSR-VTT 1k-A:",
        "",
        "| Text-to-video R@1 | Video-to-text R@1 |",
        "|---|---|",
        f"| {t2v:.1f} | {v2t:.1f} |",
        "",
        "Original demo (`example1.mp4`, demo preprocessing, softmax(100 * cosine) over 10 captions), top 5:",
        "",
        "| Rank | Caption | Probability |",
        "|---|---|---|",
    ]
    lines += [
        f"| {rank} | [{index}] {DEMO_CAPTIONS[index]} | {prob:.4f} |"
        for rank, (index, prob) in enumerate(results.demo_top5, start=1)
    ]
    return "\n".join(lines)


def size_label(config) -> str:
    """ "L/14", "B/16" or a description of a custom size, from a `ViCLIPConfig`."""
    vision = config.vision_config
    for name, label in (("viclip-l14", "L/14"), ("viclip-b16", "B/16")):
        preset = type(config).from_preset(name).vision_config
        if (vision.hidden_size, vision.num_hidden_layers, vision.patch_size) == (
            preset.hidden_size,
            preset.num_hidden_layers,
            preset.patch_size,
        ):
            return label
    return f"custom (vision width {vision.hidden_size}, {vision.num_hidden_layers} layers, patch {vision.patch_size})"


def build_model_card(
    *,
    model_size: str,
    image_size: int,
    num_frames: int,
    num_parameters: int,
    dtype: str,
    provenance: str,
    release: Release | None = None,
    repo_id: str = "path/to/converted-folder",
    title: str | None = None,
    training: str | None = None,
    pipeline_tag: str = PIPELINE_TAG,
) -> str:
    """The README.md text of a ViCLIP Hub folder.

    Args:
        model_size: "L/14", "B/16" or a description of a custom size.
        image_size / num_frames: what the model and the saved processor expect.
        num_parameters: parameter count of the model.
        dtype: the stored weight dtype ("float32", ...).
        provenance: how the folder was made and what was checked, in one or two sentences; claim only what was
            actually checked.
        release: the released checkpoint it is, when known: names the training data and adds published results.
        repo_id: shown in the usage example.
        title / training: the card's title and the sentence about its training data (default: from ``release``).
        pipeline_tag: the Hub task of the folder.
    """
    front = yaml.safe_dump(card_metadata(release, pipeline_tag), sort_keys=False).strip()
    if title is None:
        title = release.title if release is not None else f"ViCLIP-{model_size}"
    if training is None:
        training = (
            f"It was trained on {release.training_data} by the InternVid authors (OpenGVLab)."
            if release is not None
            else "Its training data is not known to the converter (pass `--release` to `viclip convert` to name it)."
        )
    sections = [
        f"---\n{front}\n---",
        f"# {title}",
        "ViCLIP is the video CLIP of [InternVid](https://arxiv.org/abs/2307.06942) (ICLR 2024): a CLIP ViT made "
        "spatiotemporal (joint space-time attention over frame patches plus a temporal position table) and the OpenAI "
        f"CLIP text encoder with a 32-token context, trained contrastively on video-text pairs. {training}",
        f"- Size: {model_size}, {num_parameters:,} parameters, stored as {dtype} safetensors.\n"
        f"- Input: {num_frames} frames of {image_size}x{image_size} pixels, ImageNet mean/std; text of at most "
        "32 tokens (CLIP BPE).\n"
        f"- {provenance}",
        "## Usage",
        _usage(repo_id),
    ]
    if release is not None and release.results is not None:
        sections.append(_results_section(release.results))
    sections += [
        _LICENSE_HEADING,
        "The weights and the original code are released by OpenGVLab under the Apache License 2.0.",
        "```bibtex\n@inproceedings{wang2024internvid,\n"
        "  title={InternVid: A Large-scale Video-Text Dataset for Multimodal Understanding and Generation},\n"
        "  author={Wang, Yi and He, Yinan and Li, Yizhuo and Li, Kunchang and Yu, Jiashuo and Ma, Xin and Li, Xinhao "
        "and Chen, Guo and Chen, Xinyuan and Wang, Yaohui and Luo, Ping and Liu, Ziwei and Wang, Yali and Wang, Limin "
        "and Qiao, Yu},\n"
        "  booktitle={International Conference on Learning Representations},\n  year={2024}\n}\n```",
    ]
    return "\n\n".join(sections) + "\n"


def build_trained_model_card(model, *, repo_id: str, training: str | None = None) -> str:
    """The card of a model trained or fine-tuned with this library (`viclip train`, `viclip finetune-classifier`)."""
    config = model.config
    is_classifier = type(model).__name__ == "ViCLIPForVideoClassification"
    kind = "video classifier" if is_classifier else "model"
    labels = getattr(config, "id2label", None) or {}
    if training is None:
        training = (
            "It was trained with the `viclip` library; its training data is described by whoever trained it."
        )
    if is_classifier and labels:
        shown = ", ".join(str(labels[i]) for i in sorted(labels)[:10]) + (", ..." if len(labels) > 10 else "")
        training += f" Its classifier predicts {len(labels)} classes: {shown}."
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    return build_model_card(
        model_size=size_label(config),
        image_size=config.vision_config.image_size,
        num_frames=config.vision_config.num_frames,
        num_parameters=sum(p.numel() for p in model.parameters()),
        dtype=dtype,
        provenance=f"Saved by the `viclip` library as a {type(model).__name__}; not compared with any published model.",
        repo_id=repo_id,
        title=f"ViCLIP-{size_label(config)} {kind}",
        training=training,
        pipeline_tag="video-classification" if is_classifier else PIPELINE_TAG,
    )


EVALUATION_HEADING = "## Evaluation results (measured with viclip)"
_LICENSE_HEADING = "## License and citation"


def with_evaluation_results(card: str, tables: Sequence[str]) -> str:
    """The card with an evaluation section holding ``tables`` (Markdown, e.g. from
    `viclip.evaluation.benchmarks.results_markdown_table`), replacing an earlier one; before the license."""
    if not tables:
        return card
    section = EVALUATION_HEADING + "\n\n" + "\n\n".join(table.strip() for table in tables) + "\n\n"
    start = card.find(EVALUATION_HEADING)
    if start >= 0:
        end = card.find("\n## ", start + len(EVALUATION_HEADING))
        card = card[:start] + (card[end + 1 :] if end >= 0 else "")
    position = card.find(_LICENSE_HEADING)
    if position < 0:
        return card.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    return card[:position] + section + card[position:]


def parse_card_metadata(text: str) -> dict:
    """The YAML front matter of a card (for checks)."""
    match = re.match(r"^---\n(.*?)\n---\n", text, flags=re.DOTALL)
    if match is None:
        raise ValueError("model card has no YAML front matter")
    return yaml.safe_load(match.group(1))
