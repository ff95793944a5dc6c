"""Who may use the admin surface: the one access rule of every path that is not DUIS.

The DUIS endpoints (``/api/v1/...``) authenticate each request by its XML signature against a
registered certificate. Everything else the gateway serves - the JSON admin API under
``/admin``, the web view at ``/``, ``/ui`` and ``/static``, the event stream and the frame log -
is the admin surface, and it can register certificates: whoever reaches it can act as any
user. So:

- a client on the loopback interface (the test harness on the same machine) is let in, as
  before;
- any other client needs ``Authorization: Bearer <token>``, the token compared in constant
  time; without it, or with another, the answer is ``401`` with a JSON error saying how to
  authenticate, and the handler never runs (nothing changes);
- a browser cannot add that header to every request (``EventSource`` sends none), so a far
  user opens any admin page once with ``?token=<token>``: the answer is a redirect to the same
  URL without it that sets an ``HttpOnly``, ``SameSite=Strict`` cookie (:data:`COOKIE`), and
  the cookie is then accepted as the header is. The cookie holds a digest of the token, not
  the token, compared in constant time too; a wrong ``?token=`` is ``401`` and sets nothing;
- with a separate admin listener (``--admin-host``) the admin paths are not served on the
  DUIS listener at all (``404``), and the admin listener serves nothing else.

The rule is default-deny: a path is admin unless it is under one of :data:`PUBLIC_PREFIXES`,
so routes added later (whatever their names) are covered without being listed here.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Final

from aiohttp import web

from gateway.config import ConfigError, GatewaySettings

logger = logging.getLogger(__name__)

PUBLIC_PREFIXES: Final = ("/api/v1/",)
"""Paths outside the admin surface: the DUIS endpoints, authenticated by their signatures."""
TOKEN_ENV: Final = "SMETSIM_ADMIN_TOKEN"
COOKIE: Final = "smetsim_admin"
"""The cookie a browser gets for ``?token=<token>`` (see the module docstring)."""
TOKEN_QUERY: Final = "token"
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_admin_path(path: str) -> bool:
    """Whether ``path`` belongs to the admin surface (every path but the DUIS endpoints)."""
    return not path.startswith(PUBLIC_PREFIXES)


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or a host name) is on the loopback interface only.

    Unknown names and wildcard addresses (``0.0.0.0``, ``::``) are not: the rule errs towards
    asking for a token."""
    if host is None:
        return False
    text = host.strip().strip("[]").split("%", 1)[0].lower()
    if text in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def admin_port(settings: GatewaySettings) -> int:
    """The port of the separate admin listener: ``admin_port``, else the DUIS port + 1 (0, any
    free port, when the DUIS port is 0 or the last one)."""
    if settings.admin_port is not None:
        return settings.admin_port
    return 0 if settings.port in (0, 65535) else settings.port + 1


def admin_reachable_beyond_loopback(settings: GatewaySettings) -> bool:
    """Whether a client off this machine can reach the admin surface's listener."""
    host = settings.admin_host if settings.admin_host is not None else settings.host
    return not is_loopback(host)


def resolve_admin(settings: GatewaySettings) -> tuple[GatewaySettings, bool]:
    """``settings`` checked, with a token generated (``secrets.token_urlsafe``) when the admin
    surface is reachable beyond loopback and none was given; and whether one was generated.

    Raises :class:`ConfigError` for an admin listener on the DUIS port."""
    if settings.admin_host is not None:
        port = admin_port(settings)
        if port != 0 and port == settings.port:
            raise ConfigError(
                f"--admin-port {port} is the DUIS port: the admin listener needs a port of "
                "its own (leave --admin-port out for the DUIS port + 1)"
            )
    elif settings.admin_port is not None:
        raise ConfigError(
            "--admin-port needs --admin-host (the admin listener's address, e.g. 127.0.0.1)"
        )
    if settings.admin_token is None and admin_reachable_beyond_loopback(settings):
        return replace(settings, admin_token=secrets.token_urlsafe(32)), True
    return settings, False


def admin_access(settings: GatewaySettings, duis_url: str) -> str:
    """Who may use the admin paths, in one line for a start banner (never the token)."""
    where = f"on their own listener, not on {duis_url}" if settings.admin_host is not None else ""
    if settings.admin_token is None:
        who = "loopback clients only"
    else:
        who = "loopback clients; others with 'Authorization: Bearer <admin token>'"
    return f"admin access: {who}" + (f"; {where}" if where else "")


def token_banner(token: str) -> str:
    """The banner line of a generated token: the one place it is ever shown."""
    return (
        f"admin token: {token} (generated for this run: clients off this machine send "
        "'Authorization: Bearer <token>'; set your own with --admin-token or "
        f"{TOKEN_ENV})"
    )


