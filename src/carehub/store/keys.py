"""Secret keys kept outside the lake: the pseudonymisation key and the web session key.

A key file holds 32 random bytes, hex-encoded, readable by its owner only. Its contents are never
logged or shown; errors name the file, not the key.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from carehub.errors import ConfigurationError

KEY_BYTES = 32  # 256-bit keys: HMAC-SHA-256 (RFC 2104 recommends at least the hash length)


def create_key(path: Path) -> bool:
    """Create a key file with owner-only permissions; return False if one already exists."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
