"""Key files: a key's id is safe to show and names it; rotation keeps the old key, owner-only."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date
from pathlib import Path

import pytest

from carehub.errors import ConfigurationError, Conflict
from carehub.store.engines import HmacPads
from carehub.store.keys import create_key, key_id, read_key, retired_keys, rotate_key

TODAY = date(2026, 11, 30)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "pseudonym.key"
    assert create_key(path)
    return path


def test_a_key_id_is_the_hmac_of_a_fixed_message_and_the_pads_give_the_same() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"carehub key id", hashlib.sha256).hexdigest()[:16]
    assert key_id(key) == HmacPads.from_key(key).key_id == expected
    assert key_id(bytes(32)) != expected and len(expected) == 16
    assert key.hex()[:16] != expected


def test_rotation_keeps_the_old_key_owner_only_and_writes_a_new_one(key_file: Path) -> None:
    old = read_key(key_file, "pseudonymisation")
    rotated = rotate_key(key_file, TODAY)
    new = read_key(key_file, "pseudonymisation")
    assert new != old and len(new) == 32
    assert (rotated.previous_key_id, rotated.key_id) == (key_id(old), key_id(new))
    assert (
        rotated.retired == key_file.parent / "retired" / f"pseudonym-{key_id(old)}-2026-11-30.key"
    )
    assert read_key(rotated.retired, "retired") == old  # owner-only, or read_key would refuse
    assert os.stat(rotated.retired).st_mode & 0o777 == 0o600
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert os.stat(rotated.retired.parent).st_mode & 0o777 == 0o700
    assert retired_keys(key_file) == [(rotated.retired.name, 0o600)]
    left = {p.name for p in key_file.parent.iterdir()}
    assert left == {"pseudonym.key", "retired"}  # no temporary file left behind


def test_a_key_file_others_can_read_is_not_rotated(key_file: Path) -> None:
    key_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by other users"):
        rotate_key(key_file, TODAY)
    assert not (key_file.parent / "retired").exists()


def test_a_leftover_retired_file_is_a_conflict_and_the_key_stays(key_file: Path) -> None:
    old = read_key(key_file, "pseudonymisation")
    retired = key_file.parent / "retired"
    retired.mkdir()
    (retired / f"pseudonym-{key_id(old)}-2026-11-30.key").write_text("x")
    with pytest.raises(Conflict) as caught:
        rotate_key(key_file, TODAY)
    assert read_key(key_file, "pseudonymisation") == old
    assert old.hex() not in str(caught.value)
