"""Read test vectors from ../shared/reference/NHS_ANALYTICS_REFERENCE.md, where they are kept
as fenced YAML or JSON blocks under numbered headings."""

from __future__ import annotations

import json
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


def _section(heading: str) -> str:
    """The text of the section whose heading starts with ``heading``, up to the next heading
    of the same or a higher level."""
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}")
    level = heading.split(" ")[0]
    following = re.search(rf"\n#{{1,{len(level)}}} ", text[start + 1 :])
    return text[start : start + 1 + following.start()] if following else text[start:]


def yaml_blocks(heading: str) -> list[Any]:
    """The fenced ```yaml blocks of the section whose heading starts with ``heading``."""
    blocks = re.findall(r"```yaml\n(.*?)```", _section(heading), re.S)
    return [yaml.safe_load(block) for block in blocks]


def json_blocks(heading: str) -> dict[str, Any]:
    """The fenced ```json blocks of the section whose heading starts with ``heading``, by
    their ``id``."""
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", _section(heading), re.S)]
    return {block["id"]: block for block in blocks}
