"""One `Settings` object, read from CAREHUB_* environment variables (or passed in by tests).

Nothing is created at import time: `Settings()` is built by the CLI or by the code that starts the
web app, and handed to `Platform`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.cwd() / "carehub-home"


class Settings(BaseSettings):
    """Where a carehub workspace lives and how it runs.

    Every field can be set as an environment variable with the CAREHUB_ prefix, e.g.
    ``CAREHUB_HOME=/srv/carehub`` or ``CAREHUB_DATABASE_URL=postgresql+psycopg://…``.
    """

    model_config = SettingsConfigDict(env_prefix="CAREHUB_", extra="ignore", frozen=True)

    home: Path = Field(
        default_factory=_default_home,
        description="The workspace folder: the lake, the default metadata database and the logs.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database; default SQLite at HOME/carehub.db.",
    )
    engine: Literal["duckdb"] = Field(
        default="duckdb", description="The query engine that runs standardisation and KPIs."
    )
    key_file: Path | None = Field(
        default=None,
        description=(
            "The pseudonymisation key (32 random bytes, owner-only permissions). Keep it outside "
            "the lake; default HOME/keys/pseudonym.key."
        ),
    )
    session_key_file: Path | None = Field(
        default=None,
        description="The key that signs web sessions; default HOME/keys/session.key.",
    )
    shared_data: Path | None = Field(
        default=None,
        description=(
            "Folder of the real reference data (ODS codes, IMD, postcodes …) the synthetic ICS "
            "uses; default ../shared/data from the current folder."
        ),
    )
    job_lease_seconds: float = Field(
        default=60,
        gt=0,
        description=(
            "A running job whose worker has been silent this long is presumed dead (killed, or "
            "the server restarted) and is taken up again by another worker."
        ),
    )
    web_workers: int = Field(
        default=1,
        ge=0,
        le=16,
        description=(
            "Job worker threads the web app runs beside its requests; 0 when separate "
            "`carehub worker` processes share the queue."
        ),
    )
    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "The issuer URL of an OpenID Connect provider (https) to offer sign-in with beside "
            "passwords, e.g. `https://login.example.nhs.uk/realms/ics`; its discovery document is "
            "read from ISSUER/.well-known/openid-configuration. Set it with "
            "CAREHUB_OIDC_CLIENT_ID; when neither is set, only passwords are offered."
        ),
    )
    oidc_client_id: str | None = Field(
        default=None, description="carehub's client id, as registered at the OpenID provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description=(
            "carehub's client secret at the OpenID provider; leave unset for a public client "
            "(PKCE only). Never logged."
        ),
    )
    oidc_username_claim: str = Field(
        default="preferred_username",
        description=(
            "The ID token claim that names the carehub user (`email` is common). The user must "
            "already exist in carehub: roles and organisations are managed here."
        ),
    )
    oidc_label: str = Field(
        default="your organisation's account",
        description="What the sign-in button calls the provider: Sign in with LABEL.",
    )
    oidc_scopes: str = Field(
        default="openid profile email",
        description="The scopes asked for, separated by spaces; must include `openid`.",
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description=(
            "The redirect URL registered at the provider, when carehub runs behind a proxy that "
            "changes its address; default the server's own /sign-in/oidc/callback."
        ),
    )

    @property
    def lake_root(self) -> Path:
        return self.home / "lake"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'carehub.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "keys" / "pseudonym.key"

    @property
    def resolved_shared_data(self) -> Path:
        return self.shared_data or Path.cwd().parent / "shared" / "data"

    @property
    def resolved_session_key_file(self) -> Path:
        return self.session_key_file or self.home / "keys" / "session.key"

    @property
    def oidc_configured(self) -> bool:
        """Sign-in with OpenID Connect is offered when both the issuer and the client id are set."""
        return bool(self.oidc_issuer and self.oidc_client_id)
