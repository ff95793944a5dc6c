"""The future-dated forms of 6.15.1 and 6.14.2 (the Device pattern: the command carries the
execution date-time, DUIS's 3000-12-31 cancels the pending one) and the reads for an Unknown
Remote Party (4.14, 4.17 with ``KAPublicSecurityCredentials``): each DCC template's transform
is the DCC's reference command, and bad input is refused with a sentence."""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from lxml import etree

from gateway.duis.device_requests import read_device_call
from gateway.duis.envelope import parse_request
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.schedule import CANCEL_AT
from gateway.services.device_rules import future_mode
from gateway.srv.catalogue import entry
from gateway.srv.firmware import GBCS_CANCEL_AT
from gateway.srv.reading import ReadRequest
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.usecases import by_name
from tests.gateway.srv.support import reference

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
DCC_CLOCK = _dt.datetime(2015, 1, 1, tzinfo=_dt.UTC)


def _built(conformance: Path, template: str, *, requester: bool = False) -> tuple[bytes, object]:
    """(our content, the DCC's reference message) for ``template``, read as the gateway reads
    it: its ExecutionDateTime taken off the body and given to the build."""
    theirs = reference(conformance, template)
    root = parse_document((conformance / "duis/templates" / template).read_bytes())
    request = parse_request(root)
    call = read_device_call(request, request.header.request_id.originator)
    srv = call.service_reference_variant
    codec = entry(srv).codec
    assert codec is not None
    typed = call.request
    originator = theirs.business_originator
    if requester:
        assert isinstance(typed, ReadRequest)
        typed = dataclasses.replace(typed, requester=call.sender)
    uc = next(
        by_name(n)
        for names in entry(srv).row.use_cases.values()
        for n in names
        if by_name(n).code == theirs.message_code
    )
    command = Command(
        typed,
        uc,
        theirs.originator_counter,
        originator,
        theirs.business_target,
        DCC_CLOCK,
        call.execution,
    )
    return codec.build(command), theirs


KRP = [
    f"{mode}_6.15.1_{kind}_SUCCESS_REQUEST_DUIS.XML"
    for mode in ("CS02bSupplierBySupplier", "CS02gLoadControllerBySupplier")
    for kind in ("FUTURE_DATED", "CANCELLATION")
]


@pytest.mark.parametrize("template", KRP)
def test_6_15_1_future_dated_becomes_the_reference_up_to_certificates(
    conformance: Path, template: str
) -> None:
    ours, theirs = _built(conformance, template)
    code = theirs.message_code  # type: ignore[attr-defined]
    mine = gc.UpdateSecurityCredentials.decode_as(code, ours)
    their = gc.UpdateSecurityCredentials.decode_as(code, theirs.content)  # type: ignore[attr-defined]
    # The templates carry newer certificates than the references were made with.
    assert [cell for cell, _ in mine.certificates] == [cell for cell, _ in their.certificates]
    swapped = dataclasses.replace(mine, certificates=their.certificates, path=their.path)
    assert swapped.encode() == theirs.content  # type: ignore[attr-defined]
    if "CANCELLATION" in template:
        assert mine.execute_at == GBCS_CANCEL_AT
    else:
        assert mine.execute_at == _dt.datetime(2030, 1, 15, tzinfo=_dt.UTC)


@pytest.mark.parametrize("kind", ["FUTURE_DATED", "CANCELLATION"])
def test_6_14_2_future_dated_becomes_the_reference(conformance: Path, kind: str) -> None:
    ours, theirs = _built(
        conformance, f"ECS46c_6.14.2_{kind}_ALL_OPTIONALS_SUCCESS_REQUEST_DUIS.XML"
    )
    assert ours == theirs.content  # type: ignore[attr-defined]


def test_4_14_for_an_unknown_remote_party_becomes_the_reference(conformance: Path) -> None:
    ours, theirs = _built(conformance, "ECS21b_4.14_URP_SUCCESS_REQUEST_DUIS.XML", requester=True)
    assert ours == theirs.content  # type: ignore[attr-defined]


