"""XML signatures in the DUIS profile: sign, verify against pinned certificates, refuse the rest."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from gateway.duis.envelope import parse_request
from gateway.duis.schema import DuisSchema
from gateway.duis.signature import (
    CertificateIndex,
    InvalidSignatureError,
    RequestAuthenticator,
    XmlSignatureVerifier,
    normalise_issuer,
)
from gateway.duis.xml import DS_NS, parse_document
from gateway.errors import ServiceError
from tests.gateway.duis.support import read_inventory_body, request_document, signer_for

S1 = bytes.fromhex("90b3d51f30010000")
S2 = bytes.fromhex("90b3d51f30030000")
ACB = bytes.fromhex("90b3d51f30000002")
DEVICE = bytes.fromhex("00db1234567890a2")


def signed_request(originator: bytes = S1, signer: bytes | None = None, counter: int = 1) -> bytes:
    document = request_document(
        originator=originator, counter=counter, srv="8.2", body=read_inventory_body(DEVICE)
    )
    return signer_for(signer or originator).sign_bytes(document)


def verify(data: bytes, signer: bytes = S1) -> None:
    XmlSignatureVerifier().verify(parse_document(data), signer_for(signer).certificate)


def test_sign_then_verify() -> None:
    verify(signed_request())


def test_the_signature_is_in_the_duis_profile() -> None:
    root = etree.fromstring(signed_request())
    ns = {"ds": DS_NS}
    sig = root.find("ds:Signature", ns)
    assert sig is not None
    assert root[-1] is sig
    algorithms = [e.get("Algorithm") for e in sig.iter() if e.get("Algorithm")]
    assert algorithms == [
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/04/xmlenc#sha256",
    ]
    assert sig.find("ds:SignedInfo/ds:Reference", ns).get("URI") == ""  # type: ignore[union-attr]
    key_info = sig.find("ds:KeyInfo", ns)
    assert key_info is not None
    assert [etree.QName(e).localname for e in key_info.iter()] == [
        "KeyInfo", "X509Data", "X509IssuerSerial", "X509IssuerName", "X509SerialNumber",
    ]  # fmt: skip
    value = sig.findtext("ds:SignatureValue", namespaces=ns)
    assert value is not None
    assert len(base64.b64decode(value)) == 64  # r || s


def test_a_signed_template_still_validates(templates: Path, duis_schema: DuisSchema) -> None:
    data = (templates / "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML").read_bytes()
    signed = signer_for(S1).sign_bytes(data)
    assert b"ZGVmYXVsdA==" not in signed
    root = parse_document(signed)
    duis_schema.validate(root)
    XmlSignatureVerifier().verify(root, signer_for(S1).certificate)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"00-DB-12-34-56-78-90-A2", b"00-DB-12-34-56-78-90-A3"),  # the body
        (b":1</sr:RequestID>", b":2</sr:RequestID>"),  # the header
        (b'schemaVersion="5.4"', b'schemaVersion="5.3"'),  # an attribute
    ],
)
def test_any_change_breaks_the_signature(old: bytes, new: bytes) -> None:
    data = signed_request()
    assert old in data
    with pytest.raises(InvalidSignatureError, match="Digest mismatch"):
        verify(data.replace(old, new))


def test_a_signature_by_another_key_fails() -> None:
    with pytest.raises(InvalidSignatureError):
        verify(signed_request(signer=S2), signer=S1)


def test_a_tampered_signature_value_fails() -> None:
    root = etree.fromstring(signed_request())
    value = root.find(f"{{{DS_NS}}}Signature/{{{DS_NS}}}SignatureValue")
    assert value is not None
    assert value.text is not None
    raw = bytearray(base64.b64decode(value.text))
    raw[5] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(InvalidSignatureError):
        verify(etree.tostring(root))


def test_a_reference_to_part_of_the_document_is_refused() -> None:
    data = signed_request().replace(b'URI=""', b'URI="#x"')
    with pytest.raises(InvalidSignatureError, match='URI=""'):
        verify(data)


def test_the_real_dcc_response_signature_verifies(conformance: Path) -> None:
    """Golden vector: a response signed by the DCC (the ACB's DS key, RTDS), with a base64
    value holding a CR, and only the enveloped transform listed (implicit inclusive C14N)."""
    data = (
        conformance / "duis" / "templates" / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"
    ).read_bytes()
    cert = x509.load_pem_x509_certificate(
        (conformance / "keystore" / "90b3d51f30000002-ds.pem").read_bytes()
    )
    when = dt.datetime(2022, 8, 12, 6, 44, tzinfo=dt.UTC)
    XmlSignatureVerifier(clock=lambda: when).verify(parse_document(data), cert)
    with pytest.raises(InvalidSignatureError):
        XmlSignatureVerifier(clock=lambda: when).verify(
            parse_document(data.replace(b"<sr:ResponseCode>I0", b"<sr:ResponseCode>I99")), cert
        )
    with pytest.raises(InvalidSignatureError, match="expired"):
        XmlSignatureVerifier().verify(parse_document(data), cert)


def test_issuer_names_compare_whatever_the_spacing() -> None:
    assert normalise_issuer("CN=U1, OU=07") == normalise_issuer("CN=U1,OU=07")
    assert normalise_issuer("cn=U1,ou=07") == normalise_issuer("CN=U1,OU=07")


# --- the authenticator ---------------------------------------------------------------------


def index() -> CertificateIndex:
    certificates = CertificateIndex()
    for eui in (S1, S2):
        certificates.add(eui, signer_for(eui).certificate)
    return certificates


def authenticate(data: bytes, *, allow_unsigned: bool = False) -> bytes:
    request = parse_request(parse_document(data))
    return RequestAuthenticator(index(), allow_unsigned=allow_unsigned).authenticate(request)


def refusal(data: bytes, *, allow_unsigned: bool = False) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        authenticate(data, allow_unsigned=allow_unsigned)
    return exc.value


def test_a_signed_request_comes_from_its_originator() -> None:
    assert authenticate(signed_request()) == S1
    assert authenticate(signed_request(S2)) == S2


def test_unsigned_requests_need_allow_unsigned() -> None:
    data = request_document(originator=S1, counter=1, srv="8.2", body=read_inventory_body(DEVICE))
    error = refusal(data)
    assert error.rule == "duis_unsigned"
    assert "--allow-unsigned" in error.sentence
    assert authenticate(data, allow_unsigned=True) == S1


def test_placeholder_signed_templates_need_allow_unsigned(templates: Path) -> None:
    data = (templates / "8.2_READ_INVENTORY_REQUEST_DUIS.XML").read_bytes()
    error = refusal(data)
    assert error.rule == "duis_unsigned"
    assert "placeholder" in error.sentence
    assert authenticate(data, allow_unsigned=True) == S1


def test_a_real_but_bad_signature_is_refused_even_with_allow_unsigned() -> None:
    data = signed_request().replace(b"00-DB-12-34-56-78-90-A2", b"00-DB-12-34-56-78-90-A3")
    assert refusal(data, allow_unsigned=True).rule == "duis_bad_signature"


def test_an_unregistered_certificate() -> None:
    error = refusal(signed_request(originator=S1, signer=ACB))
    assert error.rule == "duis_unknown_certificate"
    assert error.code == "E45"


def test_a_certificate_of_another_user() -> None:
    # S2 signs a request claiming to come from S1: refused, whatever the signature.
    error = refusal(signed_request(originator=S1, signer=S2))
    assert error.rule == "duis_certificate_not_originator"
    assert "90-B3-D5-1F-30-03-00-00" in error.sentence


def test_a_certificate_carried_in_the_message_is_never_trusted() -> None:
    """Signature wrapping: the attacker signs with its own key, names S1's issuer and serial and
    embeds its own certificate. The verifier uses S1's pinned certificate, so it fails."""
    attacker = signer_for(ACB)
    victim = signer_for(S1)
    document = request_document(
        originator=S1, counter=1, srv="8.2", body=read_inventory_body(DEVICE)
    )
    root = etree.fromstring(attacker.sign_bytes(document))
    ns = {"ds": DS_NS}
    name = root.find(
        "ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial/ds:X509IssuerName", ns
    )
    serial = root.find(
        "ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial/ds:X509SerialNumber", ns
    )
    assert name is not None
    assert serial is not None
    name.text, serial.text = victim.issuer, str(victim.serial)
    x509_data = root.find("ds:Signature/ds:KeyInfo/ds:X509Data", ns)
    assert x509_data is not None
    der = attacker.certificate.public_bytes(Encoding.DER)
    etree.SubElement(x509_data, f"{{{DS_NS}}}X509Certificate").text = base64.b64encode(der).decode()
    assert refusal(etree.tostring(root)).rule == "duis_bad_signature"


def test_key_info_without_issuer_serial() -> None:
    root = etree.fromstring(signed_request())
    key_info = root.find(f"{{{DS_NS}}}Signature/{{{DS_NS}}}KeyInfo")
    assert key_info is not None
    key_info.clear()
    error = refusal(etree.tostring(root))
    assert error.rule == "duis_bad_signature"
    assert "X509IssuerSerial" in error.sentence
