"""The admin access rule (issue 22): loopback clients as before, any other client only with
the bearer token, the DUIS endpoints untouched, and ``admin_host`` keeping the admin paths off
the DUIS listener.

Every request goes to a gateway on 127.0.0.1; a client "off this machine" is one whose peer
address a first middleware (test only) rewrites from the ``X-Test-Peer`` header, as
``request.clone(remote=...)`` does behind a proxy. No traffic leaves loopback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding
from yarl import URL

from gateway.admin_auth import (
    COOKIE,
    admin_port,
    is_admin_path,
    is_loopback,
    resolve_admin,
)
from gateway.config import ConfigError, GatewaySettings, settings_from_mapping
from gateway.server import Gateway
from tests.gateway.duis.http import A0, S1, Client, code_of, settings_for
from tests.gateway.duis.support import read_inventory_body, signer_for

TOKEN = "s3cret-token-for-the-admin-api-0123"
FAR = "203.0.113.7"  # TEST-NET-3: only ever a rewritten peer address, never connected to
NEW_USER = "90-B3-D5-1F-30-04-00-00"


@web.middleware
async def injected_peer(request: web.Request, handler: Any) -> web.StreamResponse:
    peer = request.headers.get("X-Test-Peer")
    return await handler(request if peer is None else request.clone(remote=peer))


async def _started(settings: GatewaySettings) -> Gateway:
    gateway = Gateway.open(settings)
    gateway.app.middlewares.insert(0, injected_peer)
    await gateway.start()
    return gateway


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = await _started(settings_for(tmp_path, admin_token=TOKEN))
    try:
        yield gw
    finally:
        await gw.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(
    session: aiohttp.ClientSession,
    url: str | URL,
    method: str = "GET",
    *,
    peer: str | None = FAR,
    token: str | None = None,
    authorization: str | None = None,
    payload: Any = None,
) -> tuple[int, Any, dict[str, str]]:
    headers: dict[str, str] = {}
    if peer is not None:
        headers["X-Test-Peer"] = peer
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    async with session.request(method, url, headers=headers, json=payload) as response:
        if response.content_type == "text/event-stream":
            # An event stream never ends: its status and headers are the answer.
            return response.status, b"", dict(response.headers)
        raw = await response.read()
        body = json.loads(raw) if response.content_type == "application/json" else raw
        return response.status, body, dict(response.headers)


def base(gateway: Gateway) -> str:
    assert gateway.listening is not None
    return gateway.listening.url


async def registered_euis(gateway: Gateway, session: aiohttp.ClientSession) -> set[str]:
    status, users, _ = await call(session, f"{base(gateway)}/admin/users", peer=None)
    assert status == 200
    return {u["eui"] for u in users}


NEW = {"eui": NEW_USER, "roles": ["OU"]}


async def test_loopback_clients_need_no_token(
    gateway: Gateway, session: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(
        session, f"{base(gateway)}/admin/users", "POST", peer=None, payload=NEW
    )
    assert (status, body["eui"]) == (200, NEW_USER)
    for peer in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        status, _, _ = await call(session, f"{base(gateway)}/admin/health", peer=peer)
        assert status == 200, peer


async def test_a_far_client_without_the_token_gets_401_and_changes_nothing(
    gateway: Gateway, session: aiohttp.ClientSession
) -> None:
    before = await registered_euis(gateway, session)
    status, body, headers = await call(session, f"{base(gateway)}/admin/users", "POST", payload=NEW)
    assert status == 401
    assert "no Authorization header" in body["error"]
    assert "'Authorization: Bearer <token>'" in body["error"]
    assert "--admin-token" in body["error"]
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert NEW_USER not in await registered_euis(gateway, session)
    assert await registered_euis(gateway, session) == before
    status, body, _ = await call(session, f"{base(gateway)}/admin/users")
    assert status == 401  # reading is refused too: the users' certificates and URLs


async def test_a_far_client_with_the_token_is_served(
    gateway: Gateway, session: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(
        session, f"{base(gateway)}/admin/users", "POST", token=TOKEN, payload=NEW
    )
    assert (status, body["eui"]) == (200, NEW_USER)
    assert NEW_USER in await registered_euis(gateway, session)
    status, points, _ = await call(session, f"{base(gateway)}/admin/meter-points", token=TOKEN)
    assert status == 200
    assert isinstance(points, list)


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer {TOKEN.upper()}",
    ],
)
async def test_a_wrong_token_is_refused(
    gateway: Gateway, session: aiohttp.ClientSession, authorization: str
) -> None:
    status, body, _ = await call(
        session, f"{base(gateway)}/admin/users", "POST", authorization=authorization, payload=NEW
    )
    assert status == 401
    assert TOKEN not in body["error"]  # the answer never repeats what was sent
    assert NEW_USER not in await registered_euis(gateway, session)


@pytest.mark.parametrize(
    "path",
    ["/", "/ui", "/ui/devices", "/static/app.js", "/admin/events", "/admin/frames", "/favicon.ico"],
)
async def test_every_other_path_is_admin_whether_routed_yet_or_not(
    gateway: Gateway, session: aiohttp.ClientSession, path: str
) -> None:
    # The web view, event stream and frame log are added by other modules: the rule covers
    # them by default (401 before any 404), and loopback clients reach whatever is there.
    status, _, _ = await call(session, f"{base(gateway)}{path}")
    assert status == 401
    status, _, _ = await call(session, f"{base(gateway)}{path}", peer=None)
    assert status != 401


@pytest.mark.parametrize(
    "raw",
    [
        "/api/v1/../admin/users",
        "/api/v1/%2E%2E/admin/users",
        "/api/v1/%2e%2e%2fadmin/users",
        "//admin/users",
        "/admin//users",
    ],
)
async def test_no_spelling_of_an_admin_path_passes_as_duis(
    gateway: Gateway, session: aiohttp.ClientSession, raw: str
) -> None:
    # The rule classifies by the route a request matched, so a router that resolved these
    # spellings to /admin/users would still see an admin path.
    url = URL(f"{base(gateway)}{raw}", encoded=True)
    status, _, _ = await call(session, url, "POST", payload=NEW)
    assert status in (401, 404, 405)
    assert NEW_USER not in await registered_euis(gateway, session)


async def test_the_duis_endpoints_need_no_token(gateway: Gateway) -> None:
    # Their XML signature is the authentication: a far client's signed request is handled.
    async with aiohttp.ClientSession(headers={"X-Test-Peer": FAR}) as far:
        client = Client(gateway, far)
        status, root, _ = await client.send("8.2", read_inventory_body(A0), originator=S1)
        assert status == 200
        assert code_of(root) not in ("E44", "E45", "E46")
        status, root, _ = await client.send("8.2", read_inventory_body(A0), sign=False)
        assert code_of(root) == "E44"  # and unsigned is refused as before


async def test_without_a_token_no_far_client_is_served(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    gateway = await _started(settings_for(tmp_path))
    try:
        status, body, _ = await call(session, f"{base(gateway)}/admin/health", token=TOKEN)
        assert status == 401
        assert "no admin token is set" in body["error"]
        status, _, _ = await call(session, f"{base(gateway)}/admin/health", peer=None)
        assert status == 200
    finally:
        await gateway.close()


async def test_admin_host_keeps_the_admin_paths_off_the_duis_listener(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    gateway = await _started(settings_for(tmp_path, admin_host="127.0.0.1", admin_port=0))
    try:
        assert gateway.listening is not None
        assert gateway.listening.admin is not None
        public, admin = gateway.listening.url, gateway.listening.admin.url
        assert public != admin
        for path in ("/admin/users", "/admin/health", "/", "/ui"):
            status, body, _ = await call(session, f"{public}{path}", peer=None)
            assert status == 404, path
            assert body == {"error": "not found on this listener"}
        status, _, _ = await call(session, f"{public}/admin/users", "POST", peer=None, payload=NEW)
        assert status == 404
        status, body, _ = await call(
            session, f"{admin}/admin/users", "POST", peer=None, payload=NEW
        )
        assert (status, body["eui"]) == (200, NEW_USER)
        # The admin listener serves nothing but the admin paths ...
        status, _, _ = await call(session, f"{admin}/api/v1/serviceD", "POST", peer=None)
        assert status == 404
        # ... and the DUIS listener still serves DUIS.
        async with aiohttp.ClientSession() as plain:
            status, root, _ = await Client(gateway, plain).send("8.2", read_inventory_body(A0))
        assert code_of(root) not in ("E44", "E45", "E46")
        # A far client on the admin listener still needs a token (there is none here).
        status, _, _ = await call(session, f"{admin}/admin/health")
        assert status == 401
    finally:
        await gateway.close()


async def test_a_far_certificate_swap_needs_the_token(
    gateway: Gateway, session: aiohttp.ClientSession
) -> None:
    # The attack of issue 22: register one's own certificate for the supplier.
    pem = signer_for(bytes.fromhex("90b3d51f30000002")).certificate.public_bytes(Encoding.PEM)
    attack = {"eui": "90-B3-D5-1F-30-01-00-00", "roles": ["IS", "GS"], "certificate": pem.decode()}
    _, users_before, _ = await call(session, f"{base(gateway)}/admin/users", peer=None)
    status, _, _ = await call(session, f"{base(gateway)}/admin/users", "POST", payload=attack)
    assert status == 401
    _, users_after, _ = await call(session, f"{base(gateway)}/admin/users", peer=None)
    assert users_after == users_before


# --- settings ------------------------------------------------------------------------------


def test_loopback_is_recognised() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "10.0.0.1", "203.0.113.7", "::ffff:10.0.0.1", None):
        assert not is_loopback(host), host
    assert not is_loopback("bench-machine.example")  # a name: ask for a token


def test_only_the_duis_paths_are_public() -> None:
    assert not is_admin_path("/api/v1/serviceD")
    assert not is_admin_path("/api/v1/responses")
    for path in ("/admin", "/admin/users", "/", "/ui", "/static/x.css", "/api/v2/x", "/api"):
        assert is_admin_path(path), path


def test_a_token_is_generated_only_when_admin_is_reachable_beyond_loopback() -> None:
    settings, generated = resolve_admin(GatewaySettings(host="0.0.0.0"))
    assert generated
    assert settings.admin_token is not None
    assert len(settings.admin_token) >= 40
    again, _ = resolve_admin(GatewaySettings(host="0.0.0.0"))
    assert again.admin_token != settings.admin_token
    assert resolve_admin(GatewaySettings(host="127.0.0.1")) == (GatewaySettings(), False)
    given = GatewaySettings(host="::", admin_token=TOKEN)
    assert resolve_admin(given) == (given, False)
    local_admin = GatewaySettings(host="0.0.0.0", admin_host="127.0.0.1")
    assert resolve_admin(local_admin) == (local_admin, False)
    _, generated = resolve_admin(GatewaySettings(host="127.0.0.1", admin_host="0.0.0.0"))
    assert generated
    assert TOKEN not in repr(given)  # settings are never printed with their token


def test_admin_listener_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="admin listener needs a port of its own"):
        resolve_admin(GatewaySettings(port=9000, admin_host="127.0.0.1", admin_port=9000))
    with pytest.raises(ConfigError, match="--admin-port needs --admin-host"):
        resolve_admin(GatewaySettings(admin_port=9000))
    assert admin_port(GatewaySettings(port=8079, admin_host="127.0.0.1")) == 8080
    assert admin_port(GatewaySettings(port=0, admin_host="127.0.0.1")) == 0


def test_the_config_file_gives_the_token_and_the_admin_listener() -> None:
    settings = settings_from_mapping(
        {"gateway": {"admin_token": TOKEN, "admin_host": "127.0.0.1", "admin_port": 9100}}
    )
    assert (settings.admin_token, settings.admin_host, settings.admin_port) == (
        TOKEN,
        "127.0.0.1",
        9100,
    )
    with pytest.raises(ConfigError, match="at least 16 characters") as exc:
        settings_from_mapping({"gateway": {"admin_token": "hunter2"}})
    assert "hunter2" not in str(exc.value)
    with pytest.raises(ConfigError, match="printable ASCII"):
        settings_from_mapping({"gateway": {"admin_token": "a token with spaces in it"}})


# --- a browser: ?token= once, then the cookie ------------------------------------------------


async def _login(
    session: aiohttp.ClientSession, url: str, *, peer: str | None = FAR
) -> aiohttp.ClientResponse:
    headers = {} if peer is None else {"X-Test-Peer": peer}
    async with session.get(url, headers=headers, allow_redirects=False) as response:
        await response.read()
        return response


def _cookie_of(response: aiohttp.ClientResponse) -> tuple[str, str]:
    """The admin cookie's value and its whole Set-Cookie line."""
    lines = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    assert len(lines) == 1, lines
    name, _, rest = lines[0].partition("=")
    assert name == COOKIE
    return rest.split(";", 1)[0], lines[0]


