"""ViCLIP as a differentiable reward: a few steps of gradient ascent on a video's pixels for its prompt.

    python examples/viclip_reward.py --model ./ViCLIP-L-14 --prompt "a red car driving through snow"

With a video-generation model, put its decoded frames (B, T, C, H, W) in place of ``video`` and add
``-reward(...)`` to its loss; the reward's weights are frozen and the prompts are encoded once.
"""

import argparse

import torch

from viclip.scoring import ViCLIPReward


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, help="a converted ViCLIP folder or Hub id")
    parser.add_argument("--prompt", default="a red car driving through snow")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--protocol", choices=["viclip", "vbench"], default="viclip")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    reward = ViCLIPReward.from_pretrained(args.model, protocol=args.protocol, gradient_checkpointing=True).to(
        device
    )
    video = torch.rand(1, 16, 3, 320, 512, device=device, requires_grad=True)  # 16 frames in [0, 1]
    optimiser = torch.optim.Adam([video], lr=0.01)
    for step in range(args.steps):
        value = reward(video, args.prompt)
        optimiser.zero_grad()
        (-value.sum()).backward()
        optimiser.step()
        with torch.no_grad():
            video.clamp_(0, 1)
        print(f"step {step}: reward {float(value.detach()):.4f}")


if __name__ == "__main__":
    main()
