"""VBench's frames with PyAV: decord's count and frame rule, its transform, on the codecs where they can differ."""

import numpy as np
import pytest
import torch
from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Resize

from viclip.processing import VideoDecodeError
from viclip.scoring.vbench import (
    _Packet,
    decord_frame_count,
    decord_positions,
    read_vbench_frames,
    vbench_frame_indices,
    vbench_resize_crop,
)

from .conftest import decode_index

# vbench.utils.get_frame_indices(8, vlen, sample="middle"), printed by VBench 0.1.5 itself.
VBENCH_INDICES = {
    1: [0, 0, 0, 0, 0, 0, 0, 0],
    5: [0, 1, 2, 3, 4, 4, 4, 4],
    8: [0, 1, 2, 3, 4, 5, 6, 7],
    9: [0, 1, 2, 3, 4, 5, 6, 7],
    16: [0, 2, 4, 6, 8, 10, 12, 14],
    50: [2, 8, 14, 21, 27, 33, 39, 46],
    97: [5, 17, 29, 41, 53, 65, 77, 90],
    121: [7, 22, 37, 52, 67, 82, 97, 112],
}


@pytest.mark.parametrize("vlen", sorted(VBENCH_INDICES))
def test_frame_indices_are_vbench_middle_rule(vlen):
    assert vbench_frame_indices(8, vlen) == VBENCH_INDICES[vlen]


def test_frame_count_is_decords_packet_count_even_without_a_header_count(codec_videos):
    import av

    with av.open(str(codec_videos["webm"])) as container:
        assert container.streams.video[0].frames == 0  # WebM states no frame count
    assert decord_frame_count(codec_videos["webm"]) == 30
    assert decord_frame_count(codec_videos["bframes"]) == 50


def test_b_frames_give_the_frames_of_the_vbench_indices(codec_videos):
    frames = read_vbench_frames(codec_videos["bframes"])
    assert frames.shape == (8, 3, 96, 128) and frames.dtype == np.uint8
    assert [decode_index(f) for f in frames] == VBENCH_INDICES[50]


def test_a_video_shorter_than_eight_frames_repeats_its_last(codec_videos):
    assert [decode_index(f) for f in read_vbench_frames(codec_videos["short"])] == [0, 1, 2, 3, 4, 4, 4, 4]


def test_an_edit_list_that_trims_frames_keeps_decords_count_and_frames(codec_videos):
    # 50 packets, 3 of them before the edit list's start: decord counts 50 and, past the 47 decoded frames,
    # repeats the last; its seeks go by keyframe positions in decode order. decord 0.6.0 returned these frames.
    import av

    path = codec_videos["edit_list"]
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 47
    assert decord_frame_count(path) == 50
    shown = [decode_index(f) for f in read_vbench_frames(path)]
    assert shown == [5, 8, 14, 21, 27, 33, 39, 46]


def test_open_gop_seeks_land_where_decords_do():
    # Decode order of a 50-frame open-GOP H.264 file (keyframes shown at 0, 10, 20, ...; the one shown at 10 is
    # decoded 9th, before the frames shown at 8 and 9): decord 0.6.0's get_batch returned frames 10 and 16 for
    # indices 8 and 14.
    shown_order = [0, 1, 2, 4, 3, 5, 6, 7, 10, 8, 9, 12, 11, 14, 13, 16, 15, 19, 17, 18]
    shown_order += list(range(20, 50))
    keys = {0, 10, 20, 30, 40}
    packets = [_Packet(512 * s, s in keys, False) for s in shown_order]
    assert decord_positions(packets, VBENCH_INDICES[50]) == [2, 10, 16, 21, 27, 33, 39, 46]


def test_closed_gops_give_the_indices_themselves():
    packets = [_Packet(i, i % 12 == 0, False) for i in range(50)]
    assert decord_positions(packets, VBENCH_INDICES[50]) == VBENCH_INDICES[50]


def test_resize_and_crop_are_vbench_clip_transform_geometry():
    frames = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (8, 3, 320, 512), dtype=np.uint8))
    vbench = Compose([Resize(224, interpolation=InterpolationMode.BICUBIC, antialias=False), CenterCrop(224)])
    ours = vbench_resize_crop(frames)
    assert ours.dtype == torch.uint8 and ours.shape == (8, 3, 224, 224)
    assert torch.equal(ours, vbench(frames))


def test_a_file_that_is_not_a_video_is_named(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VideoDecodeError, match=r"bad\.mp4"):
        read_vbench_frames(bad)
    with pytest.raises(VideoDecodeError, match="file not found"):
        read_vbench_frames(tmp_path / "missing.mp4")
