"""Training-example transforms beyond `viclip.data.ViCLIPExampleTransform`."""

from __future__ import annotations

from ..data import ViCLIPExampleTransform


class RandomFramesTransform(ViCLIPExampleTransform):
    """Training frame sampling without crop/flip: a flip would turn "moves to the left" into a lie."""

    train_augmentation = False
