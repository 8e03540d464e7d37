"""API tokens for scripts: scoped, expiring, revocable, and hashed at rest.

A token is 32 random bytes shown once when it is made; the database keeps only its SHA-256 (a
slow password hash buys nothing for a secret with 256 bits of entropy, and every API call must
check one). A token acts as its user, never with more than the user's own role allows, and only
for the scopes it was given.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from carehub.errors import AuthenticationRequired, NotFound, UserError
from carehub.store.db import now_utc
from carehub.store.tables import ApiToken, User

# Not a secret: a fixed prefix lets secret scanners recognise a leaked carehub token.
TOKEN_PREFIX = "chub_"  # noqa: S105
TOKEN_BYTES = 32
DEFAULT_LIFETIME_DAYS = 90  # NCSC: credentials for automation should expire and be rotated
MAX_LIFETIME_DAYS = 366


class Scope(StrEnum):
    SUBMIT = "submit"  # send files and follow their submissions
    READ = "read"  # read what the user's agreements allow (KPIs, their own submissions)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now_utc())


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[Scope, ...]:
    known = {s.value for s in Scope}
    unknown = sorted(set(scopes) - known)
    if unknown or not scopes:
        raise UserError(
            f"token scopes {', '.join(unknown) or '(none)'} are not valid",
            hint=f"choose one or more of: {', '.join(sorted(known))}",
        )
    return tuple(Scope(s) for s in sorted(set(scopes)))


def issue(
    session: Session, user: User, name: str, scopes: tuple[Scope, ...], lifetime_days: int
) -> tuple[str, ApiToken]:
    """Make a token; returns the secret (shown once) and the stored row."""
    if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise UserError(
            f"a token lives 1 to {MAX_LIFETIME_DAYS} days, not {lifetime_days}",
            hint=f"the default is {DEFAULT_LIFETIME_DAYS} days",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = now_utc()
    row = ApiToken(
        user_id=user.id,
        name=name[:120],
        token_sha256=digest(secret),
        scopes=" ".join(scopes),
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days),
    )
    session.add(row)
    session.flush()
    return secret, row


def check(session: Session, secret: str, scope: Scope) -> tuple[User, ApiToken]:
    """The user a presented token acts for, if it is known, live, and has ``scope``."""
    refused = AuthenticationRequired(
        "the API token is not valid, has expired or was revoked",
        hint="make a new token with `carehub tokens create` and send it as "
        "'Authorization: Bearer <token>'",
    )
    if not secret.startswith(TOKEN_PREFIX):
        raise refused
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == digest(secret))
    ).first()
    if found is None:
        raise refused
    token, user = found
    now = now_utc()
    if token.revoked_at or (token.expires_at and token.expires_at <= now) or not user.active:
        raise refused
    if scope not in token.scopes.split():
        raise AuthenticationRequired(
            f"the API token {token.name!r} does not have the {scope} scope",
            hint=f"make a token with --scope {scope}",
        )
    token.last_used_at = now
    return user, token


def info(token: ApiToken, username: str) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        username=username,
        name=token.name,
        scopes=tuple(token.scopes.split()),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def listing(session: Session, username: str | None) -> list[TokenInfo]:
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username is not None:
        query = query.where(User.username == username)
    return [info(t, u) for t, u in session.execute(query.order_by(ApiToken.id))]


def get(session: Session, token_id: int) -> tuple[ApiToken, User]:
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id == token_id)
    ).first()
    if found is None:
        raise NotFound(f"there is no API token {token_id}", hint="see `carehub tokens list`")
    return found[0], found[1]
