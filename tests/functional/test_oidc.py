"""Signing in with OpenID Connect: carehub (through ASGI) against a fake provider served on
loopback, which signs real RS256 ID tokens with a key made in the test."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from browsing import serving
from fake_oidc import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, FakeProvider, make_app, new_rsa_key
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from workspaces import ADMIN, DEMO_PASSWORD, make_platform

from carehub.errors import ConfigurationError
from carehub.platform import Platform, Role
from carehub.settings import Settings
from carehub.store.tables import AuditEvent, User
from carehub.web.app import create_app

LABEL = "NHS Care Identity"
ANALYST = "dana.analyst"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    with serving(make_app(fake)) as base_url:
        fake.issuer = base_url
        yield fake


@pytest.fixture
def fake(provider: FakeProvider) -> FakeProvider:
    provider.reset({"preferred_username": ANALYST, "email": "dana@example.nhs.uk"})
    return provider


def configured(home: Path, issuer: str, **settings: object) -> Platform:
    options: dict[str, object] = {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_label": LABEL,
        **settings,
    }
    return Platform(Settings(home=home, web_workers=0, **options))  # type: ignore[arg-type]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A workspace with an analyst and an admin (who must never be impersonated)."""
    platform = make_platform(tmp_path / "home")
    platform.add_user(ADMIN, ANALYST, DEMO_PASSWORD, "RAJ", Role.ANALYST)
    platform.add_user(ADMIN, "hub.admin", DEMO_PASSWORD, "RAJ", Role.ADMIN)
    platform.add_user(ADMIN, "dana@example.nhs.uk", DEMO_PASSWORD, "RAJ", Role.VIEWER)
    return tmp_path / "home"


@pytest.fixture
def hub(home: Path, fake: FakeProvider) -> Platform:
    return configured(home, fake.issuer)


@pytest.fixture
def client(hub: Platform) -> TestClient:
    return TestClient(create_app(hub))


# --- the browser's part of the flow ---------------------------------------------------------


