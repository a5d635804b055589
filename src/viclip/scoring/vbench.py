"""VBench 0.1.5's ViCLIP protocol (``overall_consistency``, ``temporal_style``), reproduced with PyAV.

VBench reads 8 frames with decord (``read_frames_decord_by_fps(num_frames=8, sample="middle")``): ``vlen =
len(VideoReader(path))`` and ``get_frame_indices``' rule over it; then ``clip_transform(224)``: short side to 224
(bicubic, no antialias) on the uint8 frames, centre crop 224, ``/ 255``, OpenAI CLIP's mean/std. The score is the
raw cosine of the L2-normalised video and prompt features.

How decord counts and picks frames, and what we do (checked against decord 0.6.0 on H.264 with B-frames, open
GOP, variable frame rate, a start offset, an edit list that trims pre-roll frames, VP9/WebM and MPEG-4/AVI):

- ``len(reader)`` is the number of video packets in the stream (its index), not ``nb_frames`` from the header
  (0 in WebM) nor the number of frames a decoder outputs: :func:`decord_frame_count` counts packets by demuxing.
- Frame ``i`` is the ``i``-th frame the decoder outputs in presentation order; an index past the decoded frames
  (an edit list dropped pre-roll frames: 50 packets, 47 frames) gives the last frame. :func:`read_vbench_frames`
  decodes in order with PyAV and does the same.
- Rotation metadata is ignored (decord ignores it).
- decord seeks by keyframe positions in decode order, which on open-GOP video (a keyframe decoded before frames
  shown earlier) lands on later frames: frames 10 and 16 for indices 8 and 14 of a 50-frame H.264 file with
  keyframes shown at 0, 10, 20... :func:`decord_positions` reproduces that rule, so VBench's frames come out.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..processing import VideoDecodeError
from ..processing.video_reading import (
    DEFAULT_DECODE_TIMEOUT,
    DEFAULT_MAX_PIXELS,
    check_frame_pixels,
    decode_errors,
    open_video_file,
    run_with_deadline,
    stop_if_abandoned,
)

DIMENSIONS = ("overall_consistency", "temporal_style")
NUM_FRAMES = 8
IMAGE_SIZE = 224
# VBench's custom-input mode takes these from a folder.
VBENCH_EXTENSIONS = (".mp4", ".gif", ".jpg", ".png")
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def vbench_frame_indices(num_frames: int, vlen: int) -> list[int]:
    """``vbench.utils.get_frame_indices(num_frames, vlen, sample="middle")``: ``num_frames`` equal intervals of
    ``[0, vlen)`` (``np.linspace(...).astype(int)``), the middle of each; with fewer frames than ``num_frames``,
    one per frame and the last repeated."""
    if vlen < 1:
        raise ValueError(f"a video of {vlen} frames has no frame to sample")
    count = min(num_frames, vlen)
    intervals = np.linspace(start=0, stop=vlen, num=count + 1).astype(int)
    indices = [int((intervals[i] + intervals[i + 1] - 1) // 2) for i in range(count)]
    return indices + [indices[-1]] * (num_frames - count)


@dataclass(frozen=True)
class _Packet:
    pts: int | None
    is_keyframe: bool
    is_discard: bool


def _video_packets(path: str, max_pixels: int | None = None) -> list[_Packet]:
    """The first video stream's packets in decode order (demuxed, not decoded); a stream whose frames are above
    ``max_pixels`` is refused from its header."""
    with decode_errors(path, "not a readable media file"), open_video_file(path) as container:
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream in the file")
        stream = container.streams.video[0]
        check_frame_pixels(path, stream, max_pixels)
        packets = []
        for packet in container.demux(stream):
            stop_if_abandoned()
            if packet.size > 0:
                packets.append(_Packet(packet.pts, bool(packet.is_keyframe), bool(packet.is_discard)))
        return packets


def decord_frame_count(path: str | os.PathLike) -> int:
    """decord's ``len(VideoReader(path))``: the number of packets of the first video stream (no decoding)."""
    return len(_video_packets(str(path)))


