"""Reads for an Unknown Remote Party end to end (SR4.17 and 4.14 with
``KAPublicSecurityCredentials``): the ACB sends the read with the user, its counter and the
certificate in the other-information; the meter encrypts the answer for that certificate's
key, which only its private key's holder can decrypt - the same values a usual read gives."""

from __future__ import annotations

import base64
import datetime as _dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.devices.meter import MeterDevice
from emulator.usecases import prepay_log_esme
from emulator.usecases.prepay_log_esme import read_prepay_daily_plaintext
from emulator.usecases.reading import UNIX_2000
from gbcs import content as gc
from gbcs.codes import ACB, SUPPLIER, SUPPLIER_2, KeyPurpose
from gbcs.crypto import ENCRYPTION_X, decrypt_payload, derive_key, ecdh, other_info
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.payloads.gbz import EncryptedZcl
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, GPF, GSME, Sandbox
from tests.e2e.support import SchemaCheck, decrypter, request
from tests.e2e.test_device_srs import call


def _urp() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A key pair of an Unknown Remote Party and its (self-signed) KA certificate, base64."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "unknown remote party")])
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(
            x509.KeyUsage(False, False, False, False, True, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    return key, base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _body(element: str, start: _dt.datetime, end: _dt.datetime, ka: str | None) -> str:
    credentials = (
        ""
        if ka is None
        else f"<sr:KAPublicSecurityCredentials>{ka}</sr:KAPublicSecurityCredentials>"
    )
    return (
        f"<sr:{element}><sr:ReadLogPeriod>"
        f"<sr:StartDateTime>{start:%Y-%m-%dT%H:%M:%SZ}</sr:StartDateTime>"
        f"<sr:EndDateTime>{end:%Y-%m-%dT%H:%M:%SZ}</sr:EndDateTime>"
        f"</sr:ReadLogPeriod>{credentials}</sr:{element}>"
    )


def _days(sandbox: Sandbox) -> tuple[_dt.datetime, _dt.datetime]:
    now = int(sandbox.clock().timestamp())
    gsme = sandbox.fleet.device(GSME, now)
    assert isinstance(gsme, MeterDevice)
    meter = gsme.meter
    meter.accounted_to -= 4 * 86_400  # days the meter has yet to record
    meter.advance(now)
    midnight = now - now % 86_400
    return (
        gc.from_utc_seconds(midnight - UNIX_2000 - 3 * 86_400),
        gc.from_utc_seconds(midnight - UNIX_2000),
    )


def _ciphered(message: Message) -> bytes:
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.GbzReadResponse)
    (frame,) = [x.frame for x in response.payload.components if isinstance(x.frame, EncryptedZcl)]
    return frame.ciphered


async def test_4_17_is_encrypted_for_the_key_the_user_gave(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    start, end = _days(sandbox)
    usual = await call(
        client,
        request(client, "4.17", GSME, _body("RetrieveDailyConsumptionLog", start, end, None)),
        schema,
    )
    expected = decrypter(sandbox.keystore, usual)(_ciphered(usual))

    key, certificate = _urp()
    xml = request(
        client, "4.17", GSME, _body("RetrieveDailyConsumptionLog", start, end, certificate)
    )
    message = await call(client, xml, schema)
    assert (message.business_originator, message.business_target) == (GSME, ACB)
    assert message.message_code == 0x00A0
    user_counter = int(xml.split(b"</sr:RequestID>")[0].rsplit(b":", 1)[1])
    assert message.extensions == SUPPLIER + user_counter.to_bytes(8, "big")
    # Only the holder of the URP's private key decrypts it: ECDH with the meter's KA key.
    meter_key = sandbox.keystore.public_key(GSME, KeyPurpose.KA)
    info = other_info(GSME, ENCRYPTION_X, message.originator_counter, SUPPLIER)
    plaintext = decrypt_payload(derive_key(ecdh(key, meter_key), info), GSME, _ciphered(message))
    assert plaintext == expected
    try:
        decrypter(sandbox.keystore, message)(_ciphered(message))
    except DecodeError:
        pass  # the supplier's own key does not open it
    else:
        raise AssertionError("the answer opened with the supplier's key, not the URP's")


async def test_4_14_to_a_gas_meter_answers_the_user_with_the_meters_own_counter(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    """The GSME's prepayment daily read log (GCS16b) for a URP: answered to the ACB with the
    user, its counter and the meter's own KDF counter in the other-information (24 bytes, as
    the DCC's reference response); the values themselves: tests/emulator/test_urp.py."""
    _, certificate = _urp()
    now = sandbox.clock()
    body = _body("ReadPrepaymentDailyReadLog", now - _dt.timedelta(days=2), now, certificate)
    message = await call(client, request(client, "4.14", GSME, body), schema)
    assert (message.business_originator, message.business_target) == (GSME, ACB)
    assert message.message_code == 0x0096
    assert len(message.extensions) == 24
    assert message.extensions[:8] == SUPPLIER
    response = gc.decode_response(0x0096, message.content)
    assert isinstance(response, gc.GbzReadResponse)


async def test_4_14_to_an_esme_answers_its_prepayment_log_for_the_urp(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    """The ESME's prepayment daily read log (ECS21b) for a URP: answered to the ACB with the
    user, its counter and the meter's own KDF counter; only the URP's key opens the log, and
    it holds the meter's balance at each midnight passed."""
    now = int(sandbox.clock().timestamp())
    esme = sandbox.fleet.device(ESME, now)
    assert isinstance(esme, MeterDevice)
    esme.meter.credit.balance = 4321
    # Two midnights the meter has yet to log (as _days leaves days for the GSME to record).
    esme.family_state(prepay_log_esme.FAMILY)["from"] = esme.device_time(now) - 2 * 86_400
    start = gc.from_utc_seconds(now - UNIX_2000 - 3 * 86_400)
    end = gc.from_utc_seconds(now - UNIX_2000 + 3600)
    key, certificate = _urp()
    body = _body("ReadPrepaymentDailyReadLog", start, end, certificate)
    message = await call(client, request(client, "4.14", ESME, body), schema)
    assert (message.business_originator, message.business_target) == (ESME, ACB)
    assert message.message_code == 0x0034
    assert len(message.extensions) == 24
    assert message.extensions[:8] == SUPPLIER
    response = gc.decode_response(0x0034, message.content)
    assert isinstance(response, gc.ProtectedResponse)
    own = int.from_bytes(message.extensions[16:], "big")
    meter_key = sandbox.keystore.public_key(ESME, KeyPurpose.KA)
    info = other_info(ESME, ENCRYPTION_X, own, SUPPLIER)
    plaintext = decrypt_payload(derive_key(ecdh(key, meter_key), info), ESME, response.encrypted)
    entries = read_prepay_daily_plaintext(plaintext)
    assert len(entries) == 2
    assert all(e[0] % 86_400 == 0 and e[1] == 4321 for e in entries)


async def test_4_14_for_a_urp_from_a_supplier_not_responsible_for_the_device(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    """The DCC's GCS16b_4.14_URP template: the second supplier, not responsible for the GPF,
    reads it for itself as an Unknown Remote Party. A URP read exists for the parties the
    device does not know - the answer is encrypted for the key the user gives, so the
    Responsible Supplier rule, which guards what the device's known supplier may do, is not
    the test for it (eligibility by user role, IS / GS for 4.14, still is)."""
    _, certificate = _urp()
    now = sandbox.clock()
    body = _body("ReadPrepaymentDailyReadLog", now - _dt.timedelta(days=2), now, certificate)
    xml = request(client, "4.14", GPF, body, originator=SUPPLIER_2)
    answer = await client.post(xml)
    assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
    message = await call(client, request(client, "4.14", GPF, body, originator=SUPPLIER_2), schema)
    assert (message.business_originator, message.business_target) == (GPF, ACB)
    assert message.extensions[:8] == SUPPLIER_2
