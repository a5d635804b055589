"""Multi-view testing: temporal clips interleave one decode, spatial crops tile the long side."""

from __future__ import annotations

import numpy as np
import pytest

from viclip.classification import multiview_frames, multiview_pixel_values, spatial_crops
from viclip.processing import ViCLIPVideoProcessor, read_video_clip
from viclip_testing import ASSETS

EXAMPLE_VIDEO = str(ASSETS / "example1.mp4")


def test_one_crop_is_the_whole_frame():
    frames = np.arange(2 * 4 * 6 * 3, dtype=np.uint8).reshape(2, 4, 6, 3)
    (view,) = spatial_crops(frames, 1)
    assert view is frames


def test_three_crops_tile_the_long_side_start_centre_end():
    wide = np.arange(2 * 4 * 10 * 3).reshape(2, 4, 10, 3)
    crops = spatial_crops(wide, 3)
    assert [c.shape for c in crops] == [(2, 4, 4, 3)] * 3
    for crop, offset in zip(crops, (0, 3, 6)):
        np.testing.assert_array_equal(crop, wide[:, :, offset : offset + 4])
    tall = wide.transpose(0, 2, 1, 3)
    np.testing.assert_array_equal(spatial_crops(tall, 3)[2], tall[:, 6:10])


def test_temporal_clips_take_interleaved_frames_of_one_decode():
    frames, _ = read_video_clip(EXAMPLE_VIDEO, 0.0, 2.0, num_frames=8, sampling="middle")
    views = multiview_frames(EXAMPLE_VIDEO, 0.0, 2.0, num_frames=4, num_clips=2, num_crops=1)
    assert len(views) == 2
    np.testing.assert_array_equal(views[0], frames[0::2])
    np.testing.assert_array_equal(views[1], frames[1::2])


def test_multiview_pixel_values_shape_is_views_frames_chw():
    processor = ViCLIPVideoProcessor.for_model(image_size=32, num_frames=4)
    pixels = multiview_pixel_values(processor, EXAMPLE_VIDEO, None, None, num_clips=2, num_crops=3)
    assert pixels.shape == (6, 4, 3, 32, 32)
    assert not np.allclose(pixels[0].numpy(), pixels[2].numpy())  # left and right crops differ


def test_bad_view_counts_are_clear_errors():
    with pytest.raises(ValueError, match="num_crops must be >= 1"):
        spatial_crops(np.zeros((1, 4, 4, 3)), 0)
    with pytest.raises(ValueError, match="num_clips must be >= 1"):
        multiview_frames(EXAMPLE_VIDEO, None, None, 4, num_clips=0)
