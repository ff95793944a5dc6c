"""SRs 1.5, 1.7, 2.3, 2.5, 3.1 - 3.5 and 6.26 through a whole sandbox: each DCC template,
sent as it is (its own RequestID counter), comes back as the DCC's reference command or
pre-command - message code, CRA, counter, parties and content. The ZCL Issuer Event ID is
the sandbox's clock when it built the command (the reference's was the DCC's: 2015-01-01);
the rest of the content is byte for byte the reference's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.devices.esme import Esme
from emulator.devices.gsme import Gsme
from emulator.metering import PaymentMode
from gbcs import content as gc
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, GSME, Sandbox
from tests.e2e.support import gbcs_of, request, template
from tests.gateway.srv.test_account import SERVED


def _reference(conformance: Path, stem: str) -> Message:
    (path,) = conformance.glob(f"gbcs/*/{stem}_GBCS.HEX")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


@pytest.mark.parametrize("stem", SERVED)
async def test_template_through_the_sandbox_is_the_reference(
    client: DuisClient, sandbox: Sandbox, conformance: Path, stem: str
) -> None:
    xml = template(conformance, f"{stem}_SUCCESS_REQUEST_DUIS.XML")
    pre = b"<sr:CommandVariant>4</sr:CommandVariant>" in xml
    theirs = _reference(conformance, f"{stem}_SUCCESS_{'PRECOMMAND' if pre else 'COMMAND'}")
    if not pre:  # CV2: the command comes back for local delivery
        xml = xml.replace(
            b"<sr:CommandVariant>1</sr:CommandVariant>", b"<sr:CommandVariant>2</sr:CommandVariant>"
        )
    before = datetime.now(UTC).replace(microsecond=0)
    answer = await client.post(xml)
    after = datetime.now(UTC)
    assert answer.code == "I0", (answer.code, answer.reason)
    assert answer.payload is not None
    ours = Message.from_bytes(answer.payload)
    assert ours.signature_omitted == pre
    assert (ours.message_code, ours.cra, ours.originator_counter) == (
        theirs.message_code,
        theirs.cra,
        theirs.originator_counter,
    )
    assert (ours.business_originator, ours.business_target) == (
        theirs.business_originator,
        theirs.business_target,
    )
    mine: Any = gc.decode_command(ours.message_code, ours.content)
    reference: Any = gc.decode_command(theirs.message_code, theirs.content)
    if isinstance(mine, gc.GasTariff):  # the issuer event id is its prices'
        issued = mine.price.issued
        mine = dataclasses.replace(
            mine, price=dataclasses.replace(mine.price, issued=reference.price.issued)
        )
    else:
        issued = getattr(mine, "issued", None)
        if issued is not None:
            mine = dataclasses.replace(mine, issued=reference.issued)
    if issued is not None:
        assert gc.issuer_id(before) <= issued <= gc.issuer_id(after)
    assert mine.encode() == theirs.content


def _state(sandbox: Sandbox, eui: bytes) -> dict[str, Any]:
    return sandbox.fleet.device(eui, 0).family_state("tariff")


async def test_a_message_reaches_both_meters_and_they_hold_it(
    sandbox: Sandbox, client: DuisClient
) -> None:
    message = "<sr:SupplierMessage>Meter read due</sr:SupplierMessage>"
    body = f"<sr:DisplayMessage>{message}</sr:DisplayMessage>"
    for eui, code in ((ESME, 0x0021), (GSME, 0x0071)):
        outcome = await client.send(request(client, "3.1", eui, body), wait=True, within=5)
        assert outcome.ok, outcome
        assert outcome.final is not None
        assert gbcs_of(outcome.final.body).message_code == code
        assert _state(sandbox, eui)["message"] == "Meter read due"


async def test_a_critical_payment_mode_change_switches_the_gas_meter_once(
    sandbox: Sandbox, client: DuisClient
) -> None:
    """1.6 through CV4/CV5: the GSME switches to prepayment; the same change again is
    refused by the meter (ZCL FAILURE in the response) and changes nothing."""
    gsme = sandbox.fleet.device(GSME, 0)
    assert isinstance(gsme, Gsme)
    assert gsme.meter.mode is PaymentMode.CREDIT
    body = (
        "<sr:UpdatePaymentMode><sr:Prepayment><sr:SuspendDebtDisabled>false</sr:SuspendDebtDisabled>"
        "<sr:SuspendDebtEmergency>false</sr:SuspendDebtEmergency>"
        "<sr:DisablementThreshold>0</sr:DisablementThreshold></sr:Prepayment></sr:UpdatePaymentMode>"
    )
    outcome = await client.send(request(client, "1.6", GSME, body, cv=4), wait=True, within=5)
    assert [a.code for a in outcome.answers] == ["I0", "I99"]
    assert outcome.final is not None
    response = gbcs_of(outcome.final.body)
    answer = gc.decode_response(response.message_code, response.content)
    assert isinstance(answer, gc.GasPaymentModeAnswer)
    assert gsme.meter.mode is PaymentMode.PREPAYMENT
    assert len(gsme.family_state("tariff")["billing_log"]) == 1

    again = await client.send(request(client, "1.6", GSME, body, cv=4), wait=True, within=5)
    assert again.final is not None
    refused = gbcs_of(again.final.body)
    status = gc.decode_response(refused.message_code, refused.content)
    assert isinstance(status, gc.ZclStatus)
    assert not status.ok
    assert len(gsme.family_state("tariff")["billing_log"]) == 1


async def test_a_critical_payment_mode_change_switches_the_esme_once(
    sandbox: Sandbox, client: DuisClient
) -> None:
    """1.6 to the ESME (ECS03) through CV4/CV5: the meter switches to prepayment with the
    request's disablement threshold; the same change again is refused by the meter (a DLMS
    result other than success) and changes nothing."""
    esme = sandbox.fleet.device(ESME, 0)
    assert isinstance(esme, Esme)
    assert esme.meter.mode is PaymentMode.CREDIT
    body = (
        "<sr:UpdatePaymentMode><sr:Prepayment><sr:SuspendDebtDisabled>true</sr:SuspendDebtDisabled>"
        "<sr:SuspendDebtEmergency>false</sr:SuspendDebtEmergency>"
        "<sr:DisablementThreshold>-500</sr:DisablementThreshold></sr:Prepayment>"
        "</sr:UpdatePaymentMode>"
    )
    outcome = await client.send(request(client, "1.6", ESME, body, cv=4), wait=True, within=5)
    assert [a.code for a in outcome.answers] == ["I0", "I99"]
    assert outcome.final is not None
    response = gbcs_of(outcome.final.body)
    assert response.message_code == 0x001B
    assert gc.Outcome.decode(response.content).ok
    assert esme.meter.mode is PaymentMode.PREPAYMENT
    assert esme.meter.prepayment.disablement_threshold == -500

    again = await client.send(request(client, "1.6", ESME, body, cv=4), wait=True, within=5)
    assert again.final is not None
    assert not gc.Outcome.decode(gbcs_of(again.final.body).content).ok
    assert len(esme.family_state("tariff")["billing_log"]) == 1


async def test_the_esme_prepay_configuration_template_configures_the_meter(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    """2.1 to the ESME (ECS08a): the DCC's immediate template, with a fresh RequestID,
    becomes the meter's emergency credit, low credit and debt cap settings."""
    esme = sandbox.fleet.device(ESME, 0)
    assert isinstance(esme, Esme)
    xml = template(conformance, "ECS08a_2.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
    outcome = await client.send(client.with_counter(xml), wait=True, within=5)
    assert outcome.final is not None
    response = gbcs_of(outcome.final.body)
    assert response.message_code == 0x00DE
    assert gc.Outcome.decode(response.content).ok
    config = esme.meter.prepayment
    assert (config.emergency_credit_limit, config.emergency_credit_threshold) == (300_000, 100_000)
    assert (config.low_credit_threshold, config.debt_cap) == (200_000, 30)
