"""Text cleaning that reproduces the original ViCLIP tokenizer's input normalisation.

The original tokenizer (OpenAI CLIP's ``simple_tokenizer``) runs ``ftfy.fix_text``, unescapes HTML
twice, collapses whitespace and lowercases before BPE. ``CLIPTokenizer`` only does the last two, so
text with entities, curly quotes, mojibake or ligatures gets other ids unless cleaned first.

This module is copied next to the processor as Hub remote code: standard library only, ``ftfy``
imported lazily.
"""

import html
import re
import warnings

_FTFY_MISSING_WARNED = False

_CAPTION_DROP = re.compile(r"[,.'!?\"()*#:;~]")
_MULTI_SPACE = re.compile(r"\s{2,}")


def _fix_text(text: str) -> str:
    global _FTFY_MISSING_WARNED
    try:
        import ftfy
    except ImportError:
        if not _FTFY_MISSING_WARNED:
            warnings.warn(
                "ftfy is not installed: text is cleaned without ftfy.fix_text, so mojibake, curly quotes and "
                "ligatures may tokenise differently from the original ViCLIP (pip install ftfy).",
                stacklevel=3,
            )
            _FTFY_MISSING_WARNED = True
        return text
    return ftfy.fix_text(text)


def clean_text(text: str) -> str:
    """Normalise ``text`` exactly like the original ViCLIP tokenizer does before BPE.

    ``ftfy.fix_text``, ``html.unescape`` twice, whitespace collapsed and stripped, lowercased.
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_text expects a str, got {type(text).__name__}")
    text = _fix_text(text)
    text = html.unescape(html.unescape(text)).strip()
    return " ".join(text.split()).lower()


def clean_caption(text: str, max_words: int | None = None) -> str:
    """The original training/evaluation caption cleaning (``pre_text``).

    Lowercase; delete ``, . ' ! ? " ( ) * # : ; ~``; ``-`` and ``/`` become spaces; repeated
    whitespace collapsed; stripped. With ``max_words``, keep only the first ``max_words`` words.
    """
    text = _CAPTION_DROP.sub("", text.lower())
    text = text.replace("-", " ").replace("/", " ")
    text = _MULTI_SPACE.sub(" ", text).strip()
    if max_words is not None:
        text = " ".join(text.split(" ")[:max_words])
    return text
