"""Reading ViCLIP checkpoints in every layout found in the wild, without running pickled code or copying tensors.

Layouts: the releases' ``{'model': state_dict}``, a bare state dict, ``{'state_dict': ...}`` (and a few other
wrapper names), keys with a DataParallel ``module.`` prefix, and the ``model.safetensors`` (possibly sharded with an
index) of the third-party ``-hf`` repos. Pickles are read with ``torch.load(weights_only=True, mmap=True)`` and
safetensors files are memory-mapped, so tensors stay on disk until they are used.
"""

from __future__ import annotations

import json
import mmap
import pickle
import re
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import ConversionError, UnsafeCheckpointError

_WRAPPER_KEYS = ("model", "state_dict", "module", "model_state_dict", "model_state")
_PREFIXES = ("module.", "model.")
_SAFETENSORS_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


@dataclass
class LoadedCheckpoint:
    """An original-layout state dict (``vision_encoder.*``, ``text_encoder.*``, ``temp``) and where it came from."""

    state_dict: dict[str, torch.Tensor]
    path: Path
    layout: str  # human-readable, e.g. "{'model': state_dict} (torch pickle)"

    @property
    def num_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.state_dict.values())


def load_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Loads any supported checkpoint file (or ``-hf`` folder) into an original-layout state dict.

    Raises:
        ConversionError: the file is missing, truncated, or holds no recognisable ViCLIP state dict.
        UnsafeCheckpointError: the pickle would run code or build objects other than tensors; nothing is executed.
    """
    path = Path(path)
    if path.is_dir():
        return _load_safetensors_folder(path)
    if not path.is_file():
        raise ConversionError(f"checkpoint {path} does not exist")
    if _is_safetensors(path):
        state_dict, layout = _read_safetensors(path), "model.safetensors (-hf layout)"
    else:
        state_dict, layout = _unwrap(_torch_load(path), path)
    return LoadedCheckpoint(_strip_prefixes(state_dict), path, layout)


def _check_format(path: Path) -> None:
    """A torch checkpoint is a zip archive (torch >= 1.6) or a pickle (older torch); anything else is named as such."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":  # zip local header / pickle protocol >= 2
        return
    if not head:
        raise ConversionError(f"checkpoint {path} is empty")
    try:
        head.decode("utf-8")
        kind = "a text file"
    except UnicodeDecodeError:
        kind = "an unknown binary file"
    raise ConversionError(
        f"{path} is {kind}, not a checkpoint (neither a torch zip archive, a pickle nor safetensors)"
    )


def _torch_load(path: Path) -> object:
    _check_format(path)
    try:
        # mmap needs the zip format of torch >= 1.6 (all releases); the legacy format is read without it.
        mmap_ok = zipfile.is_zipfile(path)
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap_ok)
    except pickle.UnpicklingError as error:
        detail = str(error).split("\n")[0]
        if "Weights only load failed" in str(error):
            detail = _first_unsupported_global(str(error))
            raise UnsafeCheckpointError(
                f"refusing to load {path}: it is a pickle that carries code or non-tensor objects ({detail}); "
                "it was not executed. Re-save the state dict with torch.save(state_dict) from a trusted source"
            ) from None
        raise ConversionError(f"cannot read checkpoint {path}: {detail}") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        detail = str(error).strip().split("\n")[0].split(". ")[0] or type(error).__name__
        raise ConversionError(
            f"cannot read checkpoint {path} (truncated or not a torch checkpoint?): {detail}"
        ) from None


def _first_unsupported_global(message: str) -> str:
    match = re.search(r"Unsupported global: GLOBAL (\S+)", message)
    if match:
        return f"it references {match.group(1).rstrip('.')}"
    match = re.search(r"(Unsupported operand[^.]*|Unsupported class[^.]*)", message)
    return match.group(1) if match else "unsupported pickle content"


def _unwrap(obj: object, path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """Finds the state dict inside what torch.load returned."""
    if not isinstance(obj, Mapping):
        raise ConversionError(f"checkpoint {path} holds a {type(obj).__name__}, not a state dict")
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj), "bare state dict (torch pickle)"
    for key in _WRAPPER_KEYS:
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
            return dict(inner), f"{{'{key}': state_dict}} (torch pickle)"
    keys = ", ".join(repr(k) for k in list(obj)[:10])
    raise ConversionError(
        f"checkpoint {path} holds no state dict: expected tensors, or one of {list(_WRAPPER_KEYS)} mapping to tensors; "
        f"top-level keys: {keys or '(none)'}"
    )


def _strip_prefixes(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Removes DataParallel/wrapper prefixes shared by every key (``module.``, ``model.``), repeatedly."""
    changed = True
    while changed and state_dict:
        changed = False
        for prefix in _PREFIXES:
            if all(key.startswith(prefix) for key in state_dict):
                state_dict = {key[len(prefix) :]: value for key, value in state_dict.items()}
                changed = True
    return state_dict


def _is_safetensors(path: Path) -> bool:
    if path.suffix == ".safetensors":
        return True
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and not zipfile.is_zipfile(path)


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Memory-maps a safetensors file: tensors share the (copy-on-write) mapping, nothing is read until used."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        try:
            (header_len,) = struct.unpack("<Q", f.read(8))
            if header_len > size - 8:
                raise ValueError(f"header of {header_len} bytes in a file of {size} bytes")
            header = json.loads(f.read(header_len))
        except (struct.error, ValueError, UnicodeDecodeError) as error:
            raise ConversionError(
                f"cannot read safetensors file {path} (truncated or corrupt): {error}"
            ) from None
        data_start = 8 + header_len
        header.pop("__metadata__", None)
        ends = [info["data_offsets"][1] for info in header.values()]
        if data_start + max(ends, default=0) > size:
            raise ConversionError(
                f"safetensors file {path} is truncated: its header needs {data_start + max(ends)} bytes, "
                f"the file has {size}"
            )
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) if size else b""
    tensors = {}
    for name, info in header.items():
        dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ConversionError(
                f"safetensors file {path}: tensor {name} has unsupported dtype {info['dtype']}"
            )
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        numel = end - begin
        if numel == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        itemsize = torch.empty((), dtype=dtype).element_size()
        tensors[name] = torch.frombuffer(
            buffer, dtype=dtype, count=numel // itemsize, offset=data_start + begin
        ).reshape(shape)
    return tensors


def _load_safetensors_folder(folder: Path) -> LoadedCheckpoint:
    index = folder / "model.safetensors.index.json"
    single = folder / "model.safetensors"
    if single.is_file():
        return LoadedCheckpoint(
            _strip_prefixes(_read_safetensors(single)), single, "model.safetensors (-hf layout)"
        )
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        state_dict: dict[str, torch.Tensor] = {}
        for shard in sorted(set(weight_map.values())):
            state_dict.update(_read_safetensors(folder / shard))
        return LoadedCheckpoint(_strip_prefixes(state_dict), index, "sharded model.safetensors (-hf layout)")
    raise ConversionError(f"folder {folder} holds neither model.safetensors nor model.safetensors.index.json")
