"""Security credential SRs: each DCC template's transform is the DCC's reference command, up
to the certificates (the templates carry newer ones than the reference commands were made
with: compared with the reference's certificates put in their place), and bad certificates
are refused with a sentence."""

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
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from lxml import etree

from gateway.duis.envelope import parse_request
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.srv import security
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.codes import KeyPurpose
from gbcs.keystore import generate_test_pki
from gbcs.usecases import use_case
from tests.gateway.srv.support import body_of, reference, transform

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"

TEMPLATES = [
    "CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
    "CS02bNOByNO_6.15.1_SUCCESS_REQUEST_DUIS.XML",
    "CS02gLoadControllerBySupplier_6.15.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML",
]


def _same_up_to_certificates(ours: bytes, theirs: bytes, code: int) -> None:
    mine = gc.UpdateSecurityCredentials.decode_as(code, ours)
    their = gc.UpdateSecurityCredentials.decode_as(code, theirs)
    assert [cell for cell, _ in mine.certificates] == [cell for cell, _ in their.certificates]
    assert len(mine.path) == len(their.path)
    swapped = dataclasses.replace(mine, certificates=their.certificates, path=their.path)
    assert swapped.encode() == theirs


@pytest.mark.parametrize("template", TEMPLATES)
def test_6_15_1_becomes_the_reference_command(conformance: Path, template: str) -> None:
    found = transform(conformance, template)
    _same_up_to_certificates(found.ours, found.reference.content, found.reference.message_code)


def test_6_21_handover_becomes_the_reference_command(conformance: Path) -> None:
    name = "CS02bNOByNOHandover_6.21_SUCCESS_REQUEST_DUIS.XML"
    theirs = reference(conformance, name)
    root = parse_document((conformance / "duis/templates" / name).read_bytes())
    request = security.read_handover(parse_request(root).body)
    uc = use_case(theirs.message_code)
    assert uc is not None
    assert request.use_case == uc.name
    command = Command(
        request,
        uc,
        theirs.originator_counter,
        theirs.business_originator,
        theirs.business_target,
        _dt.datetime(2015, 1, 1, tzinfo=_dt.UTC),
    )
    _same_up_to_certificates(security.build_update(command), theirs.content, theirs.message_code)


def test_6_17_becomes_the_reference_command(conformance: Path) -> None:
    found = transform(conformance, "CS02c_6.17_SUCCESS_REQUEST_DUIS.XML")
    assert found.ours == found.reference.content


def test_6_23_change_of_supplier_body() -> None:
    pki = generate_test_pki(b"cos-test", devices=[bytes.fromhex("90b3d51f3e000001")])
    new = bytes.fromhex("90b3d51f3e000001")
    ds = pki.certificate(new, KeyPurpose.DS)
    ka = pki.certificate(new, KeyPurpose.KA)
    root = pki.root_certificate
    assert ds is not None
    assert ka is not None
    assert root is not None

    def b64(cert) -> str:  # type: ignore[no-untyped-def]
        return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()

    body = _body(
        "<sr:UpdateSecurityCredentialsCoS><sr:SupplierFloorSeqNumber>5</sr:SupplierFloorSeqNumber>"
        "<sr:SupplierReplacementCertificates>"
        f"<sr:DigitalSigningCertificate>{b64(ds)}</sr:DigitalSigningCertificate>"
        f"<sr:KeyAgreementCertificate>{b64(ka)}</sr:KeyAgreementCertificate>"
        "</sr:SupplierReplacementCertificates><sr:CertificationPathCertificates>"
        f"<sr:Certificate>{b64(root)}</sr:Certificate></sr:CertificationPathCertificates>"
        "<sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks>"
        "<sr:ImportMPxN>1100000000001</sr:ImportMPxN></sr:UpdateSecurityCredentialsCoS>"
    )
    request = security.read_change_of_supplier(body)
    assert request.subject == new
    assert request.use_case == "CS02b-supplierByTransCoS"
    uc = use_case(0x0107)
    assert uc is not None
    built = security.build_update(
        Command(request, uc, 7, bytes(8), bytes(8), _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC))
    )
    decoded = gc.UpdateSecurityCredentials.decode_as(0x0107, built)
    assert decoded.authorising == gc.Cell(5, gc.DS_USAGE)
    assert decoded.role_floors == ((2, 5, ()),)  # another party sets the supplier's floor
    assert decoded.floor is None
    # With a prepayment top-up floor: it goes in the supplier's [6] entry too, not in [5].
    topped = security.read_change_of_supplier(
        _body(
            etree.tostring(body, encoding="unicode").replace(
                "</sr:SupplierFloorSeqNumber>",
                "</sr:SupplierFloorSeqNumber><sr:SupplierPrepaymentTopUpFloorSeqNumber>3"
                "</sr:SupplierPrepaymentTopUpFloorSeqNumber>",
            )
        )
    )
    built = security.build_update(
        Command(topped, uc, 7, bytes(8), bytes(8), _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC))
    )
    decoded = gc.UpdateSecurityCredentials.decode_as(0x0107, built)
    assert decoded.role_floors == ((2, 5, ((0, 3),)),)
    assert decoded.top_up_floors == ()
    assert decoded.encode() == built


