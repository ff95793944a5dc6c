"""SR9.1 on the emulated meters: the CIN the ACB sends is the one the meter shows, kept
across a restart, and the answer is GBCS's (a Set result / a ZCL Default Response)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.fleet import Fleet
from emulator.usecases.reading_cin import shown_cin
from gbcs import content as c
from gbcs.codes import ACB, CRA
from tests.emulator.support import ESME, GSME, HeadEnd, pki_for


def _send_cin(head: HeadEnd, target: bytes, cin: bytes) -> object:
    cmd: c.SendCinToEsme | c.SendCinToGsme
    if target == ESME:
        cmd = c.SendCinToEsme(head.next_counter() % (1 << 24), cin)
    else:
        head.next_counter()
        cmd = c.SendCinToGsme(c.issuer_id(head.now), cin)
    answer = head.send(head.command(target, cmd, originator=ACB, counter=head.counter))
    assert answer.response is not None
    assert answer.response.cra is CRA.RESPONSE
    return c.decode_response(cmd.message_code, answer.response.content)


@pytest.mark.parametrize("target", [ESME, GSME])
def test_the_meter_shows_the_last_cin_sent(fleet: Fleet, head: HeadEnd, target: bytes) -> None:
    assert shown_cin(fleet.device(target, head.now)) is None
    for cin in (b"0042", b"9731"):
        response = _send_cin(head, target, cin)
        assert isinstance(response, c.Outcome | c.ZclStatus)
        assert response.ok
        assert shown_cin(fleet.device(target, head.now)) == cin.decode()


def test_the_cin_survives_a_restart(fleet: Fleet, head: HeadEnd, tmp_path: Path) -> None:
    _send_cin(head, ESME, b"5150")
    path = tmp_path / "fleet.json"
    fleet.snapshot(path)
    restored = Fleet.restore(path, pki_for(), faults=False)
    assert shown_cin(restored.device(ESME, head.now)) == "5150"


def test_the_esme_answers_in_the_set_shape(head: HeadEnd) -> None:
    cmd = c.SendCinToEsme(head.next_counter() % (1 << 24), b"1234")
    answer = head.send(head.command(ESME, cmd, originator=ACB, counter=head.counter))
    assert answer.response is not None
    assert answer.response.content == c.Outcome.for_command(cmd).encode()
