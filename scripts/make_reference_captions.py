"""Write the packaged reference captions of calibrated scores (src/viclip/scoring/reference_captions.txt).

Deterministic: every Kinetics-700 class in a seeded ActionCLIP template (not the bare name), then classes again in
another template until there are 928, then every synthetic (colour, shape, direction) caption: 1,000 unique
lower-case captions. Changing the output means bumping DEFAULT_REFERENCE_VERSION in viclip.scoring.reference.

    .venv/bin/python scripts/make_reference_captions.py
"""

from __future__ import annotations

import random
from pathlib import Path

from viclip.data.synthetic import COLORS, DIRECTIONS, SHAPES, caption_for
from viclip.evaluation.benchmarks.kinetics import kinetics_class_names
from viclip.evaluation.templates import ACTIONCLIP_TEMPLATES

SEED = 31
SIZE = 1000
TARGET = Path(__file__).resolve().parents[1] / "src" / "viclip" / "scoring" / "reference_captions.txt"


def clean(text: str) -> str:
    """As the original evaluation cleans prompts: lower-case, no parentheses, apostrophes or question marks."""
    return " ".join(text.lower().replace("(", "").replace(")", "").replace("'", "").replace("?", "").split())


def compose_reference_captions() -> list[str]:
    rng = random.Random(SEED)
    templates = [t for t in ACTIONCLIP_TEMPLATES if t != "{}"]
    classes = [clean(name) for name in kinetics_class_names(700)]
    synthetic = [caption_for(c, s, d) for c in COLORS for s in SHAPES for d in DIRECTIONS]
    captions = dict.fromkeys(clean(rng.choice(templates).format(name)) for name in classes)
    for name in rng.sample(classes, len(classes)):
        if len(captions) >= SIZE - len(synthetic):
            break
        captions[clean(rng.choice(templates).format(name))] = None
    captions.update(dict.fromkeys(synthetic))
    return list(captions)


def main() -> None:
    TARGET.write_text("\n".join(compose_reference_captions()) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(compose_reference_captions())} captions")


if __name__ == "__main__":
    main()
