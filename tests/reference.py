"""Read test vectors from ../shared/reference/NHS_ANALYTICS_REFERENCE.md, where they are kept
as fenced YAML blocks under numbered headings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REFERENCE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "reference"
    / "NHS_ANALYTICS_REFERENCE.md"
)


def yaml_blocks(heading: str) -> list[Any]:
    """The fenced ```yaml blocks of the section whose heading starts with ``heading``."""
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}")
    level = heading.split(" ")[0]
    following = re.search(rf"\n#{{1,{len(level)}}} ", text[start + 1 :])
    section = text[start : start + 1 + following.start()] if following else text[start:]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]
