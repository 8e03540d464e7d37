"""Workspace files outside the lake: feed mappings a steward has installed, and scratch space."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

SPOOL_CHUNK_BYTES = 1 << 20  # uploads are copied in 1 MiB chunks: memory stays bounded


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

    def installed_mappings(self) -> list[tuple[str, str]]:
        """(organisation, dataset) of every installed feed mapping, sorted."""
        if not self.mappings.is_dir():
            return []
        return sorted((p.parent.name, p.stem) for p in self.mappings.glob("*/*.yaml"))

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

    @contextmanager
    def spooled(self, stream: BinaryIO) -> Iterator[Path]:
        """An uploaded stream as a temporary file in scratch, removed afterwards."""
        fd, name = tempfile.mkstemp(dir=self.scratch, suffix=".upload")
        path = Path(name)
        try:
            with open(fd, "wb") as out:
                shutil.copyfileobj(stream, out, SPOOL_CHUNK_BYTES)
            yield path
        finally:
            path.unlink(missing_ok=True)
