"""Future-dated device SRs on the gateway's clock: a DSP-pattern request is held and sent
when the clock passes its execution date-time (the clock is moved, nothing sleeps), a
cancellation takes it out of the schedule and says which, and each bad date is refused
synchronously with nothing changed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.errors import ServiceError
from gateway.model import RequestId
from gateway.schedule import CANCEL_AT
from gateway.services.device import DeviceCall, DeviceService
from gateway.srv.reading import ReadImportRegisters
from gateway.srv.supply import EnableSupply
from gbcs.codes import SUPPLIER
from tests.gateway.test_device_service import ESME, Harness, _keystore, hexfile
from tests.gateway.test_device_service import harness as harness  # the fixture

NINE = datetime(2015, 1, 15, 9, 0, tzinfo=UTC)
"""The ExecutionDateTime of the DCC's ECS17b_4.1.1_DSP_FUTURE_DATED template."""


class MovableClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(harness: Harness) -> MovableClock:
    """The service's clock, moved by the test (the scheduler reads the same one)."""
    moving = MovableClock(NINE - timedelta(hours=1))
    harness.service.clock = moving
    harness.service.scheduler.clock = moving
    return moving


def _call(request: object, srv: str, counter: int, when: datetime, cv: int = 1) -> DeviceCall:
    return DeviceCall(SUPPLIER, RequestId(SUPPLIER, ESME, counter), cv, srv, request, when)


async def test_a_dsp_future_dated_read_is_held_then_sent_when_the_clock_passes_its_time(
    harness: Harness, clock: MovableClock, conformance: Path
) -> None:
    service = harness.service
    accepted = await service.submit(_call(ReadImportRegisters(), "4.1.1", 1000, NINE))
    assert accepted.code == "I99"
    rid = RequestId(SUPPLIER, ESME, 1000)
    assert service.request_state(rid) == "held"
    assert await service.scheduler.run_due() == 0
    clock.now = NINE - timedelta(seconds=1)
    assert await service.scheduler.run_due() == 0
    assert harness.sent == []
    clock.now = NINE
    assert await service.scheduler.run_due() == 1
    await asyncio.sleep(0.01)
    folder = "4.1.1_ECS17b"
    assert harness.sent == [
        hexfile(conformance, folder, "ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX")
    ]
    assert service.request_state(rid) == "sent"
    assert await service.scheduler.run_due() == 0  # sent once
    await harness.answer(
        hexfile(conformance, folder, "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    )
    assert [r.request_id for r in harness.reports] == [rid]


async def test_the_scheduler_task_follows_a_moved_clock(
    harness: Harness, clock: MovableClock
) -> None:
    service = harness.service
    service.scheduler.poll = 0.01
    await service.submit(_call(ReadImportRegisters(), "4.1.1", 1000, NINE))
    clock.now = NINE + timedelta(days=1)  # the sandbox's clock moved forward
    for _ in range(200):
        await asyncio.sleep(0.005)
        if harness.sent:
            break
    assert len(harness.sent) == 1


async def test_a_cancellation_takes_the_held_request_out_and_says_which(
    harness: Harness, clock: MovableClock
) -> None:
    service = harness.service
    await service.submit(_call(ReadImportRegisters(), "4.1.1", 1000, NINE))
    accepted = await service.submit(_call(ReadImportRegisters(), "4.1.1", 1001, CANCEL_AT))
    assert accepted.code == "I0"
    held = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000"
    assert accepted.cancelled == (held,)
    assert service.request_state(RequestId(SUPPLIER, ESME, 1000)) == "cancelled"
    clock.now = NINE + timedelta(hours=1)
    assert await service.scheduler.run_due() == 0
    assert harness.sent == []
    # a cancellation of nothing: refused, its counter not consumed
    with pytest.raises(ServiceError) as refused:
        await service.submit(_call(ReadImportRegisters(), "4.1.1", 1002, CANCEL_AT))
    assert refused.value.code == "E42"
    assert "has none of SR 4.1.1" in refused.value.sentence
    assert (
        await service.submit(_call(ReadImportRegisters(), "4.1.1", 1002, NINE + timedelta(days=1)))
    ).code == "I99"


async def test_bad_execution_date_times_are_refused_with_nothing_held(
    harness: Harness, clock: MovableClock
) -> None:
    service = harness.service
    earlier = clock.now - timedelta(minutes=1)
    cases = [
        (_call(ReadImportRegisters(), "4.1.1", 1000, earlier), "E42", "is not after"),
        (_call(ReadImportRegisters(), "4.1.1", 1000, clock.now), "E42", "is not after"),
        (_call(EnableSupply(), "7.1", 1000, NINE, cv=4), "E42", "cannot be future-dated"),
        (_call(ReadImportRegisters(), "4.1.1", 1000, NINE, cv=2), "E42", "CommandVariant 1 only"),
    ]  # fmt: skip
    for call, code, words in cases:
        with pytest.raises(ServiceError) as refused:
            await service.submit(call)
        assert refused.value.code == code
        assert words in refused.value.sentence
    clock.now = NINE + timedelta(days=1)
    assert await service.scheduler.run_due() == 0
    assert harness.sent == []


async def test_a_held_request_survives_a_restart(
    harness: Harness, clock: MovableClock, conformance: Path
) -> None:
    old = harness.service
    await old.submit(_call(ReadImportRegisters(), "4.1.1", 1000, NINE))
    await old.close()
    reborn = DeviceService(
        old.storage, harness.nondevice, _keystore(conformance), harness.wan, clock=clock
    )
    await reborn.start()
    try:
        assert reborn.request_state(RequestId(SUPPLIER, ESME, 1000)) == "held"
        clock.now = NINE
        assert await reborn.scheduler.run_due() == 1
        await asyncio.sleep(0.01)
        assert len(harness.sent) == 1
    finally:
        await reborn.close()
