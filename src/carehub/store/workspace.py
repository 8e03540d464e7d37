"""Workspace files outside the lake: feed mappings a steward has installed."""

from __future__ import annotations

from pathlib import Path


class Workspace:
    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def mappings(self) -> Path:
        return self.home / "mappings"

    @property
    def scratch(self) -> Path:
        folder = self.home / "scratch"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def spill(self) -> Path:
        """Where the engine spills a large ingest past its memory limit (created when needed)."""
        return self.home / "scratch" / "spill"

    def mapping_path(self, org: str, dataset: str) -> Path:
        return self.mappings / org / f"{dataset}.yaml"

    def read_mapping(self, org: str, dataset: str) -> tuple[str, str] | None:
        path = self.mapping_path(org, dataset)
        return (path.read_text(encoding="utf-8"), str(path)) if path.is_file() else None

    def save_mapping(self, org: str, dataset: str, text: str) -> Path:
        path = self.mapping_path(org, dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
        return path

    def read_text(self, path: Path) -> str:
        return path.read_text(encoding="utf-8")
