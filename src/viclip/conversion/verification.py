"""Checks that a converted folder is usable: its remote code is self-contained, and the model it holds gives the
outputs of the converted in-memory model, through our classes and through ``trust_remote_code`` in a separate Python
process where ``import viclip`` fails."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..hub.folder import HubFolderError, check_remote_code_imports
from ..modeling.configuration_viclip import ViCLIPConfig
from ..modeling.modeling_viclip import ViCLIPModel
from .errors import VerificationError

OUTPUT_KEYS = ("logits_per_video", "video_embeds", "text_embeds")
# Real captions for the text check: the folder's own tokenizer must give ids that the model's token table holds.
VERIFY_TEXTS = (
    "a dog plays in the snow",
    "a man is cooking pasta in a small kitchen",
    "fireworks over a city",
)


@dataclass
class VerificationReport:
    """Largest absolute differences to the in-memory model, per path and output."""

    local: dict[str, float] = field(default_factory=dict)
    remote_code: dict[str, float] = field(default_factory=dict)
    third_party_imports: list[str] = field(default_factory=list)
    # the saved tokenizer on VERIFY_TEXTS through the text tower: max |diff| of the text embeddings, or why not run
    real_text: float | str = "skipped"

    def summary(self) -> str:
        def fmt(diffs: dict[str, float]) -> str:
            return ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()) or "skipped"

        text = self.real_text if isinstance(self.real_text, str) else f"text_embeds {self.real_text:.1e}"
        return (
            f"max |diff| with viclip: {fmt(self.local)}; with trust_remote_code: {fmt(self.remote_code)}; "
            f"real text through the saved tokenizer: {text}"
        )


@contextmanager
def quiet_loading():
    """Hides transformers' "Loading weights" progress bars (they would break one-line CLI errors)."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def fixed_inputs(config: ViCLIPConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """A deterministic input for the converted model: 2 random videos and 3 token sequences of different lengths."""
    generator = torch.Generator().manual_seed(seed)
    vision, text = config.vision_config, config.text_config
    pixel_values = torch.randn(
        (2, vision.num_frames, vision.num_channels, vision.image_size, vision.image_size), generator=generator
    )
    context = text.max_position_embeddings
    special = [i for i in (text.bos_token_id, text.eos_token_id, text.pad_token_id) if i is not None]
    high = max(2, min([text.vocab_size, *special]))  # ordinary ids stay below the special ones (EOT pooling)
    input_ids = torch.randint(0, high, (3, context), generator=generator)
    attention_mask = torch.zeros_like(input_ids)
    eos = text.eos_token_id if text.eos_token_id is not None else text.vocab_size - 1
    pad = text.pad_token_id if text.pad_token_id is not None else eos
    for row, length in enumerate((context, context // 2, 3)):
        if text.bos_token_id is not None:
            input_ids[row, 0] = text.bos_token_id
        input_ids[row, length - 1] = eos
        input_ids[row, length:] = pad
        attention_mask[row, :length] = 1
    return {"pixel_values_videos": pixel_values, "input_ids": input_ids, "attention_mask": attention_mask}


def model_outputs(model: torch.nn.Module, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The compared outputs of a ViCLIP model (in float32)."""
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        out = model(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            pixel_values_videos=inputs["pixel_values_videos"].to(dtype),
        )
    return {key: getattr(out, key).float() for key in OUTPUT_KEYS}


def in_memory_model(
    state_dict: Mapping[str, torch.Tensor], config: ViCLIPConfig, dtype: torch.dtype
) -> ViCLIPModel:
    """`ViCLIPModel` holding the converted tensors themselves (no copy when already in ``dtype``)."""
    with torch.device("meta"):
        model = ViCLIPModel(config)
    model.load_state_dict(dict(state_dict), strict=True, assign=True)
    return model.to(dtype).eval()


def _max_diffs(expected: dict[str, torch.Tensor], actual: dict[str, torch.Tensor]) -> dict[str, float]:
    return {key: (expected[key] - actual[key]).abs().max().item() for key in OUTPUT_KEYS}


def _check(diffs: dict[str, float], tolerance: float, logit_scale: float, where: str) -> None:
    not_finite = [key for key, diff in diffs.items() if not math.isfinite(diff)]
    if not_finite:
        raise VerificationError(
            f"verification failed ({where}): the outputs {', '.join(not_finite)} are not finite (NaN or infinity)"
        )
    for key, diff in diffs.items():
        limit = tolerance * (logit_scale if key == "logits_per_video" else 1.0)
        if not diff <= limit:  # also catches NaN
            raise VerificationError(
                f"verification failed ({where}): {key} differs by {diff:.3g} (> {limit:.3g})"
            )


def _check_processor(processor, config: ViCLIPConfig, where: str) -> None:
    vision = config.vision_config
    frames = torch.randint(
        0, 256, (2 * vision.num_frames + 3, vision.image_size + 5, vision.image_size + 9, 3)
    )
    pixels = processor(videos=[frames.to(torch.uint8).numpy()], return_tensors="pt")["pixel_values_videos"]
    expected = (1, vision.num_frames, vision.num_channels, vision.image_size, vision.image_size)
    if tuple(pixels.shape) != expected:
        raise VerificationError(
            f"verification failed ({where}): the saved processor gives pixel values {tuple(pixels.shape)}, "
            f"the model needs {expected}"
        )


def verify_folder(
    folder: str | Path,
    state_dict: Mapping[str, torch.Tensor],
    config: ViCLIPConfig,
    dtype: torch.dtype = torch.float32,
    remote_code: bool = True,
    real_text: bool = True,
) -> VerificationReport:
    """Reloads ``folder`` and checks it against the converted tensors ``state_dict``.

    Both paths must reproduce the in-memory model's outputs on `fixed_inputs` (1e-5 in float32, 1e-2 for 16-bit
    weights; logits scaled by the temperature), and `AutoProcessor` must load and give pixel values of the
    model's size. With ``real_text`` the saved processor also tokenizes `VERIFY_TEXTS`, whose ids must fit the
    model's token table and whose text embeddings must match (``False``: a model whose vocabulary the tokenizer
    does not fit, converted on purpose).

    Raises:
        VerificationError: naming the path and the output that differs.
    """
    from transformers import AutoModel, AutoProcessor

    folder = Path(folder)
    try:
        report = VerificationReport(third_party_imports=check_remote_code_imports(folder))
    except HubFolderError as error:
        raise VerificationError(str(error)) from None
    tolerance = 1e-5 if dtype == torch.float32 else 1e-2
    inputs = fixed_inputs(config)
    processor = AutoProcessor.from_pretrained(folder)
    text_inputs = tokenized_texts(processor, config) if real_text else None
    reference_model = in_memory_model(state_dict, config, dtype)
    expected = model_outputs(reference_model, inputs)
    expected_text = text_embeddings(reference_model, text_inputs) if real_text else None
    logit_scale = reference_model.logit_scale.exp().item()
    del reference_model

    with quiet_loading():
        loaded = AutoModel.from_pretrained(folder, dtype=dtype).eval()
    if not isinstance(loaded, ViCLIPModel):
        raise VerificationError(
            f"verification failed: AutoModel loaded {type(loaded).__name__}, not ViCLIPModel"
        )
    report.local = _max_diffs(expected, model_outputs(loaded, inputs))
    if real_text:
        report.real_text = (expected_text - text_embeddings(loaded, text_inputs)).abs().max().item()
    del loaded
    _check(report.local, tolerance, logit_scale, "AutoModel with viclip")
    if real_text:
        _check({"text_embeds": report.real_text}, tolerance, logit_scale, "real text, the saved tokenizer")
    else:
        report.real_text = "skipped (the tokenizer does not fit the model's vocabulary)"
    _check_processor(processor, config, "AutoProcessor with viclip")

    if remote_code:
        report.remote_code = _max_diffs(expected, run_remote_code_check(folder, inputs, dtype, config))
        _check(report.remote_code, tolerance, logit_scale, "trust_remote_code without viclip")
    return report


def tokenized_texts(processor, config: ViCLIPConfig) -> dict[str, torch.Tensor]:
    """`VERIFY_TEXTS` through the saved processor's tokenizer; the ids must index the model's token table."""
    text = config.text_config
    encoded = processor(text=list(VERIFY_TEXTS), padding="max_length", truncation=True, return_tensors="pt")
    highest = int(encoded["input_ids"].max())
    if highest >= text.vocab_size:
        raise VerificationError(
            f"verification failed: the saved tokenizer gives token id {highest} for real text, but the model's "
            f"text vocabulary has {text.vocab_size} tokens"
        )
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def text_embeddings(model: torch.nn.Module, text_inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        return model.get_text_features(**text_inputs).pooler_output.float()


_REMOTE_SCRIPT = r"""
import json, sys
sys.modules["viclip"] = None  # the package (installed editable in this environment) must not be used
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoProcessor

folder, inputs_path, outputs_path, dtype_name, expected_shape = sys.argv[1:6]
try:
    import viclip  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("viclip is importable: the remote-code check is not isolated")
inputs = load_file(inputs_path)
model = AutoModel.from_pretrained(folder, trust_remote_code=True, dtype=getattr(torch, dtype_name)).eval()
assert type(model).__module__.startswith("transformers_modules."), type(model).__module__
dtype = next(model.parameters()).dtype
with torch.no_grad():
    out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                pixel_values_videos=inputs["pixel_values_videos"].to(dtype))
