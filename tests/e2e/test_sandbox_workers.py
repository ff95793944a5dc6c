"""Two sandbox workers on one state (what ``smetsim sandbox --workers 2`` runs, here in one
process with a port each): worker 0 hosts the fleet, worker 1 reaches it over the mesh, and
the inbox is one for both."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gbcs.codes import SUPPLIER
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, GSME, Sandbox, SandboxSettings
from tests.e2e.support import gbcs_of, request, request_id, two_workers

READ = "<sr:ReadInstantaneousImportRegisters/>"
USER = SUPPLIER.hex("-").upper()


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[list[Sandbox]]:
    settings = SandboxSettings.create(
        state=tmp_path / "state",
        port=0,
        latency=False,
        response_timeout=2.0,
        durability="process",
    )
    async with two_workers(settings) as started:
        yield started


async def _feed(client: DuisClient, url: str, after: int, wait: float = 0) -> list[Any]:
    params = {"user": USER, "after": str(after), "wait": str(wait)}
    async with client.session.get(url + "/api/v1/responses", params=params) as answer:
        assert answer.status == 200, await answer.text()
        reports: list[Any] = await answer.json()
        return reports


async def test_a_worker_without_the_fleet_reaches_the_devices(workers: list[Sandbox]) -> None:
    host, other = workers
    assert host.hosts_fleet
    assert not other.hosts_fleet
    async with DuisClient(other.url, keys=other.keystore, sign_xml=True, timeout=10) as client:
        for target, code in ((ESME, 0x0027), (GSME, 0x0074)):
            outcome = await client.send(request(client, "4.1.1", target, READ), wait=True, within=5)
            assert outcome.ok, outcome
            assert outcome.final is not None
            message = gbcs_of(outcome.final.body)
            assert message.business_originator == target
            assert message.message_code == code
    # the commands went through the host's fleet; nothing went through worker 1's own
    assert host.fleet.has_state(ESME)
    assert not other.fleet.has_state(ESME)
    assert other.wan.stats.sent_down == 0


async def test_a_long_poll_wakes_for_a_report_another_worker_filed(
    workers: list[Sandbox],
) -> None:
    host, other = workers
    async with DuisClient(other.url, keys=other.keystore, sign_xml=True, timeout=10) as client:
        assert await _feed(client, host.url, 0) == []
        waiting = asyncio.create_task(_feed(client, host.url, 0, wait=30))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        xml = request(client, "4.1.1", ESME, READ)
        assert (await client.post(xml)).code == "I99"  # to worker 1
        # worker 0's poll ends long before its 30 s: worker 1 told it
        [report] = await asyncio.wait_for(waiting, 5)
        assert report["requestId"] == request_id(xml)
        assert report["kind"] == "response"
        # and both workers answer the same inbox, by user and by RequestID
        assert await _feed(client, other.url, 0) == [report]
        for url in (host.url, other.url):
            async with client.session.get(
                url + "/api/v1/responses", params={"requestId": request_id(xml), "wait": "5"}
            ) as answer:
                assert answer.status == 200
                assert answer.headers["X-DUIS-Response-Code"] == "I0"
    assert host.duis._user_waiters == {}
    assert host.duis._waiters == {}


async def test_a_wait_by_request_id_wakes_for_another_workers_report(
    workers: list[Sandbox],
) -> None:
    host, other = workers
    async with DuisClient(host.url, keys=host.keystore, sign_xml=True, timeout=10) as client:
        xml = request(client, "4.1.1", ESME, READ)
        waiting = asyncio.create_task(
            client.session.get(
                other.url + "/api/v1/responses",
                params={"requestId": request_id(xml), "wait": "30"},
            )
        )
        await asyncio.sleep(0.05)
        assert (await client.post(xml)).code == "I99"  # to worker 0, waited for on worker 1
        answer = await asyncio.wait_for(waiting, 5)
        async with answer:
            assert answer.status == 200
            assert answer.headers["X-DUIS-Response-Code"] == "I0"


async def test_without_the_host_a_worker_reports_the_hub_unreachable(
    workers: list[Sandbox],
) -> None:
    host, other = workers
    await host.close()
    async with DuisClient(other.url, keys=other.keystore, sign_xml=True, timeout=10) as client:
        outcome = await client.send(request(client, "4.1.1", ESME, READ), wait=True, within=5)
        assert outcome.answers[0].code == "I99"
        assert outcome.final is not None
        assert outcome.final.kind == "dcc-alert"
        assert b"the sandbox worker hosting the devices cannot be reached" in outcome.final.body


# --- the web view across workers ------------------------------------------------------------


async def _events_until(
    stream: aiohttp.ClientResponse, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            line = await stream.content.readline()
            if line.startswith(b"data: "):
                event: dict[str, Any] = json.loads(line[6:])
                if wanted(event):
                    return event


async def test_each_workers_event_stream_and_flow_tell_every_workers_srs(
    workers: list[Sandbox],
) -> None:
    host, other = workers
    async with (
        aiohttp.ClientSession() as session,
        session.get(host.url + "/admin/events") as on_host,
        session.get(other.url + "/admin/events") as on_other,
        DuisClient(other.url, keys=other.keystore, sign_xml=True, timeout=10) as client,
    ):
        await on_host.content.readline()
        await on_other.content.readline()
        xml = request(client, "4.1.1", ESME, READ)
        await client.send(xml, wait=True, within=5)
        rid = request_id(xml)
        for stream in (on_host, on_other):
            sr = await _events_until(
                stream, lambda e: e["type"] == "sr-received" and e["requestId"] == rid
            )
            assert sr["worker"] == 1  # where it arrived
            response = await _events_until(
                stream, lambda e: e["type"] == "response" and e["requestId"] == rid
            )
            assert response["worker"] == 1
        [entry] = [e for e in host.gateway.web.flow.entries() if e.key == rid]
        assert (entry.outcome, entry.final_code) == ("response", "I0")
        async with session.get(host.url + "/") as page:
            assert rid in await page.text()
    # The traffic log and the gateway's own reactions stay with the worker that saw it.
    assert host.gateway.events.worker == 0
    assert other.gateway.events.worker == 1


async def test_the_devices_view_is_reachable_from_any_worker(workers: list[Sandbox]) -> None:
    host, other = workers
    url = f"{other.url}/admin/devices/00-DB-12-34-56-78-90-A0"
    async with aiohttp.ClientSession() as session:
        async with DuisClient(other.url, keys=other.keystore, sign_xml=True) as client:
            await client.send(request(client, "4.1.1", ESME, READ), wait=True, within=5)
        async with session.get(url) as answer:
            assert answer.status == 200
            state = await answer.json()
        assert state["register"] == host.fleet.device(ESME, host.clock()).meter.total
        async with session.get(other.url + "/devices") as answer:
            assert answer.status == 200
            assert 'data-eui="00-DB-12-34-56-78-90-A0"' in await answer.text()
        async with session.get(f"{other.url}/admin/devices/00-DB-12-34-56-78-90-FF") as answer:
            assert answer.status == 404
        # Controls act on the host's fleet and WAN; a refused one changes nothing there.
        async with session.post(url, json={"action": "slow", "value": "-1"}) as answer:
            assert answer.status == 400
            assert "slow: give a number of seconds" in (await answer.json())["error"]
        assert host.wan.faults.delay == 0.0
        async with session.post(url, json={"action": "slow", "value": 0.25}) as answer:
            assert answer.status == 200
        assert host.wan.faults.delay == 0.25
        # Clock forward from worker 1: the host's clock, and every worker's gateway, move.
        async with session.post(url, json={"action": "clock", "value": 3600}) as answer:
            assert answer.status == 200
        for _ in range(100):
            if (other.gateway.clock() - datetime.now(UTC)).total_seconds() > 3590:
                break
            await asyncio.sleep(0.01)
        for sandbox in (host, other):
            ahead = (sandbox.gateway.clock() - datetime.now(UTC)).total_seconds()
            assert 3590 < ahead < 3610
        # Without the host, the view says why instead of failing.
        await host.close()
        async with session.get(url) as answer:
            assert answer.status == 503
            assert "worker that hosts the devices (worker 0)" in (await answer.json())["error"]
        async with session.get(other.url + "/devices") as answer:
            assert answer.status == 503
