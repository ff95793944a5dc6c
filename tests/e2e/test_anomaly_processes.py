"""Threshold anomaly detection in a real ``smetsim sandbox`` process: counted exactly across
``--workers 2`` and under 50 concurrent clients, released through the worker that does not host
the fleet, and kept through a SIGKILL of the whole process group and a restart.

Each connection is pinned to a known worker: the workers share one port (``SO_REUSEPORT``) and
the kernel picks one per connection, so a session of one keep-alive connection asks
``/admin/health`` which process answered (its ``pid``) until it reaches the one wanted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gbcs.codes import SUPPLIER
from gbcs.eui import eui_duis
from smetsim.client import DuisClient, FinalAnswer
from smetsim.sandbox import ESME, extra_device, extra_supplier, sandbox_keystore
from tests.e2e.support import request, request_id

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DISABLE = "<sr:DisableSupply/>"
READ = "<sr:ReadInstantaneousImportRegisters/>"
AD1 = "<sr:DCCAlertCode>AD1</sr:DCCAlertCode>"


@dataclass(frozen=True)
class Running:
    url: str
    pids: list[int]
    """The worker processes, worker 0 (the fleet's host) first; one pid without ``--workers``."""
    state: Path


@contextlib.asynccontextmanager
async def sandbox_process(state: Path, *extra: str) -> AsyncIterator[Running]:
    """``smetsim sandbox`` on ``state`` in a process group of its own; SIGKILLs the whole group
    on leaving (the supervisor and every worker at once: nothing is shut down cleanly)."""
    args = ["sandbox", "--state", str(state), "--port", "0", "--no-latency", *extra]
    errors = state.parent / f"{state.name}-stderr.txt"
    with errors.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smetsim.cli", *args,
            stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=ROOT, env=ENV,
            start_new_session=True,
        )  # fmt: skip
    try:
        assert process.stdout is not None
        url: str | None = None
        pids = [process.pid]
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            if not line:
                said = errors.read_text(errors="replace")[-2000:]
                raise AssertionError(f"smetsim sandbox did not start: {args}\n{said}")
            if found := re.search(r"listening on (http://\S+)", line):
                url = found.group(1)
            if found := re.search(r"workers: +\d+ processes \(([\d, ]+)\)", line):
                pids = [int(p) for p in found.group(1).split(", ")]
            if line.startswith("Ctrl-C stops it."):
                break
        assert url is not None
        yield Running(url, pids, state)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def _pid_of(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url + "/admin/health") as answer:
        assert answer.status == 200
        pid: int = (await answer.json())["pid"]
        return pid


async def pinned(url: str, pid: int) -> aiohttp.ClientSession:
    """A session whose one keep-alive connection reached process ``pid``."""
    for _ in range(100):
        # Kept alive well beyond any pause of a test on a busy machine (aiohttp's 15 s).
        connector = aiohttp.TCPConnector(limit=1, keepalive_timeout=300)
        session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=30)
        )
        if await _pid_of(session, url) == pid:
            return session
        await session.close()
    raise AssertionError(f"no connection reached worker pid {pid} in 100 tries")


