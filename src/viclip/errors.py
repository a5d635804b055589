"""`ViCLIPError`, the base of every error the library raises on purpose.

Each error class also keeps the built-in type it had before the base existed (``class ConfigError(ViCLIPError,
ValueError)``), so ``except ViCLIPError`` catches every viclip error and ``except ValueError`` still works. The
class itself lives in ``viclip.processing.errors``, a file without imports, so that the processor's remote code in
a Hub folder can carry it (see there); every other layer imports it from here.
"""

from .processing.errors import ViCLIPError

__all__ = ["ViCLIPError"]
