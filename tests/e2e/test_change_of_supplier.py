"""A change of supplier through the sandbox, both ways a supplier may make one.

The DCC's own (SR6.23): the registration data names supplier B for the ESME's meter points;
B asks for the change with its own certificates (from the test PKI); the DCC's transitional
CoS party signs the CS02b and the ESME moves its supplier role to B; the SMI records B; B reads
and disables the supply; A's next command is refused by the gateway. Bad requests (not the
registered supplier, another supplier's certificates, a certificate of the wrong use or
curve) are refused with a sentence and change nothing.

The old supplier's handover (SR6.15.1): A reads its ESME and hands the supplier role to B,
signed by A; the registration data then names B; B reads and disables the supply; A's next
command is refused by the gateway (no longer responsible) and would be by the device."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.supply import SupplyState
from gateway import frame_log
from gateway.inventory import Inventory
from gateway.smi import credentials_supplier, responsible_suppliers
from gbcs import content as gc
from gbcs.codes import ACB, NETWORK_OPERATOR, SUPPLIER, TRANSITIONAL_COS, KeyPurpose
from gbcs.frames import Message
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.sandbox import (
    CHF,
    ESME,
    GPF,
    IMPORT_MPAN,
    SECONDARY_MPAN,
    Sandbox,
    SandboxSettings,
    extra_supplier,
)
from tests.e2e.support import MovableClock, SchemaCheck, gbcs_of, request, start_clocked

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


def _b64(sandbox: Sandbox, purpose: KeyPurpose, eui: bytes = B) -> str:
    cert = sandbox.keystore.certificate(eui, purpose)
    assert cert is not None
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _root(sandbox: Sandbox) -> str:
    root = sandbox.keystore.root_certificate
    assert root is not None
    return base64.b64encode(root.public_bytes(Encoding.DER)).decode()


def _cos_body(
    sandbox: Sandbox, *, ds: str | None = None, eui: bytes = B, at: datetime | None = None
) -> str:
    """SR6.23: the new supplier's own certificates, for the ESME's import MPAN."""
    when = (
        ""
        if at is None
        else f"<sr:ExecutionDateTime>{at.strftime('%Y-%m-%dT%H:%M:%S.00Z')}</sr:ExecutionDateTime>"
    )
    return (
        f"<sr:UpdateSecurityCredentialsCoS>{when}"
        "<sr:SupplierFloorSeqNumber>0</sr:SupplierFloorSeqNumber>"
        "<sr:SupplierReplacementCertificates>"
        f"<sr:DigitalSigningCertificate>{ds or _b64(sandbox, KeyPurpose.DS, eui)}"
        "</sr:DigitalSigningCertificate>"
        f"<sr:KeyAgreementCertificate>{_b64(sandbox, KeyPurpose.KA, eui)}"
        "</sr:KeyAgreementCertificate></sr:SupplierReplacementCertificates>"
        f"<sr:CertificationPathCertificates><sr:Certificate>{_root(sandbox)}</sr:Certificate>"
        "</sr:CertificationPathCertificates>"
        "<sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks>"
        f"<sr:ImportMPxN>{IMPORT_MPAN}</sr:ImportMPxN></sr:UpdateSecurityCredentialsCoS>"
    )


def _p384_certificate(sandbox: Sandbox) -> str:
    """B's DS certificate with its key on P-384 (a curve GBCS does not use)."""
    return _b_certificate_with(sandbox, ec.SECP384R1())