async def _json(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as answer:
        return answer.status, await answer.json()


async def _frames(session: aiohttp.ClientSession, url: str, rid: str) -> list[tuple[str, str]]:
    """(direction, device) of each GBCS frame of ``rid``: a command that left is ``down``, the
    meter's answer ``up``."""
    status, body = await _json(session, "GET", f"{url}/admin/frames?requestId={rid}")
    assert status == 200, body
    return [(f["direction"], f["device"]) for f in body["frames"]]


async def _final_response(session: aiohttp.ClientSession, url: str, rid: str) -> Any:
    """The device's response to ``rid`` (which had an AD1 first), once it is in the inbox."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        params = {"user": eui_duis(SUPPLIER), "limit": "1000"}
        async with session.get(url + "/api/v1/responses", params=params) as answer:
            for report in await answer.json():
                if report["requestId"] == rid and report["kind"] == "response":
                    return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"no response to {rid} within 10 s")


async def _polled(answering: Any) -> tuple[str, str]:
    """The DUIS response code and body of a long poll."""
    async with answering as answer:
        assert answer.status == 200, await answer.text()
        return answer.headers["X-DUIS-Response-Code"], await answer.text()


def _ref(final: FinalAnswer, kind: str, rid: str) -> int:
    """The QuarantineEventRef of an AD1 alert of breach ``kind`` naming ``rid``."""
    text = final.body.decode()
    assert AD1 in text, text
    match = re.search(
        rf"<sr:{kind}><sr:RequestID>([^<]+)</sr:RequestID>"
        r"<sr:QuarantineEventRef>(\d+)</sr:QuarantineEventRef>",
        text,
    )
    assert match is not None, text
    assert match.group(1) == rid
    return int(match.group(2))


async def _disable(running: Running, session: aiohttp.ClientSession) -> tuple[str, FinalAnswer]:
    """One SR 7.2 (CV4, the pre-command signed, CV5) on ``session``, waited for."""
    keys = sandbox_keystore(running.state)
    client = DuisClient(running.url, keys=keys, sign_xml=True, session=session, timeout=30)
    xml = request(client, "7.2", ESME, DISABLE, cv=4)
    outcome = await client.send(xml, wait=True, within=10)
    assert [a.code for a in outcome.answers] == ["I0", "I99"], outcome
    assert outcome.final is not None, outcome
    return request_id(xml), outcome.final


async def test_a_user_threshold_holds_across_two_workers_and_a_release_goes_through_either(
    tmp_path: Path,
) -> None:
    async with sandbox_process(tmp_path / "state", "--workers", "2") as running:
        host_pid, other_pid = running.pids
        url = running.url
        sessions = {pid: await pinned(url, pid) for pid in (host_pid, other_pid)}
        try:
            other, host = sessions[other_pid], sessions[host_pid]
            # set through the worker without the fleet, seen by the other
            limit = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 3, "period_s": 3600}
            status, threshold = await _json(other, "POST", url + "/admin/anomaly-thresholds", limit)
            assert status == 200, threshold
            status, listed = await _json(host, "GET", url + "/admin/anomaly-thresholds")
            assert [(t["srv"], t["limit"]) for t in listed] == [("7.2", 3)]

            # five SRs, each on a fresh connection, alternately to each worker
            finals: list[tuple[str, FinalAnswer]] = []
            for index in range(5):
                pid = (other_pid, host_pid)[index % 2]
                session = await pinned(url, pid)
                try:
                    finals.append(await _disable(running, session))
                    assert await _pid_of(session, url) == pid  # the one connection throughout
                finally:
                    await session.close()
            assert [f.code for _, f in finals] == ["I0", "I0", "I0", "AD1", "AD1"]
            for rid, _ in finals[:3]:  # sent, and the meter answered
                assert await _frames(host, url, rid) == [
                    ("down", eui_duis(ESME)),
                    ("up", eui_duis(ESME)),
                ]
            for rid, _ in finals[3:]:  # held: never left
                assert await _frames(host, url, rid) == []
            refs = [_ref(f, "ADUserThresholdBreach", rid) for rid, f in finals[3:]]
            status, held = await _json(host, "GET", url + "/admin/quarantine?state=held")
            assert [(q["ref"], q["requestId"]) for q in held] == [
                (ref, rid) for ref, (rid, _) in zip(refs, finals[3:], strict=True)
            ]

            # released through the worker that does not host the fleet
            status, released = await _json(
                other, "POST", f"{url}/admin/quarantine/{refs[0]}/release"
            )
            assert status == 200, released
            report = await _final_response(host, url, finals[3][0])
            assert report["code"] == "I0"
            assert await _frames(host, url, finals[3][0]) == [
                ("down", eui_duis(ESME)),
                ("up", eui_duis(ESME)),
            ]
            # decided once, whichever worker is asked
            status, again = await _json(host, "POST", f"{url}/admin/quarantine/{refs[0]}/release")
            assert status == 409, again
            # the other released by both workers at once: one does it, the other is told 409
            both = await asyncio.gather(
                *(
                    _json(s, "POST", f"{url}/admin/quarantine/{refs[1]}/release")
                    for s in (host, other)
                )
            )
            assert sorted(status for status, _ in both) == [200, 409], both
            report = await _final_response(host, url, finals[4][0])
            assert report["code"] == "I0"
            assert await _frames(host, url, finals[4][0]) == [  # sent once
                ("down", eui_duis(ESME)),
                ("up", eui_duis(ESME)),
            ]
            # the releases counted: a sixth SR is held too (5 sent in the hour, the limit 3);
            # sent to the fleet's host, its AD1 wakes a long poll waiting on the other worker
            session = await pinned(url, host_pid)
            try:
                keys = sandbox_keystore(running.state)
                client = DuisClient(url, keys=keys, sign_xml=True, session=session, timeout=30)
                xml = request(client, "7.2", ESME, DISABLE, cv=4)
                params = {"requestId": request_id(xml), "wait": "30"}
                waiting = asyncio.create_task(
                    _polled(other.get(url + "/api/v1/responses", params=params))
                )
                await asyncio.sleep(0.1)
                outcome = await client.send(xml)
                assert [a.code for a in outcome.answers] == ["I0", "I99"], outcome
                code, body = await asyncio.wait_for(waiting, 10)
            finally:
                await session.close()
            assert code == "AD1"
            assert "5 SR 7.2 sent by" in body
            assert await _pid_of(other, url) == other_pid
            assert await _pid_of(host, url) == host_pid
        finally:
            for session in sessions.values():
                await session.close()


async def test_fifty_concurrent_clients_over_two_workers_against_a_limit_of_ten(
    tmp_path: Path,
) -> None:
    """Fifty users (each a RequestID counter of its own, so none waits for another) send one
    SR 4.1.1 each at once, on fifty connections, half to each worker: a DCC-wide limit of 10
    lets exactly 10 through."""
    users = 50
    extra = str(users - 1)
    async with sandbox_process(
        tmp_path / "state", "--workers", "2", "--devices", extra, "--suppliers", extra
    ) as running:
        url = running.url
        host_pid, other_pid = running.pids
        keys = sandbox_keystore(running.state)
        admin = await pinned(url, other_pid)
        sessions = [await pinned(url, running.pids[i % 2]) for i in range(users)]
        try:
            limit = {"user": None, "srv": "4.1.1", "limit": 10, "period_s": 3600}
            status, _ = await _json(admin, "POST", url + "/admin/anomaly-thresholds", limit)
            assert status == 200
            # user 0 the default supplier and its ESME, user i extra supplier i and ESME i
            pairs = [(SUPPLIER, ESME)] + [
                (extra_supplier(i), extra_device(i)) for i in range(1, users)
            ]
            clients = [
                DuisClient(url, keys=keys, sign_xml=True, session=s, timeout=30) for s in sessions
            ]
            xmls = [
                request(c, "4.1.1", device, READ, originator=user)
                for c, (user, device) in zip(clients, pairs, strict=True)
            ]
            answers = await asyncio.gather(*(c.post(x) for c, x in zip(clients, xmls, strict=True)))
            assert [a.code for a in answers] == ["I99"] * users, [
                (a.code, a.reason) for a in answers if a.code != "I99"
            ]
            finals = await asyncio.gather(
                *(c.wait(request_id(x), 15) for c, x in zip(clients, xmls, strict=True))
            )
            codes = [None if f is None else f.code for f in finals]
            assert codes.count("I0") == 10, codes
            assert codes.count("AD1") == 40, codes
            assert all(b"ADDCCThresholdBreach" in f.body for f in finals if f and f.code == "AD1")
            sent = 0
            for xml, final in zip(xmls, finals, strict=True):
                frames = await _frames(admin, url, request_id(xml))
                assert len(frames) == (2 if final is not None and final.code == "I0" else 0)
                sent += bool(frames)
            assert sent == 10
            status, held = await _json(admin, "GET", url + "/admin/quarantine?state=held")
            assert len(held) == 40
            # every connection stayed on its worker: the fifty were spread over both
            pids = [await _pid_of(s, url) for s in sessions]
            assert pids.count(host_pid) == pids.count(other_pid) == users // 2
        finally:
            await admin.close()
            for session in sessions:
                await session.close()


@pytest.mark.parametrize("workers", [["--workers", "2"], []], ids=["workers", "one-process"])
async def test_thresholds_counts_and_quarantine_survive_a_sigkill(
    tmp_path: Path, workers: list[str]
) -> None:
    state = tmp_path / "state"
    async with sandbox_process(state, *workers) as running:
        url = running.url
        async with aiohttp.ClientSession() as session:
            limit = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 2, "period_s": 3600}
            status, _ = await _json(session, "POST", url + "/admin/anomaly-thresholds", limit)
            assert status == 200
            top_up = {"user": None, "srv": "2.2", "attribute": "UTRN value", "limit": 1000}
            status, _ = await _json(session, "POST", url + "/admin/anomaly-thresholds", top_up)
            assert status == 200
            finals = [await _disable(running, session) for _ in range(4)]
            _, thresholds_before = await _json(session, "GET", url + "/admin/anomaly-thresholds")
        assert [f.code for _, f in finals] == ["I0", "I0", "AD1", "AD1"]
        refs = [_ref(f, "ADUserThresholdBreach", rid) for rid, f in finals[2:]]
        # leaving SIGKILLs every process at once, right after the AD1s
    async with sandbox_process(state, *workers) as running:
        url = running.url
        async with aiohttp.ClientSession() as session:
            _, thresholds = await _json(session, "GET", url + "/admin/anomaly-thresholds")
            assert thresholds == thresholds_before
            _, held = await _json(session, "GET", url + "/admin/quarantine?state=held")
            assert [(q["ref"], q["requestId"]) for q in held] == [
                (ref, rid) for ref, (rid, _) in zip(refs, finals[2:], strict=True)
            ]
            # the count held: two sent in the hour, so the next is quarantined too
            _, final = await _disable(running, session)
            assert final.code == "AD1"
            assert "2 SR 7.2 sent by" in final.body.decode()
            # a held request is released after the restart; the meter answers it
            status, released = await _json(
                session, "POST", f"{url}/admin/quarantine/{refs[0]}/release"
            )
            assert status == 200, released
            report = await _final_response(session, url, finals[2][0])
            assert report["code"] == "I0"
            assert await _frames(session, url, finals[2][0]) == [
                ("down", eui_duis(ESME)),
                ("up", eui_duis(ESME)),
            ]
            # and one deleted: the user is told, nothing is sent
            status, _ = await _json(session, "POST", f"{url}/admin/quarantine/{refs[1]}/delete")
            assert status == 200
            assert await _frames(session, url, finals[3][0]) == []


async def _replacement(url: str, gone: int, pids: list[int]) -> int:
    """The pid of the worker that replaced ``gone``, once it answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
                pid = await _pid_of(session, url)
                if pid not in pids:
                    return pid
        await asyncio.sleep(0.05)
    raise AssertionError(f"worker {gone} was not replaced within 60 s")


async def test_a_replaced_worker_keeps_a_threshold_changed_through_the_api(
    tmp_path: Path,
) -> None:
    """The config file's thresholds are applied when the sandbox starts, not again when a
    worker that died is replaced: that would undo what the admin API changed meanwhile."""
    config = tmp_path / "smetsim.toml"
    config.write_text(
        '[[anomaly.threshold]]\nuser = "90-B3-D5-1F-30-01-00-00"\nsrv = "7.2"\n'
        "limit = 3\nperiod_s = 3600\n"
    )
    async with sandbox_process(
        tmp_path / "state", "--workers", "2", "--config", str(config)
    ) as running:
        url = running.url
        async with aiohttp.ClientSession() as session:
            _, [threshold] = await _json(session, "GET", url + "/admin/anomaly-thresholds")
            assert threshold["limit"] == 3
            changed = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 7, "period_s": 3600}
            status, _ = await _json(session, "POST", url + "/admin/anomaly-thresholds", changed)
            assert status == 200
        gone = running.pids[1]
        os.kill(gone, signal.SIGKILL)
        await _replacement(url, gone, running.pids)
        async with aiohttp.ClientSession() as session:
            _, thresholds = await _json(session, "GET", url + "/admin/anomaly-thresholds")
        assert [t["limit"] for t in thresholds] == [7]
