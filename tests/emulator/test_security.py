"""Every command is checked as a real device checks it; a refused command yields an alert
(never silence, never an exception) and changes nothing."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.fleet import Fleet
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import ACB, NETWORK_OPERATOR, SUPPLIER, SUPPLIER_2
from gbcs.frames import Message
from tests.emulator.support import CHF, ESME, GSME, HeadEnd


def _disable(head: HeadEnd, **kwargs: object) -> Message:
    return head.command(ESME, c.SupplyDisable(head.next_counter()), **kwargs)  # type: ignore[arg-type]


def _supply(fleet: Fleet, head: HeadEnd) -> SupplyState:
    return fleet.device(ESME, head.now).meter.supply  # type: ignore[attr-defined, no-any-return]


def _refused(head: HeadEnd, message: Message | bytes, code: int) -> None:
    answer = head.send(message, via=ESME)
    assert answer.response is None
    assert answer.alert_codes() == [code]
    alert = answer.alerts[0]
    assert alert.business_originator == ESME
    assert alert.business_target == SUPPLIER  # alerts go to the supplier
    assert alert.signature is not None  # 0x8F.. alerts are critical: signed


def test_a_replayed_command_is_refused_and_changes_nothing(fleet: Fleet, head: HeadEnd) -> None:
    command = _disable(head)
    assert head.send(command).response is not None
    head.send(head.command(ESME, c.SupplyEnable(head.next_counter())))
    assert _supply(fleet, head) is SupplyState.ENABLED
    _refused(head, command, AlertCode.FAILED_AUTHENTICATION_OR_AUTHORISATION)
    assert _supply(fleet, head) is SupplyState.ENABLED


def test_an_older_counter_is_a_replay_too(fleet: Fleet, head: HeadEnd) -> None:
    head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    old = head.command(ESME, c.SupplyDisable(head.counter - 10), counter=head.counter - 10)
    _refused(head, old, AlertCode.FAILED_AUTHENTICATION_OR_AUTHORISATION)
    assert _supply(fleet, head) is SupplyState.ENABLED


def test_counters_are_kept_per_remote_party(head: HeadEnd) -> None:
    head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    # The network operator's counters are its own: a lower one is not a replay.
    low = head.command(ESME, c.ReadFirmwareVersion(5), originator=NETWORK_OPERATOR, counter=5)
    assert head.send(low).response is not None


def test_a_bad_signature_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    command = _disable(head)
    assert command.signature is not None
    forged = dataclasses.replace(command, signature=bytes(64 - 1) + b"\x01", mac=None)
    _refused(head, head.builder.mac_as_acb(forged), AlertCode.TRUSTED_SOURCE_AUTHENTICATION_FAILURE)
    assert _supply(fleet, head) is SupplyState.ENABLED


def test_a_signature_by_another_supplier_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    command = _disable(head)
    resigned = head.builder.mac_as_acb(head.builder.sign(command, SUPPLIER_2))
    _refused(head, resigned, AlertCode.TRUSTED_SOURCE_AUTHENTICATION_FAILURE)
    assert _supply(fleet, head) is SupplyState.ENABLED


def test_a_critical_command_without_signature_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    _refused(head, _disable(head, critical=False), AlertCode.TRUSTED_SOURCE_AUTHENTICATION_FAILURE)
    assert _supply(fleet, head) is SupplyState.ENABLED


def test_a_bad_mac_is_refused(head: HeadEnd) -> None:
    frame = bytearray(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())).to_bytes())
    frame[-1] ^= 0x80
    _refused(head, bytes(frame), AlertCode.TRUSTED_SOURCE_AUTHENTICATION_FAILURE)


def test_a_party_without_the_role_has_no_authority(fleet: Fleet, head: HeadEnd) -> None:
    # The network operator may read registers but not switch the supply.
    command = _disable(head, originator=NETWORK_OPERATOR)
    _refused(head, command, AlertCode.SOURCE_HAS_NO_AUTHORITY)
    # Another supplier is not a party the meter trusts at all.
    stranger = head.command(ESME, c.ReadFirmwareVersion(head.next_counter()), originator=SUPPLIER_2)
    _refused(head, stranger, AlertCode.SOURCE_HAS_NO_AUTHORITY)
    # The ACB's own commands go to the hub, not the meter.
    acb = head.command(ESME, c.ReadFirmwareVersion(head.next_counter()), originator=ACB)
    _refused(head, acb, AlertCode.SOURCE_HAS_NO_AUTHORITY)
    assert _supply(fleet, head) is SupplyState.ENABLED


def test_a_command_for_another_device_is_refused(head: HeadEnd) -> None:
    command = head.command(GSME, c.ReadFirmwareVersion(head.next_counter()))
    answer = head.check(
        head.fleet.device(ESME, head.now).handle(
            command.to_bytes(),
            int(head.now.timestamp()),
            head.fleet.context(head.fleet.device(ESME, head.now)),
        )
    )
    assert answer.alert_codes() == [AlertCode.UNAUTHORISED_COMMUNICATION_ACCESS]


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"\xdd\x00\x00", bytes(range(256)), b"\xdf" + b"\x09" * 40],
)
def test_garbage_is_answered_with_an_integrity_alert(head: HeadEnd, garbage: bytes) -> None:
    _refused(head, garbage, AlertCode.INTEGRITY_CHECK_OF_COMMAND_FAILED)


def test_undecodable_content_gets_an_error_response(head: HeadEnd) -> None:
    message = head.builder.command(
        originator=SUPPLIER,
        target=ESME,
        counter=head.next_counter(),
        message_code=c.ReadFirmwareVersion.message_code,
        content=b"\xd9\x01",
        critical=False,
    )
    answer = head.send(message)
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok


def test_a_response_sent_to_a_device_is_refused(head: HeadEnd) -> None:
    command = head.command(CHF, c.ReadFirmwareVersion(head.next_counter()))
    response = head.send(command).response
    assert response is not None
    _refused(head, response.to_bytes(), AlertCode.INTEGRITY_CHECK_OF_COMMAND_FAILED)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_a_device(head: HeadEnd, data: bytes) -> None:
    for target in (ESME, GSME, CHF):
        answer = head.send(data, via=target)
        assert answer.response is None
        assert len(answer.alerts) == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_a_flipped_bit_anywhere_is_refused_or_answered_never_a_crash(
    head: HeadEnd, position: int, bit: int
) -> None:
    frame = bytearray(head.command(ESME, c.SupplyDisable(head.next_counter())).to_bytes())
    frame[position % len(frame)] ^= 1 << bit
    answer = head.send(bytes(frame), via=ESME)
    # A flipped bit breaks the MAC (or the framing): the command is refused with an alert.
    assert answer.response is None
    assert len(answer.alerts) == 1
