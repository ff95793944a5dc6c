"""HAN joins on the emulated meters: CS03 enters the other device in both devices' logs (when
the fleet hosts the other one), CS04ac takes it out of both, and the state is saved."""

from __future__ import annotations

from emulator.fleet import Fleet
from emulator.usecases.han import joined
from gbcs import content as c
from gbcs.codes import ACB, SUPPLIER
from gbcs.codes import NETWORK_OPERATOR as NOP
from gbcs.frames import Message
from tests.emulator.support import ESME, GPF, GSME, HeadEnd

HCALCS = bytes.fromhex("00db12345678909a")


def _send(head: HeadEnd, target: bytes, code: int, content: bytes, critical: bool) -> c.JoinOutcome:
    message = head.builder.command(
        originator=SUPPLIER,
        target=target,
        counter=head.next_counter(),
        message_code=code,
        content=content,
        critical=critical,
    )
    answer = head.send(message)
    response = answer.response
    assert isinstance(response, Message)
    assert response.message_code == code
    outcome = c.decode_response(code, response.content)
    assert isinstance(outcome, c.JoinOutcome)
    return outcome


def test_method_b_join_and_unjoin_change_the_gsme_and_gpf_logs(fleet: Fleet, head: HeadEnd) -> None:
    join = c.JoinDevice(c.JOIN_METHODS["CS03B"], GPF, c.OTHER_DEVICE_TYPES["GPF"])
    assert _send(head, GSME, 0x000E, join.encode(), critical=False).ok
    gsme, gpf = fleet.device(GSME, head.now), fleet.device(GPF, head.now)
    assert joined(gsme)[GPF.hex()]["type"] == 3
    assert joined(gpf)[GSME.hex()]["type"] == 0
    # the log is saved with the device
    assert (
        fleet.device(GSME, head.now).to_json()["extra"]["han"]["joined"][GPF.hex()]["method"] == 2
    )
    unjoin = c.UnjoinDevice(GPF).encode()
    assert _send(head, GSME, 0x000F, unjoin, critical=True).ok
    assert GPF.hex() not in joined(gsme)
    assert GSME.hex() not in joined(gpf)
    # nothing left to unjoin: the reference's failure outcome
    assert _send(head, GSME, 0x000F, unjoin, critical=True).outcome == 1


def test_a_critical_method_a_join_on_the_esme(fleet: Fleet, head: HeadEnd) -> None:
    join = c.JoinDevice(c.JOIN_METHODS["CS03A1"], HCALCS, c.OTHER_DEVICE_TYPES["HCALCS"])
    assert _send(head, ESME, 0x000D, join.encode(), critical=True).ok
    assert joined(fleet.device(ESME, head.now))[HCALCS.hex()]["type"] == 4


def test_gcs31_starts_a_network_data_log_numbered_by_the_gsme(fleet: Fleet, head: HeadEnd) -> None:
    for expected in (1, 2):
        message = head.builder.command(
            originator=ACB,
            target=GSME,
            counter=head.next_counter(),
            message_code=0x0080,
            content=c.StartNetworkDataLog(issuer_event_id=head.counter & 0xFFFF_FFFF).encode(),
            critical=False,
            extensions=NOP + (1200 + expected).to_bytes(8, "big"),
        )
        response = head.send(message).response
        assert isinstance(response, Message)
        started = c.decode_response(0x0080, response.content)
        assert started == c.NetworkDataLogStarted(expected)
    log = fleet.device(GSME, head.now).family_state("han")["network_data"]
    assert (log["sample_id"], log["interval"], log["samples"]) == (2, 360, 41)
