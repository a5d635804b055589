"""Regenerate docs/images/serve.png: the `viclip serve` page in headless Chromium, searching a small library.

The library is twelve generated 4-second videos (skies, sea, fields, snow, a night street: gradients with moving
shapes) cut into 2-second moments, embedded by a tiny random ViCLIP, so the scores are not meaningful; the page is.

    python benchmarks/screenshot_serve.py [--output docs/images/serve.png] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor
from viclip.data.synthetic import write_video
from viclip.embedding import VectorIndex
from viclip.inference import VideoTextEmbedder
from viclip.serving import SearchService, Thumbnails, create_app, running

W, H, FPS, SECONDS = 320, 180, 12, 4
SCENES = {  # name: (top colour, bottom colour, shape colour)
    "beach_sunset": ((250, 140, 60), (40, 90, 160), (255, 220, 120)),
    "harbour_morning": ((150, 200, 240), (30, 70, 120), (240, 240, 240)),
    "wheat_field": ((120, 180, 240), (210, 180, 70), (90, 60, 30)),
    "snowy_hill": ((200, 215, 230), (245, 245, 250), (180, 40, 40)),
    "night_street": ((15, 15, 40), (50, 45, 60), (255, 200, 80)),
    "forest_path": ((60, 110, 60), (40, 70, 30), (200, 180, 120)),
    "desert_road": ((240, 200, 150), (190, 140, 90), (60, 60, 70)),
    "lake_dusk": ((120, 80, 140), (30, 40, 90), (250, 170, 90)),
    "city_rain": ((90, 100, 110), (60, 65, 75), (220, 220, 60)),
    "kite_park": ((130, 190, 250), (70, 150, 70), (230, 50, 90)),
    "dog_beach": ((170, 210, 245), (225, 200, 150), (120, 80, 40)),
    "ski_slope": ((110, 160, 230), (240, 245, 250), (30, 90, 200)),
}
CAPTIONS = ["waves roll onto a beach at sunset", "a boat leaves the harbour", "wind moves over a wheat field",
            "a sledge slides down a snowy hill", "cars pass on a street at night", "someone walks a forest path",
            "a truck drives on a desert road", "a swan on a lake at dusk", "people hurry through the rain",
            "a kite flies over the park", "a dog runs along the beach", "a skier turns down the slope"]  # fmt: skip


def scene(top, bottom, shape, seconds: float, phase: float) -> list[np.ndarray]:
    t = np.linspace(0, 1, H)[:, None, None]
    sky = ((1 - t) * np.array(top) + t * np.array(bottom)).astype(np.uint8)
    background = np.repeat(sky, W, axis=1)
    frames = []
    for i in range(int(seconds * FPS)):
        frame = background.copy()
        x = int((phase * W + i * 5) % (W - 40))
        y = int(H * 0.55 + 18 * np.sin(i / 6 + phase * 6))
        yy, xx = np.ogrid[:H, :W]
        frame[(yy - y) ** 2 + (xx - x - 20) ** 2 < 18**2] = shape
        frames.append(frame)
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", default="docs/images/serve.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--query", default="waves on a beach at sunset")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    torch.manual_seed(0)
    config = ViCLIPConfig(
        vision_config={"image_size": 32, "patch_size": 8, "hidden_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "intermediate_size": 256, "num_frames": 8},
        text_config={"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 192},
        projection_dim=32,
    )  # fmt: skip
    embedder = VideoTextEmbedder(
        ViCLIPModel(config).eval(), ViCLIPProcessor.for_model(image_size=32, num_frames=8)
    )
    with tempfile.TemporaryDirectory() as tmp:
        rows, captions = [], []
        for number, (name, colours) in enumerate(SCENES.items()):
            path = Path(tmp) / "library" / f"{name}.mp4"
            path.parent.mkdir(exist_ok=True)
            write_video(path, scene(*colours, SECONDS, number / len(SCENES)), fps=FPS)
            for start in (0.0, 2.0):
                rows.append((str(path), start, start + 2.0))
                captions.append(f"{CAPTIONS[number]}, {'first' if start == 0 else 'then'}")
        vectors = embedder.encode_text(captions).numpy()
        paths, starts, ends = zip(*rows)
        index = VectorIndex.build(vectors, {"path": paths, "start_sec": starts, "end_sec": ends}, kind="exact",
                                  info={"model": "a tiny random ViCLIP"})  # fmt: skip
        app = create_app(SearchService(index, embedder), Thumbnails(Path(tmp) / "thumbnails"))
        with running(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                      "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1180, "height": 760})
            page.goto(f"{url}/?q={args.query.replace(' ', '+')}&top_k=12")
            page.wait_for_selector("#results .card")
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 2)", timeout=30_000
            )
            page.wait_for_timeout(700)
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.output)
            browser.close()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