def begin(client: TestClient, next_path: str = "/metrics") -> str:
    """Press the button: carehub sends the browser to the provider."""
    response = client.get("/sign-in/oidc", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def at_provider(location: str) -> str:
    """The provider signs the user in and sends the browser back to carehub."""
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in_oidc(client: TestClient, next_path: str = "/metrics") -> httpx.Response:
    return client.get(at_provider(begin(client, next_path)), follow_redirects=False)


def csrf(client: TestClient, path: str = "/sign-in") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def last_event(platform: Platform) -> AuditEvent:
    with platform.database.session() as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


# --- signing in -----------------------------------------------------------------------------


def test_the_sign_in_page_offers_the_provider(client: TestClient) -> None:
    page = client.get("/sign-in?next=/metrics/ed_four_hours").text
    assert f"Sign in with {LABEL}" in page
    assert 'href="/sign-in/oidc?next=/metrics/ed_four_hours"' in page


def test_an_existing_user_signs_in_and_is_audited(
    client: TestClient, hub: Platform, fake: FakeProvider
) -> None:
    assert client.get("/metrics.json").status_code == 401
    anonymous_csrf = csrf(client)
    location = begin(client, "/metrics/ed_four_hours")
    query = query_of(location)
    assert location.startswith(f"{fake.issuer}/authorize?")
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == REDIRECT_URI
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    assert query["scope"] == "openid profile email"

    response = client.get(at_provider(location), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/metrics/ed_four_hours"
    assert client.get("/metrics.json").status_code == 200
    assert csrf(client, "/sign-out") != anonymous_csrf  # a fresh session after sign-in

    event = last_event(hub)
    assert (event.actor, event.action, event.target) == (ANALYST, "signin", f"user/{ANALYST}")
    assert json.loads(event.detail) == {"method": "oidc", "issuer": fake.issuer}
    assert hub.verify_audit().events == event.seq


def test_next_is_kept_on_site(client: TestClient, fake: FakeProvider) -> None:
    response = sign_in_oidc(client, "//evil.example/x")
    assert response.status_code == 303 and response.headers["location"] == "/metrics"


def test_an_unknown_user_is_refused_and_nothing_is_created(
    client: TestClient, hub: Platform, fake: FakeProvider
) -> None:
    fake.reset({"preferred_username": "nobody.here"})
    with hub.database.session() as session:
        users = session.scalar(select(func.count()).select_from(User))
    response = sign_in_oidc(client)
    assert response.status_code == 403
    assert "carehub has no active user of that name" in response.text
    assert "ask a carehub administrator to add you" in response.text
    assert client.get("/metrics.json").status_code == 401
    assert not hub.user_exists("nobody.here")
    with hub.database.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == users
    event = last_event(hub)
    assert (event.actor, event.action, event.target) == (
        "nobody.here",
        "signin.failed",
        "user/nobody.here",
    )
    assert json.loads(event.detail)["method"] == "oidc"


@pytest.mark.parametrize("verified", [True, False])
def test_the_email_claim_can_name_the_user(home: Path, fake: FakeProvider, verified: bool) -> None:
    fake.reset({"email": "dana@example.nhs.uk", "email_verified": verified})
    client = TestClient(create_app(configured(home, fake.issuer, oidc_username_claim="email")))
    response = sign_in_oidc(client)
    if verified:
        assert response.status_code == 303
        assert client.get("/metrics").status_code == 200
    else:
        assert response.status_code == 401 and "has not verified your email" in response.text
        assert client.get("/metrics.json").status_code == 401


# --- refusals -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claim_to_be_the_admin(token: str) -> str:
    """Edit the signed payload (as an attacker in the middle would) and keep the signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["preferred_username"] = "hub.admin"
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _edits(**claims: object) -> Callable[[FakeProvider], None]:
    def apply(fake: FakeProvider) -> None:
        fake.token_edits = dict(claims)

    return apply


def _tamper(fake: FakeProvider) -> None:
    fake.tamper = claim_to_be_the_admin


def _other_key(fake: FakeProvider) -> None:
    fake.signing_key = new_rsa_key()


NOW = int(time.time())
BAD_TOKENS = {
    "tampered payload": (_tamper, "signature", "its signature does not verify"),
    "signed with another key": (_other_key, "signature", "its signature does not verify"),
    "wrong audience": (
        _edits(aud="another-app"),
        "audience",
        "it was issued for another application",
    ),
    "expired": (_edits(iat=NOW - 7200, exp=NOW - 3600), "expired", "it has expired"),
    "issued in the future": (_edits(iat=NOW + 3600), "not_yet_valid", "it is not valid yet"),
    "wrong issuer": (
        _edits(iss="https://idp.example"),
        "issuer",
        "it was issued by another provider",
    ),
    "wrong nonce": (_edits(nonce="another-sign-in"), "nonce", "it was issued for another sign-in"),
    "no nonce": (_edits(nonce=None), "nonce", "it was issued for another sign-in"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_an_id_token_that_cannot_be_trusted_is_refused(
    case: str,
    client: TestClient,
    hub: Platform,
    fake: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    spoil, reason, message = BAD_TOKENS[case]
    spoil(fake)
    response = sign_in_oidc(client)
    assert response.status_code == 401
    assert f"The ID token from {LABEL} cannot be accepted: {message}" in response.text
    assert "Traceback" not in response.text
    assert client.get("/metrics.json").status_code == 401
    (token,) = fake.issued
    for where in (response.text, caplog.text):
        assert token not in where and token.split(".")[1] not in where
    assert f"ID token refused: {reason}" in caplog.text
    event = last_event(hub)
    assert (event.action, event.target) == ("signin.failed", "oidc")
    assert json.loads(event.detail) == {"method": "oidc", "issuer": fake.issuer, "reason": reason}


def test_a_wrong_state_is_refused_before_the_code_is_used(
    client: TestClient, fake: FakeProvider
) -> None:
    callback = at_provider(begin(client))
    forged = callback.replace("state=", "state=forged")
    response = client.get(forged, follow_redirects=False)
    assert response.status_code == 400 and "does not match the sign-in you started" in response.text
    assert fake.token_requests == 0
    # the pending sign-in is used up: the genuine answer, replayed, is refused too
    replay = client.get(callback, follow_redirects=False)
    assert replay.status_code == 400 and "does not belong to a sign-in started here" in replay.text
    assert client.get("/metrics.json").status_code == 401


def test_a_code_from_another_sign_in_fails_the_pkce_check(
    hub: Platform, fake: FakeProvider
) -> None:
    """Code injection: an attacker replays a victim's code in their own sign-in; the provider
    refuses it because the attacker's session holds another PKCE verifier."""
    app = create_app(hub)
    victim, attacker = TestClient(app), TestClient(app)
    stolen = query_of(at_provider(begin(victim)))["code"]
    state = query_of(at_provider(begin(attacker)))["state"]
    response = attacker.get(
        "/sign-in/oidc/callback", params={"code": stolen, "state": state}, follow_redirects=False
    )
    assert fake.pkce_failures == 1
    assert response.status_code == 401
    assert f"{LABEL} would not complete the sign-in (invalid_grant)" in response.text
    assert attacker.get("/metrics.json").status_code == 401


def test_the_provider_refusing_gives_a_clear_page(client: TestClient, fake: FakeProvider) -> None:
    fake.deny = True
    response = sign_in_oidc(client)
    assert response.status_code == 401
    assert f"You cancelled the sign-in, or {LABEL} refused it (access_denied)" in response.text
    assert 'href="/sign-in"' in response.text


def test_a_wrong_client_secret_is_refused_by_the_provider(home: Path, fake: FakeProvider) -> None:
    client = TestClient(create_app(configured(home, fake.issuer, oidc_client_secret="wrong")))
    response = sign_in_oidc(client)
    assert response.status_code == 401 and "(invalid_client)" in response.text
    assert fake.token_requests == 1


def test_an_unreachable_provider_gives_a_clear_page(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = TestClient(create_app(configured(home, f"http://127.0.0.1:{port}")))
    response = client.get("/sign-in/oidc", follow_redirects=False)
    assert response.status_code == 502
    assert f"carehub could not get an answer from {LABEL} (discovery)" in response.text
    assert "Traceback" not in response.text


def test_not_configured_means_no_button_and_no_routes(home: Path) -> None:
    client = TestClient(create_app(Platform(Settings(home=home, web_workers=0))))
    assert "Sign in with" not in client.get("/sign-in").text
    assert client.get("/sign-in/oidc", follow_redirects=False).status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


def test_half_a_configuration_is_refused_at_start(home: Path) -> None:
    platform = Platform(Settings(home=home, web_workers=0, oidc_issuer="https://idp.example"))
    with pytest.raises(ConfigurationError, match="CAREHUB_OIDC_CLIENT_ID"):
        create_app(platform)
