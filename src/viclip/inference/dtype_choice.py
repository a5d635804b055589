"""Which compute dtype a job runs in by default (``dtype="auto"``): bfloat16 where the hardware computes it
natively, float32 elsewhere.

bf16 weights pay off only where matrix products run in bf16 natively: a GPU with bf16 (compute capability 8.0
and later), or a CPU with AMX tiles or AVX512-BF16 (oneDNN's bf16 kernels). On a CPU without them (AVX2 only,
most laptops and older servers) bf16 is emulated: B/16 ran 6x slower than float32 on an AVX2 AMD EPYC
(docs/cpu.md). The decision is read from what the CPU reports (torch's guarded private helpers, then
``/proc/cpuinfo``), never from a micro-benchmark at start-up.

:func:`choose_dtype` is pure given the :class:`CpuKind` and says why it chose; :func:`cpu_kind` reads this
machine once.
"""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from .engine import canonical_dtype

_BF16_FLAGS = ("amx_tile", "avx512_bf16")


@dataclass(frozen=True)
class CpuKind:
    """What this CPU computes natively: torch's capability (``"AVX2"``, ``"AVX512"``), the bf16 features among
    ``amx_tile``/``avx512_bf16``, and the model name."""

    capability: str
    bf16_features: tuple[str, ...]
    model_name: str

    @property
    def native_bf16(self) -> bool:
        return bool(self.bf16_features)

    def describe(self) -> str:
        """One line for benchmark headers and summaries: ``AMD EPYC (torch capability AVX2, no native bf16)``."""
        bf16 = "native bf16: " + "+".join(self.bf16_features) if self.native_bf16 else "no native bf16"
        return f"{self.model_name} (torch capability {self.capability}, {bf16})"


def _cpuinfo() -> tuple[set[str], str]:
    """The flags and model name of the first CPU in ``/proc/cpuinfo`` (empty where there is none)."""
    flags: set[str] = set()
    name = ""
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return flags, name
    for line in path.read_text(errors="replace").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags" and not flags:
            flags = set(value.split())
        elif key == "model name" and not name:
            name = value.strip()
        if flags and name:
            break
    return flags, name


def _torch_helper(name: str) -> bool | None:
    """A private ``torch.cpu._is_*_supported`` answer, or ``None`` where this torch has no such helper."""
    helper = getattr(torch.cpu, name, None)
    if helper is None:
        return None
    try:
        return bool(helper())
    except Exception:  # private API: a changed signature means "don't know"
        return None


@functools.cache
def cpu_kind() -> CpuKind:
    """This machine's :class:`CpuKind` (read once per process)."""
    flags, name = _cpuinfo()
    features = []
    for flag, helper in (
        ("amx_tile", "_is_amx_tile_supported"),
        ("avx512_bf16", "_is_avx512_bf16_supported"),
    ):
        answer = _torch_helper(helper)
        if answer is None:
            answer = flag in flags
        if answer:
            features.append(flag)
    return CpuKind(
        capability=torch.backends.cpu.get_cpu_capability(),
        bf16_features=tuple(features),
        model_name=name or platform.processor() or "unknown CPU",
    )


@functools.cache
def cpu_has_vnni() -> bool:
    """Whether this CPU has VNNI (``avx512_vnni`` or ``avx_vnni``): int8 dot products of unsigned by signed bytes
    summed in 32 bits, where older AVX2/AVX-512 code sums pairs in 16 bits and can saturate."""
    answer = _torch_helper("_is_vnni_supported")
    if answer is None:
        answer = bool(_cpuinfo()[0] & {"avx512_vnni", "avx_vnni"})
    return answer


@dataclass(frozen=True)
class DtypeChoice:
    """The compute dtype of a job and why."""

    dtype: str
    reason: str

    def summary(self) -> str:
        return f"dtype: {self.dtype} ({self.reason})"


def choose_dtype(
    requested: str | None,
    device: str | torch.device | None,
    *,
    cpu: CpuKind | None = None,
    gpu_bf16: bool | None = None,
    optimize: str | None = None,
) -> DtypeChoice:
    """The dtype of a job on ``device``: ``requested`` when it names one, else (``None``/``"auto"``) bfloat16
    on a GPU with bf16 or a CPU with native bf16 (AMX, AVX512-BF16), float32 otherwise.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...; ``None``: CUDA when present, else the CPU.
        cpu: the CPU to decide for (default: this machine's, :func:`cpu_kind`).
        gpu_bf16: whether the GPU computes bf16 (default: ``torch.cuda.is_bf16_supported()``).
        optimize: the job's ``optimize``; ``"openvino"`` and ``"onnx-int8"`` take float32 (and compute in
            float32 or int8), so auto gives float32.
    """
    if requested not in (None, "auto"):
        name = canonical_dtype(requested)
        return DtypeChoice(name, "--dtype " + name)
    if optimize == "openvino":
        return DtypeChoice("float32", "auto: --optimize openvino computes in float32")
    if optimize == "onnx-int8":
        return DtypeChoice(
            "float32", "auto: --optimize onnx-int8 runs the video tower in int8, the rest in float32"
        )
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    kind = torch.device(device).type
    if kind == "cuda":
        if gpu_bf16 is None:
            gpu_bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        if gpu_bf16:
            return DtypeChoice("bfloat16", "auto: the GPU computes bf16 natively")
        return DtypeChoice("float32", "auto: the GPU has no native bf16")
    if kind != "cpu":
        return DtypeChoice("float32", f"auto: float32 on {kind}")
    cpu = cpu or cpu_kind()
    if cpu.native_bf16:
        features = "+".join(cpu.bf16_features)
        return DtypeChoice("bfloat16", f"auto: the CPU computes bf16 natively ({features})")
    return DtypeChoice(
        "float32", f"auto: the CPU ({cpu.capability}) has no native bf16, where bf16 runs emulated and slower"
    )
