"""Video processor for ViCLIP: clip-aware decoding with PyAV, the original eval/train/demo preprocessing.

Copied into Hub model folders as remote code: imports only the standard library, numpy, torch,
torchvision, PIL, transformers and sibling modules of this folder.
"""

import math
import warnings
from typing import Any

import numpy as np
import torch
import torchvision.transforms.v2.functional as tvF
from PIL import Image
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import (
    IMAGENET_DEFAULT_MEAN,
    IMAGENET_DEFAULT_STD,
    ChannelDimension,
    PILImageResampling,
    SizeDict,
)
from transformers.processing_utils import Unpack, VideosKwargs
from transformers.video_processing_utils import BaseVideoProcessor

from .video_clip import VideoClip
from .video_reading import SAMPLING_STRATEGIES, read_video_clip, sample_frame_indices

# transformers' image processors' warning for the same case, word for word.
_ALREADY_RESCALED = (
    "It looks like you are trying to rescale already rescaled images. If the input"
    " images have pixel values between 0 and 1, set `do_rescale=False` to avoid rescaling them again."
)
# torchvision's RandomResizedCrop default aspect-ratio range, as in the original training transform.
_CROP_RATIO = (3.0 / 4.0, 4.0 / 3.0)


class ViCLIPVideoProcessorKwargs(VideosKwargs, total=False):
    """Keyword arguments of ``ViCLIPVideoProcessor`` beyond the standard video ones.

    sampling: ``"middle"`` (eval), ``"random"`` (train) or ``"demo"`` frame sampling.
    do_train_augmentation: RandomResizedCrop(scale=crop_scale) + horizontal flip, shared by the frames
        of a clip, instead of the plain resize.
    crop_scale: area range of the random crop, ``(0.5, 1.0)`` in the original.
    antialias: antialiasing in resize; ``False`` (default) as the original's tensor resizes in torchvision < 0.17.
    seed: seed for frame sampling and augmentation (``None``: fresh randomness).
    start_sec / end_sec: time range for videos given as paths (a number, or one value per video).
    num_threads: FFmpeg decoding threads (0: FFmpeg chooses).
    decode_timeout / max_pixels: ``read_video_clip``'s deadline per video (seconds) and frame budget (pixels)
        for videos given as paths; not given: its defaults (120 s, 8192x8192); ``math.inf``: none.
    """

    sampling: str | None
    do_train_augmentation: bool | None
    crop_scale: list | tuple | None
    antialias: bool | None
    seed: int | None
    start_sec: int | float | list | tuple | None
    end_sec: int | float | list | tuple | None
    num_threads: int | None
    decode_timeout: float | None
    max_pixels: int | float | None


