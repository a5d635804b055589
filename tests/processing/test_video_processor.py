"""ViCLIPVideoProcessor: inputs of every kind, the original eval/demo/train preprocessing, serialisation."""

import warnings

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as tvF
from PIL import Image
from safetensors.torch import load_file
from transformers import AutoVideoProcessor

from viclip import ViCLIPVideoProcessor, read_video_clip
from viclip.processing import VideoClip

from .conftest import ASSETS, EXAMPLE_VIDEO, decode_index

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def reference_eval(frames_thwc: np.ndarray, size: int = 224) -> torch.Tensor:
    """The original eval transform: resize straight to size x size bicubic (torchvision < 0.17: no antialias),
    ImageNet normalisation."""
    video = torch.from_numpy(frames_thwc).permute(0, 3, 1, 2)
    video = tvF.resize(video, [size, size], interpolation=tvF.InterpolationMode.BICUBIC, antialias=False)
    return (video.float() / 255 - MEAN) / STD


def random_video(num_frames: int = 16, height: int = 40, width: int = 56, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (num_frames, height, width, 3), dtype=np.uint8)


def test_defaults_are_the_original_evaluation():
    processor = ViCLIPVideoProcessor()
    assert processor.num_frames == 8 and processor.sampling == "middle"
    assert (processor.size.height, processor.size.width) == (224, 224)
    assert processor.do_center_crop is False and processor.do_train_augmentation is False
    assert processor.image_mean == (0.485, 0.456, 0.406) and processor.image_std == (0.229, 0.224, 0.225)


def test_path_input_matches_reading_then_the_eval_transform():
    processor = ViCLIPVideoProcessor()
    out = processor(str(EXAMPLE_VIDEO), return_tensors="pt")
    frames, info = read_video_clip(EXAMPLE_VIDEO)
    assert out["pixel_values_videos"].shape == (1, 8, 3, 224, 224)
    torch.testing.assert_close(out["pixel_values_videos"][0], reference_eval(frames), atol=1e-5, rtol=0)
    assert info.frame_indices == [2, 7, 12, 17, 22, 27, 32, 37]


def test_array_input_is_sampled_like_a_file():
    video = random_video(16)
    out = ViCLIPVideoProcessor()(video, return_tensors="pt")["pixel_values_videos"]
    middle = [0, 2, 4, 6, 8, 10, 12, 14]
    torch.testing.assert_close(out[0], reference_eval(video[middle]), atol=1e-5, rtol=0)


def test_every_input_kind_gives_the_same_pixels():
    video = random_video(8)
    processor = ViCLIPVideoProcessor(size={"height": 32, "width": 32})
    expected = processor(video, return_tensors="pt")["pixel_values_videos"]
    variants = {
        "tensor THWC": torch.from_numpy(video),
        "tensor TCHW": torch.from_numpy(video).permute(0, 3, 1, 2),
        "array TCHW": video.transpose(0, 3, 1, 2),
        "PIL list": [Image.fromarray(frame) for frame in video],
        "list of HWC arrays": list(video),
        "batch of one": [video],
        "5-D array": video[None],
    }
    for name, variant in variants.items():
        got = processor(variant, return_tensors="pt")["pixel_values_videos"]
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0, msg=name)


def test_batch_of_paths_clips_and_arrays(index_video):
    processor = ViCLIPVideoProcessor(size={"height": 32, "width": 32}, num_frames=4)
    out = processor(
        [str(index_video), (index_video, 2.0, 4.0), {"path": index_video, "start_sec": 1.0}, random_video(4)],
        return_tensors="pt",
        return_metadata=True,
    )
    assert out["pixel_values_videos"].shape == (4, 4, 3, 32, 32)
    metadata = out["video_metadata"]
    assert metadata[1].frame_indices == [22, 27, 32, 37]
    assert metadata[2].start_sec == 1.0 and metadata[2].end_sec == 6.0
    assert metadata[3] is None


def test_start_and_end_keywords_apply_per_video(index_video):
    processor = ViCLIPVideoProcessor(do_resize=False, do_normalize=False, do_rescale=False, num_frames=2)
    out = processor(
        [index_video, index_video],
        start_sec=[1.0, 3.0],
        end_sec=[2.0, 4.0],
        sampling="demo",
        return_tensors="pt",
    )
    shown = [
        [decode_index(f.permute(1, 2, 0).numpy()) for f in video] for video in out["pixel_values_videos"]
    ]
    assert shown == [[10, 15], [30, 35]]


def test_demo_preset_reproduces_the_original_demo_pixels():
    reference = load_file(str(ASSETS / "example1_demo_pixel_values.safetensors"))
    processor = ViCLIPVideoProcessor.for_demo()
    out = processor(EXAMPLE_VIDEO, return_tensors="pt", return_metadata=True)
    assert out["video_metadata"][0].frame_indices == reference["frame_indices"].tolist()
    difference = (out["pixel_values_videos"] - reference["pixel_values_videos"]).abs().mean().item()
    assert difference < 0.005  # measured 0.0020: PyAV vs OpenCV YUV->RGB rounding


