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
- with a separate admin listener (``--admin-host``) the admin paths are not served on the
  DUIS listener at all (``404``), and the admin listener serves nothing else.

The rule is default-deny: a path is admin unless it is under one of :data:`PUBLIC_PREFIXES`,
so routes added later (whatever their names) are covered without being listed here.
"""

from __future__ import annotations

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
                "banner",
                headers={"WWW-Authenticate": 'Bearer realm="smetsim admin"'},
            )
        return await handler(request)

    def _refusal(self, request: web.Request) -> str | None:
        """Why ``request`` (from a non-loopback client) is refused; None if it may pass."""
        if self.token is None:
            return "no admin token is set on this gateway, so only loopback clients are served"
        header = request.headers.get("Authorization")
        if header is None:
            return "the request has no Authorization header"
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return "the Authorization header is not 'Bearer <token>'"
        if not hmac.compare_digest(credentials.strip().encode("utf-8"), self.token.encode("utf-8")):
            return "the admin token is wrong"
        return None


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
    "PUBLIC_PREFIXES",
    "TOKEN_ENV",
    "AdminAccess",
    "admin_access",
    "admin_port",
    "admin_reachable_beyond_loopback",
    "is_admin_path",
    "is_loopback",
    "resolve_admin",
    "token_banner",
]
