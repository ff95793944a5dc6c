"""A running gateway for tests: an aiohttp client that checks every DUIS response it gets
(valid against the DUIS 5.4 schema with ``xmlschema`` when ../shared/conformance is there,
signed by the gateway)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from lxml import etree

from gateway.config import GatewaySettings
from gateway.duis.signature import XmlSignatureVerifier
from gateway.duis.xml import SR_NS
from gateway.errors import RESPONSE_CODES
from gateway.server import Gateway
from tests.conftest import CONFORMANCE
from tests.gateway.duis.support import (
    assert_valid_response,
    request_document,
    signer_for,
    state_with_pki,
)

S1 = bytes.fromhex("90b3d51f30010000")
S2 = bytes.fromhex("90b3d51f30030000")
NOP = bytes.fromhex("90b3d51f30020000")
A0 = bytes.fromhex("00db1234567890a0")
A1 = bytes.fromhex("00db1234567890a1")
CHF = bytes.fromhex("00db1234567890c0")
ELEC = "1312345678111"
SCHEMA_DIR = CONFORMANCE / "duis" / "schema"
REPLAYED = RESPONSE_CODES["request_id_replayed"].code
NO_MATCH = RESPONSE_CODES["read_no_match"].code


class Client:
    """An aiohttp client for one running gateway; checks every DUIS response it gets."""

    def __init__(self, gateway: Gateway, session: aiohttp.ClientSession) -> None:
        self.gateway = gateway
        self.session = session
        assert gateway.listening is not None
        self.url = gateway.listening.url
        self.counters: dict[bytes, int] = {}

    def next_counter(self, originator: bytes) -> int:
        self.counters[originator] = self.counters.get(originator, 100) + 1
        return self.counters[originator]

    async def post(self, endpoint: str, body: bytes) -> tuple[int, etree._Element, dict[str, str]]:
        async with self.session.post(f"{self.url}/api/v1/{endpoint}", data=body) as response:
            data = await response.read()
            assert response.content_type == "application/xml"
            status = response.status
            headers = dict(response.headers)
        if CONFORMANCE.is_dir():
            assert_valid_response(data, CONFORMANCE)
        root = etree.fromstring(data)
        XmlSignatureVerifier().verify(root, self.gateway.signer.certificate)
        assert headers["X-DUIS-Response-Code"] == code_of(root)
        return status, root, headers

    async def send(
        self,
        srv: str,
        body: str,
        *,
        originator: bytes = S1,
        signer: bytes | None = None,
        endpoint: str = "serviceD",
        cv: int = 8,
        counter: int | None = None,
        sign: bool = True,
    ) -> tuple[int, etree._Element, dict[str, str]]:
        document = request_document(
            originator=originator,
            counter=self.next_counter(originator) if counter is None else counter,
            srv=srv,
            body=body,
            cv=cv,
        )
        if sign:
            document = signer_for(signer or originator).sign_bytes(document)
        return await self.post(endpoint, document)

    async def admin(
        self, method: str, path: str, payload: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {}
        if raw is not None:
            kwargs["data"] = raw
        elif payload is not None:
            kwargs["json"] = payload
        async with self.session.request(method, f"{self.url}{path}", **kwargs) as response:
            return response.status, json.loads(await response.read())


def code_of(root: etree._Element) -> str:
    code = root.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}ResponseCode")
    assert code is not None
    return code


def inventory_ids(root: etree._Element) -> list[str]:
    path = f"{{{SR_NS}}}Body/{{{SR_NS}}}ResponseMessage/{{{SR_NS}}}DSPInventory/{{{SR_NS}}}Device"
    return [d.findtext(f"{{{SR_NS}}}DeviceID") or "" for d in root.findall(path)]


def settings_for(tmp_path: Path, **changes: Any) -> GatewaySettings:
    base = GatewaySettings(state=state_with_pki(tmp_path / "state"), host="127.0.0.1", port=0)
    return replace(base, **changes)


async def client_for(tmp_path: Path) -> AsyncIterator[Client]:
    """The body of the ``client`` fixture of the server tests."""
    async with running(settings_for(tmp_path)) as c:
        yield c


class running:  # noqa: N801 - used as `async with running(settings) as client`
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings

    async def __aenter__(self) -> Client:
        self.gateway = Gateway.open(self.settings)
        await self.gateway.start()
        self.session = aiohttp.ClientSession()
        return Client(self.gateway, self.session)

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        await self.gateway.close()