def decord_positions(packets: Sequence[_Packet], indices: Sequence[int]) -> list[int]:
    """The positions, in the decoder's presentation-order output from the start, of the frames decord's
    ``get_batch(indices)`` returns on a fresh reader.

    decord keys its seeks by the keyframes' positions in decode order: to reach index ``t`` in another keyframe's
    group it seeks to the last keyframe packet ``k <= t`` and skips ``t - k`` frames shown from that keyframe on.
    With closed GOPs that is frame ``t``. With open GOPs (a keyframe decoded before frames shown earlier, which
    the decoder drops after a seek) it lands later; this rule assumes every such leading frame is dropped.
    Past the last frame: the last.
    """
    shown = sorted(p.pts for p in packets if p.pts is not None and not p.is_discard)
    if not shown:
        return [0] * len(indices)
    keys = [(i, p.pts) for i, p in enumerate(packets) if p.is_keyframe and p.pts is not None] or [
        (0, shown[0])
    ]
    base_index, base_rank, current = 0, 0, 0
    positions = []
    for target in indices:
        key_index, key_pts = max(((i, pts) for i, pts in keys if i <= target), default=keys[0])
        if target < current or key_index > current:
            base_index, base_rank = key_index, bisect.bisect_left(shown, key_pts)
        positions.append(min(base_rank + target - base_index, len(shown) - 1))
        current = target
    return positions


