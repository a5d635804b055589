"""Writing safetensors tensor by tensor, so a conversion never holds a second copy of the weights in memory.

`safetensors.torch.save_file` serialises every tensor to bytes before writing, which doubles the peak memory of a
1.7 GB checkpoint. This writer lays out the header from shapes alone, then streams each tensor (cast to the target
dtype one at a time) straight to the file. Files follow the safetensors format and the transformers sharding
convention (``model-00001-of-00002.safetensors`` + ``model.safetensors.index.json``).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .errors import ConversionError

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
_DTYPE_NAMES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
}


_MADV_PAGEOUT = 21  # Linux >= 5.4


def _load_madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


_MADVISE = _load_madvise()
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def release_resident_pages(tensor: torch.Tensor) -> None:
    """Asks the kernel to reclaim the pages under ``tensor`` once it has been written (best effort, Linux only).

    Pages of a memory-mapped checkpoint stay resident until the mapping closes, so streaming a 1.7 GB file would
    end with all of it in the RSS. MADV_PAGEOUT drops clean file-backed pages (they are re-read if touched again)
    and never changes contents: anonymous memory is swapped out or, without swap, left alone.
    """
    if _MADVISE is None or tensor.device.type != "cpu" or tensor.numel() == 0:
        return
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    first, last = -(-start // _PAGE) * _PAGE, end // _PAGE * _PAGE  # whole pages inside the tensor only
    if last > first:
        _MADVISE(first, last - first, _MADV_PAGEOUT)


def parse_size(size: int | str) -> int:
    """Bytes in ``"2GB"`` / ``"500MB"`` / ``"1GiB"`` / an int (decimal units, as transformers' ``max_shard_size``)."""
    if isinstance(size, int):
        value = size
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B|B)?\s*", size.upper())
        if match is None:
            raise ConversionError(f"invalid size {size!r}; use e.g. 2GB, 500MB or a number of bytes")
        value = int(float(match.group(1)) * _UNITS[match.group(2) or "B"])
    if value <= 0:
        raise ConversionError(f"size must be positive, got {size!r}")
    return value


def _target(tensor: torch.Tensor, dtype: torch.dtype) -> torch.dtype:
    return dtype if tensor.is_floating_point() else tensor.dtype


def _nbytes(tensor: torch.Tensor, dtype: torch.dtype) -> int:
    return tensor.numel() * torch.empty((), dtype=_target(tensor, dtype)).element_size()


def plan_shards(
    tensors: Mapping[str, torch.Tensor], max_shard_size: int, dtype: torch.dtype
) -> list[list[str]]:
    """Groups keys, in order, into shards of at most ``max_shard_size`` bytes (a larger tensor gets its own)."""
    shards: list[list[str]] = [[]]
    current = 0
    for name, tensor in tensors.items():
        size = _nbytes(tensor, dtype)
        if shards[-1] and current + size > max_shard_size:
            shards.append([])
            current = 0
        shards[-1].append(name)
        current += size
    return shards


def write_safetensors_file(
    path: Path, tensors: Mapping[str, torch.Tensor], dtype: torch.dtype, progress: tqdm | None = None
) -> None:
    """One safetensors file; floating tensors are cast to ``dtype`` one at a time while writing."""
    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, tensor in tensors.items():
        target = _target(tensor, dtype)
        if target not in _DTYPE_NAMES:
            raise ConversionError(f"tensor {name} has dtype {target}, which safetensors cannot store")
        size = _nbytes(tensor, dtype)
        header[name] = {
            "dtype": _DTYPE_NAMES[target],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)  # the data must start 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for name, tensor in tensors.items():
            data = tensor.detach().to(device="cpu", dtype=_target(tensor, dtype)).contiguous()
            _check_finite(name, tensor, data)
            if data.numel():
                f.write(memoryview(data.reshape(-1).view(torch.uint8).numpy()))
            if progress is not None:
                progress.update(data.numel() * data.element_size())
            del data
            if tensor.is_contiguous():
                release_resident_pages(tensor)


def _check_finite(name: str, tensor: torch.Tensor, stored: torch.Tensor) -> None:
    """Refuses NaN or infinity, and values the stored dtype cannot hold: a model made from them only gives NaN.

    Checked while writing, on the tensor in hand, so a memory-mapped checkpoint is read once.
    """
    if not stored.is_floating_point() or torch.isfinite(stored).all():
        return
    count = int((~torch.isfinite(tensor)).sum())
    if count:
        raise ConversionError(
            f"weight {name} holds {count} non-finite value(s) (NaN or infinity); refusing to convert"
        )
    raise ConversionError(
        f"weight {name} has values beyond the range of {str(stored.dtype).removeprefix('torch.')} (largest magnitude "
        f"{tensor.abs().max().item():.3g}); store it as float32 or bfloat16"
    )


def write_model_weights(
    folder: Path,
    tensors: Mapping[str, torch.Tensor],
    dtype: torch.dtype,
    max_shard_size: int | str,
    progress: bool = True,
) -> list[str]:
    """Writes ``model.safetensors``, or shards and their index when the weights exceed ``max_shard_size``.

    Returns the names of the files written.
    """
    limit = parse_size(max_shard_size)
    shards = plan_shards(tensors, limit, dtype)
    total = sum(_nbytes(t, dtype) for t in tensors.values())
    names = (
        [SAFE_WEIGHTS_NAME]
        if len(shards) == 1
        else [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    )
    with tqdm(
        total=total, unit="B", unit_scale=True, desc="writing safetensors", disable=not progress
    ) as bar:
        for name, keys in zip(names, shards):
            write_safetensors_file(folder / name, {key: tensors[key] for key in keys}, dtype, bar)
    if len(shards) == 1:
        return names
    index = {
        "metadata": {"total_size": total},
        "weight_map": {key: name for name, keys in zip(names, shards) for key in keys},
    }
    (folder / SAFE_WEIGHTS_INDEX_NAME).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return [*names, SAFE_WEIGHTS_INDEX_NAME]
