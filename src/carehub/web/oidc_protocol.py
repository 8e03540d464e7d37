"""OpenID Connect, carehub's half as the relying party: discovery, PKCE, the code exchange and the
checks of the ID token (OpenID Connect Core 1.0 §3.1, RFC 7636).

Signatures are checked by PyJWT against the provider's published keys; nothing here parses a
token by hand. Messages and log lines never hold a token, a code or a claim other than the
username being signed in.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode, urlparse

import httpx
import jwt

from carehub.errors import ConfigurationError
from carehub.settings import Settings

LOG = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10
DISCOVERY_TTL_SECONDS = 3600  # a provider's endpoints and keys change rarely and with notice
JWKS_REFETCH_SECONDS = 60  # an unknown key id refetches the keys at most this often
LEEWAY_SECONDS = 60  # clock skew allowed on exp and iat (OpenID Connect Core §3.1.3.7)
# Asymmetric algorithms only: "none" signs nothing, and HS* would make the client secret the key.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # plain http only for tests
ERROR_CODE = re.compile(r"[a-z_]{1,40}")  # an OAuth error code, safe to log and show


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in.

    ``message`` and ``hint`` are safe to show and log; ``reason`` is a short code for the audit
    log; ``status`` is the HTTP status of the error page."""

    def __init__(self, reason: str, message: str, hint: str = "", status: int = 401) -> None:
        super().__init__(message)
        self.reason, self.message, self.hint, self.status = reason, message, hint, status


def provider_error_code(value: object) -> str:
    """An OAuth error code from the provider, or "other" (never echo arbitrary text)."""
    text = str(value) if value is not None else ""
    return text if ERROR_CODE.fullmatch(text) else "other"


def _require_https(url: str, what: str) -> None:
    parsed = urlparse(url)
    loopback = parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS
    if not (parsed.scheme == "https" or loopback) or not parsed.hostname:
        raise ConfigurationError(
            f"the OpenID Connect {what} {url!r} is not an https URL",
            hint="use the provider's https address (plain http is allowed on loopback only)",
        )


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    username_claim: str
    label: str
    scopes: str
    redirect_url: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """The provider's configuration, or None when no provider is configured."""
        if not (settings.oidc_issuer or settings.oidc_client_id):
            return None
        if not (settings.oidc_issuer and settings.oidc_client_id):
            raise ConfigurationError(
                "OpenID Connect sign-in needs both CAREHUB_OIDC_ISSUER and CAREHUB_OIDC_CLIENT_ID",
                hint="set both (see docs/operations.md), or neither to sign in with passwords only",
            )
        _require_https(settings.oidc_issuer, "issuer")
        if "openid" not in settings.oidc_scopes.split():
            raise ConfigurationError(
                "CAREHUB_OIDC_SCOPES must include `openid`", hint="e.g. `openid profile email`"
            )
        secret = settings.oidc_client_secret
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            username_claim=settings.oidc_username_claim,
            label=settings.oidc_label,
            scopes=settings.oidc_scopes,
            redirect_url=settings.oidc_redirect_url,
        )