def _body(xml: str) -> etree._Element:
    return etree.fromstring(f'<sr:B xmlns:sr="{SR}">{xml}</sr:B>')[0]


def _krp(conformance: Path, change: str, to: str) -> str:
    """The 6.15.1 supplier template's body with one certificate element's content changed."""
    xml = (conformance / "duis/templates" / TEMPLATES[0]).read_text()
    body = xml[xml.index("<sr:UpdateSecurityCredentialsKRP>") : xml.index("</sr:Body>")]
    return re.sub(rf"(<sr:{change}>)[^<]+", rf"\g<1>{to}", body, count=1)


def _refused(xml: str) -> str:
    codec = entry("6.15.1").codec
    assert codec is not None
    with pytest.raises(ServiceError) as refused:
        codec.read(_body(xml))
    assert refused.value.code == "E42"
    return str(refused.value)


def test_a_certificate_in_the_wrong_slot_is_refused(conformance: Path) -> None:
    xml = (conformance / "duis/templates" / TEMPLATES[0]).read_text()
    ka = re.search(r"<sr:KeyAgreementCertificate>([^<]+)<", xml)
    assert ka is not None
    bad = _krp(conformance, "DigitalSigningCertificate", ka.group(1))
    assert "not a digital signing certificate" in _refused(bad)


def test_a_certificate_of_another_role_is_refused(conformance: Path) -> None:
    body = _krp(conformance, "RemotePartyRole", "NetworkOperator")
    assert "role 02, not 03" in _refused(body)


def test_a_certificate_that_is_not_one_is_refused(conformance: Path) -> None:
    assert "base64 DER X.509" in _refused(
        _krp(conformance, "KeyAgreementCertificate", base64.b64encode(b"junk").decode())
    )


def test_a_certificate_not_on_p256_is_refused(conformance: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p384")])
    now = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + _dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = base64.b64encode(cert.public_bytes(Encoding.DER)).decode()
    assert "P-256" in _refused(_krp(conformance, "DigitalSigningCertificate", der))


def test_the_role_decides_the_use_case(conformance: Path) -> None:
    _, typed = body_of(conformance, TEMPLATES[2])
    assert isinstance(typed, security.UpdateCredentials)
    assert typed.use_case == "CS02g-loadControllerBySupplier"
    assert "Recovery" in _refused(_krp(conformance, "RemotePartyRole", "Recovery"))


def _device_certificate(*, ds: bool, ka: bool, curve: ec.EllipticCurve | None = None) -> str:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    eui = bytes.fromhex("00db1234567890a0")
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.X500_UNIQUE_IDENTIFIER,
                b"\x00" + eui,  # type: ignore[arg-type]
                _type=_ASN1Type.BitString,
            )
        ]
    )
    now = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(x509.KeyUsage(ds, False, False, False, ka, False, False, False, False), True)
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _device_body(cert: str) -> etree._Element:
    return _body(
        "<sr:UpdateSecurityCredentialsDevice>"
        f"<sr:DeviceCertificate>{cert}</sr:DeviceCertificate>"
        "</sr:UpdateSecurityCredentialsDevice>"
    )


