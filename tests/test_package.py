"""The package root: registration with transformers at import, in either import order and without import hooks,
lazy names, one version; the command line's package stays light (each case in a fresh interpreter, since
registration and sys.modules are process-wide)."""

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import viclip

SOURCE = Path(viclip.__file__).parent


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_viclip_registers_plainly_so_imports_torch_and_transformers_but_not_the_extras():
    out = run_python(
        "import sys, viclip\n"
        "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'evaluate', 'matplotlib', 'ray')\n"
        "             if m in sys.modules))\n"
        "print([type(f).__module__ for f in sys.meta_path if type(f).__module__.startswith('viclip')])"
    )
    assert out.split("\n")[:2] == ["['torch', 'transformers']", "[]"]  # no import hook of viclip's


def test_import_viclip_cli_imports_neither_the_library_nor_torch_nor_transformers():
    out = run_python(
        "import sys, viclip_cli\n"
        "print(sorted(m for m in ('viclip', 'torch', 'transformers') if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_version_comes_from_the_installed_package_metadata():
    assert viclip.__version__ == importlib.metadata.version("viclip")


def test_names_load_on_first_use_and_unknown_names_fail():
    assert "ViCLIPModel" in dir(viclip) and "VideoClip" in dir(viclip)
    assert viclip.VideoClip is importlib.import_module("viclip.processing.video_clip").VideoClip
    assert viclip.ViCLIPModel is importlib.import_module("viclip.modeling").ViCLIPModel
    with pytest.raises(AttributeError, match="no attribute 'NotAThing'"):
        viclip.NotAThing  # noqa: B018


def test_no_library_module_imports_the_package_root():
    offenders = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(alias.name == "viclip" for alias in node.names):
                offenders.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "viclip":
                offenders.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    assert offenders == []


@pytest.fixture(scope="module")
def saved_folder(tmp_path_factory) -> Path:
    """A tiny saved model folder: only the runs that load it need a fresh interpreter, not its making."""
    folder = tmp_path_factory.mktemp("viclip-folder")
    tiny = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
    config = viclip.ViCLIPConfig(
        vision_config={**tiny, "image_size": 16, "patch_size": 8, "num_frames": 2},
        text_config=tiny,
        projection_dim=16,
    )
    viclip.ViCLIPModel(config).save_pretrained(folder)
    viclip.ViCLIPProcessor.for_model(image_size=16, num_frames=2).save_pretrained(folder)
    return folder


LOAD_WITH_AUTO_CLASSES = """
from transformers import AutoModel, AutoModelForVideoClassification, AutoProcessor, AutoVideoProcessor
from transformers.pipelines import PIPELINE_REGISTRY
folder = {folder!r}
print(type(AutoModel.from_pretrained(folder)).__name__)
print(type(AutoModelForVideoClassification.from_pretrained(folder, num_labels=2)).__name__)
print(type(AutoProcessor.from_pretrained(folder)).__name__)
print(type(AutoVideoProcessor.from_pretrained(folder)).__name__)
print("zero-shot-video-classification" in PIPELINE_REGISTRY.get_supported_tasks())
"""
EXPECTED = ["ViCLIPModel", "ViCLIPForVideoClassification", "ViCLIPProcessor", "ViCLIPVideoProcessor", "True"]


ZERO_SHOT_PIPELINE = """
import numpy as np
from transformers import pipeline
classify = pipeline("zero-shot-video-classification", model=folder)
frames = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
print(sorted(result["label"] for result in classify(frames, candidate_labels=["a dog", "a cat"])))
"""


def test_auto_classes_and_the_pipeline_find_viclip_when_viclip_is_imported_before_transformers(saved_folder):
    code = "import viclip\n" + LOAD_WITH_AUTO_CLASSES + ZERO_SHOT_PIPELINE
    out = run_python(code.format(folder=str(saved_folder)))
    assert out.split("\n")[:6] == [*EXPECTED, "['a cat', 'a dog']"]


def test_auto_classes_find_viclip_when_transformers_is_imported_before_viclip(saved_folder):
    code = LOAD_WITH_AUTO_CLASSES.replace("folder = ", "import viclip\nfolder = ")
    out = run_python(code.format(folder=str(saved_folder)))
    assert out.split() == EXPECTED


def test_importing_a_subpackage_first_registers_too(saved_folder):
    """``import viclip.data`` (or any submodule) runs the package root, so a worker process that never writes
    ``import viclip`` has registered as well."""
    out = run_python(
        "import viclip.data\nfrom transformers import AutoModel\n"
        f"print(type(AutoModel.from_pretrained({str(saved_folder)!r})).__name__)"
    )
    assert out.split() == ["ViCLIPModel"]


@pytest.mark.parametrize(
    "package", ["viclip", "viclip.data", "viclip.evaluation", "viclip.processing", "viclip.embedding"]
)
def test_no_lazy_name_is_also_the_name_of_a_submodule(package):
    """Once such a submodule is imported, Python binds the module to the package attribute and
    ``from package import name`` returns the module instead of the function."""
    module = importlib.import_module(package)
    assert not [name for name in module._EXPORTS if (Path(module.__file__).parent / f"{name}.py").exists()]
