"""VBench's 8 frames as ``viclip score --protocol vbench`` reads them (PyAV) against decord 0.6.0 itself, on open-GOP
H.264 files, where the two can differ: frames agreeing, per file and in all.

    python benchmarks/check_open_gop_decord.py   # needs decord (not a dependency of viclip)

Each file is x264 ``open-gop=1`` (keyint 7, 9, 10, 12, 16; 50 and 97 frames; 2 and 3 B-frames) whose frame ``i``
shows ``i`` in binary, so a frame is identified by its content. Also prints what a PyAV reader that seeks the way
decord does (to the keyframe before the index in decode order, then skipping frames) returns: it shows whether a
difference comes from the rule or from the decoder.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from scoring.conftest import encode  # the scoring tests' index videos
from viclip.scoring.vbench import _video_packets, read_vbench_frames, vbench_frame_indices
from viclip_testing import decode_index


def decord_frames(path: Path) -> list[int]:
    import decord

    reader = decord.VideoReader(str(path), num_threads=1)
    return [decode_index(f) for f in reader.get_batch(vbench_frame_indices(8, len(reader))).asnumpy()]


def seeking_frames(path: Path) -> list[int]:
    """decord's access pattern with PyAV: seek to the keyframe packet at or before each index, skip the rest."""
    packets = _video_packets(str(path))
    keys = [i for i, p in enumerate(packets) if p.is_keyframe] or [0]
    shown, frames, current, group = [], None, -1, None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for target in vbench_frame_indices(8, len(packets)):
            key = max((i for i in keys if i <= target), default=keys[0])
            if frames is None or target < current or key != group:
                container.seek(packets[key].pts, backward=True, any_frame=False, stream=stream)
                frames, group, current = container.decode(stream), key, key - 1
            frame = None
            while current < target and (frame := next(frames, None)) is not None:
                current += 1
            shown.append(decode_index(frame.to_ndarray(format="rgb24")) if frame is not None else -1)
    return shown


def main() -> None:
    av.logging.set_level(av.logging.PANIC)  # the seeks' "missing reference" notices
    agree = agree_seeking = total = 0
    with tempfile.TemporaryDirectory() as folder:
        for keyint, num_frames, bframes in itertools.product([7, 9, 10, 12, 16], [50, 97], [2, 3]):
            name, params = (
                f"k{keyint}_n{num_frames}_b{bframes}.mp4",
                f"bframes={bframes}:keyint={keyint}:open-gop=1",
            )
            path = encode(Path(folder) / name, num_frames, params=params)
            theirs = decord_frames(path)
            ours = [decode_index(f) for f in read_vbench_frames(path)]
            seeking = seeking_frames(path)
            agree += sum(a == b for a, b in zip(ours, theirs))
            agree_seeking += sum(a == b for a, b in zip(seeking, theirs))
            total += len(theirs)
            same = "same" if ours == theirs else f"ours {ours}"
            print(
                f"{path.name}: decord {theirs}; {same}; seeking reader {'= ours' if seeking == ours else seeking}"
            )
    print(f"frames equal to decord's: ours {agree} of {total}, the seeking reader {agree_seeking} of {total}")


if __name__ == "__main__":
    main()
