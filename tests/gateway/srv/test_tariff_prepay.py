"""SR1.6 and SR2.1 to an ESME (ECS02, ECS03, ECS08a): each DCC template becomes the DCC's
reference command for the ESME variant the reference was made for (single or twin element),
the typed content reads back what the request said, and bad bodies change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ServiceError
from gbcs import content as gc
from gbcs.content.tariff_prepay import SECONDARY, TIME_DEBT_1
from tests.gateway.srv.support_account import reference_content, transform

STEMS = (
    "ECS02_1.6_IMMEDIATE_SINGLE",
    "ECS02_1.6_FUTURE_DATED_TWIN",
    "ECS02_1.6_CANCELLATION_TWIN",
    "ECS03_1.6_IMMEDIATE_SINGLE",
    "ECS03_1.6_FUTURE_DATED_TWIN",
    "ECS03_1.6_CANCELLATION_TWIN",
    "ECS08a_2.1_IMMEDIATE",
    "ECS08a_2.1_FUTURE_DATED",
    "ECS08a_2.1_CANCELLATION",
)


def _template(conformance: Path, stem: str) -> bytes:
    return (conformance / f"duis/templates/{stem}_SUCCESS_REQUEST_DUIS.XML").read_bytes()


@pytest.mark.parametrize("stem", STEMS)
def test_template_becomes_the_reference_command(conformance: Path, stem: str) -> None:
    variant = "B" if "_TWIN" in stem else "A"
    name, content = transform(_template(conformance, stem), esme_variant=variant)
    reference = reference_content(conformance, f"{stem}_SUCCESS_COMMAND_GBCS.HEX")
    assert name == stem.split("_")[0]
    assert content == reference.content


def test_the_secondary_element_is_charged_only_on_a_twin_element_esme(conformance: Path) -> None:
    xml = _template(conformance, "ECS03_1.6_FUTURE_DATED_TWIN")
    _, single = transform(xml, esme_variant="A")
    _, twin = transform(xml, esme_variant="BD")
    ours = gc.decode_command(0x001B, single)
    theirs = gc.decode_command(0x001B, twin)
    assert isinstance(ours, gc.ElecPrepaymentMode)
    assert isinstance(theirs, gc.ElecPrepaymentMode)
    assert not ours.twin
    assert theirs.twin
    assert SECONDARY not in {charge for _, charge, _ in ours.rows()}
    assert [r for r in theirs.rows() if r[1] != SECONDARY] == list(ours.rows())


def test_the_prepayment_mode_carries_the_request(conformance: Path) -> None:
    xml = _template(conformance, "ECS03_1.6_IMMEDIATE_SINGLE")
    xml = xml.replace(b">556677<", b">-1200<").replace(
        b"<sr:SuspendDebtDisabled>true", b"<sr:SuspendDebtDisabled>false"
    )
    _, content = transform(xml)
    found = gc.decode_command(0x001B, content)
    assert isinstance(found, gc.ElecPrepaymentMode)
    assert found.disablement_threshold == -1200
    assert not found.suspend_debt_disabled
    assert found.suspend_debt_emergency
    assert found.activate_at is None
    assert not found.cancel_pending
    assert {bits for _, charge, bits in found.rows() if charge == TIME_DEBT_1} == {b"\xe0"}


def test_the_prepay_configuration_carries_the_request(conformance: Path) -> None:
    _, content = transform(_template(conformance, "ECS08a_2.1_FUTURE_DATED"))
    found = gc.decode_command(0x00DE, content)
    assert isinstance(found, gc.ElecPrepayConfig)
    assert (found.debt_cap, found.emergency_credit_limit) == (30, 300000)
    assert (found.emergency_credit_threshold, found.low_credit_threshold) == (100000, 200000)
    assert (found.max_meter_balance, found.max_credit_threshold) == (5000000, 1000000)
    assert len(found.special_days) == 5
    assert len(found.schedule) == 16
    last = found.schedule[-1]
    assert not last.start
    assert last.special_days == {3, 4}
    assert not last.weekdays
    assert found.activate_at is not None
    assert found.activate_at.year == 2030


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (b"<sr:SpecialDayID>5<", b"<sr:SpecialDayID>6<", "not in ElectricitySpecialDays"),
        (b"<sr:DayOfWeekID>Sunday<", b"<sr:DayOfWeekID>Sun<", "day of the week"),
        (b"<sr:NonDisablementScript>STOP<", b"<sr:NonDisablementScript>HALT<", "START or STOP"),
        (b"<sr:StartDate>2014-10-27Z<", b"<sr:StartDate>2014-13-27Z<", "not a date"),
        (b">30</sr:DebtRecoveryRateCap>", b">70000</sr:DebtRecoveryRateCap>", "0 to 65535"),
        (
            b"<sr:EmergencyCreditThreshold>100000<",
            b"<sr:EmergencyCreditThreshold>400000<",
            "exceeds the emergency credit limit",
        ),
    ],
)
def test_a_bad_esme_prepay_configuration_is_refused(
    conformance: Path, old: bytes, new: bytes, words: str
) -> None:
    xml = _template(conformance, "ECS08a_2.1_IMMEDIATE")
    assert old in xml
    with pytest.raises(ServiceError) as caught:
        transform(xml.replace(old, new, 1))
    assert words in str(caught.value)


def test_a_bad_disablement_threshold_is_refused(conformance: Path) -> None:
    xml = _template(conformance, "ECS03_1.6_IMMEDIATE_SINGLE").replace(b">556677<", b">5e5<")
    with pytest.raises(ServiceError) as caught:
        transform(xml)
    assert caught.value.rule == "duis_invalid_element"
    assert "DisablementThreshold" in str(caught.value)
