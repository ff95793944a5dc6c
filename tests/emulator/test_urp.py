"""A read for an Unknown Remote Party on the emulated GSME (GCS16b, SR4.14): the ACB sends
it with the user, its counter and the URP's key agreement certificate; the meter encrypts
each snapshot for that key with its own counter in the KDF, and names that counter in the
answer's other-information - the values are those the meter holds."""

from __future__ import annotations

import datetime as _dt
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.devices.meter import MeterDevice
from emulator.fleet import Fleet
from emulator.usecases.billing import read_prepay_snapshot_plaintext
from emulator.usecases.reading import UNIX_2000
from gbcs import content as c
from gbcs.codes import ACB, SUPPLIER, KeyPurpose
from gbcs.crypto import ENCRYPTION_X, decrypt_payload, derive_key, ecdh, other_info
from gbcs.explain import explain
from gbcs.keystore import Keystore
from gbcs.payloads.gbz import EncryptedZcl
from tests.emulator.support import GSME, HeadEnd

DAY = 86_400


def _urp(curve: ec.EllipticCurve | None = None) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "urp")])
    now = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(3)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(False, False, False, False, True, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(Encoding.DER)


def _days_logged(fleet: Fleet, head: HeadEnd) -> c.Span:
    gsme = fleet.device(GSME, head.now)
    assert isinstance(gsme, MeterDevice)
    head.send(head.command(GSME, c.GbzRead(0x00BF)))  # the device keeps family state from here
    head.advance(timedelta(hours=1))
    for day in range(3):
        gsme.meter.credit.balance = 1000 * (day + 1)
        head.advance(timedelta(days=1))
    end = int(head.now.timestamp()) - UNIX_2000
    return c.Span(c.from_utc_seconds(end - 10 * DAY), c.from_utc_seconds(end))


def _urp_read(head: HeadEnd, span: c.Span, certificate: bytes, user_counter: int):  # type: ignore[no-untyped-def]
    return head.builder.command(
        originator=ACB,
        target=GSME,
        counter=head.next_counter(),
        message_code=0x0096,
        content=c.GbzRead(0x0096, span).encode(),
        critical=False,
        extensions=SUPPLIER + user_counter.to_bytes(8, "big") + certificate,
    )


def _snapshots(response: c.GbzReadResponse, decrypt) -> list[tuple[int, int, int, list[int]]]:  # type: ignore[no-untyped-def]
    return [
        read_prepay_snapshot_plaintext(decrypt(x.frame.ciphered))
        for x in response.payload.components
        if isinstance(x.frame, EncryptedZcl)
    ]


def test_the_snapshots_are_encrypted_for_the_urp_key(fleet: Fleet, head: HeadEnd) -> None:
    span = _days_logged(fleet, head)
    head.next_counter()
    usual = head.send(head.command(GSME, c.GbzRead(0x0096, span)))
    assert usual.response is not None
    known = c.decode_response(0x0096, usual.response.content)
    assert isinstance(known, c.GbzReadResponse)
    expected = _snapshots(known, head.decrypt(usual.response))
    assert len(expected) == 3

    key, certificate = _urp()
    answer = head.send(_urp_read(head, span, certificate, 4242))
    message = answer.response
    assert message is not None
    assert (message.business_originator, message.business_target) == (GSME, ACB)
    assert message.extensions[:16] == SUPPLIER + (4242).to_bytes(8, "big")
    assert len(message.extensions) == 24
    own_counter = int.from_bytes(message.extensions[16:], "big")
    meter = head.keys.public_key(GSME, KeyPurpose.KA)
    info = other_info(GSME, ENCRYPTION_X, own_counter, SUPPLIER)
    secret = derive_key(ecdh(key, meter), info)
    response = c.decode_response(0x0096, message.content)
    assert isinstance(response, c.GbzReadResponse)
    assert _snapshots(response, lambda framed: decrypt_payload(secret, GSME, framed)) == expected


def test_a_urp_key_off_p256_is_refused_by_the_meter(fleet: Fleet, head: HeadEnd) -> None:
    span = _days_logged(fleet, head)
    _, certificate = _urp(ec.SECP384R1())
    answer = head.send(_urp_read(head, span, certificate, 7))
    assert answer.response is not None
    # The GBZ error answer: nothing read, nothing encrypted.
    response = c.decode_response(0x0096, answer.response.content)
    assert not isinstance(response, c.GbzReadResponse)
    log = fleet.device(GSME, head.now).log or []
    assert any("P-256" in line for line in log[-3:])


def test_smetsim_decode_opens_the_answer_with_the_urp_key(fleet: Fleet, head: HeadEnd) -> None:
    """What ``smetsim decode --keystore`` does (:func:`gbcs.explain.explain`): with the URP's
    private key as the user's KA key, every snapshot decrypts."""
    span = _days_logged(fleet, head)
    key, certificate = _urp()
    answer = head.send(_urp_read(head, span, certificate, 9))
    assert answer.response is not None
    keys = Keystore()
    keys.add(SUPPLIER, KeyPurpose.KA, private_key=key)
    keys.add(GSME, KeyPurpose.KA, public_key=fleet.public_key(GSME, KeyPurpose.KA))
    found = explain(answer.response.to_bytes(), keys).decrypted
    assert len(found) == 3
    assert all(d.error is None and d.plaintext for d in found)
    other = Keystore()
    other.add(SUPPLIER, KeyPurpose.KA, private_key=_urp()[0])
    other.add(GSME, KeyPurpose.KA, public_key=fleet.public_key(GSME, KeyPurpose.KA))
    assert all(d.error is not None for d in explain(answer.response.to_bytes(), other).decrypted)
