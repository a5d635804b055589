"""ViCLIPReward: gradients to the pixels, the scorer's maths, frozen weights, and a reward that can be climbed."""

import numpy as np
import pytest
import torch

from viclip.scoring import ViCLIPReward


@pytest.fixture
def reward(vbench_model_dir):
    return ViCLIPReward.from_pretrained(vbench_model_dir)


def test_reward_gradients_pass_gradcheck_in_float64(tiny_model, tiny_processor):
    import copy

    model = copy.deepcopy(tiny_model).double()
    reward = ViCLIPReward(model, tiny_processor, quantize=False)
    video = torch.rand(1, 3, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: reward(v, "a red circle"), (video,), eps=1e-6, atol=1e-5)


def test_weights_are_frozen_and_the_pixels_get_the_gradient(reward):
    video = torch.rand(2, 10, 3, 64, 96, requires_grad=True)
    value = reward(video, ["a cat", "a dog"])
    value.sum().backward()
    assert value.shape == (2,) and video.grad is not None and video.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None for p in reward.model.parameters())


@pytest.mark.parametrize("protocol", ["viclip", "vbench"])
def test_a_uint8_valued_video_gets_the_scorers_score(vbench_model_dir, codec_videos, protocol):
    """The reward of the decoded frames equals viclip score of the file (its frames are what the scorer decodes)."""
    import av

    from viclip.inference import EngineSettings
    from viclip.processing import VideoClip
    from viclip.scoring import ScoringRow, score_pairs

    path = codec_videos["bframes"]
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    video = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float()  # (1, T, C, H, W), values 0..255
    reward = ViCLIPReward.from_pretrained(vbench_model_dir, protocol=protocol)
    ours = float(reward(video, "a cat runs", value_range=(0, 255)))
    scored = score_pairs(
        [ScoringRow(VideoClip(str(path)), "a cat runs")],
        str(vbench_model_dir),
        protocol=protocol,
        engine=EngineSettings(runner="local"),
        progress=False,
    )
    assert ours == pytest.approx(scored.scores[0], abs=1e-5)


def test_value_range_minus_one_to_one_is_the_same_video(reward):
    video = torch.rand(1, 8, 3, 48, 64)
    assert float(reward(video * 2 - 1, "a cat", value_range=(-1, 1))) == pytest.approx(
        float(reward(video, "a cat")), abs=1e-5
    )


def test_gradient_ascent_raises_the_reward_of_its_prompt(reward):
    torch.manual_seed(0)
    video = torch.rand(1, 8, 3, 64, 64, requires_grad=True)
    optimiser = torch.optim.Adam([video], lr=0.02)
    start = float(reward(video, "a red car").detach())
    for _ in range(5):
        optimiser.zero_grad()
        (-reward(video, "a red car").sum()).backward()
        optimiser.step()
        with torch.no_grad():
            video.clamp_(0, 1)
    assert float(reward(video, "a red car").detach()) > start + 0.01


def test_checkpointing_gives_the_same_gradients(vbench_model_dir):
    plain = ViCLIPReward.from_pretrained(vbench_model_dir)
    checkpointed = ViCLIPReward.from_pretrained(vbench_model_dir, gradient_checkpointing=True)
    grads = []
    for reward in (plain, checkpointed):
        video = torch.rand(1, 8, 3, 48, 48, generator=torch.Generator().manual_seed(1), requires_grad=True)
        reward(video, "a cat").sum().backward()
        grads.append(video.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)


def test_bad_inputs_are_named(reward):
    with pytest.raises(ValueError, match=r"\(batch, frames, 3, height, width\)"):
        reward(torch.rand(8, 3, 32, 32), "a cat")
    with pytest.raises(ValueError, match="2 prompts for 1 videos"):
        reward(torch.rand(1, 8, 3, 32, 32), ["a", "b"])
    with pytest.raises(ValueError, match="non-empty"):
        reward(torch.rand(1, 8, 3, 32, 32), " ")
    with pytest.raises(ValueError, match="protocol must be one of"):
        ViCLIPReward(reward.model, reward.processor, protocol="clip")
