"""The in-process WAN and its fault manipulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.wan import (
    Direction,
    InProcessWan,
    RoutingWan,
    WanFaults,
    corrupt,
)
from gbcs.wan import HubUnreachableError, Wan, WanError

HUB = bytes.fromhex("00db1234567890a2")
OTHER_HUB = bytes.fromhex("00db1234567890b2")
DEVICE = bytes.fromhex("00db1234567890a0")


@pytest.fixture
async def wan() -> AsyncIterator[InProcessWan]:
    w = InProcessWan()
    yield w
    await w.close()


class Echo:
    """A hub side that answers every command with the reversed bytes, from DEVICE."""

    def __init__(self, wan: InProcessWan, delay: float = 0.0) -> None:
        self.wan = wan
        self.delay = delay
        self.commands: list[tuple[bytes, bytes]] = []
        wan.hubs.set_handler(self.on_command)

    def on_command(self, hub: bytes, frame: bytes) -> None:
        self.commands.append((hub, frame))
        self.wan.hubs.send_up(DEVICE, frame[::-1], self.delay, hub=hub)


async def settle(wan: InProcessWan) -> None:
    for _ in range(200):
        if not wan.in_flight:
            return
        await asyncio.sleep(0.001)


def test_in_process_wan_is_a_wan() -> None:
    def check(w: Wan) -> Wan:
        return w

    loop = asyncio.new_event_loop()
    try:
        assert check(InProcessWan(loop=loop)) is not None
    finally:
        loop.close()


async def test_a_command_reaches_the_hub_and_the_answer_comes_up(wan: InProcessWan) -> None:
    echo = Echo(wan)
    received: list[tuple[bytes, bytes]] = []
    wan.set_receiver(lambda eui, frame: received.append((eui, frame)))
    await wan.send(HUB, b"\x01\x02\x03")
    await settle(wan)
    assert echo.commands == [(HUB, b"\x01\x02\x03")]
    assert received == [(DEVICE, b"\x03\x02\x01")]
    assert wan.stats.sent_down == wan.stats.delivered_down == 1
    assert wan.stats.sent_up == wan.stats.delivered_up == 1


async def test_a_down_link_is_refused_at_once(wan: InProcessWan) -> None:
    echo = Echo(wan)
    wan.faults.link_down(HUB)
    assert not wan.reachable(HUB)
    assert wan.reachable(OTHER_HUB)
    with pytest.raises(HubUnreachableError) as info:
        await wan.send(HUB, b"\x01")
    assert info.value.hub == HUB
    assert "00-DB-12-34-56-78-90-A2" in str(info.value)
    await wan.send(OTHER_HUB, b"\x02")
    await settle(wan)
    assert echo.commands == [(OTHER_HUB, b"\x02")]
    wan.faults.link_up(HUB)
    await wan.send(HUB, b"\x03")
    await settle(wan)
    assert echo.commands[-1] == (HUB, b"\x03")
    assert wan.stats.unreachable == 1


async def test_every_link_down(wan: InProcessWan) -> None:
    wan.faults.all_down = True
    with pytest.raises(HubUnreachableError):
        await wan.send(OTHER_HUB, b"\x01")


async def test_frames_in_flight_are_lost_when_the_link_goes_down(wan: InProcessWan) -> None:
    Echo(wan, delay=0.02)
    received: list[bytes] = []
    wan.set_receiver(lambda eui, frame: received.append(frame))
    await wan.send(HUB, b"\x01\x02")
    await asyncio.sleep(0)  # the command arrives, the answer is on its way (20 ms)
    await asyncio.sleep(0)
    wan.faults.link_down(HUB)
    await asyncio.sleep(0.04)
    assert received == []
    assert wan.stats.lost == 1
    assert "lost" in wan.dump()


async def test_delay_holds_a_frame_back() -> None:
    wan = InProcessWan(faults=WanFaults(delay=0.03))
    try:
        Echo(wan)
        arrived = asyncio.Event()
        wan.set_receiver(lambda eui, frame: arrived.set())
        loop = asyncio.get_running_loop()
        start = loop.time()
        await wan.send(HUB, b"\x01")
        await asyncio.wait_for(arrived.wait(), 2)
        assert loop.time() - start >= 0.055  # 30 ms down, 30 ms up
    finally:
        await wan.close()


async def test_drop_duplicate_corrupt_are_seeded_and_counted() -> None:
    async def run(seed: int) -> tuple[list[bytes], int, int, int]:
        faults = WanFaults(drop_rate=0.2, duplicate_rate=0.2, corrupt_rate=0.2, seed=seed)
        wan = InProcessWan(faults=faults)
        try:
            wan.hubs.set_handler(lambda hub, frame: None)
            for i in range(200):
                await wan.send(HUB, bytes([i, i]))
            await settle(wan)
            return (
                [r.frame for r in wan.recent],
                wan.stats.dropped,
                wan.stats.duplicated,
                wan.stats.corrupted,
            )
        finally:
            await wan.close()

    first, second = await run(7), await run(7)
    assert first == second  # deterministic from the seed
    _, dropped, duplicated, corrupted = first
    assert 15 < dropped < 70
    assert 15 < duplicated < 70
    assert 15 < corrupted < 70
    assert await run(8) != first


async def test_faults_can_be_limited_to_one_direction(wan: InProcessWan) -> None:
    wan.faults = WanFaults(drop_rate=1.0, direction=Direction.UP)
    echo = Echo(wan)
    received: list[bytes] = []
    wan.set_receiver(lambda eui, frame: received.append(frame))
    await wan.send(HUB, b"\x05")
    await settle(wan)
    assert echo.commands == [(HUB, b"\x05")]  # the command went down...
    assert received == []  # ...its answer was dropped


async def test_a_custom_manipulator_decides(wan: InProcessWan) -> None:
    seen: list[tuple[Direction, bytes]] = []

    def split(direction: Direction, eui: bytes, frame: bytes) -> list[tuple[float, bytes]]:
        seen.append((direction, eui))
        return [(0.0, frame[:1]), (0.001, frame[1:])]

    wan.faults = WanFaults(manipulator=split)
    arrived: list[bytes] = []
    wan.hubs.set_handler(lambda hub, frame: arrived.append(frame))
    await wan.send(HUB, b"\x01\x02\x03")
    await settle(wan)
    assert arrived == [b"\x01", b"\x02\x03"]
    assert seen == [(Direction.DOWN, HUB)]


async def test_a_failing_handler_does_not_break_the_wan(
    wan: InProcessWan, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[bytes] = []

    def handler(hub: bytes, frame: bytes) -> None:
        calls.append(frame)
        if frame == b"\x00":
            raise RuntimeError("boom")

    wan.hubs.set_handler(handler)
    await wan.send(HUB, b"\x00")
    await wan.send(HUB, b"\x01")
    await settle(wan)
    assert calls == [b"\x00", b"\x01"]
    assert "failed on a frame" in caplog.text


async def test_close_cancels_frames_in_flight() -> None:
    wan = InProcessWan(faults=WanFaults(delay=10.0))
    arrived: list[bytes] = []
    wan.hubs.set_handler(lambda hub, frame: arrived.append(frame))
    await wan.send(HUB, b"\x01")
    assert wan.in_flight == 1
    await wan.close()
    assert wan.in_flight == 0
    assert not wan.reachable(HUB)
    with pytest.raises(WanError):
        await wan.send(HUB, b"\x01")
    assert arrived == []


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="drop_rate"):
        WanFaults(drop_rate=1.5)
    with pytest.raises(ValueError, match="negative"):
        WanFaults(delay=-1)


def test_corrupt_flips_the_last_bit() -> None:
    assert corrupt(b"\x00\x01") == b"\x00\x00"
    assert corrupt(b"") == b""


# -- the routing WAN ------------------------------------------------------------------------------


async def test_routing_wan_sends_each_hub_through_its_own_wan() -> None:
    default, dongle = InProcessWan(), InProcessWan()
    routing: Wan = RoutingWan(default, {OTHER_HUB: dongle})
    try:
        via_default, via_dongle = Echo(default), Echo(dongle)
        received: list[tuple[bytes, bytes]] = []
        routing.set_receiver(lambda eui, frame: received.append((eui, frame)))
        await routing.send(HUB, b"\x01\x02")
        await routing.send(OTHER_HUB, b"\x03\x04")
        await settle(default)
        await settle(dongle)
        assert via_default.commands == [(HUB, b"\x01\x02")]
        assert via_dongle.commands == [(OTHER_HUB, b"\x03\x04")]
        # answers from both come up to the one receiver
        assert sorted(received) == [(DEVICE, b"\x02\x01"), (DEVICE, b"\x04\x03")]
    finally:
        await routing.close()


async def test_routing_wan_reachability_and_refusals_are_per_route() -> None:
    default, dongle = InProcessWan(), InProcessWan()
    routing = RoutingWan(default, {OTHER_HUB: dongle})
    try:
        dongle.faults.all_down = True
        assert routing.reachable(HUB)
        assert not routing.reachable(OTHER_HUB)
        with pytest.raises(HubUnreachableError) as info:
            await routing.send(OTHER_HUB, b"\x01")
        assert info.value.hub == OTHER_HUB
        assert dongle.stats.unreachable == 1
        assert default.stats.unreachable == 0
        assert routing.route(OTHER_HUB) is dongle
        assert routing.route(DEVICE) is default
    finally:
        await routing.close()


class FailingClose(InProcessWan):
    async def close(self) -> None:
        await super().close()
        raise WanError("the port would not close")


async def test_routing_wan_closes_every_wan_once_even_when_one_fails() -> None:
    default, failing = InProcessWan(), FailingClose()
    routing = RoutingWan(default, {HUB: failing, OTHER_HUB: failing})
    assert routing.wans == (default, failing)
    with pytest.raises(WanError, match="would not close"):
        await routing.close()
    assert not default.reachable(HUB)
    assert not failing.reachable(HUB)
    with pytest.raises(WanError):
        await routing.send(DEVICE, b"\x01")


def test_routing_wan_refuses_a_route_that_is_not_an_eui() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="8-byte EUI"):
            RoutingWan(InProcessWan(loop=loop), {b"\x01": InProcessWan(loop=loop)})
    finally:
        loop.close()
