"""The frame log, the event stream, the info log and the web view's pages over HTTP (the
browser tests are in test_web_browser.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from gateway.events import EventBus
from gbcs.codes import SUPPLIER
from gbcs.eui import eui_duis
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox, SandboxSettings
from tests.e2e.support import request, request_id


def _read(client: DuisClient) -> bytes:
    return request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>")


async def _get(sandbox: Sandbox, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(sandbox.url + path) as answer:
        return answer.status, await answer.text()


async def test_the_frame_log_holds_the_command_and_the_answer_in_order(
    sandbox: Sandbox, client: DuisClient
) -> None:
    xml = _read(client)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.kind == "response"
    rid = request_id(xml)
    status, text = await _get(sandbox, f"/admin/frames?requestId={quote(rid)}")
    assert status == 200, text
    frames = json.loads(text)["frames"]
    assert [f["direction"] for f in frames] == ["down", "up"]
    assert {f["device"] for f in frames} == {"00-DB-12-34-56-78-90-A0"}
    down = Message.from_bytes(bytes.fromhex(frames[0]["hex"]))
    up = Message.from_bytes(bytes.fromhex(frames[1]["hex"]))
    assert down.business_target == ESME
    assert down.business_originator == SUPPLIER
    assert up.business_originator == ESME
    assert up.originator_counter == down.originator_counter
    assert frames[0]["at"] <= frames[1]["at"]


async def test_the_frame_log_survives_a_restart(tmp_path: Path) -> None:
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, durability="process"
    )
    sandbox = await Sandbox.start(settings)
    try:
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True) as client:
            xml = _read(client)
            await client.send(xml, wait=True, within=5)
    finally:
        await sandbox.close()
    sandbox = await Sandbox.start(settings)
    try:
        status, text = await _get(sandbox, f"/admin/frames?requestId={quote(request_id(xml))}")
        assert status == 200, text
        assert len(json.loads(text)["frames"]) == 2
        # The request's page still shows them decoded, from the database.
        status, page = await _get(sandbox, f"/requests/{quote(request_id(xml), safe='')}")
        assert status == 200
        assert "ECS17b" in page
    finally:
        await sandbox.close()


async def test_an_unknown_or_malformed_request_id_is_an_error_that_says_so(
    sandbox: Sandbox,
) -> None:
    unknown = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:99999"
    status, text = await _get(sandbox, f"/admin/frames?requestId={quote(unknown)}")
    assert status == 404
    assert "unknown RequestID" in json.loads(text)["error"]
    status, text = await _get(sandbox, "/admin/frames?requestId=nonsense")
    assert status == 400
    assert "requestId" in json.loads(text)["error"]
    status, text = await _get(sandbox, "/admin/frames")
    assert status == 400
    status, page = await _get(sandbox, f"/requests/{quote(unknown, safe='')}")
    assert status == 404
    assert "unknown RequestID" in page


async def test_the_event_stream_tells_an_sr_its_command_its_frame_and_its_answer(
    sandbox: Sandbox, client: DuisClient
) -> None:
    seen: list[dict[str, object]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.get(sandbox.url + "/admin/events") as stream,
    ):
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await stream.content.readline()  # the opening comment: subscribed
        xml = _read(client)
        await client.send(xml, wait=True, within=5)
        async with asyncio.timeout(5):
            while not any(e["type"] == "response" for e in seen):
                line = await stream.content.readline()
                if line.startswith(b"data: "):
                    seen.append(json.loads(line[6:]))
    types = [e["type"] for e in seen]
    assert types[:4] == ["command-sent", "sr-received", "frame-received", "response"] or types[
        :4
    ] == ["sr-received", "command-sent", "frame-received", "response"], types
    sr = next(e for e in seen if e["type"] == "sr-received")
    assert sr["requestId"] == request_id(xml)
    assert sr["srv"] == "4.1.1"
    assert sr["code"] == "I99"
    assert sr["device"] == "00-DB-12-34-56-78-90-A0"
    response = next(e for e in seen if e["type"] == "response")
    assert response["requestId"] == request_id(xml)
    assert response["code"] == "I0"
    # The disconnect is noticed within about a second (the idle stream looks every second).
    for _ in range(100):
        if not sandbox.gateway.events.subscribers:
            break
        await asyncio.sleep(0.05)
    assert sandbox.gateway.events.subscribers == 0


async def test_a_slow_subscriber_is_dropped_with_a_logged_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus(queue_size=3)
    slow = bus.subscribe()
    fast = bus.subscribe()
    with caplog.at_level(logging.WARNING, logger="gateway.events"):
        for n in range(4):
            bus.publish("rdp-file", direction="written", file=f"f{n}")
            assert await fast.next() is not None
    assert slow.dropped
    assert not fast.dropped
    assert bus.subscribers == 1
    assert "reads too slowly" in caplog.text
    kept = [await slow.next() for _ in range(4)]
    assert [e.fields["file"] for e in kept[:3] if e is not None] == ["f0", "f1", "f2"]
    assert kept[3] is None  # then the stream ends
    with pytest.raises(ValueError, match="unknown event type"):
        bus.publish("nonsense")


async def test_info_logs_one_line_per_sr_and_per_final_answer(
    sandbox: Sandbox, client: DuisClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.traffic"):
        xml = _read(client)
        await client.send(xml, wait=True, within=5)
    rid = request_id(xml)
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.traffic"]
    sr = [line for line in lines if line.startswith(f"SR {rid} 4.1.1")]
    final = [line for line in lines if line.startswith(f"final response {rid} 4.1.1")]
    assert len(sr) == 1
    assert "I99 in" in sr[0]
    assert "00-DB-12-34-56-78-90-A0" in sr[0]
    assert len(final) == 1
    assert ": I0," in final[0]
    assert " ms after the SR" in final[0]


async def test_the_pages_escape_what_a_request_carries(
    sandbox: Sandbox, client: DuisClient
) -> None:
    broken = _read(client).replace(b"<sr:Body>", b"<sr:Body><x>&lt;b&gt;bold&lt;/b&gt;</x>")
    await client.post(broken)
    status, page = await _get(sandbox, "/")
    assert status == 200
    assert "<b>bold" not in page
    hostile = _read(client).replace(b"</sr:Body>", b"<!-- <script>alert(1)</script> --></sr:Body>")
    await client.post(hostile)
    status, page = await _get(sandbox, f"/requests/{quote(request_id(hostile), safe='')}")
    assert status == 200, page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_the_device_json_and_controls(sandbox: Sandbox, client: DuisClient) -> None:
    xml = _read(client)
    await client.send(xml, wait=True, within=5)
    status, text = await _get(sandbox, "/admin/devices/00-DB-12-34-56-78-90-A0")
    assert status == 200
    state = json.loads(text)
    assert state["type"] == "ESME"
    assert state["reachable"] is True
    assert state["register"] == sandbox.fleet.device(ESME, sandbox.clock()).meter.total
    status, text = await _get(sandbox, "/admin/devices/00-DB-12-34-56-78-90-FF")
    assert status == 404
    assert "unknown device 00-DB-12-34-56-78-90-FF" in text
    status, text = await _get(sandbox, "/admin/devices/zz")
    assert status == 400
    async with aiohttp.ClientSession() as session:
        url = sandbox.url + "/admin/devices/00-DB-12-34-56-78-90-A0"
        async with session.post(url, json={"action": "fly"}) as answer:
            assert answer.status == 400
            assert "unknown action" in (await answer.json())["error"]
        async with session.post(url, json={"action": "slow", "value": "-1"}) as answer:
            assert answer.status == 400
        assert sandbox.wan.faults.delay == 0.0  # a refused action changed nothing
        async with session.post(url, json={"action": "unreachable"}) as answer:
            assert answer.status == 200
        assert not sandbox.wan.reachable(sandbox.fleet.hub_of(ESME))
        answer_xml = await client.post(_read(client))
        assert answer_xml.code == "E1001"
        async with session.post(url, json={"action": "reachable"}) as answer:
            assert answer.status == 200
        before = sandbox.clock()
        async with session.post(url, json={"action": "clock", "value": 3600}) as answer:
            assert answer.status == 200
        assert (sandbox.clock() - before).total_seconds() >= 3600
        async with session.post(url, json={"action": "alert", "value": "8F3E"}) as answer:
            assert answer.status == 200, await answer.text()
    status, text = await _get(sandbox, f"/api/v1/responses?user={eui_duis(SUPPLIER)}&wait=5")
    assert status == 200
    assert any(r["kind"] == "alert" and r["code"] == "8F3E" for r in json.loads(text)), text