def test_gcs16b_for_an_unknown_remote_party_is_the_reference_up_to_its_start(
    conformance: Path,
) -> None:
    """The DCC's GCS16b URP reference starts on 2014-12-29T23:00, as its KRP template does,
    where the URP template says 2014-12-30T23:00: the rest is the same."""
    ours, theirs = _built(conformance, "GCS16b_4.14_URP_SUCCESS_REQUEST_DUIS.XML", requester=True)
    zigbee = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
    template_start = _dt.datetime(2014, 12, 30, 23, tzinfo=_dt.UTC)

    def stamp(when: _dt.datetime) -> bytes:
        return int((when - zigbee).total_seconds()).to_bytes(4, "little")

    content: bytes = theirs.content  # type: ignore[attr-defined]
    earlier = stamp(template_start - _dt.timedelta(days=1))
    assert content.count(earlier) == 31
    assert ours == content.replace(earlier, stamp(template_start))


def test_the_urp_certificate_is_read_from_the_body(conformance: Path) -> None:
    root = parse_document(
        (conformance / "duis/templates/GCS61_4.17_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    )
    call = read_device_call(parse_request(root), bytes(8))
    assert isinstance(call.request, ReadRequest)
    der = call.request.urp_certificate
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_agreement


# ------------------------------------------------------------------------------ bad input


def _certificate(
    *, curve: ec.EllipticCurve | None = None, ka: bool = True, ds: bool = False
) -> bytes:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "urp")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(DCC_CLOCK)
        .not_valid_after(DCC_CLOCK + _dt.timedelta(days=1))
        .add_extension(x509.KeyUsage(ds, False, False, False, ka, False, False, False, False), True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def _off_the_curve() -> bytes:
    """A certificate whose public key bytes are no point of P-256 (its Y changed)."""
    der = _certificate()
    cert = x509.load_der_x509_certificate(der)
    point = cert.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    bad = point[:-1] + bytes([point[-1] ^ 1])
    return der.replace(point, bad)


def _urp_body(certificate: str) -> etree._Element:
    xml = (
        f'<sr:B xmlns:sr="{SR}"><sr:ReadPrepaymentDailyReadLog><sr:ReadLogPeriod>'
        "<sr:StartDateTime>2014-12-25T23:30:00Z</sr:StartDateTime>"
        "<sr:EndDateTime>2015-01-01T00:00:00Z</sr:EndDateTime></sr:ReadLogPeriod>"
        f"<sr:KAPublicSecurityCredentials>{certificate}</sr:KAPublicSecurityCredentials>"
        "</sr:ReadPrepaymentDailyReadLog></sr:B>"
    )
    return etree.fromstring(xml)[0]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: _certificate(curve=ec.SECP384R1()), "P-256"),
        (_off_the_curve, "not a valid point"),
        (lambda: _certificate(ka=False, ds=True), "not a key agreement certificate"),
        (lambda: b"junk", "base64 DER X.509"),
    ],
)
def test_a_bad_urp_key_is_refused_with_a_sentence(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    codec = entry("4.14").codec
    assert codec is not None
    with pytest.raises(ServiceError) as refused:
        codec.read(_urp_body(base64.b64encode(make()).decode()))
    assert refused.value.code == "E42"
    assert reason in str(refused.value)
    assert "KAPublicSecurityCredentials" in str(refused.value)


def test_a_good_urp_key_is_taken() -> None:
    codec = entry("4.14").codec
    assert codec is not None
    der = _certificate()
    request = codec.read(_urp_body(base64.b64encode(der).decode()))
    assert request.urp_certificate == der


def test_other_reads_still_refuse_a_urp_key() -> None:
    codec = entry("4.6.1").codec
    assert codec is not None
    body = _urp_body(base64.b64encode(_certificate()).decode())
    body.tag = f"{{{SR}}}ReadDailyReadLog"
    with pytest.raises(ServiceError) as refused:
        codec.read(body)
    assert refused.value.code == "E47"


@pytest.mark.parametrize("srv", ["6.15.1", "6.14.2"])
def test_an_execution_in_the_past_is_refused_and_a_cancellation_is_sent(srv: str) -> None:
    e = entry(srv)
    assert e.codec is not None
    now = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    with pytest.raises(ServiceError) as refused:
        future_mode(e.row, e.codec, now - _dt.timedelta(hours=1), now, 4)
    assert re.search("not after the DCC's time", str(refused.value))
    assert future_mode(e.row, e.codec, now + _dt.timedelta(hours=1), now, 4) == "device"
    assert future_mode(e.row, e.codec, CANCEL_AT, now, 4) == "device"
