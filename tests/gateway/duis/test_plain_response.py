"""The plain response (no content, no reason) written from a template is byte for byte what
:func:`build_response` and the signer give through the tree, and its signature verifies."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.duis.build import build_response, plain_response_bytes
from gateway.duis.signature import XmlSignatureVerifier, XmlSigner
from tests.gateway.duis.support import gateway_signer

TOKEN = st.text(alphabet="0123456789ABCDEFabcdef.:-_", min_size=1, max_size=60)
ANY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30
)
MOMENT = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2099, 12, 31),
    timezones=st.just(dt.UTC),
)
_VALUE = re.compile(rb"<ds:SignatureValue>[^<]*</ds:SignatureValue>")


def tree_bytes(**kw: object) -> tuple[bytes, bytes]:
    root = build_response(**kw)  # type: ignore[arg-type]
    return (
        etree.tostring(root, encoding="UTF-8"),
        etree.tostring(root, method="c14n", exclusive=True, with_comments=False),
    )


@settings(max_examples=200, deadline=None)
@given(
    code=TOKEN,
    reference=TOKEN,
    variant=TOKEN,
    moment=MOMENT,
    request_id=st.none() | TOKEN,
    version=TOKEN,
)
def test_template_bytes_are_the_tree_bytes(
    code: str,
    reference: str,
    variant: str,
    moment: dt.datetime,
    request_id: str | None,
    version: str,
) -> None:
    kw = dict(
        code=code,
        service_reference=reference,
        service_reference_variant=variant,
        date_time=moment,
        request_id=request_id,
        schema_version=version,
    )
    assert plain_response_bytes(**kw) == tree_bytes(**kw)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(value=ANY_TEXT)
def test_a_value_that_is_not_a_plain_token_is_left_to_the_tree(value: str) -> None:
    kw = dict(
        code="I0",
        service_reference="12.2",
        service_reference_variant="12.2",
        date_time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        request_id=value,
    )
    plain = plain_response_bytes(**kw)  # type: ignore[arg-type]
    if re.fullmatch(r"[0-9A-Za-z.:_-]{1,100}", value):
        assert plain == tree_bytes(**kw)
    else:
        assert plain is None


def test_signed_plain_response_is_the_tree_path_and_verifies() -> None:
    signer = gateway_signer()
    kw = dict(
        code="I0",
        service_reference="8.4",
        service_reference_variant="8.4.1",
        date_time=dt.datetime(2026, 11, 23, 16, 1, 2, 345000, tzinfo=dt.UTC),
        request_id="90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1001",
        schema_version="5.4",
    )
    plain = plain_response_bytes(**kw)  # type: ignore[arg-type]
    assert plain is not None
    signed = signer.sign_plain(*plain)
    assert signed is not None
    through_tree = signer.sign_to_bytes(build_response(**kw))  # type: ignore[arg-type]
    # ECDSA is randomised: everything but the signature value is the same.
    assert _VALUE.sub(b"", signed) == _VALUE.sub(b"", through_tree)
    assert _VALUE.search(signed) is not None
    XmlSignatureVerifier(engine="fast").verify(etree.fromstring(signed), signer.certificate)
    XmlSignatureVerifier(engine="signxml").verify(etree.fromstring(signed), signer.certificate)


def test_the_signxml_engine_does_not_sign_plain() -> None:
    fast = gateway_signer()
    slow = XmlSigner(fast._key, fast.certificate, engine="signxml")
    assert slow.sign_plain(b"<a/>", b"<a></a>") is None


def _signature(inner: str) -> bytes:
    ds = 'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
    return (
        f'<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" {ds} '
        'schemaVersion="5.4"><sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:'
        "90-B3-D5-1F-30-00-00-02:5</sr:RequestID><sr:CommandVariant>8</sr:CommandVariant>"
        "<sr:ServiceReference>8.2</sr:ServiceReference>"
        "<sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant></sr:Header>"
        "<sr:Body><sr:ReadInventory><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>"
        f"</sr:ReadInventory></sr:Body><ds:Signature>{inner}</ds:Signature></sr:Request>"
    ).encode()


_ISSUER = (
    "<ds:X509IssuerSerial><ds:X509IssuerName> CN={n} </ds:X509IssuerName>"
    "<ds:X509SerialNumber>{s}</ds:X509SerialNumber></ds:X509IssuerSerial>"
)


def test_key_reference_and_placeholder_alike_in_and_outside_the_profile_layout() -> None:
    from gateway.duis.envelope import KeyReference, parse_request
    from gateway.duis.xml import parse_document

    head = "<ds:SignedInfo/><ds:SignatureValue> ZGVmYXVsdA== </ds:SignatureValue>"
    one = _ISSUER.format(n="a", s=7)
    two = _ISSUER.format(n="b", s=8)
    cases = {
        # the profile layout (the positional path)
        f"{head}<ds:KeyInfo><ds:X509Data>{one}</ds:X509Data></ds:KeyInfo>": ("CN=a", 7),
        # outside it (the general search): the first in document order wins
        f"{head}<ds:KeyInfo><ds:X509Data/><ds:X509Data>{one}</ds:X509Data></ds:KeyInfo>"
        f"<ds:KeyInfo><ds:X509Data>{two}</ds:X509Data></ds:KeyInfo>": ("CN=a", 7),
        f"{head}<ds:KeyInfo/><ds:KeyInfo><ds:X509Data>{two}</ds:X509Data></ds:KeyInfo>": (
            "CN=b",
            8,
        ),
        f"{head}<ds:KeyInfo><ds:X509Data>{_ISSUER.format(n='c', s='x')}</ds:X509Data>"
        "</ds:KeyInfo>": None,
        head: None,
    }
    for inner, expected in cases.items():
        request = parse_request(parse_document(_signature(inner)))
        reference = request.key_reference()
        assert reference == (None if expected is None else KeyReference(*expected)), inner
        assert request.is_placeholder_signed
    other = parse_request(
        parse_document(_signature("<ds:SignatureValue>AAAA</ds:SignatureValue><ds:SignedInfo/>"))
    )
    assert not other.is_placeholder_signed


def _contents() -> list[etree._Element]:
    from gateway.duis.build import gbcs_payload_element, precommand_element
    from gateway.duis.xml import RA_NS, SR_NS

    odd = etree.Element(f"{{{SR_NS}}}DSPInventory")
    device = etree.SubElement(odd, f"{{{SR_NS}}}Device")
    etree.SubElement(device, f"{{{RA_NS}}}Other").text = "a & b < c\r"
    etree.SubElement(device, "{urn:x}Foreign", nsmap={"x": "urn:x"}).set("k", "v\t")
    device.append(etree.Comment(" kept in the document, not in the C14N "))
    device.tail = "\n"
    return [
        gbcs_payload_element(bytes(range(40))),
        precommand_element(b"\x01\x02", gbcs_version="3.2"),
        odd,
    ]


def test_content_is_serialised_as_inside_the_tree() -> None:
    import copy

    for content in _contents():
        kw = dict(
            code="I0",
            service_reference="8.2",
            service_reference_variant="8.2",
            date_time=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            request_id="90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:7",
        )
        expected = tree_bytes(content=copy.deepcopy(content), **kw)
        assert plain_response_bytes(content=content, **kw) == expected  # type: ignore[arg-type]
