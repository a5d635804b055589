"""The package root: light to import, lazy names, one version, and registration with transformers in either
import order (each case in a fresh interpreter, since registration and sys.modules are process-wide)."""

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


def test_import_viclip_imports_neither_torch_nor_transformers():
    out = run_python(
        "import sys, viclip\n"
        "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'av') if m in sys.modules))"
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
    folder = tmp_path_factory.mktemp("viclip-folder")
    run_python(
        "import torch, viclip\n"
        "config = viclip.ViCLIPConfig(\n"
        "    vision_config={'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 1,\n"
        "                   'num_attention_heads': 2, 'image_size': 16, 'patch_size': 8, 'num_frames': 2},\n"
        "    text_config={'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 1,\n"
        "                 'num_attention_heads': 2},\n"
        "    projection_dim=16)\n"
        f"viclip.ViCLIPModel(config).save_pretrained({str(folder)!r})\n"
        f"viclip.ViCLIPProcessor().save_pretrained({str(folder)!r})\n"
    )
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


def test_auto_classes_find_viclip_when_viclip_is_imported_before_transformers(saved_folder):
    out = run_python("import viclip\n" + LOAD_WITH_AUTO_CLASSES.format(folder=str(saved_folder)))
    assert out.split() == EXPECTED


def test_auto_classes_find_viclip_when_transformers_is_imported_before_viclip(saved_folder):
    code = LOAD_WITH_AUTO_CLASSES.replace("folder = ", "import viclip\nfolder = ")
    out = run_python(code.format(folder=str(saved_folder)))
    assert out.split() == EXPECTED


def test_registration_waits_for_a_transformers_module_that_imports_the_auto_classes_midway():
    """transformers.modeling_utils imports the Auto configuration while it is itself half initialised: registering
    at that moment failed (a circular import) and left ViCLIP unregistered."""
    out = run_python(
        "import warnings; warnings.simplefilter('error', RuntimeWarning)\n"
        "import viclip\n"
        "from transformers.modeling_utils import PreTrainedModel\n"
        "from transformers import AutoModel\n"
        "from transformers.models.auto.configuration_auto import CONFIG_MAPPING\n"
        "from viclip import ViCLIPConfig\n"
        "print('viclip' in CONFIG_MAPPING, AutoModel._model_mapping[ViCLIPConfig].__name__)"
    )
    assert out.split() == ["True", "ViCLIPModel"]


@pytest.mark.parametrize(
    "package", ["viclip", "viclip.data", "viclip.evaluation", "viclip.processing", "viclip.embedding"]
)
def test_no_lazy_name_is_also_the_name_of_a_submodule(package):
    """Once such a submodule is imported, Python binds the module to the package attribute and
    ``from package import name`` returns the module instead of the function."""
    module = importlib.import_module(package)
    assert not [name for name in module._EXPORTS if (Path(module.__file__).parent / f"{name}.py").exists()]
