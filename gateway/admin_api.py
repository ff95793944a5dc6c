"""The gateway's admin JSON API, for test harnesses and operators: ``/admin/health``, the DCC
Users (``/admin/users``), the registration data's meter points (``/admin/meter-points``) and
the RDP files (``/admin/rdp/flush``, ``/admin/rdp/inbox``). Who may call them is
:mod:`gateway.admin_auth`'s rule; ``docs/gateway.md`` documents each path.

Every write goes through the gateway's group commit, so it is durable before its answer; a
bad field is a 400 with a JSON ``{"error": sentence}`` and changes nothing."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.duis.signature import load_certificate
from gateway.errors import AdminError
from gateway.users import MeterPoint, User, UserRole
from gbcs.eui import eui_duis, parse_eui

if TYPE_CHECKING:
    from gateway.server import Gateway

__all__ = ["JSON_LIMIT", "AdminApi", "certificate_pem", "check_certificate"]

JSON_LIMIT: Final = 256 * 1024
"""The largest JSON body an admin path reads."""


class AdminApi:
    """The admin paths of one :class:`gateway.server.Gateway`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def install(self, app: web.Application) -> None:
        app.router.add_get("/admin/health", self._health)
        app.router.add_get("/admin/users", self._get_users)
        app.router.add_post("/admin/users", self._post_user)
        app.router.add_get("/admin/meter-points", self._get_meter_points)
        app.router.add_post("/admin/meter-points", self._post_meter_point)
        app.router.add_post("/admin/rdp/flush", self._post_flush)
        app.router.add_post("/admin/rdp/inbox", self._post_inbox)

    async def _health(self, _: web.Request) -> web.Response:
        gateway = self.gateway
        # The pid tells a harness which of several --workers processes a connection reached.
        # The state folder lets a client on this machine find the keys (smetsim send --wait
        # checks MACs and decrypts with them); admin paths are for loopback or a token only.
        return web.json_response(
            {
                "status": "ok",
                "url": gateway.listening.url if gateway.listening else None,
                "pid": os.getpid(),
                "state": str(gateway.settings.state.resolve()),
            }
        )

    async def _get_users(self, _: web.Request) -> web.Response:
        users = await self.gateway.commits.run(self.gateway.users.all_with_counters)
        return web.json_response([_user_json(u, last) for u, last in users])

    async def _post_user(self, request: web.Request) -> web.Response:
        data = await _json_object(request)
        try:
            eui = _eui_field(data, "eui", required=True)
            assert eui is not None
            roles: frozenset[UserRole] | None = None
            if "roles" in data:
                roles_value = data["roles"]
                if not isinstance(roles_value, list) or not all(
                    isinstance(r, str) for r in roles_value
                ):
                    raise AdminError(
                        f'field \'roles\' must be a list of role names such as ["IS", "GS"], '
                        f"not {roles_value!r}"
                    )
                roles = frozenset(UserRole.parse(r) for r in roles_value)
            # A field left out keeps what the user has; null clears it (docs/gateway.md).
            pem = _optional_string(data, "certificate")
            url = _optional_string(data, "response_url")
            _unknown_fields(data, {"eui", "roles", "certificate", "response_url"})
            certificate = None if pem is None else check_certificate(pem, eui)

            def register() -> User:
                # The uniqueness check and the write in one transaction: another worker
                # process cannot register the same certificate in between.
                with self.gateway.storage.transaction():
                    existing = self.gateway.users.get(eui)
                    if existing is None:
                        if roles is None:
                            raise AdminError(
                                f"user {eui_duis(eui)} is new: field 'roles' is needed "
                                '(a list of role names such as ["IS", "GS"])'
                            )
                        updated = User(eui, roles, pem, url)
                    else:
                        updated = User(
                            eui,
                            existing.roles if roles is None else roles,
                            pem if "certificate" in data else existing.certificate_pem,
                            url if "response_url" in data else existing.response_url,
                        )
                    if certificate is not None:
                        holder = self.gateway.users.find_by_issuer_serial(
                            certificate.issuer.rfc4514_string(), certificate.serial_number
                        )
                        if holder is not None and holder.eui != eui:
                            raise AdminError(
                                "field 'certificate': this certificate (serial "
                                f"{certificate.serial_number}) is already registered to "
                                f"{eui_duis(holder.eui)}"
                            )
                    return self.gateway.users.add_or_update(updated)

            user = await self.gateway.commits.run(register)
        except AdminError as exc:
            return _json_error(str(exc))
        if "certificate" in data:
            self.gateway.certificates.remove_owner(eui)
            if certificate is not None:
                self.gateway.certificates.add(eui, certificate, pem)
        return web.json_response(_user_json(user))

    async def _get_meter_points(self, _: web.Request) -> web.Response:
        points = await self.gateway.commits.run(self.gateway.meter_points.list_meter_points)
        return web.json_response([_meter_point_json(p) for p in points])

    async def _post_meter_point(self, request: web.Request) -> web.Response:
        data = await _json_object(request)
        try:
            mpxn = data.get("mpxn")
            if not isinstance(mpxn, str) or not mpxn:
                raise AdminError(f"field 'mpxn' must be the MPAN or MPRN as a string, not {mpxn!r}")
            fuel = data.get("fuel")
            if fuel not in ("electricity", "gas"):
                raise AdminError(f'field \'fuel\' must be "electricity" or "gas", not {fuel!r}')
            supplier = _eui_field(data, "supplier", required=True)
            assert supplier is not None
            network_operator = _eui_field(data, "network_operator")
            uprn = data.get("uprn")
            if uprn is not None and (isinstance(uprn, bool) or not isinstance(uprn, str | int)):
                raise AdminError(f"field 'uprn' must be a string or integer, not {uprn!r}")
            _unknown_fields(data, {"mpxn", "fuel", "supplier", "network_operator", "uprn"})

            def register() -> tuple[MeterPoint | None, MeterPoint]:
                before = self.gateway.meter_points.get(mpxn)
                after = self.gateway.meter_points.register_meter_point(
                    mpxn, str(fuel), supplier, network_operator, uprn=uprn
                )
                return before, after

            before, after = await self.gateway.commits.run(register)
        except AdminError as exc:
            return _json_error(str(exc))
        body = _meter_point_json(after)
        body["change_of_supplier"] = before is not None and before.supplier != after.supplier
        return web.json_response(body, status=200 if before is not None else 201)

    async def _post_flush(self, _: web.Request) -> web.Response:
        if self.gateway.rdp is None:
            return _json_error("no RDP outbox: start the gateway with --rdp-outbox DIR", status=409)
        files = await self.gateway.flush_rdp()
        return web.json_response({"files": [str(f) for f in files]})

    async def _post_inbox(self, _: web.Request) -> web.Response:
        if self.gateway.rdp is None:
            return _json_error("no RDP outbox: start the gateway with --rdp-outbox DIR", status=409)
        return web.json_response({"reports": await self.gateway.read_rdp_answers()})


