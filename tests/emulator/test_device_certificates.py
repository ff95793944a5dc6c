"""CS02d and CS02e on the emulated devices: after a CS02c, the certificate the PKI issues for
the new key is installed (and only that one: another device's, another key's, no pending
key - each answered with its status and nothing changed), and CS02e answers it; before, CS02e
answers the certificate the PKI issued for the device; only the supplier may ask."""

from __future__ import annotations

import copy
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.fleet import Fleet
from emulator.usecases.security import FAMILY, HW_MODULE_NAME, _hw_module_name
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import NETWORK_OPERATOR, KeyPurpose
from gbcs.keystore import Keystore
from tests.emulator.support import ESME, GSME, HeadEnd, pki_for

Status = c.DeviceCertificateStatus


def _issue(pki: Keystore, eui: bytes, public: ec.EllipticCurvePublicKey, usage: bytes) -> bytes:
    """What the SMKI would issue for a certification request, in GBCS's device certificate
    profile: an empty subject, the device named by the hwSerialNum of a hardwareModuleName in
    the subjectAltName, the key usage of the request, signed by the root."""
    root, root_key = pki.root_certificate, pki.root_key
    assert root is not None
    assert root_key is not None
    ds = usage == c.DS_USAGE
    module = x509.OtherName(HW_MODULE_NAME, _hw_module_name(eui))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(root.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(
            x509.KeyUsage(ds, False, False, False, not ds, False, False, False, False), True
        )
        .add_extension(x509.SubjectAlternativeName([module]), True)
        .sign(root_key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def _new_key(head: HeadEnd, target: bytes, usage: bytes) -> ec.EllipticCurvePublicKey:
    answer = head.send(
        head.command(target, c.IssueSecurityCredentials(usage), counter=head.next_counter())
    )
    assert answer.response is not None
    response = c.decode_response(0x000A, answer.response.content)
    assert isinstance(response, c.CertificationRequest)
    key = x509.load_der_x509_csr(response.der).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def _install(head: HeadEnd, target: bytes, der: bytes) -> c.DeviceCertificateUpdated:
    answer = head.send(
        head.command(target, c.UpdateDeviceCertificate(der), counter=head.next_counter())
    )
    assert answer.response is not None
    assert answer.response.signature is not None  # critical: the answer is signed
    response = c.decode_response(0x000B, answer.response.content)
    assert isinstance(response, c.DeviceCertificateUpdated)
    return response


def _held(head: HeadEnd, target: bytes, usage: bytes) -> c.DeviceCertificate:
    answer = head.send(
        head.command(target, c.ProvideDeviceCertificate(usage), counter=head.next_counter())
    )
    assert answer.response is not None
    response = c.decode_response(0x000C, answer.response.content)
    assert isinstance(response, c.DeviceCertificate)
    return response


def test_the_certificate_of_the_new_key_is_installed_and_provided(
    fleet: Fleet, head: HeadEnd
) -> None:
    pki = pki_for()
    factory = pki.certificate(ESME, KeyPurpose.DS)
    assert factory is not None
    assert _held(head, ESME, c.DS_USAGE).der == factory.public_bytes(Encoding.DER)

    der = _issue(pki, ESME, _new_key(head, ESME, c.DS_USAGE), c.DS_USAGE)
    assert _install(head, ESME, der).status is Status.SUCCESS
    assert _held(head, ESME, c.DS_USAGE).der == der
    state = fleet.device(ESME, head.now).family_state(FAMILY)
    assert "ds" not in state["pending"]  # the key is spent
    # Its KA certificate is still the factory one.
    ka = pki.certificate(ESME, KeyPurpose.KA)
    assert ka is not None
    assert _held(head, ESME, c.KA_USAGE).der == ka.public_bytes(Encoding.DER)
    # And the same certificate cannot be installed twice (no pending key any more).
    assert _install(head, ESME, der).status is Status.NO_CORRESPONDING_KEY_PAIR_GENERATED


def test_a_certificate_the_device_must_not_take_changes_nothing(
    fleet: Fleet, head: HeadEnd
) -> None:
    pki = pki_for()
    key = _new_key(head, GSME, c.KA_USAGE)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    cases = {
        Status.WRONG_DEVICE_IDENTITY: _issue(pki, ESME, key, c.KA_USAGE),
        Status.WRONG_PUBLIC_KEY: _issue(pki, GSME, other, c.KA_USAGE),
        Status.NO_CORRESPONDING_KEY_PAIR_GENERATED: _issue(pki, GSME, key, c.DS_USAGE),
        Status.INVALID_CERTIFICATE: _issue(
            pki, GSME, ec.generate_private_key(ec.SECP384R1()).public_key(), c.KA_USAGE
        ),
    }
    before = copy.deepcopy(fleet.device(GSME, head.now).family_state(FAMILY))
    for status, der in cases.items():
        assert _install(head, GSME, der).status is status, status
    assert fleet.device(GSME, head.now).family_state(FAMILY) == before
    assert "certificates" not in before


def test_only_the_supplier_may_ask(head: HeadEnd) -> None:
    for cmd in (c.ProvideDeviceCertificate(c.DS_USAGE), c.UpdateDeviceCertificate(b"\x30\x00")):
        answer = head.send(
            head.command(ESME, cmd, originator=NETWORK_OPERATOR, counter=head.next_counter())
        )
        assert answer.response is None
        assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
