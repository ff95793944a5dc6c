"""The links between sandbox worker processes (here two meshes in one event loop)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gbcs.wan import HubUnreachableError
from smetsim.worker_mesh import PeerWan, WorkerMesh

HUB = bytes.fromhex("00db1234567890a2")
METER = bytes.fromhex("00db1234567890a0")
USER = bytes.fromhex("90b3d51f30010000")


@pytest.fixture
async def pair() -> AsyncIterator[tuple[WorkerMesh, WorkerMesh]]:
    token = secrets.token_hex(8)
    host, other = WorkerMesh(token, 0, 2), WorkerMesh(token, 1, 2)
    try:
        yield host, other
    finally:
        await other.close()
        await host.close()


async def test_commands_reach_the_host_and_answers_come_back(
    pair: tuple[WorkerMesh, WorkerMesh],
) -> None:
    host, other = pair
    commands: list[tuple[bytes, bytes]] = []

    def fleet(hub: bytes, frame: bytes) -> list[tuple[bytes, bytes, float]]:
        commands.append((hub, frame))
        return [(METER, b"answer to " + frame, 0.0), (HUB, b"late", 0.05)]

    host.on_command = fleet
    await host.start()
    await other.start()
    wan = PeerWan(other)
    received: list[tuple[bytes, bytes]] = []
    done = asyncio.Event()

    def receiver(source: bytes, frame: bytes) -> None:
        received.append((source, frame))
        if len(received) == 4:
            done.set()

    wan.set_receiver(receiver)
    assert wan.reachable(HUB)
    await wan.send(HUB, b"\x01frame one")
    await wan.send(HUB, b"\x02" * 70_000)  # larger than one socket read
    await asyncio.wait_for(done.wait(), 2)
    assert commands == [(HUB, b"\x01frame one"), (HUB, b"\x02" * 70_000)]
    # the answers without latency first, each latency kept
    assert received[:2] == [
        (METER, b"answer to \x01frame one"),
        (METER, b"answer to " + b"\x02" * 70_000),
    ]
    assert received[2:] == [(HUB, b"late"), (HUB, b"late")]
    await wan.close()


async def test_reports_filed_are_told_to_the_other_workers(
    pair: tuple[WorkerMesh, WorkerMesh],
) -> None:
    host, other = pair
    told: list[tuple[int, bytes, str | None]] = []
    both = asyncio.Event()

    def listener(index: int):  # type: ignore[no-untyped-def]
        def filed(recipient: bytes, rid: str | None) -> None:
            told.append((index, recipient, rid))
            if len(told) == 3:
                both.set()

        return filed

    host.on_filed = listener(0)
    other.on_filed = listener(1)
    await host.start()
    await other.start()
    other.announce(USER, "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000")
    other.announce(USER, None)
    host.announce(USER, None)
    await asyncio.wait_for(both.wait(), 2)
    assert sorted(told, key=lambda t: (t[0], t[2] or "")) == [
        (0, USER, None),
        (0, USER, "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000"),
        (1, USER, None),
    ]


async def test_a_host_that_is_not_there_is_an_unreachable_hub(
    pair: tuple[WorkerMesh, WorkerMesh],
) -> None:
    host, other = pair
    await other.start()
    wan = PeerWan(other)
    with pytest.raises(HubUnreachableError, match="cannot be reached"):
        await wan.send(HUB, b"frame")
    # once the host is up (again), the next command reaches it
    host.on_command = lambda hub, frame: [(METER, frame, 0.0)]
    await host.start()
    got = asyncio.get_running_loop().create_future()
    wan.set_receiver(lambda source, frame: got.set_result(frame))
    await wan.send(HUB, b"frame")
    assert await asyncio.wait_for(got, 2) == b"frame"
    await wan.close()


async def test_a_restarted_host_is_reached_again(pair: tuple[WorkerMesh, WorkerMesh]) -> None:
    host, other = pair
    host.on_command = lambda hub, frame: [(METER, frame, 0.0)]
    await host.start()
    await other.start()
    wan = PeerWan(other)
    frames: asyncio.Queue[bytes] = asyncio.Queue()
    wan.set_receiver(lambda source, frame: frames.put_nowait(frame))
    await wan.send(HUB, b"one")
    assert await asyncio.wait_for(frames.get(), 2) == b"one"
    await host.close()  # the host dies: the link breaks
    replacement = WorkerMesh(other.token, 0, 2)
    replacement.on_command = lambda hub, frame: [(METER, b"again " + frame, 0.0)]
    await replacement.start()
    try:
        for _ in range(50):  # the broken link is noticed, then a new one is made
            try:
                await wan.send(HUB, b"two")
                break
            except HubUnreachableError:
                await asyncio.sleep(0.01)
        assert await asyncio.wait_for(frames.get(), 2) == b"again two"
    finally:
        await wan.close()
        await replacement.close()


def test_a_worker_index_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="worker 2 of 2"):
        WorkerMesh("t", 2, 2)


async def test_events_the_console_and_the_clock_cross_the_mesh(
    pair: tuple[WorkerMesh, WorkerMesh],
) -> None:
    host, other = pair
    on_host: list[dict[str, Any]] = []
    on_other: list[dict[str, Any]] = []
    host.on_event = on_host.append
    other.on_event = on_other.append
    offsets: list[float] = []
    other.on_clock = offsets.append

    async def console(request: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "boom":
            raise RuntimeError("the fleet broke")
        return {"echo": request}

    host.on_console = console
    await host.start()
    await other.start()
    other.relay({"type": "rdp-file", "file": "a"})
    host.relay({"type": "rdp-file", "file": "b"})
    assert await other.console({"op": "state", "eui": "00"}) == {
        "echo": {"op": "state", "eui": "00"}
    }
    answer = await other.console({"op": "boom"})
    assert "the fleet broke" in answer["failed"]  # said, and the link lives on
    host.tell_clock(3600.0)
    for _ in range(200):
        if on_host and on_other and offsets:
            break
        await asyncio.sleep(0.01)
    assert on_host == [{"type": "rdp-file", "file": "a"}]
    assert on_other == [{"type": "rdp-file", "file": "b"}]
    assert offsets == [3600.0]
    assert await other.console({"op": "again"}) == {"echo": {"op": "again"}}


async def test_a_worker_linking_to_the_host_is_told_its_clock(
    pair: tuple[WorkerMesh, WorkerMesh],
) -> None:
    host, other = pair
    host.clock_offset = 7200.0  # moved before this worker linked (say, it was restarted)
    offsets: list[float] = []
    other.on_clock = offsets.append
    host.on_console = lambda request: _answer({})
    await host.start()
    await other.start()
    await other.console({"op": "devices"})  # the first link to the host
    for _ in range(200):
        if offsets:
            break
        await asyncio.sleep(0.01)
    assert offsets == [7200.0]


async def test_a_console_call_to_a_missing_host_fails_at_once() -> None:
    lone = WorkerMesh(secrets.token_hex(8), 1, 2)
    await lone.start()
    try:
        with pytest.raises(ConnectionRefusedError):
            await lone.console({"op": "devices"})
    finally:
        await lone.close()


async def _answer(answer: dict[str, Any]) -> dict[str, Any]:
    return answer
