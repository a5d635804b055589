"""One error base: every exception class of the library derives from ViCLIPError and keeps its built-in type."""

import ast
import importlib
from pathlib import Path

import pytest

import viclip
from viclip import ViCLIPError

PACKAGE = Path(viclip.__file__).parent


def library_exception_classes() -> list[type[BaseException]]:
    """Every public exception class defined in a viclip module (found by reading the sources, then imported).

    Warnings are notes, not errors; a private class (``_Abandoned``, a decoding thread's stop signal) never reaches
    a caller."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        names = [
            node.name
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.ClassDef) and node.bases and not node.name.startswith("_")
        ]
        if not names:
            continue
        module_name = ".".join(("viclip", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        module = importlib.import_module(module_name)
        for name in names:
            value = getattr(module, name)
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and not issubclass(value, Warning)
            ):
                found.append(value)
    return found


def test_every_library_exception_derives_from_viclip_error():
    classes = library_exception_classes()
    assert len(classes) >= 15  # the walk really found them (ConfigError ... VideoDecodeTimeout)
    assert [cls.__qualname__ for cls in classes if not issubclass(cls, ViCLIPError)] == []


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("viclip.training.config.ConfigError", ValueError),
        ("viclip.training.checkpointing.CheckpointError", RuntimeError),
        ("viclip.inference.store.EmbeddingMismatchError", ValueError),
        ("viclip.modeling.original_state_dict.StateDictMismatchError", ValueError),
        ("viclip.data.run_lock.FolderInUseError", RuntimeError),
    ],
)
def test_an_error_is_still_caught_as_its_builtin_type(name, builtin):
    module_name, class_name = name.rsplit(".", 1)
    error_class = getattr(importlib.import_module(module_name), class_name)
    with pytest.raises(builtin):
        raise error_class("a bad input")
    with pytest.raises(ViCLIPError, match="a bad input"):
        raise error_class("a bad input")


def test_viclip_error_is_exported_from_the_package_root():
    assert viclip.ViCLIPError is importlib.import_module("viclip.errors").ViCLIPError
    assert "ViCLIPError" in viclip.__all__
