"""The lake: plain Parquet (and raw bytes) under four zones.

    raw/<sha256[:2]>/<sha256>             every submitted file, byte for byte
    standard/<dataset>/org=<ods>/period=<yyyy-mm>/<submission>.parquet
    quarantine/<dataset>/<submission>.parquet
    marts/<name>/...

Which file is current is recorded in the metadata database, never inferred from the folders. New
files are written under a temporary name and renamed into place, so a reader never sees half a
file; the pointer flips afterwards in one database transaction.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from carehub.errors import NotFound

COPY_CHUNK_BYTES = 1 << 20  # stream files in 1 MiB chunks: memory stays bounded


class Zone(StrEnum):
    RAW = "raw"
    STANDARD = "standard"
    QUARANTINE = "quarantine"
    MARTS = "marts"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class Lake:
    """Paths and atomic writes under one lake root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self) -> None:
        for zone in Zone:
            (self.root / zone.value).mkdir(parents=True, exist_ok=True)
        (self.root / ".tmp").mkdir(exist_ok=True)

    def raw_path(self, sha256: str) -> Path:
        return self.root / Zone.RAW / sha256[:2] / sha256

    def standard_path(
        self, dataset: str, org: str, period: str, submission_id: int, tag: str | None = None
    ) -> Path:
        """``tag`` names a later version of the same submission (re-pseudonymised under a new
        key: the key's id), so that the earlier version's file stays for as-of reads."""
        folder = self.root / Zone.STANDARD / dataset / f"org={org}" / f"period={period}"
        return folder / _file_name(submission_id, tag)

    def quarantine_path(self, dataset: str, submission_id: int, tag: str | None = None) -> Path:
        return self.root / Zone.QUARANTINE / dataset / _file_name(submission_id, tag)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def resolve(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise NotFound(f"{relative} is outside the lake")
        return path

    def receive(self, source: Path) -> tuple[str, Path]:
        """Copy a file into the raw zone, hashing it on the way: one read of the source.

        Returns the SHA-256 and the raw path. Sending the same bytes again stores nothing new.
        """
        digest = hashlib.sha256()
        probe = self.root / ".tmp"
        probe.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=probe, suffix=".raw")
        temporary = Path(name)
        try:
            with source.open("rb") as src, open(fd, "wb") as dst:
                while chunk := src.read(COPY_CHUNK_BYTES):
                    digest.update(chunk)
                    dst.write(chunk)
            sha256 = digest.hexdigest()
            target = self.raw_path(sha256)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary.chmod(0o440)
                os.replace(temporary, target)
            return sha256, target
        finally:
            temporary.unlink(missing_ok=True)

    @contextmanager
    def staging(self, target: Path) -> Iterator[Path]:
        """Yield a temporary path; on success it is renamed to ``target`` in one step."""
        target.parent.mkdir(parents=True, exist_ok=True)
        (self.root / ".tmp").mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root / ".tmp", suffix=target.suffix)
        os.close(fd)
        temporary = Path(name)
        try:
            yield temporary
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    def discard(self, *paths: Path | None) -> None:
        """Remove files written for a publication that did not happen."""
        for path in paths:
            if path is not None and path.is_file():
                path.unlink()


def _file_name(submission_id: int, tag: str | None) -> str:
    return f"{submission_id}-{tag}.parquet" if tag else f"{submission_id}.parquet"
