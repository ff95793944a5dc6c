"""The sandbox's polyphase ESME (variant C, firmware profile NB300), end to end: SR4.10 reads
each phase's network data (ECS23b), SR6.27 resets the six RMS voltage counters (ECS29f) so a
later read shows none, and SR6.22's polyphase alert settings (ECS25b with x8003) are taken and
SR6.2.10 reads them back."""

from __future__ import annotations

import struct
from typing import Any

from emulator.usecases.alerts import disabled
from emulator.usecases.reading import UNIX_2000
from emulator.usecases.reading_device import voltage_counters, voltage_profile
from gbcs import content as gc
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.payloads import dlms
from gbcs.payloads.dlms import BitString
from gbcs.usecases import by_name
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, POLYPHASE_ESME, Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import call

PHASES = (32, 52, 72)
"""L1, L2, L3: the OBIS C groups of each phase's voltage objects."""
HALF_HOUR = 1800


def _meter(sandbox: Sandbox) -> Any:
    return sandbox.fleet.device(POLYPHASE_ESME, int(sandbox.clock().timestamp()))


def _run_for_days(sandbox: Sandbox, days: int) -> int:
    """The polyphase meter's record restarts ``days`` ago and runs to now; returns now."""
    now = int(sandbox.clock().timestamp())
    meter = _meter(sandbox).meter
    meter.hh_count = 0
    meter.accounted_to = now - now % HALF_HOUR - days * 86_400
    meter.advance(now)
    return now


def _network_data(start: int, end: int) -> str:
    a = gc.from_utc_seconds(start - UNIX_2000).strftime("%Y-%m-%dT%H:%M:%SZ")
    b = gc.from_utc_seconds(end - UNIX_2000).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<sr:ReadNetworkData><sr:ReadLogPeriod><sr:StartDateTime>{a}</sr:StartDateTime>"
        f"<sr:EndDateTime>{b}</sr:EndDateTime></sr:ReadLogPeriod></sr:ReadNetworkData>"
    )


async def _read_network_data(
    client: DuisClient, schema: SchemaCheck, start: int, end: int
) -> tuple[dlms.Data, ...]:
    xml = request(client, "4.10", POLYPHASE_ESME, _network_data(start, end))
    message = await call(client, xml, schema)
    assert message.message_code == by_name("ECS23b").code
    # the header carries the meter's date-time at the read: after the period asked (every
    # period these tests ask for ends at most 3 hours before now)
    assert message.date_time is not None
    read_at = dlms.CosemDateTime.from_bytes(message.date_time).to_datetime().timestamp()
    assert end - 1 <= read_at <= end + 4 * 3600
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    assert response.ok
    # per phase: under-voltage counter, its scaler_unit, over-voltage counter, its
    # scaler_unit, the average RMS voltage profile, its capture period
    assert len(response.data) == 6 * len(PHASES)
    return response.data


def _counters(data: tuple[dlms.Data, ...]) -> list[tuple[int, int]]:
    out = []
    for n in range(len(PHASES)):
        under, over = data[6 * n], data[6 * n + 2]
        assert isinstance(under, dlms.Integer)
        assert isinstance(over, dlms.Integer)
        out.append((under.value, over.value))
    return out


async def test_the_home_has_a_polyphase_esme_of_variant_c(sandbox: Sandbox) -> None:
    record = sandbox.gateway.service.get_device(POLYPHASE_ESME)
    assert record is not None
    assert record.esme_variant == "C"
    assert _meter(sandbox).firmware.esme_variant == "C"
    # the home's own ESME stays single phase
    single = sandbox.gateway.service.get_device(ESME)
    assert single is not None
    assert single.esme_variant == "A"


