"""Each device SR through HTTP: DUIS in, real GBCS to an emulated device and back, DUIS out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator.metering import PaymentMode
from gbcs import content as gc
from gbcs.codes import ACB, CRA, SUPPLIER
from gbcs.frames import Message
from gbcs.utrn import make_utrn
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, GPF, GSME, Sandbox
from tests.e2e.support import SchemaCheck, decrypter, gbcs_of, request, template

NOW = "<sr:CurrentDateTime>{now}</sr:CurrentDateTime><sr:TolerancePeriod>60</sr:TolerancePeriod>"


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.00Z")


async def call(client: DuisClient, xml: bytes, schema: SchemaCheck) -> Message:
    outcome = await client.send(xml, wait=True, within=5)
    for answer in outcome.answers:
        assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
        schema(answer.body)
    assert outcome.final is not None, "no answer in time"
    assert outcome.final.kind == "response", outcome.final.body
    schema(outcome.final.body)
    return gbcs_of(outcome.final.body)


async def test_4_1_1_ecs17b_template_reads_encrypted_registers(
    sandbox: Sandbox, client: DuisClient, conformance: Path, schema: SchemaCheck
) -> None:
    xml = template(conformance, "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML")
    message = await call(client, client.with_counter(xml), schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == 0x0027
    assert (message.business_originator, message.business_target) == (ESME, SUPPLIER)
    assert Verifier(sandbox.keystore).verify(message).mac is Check.VALID
    response = gc.decode_response(0x0027, message.content)
    assert isinstance(response, gc.ImportRegistersResponse)
    registers = response.registers(decrypter(sandbox.keystore, message))
    assert registers.active_import >= 0


@pytest.mark.parametrize("target", [GPF, GSME], ids=["gpf", "gsme"])
async def test_4_1_1_gcs13a_reads_the_gas_register(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck, target: bytes
) -> None:
    xml = request(client, "4.1.1", target, "<sr:ReadInstantaneousImportRegisters/>")
    message = await call(client, xml, schema)
    assert message.message_code == 0x0074
    assert message.business_originator == target
    response = gc.decode_response(0x0074, message.content)
    assert isinstance(response, gc.GasRegisterResponse)
    register = response.register(decrypter(sandbox.keystore, message))
    assert register.volume is not None


async def test_11_2_ecs52_reads_the_firmware_of_esme_and_hub(
    client: DuisClient, schema: SchemaCheck
) -> None:
    for target, version in ((ESME, "00010203"), (CHF, "01020304")):
        xml = request(client, "11.2", target, "<sr:ReadFirmwareVersion/>")
        message = await call(client, xml, schema)
        response = gc.decode_response(0x0059, message.content)
        assert isinstance(response, gc.FirmwareVersion)
        assert response.version == bytes.fromhex(version)


async def test_7_x_load_switch_disable_arm_enable_critical(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    for srv, body, code in (
        ("7.2", "<sr:DisableSupply/>", 0x0050),
        ("7.3", "<sr:ArmSupply/>", 0x0051),
        ("7.1", "<sr:EnableSupply/>", 0x004F),
    ):
        xml = request(client, srv, ESME, body, cv=4)
        outcome = await client.send(xml, wait=True, within=5)
        assert [a.code for a in outcome.answers] == ["I0", "I99"], outcome.answers[-1].reason
        precommand = gbcs_of(outcome.answers[0].body)
        assert precommand.signature_omitted
        assert precommand.mac is None
        assert outcome.final is not None
        assert outcome.final.kind == "response"
        schema(outcome.final.body)
        message = gbcs_of(outcome.final.body)
        assert message.message_code == code
        # the response to a critical command is signed by the device, not MACed
        assert message.mac is None
        assert Verifier(sandbox.keystore).verify(message).signature is Check.VALID
        outcome_content = gc.decode_response(code, message.content)
        assert getattr(outcome_content, "ok", False), (srv, outcome_content)


async def test_7_2_and_7_3_gas_valve(client: DuisClient, schema: SchemaCheck) -> None:
    for srv, body, code, status in (
        ("7.2", "<sr:DisableSupply/>", 0x0081, gc.SupplyStatus.OFF),
        ("7.3", "<sr:ArmSupply/>", 0x0085, gc.SupplyStatus.ARMED),
    ):
        outcome = await client.send(request(client, srv, GSME, body, cv=4), wait=True, within=5)
        assert outcome.ok, [(a.code, a.reason) for a in outcome.answers]
        assert outcome.final is not None
        state = gc.decode_response(code, gbcs_of(outcome.final.body).content)
        assert isinstance(state, gc.ValveState)
        assert state.status is status


async def test_7_4_reads_the_gas_valve_it_just_closed(
    client: DuisClient, schema: SchemaCheck
) -> None:
    closed = await client.send(
        request(client, "7.2", GSME, "<sr:DisableSupply/>", cv=4), wait=True, within=5
    )
    assert closed.ok
    message = await call(client, request(client, "7.4", GSME, "<sr:ReadSupplyStatus/>"), schema)
    assert message.message_code == 0x0082
    status = gc.decode_response(0x0082, message.content)
    assert isinstance(status, gc.ValveStatus)
    assert status.status is gc.SupplyStatus.OFF


async def test_7_4_to_an_esme_reads_its_load_switch(
    client: DuisClient, schema: SchemaCheck
) -> None:
    message = await call(client, request(client, "7.4", ESME, "<sr:ReadSupplyStatus/>"), schema)
    assert message.message_code == 0x0052  # ECS45 (tests/e2e/test_reading_device.py: values)


async def test_7_1_is_refused_for_a_gas_meter(client: DuisClient) -> None:
    outcome = await client.send(request(client, "7.1", GSME, "<sr:EnableSupply/>", cv=4))
    assert outcome.answers[0].code == "E48"
    assert "GSME" in (outcome.answers[0].reason or "")


@pytest.mark.parametrize(
    ("target", "code"), [(ESME, 0x0062), (GSME, 0x007F)], ids=["ecs70", "gcs28"]
)
async def test_6_11_synchronise_clock(
    client: DuisClient, schema: SchemaCheck, target: bytes, code: int
) -> None:
    body = f"<sr:SynchroniseClock>{NOW.format(now=now_text())}</sr:SynchroniseClock>"
    outcome = await client.send(request(client, "6.11", target, body, cv=4), wait=True, within=5)
    assert outcome.ok, outcome
    assert outcome.final is not None
    schema(outcome.final.body)
    response = gc.decode_response(code, gbcs_of(outcome.final.body).content)
    assert getattr(response, "ok", False), response


async def test_8_11_ccs01_template_goes_through_the_chf_as_the_acb(
    sandbox: Sandbox, client: DuisClient, conformance: Path, schema: SchemaCheck
) -> None:
    xml = template(conformance, "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML")
    message = await call(client, client.with_counter(xml), schema)
    assert message.message_code == 0x0001
    assert (message.business_originator, message.business_target) == (CHF, ACB)
    # the supplementary remote party is the user, with its RequestID counter
    assert message.extensions[:8] == SUPPLIER
    assert Verifier(sandbox.keystore).verify(message).mac is Check.VALID
    assert gc.decode_response(0x0001, message.content).ok


async def test_cv2_returns_the_command_for_local_delivery(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    xml = request(client, "11.2", ESME, "<sr:ReadFirmwareVersion/>", cv=2)
    outcome = await client.send(xml)
    (answer,) = outcome.answers
    assert answer.code == "I0"
    assert answer.endpoint == "/api/v1/serviceD"
    schema(answer.body)
    assert b"LocalCommand" in answer.body
    command = gbcs_of(answer.body)
    assert command.cra is CRA.COMMAND
    assert command.business_target == ESME
    assert Verifier(sandbox.keystore).verify(command).mac is Check.VALID
    assert sandbox.wan.stats.sent_down == 0  # nothing went over the WAN


async def test_2_2_top_up_with_a_utrn_and_its_replay(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    meter = sandbox.fleet.device(ESME, int(sandbox.clock().timestamp()))
    meter.meter.mode = PaymentMode.PREPAYMENT  # type: ignore[attr-defined]  # an ESME
    before = meter.meter.credit.balance  # type: ignore[attr-defined]
    utrn = make_utrn(sandbox.keystore, supplier=SUPPLIER, device=ESME, counter=5 << 32, value=1000)
    body = f"<sr:TopUpDevice><sr:UTRN>{utrn}</sr:UTRN></sr:TopUpDevice>"
    outcome = await client.send(request(client, "2.2", ESME, body), wait=True, within=5)
    assert outcome.ok, outcome
    assert outcome.final is not None
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    assert message.message_code == 0x0007  # CS01a
    assert gc.decode_response(0x0007, message.content).ok
    added = meter.meter.credit.balance - before  # type: ignore[attr-defined]
    assert 990_000 < added <= 1000 * 1000  # 1000 pence, in milli-pence (less a second's use)
    # the same UTRN again (a new request): the meter refuses it, with an alert
    outcome = await client.send(request(client, "2.2", ESME, body), wait=True, within=5)
    assert outcome.final is not None
    assert not gc.decode_response(0x0007, gbcs_of(outcome.final.body).content).ok
    alerts = [r for r in sandbox.devices.reports(recipient=SUPPLIER) if r.kind.value == "alert"]
    assert any(r.code == "8F51" for r in alerts)  # duplicate UTRN entered


TARIFF = """<sr:UpdateImportTariffPrimaryElement>
<sr:ElecTariffElements>
  <sr:CurrencyUnits>GBP</sr:CurrencyUnits>
  <sr:SwitchingTable>
    <sr:DayProfiles>
      <sr:DayProfile><sr:DayName>1</sr:DayName>
        <sr:ProfileSchedule><sr:StartTime>00:00:00</sr:StartTime>
          <sr:TOUTariffAction>1</sr:TOUTariffAction></sr:ProfileSchedule>
        <sr:ProfileSchedule><sr:StartTime>07:00:00</sr:StartTime>
          <sr:TOUTariffAction>2</sr:TOUTariffAction></sr:ProfileSchedule>
      </sr:DayProfile>
    </sr:DayProfiles>
    <sr:WeekProfiles><sr:WeekProfile><sr:WeekName>1</sr:WeekName>
      {days}
    </sr:WeekProfile></sr:WeekProfiles>
    <sr:Seasons><sr:Season><sr:SeasonName>all</sr:SeasonName>
      <sr:SeasonStartDate>
        <sr:Year><sr:NonSpecifiedYear/></sr:Year><sr:Month><sr:SpecifiedMonth>1</sr:SpecifiedMonth></sr:Month>
        <sr:DayOfMonth><sr:SpecifiedDayOfMonth>1</sr:SpecifiedDayOfMonth></sr:DayOfMonth>
        <sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>
      </sr:SeasonStartDate>
      <sr:ReferencedWeekName>1</sr:ReferencedWeekName></sr:Season></sr:Seasons>
  </sr:SwitchingTable>
  <sr:SpecialDays/>
  <sr:ThresholdMatrix>{thresholds}</sr:ThresholdMatrix>
