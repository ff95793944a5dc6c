"""Nothing acknowledged on the device SR path is lost: SIGKILL `smetsim sandbox` in the middle
of a stream of 4.1.1 requests and inbox polls, restart it on the same state, and find every
request acknowledged with I99 known, and every response a poll showed in the inbox again -
in both storage modes (the storage thread with fsync, the event loop without)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gbcs.codes import SUPPLIER
from smetsim.client import build_request
from smetsim.sandbox import ESME

ROOT = Path(__file__).resolve().parents[2]
USER = SUPPLIER.hex("-").upper()
CODE = re.compile(rb"<sr:ResponseCode>([^<]+)<")


@contextlib.asynccontextmanager
async def sandbox_process(
    state: Path, config: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`smetsim sandbox` as a child process; yields it and its URL; killed if still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smetsim.cli", "sandbox", "--state", str(state), "--port", "0",
        "--config", str(config), "--no-latency",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = None
        while url is None:
            line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert line, "the sandbox did not start"
            match = re.search(r"listening on (http://\S+)", line)
            url = match.group(1) if match else None
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


class Stream:
    """One user sending 4.1.1 to the ESME, one request after another, and following its feed."""

    def __init__(self, first_counter: int) -> None:
        self.counter = first_counter
        self.acknowledged: list[str] = []  # RequestIDs answered I99
        self.seen: dict[str, tuple[int, str]] = {}  # RequestID -> (seq, XML) polled

    def rid(self, counter: int) -> str:
        return f"{USER}:{ESME.hex('-').upper()}:{counter}"

    async def send(self, session: aiohttp.ClientSession, url: str) -> None:
        while True:
            self.counter += 1
            xml = build_request(
                service_reference_variant="4.1.1",
                command_variant=1,
                originator=SUPPLIER,
                target=ESME,
                counter=self.counter,
                body="<sr:ReadInstantaneousImportRegisters/>",
            )
            async with session.post(f"{url}/api/v1/serviceS", data=xml) as answer:
                body = await answer.read()
            code = CODE.search(body)
            assert code is not None, body
            assert code.group(1) == b"I99", body
            self.acknowledged.append(self.rid(self.counter))

    async def poll(self, session: aiohttp.ClientSession, url: str) -> None:
        after = 0
        while True:
            query = {"user": USER, "after": str(after), "wait": "2"}
            async with session.get(f"{url}/api/v1/responses", params=query) as answer:
                reports = json.loads(await answer.read())
            for report in reports:
                after = max(after, report["seq"])
                self.seen[report["requestId"]] = (report["seq"], report["xml"])


@pytest.mark.parametrize("durability", ["process", "full"])
async def test_sigkill_loses_no_acknowledged_request_or_polled_response(
    tmp_path: Path, durability: str
) -> None:
    state = tmp_path / "state"
    config = tmp_path / "sandbox.toml"
    config.write_text(
        f'[gateway]\ndurability = "{durability}"\n[sandbox]\nresponse_timeout = 1\n'
        "tick_interval = 0\n"
    )
    stream = Stream(first_counter=10**12)
    async with sandbox_process(state, config) as (process, url), aiohttp.ClientSession() as s:
        tasks = [asyncio.create_task(stream.send(s, url)), asyncio.create_task(stream.poll(s, url))]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(stream.seen) < 40 and loop.time() < deadline:
            await asyncio.sleep(0.05)
            for task in tasks:
                if task.done():
                    task.result()  # failed before the kill: show why
        process.send_signal(signal.SIGKILL)
        await process.wait()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, aiohttp.ClientError) for r in results), results
    assert len(stream.seen) >= 40
    assert set(stream.seen) <= set(stream.acknowledged)

    async with sandbox_process(state, config) as (process, url), aiohttp.ClientSession() as s:
        # every response a poll showed is in the inbox, the same
        async with s.get(f"{url}/api/v1/responses", params={"user": USER, "limit": "1000"}) as r:
            kept = {report["requestId"]: report for report in json.loads(await r.read())}
        for rid, (seq, xml) in stream.seen.items():
            assert rid in kept, f"{rid} was shown by a poll and is lost"
            assert (kept[rid]["seq"], kept[rid]["xml"]) == (seq, xml)
        # every request acknowledged is known: answered, or failing on its deadline (N12)
        for rid in stream.acknowledged:
            params = {"requestId": rid, "wait": "5"}
            async with s.get(f"{url}/api/v1/responses", params=params) as r:
                assert r.status == 200, (rid, await r.text())
                assert r.headers["X-Report-Kind"] in ("response", "dcc-alert")
        # and the RequestID counter carries on from what was committed
        xml = build_request(
            service_reference_variant="4.1.1",
            command_variant=1,
            originator=SUPPLIER,
            target=ESME,
            counter=stream.counter - 1,
            body="<sr:ReadInstantaneousImportRegisters/>",
        )
        async with s.post(f"{url}/api/v1/serviceS", data=xml) as r:
            code = CODE.search(await r.read())
            assert code is not None
            assert code.group(1) == b"E21"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
