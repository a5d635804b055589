"""The version of the viclip package (read by pyproject.toml; the one place it is written)."""

__version__ = "0.2.0"
