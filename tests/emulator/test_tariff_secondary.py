"""A twin-element ESME's secondary element (ECS01c, ECS01d): its tariff and prices become
what the secondary element bills by - its own TOU registers switch as the secondary calendar
and special days say - held for their activation time with the reference alerts, and a
single-element ESME, or a tariff it cannot hold, refuses and changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import UTC, timedelta

import pytest

from emulator.devices.esme import Esme
from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.eui import parse_eui
from tests.emulator.support import CHF, ESME, SEED, HeadEnd, pki_for

TWIN = parse_eui("00-DB-12-34-56-78-90-C0")
EVERY_YEAR = b"\xff\xff"


@pytest.fixture
def twin() -> HeadEnd:
    # No faults: the Calder profile drops some frames, and whether one is dropped hangs on
    # the frame's (randomised) signature, so a test with them on failed now and then.
    fleet = Fleet(SEED, pki_for(), faults=False)
    fleet.add_sandbox_devices()
    fleet.add(TWIN, "calder-cx3", hub=CHF)
    return HeadEnd(fleet, pki_for())


def _device(head: HeadEnd, eui: bytes = TWIN) -> Esme:
    device = head.fleet.device(eui, head.now)
    assert isinstance(device, Esme)
    return device


def _counter(head: HeadEnd) -> int:
    return head.next_counter() & 0xFF_FFFF


def _send(head: HeadEnd, cmd: c.DlmsCommand, target: bytes = TWIN) -> c.Outcome:
    answer = head.send(head.command(target, cmd, counter=head.next_counter()))
    assert answer.response is not None
    return c.Outcome.decode(answer.response.content)


def _switch(hour: int, rate: int) -> c.TariffSwitch:
    return c.TariffSwitch(dt.time(hour), c.SECONDARY_SCRIPT_BASE + rate)


def _tariff(head: HeadEnd, **changes: object) -> c.SecondaryTariff:
    """Rate 2 from 00:00 to 07:00 and rate 1 after on weekdays; rate 3 all weekend and on
    25 December of every year."""
    tariff = c.SecondaryTariff(
        _counter(head),
        seasons=(c.Season(b"all", bytes.fromhex("ffff0101ff000000008000ff"), b"\x01"),),
        week_profiles=(c.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 2, 2)),),
        day_profiles=(
            c.DayProfile(1, (_switch(0, 2), _switch(7, 1))),
            c.DayProfile(2, (_switch(0, 3),)),
        ),
        special_days=(c.SpecialDay(1, EVERY_YEAR + b"\x0c\x19\xff", 2),),
        prices=(2_800, 1_200, 900, 0),
    )
    return dataclasses.replace(tariff, **changes)  # type: ignore[arg-type]


def test_ecs01c_makes_the_secondary_element_bill_by_its_calendar(twin: HeadEnd) -> None:
    esme = _device(twin)
    secondary = esme.secondary
    assert secondary is not None
    assert _send(twin, _tariff(twin)).ok
    # milli-pence per kWh from price scale -5 (1e-5 GBP) per kWh
    assert secondary.tariff.prices == (2_800, 1_200, 900, 0)
    before = list(secondary.registers)
    twin.advance(timedelta(days=7))  # Monday 15 January 09:00 to the next Monday
    expected = [0, 0, 0, 0]
    for start, used in secondary.half_hours(48 * 7):
        moment = dt.datetime.fromtimestamp(start, UTC)
        if moment.weekday() >= 5:
            expected[2] += used
        elif moment.hour < 7:
            expected[1] += used
        else:
            expected[0] += used
    assert [secondary.registers[1 + i] - before[1 + i] for i in range(4)] == expected
    assert expected[2] > 0


def test_a_held_ecs01c_falls_due_with_one_alert_an_activation(twin: HeadEnd) -> None:
    secondary = _device(twin).secondary
    assert secondary is not None
    old = secondary.tariff
    later = (twin.now + timedelta(hours=5)).replace(microsecond=0)
    counter = _counter(twin)
    cmd = _tariff(twin, counter=counter, activate_at=later)
    answer = twin.send(twin.command(TWIN, cmd, counter=counter))
    assert answer.response is not None
    assert secondary.tariff == old
    answer = twin.advance(timedelta(hours=6))
    alerts = [c.decode_alert(m.message_code, m.content) for m in answer.alerts]
    executed = [a for a in alerts if isinstance(a, c.DlmsAlert) and a.code == 0x8F66]
    assert len(executed) == 3  # the switching table, the prices and the special days
    assert secondary.tariff.prices == (2_800, 1_200, 900, 0)


def test_ecs01d_reprices_the_secondary_calendar_held(twin: HeadEnd) -> None:
    secondary = _device(twin).secondary
    assert secondary is not None
    assert _send(twin, _tariff(twin)).ok
    switching = secondary.tariff.switching
    assert _send(twin, c.SecondaryPrice(_counter(twin), (3_000, 1_000, 800, 0))).ok
    assert secondary.tariff.prices == (3_000, 1_000, 800, 0)
    assert secondary.tariff.switching == switching


def test_a_cancellation_drops_the_held_secondary_tariff(twin: HeadEnd) -> None:
    esme = _device(twin)
    later = twin.now + timedelta(hours=5)
    assert _send(twin, _tariff(twin, activate_at=later)).ok
    assert "pending_secondary" in esme.family_state("tariff")
    assert _send(twin, c.SecondaryPrice(_counter(twin), (1,), cancel_pending=True)).ok
    assert "pending_secondary" not in esme.family_state("tariff")


@pytest.mark.parametrize(
    "changes",
    [
        {"week_profiles": (c.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 2, 9)),)},
        {"day_profiles": (c.DayProfile(1, (_switch(0, 5),)), c.DayProfile(2, (_switch(0, 3),)))},
        {"prices": (2_800, -1, 0, 0)},
    ],
)
def test_a_tariff_the_secondary_cannot_hold_is_refused(
    twin: HeadEnd, changes: dict[str, object]
) -> None:
    secondary = _device(twin).secondary
    assert secondary is not None
    before = secondary.tariff
    assert not _send(twin, _tariff(twin, **changes)).ok
    assert secondary.tariff == before


def test_a_single_element_esme_does_not_take_a_secondary_tariff(twin: HeadEnd) -> None:
    single = _device(twin, ESME)
    assert single.secondary is None
    assert not _send(twin, _tariff(twin), target=ESME).ok