save_file({k: getattr(out, k).float().contiguous() for k in sys.argv[6:]}, outputs_path)
processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
assert type(processor).__module__.startswith("transformers_modules."), type(processor).__module__
shape = json.loads(expected_shape)
frames = torch.randint(0, 256, (2 * shape[1] + 3, shape[3] + 5, shape[4] + 9, 3), dtype=torch.uint8).numpy()
pixels = processor(videos=[frames], return_tensors="pt")["pixel_values_videos"]
if list(pixels.shape) != shape:
    raise SystemExit(f"the saved processor gives pixel values {list(pixels.shape)}, the model needs {shape}")
leaked = sorted(name for name in sys.modules if name == "viclip" or name.startswith("viclip."))
if leaked != ["viclip"]:
    raise SystemExit(f"viclip modules were imported: {leaked}")
"""


def run_remote_code_check(
    folder: str | Path, inputs: Mapping[str, torch.Tensor], dtype: torch.dtype, config: ViCLIPConfig
) -> dict[str, torch.Tensor]:
    """Outputs of ``AutoModel.from_pretrained(folder, trust_remote_code=True)`` computed in a fresh, isolated
    (``python -I``) process in which ``import viclip`` fails; also checks the remote-code processor there."""
    vision = config.vision_config
    shape = [1, vision.num_frames, vision.num_channels, vision.image_size, vision.image_size]
    with tempfile.TemporaryDirectory(prefix="viclip-verify-") as work:
        work_path = Path(work)
        script = work_path / "remote_code_check.py"
        script.write_text(_REMOTE_SCRIPT)
        save_file({k: v.contiguous() for k, v in inputs.items()}, work_path / "inputs.safetensors")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(work_path / "modules")}
        env.pop("PYTHONPATH", None)
        command = [
            sys.executable, "-I", str(script), str(Path(folder).resolve()), str(work_path / "inputs.safetensors"),
            str(work_path / "outputs.safetensors"), str(dtype).removeprefix("torch."), json.dumps(shape), *OUTPUT_KEYS,
        ]  # fmt: skip
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
            raise VerificationError(
                "verification failed: the folder does not load with trust_remote_code without viclip: "
                + (lines[-1] if lines else f"exit status {result.returncode}")
            )
        return load_file(work_path / "outputs.safetensors")
