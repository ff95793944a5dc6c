"""A meter's state survives a SIGKILL in every WAN mode that hosts devices: SR 7.2 disables the
ESME's supply (the supplier is told so), the processes are killed at once, restarted on the same
state folder, and the meter is still disabled - seen by `smetsim fleet inspect` on the state
folder and through DUIS: SR 7.3 (arm) succeeds, which the load switch refuses while enabled
(checked first, so the test would fail on a meter that came back on)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gbcs import content as gc
from gbcs.eui import eui_duis
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, sandbox_keystore
from tests.conftest import MOSQUITTO
from tests.conftest import Broker as BrokerProcess
from tests.e2e.support import gbcs_of, request

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
MODES = ["in-process", "workers", "mqtt"]


async def _start(*args: str, ready: str) -> tuple[asyncio.subprocess.Process, str]:
    """A `smetsim` child process, once it printed a line matching ``ready`` (its group 1)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smetsim.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=ROOT, env=ENV,
        start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        if not line:
            await process.wait()
            raise AssertionError(f"smetsim {args[0]} did not start (exit {process.returncode})")
        match = re.search(ready, line)
        if match:
            return process, match.group(1)


@contextlib.asynccontextmanager
async def running(mode: str, state: Path, broker: int | None) -> AsyncIterator[str]:
    """The sandbox (and, over MQTT, its fleet worker) on ``state``; yields the DUIS URL and
    SIGKILLs every process on leaving."""
    args = ["sandbox", "--state", str(state), "--port", "0", "--no-latency"]
    if mode == "workers":
        args += ["--workers", "2"]
    if mode == "mqtt":
        args += ["--wan", f"mqtt://127.0.0.1:{broker}"]
    processes: list[asyncio.subprocess.Process] = []
    try:
        sandbox, url = await _start(*args, ready=r"listening on (http://\S+)")
        processes.append(sandbox)
        if mode == "mqtt":
            worker, _ = await _start(
                "fleet", "serve", "--state", str(state), "--broker", f"mqtt://127.0.0.1:{broker}",
                "--no-latency", "--tick", "0", ready=r"(serving)",
            )  # fmt: skip
            processes.append(worker)
        yield url
    finally:
        for process in processes:
            # the whole process group: `--workers` starts worker processes of its own
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


def inspect(state: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "smetsim.cli", "fleet", "inspect", str(state), "--eui",
         eui_duis(ESME)],
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=60, check=True,
    ).stdout  # fmt: skip
    shown: dict[str, object] = json.loads(out)["shown"][eui_duis(ESME)]
    return shown


async def send(client: DuisClient, srv: str, body: str) -> tuple[bool, object]:
    outcome = await client.send(request(client, srv, ESME, body, cv=4), wait=True, within=10)
    if not outcome.ok or outcome.final is None:
        return False, [(a.code, a.reason) for a in outcome.answers]
    message = gbcs_of(outcome.final.body)
    content = gc.decode_response(message.message_code, message.content)
    return bool(getattr(content, "ok", False)), content


@pytest.fixture
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int | None]:
    if request.param != "mqtt":
        yield None
        return
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it)")
    process = BrokerProcess(MOSQUITTO, tmp_path)
    process.start()
    try:
        yield process.port
    finally:
        process.stop()


@pytest.mark.parametrize(("mode", "broker"), [(m, m) for m in MODES], indirect=["broker"])
async def test_a_disabled_meter_stays_disabled_after_sigkill(
    tmp_path: Path, mode: str, broker: int | None
) -> None:
    state = tmp_path / "state"
    async with (
        running(mode, state, broker) as url,
        DuisClient(url, keys=sandbox_keystore(state)) as client,
    ):
        armed, why = await send(client, "7.3", "<sr:ArmSupply/>")
        assert not armed, f"an enabled load switch was armed: {why}"
        disabled, why = await send(client, "7.2", "<sr:DisableSupply/>")
        assert disabled, why
        # leaving kills every process at once (SIGKILL), right after the answer
    async with running(mode, state, broker) as url:
        assert inspect(state)["supply"] == "disabled"
        async with DuisClient(url, keys=sandbox_keystore(state)) as client:
            armed, why = await send(client, "7.3", "<sr:ArmSupply/>")
            assert armed, f"the meter forgot it was disabled: {why}"
    assert inspect(state)["supply"] == "armed"
