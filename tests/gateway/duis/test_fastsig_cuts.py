"""The octets the fast path cuts instead of canonicalising again are the canonical ones, and
its caches (public keys, validity dates) answer as the certificate does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.duis import fastsig
from gateway.duis.signature import InvalidSignatureError, XmlSignatureVerifier, XmlSigner
from gateway.duis.xml import DS_NS
from gbcs.codes import KeyPurpose
from tests.gateway.duis.support import pki, prenotification_body, request_document, signer_for

S1 = bytes.fromhex("90b3d51f30010000")
A0 = bytes.fromhex("00db1234567890a0")


def signed(engine: str = "fast", *, root_declares_ds: bool = True) -> etree._Element:
    keys = pki()
    certificate = keys.certificate(S1, KeyPurpose.DS)
    assert certificate is not None
    signer = XmlSigner(
        keys.private_key(S1, KeyPurpose.DS),
        certificate,
        engine=engine,  # type: ignore[arg-type]
    )
    document = request_document(originator=S1, counter=1, srv="12.2", body=prenotification_body(A0))
    if not root_declares_ds:
        document = document.replace(b' xmlns:ds="' + DS_NS.encode() + b'"', b"")
    root = etree.fromstring(signer.sign_to_bytes(etree.fromstring(document)))
    assert (root.nsmap.get("ds") == DS_NS) is root_declares_ds
    return root


def c14n_of_signed_info(signature: etree._Element) -> bytes:
    return etree.tostring(signature[0], method="c14n", exclusive=True, with_comments=False)


def assert_cut_is_canonical(root: etree._Element) -> None:
    signature = root[-1]
    _, cut = fastsig._in_profile(signature)
    assert cut == c14n_of_signed_info(signature)


@pytest.mark.parametrize("engine", ["fast", "signxml"])
def test_signed_info_cut_from_the_signature_is_its_c14n(engine: str) -> None:
    assert_cut_is_canonical(signed(engine))


def test_signed_info_cut_with_a_default_namespace_signature() -> None:
    root = signed()
    text = etree.tostring(root).replace(b"ds:", b"").replace(b"xmlns:ds=", b"xmlns=")
    reparsed = etree.fromstring(text)
    assert not reparsed[-1].prefix
    assert_cut_is_canonical(reparsed)


@pytest.mark.parametrize("engine", ["fast", "signxml"])
def test_signed_info_cut_when_the_root_does_not_declare_ds(engine: str) -> None:
    assert_cut_is_canonical(signed(engine, root_declares_ds=False))


@settings(max_examples=100, deadline=None)
@given(
    spaces=st.lists(st.sampled_from(["", " ", "\n", "\t", "\n  ", "\r\n"]), min_size=40),
)
def test_signed_info_cut_with_whitespace_between_elements(spaces: list[str]) -> None:
    root = signed()
    signature = root[-1]
    for index, element in enumerate(signature.iter()):
        if len(element):
            element.text = (element.text or "") + spaces[index % len(spaces)]
        if element is not signature:
            element.tail = (element.tail or "") + spaces[(index * 7) % len(spaces)]
    try:
        fastsig._in_profile(signature)
    except fastsig.NotInProfileError:
        return  # e.g. a carriage return (C14N writes &#xD;): signxml judges it
    assert_cut_is_canonical(root)


def test_signed_info_cut_of_the_dcc_response(conformance: Path) -> None:
    data = (
        conformance / "duis" / "templates" / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"
    ).read_bytes()
    root = etree.fromstring(data)
    signature = root.find(f"{{{DS_NS}}}Signature")
    assert signature is not None
    _, cut = fastsig._in_profile(signature)
    assert cut == c14n_of_signed_info(signature)


def test_cached_validity_is_the_certificates() -> None:
    certificate = signer_for(S1).certificate
    for _ in range(2):
        assert fastsig._validity(certificate) == (
            certificate.not_valid_before_utc,
            certificate.not_valid_after_utc,
        )


def test_validity_is_still_checked() -> None:
    certificate = signer_for(S1).certificate
    early = certificate.not_valid_before_utc - dt.timedelta(days=1)
    cases = [(early, "is not yet valid")]
    if certificate.not_valid_after_utc.year < 9999:
        cases.append((certificate.not_valid_after_utc + dt.timedelta(days=1), "has expired"))
    for when, words in cases:
        verifier = XmlSignatureVerifier(clock=lambda when=when: when)  # type: ignore[misc]
        with pytest.raises(InvalidSignatureError, match=words):
            verifier.verify(signed(), certificate)


def test_unsigned_document_is_refused_as_before() -> None:
    root = signed()
    root.remove(root[-1])
    with pytest.raises(InvalidSignatureError, match="no ds:Signature element"):
        XmlSignatureVerifier().verify(root, signer_for(S1).certificate)


def test_a_certificate_without_an_ecdsa_key_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, None)
    )
    with pytest.raises(InvalidSignatureError, match="not an ECDSA key"):
        XmlSignatureVerifier().verify(signed(), certificate)
    root = signed()
    root.remove(root[-1])
    with pytest.raises(InvalidSignatureError, match="no ds:Signature element"):
        XmlSignatureVerifier().verify(root, certificate)
