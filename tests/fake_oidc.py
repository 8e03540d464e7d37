"""A local fake OpenID Connect provider for the tests (importable: pytest puts tests/ on sys.path).

It does what a real provider does for the authorization code flow with PKCE: discovery,
``/authorize`` (which signs in ``claims`` at once and redirects back with a code and the state),
``/token`` (which checks the client secret, the redirect URI and the PKCE verifier, and returns an
ID token signed RS256 with a key made here) and ``/jwks``. Tests turn the knobs (``deny``,
``token_edits``, ``tamper``) to make it misbehave the ways a provider or an attacker could.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

CLIENT_ID = "carehub-test"
CLIENT_SECRET = "fake-provider-client-secret"
REDIRECT_URI = "http://testserver/sign-in/oidc/callback"  # TestClient's address
KEY_ID = "fake-key-1"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    challenge: str
    nonce: str
    redirect_uri: str
    claims: dict[str, Any]


@dataclass
class FakeProvider:
    issuer: str = ""  # set once it is served
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    claims: dict[str, Any] = field(default_factory=dict)  # who /authorize signs in
    deny: bool = False  # /authorize answers error=access_denied
    token_edits: dict[str, Any] = field(default_factory=dict)  # claims overridden in ID tokens
    tamper: Callable[[str], str] | None = None  # applied to the signed ID token
    signing_key: rsa.RSAPrivateKey | None = None  # sign with another key (same key id)
    codes: dict[str, Grant] = field(default_factory=dict)
    token_requests: int = 0
    pkce_failures: int = 0
    issued: list[str] = field(default_factory=list)  # every ID token sent

    def reset(self, claims: dict[str, Any]) -> None:
        self.claims, self.deny, self.token_edits = claims, False, {}
        self.tamper, self.signing_key = None, None
        self.codes.clear()
        self.issued.clear()
        self.token_requests = self.pkce_failures = 0

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "fake-subject-" + str(grant.claims.get("preferred_username")),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **grant.claims,
            **self.token_edits,
        }
        key = self.signing_key or self.key
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})
        return self.tamper(token) if self.tamper else token

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _client_authenticated(request: Request, form: dict[str, str]) -> bool:
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        client_id, secret = unquote_plus(user), unquote_plus(password)
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    return client_id == CLIENT_ID and secrets.compare_digest(secret, CLIENT_SECRET)


def _token_error(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


def make_app(provider: FakeProvider) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        base = provider.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") != REDIRECT_URI:
            return JSONResponse({"error": "unknown client or redirect URI"}, status_code=400)
        back = {"state": q.get("state", "")}
        ok = (
            q.get("response_type") == "code"
            and "openid" in q.get("scope", "").split()
            and q.get("code_challenge_method") == "S256"
            and q.get("code_challenge")
        )
        if not ok:
            back["error"] = "invalid_request"
        elif provider.deny:
            back["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            provider.codes[code] = Grant(
                q["code_challenge"], q.get("nonce", ""), REDIRECT_URI, dict(provider.claims)
            )
            back["code"] = code
        return RedirectResponse(f"{REDIRECT_URI}?{urlencode(back)}", status_code=302)

    @app.post("/token")
    async def token(request: Request) -> Response:
        provider.token_requests += 1
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not _client_authenticated(request, form):
            return _token_error("invalid_client", 401)
        grant = provider.codes.pop(form.get("code", ""), None)  # a code is used once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return _token_error("invalid_grant")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _token_error("invalid_grant")
        if s256(form.get("code_verifier", "")) != grant.challenge:
            provider.pkce_failures += 1
            return _token_error("invalid_grant")
        id_token = provider.id_token(grant)
        provider.issued.append(id_token)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return provider.jwks()

    return app
