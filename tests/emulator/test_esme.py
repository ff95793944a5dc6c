"""The ESME from GBCS command to GBCS response: every frame checked with the gbcs verifier
(HeadEnd.check)."""

from __future__ import annotations

from datetime import timedelta

from emulator.fleet import Fleet
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import SUPPLIER
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessRequest, invoke_id_for
from tests.emulator.support import ESME, HeadEnd


def _esme(fleet: Fleet, head: HeadEnd):  # type: ignore[no-untyped-def]
    return fleet.device(ESME, head.now)


def test_ECS17b_registers_are_encrypted_to_the_requester_and_grow(
    fleet: Fleet, head: HeadEnd
) -> None:
    counter = head.next_counter()
    answer = head.send(head.command(ESME, c.ReadImportRegisters(counter, SUPPLIER, ESME)))
    assert answer.response is not None
    assert not answer.alerts
    response = c.ImportRegistersResponse.decode(answer.response.content)
    first = response.registers(head.decrypt(answer.response))
    assert first.active_import == _esme(fleet, head).meter.total
    assert first.secondary_active_import is None  # a single-element meter

    head.advance(timedelta(days=1))
    counter = head.next_counter()
    answer = head.send(head.command(ESME, c.ReadImportRegisters(counter, SUPPLIER, ESME)))
    assert answer.response is not None
    later = c.ImportRegistersResponse.decode(answer.response.content).registers(
        head.decrypt(answer.response)
    )
    assert 2_000 < later.active_import - first.active_import < 40_000  # Wh in a winter day


def test_load_switch_disable_arm_button_enable(fleet: Fleet, head: HeadEnd) -> None:
    answer = head.send(head.command(ESME, c.SupplyDisable(head.next_counter())))
    assert answer.response is not None
    assert answer.response.signature is not None  # response to a critical command: signed
    assert c.Outcome.decode(answer.response.content).ok
    assert _esme(fleet, head).meter.supply is SupplyState.DISABLED

    answer = head.send(head.command(ESME, c.SupplyArm(head.next_counter())))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.SUPPLY_ARMED]
    assert _esme(fleet, head).meter.supply is SupplyState.ARMED

    head.check(fleet.press_button(ESME, head.now))
    assert _esme(fleet, head).meter.supply is SupplyState.ENABLED

    # Arming an enabled supply is illegal: an error result, no change.
    answer = head.send(head.command(ESME, c.SupplyArm(head.next_counter())))
    assert answer.response is not None
    outcome = c.Outcome.decode(answer.response.content)
    assert not outcome.ok
    assert outcome.results[0].result == 250
    assert _esme(fleet, head).meter.supply is SupplyState.ENABLED

    answer = head.send(head.command(ESME, c.SupplyDisable(head.next_counter())))
    answer = head.send(head.command(ESME, c.SupplyEnable(head.next_counter())))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert _esme(fleet, head).meter.supply is SupplyState.ENABLED


def test_ECS70_sets_the_clock_and_commissions_once(fleet: Fleet, head: HeadEnd) -> None:
    answer = head.send(head.command(ESME, c.SetClock.around(head.next_counter(), head.now)))
    assert answer.response is not None
    clock_set = c.ClockSet.decode(answer.response.content)
    assert clock_set.ok
    assert clock_set.clock == head.now
    assert answer.alert_codes() == [AlertCode.DEVICE_COMMISSIONED]
    assert _esme(fleet, head).commissioned

    answer = head.send(head.command(ESME, c.SetClock.around(head.next_counter(), head.now)))
    assert answer.alerts == []  # commissioned already


def test_ECS70_outside_the_validity_interval_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    stale = c.SetClock.around(head.next_counter(), head.now - timedelta(hours=1))
    answer = head.send(head.command(ESME, stale))
    assert answer.response is not None
    assert not c.ClockSet.decode(answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE]
    assert not _esme(fleet, head).commissioned


def test_ECS52_reports_the_running_firmware(fleet: Fleet, head: HeadEnd) -> None:
    answer = head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    assert answer.response is not None
    version = c.FirmwareVersion.decode(answer.response.content)
    assert version.ok
    assert version.version == bytes.fromhex("00010203")


def test_a_use_case_the_firmware_lacks_gets_an_error_response(head: HeadEnd) -> None:
    # GCS33 is a gas use case: the ESME answers it with a DLMS error, not silence, and
    # alerts 0x8F85 (ECS100, command not supported) naming the command.
    answer = head.send(head.command(ESME, c.ReadValve()))
    assert answer.response is not None
    assert answer.alert_codes() == [AlertCode.COMMAND_NOT_SUPPORTED]
    alert = c.decode_alert(answer.alerts[0].message_code, answer.alerts[0].content)
    assert isinstance(alert, c.DlmsAlert)
    assert alert.details == dlms.octet_string(
        c.ReadValve.message_code.to_bytes(2, "big") + head.counter.to_bytes(8, "big")
    )
    outcome = c.Outcome.decode(answer.response.content)
    assert [r.result for r in outcome.results] == [11]  # object-unavailable


def test_ECS61c_boost_data_is_refused_by_variant_A_firmware(head: HeadEnd) -> None:
    request = AccessRequest(
        invoke_id_for(head.next_counter()),
        (dlms.get(70, "0-0:96.3.10.255", 2),),
        (dlms.NULL,),
    )
    message = head.builder.command(
        originator=SUPPLIER,
        target=ESME,
        counter=head.counter,
        message_code=0x005E,
        content=request.to_bytes(),
        critical=False,
    )
    answer = head.send(message)
    assert answer.response is not None
    outcome = c.Outcome.decode(answer.response.content)
    assert [r.result for r in outcome.results] == [11]


def test_ECS17b_one_step_answers_as_the_general_path(fleet: Fleet, head: HeadEnd) -> None:
    """The ESME's one-step ECS17b (fused request, registers, response) writes the same
    content as the general codecs, for a single and a twin-element meter."""
    from emulator.metering import Meter
    from emulator.profiles import shape_named

    esme = _esme(fleet, head)
    ctx = fleet.context(esme)
    now = int(head.now.timestamp())
    for twin in (False, True):
        if twin:
            esme.secondary = Meter.new(shape_named("economy7-electricity"), 11, now)
        counter = head.next_counter()
        command = head.command(ESME, c.ReadImportRegisters(counter, SUPPLIER, ESME))
        fast = esme.read_import_registers(command, now, ctx)
        general = esme._read_import_registers(command, ctx)
        assert fast.content == general.content
        assert not fast.alerts
        assert not fast.encrypt
        registers = c.ImportRegistersResponse.decode(fast.content).registers(
            head.decrypt(ctx.builder.response(command, fast.content, critical=False))
        )
        assert registers.active_import == esme.meter.total
        assert (registers.secondary_active_import is not None) is twin


def test_ECS17b_naming_other_parties_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    import pytest

    from emulator.errors import CommandError
    from gbcs.codes import NETWORK_OPERATOR

    esme = _esme(fleet, head)
    ctx = fleet.context(esme)
    now = int(head.now.timestamp())
    for requester, device in ((NETWORK_OPERATOR, ESME), (SUPPLIER, bytes(8))):
        cmd = c.ReadImportRegisters(head.next_counter(), requester, device)
        command = head.command(ESME, cmd)
        with pytest.raises(CommandError, match="name other parties"):
            esme.read_import_registers(command, now, ctx)
