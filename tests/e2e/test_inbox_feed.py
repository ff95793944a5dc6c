"""A user's inbox feed over HTTP: ``GET /api/v1/responses?user=...&after=...&wait=...``."""

from __future__ import annotations

import asyncio
from typing import Any

from gbcs.codes import SUPPLIER
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import request, request_id

READ = "<sr:ReadInstantaneousImportRegisters/>"
USER = SUPPLIER.hex("-").upper()


async def _feed(client: DuisClient, url: str, after: int, wait: float = 0) -> list[Any]:
    params = {"user": USER, "after": str(after)}
    if wait:
        params["wait"] = str(wait)
    async with client.session.get(url + "/api/v1/responses", params=params) as answer:
        assert answer.status == 200, await answer.text()
        reports: list[Any] = await answer.json()
        return reports


async def test_the_feed_follows_each_new_report(sandbox: Sandbox, client: DuisClient) -> None:
    url = sandbox.url
    assert await _feed(client, url, 0) == []
    first = request(client, "4.1.1", ESME, READ)
    assert (await client.post(first)).code == "I99"
    [report] = await _feed(client, url, 0, wait=5)
    assert report["requestId"] == request_id(first)
    assert report["kind"] == "response"
    seq = report["seq"]
    # Nothing after it yet: a long poll waits, and answers the next report when it is filed.
    waiting = asyncio.create_task(_feed(client, url, seq, wait=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    second = request(client, "4.1.1", ESME, READ)
    assert (await client.post(second)).code == "I99"
    [next_report] = await waiting
    assert next_report["requestId"] == request_id(second)
    assert next_report["seq"] > seq
    # Polls from further back answer at once, oldest first, whatever was filed since.
    assert [r["seq"] for r in await _feed(client, url, 0, wait=5)] == [seq, next_report["seq"]]
    assert [r["seq"] for r in await _feed(client, url, seq, wait=5)] == [next_report["seq"]]
    # A short wait with nothing new ends empty.
    assert await _feed(client, url, next_report["seq"], wait=0.05) == []
    assert sandbox.duis._user_waiters == {}  # no poll left waiting behind


async def test_the_feed_reads_the_database_for_what_memory_no_longer_holds(
    sandbox: Sandbox, client: DuisClient
) -> None:
    recent = sandbox.duis.recent
    assert recent is not None  # one process: the inbox keeps the newest reports in memory
    recent.capacity = 2  # keep only the two newest reports in memory
    sent = [request(client, "4.1.1", ESME, READ) for _ in range(3)]
    for xml in sent:
        assert (await client.send(xml, wait=True, within=5)).ok
    everything = await _feed(client, sandbox.url, 0)
    assert [r["requestId"] for r in everything] == [request_id(x) for x in sent]
    assert len(recent) == 2
    # the newest from memory, and the oldest from the database: the same answers
    newest = await _feed(client, sandbox.url, everything[0]["seq"])
    assert newest == everything[1:]
    assert await _feed(client, sandbox.url, 0) == everything
