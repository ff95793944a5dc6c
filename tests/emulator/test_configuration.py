"""The ESME acts on the configuration and auxiliary load control settings commands: the
values land in its configuration state (read back from there), the response is the
reference shape (an Outcome per request), and a value it refuses changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from emulator.fleet import Fleet
from emulator.usecases.configuration import FAMILY, setting
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.frames import Message
from gbcs.payloads import dlms
from tests.emulator.support import CHF, ESME, GSME, SEED, HeadEnd, pki_for

NOW = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)


def _send(head: HeadEnd, writes: tuple[tuple[dlms.AccessSpec, dlms.Data], ...], code: int):  # type: ignore[no-untyped-def]
    cmd = c.DeviceSettings(code, head.next_counter() % (1 << 24), writes)
    answer = head.send(head.command(ESME, cmd, counter=head.counter))
    assert answer.response is not None
    return cmd, c.decode_response(code, answer.response.content), answer


def test_power_thresholds_are_kept_and_read_back(fleet: Fleet, head: HeadEnd) -> None:
    values = dlms.array(dlms.double_long_unsigned(2300), dlms.double_long_unsigned(4600))
    cmd, response, _ = _send(head, ((dlms.set_(21, "0-0:16.0.0.255", 2), values),), 0x0047)
    assert isinstance(response, c.Outcome)
    assert response.ok
    assert response == cmd.outcome()
    device = fleet.device(ESME, head.now)
    assert setting(device, "set 21 0-0:16.0.0.255/2") == values


def test_a_refused_value_changes_nothing(fleet: Fleet, head: HeadEnd) -> None:
    good = dlms.array(dlms.double_long_unsigned(2300), dlms.double_long_unsigned(4600))
    _send(head, ((dlms.set_(21, "0-0:16.0.0.255", 2), good),), 0x0047)
    bad = dlms.array(dlms.double_long_unsigned(9000), dlms.double_long_unsigned(4600))
    _, response, _ = _send(head, ((dlms.set_(21, "0-0:16.0.0.255", 2), bad),), 0x0047)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert setting(fleet.device(ESME, head.now), "set 21 0-0:16.0.0.255/2") == good


def test_mpan_and_counter_resets(fleet: Fleet, head: HeadEnd) -> None:
    mpan = dlms.octet_string(b"1312345678333")
    _send(head, ((dlms.set_(1, "0-0:94.44.34.11", 2), mpan),), 0x004C)
    reset = (dlms.action(3, "0-0:94.44.42.255", 1), dlms.integer(0))
    _, response, _ = _send(head, (reset,), 0x0044)
    assert isinstance(response, c.Outcome)
    assert response.ok
    device = fleet.device(ESME, head.now)
    assert setting(device, "set 1 0-0:94.44.34.11/2") == mpan
    resets = device.family_state(FAMILY)["resets"]
    assert resets["action 3 0-0:94.44.42.255/1"] == device.device_time(int(head.now.timestamp()))


def _alcs_fleet() -> tuple[Fleet, HeadEnd]:
    fleet = Fleet(SEED, pki_for(), faults=False)  # signed frames vary: no random radio drops
    fleet.add(ESME, "northbrook-nb100", firmware="00020000")
    return fleet, HeadEnd(fleet, pki_for())


def test_auxiliary_load_switches_for_its_duration_then_resets() -> None:
    fleet, head = _alcs_fleet()
    duration = (dlms.set_(1, "0-0:94.44.117.1", 2), dlms.long_unsigned(30))
    script = (dlms.action(9, "0-0:10.0.103.255", 1), dlms.long_unsigned(0x0111))
    _, response, _ = _send(head, (duration, script), 0x0055)
    assert isinstance(response, c.Outcome)
    assert response.ok
    device = fleet.device(ESME, head.now)
    switch = device.family_state(FAMILY)["switches"]["1"]
    assert switch["state"] == "on"
    assert switch["until"] == device.device_time(int(head.now.timestamp())) + 30 * 60

    reset = (dlms.action(9, "0-0:10.0.103.255", 1), dlms.long_unsigned(0x0120))
    _send(head, (reset,), 0x0055)
    assert fleet.device(ESME, head.now).family_state(FAMILY)["switches"]["1"] == {
        "state": "schedule",
        "until": None,
    }


def test_apc_level_and_its_bad_level() -> None:
    fleet, head = _alcs_fleet()
    start = datetime(2024, 1, 16, tzinfo=UTC)
    writes = (
        (dlms.set_(1, "0-0:94.44.119.3", 2), dlms.octet_string(_stamp(start))),
        (dlms.set_(1, "0-0:94.44.119.4", 2), dlms.octet_string(_stamp(start + timedelta(hours=1)))),
        (dlms.action(9, "0-0:10.0.107.255", 1), dlms.long_unsigned(0x2332)),
    )
    _send(head, writes, 0x011F)
    apc = fleet.device(ESME, head.now).family_state(FAMILY)["apc"]["3"]
    assert apc == {
        "level": 50,
        "start": int(start.timestamp()),
        "end": int(start.timestamp()) + 3600,
        "input": True,
    }
    too_high = (*writes[:2], (dlms.action(9, "0-0:10.0.107.255", 1), dlms.long_unsigned(0x2365)))
    _, response, _ = _send(head, too_high, 0x011F)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert fleet.device(ESME, head.now).family_state(FAMILY)["apc"]["3"]["level"] == 50


def test_a_use_case_the_firmware_lacks_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    # The sandbox ESME (variant A) has no auxiliary load switch.
    script = (dlms.action(9, "0-0:10.0.103.255", 1), dlms.long_unsigned(0x0120))
    _, response, _ = _send(head, (script,), 0x0055)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert "switches" not in fleet.device(ESME, head.now).family_state(FAMILY)


def test_the_response_has_the_reference_shape(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    """The DCC's reference command content, sent by the test head end: the answer has the
    reference response's structure (kinds and results, null data)."""
    for name in ("6.12_ECS34/ECS34_6.12", "6.5_ECS29a/ECS29a_6.5", "6.8_ECS30a/ECS30a_6.8"):
        ref = Message.from_bytes(
            bytes.fromhex(
                (conformance / f"gbcs/{name}_SUCCESS_COMMAND_GBCS.HEX").read_text().strip()
            )
        )
        their = Message.from_bytes(
            bytes.fromhex(
                (conformance / f"gbcs/{name}_SUCCESS_RESPONSE_GBCS.HEX").read_text().strip()
            )
        )
        cmd = c.decode_command(ref.message_code, ref.content)
        assert isinstance(cmd, c.DeviceSettings)
        mine = c.DeviceSettings(cmd.message_code, head.next_counter() % (1 << 24), cmd.writes)
        sender = NETWORK_OPERATOR if cmd.message_code == 0x0045 else SUPPLIER
        answer = head.send(head.command(ESME, mine, counter=head.counter, originator=sender))
        assert answer.response is not None
        ours = c.Outcome.decode(answer.response.content)
        reference = c.Outcome.decode(their.content)
        assert ours.results == reference.results


