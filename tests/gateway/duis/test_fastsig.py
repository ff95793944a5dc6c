"""The DUIS-profile fast path agrees with signxml: each verifies what the other signed, and
they accept and refuse the same mutated documents."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.duis import fastsig
from gateway.duis.signature import (
    InvalidSignatureError,
    SignatureEngine,
    XmlSignatureVerifier,
    XmlSigner,
)
from gateway.duis.xml import DS_NS
from gbcs.codes import KeyPurpose
from tests.gateway.duis.support import (
    pki,
    prenotification_body,
    request_document,
    signer_for,
)

ENGINES: tuple[SignatureEngine, ...] = ("fast", "signxml")
S1 = bytes.fromhex("90b3d51f30010000")
A0 = bytes.fromhex("00db1234567890a0")
FAST = XmlSignatureVerifier(engine="fast")
SLOW = XmlSignatureVerifier(engine="signxml")


def engines_signer(engine: SignatureEngine) -> XmlSigner:
    keys = pki()
    certificate = keys.certificate(S1, KeyPurpose.DS)
    assert certificate is not None
    return XmlSigner(keys.private_key(S1, KeyPurpose.DS), certificate, engine=engine)


def document() -> bytes:
    return request_document(originator=S1, counter=1, srv="12.2", body=prenotification_body(A0))


def accepts(verifier: XmlSignatureVerifier, root: etree._Element) -> bool:
    try:
        verifier.verify(copy.deepcopy(root), signer_for(S1).certificate)
    except InvalidSignatureError:
        return False
    return True


@pytest.mark.parametrize("engine", ENGINES)
def test_each_verifies_what_the_other_signed(engine: SignatureEngine) -> None:
    signed = engines_signer(engine).sign_to_bytes(etree.fromstring(document()))
    root = etree.fromstring(signed)
    assert accepts(FAST, root)
    assert accepts(SLOW, root)


def test_both_produce_the_same_signature_shape() -> None:
    shapes = []
    for engine in ENGINES:
        root = etree.fromstring(engines_signer(engine).sign_to_bytes(etree.fromstring(document())))
        signature = root.find(f"{{{DS_NS}}}Signature")
        assert signature is not None
        for value in signature.iter(f"{{{DS_NS}}}SignatureValue", f"{{{DS_NS}}}DigestValue"):
            value.text = ""
        shapes.append(etree.tostring(signature, method="c14n", exclusive=True))
    assert shapes[0] == shapes[1]


def test_the_fast_digest_matches_signxml() -> None:
    fast = etree.fromstring(engines_signer("fast").sign_to_bytes(etree.fromstring(document())))
    slow = etree.fromstring(engines_signer("signxml").sign_to_bytes(etree.fromstring(document())))
    path = f"{{{DS_NS}}}Signature/{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference/{{{DS_NS}}}DigestValue"
    assert fast.findtext(path) == slow.findtext(path)


def test_out_of_profile_signatures_go_to_signxml() -> None:
    root = etree.fromstring(engines_signer("signxml").sign_to_bytes(etree.fromstring(document())))
    method = root.find(f".//{{{DS_NS}}}CanonicalizationMethod")
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2006/12/xml-c14n11")
    certificate = signer_for(S1).certificate
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    with pytest.raises(fastsig.NotInProfileError):
        fastsig.verify(root, certificate, key, dt.datetime.now(dt.UTC))
    assert accepts(FAST, root) == accepts(SLOW, root)


def signed_root(engine: SignatureEngine) -> etree._Element:
    return etree.fromstring(engines_signer(engine).sign_to_bytes(etree.fromstring(document())))


def nodes(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@settings(max_examples=150, deadline=None)
@given(
    engine=st.sampled_from(ENGINES),
    which=st.integers(min_value=0, max_value=10_000),
    action=st.sampled_from(["text", "tail", "attribute", "drop", "duplicate", "rename"]),
    char=st.sampled_from(["A", "0", " ", "\n", "=", "+"]),
)
def test_mutations_are_judged_alike(
    engine: SignatureEngine, which: int, action: str, char: str
) -> None:
    root = signed_root(engine)
    elements = nodes(root)
    target = elements[which % len(elements)]
    if action == "text":
        target.text = (target.text or "") + char
    elif action == "tail" and target is not root:  # a parsed root never has a tail
        target.tail = (target.tail or "") + char
    elif action == "attribute":
        if target.attrib:
            key = sorted(target.attrib)[which % len(target.attrib)]
            target.set(key, target.get(key, "") + char)
        else:
            target.set("Id", "x")
    elif action == "drop" and target.getparent() is not None:
        target.getparent().remove(target)  # type: ignore[union-attr]
    elif action == "duplicate" and target.getparent() is not None:
        target.addnext(copy.deepcopy(target))
    elif action == "rename":
        target.tag = (
            f"{{{DS_NS}}}Object" if target.tag.startswith(f"{{{DS_NS}}}") else target.tag + "X"
        )
    assert accepts(FAST, root) == accepts(SLOW, root)


def test_the_dcc_response_is_judged_alike(conformance: Path) -> None:
    data = (
        conformance / "duis" / "templates" / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"
    ).read_bytes()
    cert = x509.load_pem_x509_certificate(
        (conformance / "keystore" / "90b3d51f30000002-ds.pem").read_bytes()
    )
    when = dt.datetime(2022, 8, 12, 6, 44, tzinfo=dt.UTC)
    for engine in ENGINES:
        XmlSignatureVerifier(clock=lambda: when, engine=engine).verify(etree.fromstring(data), cert)


def test_verification_leaves_the_document_as_it_was() -> None:
    for engine in ENGINES:
        root = signed_root(engine)
        signature = root[-1]
        assert root[-2].tail  # the whitespace before the signature is put back too
        before = etree.tostring(root)
        assert accepts(FAST, root)
        FAST.verify(root, signer_for(S1).certificate)
        assert etree.tostring(root) == before
        assert root[-1] is signature


@pytest.mark.parametrize("declares_ds", [True, False])
def test_the_templated_signature_is_the_tree_built_one(declares_ds: bool) -> None:
    source = etree.fromstring(document())
    if not declares_ds:
        source = etree.fromstring(
            etree.tostring(source).replace(b' xmlns:ds="' + DS_NS.encode() + b'"', b"")
        )
    assert (source.nsmap.get("ds") == DS_NS) is declares_ds
    keys = pki()
    certificate = keys.certificate(S1, KeyPurpose.DS)
    assert certificate is not None
    key = keys.private_key(S1, KeyPurpose.DS)
    issuer = "CN=Z1 & <co>,OU=07"  # text that needs escaping
    before = etree.tostring(source)
    templated = fastsig.sign_serialised(source, key, issuer, 12345)
    assert templated is not None
    assert etree.tostring(source) == before  # not changed
    built = etree.tostring(fastsig.sign(source, key, issuer, 12345), encoding="UTF-8")
    path = f"{{{DS_NS}}}Signature/{{{DS_NS}}}SignatureValue"
    blank = []
    for octets in (templated, built):
        root = etree.fromstring(octets)
        value = root.find(path)
        assert value is not None
        value.text = ""
        blank.append(etree.tostring(root))
    assert blank[0] == blank[1]
    # and the bytes are those lxml writes for the signed tree
    assert etree.tostring(etree.fromstring(templated), encoding="UTF-8") == templated
    signed = etree.fromstring(templated)
    FAST.verify(copy.deepcopy(signed), certificate)
    SLOW.verify(copy.deepcopy(signed), certificate)


def test_unusual_namespaces_are_signed_as_trees() -> None:
    key = pki().private_key(S1, KeyPurpose.DS)
    other = etree.fromstring(b'<r xmlns:ds="urn:not-xmldsig"><a/></r>')
    assert fastsig.sign_serialised(other, key, "CN=Z1", 1) is None
    twice = etree.fromstring(f'<r xmlns:x="{DS_NS}" xmlns:ds="{DS_NS}"><a/></r>'.encode())
    assert fastsig.sign_serialised(twice, key, "CN=Z1", 1) is None
    empty = etree.fromstring(b"<r/>")
    assert fastsig.sign_serialised(empty, key, "CN=Z1", 1) is None
