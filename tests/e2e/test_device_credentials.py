"""The device's own credentials through the sandbox, as a supplier runs them: 6.17 asks the
ESME for a new DS key (its certification request comes back), the PKI issues the certificate,
6.15.2 installs it, 6.24.2 reads it back; each critical, signed by the supplier (CV4 / CV5). A
certificate for another device, or one of a remote party, is refused with a sentence."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from gbcs import content as gc
from gbcs.codes import SUPPLIER, KeyPurpose
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, GSME, Sandbox, SandboxSettings
from tests.e2e.support import SchemaCheck, gbcs_of, request


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0, durability="process"
    )
    sb = await Sandbox.start(settings)
    try:
        yield sb
    finally:
        await sb.close()


def _issue(sandbox: Sandbox, eui: bytes, public: ec.EllipticCurvePublicKey) -> str:
    """The certificate the SMKI would issue for the device's request (test root)."""
    root, root_key = sandbox.keystore.root_certificate, sandbox.keystore.root_key
    assert root is not None
    assert root_key is not None
    subject = x509.Name(
        [
            x509.NameAttribute(
                NameOID.X500_UNIQUE_IDENTIFIER,
                b"\x00" + eui,  # type: ignore[arg-type]
                _type=_ASN1Type.BitString,
            )
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .sign(root_key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


async def _critical(client: DuisClient, xml: bytes, schema: SchemaCheck) -> gc.Response:
    outcome = await client.send(xml, sign=True, wait=True, within=5)
    for answer in outcome.answers:
        assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
    assert outcome.final is not None, "no answer in time"
    assert outcome.final.kind == "response", outcome.final.body
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    return gc.decode_response(message.message_code, message.content)


def _body(element: str, content: str) -> str:
    return f"<sr:{element}>{content}</sr:{element}>"


async def test_a_new_device_certificate_is_issued_installed_and_read_back(
    sandbox: Sandbox, schema: SchemaCheck
) -> None:
    kind = "<sr:CredentialType>Digital Signature</sr:CredentialType>"
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        factory = sandbox.keystore.certificate(ESME, KeyPurpose.DS)
        assert factory is not None
        held = await _critical(
            c, request(c, "6.24.2", ESME, _body("RetrieveDeviceSecurityCredentialsDevice", kind),
                       cv=4), schema)  # fmt: skip
        assert isinstance(held, gc.DeviceCertificate)
        assert held.der == factory.public_bytes(Encoding.DER)

        issued = await _critical(
            c, request(c, "6.17", ESME, _body("IssueSecurityCredentials", kind), cv=4), schema
        )
        assert isinstance(issued, gc.CertificationRequest)
        key = x509.load_der_x509_csr(issued.der).public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        certificate = _issue(sandbox, ESME, key)

        installed = await _critical(
            c,
            request(c, "6.15.2", ESME, _body("UpdateSecurityCredentialsDevice",
                    f"<sr:DeviceCertificate>{certificate}</sr:DeviceCertificate>"), cv=4),
            schema,
        )  # fmt: skip
        assert isinstance(installed, gc.DeviceCertificateUpdated)
        assert installed.ok

        held = await _critical(
            c, request(c, "6.24.2", ESME, _body("RetrieveDeviceSecurityCredentialsDevice", kind),
                       cv=4), schema)  # fmt: skip
        assert isinstance(held, gc.DeviceCertificate)
        assert held.der == base64.b64decode(certificate)


async def test_a_certificate_for_another_device_or_party_is_refused(sandbox: Sandbox) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    supplier = sandbox.keystore.certificate(SUPPLIER, KeyPurpose.DS)
    assert supplier is not None
    cases = {
        "names device 00-DB-12-34-56-78-90-A1": _issue(sandbox, GSME, key),
        "remote party role": base64.b64encode(supplier.public_bytes(Encoding.DER)).decode(),
        "base64 DER X.509": "bm90IGEgY2VydGlmaWNhdGU=",
    }
    sent = sandbox.devices.stats["sent"]
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        for expected, cert in cases.items():
            body = _body(
                "UpdateSecurityCredentialsDevice",
                f"<sr:DeviceCertificate>{cert}</sr:DeviceCertificate>",
            )
            answer = await c.post(request(c, "6.15.2", ESME, body, cv=4))
            assert answer.code == "E42", (expected, answer.code, answer.reason)
            assert expected in (answer.reason or ""), (expected, answer.reason)
    assert sandbox.devices.stats["sent"] == sent
