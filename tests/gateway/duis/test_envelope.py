"""Safe parsing and the request envelope: templates read right, hostile or broken XML refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.duis.envelope import (
    format_request_id,
    parse_request,
    parse_request_id,
)
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.model import RequestId
from tests.gateway.duis.support import read_inventory_body, request_document

S1 = bytes.fromhex("90b3d51f30010000")
ACB = bytes.fromhex("90b3d51f30000002")
DEVICE = bytes.fromhex("00db1234567890a2")


def parse(data: bytes, **kwargs: int) -> object:
    return parse_request(parse_document(data, **kwargs))


def rule_of(data: bytes, **kwargs: int) -> str:
    with pytest.raises(ServiceError) as exc:
        parse(data, **kwargs)
    assert exc.value.sentence
    return exc.value.rule


TEMPLATE_HEADERS = {
    "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML": ("12.2", 8, "DevicePrenotification"),
    "8.2_READ_INVENTORY_REQUEST_DUIS.XML": ("8.2", 8, "ReadInventory"),
    "8.3_DECOMMISSION_DEVICE_REQUEST_DUIS.XML": ("8.3", 8, "DecommissionDevice"),
    "8.4_UPDATE_INVENTORY_REQUEST_DUIS.XML": ("8.4", 8, "UpdateInventory"),
    "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML": ("8.11", 1, "UpdateHANDeviceLog"),
    "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML": (
        "4.1.1",
        1,
        "ReadInstantaneousImportRegisters",
    ),
    "ECS42_7.1_SUCCESS_REQUEST_DUIS.XML": ("7.1", 4, "EnableSupply"),
}


@pytest.mark.parametrize("name", sorted(TEMPLATE_HEADERS))
def test_conformance_templates_parse(templates: Path, name: str) -> None:
    request = parse_request(parse_document((templates / name).read_bytes()))
    srv, cv, body = TEMPLATE_HEADERS[name]
    assert request.header.service_reference_variant is ServiceReferenceVariant(srv)
    assert request.header.command_variant is CommandVariant(cv)
    assert request.body_name == body
    assert request.header.request_id.originator == S1
    assert request.schema_version == "5.4"
    assert request.is_placeholder_signed
    key = request.key_reference()
    assert key is not None
    assert (key.issuer, key.serial) == ("CN=U1, OU=07", 1234567890)


def test_request_id_round_trip() -> None:
    text = "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:18446744073709551615"
    rid = parse_request_id(text)
    assert rid == RequestId(S1, ACB, 2**64 - 1)
    assert format_request_id(rid) == text


@pytest.mark.parametrize(
    "text",
    [
        "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:18446744073709551616",
        "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:01",
        "90-B3-D5-1F-30-01-00:90-B3-D5-1F-30-00-00-02:1",
        "90B3D51F30010000:90B3D51F30000002:1",
        "",
    ],
)
def test_bad_request_ids_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"counter|originatorEUI"):
        parse_request_id(text)


def good(**kwargs: object) -> bytes:
    values: dict[str, object] = {
        "originator": S1,
        "counter": 1,
        "srv": "8.2",
        "body": read_inventory_body(DEVICE),
    }
    values.update(kwargs)
    return request_document(**values)  # type: ignore[arg-type]


def test_a_built_request_parses() -> None:
    request = parse_request(parse_document(good()))
    assert request.header.request_id == RequestId(S1, ACB, 1)
    assert request.signature is None
    assert request.key_reference() is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&lol3;</sr:Request>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&x;</sr:Request>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_a_doctype_is_refused(data: bytes) -> None:
    assert rule_of(data) == "duis_doctype"


def test_a_doctype_in_utf16_is_refused_too() -> None:
    text = EXTERNAL_ENTITY.decode().replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    assert rule_of(text.encode("utf-16")) == "duis_doctype"


def test_the_body_size_is_capped() -> None:
    data = good()
    assert rule_of(data, max_bytes=len(data) - 1) == "duis_body_too_large"
    parse(data, max_bytes=len(data))


@pytest.mark.parametrize(
    "data", [b"", b"not xml", b"<sr:Request", good()[:-20], b"\xff\xfe\x00garbage"]
)
def test_malformed_xml_is_refused(data: bytes) -> None:
    assert rule_of(data) == "duis_not_well_formed"


def test_a_comment_cannot_split_a_signed_value() -> None:
    data = (
        good()
        .replace(b"00-DB-12", b"00-DB<!-- c -->-12")
        .replace(b"<sr:Header>", b"<sr:Header><?pi x?>")
    )
    request = parse_request(parse_document(data))
    assert request.body[0].text == "00-DB-12-34-56-78-90-A2"


def test_wrong_namespace() -> None:
    data = good().replace(b"http://www.dccinterface.co.uk/ServiceUserGateway", b"urn:other")
    assert rule_of(data) == "duis_wrong_namespace"


@pytest.mark.parametrize("version", ["4.0", "6.0", "abc"])
def test_schema_versions_other_than_5x_are_refused(version: str) -> None:
    assert rule_of(good(schema_version=version)) == "duis_schema_version"


def test_an_unknown_service_reference_variant() -> None:
    assert rule_of(good(srv="8.99", sr="8.2")) == "duis_unknown_sr"


def test_a_variant_of_another_reference() -> None:
    assert rule_of(good(srv="8.2", sr="8.3")) == "duis_invalid_element"


@pytest.mark.parametrize("cv", [0, 9, 10])
def test_a_command_variant_users_cannot_send(cv: int) -> None:
    assert rule_of(good(cv=cv)) == "duis_invalid_element"


def test_header_elements_out_of_order() -> None:
    data = (
        good()
        .replace(b"<sr:CommandVariant>8</sr:CommandVariant>", b"")
        .replace(
            b"</sr:ServiceReferenceVariant>",
            b"</sr:ServiceReferenceVariant><sr:CommandVariant>8</sr:CommandVariant>",
        )
    )
    assert rule_of(data) == "duis_invalid_element"


def test_two_body_elements() -> None:
    body = read_inventory_body(DEVICE) * 2
    assert rule_of(good(body=body)) == "duis_invalid_element"


def test_a_signature_in_the_wrong_place() -> None:
    data = good().replace(b"<sr:Body>", b"<ds:Signature/><sr:Body>")
    assert rule_of(data) == "duis_invalid_element"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_raises_only_service_errors(data: bytes) -> None:
    rule = "ok"
    try:
        parse(data)
    except ServiceError as exc:
        rule = exc.rule
    assert rule == "ok" or rule.startswith("duis_")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(good())))
def test_truncated_requests_raise_only_service_errors(cut: int) -> None:
    data = good()[:cut]
    rule = "ok"
    try:
        parse(data)
    except ServiceError as exc:
        rule = exc.rule
    assert rule == "ok" or rule.startswith("duis_")


def test_the_optional_header_fields() -> None:
    preceding = "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:7"
    data = good().replace(
        b"</sr:RequestID>",
        b"</sr:RequestID><sr:FirstInSequence>true</sr:FirstInSequence>"
        b"<sr:PrecedingServiceRequestID>" + preceding.encode() + b"</sr:PrecedingServiceRequestID>",
    )
    header = parse_request(parse_document(data)).header
    assert header.first_in_sequence is True
    assert header.preceding_request_id == parse_request_id(preceding)
    bad = data.replace(b">true<", b">maybe<")
    assert rule_of(bad) == "duis_invalid_element"