</sr:ElecTariffElements>
<sr:PriceElements><sr:ElectricityPriceElements>
  <sr:StandingCharge>6123</sr:StandingCharge><sr:StandingChargeScale>-5</sr:StandingChargeScale>
  <sr:PriceScale>-5</sr:PriceScale>
  <sr:TOUTariff><sr:TOUPrice index="1">1500</sr:TOUPrice><sr:TOUPrice index="2">3100</sr:TOUPrice>
  </sr:TOUTariff>
</sr:ElectricityPriceElements></sr:PriceElements>
</sr:UpdateImportTariffPrimaryElement>""".format(
    days="".join(
        f'<sr:ReferencedDayName index="{i}">1</sr:ReferencedDayName>' for i in range(1, 8)
    ),
    thresholds="".join(
        f'<sr:Thresholds index="{i}"><sr:BlockThreshold index="1">4294967295</sr:BlockThreshold>'
        "</sr:Thresholds>"
        for i in range(1, 9)
    ),
)


async def test_1_1_1_ecs01a_sets_the_tariff(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    outcome = await client.send(request(client, "1.1.1", ESME, TARIFF, cv=4), wait=True, within=5)
    assert [a.code for a in outcome.answers] == ["I0", "I99"], outcome.answers[-1].reason
    assert outcome.final is not None
    assert outcome.final.kind == "response"
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    assert message.message_code == 0x0019
    assert gc.decode_response(0x0019, message.content).ok
    tariff = sandbox.fleet.device(ESME, 0).to_json()["meter"]["tariff"]
    # PriceScale -5: the prices are in 1e-5 GBP (milli-pence) per kWh, as the meter keeps them
    assert tariff["prices"][:2] == [1500, 3100]
    assert tariff["standing_charge"] == 6123
    assert tariff["switching"][13:15] == [0, 1]  # rate 2 from 07:00
