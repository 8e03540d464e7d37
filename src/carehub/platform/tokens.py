"""API tokens for scripts: made, listed, revoked and checked."""

from __future__ import annotations

from sqlalchemy import select

from carehub.errors import (
    AuthenticationRequired,
    NotFound,
)
from carehub.governance import tokens as api_tokens
from carehub.governance.actors import Actor, Role
from carehub.governance.tokens import Scope, TokenInfo
from carehub.platform.base import PlatformBase, require_role
from carehub.store.db import now_utc
from carehub.store.tables import User


class TokensMixin(PlatformBase):
    # --- API tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        actor: Actor,
        username: str,
        name: str,
        scopes: list[str],
        lifetime_days: int = api_tokens.DEFAULT_LIFETIME_DAYS,
    ) -> tuple[str, TokenInfo]:
        """Make a token for ``username`` (yourself, or anyone if you are an admin).

        Returns the secret, which is shown once and never stored, and the token's record.
        """
        if username != actor.username:
            require_role(actor, {Role.ADMIN, Role.SYSTEM}, "make tokens for other people")
        chosen = api_tokens.parse_scopes(scopes)
        with self.database.session() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            if user is None:
                raise NotFound(f"there is no active user {username!r}", hint="check the username")
            secret, row = api_tokens.issue(session, user, name, chosen, lifetime_days)
            self.audit.record(
                session,
                actor,
                "token.create",
                f"token/{row.id}",
                detail={
                    "user": username,
                    "scopes": [str(c) for c in chosen],
                    "days": lifetime_days,
                },
            )
            return secret, api_tokens.info(row, username)

    def tokens(self, actor: Actor) -> list[TokenInfo]:
        """Your own tokens; an admin sees everyone's. Never the secrets."""
        every = actor.role in (Role.ADMIN, Role.SYSTEM)
        with self.database.session() as session:
            return api_tokens.listing(session, None if every else actor.username)

    def revoke_token(self, actor: Actor, token_id: int) -> TokenInfo:
        with self.database.session() as session:
            token, user = api_tokens.get(session, token_id)
            if user.username != actor.username:
                require_role(actor, {Role.ADMIN, Role.SYSTEM}, "revoke other people's tokens")
            token.revoked_at = token.revoked_at or now_utc()
            self.audit.record(session, actor, "token.revoke", f"token/{token_id}")
            return api_tokens.info(token, user.username)

    def authenticate_token(self, secret: str, scope: Scope) -> Actor:
        """The actor an API token speaks for; refusals are audited (without the token)."""
        try:
            with self.database.session() as session:
                user, _ = api_tokens.check(session, secret, scope)
                return Actor(user.username, user.org_code, Role(user.role), user.display_name)
        except AuthenticationRequired:
            with self.database.session() as session:
                self.audit.record(
                    session,
                    Actor("api:unknown", "", Role.VIEWER),
                    "token.refused",
                    "api",
                    detail={"scope": scope},
                )
            raise
