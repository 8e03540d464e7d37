"""Reading YAML definitions into pydantic models with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from carehub.errors import UserError

ModelT = TypeVar("ModelT", bound=BaseModel)


def _line_of(node: yaml.Node | None, location: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location, if it can be found.

    A step that is not a key of the mapping (the tag pydantic adds for a member of a
    discriminated union, or a key that is missing) stays on the mapping, so the error still
    points at the nearest line."""
    for key in location:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


def load_model(
    model: type[ModelT], text: str, source: str, context: dict[str, Any] | None = None
) -> ModelT:
    """Parse YAML text into ``model``; a bad definition names ``source`` and the line.
    ``context`` is handed to the model's validators (e.g. the dataset a definition is about)."""
    try:
        data: Any = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{source}: not valid YAML ({exc})", hint="fix the YAML syntax") from exc
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        first = exc.errors()[0]
        line = _line_of(node, tuple(first["loc"]))
        where = f"{source}, line {line}" if line else source
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise UserError(
            f"{where}: {field}: {first['msg']}",
            hint=f"correct the definition ({exc.error_count()} problem(s) in all)",
        ) from exc


def load_model_file(model: type[ModelT], path: Path) -> ModelT:
    if not path.is_file():
        raise UserError(f"{path}: no such file", hint="give the path of a YAML definition")
    return load_model(model, path.read_text(encoding="utf-8"), str(path))
