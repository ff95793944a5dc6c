"""The reports' DUIS XML: the copied-skeleton and the template paths of a response equal the
tree built."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.duis.device_responses import (
    _build_report_element,
    report_element,
    response_report_bytes,
)
from gateway.duis.signature import XmlSignatureVerifier
from gateway.duis.xml import SR_NS
from gateway.model import RequestId
from gateway.services.device import DeviceReport, ReportKind
from tests.gateway.duis.support import assert_valid_response, gateway_signer

USER = bytes.fromhex("90b3d51f30010000")
ESME = bytes.fromhex("00db1234567890a0")
WHEN = dt.datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=dt.UTC)


def response(
    counter: int = 1000,
    payload: bytes = b"\xdd\x00\x01",
    variant: str = "4.1.1",
    when: dt.datetime = WHEN,
    reason: str | None = None,
) -> DeviceReport:
    request_id = RequestId(USER, ESME, counter)
    return DeviceReport(
        seq=7,
        kind=ReportKind.RESPONSE,
        recipient=USER,
        device=ESME,
        code="I0",
        created_at=when,
        request_id=request_id,
        response_id=RequestId(ESME, USER, counter),
        service_reference_variant=variant,
        payload=payload,
        reason=reason,
    )


@settings(max_examples=100, deadline=None)
@given(
    counter=st.integers(0, 2**64 - 1),
    payload=st.binary(max_size=300),
    variant=st.sampled_from(["4.1.1", "7.1", "7.2", "8.11", "11.2", "1.1.1", "2.2"]),
    when=st.datetimes(timezones=st.just(dt.UTC)),
    version=st.sampled_from(["5.4", "5.1"]),
)
def test_the_usual_response_is_the_tree_built(
    counter: int, payload: bytes, variant: str, when: dt.datetime, version: str
) -> None:
    report = response(counter, payload, variant, when)
    fast = report_element(report, schema_version=version)
    built = _build_report_element(report, version)
    assert etree.tostring(fast) == etree.tostring(built)
    c14n = {"method": "c14n", "exclusive": True, "with_comments": False}
    assert etree.tostring(fast, **c14n) == etree.tostring(built, **c14n)  # type: ignore[call-overload]


def test_each_response_is_its_own_tree() -> None:
    first = report_element(response(1, b"\x01"))
    second = report_element(response(2, b"\x02"))
    assert first is not second
    assert b":1<" in etree.tostring(first)
    assert b":2<" in etree.tostring(second)
    assert b":1<" not in etree.tostring(second)
    first[0][0].text = "changed"  # a caller changing its tree changes no later one
    assert b"changed" not in etree.tostring(report_element(response(3)))


def test_a_response_with_a_reason_keeps_its_comment() -> None:
    document = etree.tostring(report_element(response(reason="late")))
    assert b"<!-- late -->" in document


def test_the_signed_response_validates(conformance: Path) -> None:
    signed = gateway_signer().sign_to_bytes(report_element(response()))
    assert_valid_response(signed, conformance)


def test_the_cin_answer_is_a_cin_message_that_validates(conformance: Path) -> None:
    report = dataclasses.replace(response(variant="9.1"), cin="0427")
    # not the usual response: no template path writes it without the number
    assert response_report_bytes(report) is None
    element = report_element(report)
    message = element.find(f"{{{SR_NS}}}Body/{{{SR_NS}}}ResponseMessage")
    assert message is not None
    cin = message.find(f"{{{SR_NS}}}CINMessage")
    assert cin is not None
    assert [c.tag.split("}")[1] for c in cin] == ["GBCSPayload", "CustomerIdentificationNumber"]
    assert cin[0].text == base64.b64encode(report.payload or b"").decode()
    assert cin[1].text == "0427"
    assert message.find(f"{{{SR_NS}}}GBCSPayload") is None
    assert_valid_response(gateway_signer().sign_to_bytes(element), conformance)


@pytest.mark.parametrize("kind", [ReportKind.ALERT, ReportKind.DCC_ALERT])
def test_other_reports_are_built_as_before(kind: ReportKind) -> None:
    report = DeviceReport(
        seq=1,
        kind=kind,
        recipient=USER,
        device=ESME,
        code="8F3D" if kind is ReportKind.ALERT else "N12",
        created_at=WHEN,
        request_id=None if kind is ReportKind.ALERT else RequestId(USER, ESME, 5),
        response_id=RequestId(ESME, USER, 5) if kind is ReportKind.ALERT else None,
        payload=b"\x00" if kind is ReportKind.ALERT else None,
        alert_code=0x8F3D if kind is ReportKind.ALERT else None,
        reason=None if kind is ReportKind.ALERT else "no answer",
    )
    assert etree.tostring(report_element(report)) == etree.tostring(
        _build_report_element(report, "5.4")
    )


_VALUE = re.compile(rb"<ds:SignatureValue>[^<]*</ds:SignatureValue>")
_C14N = {"method": "c14n", "exclusive": True, "with_comments": False}


@settings(max_examples=200, deadline=None)
@given(
    counter=st.integers(0, 2**64 - 1),
    payload=st.binary(max_size=400),
    variant=st.sampled_from(["4.1.1", "7.1", "7.2", "8.11", "11.2", "1.1.1", "2.2", "6.11"]),
    when=st.datetimes(timezones=st.just(dt.UTC)),
    version=st.sampled_from(["5.4", "5.1", "4.0"]),
)
def test_template_bytes_are_the_tree_bytes(
    counter: int, payload: bytes, variant: str, when: dt.datetime, version: str
) -> None:
    report = response(counter, payload, variant, when)
    prepared = response_report_bytes(report, schema_version=version)
    assert prepared is not None
    built = _build_report_element(report, version)
    assert prepared[0] == etree.tostring(built, encoding="UTF-8")
    assert prepared[1] == etree.tostring(built, **_C14N)  # type: ignore[call-overload]


def test_the_template_takes_only_the_usual_response() -> None:
    assert response_report_bytes(response(reason="late")) is None
    assert response_report_bytes(response(), schema_version='5.4"><x') is None
    alert = DeviceReport(
        seq=1,
        kind=ReportKind.ALERT,
        recipient=USER,
        device=ESME,
        code="8F3D",
        created_at=WHEN,
        response_id=RequestId(ESME, USER, 5),
        payload=b"\x00",
        alert_code=0x8F3D,
    )
    assert response_report_bytes(alert) is None


def test_signed_from_the_template_is_the_tree_path_and_verifies(conformance: Path) -> None:
    signer = gateway_signer()
    report = response(payload=bytes(range(256)))
    prepared = response_report_bytes(report)
    assert prepared is not None
    signed = signer.sign_plain(*prepared)
    assert signed is not None
    through_tree = signer.sign_to_bytes(report_element(report))
    # ECDSA is randomised: everything but the signature value is the same.
    assert _VALUE.search(signed) is not None
    assert _VALUE.sub(b"", signed) == _VALUE.sub(b"", through_tree)
    XmlSignatureVerifier(engine="fast").verify(etree.fromstring(signed), signer.certificate)
    XmlSignatureVerifier(engine="signxml").verify(etree.fromstring(signed), signer.certificate)
    assert_valid_response(signed, conformance)
