"""The README stays a front page: short, the two set-up commands, and links to docs pages that exist."""

from __future__ import annotations

import re
from pathlib import Path

from snippet_runner import read_blocks

REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, flags=re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match[1]


def test_readme_is_at_most_12000_characters():
    assert len(README) <= 12_000, f"README.md has {len(README)} characters; move detail into docs/"


def test_set_up_section_has_exactly_the_two_set_up_commands():
    commands = [
        line.split("#")[0].strip()
        for block in read_blocks(section("Set up"), "README.md")
        if block.language == "bash"
        for line in block.source.splitlines()
        if line.strip()
    ]
    assert commands == ["make demo", "make test"]


def test_readme_links_are_relative_links_to_docs_pages_that_exist():
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    local = [link for link in links if not re.match(r"https?://", link)]
    assert local, "README.md links no docs page"
    not_docs = [link for link in local if not re.fullmatch(r"docs/[\w/-]+\.md", link.split("#")[0])]
    assert not not_docs, f"README.md links pages outside docs/*.md: {not_docs}"
    missing = sorted({link.split("#")[0] for link in local if not (REPO / link.split("#")[0]).is_file()})
    assert not missing, f"README.md links docs pages that do not exist: {missing}"
    assert not [link for link in links if "/docs/" in link and link.startswith("http")]
