"""Registration of viclip's classes with transformers, deferred until transformers' Auto classes are imported.

``import viclip`` must not import torch or transformers, yet ``import viclip`` followed by
``AutoModel.from_pretrained(folder)`` or ``pipeline("zero-shot-video-classification")`` must find ViCLIP. The root
package therefore installs a post-import hook: when one of transformers' Auto modules (or its pipelines) finishes
importing, the matching viclip subpackage registers its classes; a trigger already imported registers at once.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Callable
from types import ModuleType


def register_models_and_processors() -> None:
    """Registers the configs and models (on import of ``viclip.modeling``) and the processors."""
    importlib.import_module("viclip.modeling")
    importlib.import_module("viclip.processing").register_auto_classes()


def register_pipeline() -> None:
    """Registers the "zero-shot-video-classification" task (on import of ``viclip.evaluation.pipeline``)."""
    importlib.import_module("viclip.evaluation.pipeline")


_AUTO = "transformers.models.auto."
TRIGGERS: dict[str, Callable[[], None]] = {
    _AUTO + "configuration_auto": register_models_and_processors,
    _AUTO + "modeling_auto": register_models_and_processors,
    _AUTO + "video_processing_auto": register_models_and_processors,
    _AUTO + "processing_auto": register_models_and_processors,
    "transformers.pipelines": register_pipeline,
}

_pending: list[Callable[[], None]] = []
_running = False


def _import_in_progress(finished: str | None = None) -> bool:
    """Whether a transformers or viclip module (other than ``finished``, whose code has just run) is still executing.

    Registering then would import viclip's classes against a partially initialised module (e.g. transformers'
    ``modeling_utils`` importing the Auto configuration on its way, or a viclip module importing transformers at
    its top), so registration waits until the import chain is done.
    """
    for name, module in list(sys.modules.items()):
        if name != finished and name.split(".", 1)[0] in ("transformers", "viclip"):
            spec = getattr(module, "__spec__", None)
            if spec is not None and getattr(spec, "_initializing", False):
                return True
    return False


def _run(callback: Callable[[], None], finished: str | None = None) -> None:
    """Queues `callback` and runs the queue unless transformers is mid-import (then the next import retries)."""
    if callback not in _pending:
        _pending.append(callback)
    _run_pending(finished)


def _run_pending(finished: str | None = None) -> None:
    """Runs the queued registrations; one triggered while another runs (registering imports transformers) waits."""
    global _running
    if _running or not _pending or _import_in_progress(finished):
        return
    _running = True
    try:
        while _pending:
            registration = _pending.pop(0)
            try:
                registration()
            except Exception as error:  # a failed registration must not break the user's transformers import
                warnings.warn(
                    f"viclip could not register its classes with transformers ({registration.__name__}): "
                    f"{type(error).__name__}: {error}",
                    RuntimeWarning,
                    stacklevel=2,
                )
    finally:
        _running = False


def _run_pending_after() -> None:
    """Marks a module whose import, once complete, retries the deferred registrations (never called itself)."""


class _RegisterAfterExec(importlib.abc.Loader):
    """Wraps a trigger module's loader: executes the module, restores the real loader, then registers."""

    def __init__(self, loader: importlib.abc.Loader, callback: Callable[[], None]):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        if self._callback is _run_pending_after:
            _run_pending(finished=module.__name__)
        else:
            _run(self._callback, finished=module.__name__)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds trigger modules through the other finders and wraps their loaders."""

    def __init__(self) -> None:
        self._finding: set[str] = set()

    def find_spec(self, fullname, path, target=None):
        # A registration deferred while transformers was mid-import runs after the next import completes (running
        # it here, before this module exists, could import this very module twice).
        callback = TRIGGERS.get(fullname) or (_run_pending_after if _pending else None)
        if callback is None or fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _RegisterAfterExec(spec.loader, callback)
        return spec


def install() -> None:
    """Installs the hook once, and registers at once for every trigger transformers has already imported."""
    if not any(isinstance(finder, _PostImportFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder())
    for name, callback in TRIGGERS.items():
        if name in sys.modules:
            _run(callback, finished="viclip")  # called from the package root, which is still executing
