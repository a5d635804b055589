"""Prompt templates for zero-shot video classification."""

from __future__ import annotations

from collections.abc import Sequence

# The 16 ActionCLIP templates ViCLIP uses for zero-shot action recognition (Kinetics-400/600/700).
ACTIONCLIP_TEMPLATES: tuple[str, ...] = (
    "a photo of action {}",
    "a picture of action {}",
    "Human action of {}",
    "{}, an action",
    "{} this is an action",
    "{}, a video of action",
    "Playing action of {}",
    "{}",
    "Playing a kind of action, {}",
    "Doing a kind of action, {}",
    "Look, the human is {}",
    "Can you recognize the action of {}?",
    "Video classification of {}",
    "A video of {}",
    "The man is {}",
    "The woman is {}",
)

# Single-template mode: the class name itself is the prompt.
SINGLE_TEMPLATE: tuple[str, ...] = ("{}",)

TEMPLATE_SETS: dict[str, tuple[str, ...]] = {
    "actionclip": ACTIONCLIP_TEMPLATES,
    "single": SINGLE_TEMPLATE,
}


def resolve_templates(templates: str | Sequence[str] | None) -> tuple[str, ...]:
    """Turn a template-set name (``"actionclip"``, ``"single"``), one template or a list into a tuple.

    ``None`` means the paper's 16 ActionCLIP templates. Every template must contain exactly one ``{}``.
    """
    if templates is None:
        return ACTIONCLIP_TEMPLATES
    if isinstance(templates, str):
        if templates in TEMPLATE_SETS:
            return TEMPLATE_SETS[templates]
        templates = (templates,)
    templates = tuple(templates)
    if not templates:
        raise ValueError("templates is empty: give at least one template such as '{}' or 'a video of {}'")
    for template in templates:
        if not isinstance(template, str) or template.count("{}") != 1:
            raise ValueError(
                f"template {template!r} must be a string with exactly one '{{}}' placeholder for the class "
                f"name (or one of the named sets {sorted(TEMPLATE_SETS)})"
            )
    return templates


def expand_templates(class_names: Sequence[str], templates: Sequence[str]) -> list[str]:
    """All prompts, class-major: ``[t.format(c) for c in class_names for t in templates]``."""
    if len(class_names) == 0:
        raise ValueError("no class names / candidate labels given: pass at least one label")
    for name in class_names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"class name {name!r} is not a non-empty string")
    return [template.format(name) for name in class_names for template in templates]