def _b_certificate_with(sandbox: Sandbox, curve: ec.EllipticCurve) -> str:
    """B's DS certificate, issued by the root, for a new key on ``curve`` (not the key the
    PKI published for B)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    real = sandbox.keystore.certificate(B, KeyPurpose.DS)
    root_key = sandbox.keystore.root_key
    assert real is not None
    assert root_key is not None
    key = ec.generate_private_key(curve)
    cert = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(real.extensions.get_extension_for_class(x509.KeyUsage).value, True)
        .sign(root_key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


async def _register(sandbox: Sandbox, supplier: bytes) -> None:
    """Registration data: ``supplier`` supplies both meter points of the ESME."""
    async with aiohttp.ClientSession() as http:
        for mpan in (IMPORT_MPAN, SECONDARY_MPAN):
            point = {
                "mpxn": mpan,
                "fuel": "electricity",
                "supplier": supplier.hex("-").upper(),
                "network_operator": NETWORK_OPERATOR.hex("-").upper(),
            }
            async with http.post(f"{sandbox.admin_url}/admin/meter-points", json=point) as r:
                body = await r.json()
                assert r.status == 200, body


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


async def _b_serves_and_a_is_refused(c: DuisClient, sandbox: Sandbox, schema: SchemaCheck) -> None:
    """After a change of supplier: B reads the ESME and disables its supply (critical, B
    signs); A's enable is refused by the gateway (E17), and the ESME keeps B's setting."""
    read = "<sr:ReadInstantaneousImportRegisters/>"
    message = await _final(c, request(c, "4.1.1", ESME, read, originator=B), schema)
    assert message.business_target == B
    xml = request(c, "7.2", ESME, "<sr:DisableSupply/>", cv=4, originator=B)
    message = await _final(c, xml, schema, sign=True)
    assert gc.decode_response(message.message_code, message.content).ok
    esme = sandbox.fleet.device(ESME, 0)
    assert esme.meter.supply is SupplyState.DISABLED  # type: ignore[attr-defined]
    answer = await c.post(request(c, "7.1", ESME, "<sr:EnableSupply/>", cv=4))
    assert answer.code == "E17", (answer.code, answer.reason)
    esme = sandbox.fleet.device(ESME, 0)
    assert esme.meter.supply is SupplyState.DISABLED  # type: ignore[attr-defined]


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

        await _b_serves_and_a_is_refused(c, sandbox, schema)


def _credentials_holder(sandbox: Sandbox, device: bytes = ESME) -> bytes | None:
    with sandbox.gateway.storage.transaction() as tx:
        return credentials_supplier(tx, device)


def _responsible(sandbox: Sandbox) -> frozenset[bytes]:
    with sandbox.gateway.storage.transaction() as tx:
        inv = Inventory(tx)
        record = inv.get(ESME)
        assert record is not None
        return responsible_suppliers(tx, inv, record)


async def test_the_dcc_changes_the_supplier_of_the_esme_for_b(
    two_suppliers: Sandbox, schema: SchemaCheck
) -> None:
    sandbox = two_suppliers
    read = "<sr:ReadInstantaneousImportRegisters/>"
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        # A reads its meter.
        message = await _final(c, request(c, "4.1.1", ESME, read), schema)
        assert message.business_target == SUPPLIER

        sent = sandbox.devices.stats["sent"]
        # B is not the registered supplier yet: refused, nothing changes.
        answer = await c.post(request(c, "6.23", ESME, _cos_body(sandbox), originator=B))
        assert answer.code == "E42", (answer.code, answer.reason)
        assert "not the registered supplier" in (answer.reason or "")

        await _register(sandbox, B)

        # Bad requests from the registered supplier B: each refused with its sentence.
        bad = {
            "another supplier's certificates": _cos_body(sandbox, eui=SUPPLIER),
            "a key agreement certificate as the DS one": _cos_body(
                sandbox, ds=_b64(sandbox, KeyPurpose.KA)
            ),
            "a P-384 key": _cos_body(sandbox, ds=_p384_certificate(sandbox)),
        }
        for what, body in bad.items():
            answer = await c.post(request(c, "6.23", ESME, body, originator=B))
            assert answer.code == "E42", (what, answer.code, answer.reason)
            assert answer.reason, what
        # And A, no longer registered, may not ask for it either.
        answer = await c.post(request(c, "6.23", ESME, _cos_body(sandbox, eui=SUPPLIER)))
        assert answer.code == "E42", (answer.code, answer.reason)
        assert sandbox.fleet.device(ESME, 0).trust.supplier == SUPPLIER
        assert _credentials_holder(sandbox) is None
        assert sandbox.devices.stats["sent"] == sent

        # B's change of supplier: the DCC's transitional CoS party signs the CS02b.
        message = await _final(
            c, request(c, "6.23", ESME, _cos_body(sandbox), originator=B), schema
        )
        assert message.message_code == 0x0107
        assert message.business_target == TRANSITIONAL_COS
        response = gc.decode_response(0x0107, message.content)
        assert isinstance(response, gc.CredentialsUpdated)
        assert response.ok
        assert {(r.old_subject, r.new_subject) for r in response.results} == {(SUPPLIER, B)}
        assert sandbox.fleet.device(ESME, 0).trust.supplier == B
        assert _credentials_holder(sandbox) == B
        assert _responsible(sandbox) == frozenset({B})

        await _b_serves_and_a_is_refused(c, sandbox, schema)

        # Registration data alone does not give the ESME back to A: it trusts B, and the SMI
        # holds B responsible until A's own change of supplier goes through.
        await _register(sandbox, SUPPLIER)
        assert _responsible(sandbox) == frozenset({B})
        answer = await c.post(request(c, "7.1", ESME, "<sr:EnableSupply/>", cv=4))
        assert answer.code == "E17", (answer.code, answer.reason)


def _handover_template(conformance: Path) -> bytes:
    xml = (
        conformance / "duis/templates/CS02bNOByNOHandover_6.21_SUCCESS_REQUEST_DUIS.XML"
    ).read_bytes()
    return xml.replace(
        b"<sr:CommandVariant>1</sr:CommandVariant>", b"<sr:CommandVariant>2</sr:CommandVariant>"
    )


async def test_the_dcc_signs_a_handover_as_the_acb(
    two_suppliers: Sandbox, conformance: Path
) -> None:
    """SR6.21 (the DCC's template, for local delivery so that the command comes back): the
    ACB is the originator, with its own counter, and signs it; the content is the DCC's
    reference up to the certificates and the counter."""
    sandbox = two_suppliers
    reference = Message.from_bytes(
        bytes.fromhex(
            (
                conformance
                / "gbcs/6.21_CS02bNOByNOHandover/CS02bNOByNOHandover_6.21_SUCCESS_COMMAND_GBCS.HEX"
            )
            .read_text()
            .strip()
        )
    )
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        answer = await c.post(c.with_counter(_handover_template(conformance)))
    assert answer.code == "I0", (answer.code, answer.reason)
    assert answer.payload is not None
    ours = Message.from_bytes(answer.payload)
    assert ours.message_code == reference.message_code == 0x0103
    assert ours.business_originator == reference.business_originator == ACB
    assert ours.business_target == reference.business_target
    verifier = Verifier(sandbox.keystore)
    assert verifier.verify_signature(ours) is Check.VALID
    assert verifier.verify_mac(ours) is Check.VALID
    mine = gc.UpdateSecurityCredentials.decode_as(0x0103, ours.content)
    theirs = gc.UpdateSecurityCredentials.decode_as(0x0103, reference.content)
    assert mine.counter == ours.originator_counter  # the ACB's own
    same = dataclasses.replace(
        mine, counter=theirs.counter, certificates=theirs.certificates, path=theirs.path
    )
    assert same.encode() == reference.content


async def test_a_handover_must_install_the_right_party(
    two_suppliers: Sandbox, conformance: Path
) -> None:
    """SR6.21: a supplier handover installs the sender's own certificates, each of the role
    handed over; anything else is refused with a sentence, and nothing is sent."""
    sandbox = two_suppliers
    template = _handover_template(conformance)
    supplier_role = template.replace(
        b"<sr:RemotePartyRole>NetworkOperator<", b"<sr:RemotePartyRole>Supplier<"
    )
    handover_to_b = (
        _handover_body(sandbox)
        .replace("UpdateSecurityCredentialsKRP", "RequestHandoverOfDCCControlledDevice")
        .replace("<sr:SupplierOrNetworkOperatorCertificates>", "")
        .replace("</sr:SupplierOrNetworkOperatorCertificates>", "")
    )
    sent = sandbox.devices.stats["sent"]
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        # The template's certificates are a network operator's (OU 03), not a supplier's.
        answer = await c.post(c.with_counter(supplier_role))
        assert answer.code == "E42", (answer.code, answer.reason)
        assert "remote party role 03, not 02" in (answer.reason or "")
        # A asks for the supplier role to go to B's certificates: not its own.
        answer = await c.post(request(c, "6.21", ESME, handover_to_b))
        assert answer.code == "E42", (answer.code, answer.reason)
        assert "installs the certificates of the supplier asking for it" in (answer.reason or "")
        # B's supplier certificates for the network operator's role.
        wrong_role = handover_to_b.replace(">Supplier<", ">NetworkOperator<")
        answer = await c.post(request(c, "6.21", ESME, wrong_role))
        assert answer.code == "E42", (answer.code, answer.reason)
    assert sandbox.devices.stats["sent"] == sent


async def test_a_future_dated_change_of_supplier_is_held_until_its_time(
    tmp_path: Path, schema: SchemaCheck
) -> None:
    """SR6.23 with an execution date-time to the communications hub (the DSP pattern: a CHF
    does not execute future-dated commands itself): accepted, held by the DCC - the CHF still
    trusts A - and sent when the DCC's clock passes it."""
    clock = MovableClock()
    sandbox = await start_clocked(tmp_path, clock, suppliers=1)
    try:
        await _register(sandbox, B)
        when = clock.now + timedelta(hours=1)
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            xml = request(c, "6.23", CHF, _cos_body(sandbox, at=when), originator=B)
            held = await c.post(xml)
            assert held.code == "I99", (held.code, held.reason)
            assert await c.wait(held.request_id, within=0.3) is None  # not before its time
            assert sandbox.fleet.device(CHF, 0).trust.supplier == SUPPLIER
            assert _credentials_holder(sandbox, CHF) is None
            clock.now = when + timedelta(seconds=1)
            final = await c.wait(held.request_id, within=5)
        assert final is not None
        assert final.kind == "response", final.body
        schema(final.body)
        message = gbcs_of(final.body)
        response = gc.decode_response(0x0107, message.content)
        assert isinstance(response, gc.CredentialsUpdated)
        assert response.ok
        assert sandbox.fleet.device(CHF, 0).trust.supplier == B
        assert _credentials_holder(sandbox, CHF) == B
    finally:
        await sandbox.close()


async def test_a_change_of_supplier_the_device_refuses_changes_nothing(
    two_suppliers: Sandbox, schema: SchemaCheck
) -> None:
    """B's 6.23 passes the DCC's checks, but its DS certificate carries a key the PKI did not
    publish for B: the ESME answers every cell FAILED, keeps trusting A, and the SMI records
    nothing."""
    sandbox = two_suppliers
    await _register(sandbox, B)
    body = _cos_body(sandbox, ds=_b_certificate_with(sandbox, ec.SECP256R1()))
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        message = await _final(c, request(c, "6.23", ESME, body, originator=B), schema)
    response = gc.decode_response(0x0107, message.content)
    assert isinstance(response, gc.CredentialsUpdated)
    assert not response.ok
    assert all(r.outcome is gc.CellOutcome.FAILED for r in response.results)
    assert sandbox.fleet.device(ESME, 0).trust.supplier == SUPPLIER
    assert _credentials_holder(sandbox) is None


async def test_a_future_dated_change_of_supplier_runs_on_the_meter(
    tmp_path: Path, schema: SchemaCheck
) -> None:
    """SR6.23 with an execution date-time to the ESME (the Device pattern): the command goes
    at once carrying the time; the meter acknowledges it, changes supplier when its clock
    passes the time and alerts 0x00CB to B; the SMI then records B."""
    clock = MovableClock()
    sandbox = await start_clocked(tmp_path, clock, suppliers=1)
    try:
        await _register(sandbox, B)
        when = clock.now + timedelta(hours=2)
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            xml = request(c, "6.23", ESME, _cos_body(sandbox, at=when), originator=B)
            message = await _final(c, xml, schema)
        acknowledged = gc.decode_response(0x0107, message.content)
        assert isinstance(acknowledged, gc.CredentialsUpdated)
        assert acknowledged.accepted
        command = gc.UpdateSecurityCredentials.decode_as(0x0107, _sent_command(sandbox))
        assert command.execute_at == when
        assert "scheduled" in sandbox.fleet.device(ESME, 0).family_state("security")
        assert sandbox.fleet.device(ESME, 0).trust.supplier == SUPPLIER
        assert _credentials_holder(sandbox) is None

        clock.now = when + timedelta(minutes=1)
        for out in sandbox.fleet.advance(clock()):
            sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)
        for _ in range(200):
            if _credentials_holder(sandbox) == B:
                break
            await asyncio.sleep(0.01)
        assert _credentials_holder(sandbox) == B
        assert sandbox.fleet.device(ESME, clock()).trust.supplier == B
    finally:
        await sandbox.close()


