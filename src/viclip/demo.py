"""`viclip demo`: the README's main job."""

from __future__ import annotations

import argparse
import sys

import torch

from .modeling import ViCLIPConfig, ViCLIPModel


def describe_presets() -> str:
    """One line per released size: parameters of each tower, built on the meta device (no allocation)."""
    lines = []
    for name in ("viclip-l14", "viclip-b16"):
        config = ViCLIPConfig.from_preset(name)
        with torch.device("meta"):
            model = ViCLIPModel(config)
        vision = sum(p.numel() for p in model.vision_model.parameters())
        text = sum(p.numel() for p in model.text_model.parameters())
        total = sum(p.numel() for p in model.parameters())
        lines.append(f"{name}: {total:,} parameters (video tower {vision:,}, text tower {text:,})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="viclip demo", description=__doc__)
    parser.parse_args(argv)
    print(describe_presets())
    return 0


if __name__ == "__main__":
    sys.exit(main())