class ViCLIPVideoProcessor(BaseVideoProcessor):
    r"""Turns videos into ViCLIP's ``pixel_values_videos`` of shape ``(batch, num_frames, 3, height, width)``.

    Defaults are the original evaluation: ``num_frames`` (8) frames with "middle" sampling, resized
    straight to 224x224 bicubic (no crop, aspect not kept), ImageNet mean/std.

    Videos may be given as a path (decoded with PyAV, only the frames needed), a clip (a ``VideoClip``,
    ``(path, start_sec, end_sec)`` or ``{"path": ..., "start_sec": ..., "end_sec": ...}``; any other dict key
    is an error), a frame array or tensor
    ``(T, H, W, C)`` / ``(T, C, H, W)``, a list of PIL images or of ``(H, W, C)`` arrays; or a list of
    those for a batch (a 5-D array is a batch too). Frames given directly are sampled with the same
    strategy when ``do_sample_frames`` is True.

    Presets: ``ViCLIPVideoProcessor.for_demo()`` reproduces the original demo preprocessing,
    ``do_train_augmentation=True`` (with ``sampling="random"``) the original training augmentation.
    """

    resample = PILImageResampling.BICUBIC
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    size = {"height": 224, "width": 224}
    default_to_square = True
    do_resize = True
    do_center_crop = False
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    do_sample_frames = True
    num_frames = 8
    sampling = "middle"
    do_train_augmentation = False
    crop_scale = (0.5, 1.0)
    # The original ran torchvision < 0.17, whose tensor resizes did not antialias (InternVid was released 2023-07).
    antialias = False
    num_threads = 0
    valid_kwargs = ViCLIPVideoProcessorKwargs
    model_input_names = ["pixel_values_videos"]

    def __init__(self, **kwargs: Unpack[ViCLIPVideoProcessorKwargs]) -> None:
        super().__init__(**kwargs)
        if self.sampling not in SAMPLING_STRATEGIES:
            raise ValueError(f"sampling must be one of {SAMPLING_STRATEGIES}, got {self.sampling!r}")

    @classmethod
    def for_model(cls, image_size: int = 224, num_frames: int = 8, **kwargs: Any) -> "ViCLIPVideoProcessor":
        """The evaluation processor for a model of the given ``image_size`` and ``num_frames``."""
        return cls(size={"height": image_size, "width": image_size}, num_frames=num_frames, **kwargs)

    @classmethod
    def for_demo(cls, **kwargs: Any) -> "ViCLIPVideoProcessor":
        """The original demo's preprocessing: frames ``0, s, 2s, ...``, bilinear resize without antialias."""
        defaults = {"sampling": "demo", "resample": PILImageResampling.BILINEAR, "antialias": False}
        return cls(**{**defaults, **kwargs})

    def preprocess(self, videos: Any, **kwargs: Unpack[ViCLIPVideoProcessorKwargs]) -> BatchFeature:
        unknown = set(kwargs) - set(self.valid_kwargs.__annotations__) - {"return_tensors"}
        if unknown:
            raise TypeError(f"ViCLIPVideoProcessor got unexpected keyword arguments {sorted(unknown)}")
        if kwargs.get("fps") is not None:
            raise ValueError(
                "ViCLIPVideoProcessor samples a fixed number of frames: pass num_frames, not fps"
            )
        for name in self.valid_kwargs.__annotations__:
            kwargs.setdefault(name, getattr(self, name, None))
        kwargs = self._standardize_kwargs(**kwargs)
        if kwargs["sampling"] not in SAMPLING_STRATEGIES:
            raise ValueError(f"sampling must be one of {SAMPLING_STRATEGIES}, got {kwargs['sampling']!r}")

        items = _as_video_list(videos)
        starts = _per_video(kwargs["start_sec"], len(items), "start_sec")
        ends = _per_video(kwargs["end_sec"], len(items), "end_sec")
        rng = np.random.default_rng(kwargs["seed"])
        generator = None
        if kwargs["seed"] is not None:
            generator = torch.Generator().manual_seed(int(kwargs["seed"]))

        pixel_values, metadata = [], []
        for item, start, end in zip(items, starts, ends):
            frames, info = self._load_frames(item, start, end, rng, kwargs)
            pixel_values.append(self._transform(frames, generator, kwargs))
            metadata.append(info)

        same_shape = len({tuple(v.shape) for v in pixel_values}) == 1
        data: dict[str, Any] = {
            "pixel_values_videos": torch.stack(pixel_values) if same_shape else pixel_values
        }
        if not same_shape and kwargs["return_tensors"] is not None:
            shapes = sorted({tuple(v.shape) for v in pixel_values})
            raise ValueError(
                f"videos of different shapes {shapes} cannot be batched; keep do_sample_frames=True"
            )
        features = BatchFeature(data=data, tensor_type=kwargs["return_tensors"])
        if kwargs["return_metadata"]:
            features["video_metadata"] = metadata
        return features

    def _load_frames(self, item, start, end, rng, kwargs) -> tuple[torch.Tensor, Any]:
        """One video as a (T, C, H, W) tensor, sampled; plus its ClipInfo (None for frames given directly)."""
        if isinstance(item, VideoClip):
            start = item.start_sec if item.start_sec is not None else start
            end = item.end_sec if item.end_sec is not None else end
            if not kwargs["do_sample_frames"]:
                raise ValueError(
                    "videos given as paths are always sampled: do_sample_frames=False needs frames"
                )
            frames, info = read_video_clip(
                item.path,
                start,
                end,
                num_frames=kwargs["num_frames"],
                sampling=kwargs["sampling"],
                seed=rng,
                num_threads=kwargs["num_threads"],
                **_decode_limits(kwargs),
            )
            return torch.from_numpy(frames).permute(0, 3, 1, 2), info
        if start is not None or end is not None:
            raise ValueError("start_sec/end_sec apply to videos given as paths, not to decoded frames")
        video = _to_tchw(item, kwargs["input_data_format"])
        if kwargs["do_sample_frames"]:
            indices = sample_frame_indices(video.shape[0], kwargs["num_frames"], kwargs["sampling"], rng)
            video = video[indices]
        if kwargs["do_rescale"] and _is_scaled(video):
            warnings.warn(_ALREADY_RESCALED, UserWarning, stacklevel=4)
        return video, None

    def _transform(self, video: torch.Tensor, generator, kwargs) -> torch.Tensor:
        if kwargs["do_convert_rgb"]:
            video = self.convert_to_rgb(video)
        device = kwargs["device"]
        if device is not None:
            video = video.to(device)
        if kwargs["do_train_augmentation"]:
            video = self._random_resized_crop_flip(video, generator, kwargs)
        elif kwargs["do_resize"]:
            video = self.resize(video, kwargs["size"], kwargs["resample"], antialias=kwargs["antialias"])
        if kwargs["do_center_crop"]:
            video = self.center_crop(video, kwargs["crop_size"])
        # Channels-last frames (load_prepared's; their uint8 resize is fastest) normalise 3x faster as planes.
        video = video.contiguous()
        return self.rescale_and_normalize(
            video,
            kwargs["do_rescale"],
            kwargs["rescale_factor"],
            kwargs["do_normalize"],
            kwargs["image_mean"],
            kwargs["image_std"],
        )

    def _random_resized_crop_flip(self, video: torch.Tensor, generator, kwargs) -> torch.Tensor:
        """The original training augmentation, with one crop and one flip decision for all frames."""
        size: SizeDict = kwargs["size"]
        if not (size.height and size.width):
            raise ValueError(f"do_train_augmentation needs size with height and width, got {dict(size)}")
        top, left, height, width = _random_resized_crop_params(
            video.shape[-2], video.shape[-1], tuple(kwargs["crop_scale"]), generator
        )
        video = video[..., top : top + height, left : left + width]
        video = self.resize(video, size, kwargs["resample"], antialias=kwargs["antialias"])
        if torch.rand(1, generator=generator).item() < 0.5:
            video = tvF.horizontal_flip(video)
        return video