async def test_a_far_browser_opens_the_web_view_with_the_token_once(
    gateway: Gateway, session: aiohttp.ClientSession
) -> None:
    login = await _login(session, f"{base(gateway)}/inventory?token={TOKEN}&x=1")
    assert login.status == 303
    assert login.headers["Location"] == "/inventory?x=1"  # the token is not kept in the URL
    value, line = _cookie_of(login)
    assert TOKEN not in line  # a digest of it, not the token
    assert "HttpOnly" in line
    assert "SameSite=Strict" in line
    assert "Path=/" in line
    cookie = {"Cookie": f"{COOKIE}={value}", "X-Test-Peer": FAR}
    # The cookie opens what the bearer header opens: pages, the event stream, the JSON API.
    for path in ("/", "/inventory", "/admin/events", "/admin/users"):
        async with session.get(f"{base(gateway)}{path}", headers=cookie) as answer:
            assert answer.status == 200, path
            if answer.content_type != "text/event-stream":
                await answer.read()
    async with session.post(f"{base(gateway)}/admin/users", headers=cookie, json=NEW) as answer:
        assert answer.status == 200
    assert NEW_USER in await registered_euis(gateway, session)
    # Without it, the same far browser is refused (and told how to get in).
    status, body, _ = await call(session, f"{base(gateway)}/inventory")
    assert status == 401
    assert "/?token=<token>" in body["error"]


