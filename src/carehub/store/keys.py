"""Secret keys kept outside the lake: the pseudonymisation key and the web session key.

A key file holds 32 random bytes, hex-encoded, readable by its owner only. Its contents are never
logged or shown; errors name the file, not the key. What may be shown and stored is a key's *id*:
the first 16 hex digits of HMAC-SHA-256(key, "carehub key id"), a pseudorandom function of the key
that tells keys apart and reveals nothing that helps recover one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from carehub.errors import ConfigurationError, Conflict

KEY_BYTES = 32  # 256-bit keys: HMAC-SHA-256 (RFC 2104 recommends at least the hash length)
KEY_ID_MESSAGE = b"carehub key id"  # a key's id is its HMAC of this fixed message
KEY_ID_HEX_DIGITS = 16  # 64 bits: enough to tell a deployment's keys apart
OWNER_ONLY = 0o600  # key files: read and write by their owner, nothing for anyone else
OWNER_ONLY_FOLDER = 0o700
RETIRED_FOLDER = "retired"  # beside the key: where `carehub keys rotate` moves the old one


def key_id(key: bytes) -> str:
    """The key's public identity, safe to show, log and store."""
    return hmac.new(key, KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:KEY_ID_HEX_DIGITS]


def file_mode(path: Path) -> int:
    """The permission bits of a key file (e.g. 0o600)."""
    return stat.S_IMODE(path.stat().st_mode)


def owner_only(mode: int) -> bool:
    """True when neither the group nor other users have any permission."""
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


@dataclass(frozen=True)
class RotatedKey:
    """What `rotate_key` did: ids only, never key material."""

    previous_key_id: str
    key_id: str
    retired: Path


def rotate_key(path: Path, today: date) -> RotatedKey:
    """Replace the key at ``path`` with a new random one; keep the old one, owner-only, as
    ``retired/pseudonym-<old key id>-<date>.key`` beside it.

    The old key is written to its retired file (and synced) before the new key replaces it in one
    rename, so the key file always exists and holds a whole key, and the old key is never lost.
    """
    old = read_key(path, "pseudonymisation")
    folder = path.parent / RETIRED_FOLDER
    folder.mkdir(mode=OWNER_ONLY_FOLDER, exist_ok=True)
    retired = folder / f"pseudonym-{key_id(old)}-{today.isoformat()}.key"
    try:
        descriptor = os.open(retired, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError as exc:
        raise Conflict(
            f"the retired key file {retired} already exists",
            hint="a rotation of this key was started before: check `carehub keys status`",
        ) from exc
    _write_key(descriptor, old)
    new = secrets.token_bytes(KEY_BYTES)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    try:
        _write_key(descriptor, new)
        os.replace(name, path)
    except BaseException:
        retired.unlink()  # the old key is still the key: nothing was retired
        raise
    finally:
        Path(name).unlink(missing_ok=True)
    return RotatedKey(key_id(old), key_id(new), retired)


def _write_key(descriptor: int, key: bytes) -> None:
    os.fchmod(descriptor, OWNER_ONLY)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def retired_keys(path: Path) -> list[tuple[str, int]]:
    """The retired key files beside the key at ``path``: names and permission bits."""
    folder = path.parent / RETIRED_FOLDER
    if not folder.is_dir():
        return []
    return [(p.name, file_mode(p)) for p in sorted(folder.glob("pseudonym-*.key"))]


def create_key(path: Path) -> bool:
    """Create a key file with owner-only permissions; return False if one already exists."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_FOLDER)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return True


def read_key(path: Path, purpose: str) -> bytes:
    """Read a key; a missing, unreadable, malformed or world-readable file is a config error."""
    hint = f"run `carehub init` to create the {purpose} key, or point the setting at it"
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"the {purpose} key file {path} does not exist", hint=hint
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"the {purpose} key file {path} cannot be read", hint=hint
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the {purpose} key file {path} is readable by other users",
            hint=f"run: chmod 600 {path}",
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"the {purpose} key file {path} does not hold a {KEY_BYTES}-byte hex key", hint=hint
        )
    return key