def _sent_command(sandbox: Sandbox) -> bytes:
    """The content of the last command the gateway sent to the ESME (its frame log): of the
    request sent last, the highest counter first among those sent at the same time (a test's
    clock that stands still)."""
    with sandbox.gateway.storage.transaction() as tx:
        row = tx.one(
            "SELECT request_id FROM device_requests WHERE device = ? AND sent_at IS NOT NULL "
            "ORDER BY sent_at DESC, gbcs_counter DESC LIMIT 1",
            (ESME,),
        )
        assert row is not None
        frames = frame_log.frames_of(tx, str(row[0]))
    assert frames is not None
    (down,) = [f for f in frames if f.direction == "down"]
    return Message.from_bytes(down.frame).content


async def test_the_dcc_hands_over_the_network_operator_cell_of_a_dcc_controlled_gpf(
    two_suppliers: Sandbox, schema: SchemaCheck
) -> None:
    """SR6.21 (CV1) to a GPF whose network operator cell the DCC (the ACB) holds: the ACB
    signs, the GPF takes that signature for the cell and moves the role to the network
    operator of the certificates (the sandbox PKI's); the response, signed by the GPF, goes to
    the supplier that asked."""
    sandbox = two_suppliers
    gpf = sandbox.fleet.device(GPF, 0)
    gpf.trust = dataclasses.replace(gpf.trust, network_operator=ACB)
    body = (
        "<sr:RequestHandoverOfDCCControlledDevice>"
        "<sr:RemotePartyRole>NetworkOperator</sr:RemotePartyRole>"
        "<sr:RemotePartyFloorSeqNumber>0</sr:RemotePartyFloorSeqNumber>"
        "<sr:ReplacementCertificates>"
        f"<sr:DigitalSigningCertificate>{_b64(sandbox, KeyPurpose.DS, NETWORK_OPERATOR)}"
        "</sr:DigitalSigningCertificate>"
        f"<sr:KeyAgreementCertificate>{_b64(sandbox, KeyPurpose.KA, NETWORK_OPERATOR)}"
        "</sr:KeyAgreementCertificate></sr:ReplacementCertificates>"
        f"<sr:CertificationPathCertificates><sr:Certificate>{_root(sandbox)}</sr:Certificate>"
        "</sr:CertificationPathCertificates>"
        "<sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks>"
        "</sr:RequestHandoverOfDCCControlledDevice>"
    )
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        message = await _final(c, request(c, "6.21", GPF, body), schema)
    assert message.business_target == ACB
    assert message.signature is not None
    response = gc.decode_response(0x0103, message.content)
    assert isinstance(response, gc.CredentialsUpdated)
    assert response.ok, response
    assert {(r.old_subject, r.new_subject) for r in response.results} == {(ACB, NETWORK_OPERATOR)}
    assert sandbox.fleet.device(GPF, 0).trust.network_operator == NETWORK_OPERATOR