async def test_4_10_reads_three_phases_of_network_data(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    now = _run_for_days(sandbox, 2)
    start = now - now % HALF_HOUR - 6 * 3600
    data = await _read_network_data(client, schema, start, start + 3 * 3600)
    meter = _meter(sandbox)
    assert _counters(data) == [voltage_counters(meter, phase) for phase in PHASES]
    profiles = []
    for n, phase in enumerate(PHASES):
        profile, period = data[6 * n + 4], data[6 * n + 5]
        assert isinstance(profile, dlms.CompactArray)
        assert period == dlms.double_long_unsigned(HALF_HOUR)
        rows = list(struct.iter_unpack(">II", profile.contents))
        expected = voltage_profile(meter, phase, start, start + 3 * 3600)
        assert rows == [(t - UNIX_2000, v) for t, v in expected]
        assert len(rows) == 7  # the half hours' ends from the start to three hours on
        profiles.append(rows)
    # each phase its own supply voltage
    assert profiles[0] != profiles[1] or profiles[1] != profiles[2]


async def test_6_27_resets_the_six_counters_and_a_later_read_shows_none(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    # 60 days of capture periods: about one in 500 beyond a threshold, so some counted
    now = _run_for_days(sandbox, 60)
    start = now - now % HALF_HOUR - 3600
    before = _counters(await _read_network_data(client, schema, start, now))
    assert sum(under + over for under, over in before) > 0

    xml = request(
        client,
        "6.27",
        POLYPHASE_ESME,
        "<sr:UpdateDeviceConfigurationRMSVoltageCounterReset/>",
        originator=NETWORK_OPERATOR,
    )
    message = await call(client, xml, schema)
    assert message.message_code == by_name("ECS29f").code
    done = gc.decode_response(message.message_code, message.content)
    assert isinstance(done, gc.Outcome)
    assert done.ok

    after = _counters(await _read_network_data(client, schema, start, now))
    assert after == [(0, 0)] * len(PHASES)


def _alert_settings(group: str, subgroup: str, code: str) -> str:
    return (
        f"<sr:ConfigureAlertBehaviour><sr:{group}><sr:{subgroup}><sr:x{code}>Disable</sr:x{code}>"
        f"</sr:{subgroup}></sr:{group}></sr:ConfigureAlertBehaviour>"
    )


async def _set_alerts(
    client: DuisClient, schema: SchemaCheck, body: str, originator: bytes, use_case: str
) -> None:
    xml = request(client, "6.22", POLYPHASE_ESME, body, originator=originator)
    message = await call(client, xml, schema)
    assert message.message_code == by_name(use_case).code
    done = gc.decode_response(message.message_code, message.content)
    assert isinstance(done, gc.Outcome)
    assert done.ok


async def test_6_22_network_operator_polyphase_settings_are_taken(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = _alert_settings(
        "ElectricityNetworkOperatorAlerts", "NetworkOperatorESMEPolyPhase", "8003"
    )
    await _set_alerts(client, schema, body, NETWORK_OPERATOR, "ECS25b")
    assert disabled(_meter(sandbox), "ECS25b") == {0x8003}


async def test_6_22_supplier_polyphase_settings_are_taken_and_6_2_10_reads_them(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = _alert_settings("ElectricitySupplierAlerts", "SupplierESMEPolyPhase", "81B7")
    await _set_alerts(client, schema, body, SUPPLIER, "ECS25a")

    read = request(
        client, "6.2.10", POLYPHASE_ESME, "<sr:ReadDeviceConfigurationEventAndAlertBehaviours/>"
    )
    message = await call(client, read, schema)
    assert message.message_code == by_name("ECS25r1").code
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    # ECS25a's alert behaviour first, then the HAN, alarm and logging objects
    alerts, *others = response.data
    everything = (1 << 256) - 1
    assert isinstance(alerts, BitString)
    assert int.from_bytes(alerts.data, "big") == everything & ~(1 << 0xB7)
    assert all(
        isinstance(o, BitString) and int.from_bytes(o.data, "big") == everything for o in others
    )


def _phase(n: int, over: int, under: int) -> str:
    return (
        f"<sr:PolyPhaseVoltageSettings><sr:Phase>{n}</sr:Phase><sr:PhaseVoltageSettings>"
        f"<sr:AverageRMSOverVoltageThreshold>{over}</sr:AverageRMSOverVoltageThreshold>"
        f"<sr:AverageRMSUnderVoltageThreshold>{under}</sr:AverageRMSUnderVoltageThreshold>"
        "<sr:AverageRMSVoltageMeasurementPeriod>30</sr:AverageRMSVoltageMeasurementPeriod>"
        "</sr:PhaseVoltageSettings></sr:PolyPhaseVoltageSettings>"
    )


def _limiters() -> str:
    values = {
        "RMSExtremeOverVoltage": 287,
        "RMSExtremeUnderVoltage": 180,
        "RMSVoltageSag": 216,
        "RMSVoltageSwell": 253,
    }
    return "".join(
        f"<sr:{name}MeasurementPeriod>30</sr:{name}MeasurementPeriod>"
        f"<sr:{name}Threshold>{volts}</sr:{name}Threshold>"
        for name, volts in values.items()
    )


async def _voltage_configuration(client: DuisClient, schema: SchemaCheck) -> tuple[int, ...]:
    """SR6.2.1 to the polyphase ESME: ECS26k's values."""
    read = request(client, "6.2.1", POLYPHASE_ESME, "<sr:ReadDeviceConfigurationVoltage/>")
    message = await call(client, read, schema)
    assert message.message_code == by_name("ECS26k").code
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    values = []
    for value in response.data:
        assert isinstance(value, dlms.Integer)
        assert value.type is dlms.DataType.DOUBLE_LONG_UNSIGNED
        values.append(value.value)
    return tuple(values)


async def test_6_5_sets_each_phase_and_6_2_1_reads_them_back(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    factory = await _voltage_configuration(client, schema)
    extreme_over, extreme_under, sag, swell = (factory[n] for n in (0, 2, 4, 6))
    # the factory limiters in GBCS's order, each where it belongs around 230 V
    assert extreme_over > swell > 230 > sag > extreme_under

    thresholds = {1: (260, 205), 2: (258, 207), 3: (256, 209)}
    body = (
        "<sr:UpdateDeviceConfigurationVoltage><sr:RMSVoltageSettings>"
        f"{_limiters()}</sr:RMSVoltageSettings>"
        + "".join(_phase(n, over, under) for n, (over, under) in thresholds.items())
        + "</sr:UpdateDeviceConfigurationVoltage>"
    )
    xml = request(client, "6.5", POLYPHASE_ESME, body, originator=NETWORK_OPERATOR)
    message = await call(client, xml, schema)
    assert message.message_code == by_name("ECS29b").code
    done = gc.decode_response(message.message_code, message.content)
    assert isinstance(done, gc.Outcome)
    assert done.ok

    data = await _voltage_configuration(client, schema)
    # the four limiters (threshold, period: extreme over, extreme under, sag, swell), then
    # L1 over / under, L2 under / over, L3 under / over
    assert data == (287, 30, 180, 30, 216, 30, 253, 30, 260, 205, 207, 258, 209, 256)