def _stamp(when: datetime) -> bytes:
    return dlms.CosemDateTime.from_datetime(when).to_bytes()


def test_a_setting_from_the_wrong_party_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    """Voltage settings are the network operator's: the supplier's changes nothing."""
    reset = ((dlms.action(3, "1-0:32.32.0.4", 1), dlms.integer(0)),)
    _, response, answer = _send(head, reset, 0x00D3)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert "resets" not in fleet.device(ESME, head.now).family_state(FAMILY)


def _gas(head: HeadEnd, name: str, conformance: Path, *, originator: bytes = SUPPLIER):  # type: ignore[no-untyped-def]
    """The DCC's reference GSME command content, sent by the test head end."""
    ref = Message.from_bytes(
        bytes.fromhex((conformance / f"gbcs/{name}_SUCCESS_COMMAND_GBCS.HEX").read_text().strip())
    )
    cmd = c.decode_command(ref.message_code, ref.content)
    assert isinstance(cmd, c.GasSettings)
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter(), originator=originator))
    assert answer.response is not None
    return c.decode_response(ref.message_code, answer.response.content), answer


def test_the_gsme_keeps_conversion_flow_billing_and_mprn(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    for name in (
        "6.6_GCS23/GCS23_6.6",
        "6.7_GCS24a/GCS24a_6.7",
        "6.8_GCS25a/GCS25a_6.8",
        "6.20.1_GCS41/GCS41_6.20.1",
    ):
        response, _ = _gas(head, name, conformance)
        assert isinstance(response, c.GasSettingsDone)
        assert response.ok, name
    gas = fleet.device(GSME, head.now).family_state(FAMILY)["gas"]
    assert gas["conversion_factor"] == 102264
    assert gas["calorific_value"] == 400
    assert (gas["flow_threshold"], gas["flow_divisor"]) == (61680, 10000)
    assert (gas["stabilisation"], gas["measurement"]) == (60, 300)
    assert gas["billing_start"] == int(datetime(2015, 1, 1, tzinfo=UTC).timestamp())
    assert (gas["billing_duration"], gas["billing_unit"]) == (6, 0x23)
    assert gas["mprn"] == "1234567890"


def test_gsme_settings_from_the_network_operator_change_nothing(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    response, answer = _gas(head, "6.6_GCS23/GCS23_6.6", conformance, originator=NETWORK_OPERATOR)
    assert isinstance(response, c.GasSettingsDone)
    assert not response.ok
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert "gas" not in fleet.device(GSME, head.now).family_state(FAMILY)


def test_the_chf_keeps_its_sub_ghz_configuration(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    ref = Message.from_bytes(
        bytes.fromhex(
            (conformance / "gbcs/6.28_DBCH04/DBCH04_6.28_SUCCESS_COMMAND_GBCS.HEX")
            .read_text()
            .strip()
        )
    )
    cmd = c.decode_command(ref.message_code, ref.content)
    assert isinstance(cmd, c.DeviceSettings)
    mine = c.DeviceSettings(cmd.message_code, head.next_counter() % (1 << 24), cmd.writes)
    answer = head.send(head.command(CHF, mine, counter=head.counter))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    held = setting(fleet.device(CHF, head.now), "set 1 0-0:94.44.10.0/2")
    assert held == cmd.writes[0][1]