def test_train_augmentation_is_seeded_and_shared_by_all_frames():
    still = np.repeat(random_video(1, 60, 80), 8, axis=0)  # 8 identical frames
    processor = ViCLIPVideoProcessor(
        do_train_augmentation=True, sampling="random", size={"height": 32, "width": 32}
    )
    a = processor(still, seed=1, return_tensors="pt")["pixel_values_videos"][0]
    b = processor(still, seed=1, return_tensors="pt")["pixel_values_videos"][0]
    c = processor(still, seed=2, return_tensors="pt")["pixel_values_videos"][0]
    assert a.shape == (8, 3, 32, 32)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    for frame in a[1:]:  # same crop and flip for every frame
        torch.testing.assert_close(frame, a[0])
    plain = ViCLIPVideoProcessor(size={"height": 32, "width": 32})(still, return_tensors="pt")
    assert not torch.allclose(a, plain["pixel_values_videos"][0])


def test_size_and_num_frames_survive_save_and_load(tmp_path):
    processor = ViCLIPVideoProcessor.for_model(image_size=32, num_frames=4, sampling="random")
    processor.save_pretrained(tmp_path)
    loaded = AutoVideoProcessor.from_pretrained(tmp_path)
    assert type(loaded) is ViCLIPVideoProcessor
    assert (loaded.size.height, loaded.num_frames, loaded.sampling) == (32, 4, "random")
    video = random_video(8)
    torch.testing.assert_close(
        loaded(video, seed=0, return_tensors="pt")["pixel_values_videos"],
        processor(video, seed=0, return_tensors="pt")["pixel_values_videos"],
    )


def shown_frames(pixel_values_videos: torch.Tensor) -> list[list[int]]:
    return [[decode_index(f.permute(1, 2, 0).numpy()) for f in video] for video in pixel_values_videos]


@pytest.mark.parametrize("spelling", ["dict", "tuple", "VideoClip"])
def test_every_clip_spelling_reads_its_time_range(index_video, spelling):
    clip = {
        "dict": {"path": str(index_video), "start_sec": 1.0, "end_sec": 2.0},
        "tuple": (str(index_video), 1.0, 2.0),
        "VideoClip": VideoClip(index_video, 1.0, 2.0),
    }[spelling]
    processor = ViCLIPVideoProcessor(do_resize=False, do_normalize=False, do_rescale=False, num_frames=2)
    out = processor(clip, sampling="demo", return_tensors="pt")
    assert shown_frames(out["pixel_values_videos"]) == [[10, 15]]


@pytest.mark.parametrize("keys", [("start", "end"), ("start_time", "end_time"), ("video", "start_sec")])
def test_a_clip_dict_with_an_unknown_key_is_an_error_not_the_whole_video(index_video, keys):
    # Regression: {"path", "start", "end"} was read as the whole video, silently.
    clip = {"path": str(index_video), keys[0]: 1.0, keys[1]: 2.0}
    with pytest.raises(ValueError, match=r"unknown key\(s\) .*spelled start_sec/end_sec"):
        ViCLIPVideoProcessor()(clip)


def test_float_frames_already_in_0_1_warn_as_transformers_does():
    frames = random_video(8).astype(np.float32) / 255
    with pytest.warns(UserWarning, match="trying to rescale already rescaled images"):
        ViCLIPVideoProcessor()(frames, return_tensors="pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ViCLIPVideoProcessor()(frames, do_rescale=False, return_tensors="pt")  # told: no warning
        ViCLIPVideoProcessor()(random_video(8).astype(np.float32), return_tensors="pt")  # 0-255 floats


def test_bad_inputs_raise_clear_errors(index_video):
    processor = ViCLIPVideoProcessor()
    with pytest.raises(TypeError, match="not a supported video input"):
        processor([index_video, 3])
    with pytest.raises(TypeError, match="videos must be a path"):
        processor(42)
    with pytest.raises(ValueError, match="cannot tell the channel axis"):
        processor(np.zeros((8, 10, 10, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match="num_frames, not fps"):
        processor(index_video, fps=2)
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        processor(index_video, start=1.0)
    with pytest.raises(ValueError, match="start_sec has 1 values for 2 videos"):
        processor([index_video, index_video], start_sec=[1.0])
    with pytest.raises(ValueError, match="apply to videos given as paths"):
        processor(random_video(8), start_sec=1.0)
    with pytest.raises(ValueError, match="sampling must be one of"):
        ViCLIPVideoProcessor(sampling="uniform")
