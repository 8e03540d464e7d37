"""Password hashing with argon2id (OWASP's first choice)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carehub.errors import UserError

MINIMUM_PASSWORD_LENGTH = 12  # NCSC password guidance: length over complexity
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise UserError(
            f"the password is shorter than {MINIMUM_PASSWORD_LENGTH} characters",
            hint="choose a longer password, e.g. three random words",
        )
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


DUMMY_HASH = _HASHER.hash("carehub-timing-equaliser")  # verify against it for unknown users
