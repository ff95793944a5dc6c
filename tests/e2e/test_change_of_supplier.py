"""A change of supplier through the sandbox, as far as this gateway serves it: supplier A
reads its ESME and hands the supplier role to supplier B with 6.15.1 (B's certificates from
the test PKI, signed by A); the registration data then names B for the meter points; B reads
and disables the supply; A's next command is refused by the gateway (no longer responsible)
and would be by the device (it no longer trusts A)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.supply import SupplyState
from gbcs import content as gc
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER, KeyPurpose
from smetsim.client import DuisClient
from smetsim.sandbox import (
    ESME,
    IMPORT_MPAN,
    SECONDARY_MPAN,
    Sandbox,
    SandboxSettings,
    extra_supplier,
)
from tests.e2e.support import SchemaCheck, gbcs_of, request

B = extra_supplier(1)


@pytest.fixture
async def two_suppliers(tmp_path: Path) -> AsyncIterator[Sandbox]:
    settings = SandboxSettings.create(
        state=tmp_path / "state",
        port=0,
        latency=False,
        response_timeout=2.0,
        durability="process",
        suppliers=1,
    )
    sb = await Sandbox.start(settings)
    try:
        yield sb
    finally:
        await sb.close()


def _b64(sandbox: Sandbox, purpose: KeyPurpose) -> str:
    cert = sandbox.keystore.certificate(B, purpose)
    assert cert is not None
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _handover_body(sandbox: Sandbox) -> str:
    root = sandbox.keystore.root_certificate
    assert root is not None
    path = base64.b64encode(root.public_bytes(Encoding.DER)).decode()
    return (
        "<sr:UpdateSecurityCredentialsKRP><sr:RemotePartyRole>Supplier</sr:RemotePartyRole>"
        "<sr:RemotePartyFloorSeqNumber>0</sr:RemotePartyFloorSeqNumber>"
        "<sr:ReplacementCertificates><sr:SupplierOrNetworkOperatorCertificates>"
        f"<sr:DigitalSigningCertificate>{_b64(sandbox, KeyPurpose.DS)}"
        "</sr:DigitalSigningCertificate>"
        f"<sr:KeyAgreementCertificate>{_b64(sandbox, KeyPurpose.KA)}</sr:KeyAgreementCertificate>"
        "</sr:SupplierOrNetworkOperatorCertificates></sr:ReplacementCertificates>"
        f"<sr:CertificationPathCertificates><sr:Certificate>{path}</sr:Certificate>"
        "</sr:CertificationPathCertificates>"
        "<sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks>"
        "</sr:UpdateSecurityCredentialsKRP>"
    )


async def _final(client: DuisClient, xml: bytes, schema: SchemaCheck, *, sign: bool = False):  # type: ignore[no-untyped-def]
    outcome = await client.send(xml, sign=sign, wait=True, within=5)
    for answer in outcome.answers:
        assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
    assert outcome.final is not None, "no answer in time"
    assert outcome.final.kind == "response", outcome.final.body
    schema(outcome.final.body)
    return gbcs_of(outcome.final.body)


async def test_supplier_a_hands_the_esme_to_supplier_b(
    two_suppliers: Sandbox, schema: SchemaCheck
) -> None:
    sandbox = two_suppliers
    read = "<sr:ReadInstantaneousImportRegisters/>"
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        # A reads its meter.
        message = await _final(c, request(c, "4.1.1", ESME, read), schema)
        assert message.message_code == 0x0027

        # A hands the supplier role over: a critical SR, A signs the pre-command.
        xml = request(c, "6.15.1", ESME, _handover_body(sandbox), cv=4)
        message = await _final(c, xml, schema, sign=True)
        response = gc.decode_response(0x0102, message.content)
        assert isinstance(response, gc.CredentialsUpdated)
        assert response.ok
        assert {(r.old_subject, r.new_subject) for r in response.results} == {(SUPPLIER, B)}
        assert sandbox.fleet.device(ESME, 0).trust.supplier == B

        # Registration data: B now supplies both meter points of the ESME.
        async with aiohttp.ClientSession() as http:
            for mpan in (IMPORT_MPAN, SECONDARY_MPAN):
                point = {
                    "mpxn": mpan,
                    "fuel": "electricity",
                    "supplier": B.hex("-").upper(),
                    "network_operator": NETWORK_OPERATOR.hex("-").upper(),
                }
                async with http.post(f"{sandbox.admin_url}/admin/meter-points", json=point) as r:
                    body = await r.json()
                    assert r.status == 200, body
                    assert body["change_of_supplier"] is True

        # B reads, then disables the supply (critical: B signs).
        message = await _final(c, request(c, "4.1.1", ESME, read, originator=B), schema)
        assert message.business_target == B
        xml = request(c, "7.2", ESME, "<sr:DisableSupply/>", cv=4, originator=B)
        message = await _final(c, xml, schema, sign=True)
        assert gc.decode_response(message.message_code, message.content).ok
        esme = sandbox.fleet.device(ESME, 0)
        assert esme.meter.supply is SupplyState.DISABLED  # type: ignore[attr-defined]

        # A is refused: the gateway no longer takes its SRs for the ESME.
        answer = await c.post(request(c, "7.1", ESME, "<sr:EnableSupply/>", cv=4))
        assert answer.code == "E17", (answer.code, answer.reason)
        esme = sandbox.fleet.device(ESME, 0)
        assert esme.meter.supply is SupplyState.DISABLED  # type: ignore[attr-defined]