def test_6_15_2_builds_cs02d_with_the_device_certificate() -> None:
    codec = entry("6.15.2").codec
    assert codec is not None
    cert = _device_certificate(ds=False, ka=True)
    request = codec.read(_device_body(cert))
    assert isinstance(request, security.UpdateDeviceCredentials)
    assert request.usage == gc.KA_USAGE
    assert request.subject == bytes.fromhex("00db1234567890a0")
    uc = use_case(0x000B)
    assert uc is not None
    at = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
    built = codec.build(Command(request, uc, 1, bytes(8), request.subject, at))
    decoded = gc.UpdateDeviceCertificate.decode(built)
    assert decoded.certificate == base64.b64decode(cert)
    assert decoded.usage == gc.KA_USAGE
    with pytest.raises(ValueError, match="not the target device"):
        codec.build(Command(request, uc, 1, bytes(8), bytes(8), at))


def _hw_module_certificate(eui: bytes) -> bytes:
    """A certificate of GBCS's device profile: an empty subject, the device named by the
    hwSerialNum of a hardwareModuleName in its subjectAltName."""
    key = ec.generate_private_key(ec.SECP256R1())
    device_type = bytes.fromhex("2a863a0001848fb90f01020201")  # 1.2.826.0.1.8641679.1.2.2.1
    value = (
        b"\x30"
        + bytes([4 + len(device_type) + len(eui)])
        + b"\x06"
        + bytes([len(device_type)])
        + device_type
        + b"\x04\x08"
        + eui
    )
    name = x509.OtherName(x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4"), value)
    now = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.SubjectAlternativeName([name]), True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def test_6_15_2_reads_the_device_from_the_hardware_module_name_and_sends_the_bare_certificate() -> (
    None
):
    """GBCS device certificates name the device in subjectAltName, not in the subject; CS02d's
    content is the certificate itself."""
    codec = entry("6.15.2").codec
    assert codec is not None
    eui = bytes.fromhex("00db1234567890a0")
    der = _hw_module_certificate(eui)
    request = codec.read(_device_body(base64.b64encode(der).decode()))
    assert isinstance(request, security.UpdateDeviceCredentials)
    assert (request.subject, request.usage) == (eui, gc.DS_USAGE)
    uc = use_case(0x000B)
    assert uc is not None
    at = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
    built = codec.build(Command(request, uc, 1, bytes(8), eui, at))
    assert built == der
    assert gc.UpdateDeviceCertificate.decode(built).certificate == der
    other = _hw_module_certificate(bytes.fromhex("00db1234567890a1"))
    request = codec.read(_device_body(base64.b64encode(other).decode()))
    with pytest.raises(ValueError, match="not the target device"):
        codec.build(Command(request, uc, 1, bytes(8), eui, at))


@pytest.mark.parametrize(
    ("cert", "reason"),
    [
        (lambda: _device_certificate(ds=True, ka=True), "digital signing or key agreement"),
        (lambda: _device_certificate(ds=False, ka=False), "digital signing or key agreement"),
        (lambda: _device_certificate(ds=True, ka=False, curve=ec.SECP384R1()), "P-256"),
        (lambda: "bm90IGEgY2VydA==", "base64 DER X.509"),
    ],
)
def test_6_15_2_refuses_what_is_not_a_device_certificate(cert, reason: str) -> None:  # type: ignore[no-untyped-def]
    codec = entry("6.15.2").codec
    assert codec is not None
    with pytest.raises(ServiceError) as refused:
        codec.read(_device_body(cert()))
    assert refused.value.code == "E42"
    assert reason in str(refused.value)


def test_6_24_2_asks_for_the_certificate_of_the_usage() -> None:
    codec = entry("6.24.2").codec
    assert codec is not None
    uc = use_case(0x000C)
    assert uc is not None
    assert uc.critical  # DUIS 6.24.2 is critical: the supplier signs
    at = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
    for kind, usage in (("Digital Signature", gc.DS_USAGE), ("Key Agreement", gc.KA_USAGE)):
        body = _body(
            "<sr:RetrieveDeviceSecurityCredentialsDevice>"
            f"<sr:CredentialType>{kind}</sr:CredentialType>"
            "</sr:RetrieveDeviceSecurityCredentialsDevice>"
        )
        request = codec.read(body)
        built = codec.build(Command(request, uc, 1, bytes(8), bytes(8), at))
        assert gc.ProvideDeviceCertificate.decode(built).usage == usage
    with pytest.raises(ServiceError):
        codec.read(
            _body(
                "<sr:RetrieveDeviceSecurityCredentialsDevice><sr:CredentialType>Both"
                "</sr:CredentialType></sr:RetrieveDeviceSecurityCredentialsDevice>"
            )
        )