@dataclass(frozen=True)
class Pending:
    """One sign-in on its way through the provider, kept in the signed session."""

    state: str
    nonce: str
    verifier: str
    next: str
    started: float

    @classmethod
    def start(cls, next_path: str) -> Pending:
        # RFC 7636 §4.1: 43-128 characters; 64 random bytes give 86.
        verifier = secrets.token_urlsafe(64)
        return cls(
            secrets.token_urlsafe(32), secrets.token_urlsafe(32), verifier, next_path, time.time()
        )

    def as_dict(self) -> dict[str, str | float]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "verifier": self.verifier,
            "next": self.next,
            "started": self.started,
        }

    @classmethod
    def from_dict(cls, data: object) -> Pending | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                str(data["state"]),
                str(data["nonce"]),
                str(data["verifier"]),
                str(data["next"]),
                float(data["started"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def code_challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA-256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_TOKEN_ERRORS: tuple[tuple[type[jwt.PyJWTError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "it has expired (exp)"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "it is not valid yet (iat or nbf)"),
    (jwt.InvalidAudienceError, "audience", "it was issued for another application (aud)"),
    (jwt.InvalidIssuerError, "issuer", "it was issued by another provider (iss)"),
    (jwt.InvalidSignatureError, "signature", "its signature does not verify"),
    (jwt.InvalidAlgorithmError, "algorithm", "it is signed with an algorithm not allowed"),
    (jwt.MissingRequiredClaimError, "claims", "a required claim is missing"),
)


class OidcClient:
    """One configured provider. The discovery document and the keys are cached (thread-safe:
    the web app answers requests in threads)."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: list[dict[str, Any]] = []
        self._jwks_at = 0.0

    # --- talking to the provider ------------------------------------------------------------

    def _failed_to_reach(self, what: str, error: Exception) -> SignInFailed:
        LOG.warning("OpenID Connect: %s failed: %s", what, type(error).__name__)
        return SignInFailed(
            "provider_unreachable",
            f"carehub could not get an answer from {self.config.label} ({what}).",
            "try again in a few minutes; if it goes on, tell your carehub administrator",
            status=502,
        )

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise self._failed_to_reach(what, error) from None
        if not isinstance(document, dict):
            raise self._failed_to_reach(what, TypeError("not a JSON object"))
        return document

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, checked (OpenID Connect Discovery §4.3)."""
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata_at < DISCOVERY_TTL_SECONDS:
                return self._metadata
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "discovery")
        if document.get("issuer") != self.config.issuer:
            raise ConfigurationError(
                f"the OpenID provider calls itself {document.get('issuer')!r}, "
                f"not {self.config.issuer!r}",
                hint="set CAREHUB_OIDC_ISSUER to exactly the issuer its discovery document names",
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise ConfigurationError(f"the OpenID provider's discovery document has no {name}")
            _require_https(document[name], name)
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise ConfigurationError("the OpenID provider does not support PKCE with S256")
        with self._lock:
            self._metadata, self._metadata_at = document, time.monotonic()
        return document

    def authorization_url(self, pending: Pending, redirect_uri: str) -> str:
        endpoint = str(self.metadata()["authorization_endpoint"])
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.config.scopes,
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": code_challenge(pending.verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """Trade the code (and the PKCE verifier) for an ID token at the token endpoint."""
        metadata = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.config.client_id,
            "code_verifier": verifier,
        }
        auth: httpx.BasicAuth | None = None
        secret = self.config.client_secret
        if secret is not None:
            methods = metadata.get("token_endpoint_auth_methods_supported") or [
                "client_secret_basic"
            ]
            if "client_secret_basic" in methods:
                # RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
                auth = httpx.BasicAuth(quote_plus(self.config.client_id), quote_plus(secret))
            else:
                form["client_secret"] = secret
        try:
            response = httpx.post(
                str(metadata["token_endpoint"]),
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=HTTP_TIMEOUT_SECONDS,
            )
            body = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as error:
            raise self._failed_to_reach("token exchange", error) from None
        if response.status_code != 200 or not isinstance(body, dict):
            code_name = provider_error_code(body.get("error") if isinstance(body, dict) else None)
            LOG.warning("OpenID Connect: token endpoint refused the code: %s", code_name)
            raise SignInFailed(
                "code_refused",
                f"{self.config.label} would not complete the sign-in ({code_name}).",
                "start again from the sign-in page",
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed(
                "no_id_token",
                f"{self.config.label} did not send an ID token.",
                "check that CAREHUB_OIDC_SCOPES includes openid",
                status=502,
            )
        return id_token

    # --- checking the ID token --------------------------------------------------------------

    def _keys(self, refresh: bool) -> list[dict[str, Any]]:
        with self._lock:
            age = time.monotonic() - self._jwks_at
            if (
                self._jwks
                and age < DISCOVERY_TTL_SECONDS
                and (not refresh or age < JWKS_REFETCH_SECONDS)
            ):
                return self._jwks
        document = self._get_json(str(self.metadata()["jwks_uri"]), "signing keys")
        listed = document.get("keys")
        keys = [k for k in listed if isinstance(k, dict)] if isinstance(listed, list) else []
        with self._lock:
            self._jwks, self._jwks_at = keys, time.monotonic()
        return keys

    def _signing_key(self, kid: object, alg: str) -> jwt.PyJWK:
        """The published key the token names (refetching once, for a provider that rotated)."""
        for refresh in (False, True):
            candidates = [
                k
                for k in self._keys(refresh)
                if k.get("use", "sig") == "sig" and (kid is None or k.get("kid") == kid)
            ]
            if len(candidates) == 1:
                try:
                    return jwt.PyJWK(candidates[0], algorithm=candidates[0].get("alg") or alg)
                except jwt.PyJWTError:
                    break
        raise SignInFailed(
            "unknown_key",
            f"{self.config.label} sent an ID token signed with a key it does not publish.",
            "start again from the sign-in page; if it goes on, tell your carehub administrator",
        )

    def _algorithms(self) -> list[str]:
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [a for a in ALGORITHMS if a in offered]

    def validate(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of a genuine ID token meant for carehub and for this sign-in."""
        try:
            header = jwt.get_unverified_header(id_token)
            alg = str(header.get("alg"))
            if alg not in self._algorithms():
                raise jwt.InvalidAlgorithmError("not allowed")
            claims = jwt.decode(
                id_token,
                self._signing_key(header.get("kid"), alg),
                algorithms=[alg],
                audience=self.config.client_id,
                issuer=self.config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as error:
            raise self._bad_token(error) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.config.client_id:
            raise self._refused("audience", "it was issued for another application (azp)")
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise self._refused("nonce", "it was issued for another sign-in (nonce)")
        return claims

    def _refused(self, reason: str, why: str) -> SignInFailed:
        LOG.warning("OpenID Connect: ID token refused: %s", reason)
        return SignInFailed(
            reason,
            f"The ID token from {self.config.label} cannot be accepted: {why}.",
            "start again from the sign-in page; if it happens again, tell your carehub "
            "administrator (check the server's clock if the token was expired or not yet valid)",
        )

    def _bad_token(self, error: jwt.PyJWTError) -> SignInFailed:
        for kind, reason, why in _TOKEN_ERRORS:
            if isinstance(error, kind):
                return self._refused(reason, why)
        return self._refused("token_invalid", "it is not a well-formed, signed token")

    def username(self, claims: dict[str, Any]) -> str:
        """The carehub username the configured claim gives."""
        claim = self.config.username_claim
        value = claims.get(claim)
        if not isinstance(value, str) or not value.strip() or len(value) > 120:
            raise SignInFailed(
                "no_username",
                f"{self.config.label} did not say who you are (no usable {claim!r} claim).",
                f"ask your carehub administrator to check CAREHUB_OIDC_USERNAME_CLAIM ({claim})",
            )
        if claim == "email" and claims.get("email_verified") is False:
            raise SignInFailed(
                "email_unverified",
                f"{self.config.label} has not verified your email address.",
                "verify it with your provider first, then sign in again",
            )
        return value