def _decode_limits(kwargs) -> dict[str, Any]:
    """The ``read_video_clip`` limits given (``math.inf``: none); those not given keep its defaults."""
    given = {"timeout": kwargs.get("decode_timeout"), "max_pixels": kwargs.get("max_pixels")}
    return {name: None if value == math.inf else value for name, value in given.items() if value is not None}


def _is_scaled(video: torch.Tensor) -> bool:
    """Float frames already in [0, 1] (``transformers.image_utils.is_scaled_image`` for a tensor)."""
    return video.is_floating_point() and video.numel() > 0 and bool(video.min() >= 0 and video.max() <= 1)


def _is_frame(x: Any) -> bool:
    return isinstance(x, Image.Image) or (isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim in (2, 3))


def _as_video(x: Any) -> Any:
    """One video: a VideoClip, a 4-D array/tensor, or a list of frames; else None."""
    if VideoClip.is_clip_like(x):
        return VideoClip.coerce(x)
    if isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim == 4:
        return x
    if isinstance(x, (list, tuple)) and x and all(_is_frame(f) for f in x):
        return list(x)
    if isinstance(x, Image.Image):
        return [x]
    return None


def _as_video_list(videos: Any) -> list:
    """Normalise any accepted input into a list of single videos."""
    if videos is None:
        raise ValueError("no videos given")
    single = _as_video(videos)
    if single is not None:
        return [single]
    if isinstance(videos, (np.ndarray, torch.Tensor)) and videos.ndim == 5:
        return list(videos)
    if isinstance(videos, (list, tuple)) and videos:
        batch = [_as_video(v) for v in videos]
        for i, (video, raw) in enumerate(zip(batch, videos)):
            if video is None:
                raise TypeError(f"video {i} of the batch is not a supported video input: {_describe(raw)}")
        return batch
    raise TypeError(
        "videos must be a path, a VideoClip, (path, start_sec, end_sec), a frame array/tensor (T, H, W, C) or (T, C, H, W), "
        f"a list of PIL images, or a list of those; got {_describe(videos)}"
    )


