"""The dongle framing (SLIP + CRC-16) and its acknowledged link, over pty pairs, with a raw
peer that withholds ACKs, repeats frames, corrupts them and adds noise."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gbcs.wan import HubUnreachableError
from hil.dongle import (
    END,
    ESC,
    DeviceServer,
    DongleFrame,
    DongleLink,
    FrameDecoder,
    FrameRejected,
    FrameType,
    LinkTiming,
    SerialWan,
    crc16,
    encode_frame,
)
from hil.errors import DongleDecodeError, LinkTimeout, PortError
from hil.link import ByteLink, open_raw_pty

DEVICE = bytes.fromhex("00db123456789a0b")
OTHER = bytes.fromhex("00db123456789a0c")
FAST = LinkTiming(ack_timeout=0.05, retries=3)


def test_crc_is_ccitt_false_with_its_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


def test_golden_frame_and_escaping() -> None:
    gbcs = bytes([0xC0, 0xDB, 0x01])
    wire = encode_frame(DEVICE, gbcs, 7)
    body = bytes([0x11, 7]) + DEVICE + gbcs
    body += crc16(body).to_bytes(2, "big")
    escaped = body.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    assert wire == b"\xc0" + escaped + b"\xc0"
    assert wire.count(bytes([END])) == 2
    assert bytes([ESC, 0xDC]) in wire
    assert bytes([ESC, 0xDD]) in wire
    assert FrameDecoder().feed(wire) == [DongleFrame(FrameType.DATA, 7, DEVICE, gbcs)]
    assert (
        DongleFrame(FrameType.ACK, 7).to_bytes()
        == b"\xc0\x12\x07" + crc16(b"\x12\x07").to_bytes(2, "big") + b"\xc0"
    )


def test_the_examples_of_docs_hil_md() -> None:
    eui = bytes.fromhex("00db1234567890a0")
    assert encode_frame(eui, b"\xdd\x00", 7) == bytes.fromhex(
        "C0 11 07 00 DB DD 12 34 56 78 90 A0 DD 00 FE B0 C0"
    )
    assert DongleFrame(FrameType.ACK, 7).to_bytes() == bytes.fromhex("C0 12 07 08 F9 C0")


def test_decoder_rejects_damage_and_resynchronises() -> None:
    good = encode_frame(DEVICE, b"\xdd\x00\x01", 1)
    damaged = bytearray(encode_frame(DEVICE, b"\xdd\x00\x02", 2))
    damaged[damaged.index(b"\xdd\x00\x02") + 2] ^= 0x40  # a payload byte, not an escape
    decoder = FrameDecoder()
    items = decoder.feed(b"line noise" + bytes(damaged) + b"\xdb\x01\xc0" + good)
    assert [type(i) for i in items] == [FrameRejected, FrameRejected, FrameRejected, DongleFrame]
    assert isinstance(items[0], FrameRejected)
    assert "bad CRC" in items[0].reason or "too short" in items[0].reason
    assert isinstance(items[1], FrameRejected)
    assert "bad CRC" in items[1].reason
    assert isinstance(items[2], FrameRejected)
    assert "bad escape" in items[2].reason
    assert items[3] == DongleFrame(FrameType.DATA, 1, DEVICE, b"\xdd\x00\x01")


def test_an_endless_frame_is_rejected_at_the_limit_not_buffered_forever() -> None:
    decoder = FrameDecoder(max_body=64)
    assert decoder.feed(b"\xc0" + b"\x55" * 10_000) == []
    [item] = decoder.feed(b"\xc0")
    assert isinstance(item, FrameRejected)
    assert "longer than 64" in item.reason
    assert decoder.feed(encode_frame(DEVICE, b"\x01", 0)) == [
        DongleFrame(FrameType.DATA, 0, DEVICE, b"\x01")
    ]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"\x11", "too short"),
        (b"\x21\x00" + DEVICE + b"\x01", "framing version 2"),
        (b"\x13\x00", "unknown frame type 0x13"),
        (b"\x12\x00\x01", "ACK frame with a 1-byte payload"),
        (b"\x11\x00" + DEVICE, "without a GBCS message"),
    ],
)
def test_malformed_bodies(body: bytes, needle: str) -> None:
    with pytest.raises(DongleDecodeError, match=needle):
        DongleFrame.from_body(body + crc16(body).to_bytes(2, "big"))


FRAMES = st.lists(
    st.builds(
        lambda seq, gbcs: DongleFrame(FrameType.DATA, seq, DEVICE, gbcs),
        st.integers(0, 255),
        st.binary(min_size=1, max_size=80),
    )
    | st.builds(lambda seq: DongleFrame(FrameType.ACK, seq), st.integers(0, 255)),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(FRAMES, st.integers(1, 9))
def test_any_frames_survive_any_split(frames: list[DongleFrame], chunk: int) -> None:
    wire = b"".join(frame.to_bytes() for frame in frames)
    decoder = FrameDecoder()
    out: list[DongleFrame | FrameRejected] = []
    for i in range(0, len(wire), chunk):
        out += decoder.feed(wire[i : i + chunk])
    assert out == frames


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_gives_rejects_never_exceptions(data: bytes) -> None:
    for item in FrameDecoder(max_body=128).feed(data + b"\xc0"):
        assert isinstance(item, DongleFrame | FrameRejected)


class RawPeer:
    """The far end of a pty, read and written by the test byte for byte."""

    def __init__(self) -> None:
        self.master, self.slave, self.path = open_raw_pty(115200)
        self.decoder = FrameDecoder()
        self.frames: asyncio.Queue[DongleFrame | FrameRejected] = asyncio.Queue()
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return
        for item in self.decoder.feed(data):
            self.frames.put_nowait(item)

    async def next(self) -> DongleFrame:
        async with asyncio.timeout(1.0):
            item = await self.frames.get()
        assert isinstance(item, DongleFrame), item
        return item

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def ack(self, seq: int) -> None:
        self.write(DongleFrame(FrameType.ACK, seq).to_bytes())

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
async def peer() -> AsyncIterator[RawPeer]:
    raw = RawPeer()
    yield raw
    raw.close()


@pytest.fixture
async def link(peer: RawPeer) -> AsyncIterator[DongleLink]:
    opened = await DongleLink.open(peer.path, timing=FAST)
    yield opened
    await opened.close()


async def test_send_returns_once_acknowledged(peer: RawPeer, link: DongleLink) -> None:
    sending = asyncio.create_task(link.send_frame(DEVICE, b"\xdd\x01"))
    frame = await peer.next()
    assert frame == DongleFrame(FrameType.DATA, 0, DEVICE, b"\xdd\x01")
    assert not sending.done()
    peer.ack(0)
    await asyncio.wait_for(sending, 1.0)
    assert link.stats.sent == 1
    assert link.stats.retransmitted == 0


async def test_a_lost_ack_means_a_repeat_with_the_same_number(
    peer: RawPeer, link: DongleLink
) -> None:
    sending = asyncio.create_task(link.send_frame(DEVICE, b"\xdd\x02"))
    first = await peer.next()
    again = await peer.next()  # no ACK: after ack_timeout it comes again
    assert again == first
    peer.ack(first.seq)
    await asyncio.wait_for(sending, 1.0)
    assert link.stats.retransmitted == 1
    sending = asyncio.create_task(link.send_frame(DEVICE, b"\xdd\x03"))
    assert (await peer.next()).seq == first.seq + 1
    peer.ack(first.seq)  # a stale ACK does not count
    peer.ack(first.seq + 1)
    await asyncio.wait_for(sending, 1.0)


async def test_never_acknowledged_is_a_link_timeout_naming_the_port(
    peer: RawPeer, link: DongleLink
) -> None:
    with pytest.raises(LinkTimeout, match=rf"no acknowledgement on {peer.path} .* 3 attempt"):
        await link.send_frame(DEVICE, b"\xdd\x04")
    assert link.stats.timeouts == 1
    assert "repeat 2" in link.frame_log.dump()


async def test_duplicates_are_acknowledged_but_delivered_once(
    peer: RawPeer, link: DongleLink
) -> None:
    wire = encode_frame(DEVICE, b"\xdf\x01", 9)
    peer.write(wire)
    assert await peer.next() == DongleFrame(FrameType.ACK, 9)
    peer.write(wire)  # our ACK was "lost": the peer repeats
    assert await peer.next() == DongleFrame(FrameType.ACK, 9)
    peer.write(encode_frame(DEVICE, b"\xdf\x02", 10))
    assert await peer.next() == DongleFrame(FrameType.ACK, 10)
    assert await link.receive_frame() == (DEVICE, b"\xdf\x01")
    assert await link.receive_frame() == (DEVICE, b"\xdf\x02")
    assert link.stats.duplicates == 1


async def test_corrupted_and_noisy_input_is_dropped_unacknowledged(
    peer: RawPeer, link: DongleLink
) -> None:
    bad = bytearray(encode_frame(DEVICE, b"\xdf\x03", 3))
    bad[-3] ^= 0x01
    peer.write(b"\x00\xffnoise\xc0" + bytes(bad))
    peer.write(encode_frame(DEVICE, b"\xdf\x03", 3))
    assert await peer.next() == DongleFrame(FrameType.ACK, 3)
    assert await link.receive_frame() == (DEVICE, b"\xdf\x03")
    assert link.stats.rejected == 2
    assert "rejected: bad CRC" in link.frame_log.dump()


async def test_device_server_and_serial_wan_over_a_pty_pair() -> None:
    device_side = DongleLink(await ByteLink.open_pty(baudrate=115200), timing=FAST)
    device_side.start()
    answered: list[bytes] = []

    def device(frame: bytes) -> list[bytes]:
        answered.append(frame)
        return [b"\xdf\x02" + frame[2:], b"\xdf\x03alert"]

    server = DeviceServer(device_side, DEVICE, device)
    serving = asyncio.create_task(server.serve())
    wan = await SerialWan.open(device_side.link.state.url, [DEVICE], timing=FAST)
    try:
        got: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
        wan.set_receiver(lambda eui, frame: got.put_nowait((eui, frame)))
        assert wan.reachable(DEVICE)
        assert not wan.reachable(OTHER)
        await wan.send(DEVICE, b"\xdd\x01command")
        assert await asyncio.wait_for(got.get(), 1.0) == (DEVICE, b"\xdf\x02command")
        assert await asyncio.wait_for(got.get(), 1.0) == (DEVICE, b"\xdf\x03alert")
        await server.send(b"\xdf\x04unprompted")
        assert await asyncio.wait_for(got.get(), 1.0) == (DEVICE, b"\xdf\x04unprompted")
        assert answered == [b"\xdd\x01command"]
        with pytest.raises(HubUnreachableError, match="not behind the dongle"):
            await wan.send(OTHER, b"\xdd\x01")
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await device_side.close()
    # the device is gone: the WAN says so, within the link's retries
    with pytest.raises(HubUnreachableError, match="the port went away: /dev/"):
        await wan.send(DEVICE, b"\xdd\x01again")
    await wan.close()
    assert not wan.reachable(DEVICE)
    with pytest.raises(HubUnreachableError, match="link closed"):
        await wan.send(DEVICE, b"\xdd\x01closed")


async def test_a_failing_device_handler_does_not_stop_the_server() -> None:
    device_side = DongleLink(await ByteLink.open_pty(baudrate=115200), timing=FAST)
    device_side.start()

    def device(frame: bytes) -> list[bytes]:
        if frame == b"boom":
            raise RuntimeError("device bug")
        return [frame + b"-ok"]

    server = DeviceServer(device_side, DEVICE, device)
    serving = asyncio.create_task(server.serve())
    gateway = await DongleLink.open(device_side.link.state.url, timing=FAST)
    try:
        await gateway.send_frame(DEVICE, b"boom")
        await gateway.send_frame(DEVICE, b"fine")
        assert await asyncio.wait_for(gateway.receive_frame(), 1.0) == (DEVICE, b"fine-ok")
        await gateway.send_frame(OTHER, b"not-for-me")
        await gateway.send_frame(DEVICE, b"again")
        assert await asyncio.wait_for(gateway.receive_frame(), 1.0) == (DEVICE, b"again-ok")
        assert server.failures == 1
        assert server.handled == 2
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await gateway.close()
        await device_side.close()


async def test_receive_on_a_closed_link_is_a_port_error(peer: RawPeer) -> None:
    link = await DongleLink.open(peer.path, timing=FAST)
    await link.close()
    with pytest.raises(PortError, match="closed"):
        await link.receive_frame()
    with pytest.raises(PortError, match="closed"):
        await link.send_frame(DEVICE, b"x")


async def test_a_port_that_comes_back_is_reopened(tmp_path: Path) -> None:
    """A USB dongle unplugged and plugged in again, as socat's pty pair at stable paths."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.skip("socat is not installed (.ci/run installs it)")
    dongle, device = tmp_path / "dongle", tmp_path / "device"

    async def plug_in() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            socat, f"PTY,link={dongle},raw,echo=0", f"PTY,link={device},raw,echo=0"
        )
        for _ in range(200):
            if dongle.exists() and device.exists():
                return process
            await asyncio.sleep(0.01)
        raise AssertionError("socat made no pty pair")

    async def unplug(process: asyncio.subprocess.Process) -> None:
        process.terminate()
        await process.wait()

    async def exchange(wan: SerialWan) -> None:
        device_side = await DongleLink.open(str(device), timing=FAST)
        try:
            got: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
            device_side.set_receiver(lambda eui, frame: got.put_nowait((eui, frame)))
            await wan.send(DEVICE, b"\xdd\x01read")
            assert await asyncio.wait_for(got.get(), 2.0) == (DEVICE, b"\xdd\x01read")
        finally:
            await device_side.close()

    socat_process = await plug_in()
    wan = await SerialWan.open(str(dongle), [DEVICE], timing=FAST, reopen_every=0.05)
    try:
        await exchange(wan)
        await unplug(socat_process)
        for _ in range(200):
            if not wan.reachable(DEVICE):
                break
            await asyncio.sleep(0.01)
        assert not wan.reachable(DEVICE)
        with pytest.raises(HubUnreachableError):
            await wan.send(DEVICE, b"\xdd\x01lost")
        socat_process = await plug_in()
        for _ in range(300):
            if wan.reachable(DEVICE):
                break
            await asyncio.sleep(0.01)
        assert wan.reachable(DEVICE)
        assert wan.reopened == 1
        assert "is back: reopened" in wan.link.frame_log.dump()
        await exchange(wan)
    finally:
        await wan.close()
        await unplug(socat_process)
