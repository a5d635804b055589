"""Find a benchmark's video files under a root folder, whatever the layout (flat, per class, per split)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from ...processing.video_clip import VIDEO_EXTENSIONS


def normalise_name(name: str) -> str:
    """A class or folder name compared loosely: lower case, ``_`` as space, quotes dropped, spaces collapsed."""
    name = name.replace("_", " ").replace('"', "").replace("'", "").lower()
    return " ".join(name.split())


class VideoFileIndex:
    """Every video file under ``root`` (recursively, links followed), looked up by file stem.

    A stem found in several folders is resolved by the folder named like the expected class, else the first
    path in sorted order.
    """

    def __init__(self, root: str | os.PathLike, extensions: tuple[str, ...] = VIDEO_EXTENSIONS):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"video folder {str(self.root)!r} does not exist or is not a folder")
        wanted = {e.lower() for e in extensions}
        by_stem: dict[str, list[Path]] = defaultdict(list)
        for folder, _, files in os.walk(self.root, followlinks=True):
            for name in files:
                stem, extension = os.path.splitext(name)
                if extension.lower() in wanted and not name.startswith("."):
                    by_stem[stem].append(Path(folder) / name)
        self._by_stem = {stem: sorted(paths) for stem, paths in by_stem.items()}

    def __len__(self) -> int:
        return sum(len(paths) for paths in self._by_stem.values())

    def find(self, stem: str, folder_hint: str | None = None) -> Path | None:
        """The file named ``stem`` + a video extension; ``folder_hint`` picks among several (e.g. the class)."""
        paths = self._by_stem.get(stem)
        if not paths:
            return None
        if folder_hint is not None and len(paths) > 1:
            hint = normalise_name(folder_hint)
            for path in paths:
                if normalise_name(path.parent.name) == hint:
                    return path
        return paths[0]