@dataclass(slots=True)
class AdminAccess:
    """The access rule as an aiohttp middleware (:meth:`middleware`)."""

    token: str | None
    """What non-loopback clients must send as ``Authorization: Bearer``; None: none may."""
    separate: bool = False
    """The admin paths are served on their own listener only."""
    admin_port: int | None = None
    """That listener's local port, once it listens (until then no admin path is served)."""

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        admin = is_admin_path(_route_path(request))
        if self.separate:
            on_admin_listener = self.admin_port is not None and _local_port(request) == (
                self.admin_port
            )
            if admin != on_admin_listener:
                return _error(404, "not found on this listener")
        if admin and TOKEN_QUERY in request.query and request.method in ("GET", "HEAD"):
            return self._token_login(request)
        if not admin or is_loopback(request.remote):
            return await handler(request)
        refusal = self._refusal(request)
        if refusal is not None:
            logger.info(
                "admin request %s %s from %s refused: %s",
                request.method,
                request.path,
                request.remote,
                refusal,
            )
            return _error(
                401,
                f"{refusal}. The admin API answers clients off this machine only with the "
                "header 'Authorization: Bearer <token>', the token given with --admin-token, "
                f"{TOKEN_ENV} or [gateway] admin_token, or else printed once on the start "
                f"banner (in a browser: open /?{TOKEN_QUERY}=<token> once)",
                headers=_CHALLENGE,
            )
        return await handler(request)

    def _token_login(self, request: web.Request) -> web.StreamResponse:
        """``?token=``: a redirect to the URL without it, setting the cookie when the token is
        right; ``401`` (nothing set) when it is wrong, or when no token is set and the client is
        not on loopback. A loopback client of a gateway without a token is just redirected, so
        the parameter never stays in an address bar."""
        given = request.query.get(TOKEN_QUERY, "")
        right = self.token is not None and hmac.compare_digest(
            given.encode("utf-8"), self.token.encode("utf-8")
        )
        refused = not is_loopback(request.remote) if self.token is None else not right
        if refused:
            reason = (
                "no admin token is set on this gateway, so only loopback clients are served"
                if self.token is None
                else f"the {TOKEN_QUERY} given is not the admin token"
            )
            logger.info("admin login %s from %s refused: %s", request.path, request.remote, reason)
            return _error(401, f"{reason}: nothing was set", headers=_CHALLENGE)
        query = request.rel_url.query.copy()
        del query[TOKEN_QUERY]
        location = str(request.rel_url.with_query(query))
        response = web.Response(status=303, headers={"Location": location})
        if right and self.token is not None:
            # No Secure flag: the gateway speaks plain HTTP; SameSite=Strict keeps other
            # sites' pages from using the cookie, HttpOnly keeps scripts from reading it.
            response.set_cookie(
                COOKIE,
                _cookie_value(self.token),
                path="/",
                httponly=True,
                samesite="Strict",
            )
        return response

    def _refusal(self, request: web.Request) -> str | None:
        """Why ``request`` (from a non-loopback client) is refused; None if it may pass."""
        if self.token is None:
            return "no admin token is set on this gateway, so only loopback clients are served"
        header = request.headers.get("Authorization")
        if header is None:
            cookie = request.cookies.get(COOKIE)
            if cookie is None:
                return "the request has no Authorization header"
            if not hmac.compare_digest(
                cookie.encode("utf-8"), _cookie_value(self.token).encode("utf-8")
            ):
                return f"the {COOKIE} cookie is not this gateway's (its token changed?)"
            return None
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return "the Authorization header is not 'Bearer <token>'"
        if not hmac.compare_digest(credentials.strip().encode("utf-8"), self.token.encode("utf-8")):
            return "the admin token is wrong"
        return None


_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="smetsim admin"'}


def _cookie_value(token: str) -> str:
    """What the cookie holds: a digest of the token (a cookie leaked from a browser's store
    opens the admin surface of this token's gateway, but does not tell the token itself)."""
    return hmac.new(token.encode("utf-8"), b"smetsim admin cookie", hashlib.sha256).hexdigest()


def _route_path(request: web.Request) -> str:
    """The path the request was routed by: the matched resource's (so that no spelling of a
    URL reaches an admin handler as a public path), else the one the router matched on."""
    resource = request.match_info.route.resource
    if resource is not None:
        return resource.canonical
    return request.rel_url.path_safe


def _local_port(request: web.Request) -> int | None:
    sockname = request.get_extra_info("sockname")
    if isinstance(sockname, tuple | list) and len(sockname) >= 2:
        return int(sockname[1])
    return None


def _error(status: int, message: str, *, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


__all__ = [
    "COOKIE",
    "PUBLIC_PREFIXES",
    "TOKEN_ENV",
    "TOKEN_QUERY",
    "AdminAccess",
    "admin_access",
    "admin_port",
    "admin_reachable_beyond_loopback",
    "is_admin_path",
    "is_loopback",
    "resolve_admin",
    "token_banner",
]
