"""SRs 1.5, 1.7, 2.3, 2.5, 3.1 - 3.5 and 6.26: each DCC template becomes the DCC's reference
command (content and use case), and bad bodies are refused with a sentence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gbcs import content as gc
from tests.gateway.srv.support_account import reference_content, template_body, transform

SERVED = (
    "GCS05_2.1_IMMEDIATE",
    "GCS05_2.1_FUTURE_DATED",
    "GCS05_2.1_CANCELLATION",
    "GCS01a_1.1.1_IMMEDIATE_TOU",
    "GCS01a_1.1.1_FUTURE_DATED_BLOCK",
    "GCS01a_1.1.1_CANCELLATION_BLOCK",
    "GCS01b_1.2.1_IMMEDIATE_TOU",
    "GCS01b_1.2.1_FUTURE_DATED_BLOCK",
    "GCS01b_1.2.1_CANCELLATION_BLOCK",
    "ECS01b_1.2.1_IMMEDIATE_TOU",
    "ECS01b_1.2.1_IMMEDIATE_BLOCK",
    "ECS01b_1.2.1_FUTURE_DATED_TOU_BLOCK",
    "ECS01b_1.2.1_CANCELLATION_TOU_BLOCK",
    "ECS01a_1.1.1_IMMEDIATE_TOU",
    "ECS01a_1.1.1_IMMEDIATE_BLOCK",
    "ECS01a_1.1.1_FUTURE_DATED_TOU_BLOCK",
    "ECS01a_1.1.1_CANCELLATION_TOU_BLOCK",
    "GCS02_1.6_IMMEDIATE",
    "GCS02_1.6_FUTURE_DATED",
    "GCS02_1.6_CANCELLATION",
    "GCS03_1.6_IMMEDIATE",
    "GCS03_1.6_FUTURE_DATED",
    "GCS03_1.6_CANCELLATION",
    "ECS05_1.7",
    "ECS09_2.5",
    "GCS06_2.5",
    "ECS10_3.1",
    "GCS07_3.1",
    "ECS12_3.2",
    "ECS15c_3.3",
    "CS11_3.3",
    "ECS16_3.4",
    "GCS44_3.4",
    "GCS11_3.5",
    "ECS48_6.26",
    "GCS40c_1.5",
    "GCS40d_1.5",
    "GCS04_2.3",
)


@pytest.mark.parametrize("stem", SERVED)
def test_template_becomes_the_reference_command(conformance: Path, stem: str) -> None:
    xml = (conformance / f"duis/templates/{stem}_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    name, content = transform(xml)
    reference = reference_content(conformance, f"{stem}_SUCCESS_COMMAND_GBCS.HEX")
    assert name == stem.split("_")[0]
    assert content == reference.content


def test_gas_tenancy_date_comes_from_the_request(conformance: Path) -> None:
    """GCS09's implementation time is the request's RestrictionDateTime. The DCC's reference
    carries another time (2016-11-22T02:46:56Z) than its template's (2015-02-01): everything
    else is equal."""
    xml = (conformance / "duis/templates/GCS09_3.2_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    name, content = transform(xml)
    reference = reference_content(conformance, "GCS09_3.2_SUCCESS_COMMAND_GBCS.HEX")
    ours = gc.decode_command(0x0072, content)
    theirs = gc.decode_command(0x0072, reference.content)
    assert isinstance(ours, gc.GasTenancy)
    assert isinstance(theirs, gc.GasTenancy)
    assert name == "GCS09"
    assert ours.when == datetime(2015, 2, 1, tzinfo=UTC)
    assert ours.issued == theirs.issued
    assert gc.GasTenancy(theirs.issued, ours.when).encode() == content


def test_zcl_issuer_event_id_is_the_dcc_clock(conformance: Path) -> None:
    xml = (conformance / "duis/templates/GCS07_3.1_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    later = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    _, content = transform(xml, now=later)
    found = gc.decode_command(0x0071, content)
    assert isinstance(found, gc.GasMessage)
    assert (
        found.issued
        == gc.issuer_id(later)
        == int((later - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())
    )


def _body(element: str, inner: str = "") -> etree._Element:
    ns = "http://www.dccinterface.co.uk/ServiceUserGateway"
    return etree.fromstring(f'<sr:{element} xmlns:sr="{ns}">{inner}</sr:{element}>')


def _xml(**fields: str) -> str:
    return "".join(f"<sr:{k}>{v}</sr:{k}>" for k, v in fields.items())


_DEBT = _xml(TimeDebtRegister1="1", TimeDebtRegister2="1", PaymentDebtRegister="1")
_DAILY = "UpdateDeviceConfigurationDailyResettingOfTariffBlockCounterMatrix"
_TENANCY = "RestrictAccessForChangeOfTenancy"


@pytest.mark.parametrize(
    ("srv", "element", "inner", "words"),
    [
        ("3.1", "DisplayMessage", _xml(SupplierMessage="caf\u00e9"), "characters"),
        ("3.1", "DisplayMessage", _xml(SupplierMessage="x" * 117), "1 to 116"),
        (
            "3.4",
            "UpdateSupplierName",
            _xml(SupplierName="A", SupplierTelephoneNumber="01-23"),
            "SupplierTelephoneNumber",
        ),
        ("3.2", _TENANCY, _xml(RestrictionDateTime="yesterday"), "xs:dateTime"),
        ("3.3", "ClearEventLog", _xml(ESMEEventLogType="GAS"), "ESME or ALCS"),
        ("6.26", _DAILY, _xml(DailyTariffBlockCounterMatrixReset="maybe"), "boolean"),
        (
            "1.5",
            "UpdateMeterBalance",
            "<sr:CreditMode>" + _xml(AdjustMeterBalance="1e3") + "</sr:CreditMode>",
            "integer",
        ),
        ("1.5", "UpdateMeterBalance", "", "one of"),
        ("2.3", "UpdateDebt", _DEBT + _xml(DebtRecoveryPerPayment="10001"), "0 to 10000"),
        ("1.7", "ResetTariffBlockCounterMatrix", "<sr:Extra/>", "unexpected element"),
        ("1.6", "UpdatePaymentMode", "<sr:Credit/><sr:Prepayment/>", "one of"),
        (
            "1.6",
            "UpdatePaymentMode",
            _xml(ExecutionDateTime="soon") + "<sr:Credit/>",
            "xs:dateTime",
        ),
        (
            "1.6",
            "UpdatePaymentMode",
            "<sr:Prepayment>"
            + _xml(SuspendDebtDisabled="yes", SuspendDebtEmergency="true", DisablementThreshold="0")
            + "</sr:Prepayment>",
            "boolean",
        ),
    ],
)
def test_bad_bodies_are_refused_with_a_sentence(
    srv: str, element: str, inner: str, words: str
) -> None:
    codec = entry(srv).codec
    assert codec is not None
    with pytest.raises(ServiceError) as caught:
        codec.read(_body(element, inner))
    assert caught.value.rule == "duis_invalid_element"
    assert words in str(caught.value)


def test_a_negative_gas_debt_increment_is_refused(conformance: Path) -> None:
    xml = (conformance / "duis/templates/GCS04_2.3_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    xml = xml.replace(b">500000<", b">-500000<")
    with pytest.raises(ServiceError) as caught:
        transform(xml)
    assert "0 or more" in str(caught.value)


def test_an_esme_needs_its_event_log_named(conformance: Path) -> None:
    xml = (conformance / "duis/templates/ECS15c_3.3_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    xml = xml.replace(b"<sr:ESMEEventLogType>ALCS</sr:ESMEEventLogType>", b"")
    with pytest.raises(ServiceError) as caught:
        transform(xml)
    assert "ESMEEventLogType" in str(caught.value)
    srv, _, _, _ = template_body(xml)
    assert srv == "3.3"


def _swap(element: str, old: str, new: str, index: str = "") -> tuple[bytes, bytes]:
    attribute = f' index="{index}"' if index else ""
    tag = f"<sr:{element}{attribute}>{{}}</sr:{element}>"
    return tag.format(old).encode(), tag.format(new).encode()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_swap("ReferencedWeekName", "2", "3"), "week profile 3"),
        (_swap("TOUTariffAction", "4", "5"), "TOUTariffAction"),
        (_swap("ReferencedDayName", "4", "9", index="7"), "not defined"),
    ],
)
def test_an_inconsistent_gas_tariff_is_refused(
    conformance: Path, change: tuple[bytes, bytes], words: str
) -> None:
    name = "GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS_REQUEST_DUIS.XML"
    xml = (conformance / "duis/templates" / name).read_bytes()
    assert change[0] in xml
    with pytest.raises(ServiceError) as caught:
        transform(xml.replace(change[0], change[1], 1))
    assert words in str(caught.value)


def test_an_inconsistent_electricity_tariff_is_refused(conformance: Path) -> None:
    name = "ECS01a_1.1.1_IMMEDIATE_TOU_SUCCESS_REQUEST_DUIS.XML"
    xml = (conformance / "duis/templates" / name).read_bytes()
    old, new = _swap("ReferencedWeekName", "1", "4")
    bad = xml.replace(old, new, 1)
    assert bad != xml
    with pytest.raises(ServiceError) as caught:
        transform(bad)
    assert "unknown week profile" in str(caught.value)