@pytest.mark.parametrize("given", [f"{TOKEN}x", "", TOKEN.upper()])
async def test_a_wrong_token_in_the_url_sets_nothing(
    gateway: Gateway, session: aiohttp.ClientSession, given: str
) -> None:
    for peer in (FAR, None):
        login = await _login(session, f"{base(gateway)}/?token={given}", peer=peer)
        assert login.status == 401
        assert "set-cookie" not in {k.lower() for k in login.headers}
        assert "not the admin token" in json.loads(await login.text())["error"]


async def test_a_wrong_or_stale_cookie_is_refused(
    gateway: Gateway, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    for value in ("", "0" * 64, TOKEN):
        headers = {"Cookie": f"{COOKIE}={value}", "X-Test-Peer": FAR}
        async with session.post(
            f"{base(gateway)}/admin/users", headers=headers, json=NEW
        ) as answer:
            assert answer.status == 401
            assert f"the {COOKIE} cookie is not this gateway's" in (await answer.json())["error"]
    assert NEW_USER not in await registered_euis(gateway, session)
    # A cookie of another gateway (another token) opens nothing here.
    other = await _started(settings_for(tmp_path / "other", admin_token=TOKEN + "-other"))
    try:
        login = await _login(session, f"{base(other)}/?token={TOKEN}-other")
        value, _ = _cookie_of(login)
    finally:
        await other.close()
    async with session.get(
        f"{base(gateway)}/admin/users", headers={"Cookie": f"{COOKIE}={value}", "X-Test-Peer": FAR}
    ) as answer:
        assert answer.status == 401


async def test_without_a_token_the_url_login_serves_loopback_only(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    gateway = await _started(settings_for(tmp_path))
    try:
        login = await _login(session, f"{base(gateway)}/?token={TOKEN}")
        assert login.status == 401
        assert "no admin token is set" in json.loads(await login.text())["error"]
        login = await _login(session, f"{base(gateway)}/?token={TOKEN}", peer=None)
        assert login.status == 303
        assert login.headers["Location"] == "/"
        assert "set-cookie" not in {k.lower() for k in login.headers}
    finally:
        await gateway.close()