def read_vbench_frames(
    path: str | os.PathLike,
    num_frames: int = NUM_FRAMES,
    *,
    timeout: float | None = DEFAULT_DECODE_TIMEOUT,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """The ``(num_frames, 3, H, W)`` uint8 RGB frames VBench's decord reader gives for ``path``.

    ``timeout`` and ``max_pixels`` as :func:`viclip.processing.read_video_clip`'s: the whole read has a deadline,
    and frames above the pixel budget are refused from the stream header."""
    path = str(path)
    return run_with_deadline(path, timeout, lambda: _read_vbench_frames(path, num_frames, max_pixels))[0]


def _read_vbench_frames(path: str, num_frames: int, max_pixels: int | None) -> tuple[np.ndarray]:
    packets = _video_packets(path, max_pixels)
    if not packets:
        raise VideoDecodeError(path, "no video packets in the file")
    positions = decord_positions(packets, vbench_frame_indices(num_frames, len(packets)))
    wanted, last_needed = set(positions), max(positions)
    frames: dict[int, np.ndarray] = {}
    last_position, last_frame = -1, None
    with decode_errors(path, "decoding failed"), open_video_file(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for position, frame in enumerate(container.decode(stream)):
            stop_if_abandoned()
            if position in wanted:
                frames[position] = frame.to_ndarray(format="rgb24")
            last_position, last_frame = position, frame
            if position >= last_needed:
                break
    if last_frame is None:
        raise VideoDecodeError(path, "no frames could be decoded")
    # Fewer frames decoded than the packets promised (an edit list's pre-roll): the last one stands in, as in decord.
    final = frames[last_position] if last_position in frames else last_frame.to_ndarray(format="rgb24")
    return (np.stack([frames.get(i, final) for i in positions]).transpose(0, 3, 1, 2),)


def vbench_resize_crop(frames: Any, size: int = IMAGE_SIZE) -> Any:
    """``clip_transform``'s geometry on ``(T, C, H, W)`` frames (uint8 in, uint8 out, as torchvision): the
    short side to ``size``, bicubic without antialias, then the centre ``size`` x ``size`` crop."""
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    tensor = torch.as_tensor(frames)
    tensor = TF.resize(tensor, size, interpolation=InterpolationMode.BICUBIC, antialias=False)
    return TF.center_crop(tensor, size)


# --- inputs -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PromptedVideo:
    """One video to score and its prompt."""

    path: str
    prompt: str


def prompt_from_filename(path: str | os.PathLike) -> str:
    """VBench's ``get_prompt_from_filename``: the file's stem without a trailing ``-<number>``."""
    return re.sub(r"-\d+$", "", Path(path).stem)


def custom_inputs(
    videos_path: str | os.PathLike, prompt: str | None = None, prompt_file: str | os.PathLike | None = None
) -> list[PromptedVideo]:
    """VBench's custom-input mode: a video file or a folder (its ``.mp4 .gif .jpg .png`` files, sorted); the
    prompt is ``prompt`` (one video), the file's entry in ``prompt_file`` (JSON ``{file name: prompt}``), or the
    file name (``a cat runs-0.mp4`` -> ``a cat runs``)."""
    root = Path(videos_path)
    if not root.exists():
        raise FileNotFoundError(f"--videos-path {str(root)!r} does not exist")
    if prompt is not None and prompt_file is not None:
        raise ValueError("give --prompt or --prompt-file, not both")
    if root.is_dir():
        paths = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in VBENCH_EXTENSIONS)
        if not paths:
            raise FileNotFoundError(f"no videos ({' '.join(VBENCH_EXTENSIONS)}) in {str(root)!r}")
    else:
        paths = [root]
    if prompt is not None:
        if root.is_dir():
            raise ValueError(
                "--prompt names the prompt of one video: give --videos-path a file, or --prompt-file"
            )
        return [PromptedVideo(str(root), _check_prompt(prompt, "--prompt"))]
    if prompt_file is None:
        return [PromptedVideo(str(p), _check_prompt(prompt_from_filename(p), str(p))) for p in paths]
    prompts = _read_prompt_file(Path(prompt_file))
    base = root if root.is_dir() else root.parent
    out = []
    for name, text in prompts.items():
        video = Path(name) if Path(name).is_absolute() else base / name
        if not video.is_file():
            raise FileNotFoundError(f"{prompt_file}: names {name!r}, which is not a file under {str(base)!r}")
        out.append(PromptedVideo(str(video), _check_prompt(text, f"{prompt_file}: {name!r}")))
    return out


def full_info_inputs(
    full_info: str | os.PathLike, videos_path: str | os.PathLike, dimension: str
) -> list[PromptedVideo]:
    """VBench's standard mode: the full-info JSON's entries whose ``dimension`` lists ``dimension``, each prompt's
    videos ``{prompt}-{i}.mp4`` under ``videos_path`` (those present; an entry's ``video_list`` if it has one)."""
    entries = _read_json(Path(full_info))
    if not isinstance(entries, list):
        raise ValueError(f"{full_info}: expected a JSON list of prompt entries")
    root = Path(videos_path)
    if not root.is_dir():
        raise FileNotFoundError(f"--videos-path {str(root)!r} is not a folder")
    out = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or "prompt_en" not in entry or "dimension" not in entry:
            raise ValueError(f"{full_info}: entry {number} has no 'prompt_en' and 'dimension'")
        if dimension not in entry["dimension"]:
            continue
        prompt = _check_prompt(entry["prompt_en"], f"{full_info}: entry {number}")
        listed = entry.get("video_list")
        if listed is not None:
            names = listed if isinstance(listed, list) else [listed]
            videos = [Path(n) if Path(n).is_absolute() else root / n for n in names]
        else:
            pattern = re.compile(re.escape(prompt) + r"-\d+$")
            videos = sorted(p for p in root.iterdir() if p.suffix == ".mp4" and pattern.match(p.stem))
        out += [PromptedVideo(str(v), prompt) for v in videos]
    if not out:
        raise ValueError(f"{full_info}: no videos of dimension {dimension!r} found under {str(root)!r}")
    return out


def _check_prompt(text: Any, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: empty prompt")
    return text


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None


def _read_prompt_file(path: Path) -> dict[str, str]:
    prompts = _read_json(path)
    if not isinstance(prompts, dict) or not prompts:
        raise ValueError(f"{path}: expected a JSON object {{video file name: prompt}}")
    return prompts


# --- results ------------------------------------------------------------------------------------------------------
def vbench_results(dimension: str, scores: Sequence[tuple[str, float]]) -> dict[str, Any]:
    """``{dimension: [mean, [{"video_path", "video_results"}, ...]]}``, VBench's ``*_eval_results.json``."""
    values = [float(s) for _, s in scores]
    mean = float(np.mean(values)) if values else float("nan")
    return {dimension: [mean, [{"video_path": p, "video_results": float(s)} for p, s in scores]]}


def write_vbench_results(
    output_path: str | os.PathLike, name: str, results: dict[str, Any], indent: int = 4
) -> Path:
    """Write ``{output_path}/{name}_eval_results.json`` atomically (a temporary file renamed into place)."""
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}_eval_results.json"
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(json.dumps(results, indent=indent), encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def check_dimension(dimension: str) -> str:
    if dimension not in DIMENSIONS:
        raise ValueError(
            f"VBench computes {', '.join(DIMENSIONS)} with ViCLIP, not {dimension!r} (its other dimensions use "
            "other models)"
        )
    return dimension


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
