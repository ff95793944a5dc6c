"""ECS21b (SR4.14) on the emulated ESME: the prepayment registers logged at each midnight the
clock passes are answered for the period asked, encrypted for the supplier - or, sent by the
ACB with a key agreement certificate, for that Unknown Remote Party (the meter's own counter
in the KDF, named in the answer's other-information) - the values the meter held."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator.devices.meter import MeterDevice
from emulator.fleet import Fleet
from emulator.usecases.prepay_log_esme import (
    prepay_daily_plaintext,
    read_prepay_daily_plaintext,
)
from emulator.usecases.reading import UNIX_2000, prepay_values
from gbcs import content as c
from gbcs.codes import ACB, SUPPLIER, KeyPurpose
from gbcs.crypto import ENCRYPTION_X, decrypt_payload, derive_key, ecdh, other_info
from gbcs.errors import DecodeError
from tests.emulator.support import ESME, HeadEnd
from tests.emulator.test_urp import _urp

DAY = 86_400


def _days_logged(fleet: Fleet, head: HeadEnd) -> tuple[c.Span, list[tuple[int, ...]]]:
    """Three midnights passed with a different balance each: the span and what was held."""
    esme = fleet.device(ESME, head.now)
    assert isinstance(esme, MeterDevice)
    head.send(head.command(ESME, c.ProtectedRead(0x0029, head.next_counter(), SUPPLIER, ESME)))
    head.advance(timedelta(hours=1))
    held = []
    for day in range(3):
        esme.meter.credit.balance = 5000 * (day + 1)
        held.append(prepay_values(esme.meter))
        head.advance(timedelta(days=1))
    end = int(head.now.timestamp()) - UNIX_2000
    return c.Span(c.from_utc_seconds(end - 10 * DAY), c.from_utc_seconds(end)), held


def _read(head: HeadEnd, span: c.Span) -> c.ProtectedRead:
    return c.ProtectedRead(0x0034, head.next_counter(), SUPPLIER, ESME, span)


def test_the_supplier_reads_the_registers_logged_at_each_midnight(
    fleet: Fleet, head: HeadEnd
) -> None:
    span, held = _days_logged(fleet, head)
    answer = head.send(head.command(ESME, _read(head, span)))
    assert answer.response is not None
    response = c.decode_response(0x0034, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    entries = read_prepay_daily_plaintext(head.decrypt(answer.response)(response.encrypted))
    assert len(entries) == 3
    assert all(e[0] % DAY == 0 for e in entries)
    assert [tuple(e[1:]) for e in entries] == held
    assert [e[1] for e in entries] == [5000, 10000, 15000]


def test_a_period_before_the_log_is_empty(fleet: Fleet, head: HeadEnd) -> None:
    _days_logged(fleet, head)
    span = c.Span(c.from_utc_seconds(DAY), c.from_utc_seconds(2 * DAY))
    answer = head.send(head.command(ESME, _read(head, span)))
    assert answer.response is not None
    response = c.decode_response(0x0034, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    assert read_prepay_daily_plaintext(head.decrypt(answer.response)(response.encrypted)) == []


def test_the_log_is_encrypted_for_an_unknown_remote_party(fleet: Fleet, head: HeadEnd) -> None:
    span, held = _days_logged(fleet, head)
    key, certificate = _urp()
    read = _read(head, span)
    command = head.builder.command(
        originator=ACB,
        target=ESME,
        counter=head.next_counter(),
        message_code=0x0034,
        content=read.encode(),
        critical=False,
        extensions=SUPPLIER + (77).to_bytes(8, "big") + certificate,
    )
    message = head.send(command).response
    assert message is not None
    assert (message.business_originator, message.business_target) == (ESME, ACB)
    assert message.extensions[:16] == SUPPLIER + (77).to_bytes(8, "big")
    own_counter = int.from_bytes(message.extensions[16:], "big")
    meter = head.keys.public_key(ESME, KeyPurpose.KA)
    secret = derive_key(ecdh(key, meter), other_info(ESME, ENCRYPTION_X, own_counter, SUPPLIER))
    response = c.decode_response(0x0034, message.content)
    assert isinstance(response, c.ProtectedResponse)
    entries = read_prepay_daily_plaintext(decrypt_payload(secret, ESME, response.encrypted))
    assert [tuple(e[1:]) for e in entries] == held
    with pytest.raises(DecodeError):  # not readable with the supplier's own key
        head.decrypt(message)(response.encrypted)


def test_the_plaintext_round_trips_and_refuses_a_cut_log() -> None:
    entries = [[86400, -5, 1, 2, 3, 4, 5], [172800, 6, 0, 0, 0, 0, 0]]
    plaintext = prepay_daily_plaintext(entries)
    assert read_prepay_daily_plaintext(plaintext) == entries
    with pytest.raises(DecodeError):
        read_prepay_daily_plaintext(plaintext[:-1])