def _describe(x: Any) -> str:
    if isinstance(x, (np.ndarray, torch.Tensor)):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of {len(x)} items" + (f" (first: {_describe(x[0])})" if x else "")
    return type(x).__name__


def _per_video(value: Any, count: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name} has {len(value)} values for {count} videos")
        return list(value)
    return [value] * count


def _frame_to_hwc(frame: Any) -> np.ndarray | torch.Tensor:
    if isinstance(frame, Image.Image):
        return np.asarray(frame.convert("RGB"))
    return frame[..., None] if frame.ndim == 2 else frame


def _to_tchw(video: Any, input_data_format: Any) -> torch.Tensor:
    if isinstance(video, list):
        frames = [_frame_to_hwc(f) for f in video]
        if isinstance(video[0], Image.Image):
            video, input_data_format = np.stack(frames), ChannelDimension.LAST
        elif isinstance(frames[0], torch.Tensor):
            video = torch.stack(frames)
        else:
            video = np.stack(frames)
    tensor = torch.from_numpy(np.ascontiguousarray(video)) if isinstance(video, np.ndarray) else video
    if input_data_format is None:
        if tensor.shape[-1] in (1, 3, 4) and tensor.shape[1] not in (1, 3, 4):
            input_data_format = ChannelDimension.LAST
        elif tensor.shape[1] in (1, 3, 4):
            input_data_format = ChannelDimension.FIRST
        else:
            raise ValueError(f"cannot tell the channel axis of a video of shape {tuple(tensor.shape)}")
    if ChannelDimension(input_data_format) == ChannelDimension.LAST:
        tensor = tensor.permute(0, 3, 1, 2)
    return tensor.contiguous()


def _random_resized_crop_params(
    height: int, width: int, scale: tuple[float, float], generator: "torch.Generator | None"
) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params, drawing from ``generator``."""
    area = height * width
    log_ratio = torch.log(torch.tensor(_CROP_RATIO))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1], generator=generator).item()
        aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1], generator=generator)).item()
        w = round((target_area * aspect) ** 0.5)
        h = round((target_area / aspect) ** 0.5)
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (1,), generator=generator).item())
            left = int(torch.randint(0, width - w + 1, (1,), generator=generator).item())
            return top, left, h, w
    # Fallback to a central crop of the allowed aspect ratio.
    in_ratio = width / height
    if in_ratio < _CROP_RATIO[0]:
        w, h = width, round(width / _CROP_RATIO[0])
    elif in_ratio > _CROP_RATIO[1]:
        h, w = height, round(height * _CROP_RATIO[1])
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


__all__ = ["ViCLIPVideoProcessor", "ViCLIPVideoProcessorKwargs"]
