"""The one lazy-import style of viclip's package ``__init__`` files (PEP 562).

A package lists its public names in ``_EXPORTS`` (name -> submodule), imports them under ``TYPE_CHECKING`` for
type checkers and IDEs, and ends with ``__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)``: a name's
submodule is imported on first access and the value is cached in the package's namespace.
"""

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of `package`, importing ``package.<exports[name]>`` on first access."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{exports[name]}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
