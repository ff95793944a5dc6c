"""GCS20 content: ZCL Device Management Set Event Configuration commands, one per distinct
event configuration, read back exactly; anything else is refused."""

from __future__ import annotations

import datetime as _dt
import struct

import pytest

from gbcs import content as c
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads.gbz import GbzPayload

WHEN = _dt.datetime(2026, 3, 1, tzinfo=_dt.UTC)
ALL = c.EventBehaviour(wan=True, han=True, log=True, alarm=True)
WAN = c.EventBehaviour(wan=True, han=False, log=False, alarm=False)
NONE = c.EventBehaviour(wan=False, han=False, log=False, alarm=False)


@pytest.mark.parametrize(
    ("behaviour", "bits"),
    [(ALL, 0x5B), (WAN, 0x08), (NONE, 0x00), (c.EventBehaviour(False, True, False, True), 0x50)],
)
def test_each_behaviour_is_its_event_configuration_byte(
    behaviour: c.EventBehaviour, bits: int
) -> None:
    assert behaviour.to_bits() == bits
    assert c.EventBehaviour.from_bits(bits) == behaviour


@pytest.mark.parametrize("bits", [0x01, 0x02, 0x20, 0x80, 0x0F])
def test_configurations_gbcs_does_not_set_are_refused(bits: int) -> None:
    with pytest.raises(DecodeError):
        c.EventBehaviour.from_bits(bits)


def test_the_command_groups_events_by_configuration_and_reads_back() -> None:
    issued = c.issuer_id(WHEN)
    cmd = c.GasEventBehaviours.of(issued, [(0x810D, WAN), (0x8119, ALL), (0x8145, WAN)])
    assert cmd.groups == ((WAN, (0x810D, 0x8145)), (ALL, (0x8119,)))
    content = cmd.encode()
    assert c.decode_command(0x00AD, content) == cmd
    components = GbzPayload.from_bytes(content).components
    assert [x.cluster_id for x in components] == [0x0708, 0x0708]
    first = components[0].frame
    assert first.command_id == 0x04
    assert first.payload[:11] == struct.pack("<IIBBB", issued, 0, 0x08, 0, 2)
    assert first.payload[11:] == struct.pack("<2H", 0x810D, 0x8145)
    assert cmd.settings() == {0x810D: WAN, 0x8145: WAN, 0x8119: ALL}
    assert cmd.answer(0xC0).statuses == ((0x04, 0xC0), (0x04, 0xC0))


def test_bad_commands_are_not_built() -> None:
    with pytest.raises(EncodeError, match="no event"):
        c.GasEventBehaviours(1, ()).encode()
    with pytest.raises(EncodeError, match="0x810D"):
        c.GasEventBehaviours(1, ((WAN, (0x810D,)), (ALL, (0x810D,)))).encode()
    with pytest.raises(EncodeError, match="unsigned 32-bit"):
        c.GasEventBehaviours(-1, ((WAN, (0x810D,)),)).encode()


def test_a_command_not_in_the_shape_gbcs_sends_is_refused() -> None:
    good = c.GasEventBehaviours(7, ((WAN, (0x810D,)), (ALL, (0x8119,)))).encode()
    # the second component's Issuer Event ID changed
    tampered = bytearray(good)
    at = good.rindex(struct.pack("<I", 7))
    tampered[at : at + 4] = struct.pack("<I", 8)
    with pytest.raises(DecodeError, match="different Issuer Event IDs"):
        c.GasEventBehaviours.decode(bytes(tampered))
    later = bytearray(good)
    at = good.index(struct.pack("<II", 7, 0))
    later[at + 4 : at + 8] = struct.pack("<I", 5)
    with pytest.raises(DecodeError, match="from now"):
        c.GasEventBehaviours.decode(bytes(later))