# --- helpers ---------------------------------------------------------------------------------


def certificate_pem(certificate: Any) -> str:
    pem: bytes = certificate.public_bytes(Encoding.PEM)
    return pem.decode("ascii")


def check_certificate(pem: str, eui: bytes) -> Any:
    try:
        return load_certificate(pem)
    except ValueError as exc:
        raise AdminError(f"field 'certificate' of user {eui_duis(eui)}: {exc}") from None


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
        data = json.loads(raw)
    except web.HTTPRequestEntityTooLarge:
        raise web.HTTPRequestEntityTooLarge(
            max_size=JSON_LIMIT,
            actual_size=request.content_length or 0,
            text=json.dumps({"error": f"the JSON body is larger than {JSON_LIMIT} bytes"}),
            content_type="application/json",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"the body is not JSON: {exc}"}),
            content_type="application/json",
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}),
            content_type="application/json",
        )
    return data


def _json_error(message: str, *, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _eui_field(data: dict[str, Any], name: str, *, required: bool = False) -> bytes | None:
    value = data.get(name)
    if value is None:
        if required:
            raise AdminError(
                f"field {name!r} is missing: an EUI-64 such as 90-B3-D5-1F-30-01-00-00"
            )
        return None
    if not isinstance(value, str):
        raise AdminError(f"field {name!r} must be an EUI-64 string, not {value!r}")
    try:
        return parse_eui(value)
    except ValueError as exc:
        raise AdminError(f"field {name!r}: {exc}") from None


def _optional_string(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise AdminError(f"field {name!r} must be a string, not {value!r}")
    return value


def _unknown_fields(data: dict[str, Any], known: set[str]) -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise AdminError(
            f"unknown field(s) {', '.join(map(repr, extra))}: expected {', '.join(sorted(known))}"
        )


def _user_json(user: User, last_counter: int | None = None) -> dict[str, Any]:
    return {
        "eui": eui_duis(user.eui),
        "roles": sorted(r.value for r in user.roles),
        "certificate": user.certificate_pem,
        "response_url": user.response_url,
        "last_request_counter": last_counter,
    }


def _meter_point_json(point: MeterPoint) -> dict[str, Any]:
    return {
        "mpxn": point.mpxn,
        "fuel": point.fuel.value,
        "supplier": eui_duis(point.supplier),
        "network_operator": None
        if point.network_operator is None
        else eui_duis(point.network_operator),
        "uprn": point.uprn,
        "service_flag": point.service_flag,
    }
